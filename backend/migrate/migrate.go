package migrate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/orm"
)

// Config configures a Migrator.
type Config struct {
	// DB is the database to migrate (its primary).
	DB *orm.DB
	// Migrations are the known migrations, from Load and Func, in any order.
	Migrations []*Migration
	// Table is the history table. Default "covet_migrations".
	Table string
	// LockTimeout bounds the wait for another migrator. Default 1 minute.
	LockTimeout time.Duration
}

// DefaultTable is the history table unless Config.Table says otherwise.
const DefaultTable = "covet_migrations"

// identPattern is what a history table may be called. Read only.
var identPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Validate reports the first problem of the configuration.
func (c Config) Validate() error {
	if c.DB == nil {
		return errors.New("migrate: Config.DB is nil")
	}
	if c.Table != "" && !identPattern.MatchString(c.Table) {
		return fmt.Errorf("migrate: Config.Table %q: want a-z, 0-9 and _, starting with a letter or _", c.Table)
	}
	if c.LockTimeout < 0 {
		return fmt.Errorf("migrate: Config.LockTimeout %v is negative", c.LockTimeout)
	}
	seen := map[int64]*Migration{}
	for i, m := range c.Migrations {
		switch {
		case m == nil:
			return fmt.Errorf("migrate: Config.Migrations[%d] is nil", i)
		case m.Version <= 0:
			return fmt.Errorf("migrate: Config.Migrations[%d] (%s): the version must be positive", i, m.Name)
		case !namePattern.MatchString(m.Name):
			return fmt.Errorf("migrate: Config.Migrations[%d]: name %q: want a-z, 0-9 and _", i, m.Name)
		case m.UpFunc == nil && m.UpFile == "":
			return fmt.Errorf("migrate: Config.Migrations[%d] (%s): neither an up file nor an UpFunc", i, m.Name)
		case seen[m.Version] != nil:
			return fmt.Errorf("migrate: version %d is both %s and %s", m.Version, seen[m.Version].label(), m.label())
		}
		seen[m.Version] = m
	}
	return nil
}

// Migrator applies and rolls back one database's migrations. It is safe
// for concurrent use, and so are several Migrators (processes) on one
// database: they take turns.
type Migrator struct {
	db      *orm.DB
	dialect string
	table   string // quoted
	name    string // unquoted, for lock names and messages
	lockFor time.Duration
	known   []*Migration // by version
	byVer   map[int64]*Migration
}

// New returns a Migrator for cfg.
func New(cfg Config) (*Migrator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Table == "" {
		cfg.Table = DefaultTable
	}
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = time.Minute
	}
	d := cfg.DB.Dialect()
	m := &Migrator{
		db: cfg.DB, dialect: d.Name(), table: string(d.AppendIdent(nil, cfg.Table)), name: cfg.Table,
		lockFor: cfg.LockTimeout, byVer: map[int64]*Migration{},
	}
	m.known = append(m.known, cfg.Migrations...)
	sortMigrations(m.known)
	for _, mg := range m.known {
		m.byVer[mg.Version] = mg
	}
	return m, nil
}

// Action is what a Request asks for.
type Action string

const (
	// Up applies pending migrations in order (Request.Steps of them; 0: all).
	Up Action = "up"
	// Down rolls back applied migrations, the latest first (Request.Steps of
	// them; 0: one).
	Down Action = "down"
	// To applies or rolls back until Request.Version is the latest applied
	// (0: roll everything back).
	To Action = "to"
	// Redo rolls back the latest applied migration and applies it again.
	Redo Action = "redo"
)

// Request is one run of the Migrator.
type Request struct {
	Action  Action `json:"action"`
	Steps   int    `json:"steps,omitempty"`
	Version int64  `json:"version,omitempty"`
	// Force applies steps although the linter found destructive
	// statements in them.
	Force bool `json:"force,omitempty"`
	// DryRun plans and lints the steps and runs nothing, writes nothing.
	DryRun bool `json:"dryRun,omitempty"`
}

// RequestError is a Request or a Force that makes no sense: an unknown
// action or version, a negative count, nothing to redo, no down path.
type RequestError struct{ msg string }

func (e *RequestError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &RequestError{msg: "migrate: " + fmt.Sprintf(format, a...)}
}

// HistoryError is a history that stops every run until it is dealt with:
// a dirty migration, an applied migration edited or gone, a pending
// migration below an applied one.
type HistoryError struct {
	Problems []string
}

func (e *HistoryError) Error() string { return "migrate: " + strings.Join(e.Problems, "; ") }

// Step is one migration applied or rolled back by a run, or planned by a
// dry run.
type Step struct {
	Version    int64       `json:"version"`
	Name       string      `json:"name"`
	Direction  Action      `json:"direction"` // Up or Down
	File       string      `json:"file,omitempty"`
	Go         bool        `json:"go,omitempty"`
	Statements []Statement `json:"statements"`
	Warnings   []Warning   `json:"warnings"`
	// Outcome is "applied", "skipped" (another migrator got there first),
	// or "" in a dry run.
	Outcome    string  `json:"outcome,omitempty"`
	DurationMs float64 `json:"durationMs,omitempty"`
}

// Report says what a run did, or what a dry run would do.
type Report struct {
	DryRun bool   `json:"dryRun"`
	Steps  []Step `json:"steps"`
	// Current is the latest applied version afterwards (before, in a dry run).
	Current int64 `json:"current"`
}

// Run carries out req under the migrators' lock. Before running anything
// it checks the history: a dirty migration, an applied migration edited or
// gone, or a pending one below an applied one stop it, as do destructive
// statements unless req.Force. It stops at the first failing step; the
// steps before it stay applied.
func (m *Migrator) Run(ctx context.Context, req Request) (*Report, error) {
	if err := m.checkRequest(req); err != nil {
		return nil, err
	}
	if req.DryRun {
		h, err := m.readHistory(ctx, m.db)
		if err != nil {
			return nil, err
		}
		steps, err := m.plan(h, req)
		if err != nil {
			return nil, err
		}
		return &Report{DryRun: true, Steps: steps, Current: h.current()}, nil
	}
	var rep *Report
	err := m.locked(ctx, func(c *orm.Conn) error {
		if err := m.ensureTable(ctx, c); err != nil {
			return err
		}
		h, err := m.readHistory(ctx, c)
		if err != nil {
			return err
		}
		steps, err := m.plan(h, req)
		if err != nil {
			return err
		}
		if !req.Force {
			if err := destructive(steps); err != nil {
				return err
			}
		}
		rep = &Report{Steps: steps}
		var runErr error
		for i := range steps {
			if runErr = m.apply(ctx, c, &steps[i]); runErr != nil {
				rep.Steps = steps[:i]
				break
			}
		}
		after, err := m.readHistory(context.WithoutCancel(ctx), c)
		if err != nil {
			return errors.Join(runErr, err)
		}
		rep.Current = after.current()
		return runErr
	})
	return rep, err
}

func (m *Migrator) checkRequest(req Request) error {
	switch req.Action {
	case Up, Down, Redo:
		if req.Steps < 0 {
			return badRequest("%s: Steps %d is negative", req.Action, req.Steps)
		}
	case To:
		if req.Version < 0 || req.Version > 0 && m.byVer[req.Version] == nil {
			return badRequest("to %d: there is no migration with that version (0 rolls everything back)", req.Version)
		}
	default:
		return badRequest("action %q: want up, down, to or redo", req.Action)
	}
	return nil
}

// plan turns req into steps over history h, or says what blocks it.
func (m *Migrator) plan(h *history, req Request) ([]Step, error) {
	if err := h.blocker(); err != nil {
		return nil, err
	}
	var planned []*Migration
	var dirs []Action
	add := func(mg *Migration, d Action) { planned, dirs = append(planned, mg), append(dirs, d) }
	pending := h.pending()
	applied := h.appliedDesc()
	switch req.Action {
	case Up:
		for i, mg := range pending {
			if req.Steps > 0 && i == req.Steps {
				break
			}
			add(mg, Up)
		}
	case Down:
		n := req.Steps
		if n == 0 {
			n = 1
		}
		for i := 0; i < n && i < len(applied); i++ {
			add(applied[i], Down)
		}
	case To:
		for _, mg := range applied {
			if mg.Version > req.Version {
				add(mg, Down)
			}
		}
		for _, mg := range pending {
			if mg.Version <= req.Version {
				add(mg, Up)
			}
		}
	case Redo:
		if len(applied) == 0 {
			return nil, badRequest("redo: no migration is applied")
		}
		add(applied[0], Down)
		add(applied[0], Up)
	}
	steps := make([]Step, len(planned))
	for i, mg := range planned {
		s := Step{Version: mg.Version, Name: mg.Name, Direction: dirs[i], Statements: mg.Up, File: mg.UpFile, Go: mg.UpFunc != nil}
		if dirs[i] == Down {
			if !mg.HasDown() {
				return nil, badRequest("%s has no down migration (%0*d_%s.down.sql), so it cannot be rolled back", mg.label(), max(digits(mg.UpFile), 4), mg.Version, mg.Name)
			}
			s.Statements, s.File, s.Go = mg.Down, mg.DownFile, mg.DownFunc != nil
		}
		if s.Statements == nil {
			s.Statements = []Statement{}
		}
		s.Warnings = Lint(m.dialect, s.Statements)
		if s.Warnings == nil {
			s.Warnings = []Warning{}
		}
		steps[i] = s
	}
	return steps, nil
}

// LintError is a run refused because of destructive statements.
type LintError struct {
	Steps []Step // the steps with warnings
}

func (e *LintError) Error() string {
	var b strings.Builder
	b.WriteString("migrate: refusing destructive changes; run again with --force (Request.Force) to apply them:")
	for _, s := range e.Steps {
		for _, w := range s.Warnings {
			fmt.Fprintf(&b, "\n  %s:%d: %s: %s", s.where(), w.Line, w.Rule, w.Message)
		}
	}
	return b.String()
}

func (s Step) where() string {
	if s.File != "" {
		return s.File
	}
	return fmt.Sprintf("%d_%s (Go, %s)", s.Version, s.Name, s.Direction)
}

func destructive(steps []Step) error {
	var bad []Step
	for _, s := range steps {
		if len(s.Warnings) > 0 {
			bad = append(bad, s)
		}
	}
	if bad == nil {
		return nil
	}
	return &LintError{Steps: bad}
}

// StepError is a step that failed.
type StepError struct {
	Step      Step
	Statement int // from 1; 0 for a Go migration or the history update
	Line      int
	// Dirty reports that the failure left the migration half applied
	// (MySQL): it is recorded as dirty and blocks further runs until Force.
	Dirty bool
	Err   error
}

func (e *StepError) Error() string {
	where := e.Step.where()
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, e.Line)
	}
	stmt := ""
	if e.Statement > 0 {
		stmt = fmt.Sprintf("statement %d of %d: ", e.Statement, len(e.Step.Statements))
	}
	msg := fmt.Sprintf("migrate: %s %s: %s%v", e.Step.Direction, where, stmt, e.Err)
	if !e.Dirty {
		return msg + " (rolled back: nothing of this migration was applied)"
	}
	done, undone := e.Step.Version, e.Step.Version-1
	if e.Step.Direction == Down {
		done, undone = undone, done
	}
	return msg + fmt.Sprintf(" (the statements before it were applied and %s cannot roll them back: version %d is dirty;"+
		" finish or undo them by hand, then record the state with covet migrate force %d (Migrator.Force) if it is now applied, or force %d if it is not)",
		"MySQL", e.Step.Version, done, undone)
}

func (e *StepError) Unwrap() error { return e.Err }

// Force records by hand that exactly the known migrations up to version
// are applied, and clears any dirty state: the recovery after a failed
// migration on MySQL, once the schema has been put right. It runs no
// migration SQL.
func (m *Migrator) Force(ctx context.Context, version int64) error {
	if version < 0 || version > 0 && m.byVer[version] == nil {
		return badRequest("force %d: there is no migration with that version (0: none applied)", version)
	}
	return m.locked(ctx, func(c *orm.Conn) error {
		if err := m.ensureTable(ctx, c); err != nil {
			return err
		}
		if err := m.begin(ctx, c); err != nil {
			return err
		}
		err := m.force(ctx, c, version)
		return m.end(ctx, c, err)
	})
}

func (m *Migrator) force(ctx context.Context, c *orm.Conn, version int64) error {
	if _, err := orm.Exec(ctx, c, "DELETE FROM "+m.table+" WHERE version > ? OR dirty <> 0", version); err != nil {
		return fmt.Errorf("migrate: force: %w", err)
	}
	h, err := m.readHistory(ctx, c)
	if err != nil {
		return err
	}
	for _, mg := range m.known {
		if mg.Version > version {
			break
		}
		if _, ok := h.rows[mg.Version]; !ok {
			if err := m.insertRow(ctx, c, mg, 0, 0); err != nil {
				return err
			}
		}
	}
	return nil
}
