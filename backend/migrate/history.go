package migrate

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/covetpy/covet/backend/orm"
)

// record is one row of the history table.
type record struct {
	Version    int64  `db:"version,pk"`
	Name       string `db:"name"`
	Checksum   string `db:"checksum"`
	AppliedAt  int64  `db:"applied_at"` // Unix milliseconds
	DurationMs int64  `db:"duration_ms"`
	// Dirty is 0 for an applied migration, dirtyUp while it is being
	// applied and dirtyDown while it is being rolled back (MySQL; a row
	// left so means the step failed half way).
	Dirty           int64  `db:"dirty"`
	FailedStatement int64  `db:"failed_statement"`
	Error           string `db:"error"`
}

const (
	dirtyUp   = 1
	dirtyDown = 2
	// maxErrorLen bounds the error text kept in the history table.
	maxErrorLen = 2000
)

func (m *Migrator) createTable() string {
	return "CREATE TABLE IF NOT EXISTS " + m.table + ` (
	version BIGINT NOT NULL PRIMARY KEY,
	name VARCHAR(255) NOT NULL,
	checksum VARCHAR(100) NOT NULL,
	applied_at BIGINT NOT NULL,
	duration_ms BIGINT NOT NULL,
	dirty SMALLINT NOT NULL,
	failed_statement INTEGER NOT NULL,
	error VARCHAR(2000) NOT NULL)`
}

func (m *Migrator) ensureTable(ctx context.Context, h orm.Handle) error {
	if _, err := orm.ExecNative(ctx, h, m.createTable()); err != nil {
		return fmt.Errorf("migrate: creating the history table %s: %w", m.name, err)
	}
	return nil
}

func (m *Migrator) selectRecords() string {
	return "SELECT version, name, checksum, applied_at, duration_ms, dirty, failed_statement, error FROM " + m.table
}

// tableExists reports whether the history table exists, without creating it.
func (m *Migrator) tableExists(ctx context.Context, h orm.Handle) (bool, error) {
	var q string
	switch m.dialect {
	case "postgres":
		q = "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1"
	case "mysql":
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
	default:
		q = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	}
	rs, err := orm.RunNative(orm.OnPrimary(ctx), h, q, []any{m.name}, 1)
	if err != nil {
		return false, fmt.Errorf("migrate: looking for the history table %s: %w", m.name, err)
	}
	return len(rs.Rows) == 1 && fmt.Sprint(rs.Rows[0][0]) != "0", nil
}

// history is the history table read against the known migrations.
type history struct {
	m    *Migrator
	rows map[int64]record
}

func (m *Migrator) readHistory(ctx context.Context, h orm.Handle) (*history, error) {
	out := &history{m: m, rows: map[int64]record{}}
	if ok, err := m.tableExists(ctx, h); err != nil || !ok {
		return out, err
	}
	recs, err := orm.Raw[record](orm.OnPrimary(ctx), h, m.selectRecords())
	if err != nil {
		return nil, fmt.Errorf("migrate: reading the history table %s: %w", m.name, err)
	}
	for _, r := range recs {
		out.rows[r.Version] = r
	}
	return out, nil
}

// current is the latest applied version, 0 when none is.
func (h *history) current() int64 {
	var v int64
	for _, r := range h.rows {
		if r.Dirty == 0 && r.Version > v {
			v = r.Version
		}
	}
	return v
}

// pending lists the known migrations not applied, by version.
func (h *history) pending() []*Migration {
	var out []*Migration
	for _, mg := range h.m.known {
		if _, ok := h.rows[mg.Version]; !ok {
			out = append(out, mg)
		}
	}
	return out
}

// appliedDesc lists the applied migrations, the latest first. Callers have
// checked with blocker that every row has a known migration.
func (h *history) appliedDesc() []*Migration {
	var out []*Migration
	for i := len(h.m.known) - 1; i >= 0; i-- {
		if _, ok := h.rows[h.m.known[i].Version]; ok {
			out = append(out, h.m.known[i])
		}
	}
	return out
}

// problems lists what stops a run, in version order.
func (h *history) problems() []string {
	var out []string
	versions := make([]int64, 0, len(h.rows))
	for v := range h.rows {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	for _, v := range versions {
		r, mg := h.rows[v], h.m.byVer[v]
		switch {
		case r.Dirty != 0:
			out = append(out, dirtyMessage(r, mg))
		case mg == nil:
			out = append(out, fmt.Sprintf("version %d (%s) is applied but no migration with that version is known: was its file deleted or renamed?", v, r.Name))
		case r.Checksum != mg.Checksum:
			out = append(out, fmt.Sprintf("%s was edited after it was applied (sha256 %s when applied, %s now): restore it, and put the change in a new migration", mg.label(), short(r.Checksum), short(mg.Checksum)))
		}
	}
	if cur := h.current(); cur > 0 {
		for _, mg := range h.pending() {
			if mg.Version < cur {
				out = append(out, fmt.Sprintf("%s is not applied but version %d is: give it a version above %d", mg.label(), cur, cur))
			}
		}
	}
	return out
}

// blocker is problems as one error, nil when there are none.
func (h *history) blocker() error {
	p := h.problems()
	if len(p) == 0 {
		return nil
	}
	return &HistoryError{Problems: p}
}

func dirtyMessage(r record, mg *Migration) string {
	what, done, undone := "applying", r.Version, r.Version-1
	if r.Dirty == dirtyDown {
		what, done, undone = "rolling back", r.Version-1, r.Version
	}
	label := fmt.Sprintf("version %d (%s)", r.Version, r.Name)
	if mg != nil {
		label = mg.label()
	}
	stmt := "it"
	if r.FailedStatement > 0 {
		stmt = fmt.Sprintf("statement %d", r.FailedStatement)
	}
	return fmt.Sprintf("%s is dirty: %s failed while %s it (%s); finish or undo its statements by hand, then record the state with covet migrate force %d (Migrator.Force) if it is applied, or force %d if it is not",
		label, stmt, what, r.Error, done, undone)
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}

func (m *Migrator) insertRow(ctx context.Context, h orm.Handle, mg *Migration, d time.Duration, dirty int64) error {
	_, err := orm.Exec(ctx, h, "INSERT INTO "+m.table+" (version, name, checksum, applied_at, duration_ms, dirty, failed_statement, error) VALUES (?, ?, ?, ?, ?, ?, 0, '')",
		mg.Version, mg.Name, mg.Checksum, time.Now().UnixMilli(), d.Milliseconds(), dirty)
	if err != nil {
		return fmt.Errorf("migrate: recording %s: %w", mg.label(), err)
	}
	return nil
}

// MigrationStatus is one migration as Status sees it.
type MigrationStatus struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	// State is "applied", "pending", "dirty", or "missing" (recorded as
	// applied, but no migration with its version is known).
	State      string     `json:"state"`
	UpFile     string     `json:"upFile,omitempty"`
	DownFile   string     `json:"downFile,omitempty"`
	Go         bool       `json:"go,omitempty"`
	AppliedAt  *time.Time `json:"appliedAt,omitempty"`
	DurationMs int64      `json:"durationMs,omitempty"`
	// Edited reports an applied migration whose up file changed since.
	Edited          bool        `json:"edited,omitempty"`
	FailedStatement int64       `json:"failedStatement,omitempty"`
	Error           string      `json:"error,omitempty"`
	Up              []Statement `json:"up"`
	Down            []Statement `json:"down"`
	// UpWarnings and DownWarnings are the linter's findings.
	UpWarnings   []Warning `json:"upWarnings"`
	DownWarnings []Warning `json:"downWarnings"`
}

// Status is the state of a database's migrations.
type Status struct {
	Dialect    string            `json:"dialect"`
	Table      string            `json:"table"`
	Current    int64             `json:"current"`
	Pending    int               `json:"pending"`
	Migrations []MigrationStatus `json:"migrations"`
	// Problems are what stops Run until they are dealt with.
	Problems []string `json:"problems"`
}

// Status reads the history table (without creating it) and compares it
// with the known migrations.
func (m *Migrator) Status(ctx context.Context) (*Status, error) {
	h, err := m.readHistory(ctx, m.db)
	if err != nil {
		return nil, err
	}
	st := &Status{Dialect: m.dialect, Table: m.name, Current: h.current(), Problems: h.problems(), Migrations: []MigrationStatus{}}
	if st.Problems == nil {
		st.Problems = []string{}
	}
	seen := map[int64]bool{}
	for _, mg := range m.known {
		seen[mg.Version] = true
		ms := MigrationStatus{Version: mg.Version, Name: mg.Name, State: "pending", UpFile: mg.UpFile, DownFile: mg.DownFile,
			Go: mg.UpFunc != nil, Up: nonNil(mg.Up), Down: nonNil(mg.Down),
			UpWarnings: nonNilW(Lint(m.dialect, mg.Up)), DownWarnings: nonNilW(Lint(m.dialect, mg.Down))}
		if r, ok := h.rows[mg.Version]; ok {
			ms.fill(r)
			ms.Edited = r.Dirty == 0 && r.Checksum != mg.Checksum
		} else {
			st.Pending++
		}
		st.Migrations = append(st.Migrations, ms)
	}
	for v, r := range h.rows {
		if !seen[v] {
			ms := MigrationStatus{Version: v, Name: r.Name, Up: []Statement{}, Down: []Statement{}, UpWarnings: []Warning{}, DownWarnings: []Warning{}}
			ms.fill(r)
			if r.Dirty == 0 {
				ms.State = "missing"
			}
			st.Migrations = append(st.Migrations, ms)
		}
	}
	sort.Slice(st.Migrations, func(i, j int) bool { return st.Migrations[i].Version < st.Migrations[j].Version })
	return st, nil
}

func (ms *MigrationStatus) fill(r record) {
	ms.State = "applied"
	if r.Dirty != 0 {
		ms.State = "dirty"
		ms.FailedStatement, ms.Error = r.FailedStatement, r.Error
	}
	at := time.UnixMilli(r.AppliedAt).UTC()
	ms.AppliedAt, ms.DurationMs = &at, r.DurationMs
}

func nonNil(s []Statement) []Statement {
	if s == nil {
		return []Statement{}
	}
	return s
}

func nonNilW(w []Warning) []Warning {
	if w == nil {
		return []Warning{}
	}
	return w
}

func sortMigrations(ms []*Migration) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
}
