package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/orm/ormtest"
	"github.com/covetpy/covet/backend/security/crypto"
	"github.com/jackc/pgx/v5"
)

// The tests below run a PostgreSQL cluster of their own (initdb on a free
// port of 127.0.0.1, replication allowed), never the machine's shared
// server. Without PostgreSQL 15 or newer they skip, but fail when CI=true:
// CI must never skip silently.

// pgCluster is a PostgreSQL cluster a test made.
type pgCluster struct {
	bin  string
	dir  string // the test's folder, which the cluster's user can enter
	port int
}

func pgUnavailable(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL is needed and CI=true: %v", err)
	}
	t.Skipf("no PostgreSQL to test with (set CI=true to fail instead): %v", err)
}

// startPGCluster starts a cluster of the test's own that allows
// replication (ormtest.PostgresCluster) and checks it has the programs
// these tests use; it stops when t ends.
func startPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	oc := ormtest.PostgresCluster(t, os.Getenv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bin, err := pgBinaries(ctx, PostgresConfig{BinDir: oc.Bin}, 0, false, "initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_receivewal", "pg_dump", "pg_restore", "pg_verifybackup", "pg_waldump")
	if err != nil {
		pgUnavailable(t, err)
	}
	if v, err := pgProgramMajor(ctx, filepath.Join(bin, "postgres")); err != nil || v < 15 {
		pgUnavailable(t, fmt.Errorf("%s is PostgreSQL %d (%v); the tests need 15 or newer", bin, v, err))
	}
	return &pgCluster{bin: bin, dir: oc.Dir, port: oc.Port}
}

func (c *pgCluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *pgCluster) connect(t *testing.T, db string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn(db))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func (c *pgCluster) exec(t *testing.T, db string, stmts ...string) {
	t.Helper()
	conn := c.connect(t, db)
	defer closeConn(conn)
	for _, stmt := range stmts {
		if _, err := conn.Exec(context.Background(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// ids returns the ids of table rows of database db, in order.
func (c *pgCluster) ids(t *testing.T, db string) []int64 {
	t.Helper()
	conn := c.connect(t, db)
	defer closeConn(conn)
	rows, err := conn.Query(context.Background(), "SELECT id::bigint FROM rows ORDER BY id")
	if err != nil {
		t.Fatalf("reading %s.rows: %v", db, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// databases lists the databases whose name starts with prefix.
func (c *pgCluster) databases(t *testing.T, prefix string) []string {
	t.Helper()
	conn := c.connect(t, "postgres")
	defer closeConn(conn)
	rows, err := conn.Query(context.Background(), "SELECT datname::text FROM pg_database WHERE starts_with(datname::text, $1) ORDER BY 1", prefix)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// store opens a store in the test's folder that PostgreSQL's user can
// enter (restores and verifies run a temporary PostgreSQL in it).
func (c *pgCluster) store(t *testing.T, ring *crypto.Keyring) *Store {
	t.Helper()
	dir := filepath.Join(c.dir, "store")
	if err := os.Mkdir(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Config{Dir: dir, Keyring: ring})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writtenRow is a row the writer inserted: its id, the time just before
// its INSERT and just after its commit returned.
type writtenRow struct {
	id            int64
	before, after time.Time
}

// pgSwitchRow is the row after which writeRows switches WAL segment.
const pgSwitchRow = 50

// writeRows inserts a row every 20 ms, each in its own transaction, until
// stop closes, maxRows rows or 15 s; after pgSwitchRow rows it switches to
// a new WAL segment.
func writeRows(ctx context.Context, dsn string, stop <-chan struct{}) ([]writtenRow, error) {
	const maxRows, maxTime, every = 400, 15 * time.Second, 20 * time.Millisecond
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer closeConn(conn)
	var rows []writtenRow
	deadline := time.Now().Add(maxTime)
	for i := 1; i <= maxRows && time.Now().Before(deadline); i++ {
		select {
		case <-stop:
			return rows, nil
		default:
		}
		r := writtenRow{before: time.Now()}
		if err := conn.QueryRow(ctx, "INSERT INTO rows(written_at, n) VALUES (now(), $1) RETURNING id", i).Scan(&r.id); err != nil {
			return rows, fmt.Errorf("inserting row %d: %w", i, err)
		}
		r.after = time.Now()
		rows = append(rows, r)
		if i == pgSwitchRow {
			if _, err := conn.Exec(ctx, "SELECT pg_switch_wal()"); err != nil {
				return rows, err
			}
		}
		if err := sleepCtx(ctx, every); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// pointBetween picks a row k (from 0) written after the base became
// consistent and after row index from, about halfway through the rest,
// and a time strictly between the ack of row k and the start of row k+1.
func pointBetween(t *testing.T, rows []writtenRow, consistent time.Time, from int) (int, time.Time) {
	t.Helper()
	first := slices.IndexFunc(rows, func(r writtenRow) bool { return r.before.After(consistent) })
	if first >= 0 {
		first = max(first, from)
	}
	if first < 0 || len(rows)-first < 4 {
		t.Fatalf("only %d of %d rows were written after the base became consistent at %s", len(rows)-max(first, 0), len(rows), consistent)
	}
	k := first + (len(rows)-first)/2
	gap := rows[k+1].before.Sub(rows[k].after)
	if gap <= 0 {
		t.Fatalf("row %d was acknowledged at %s, after row %d started at %s", k+1, rows[k].after, k+2, rows[k+1].before)
	}
	return k, rows[k].after.Add(gap / 2)
}

func idsOf(rows []writtenRow) []int64 {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids
}

// TestPostgresPointInTime is the drill: rows are written, one per
// transaction, while the archiver runs; the database is restored to a
// moment between two commits, and holds exactly the rows committed before.
func TestPostgresPointInTime(t *testing.T) {
	t.Parallel()
	c := startPGCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c.exec(t, "postgres", "CREATE DATABASE drill")
	c.exec(t, "drill", "CREATE TABLE rows(id serial PRIMARY KEY, written_at timestamptz NOT NULL, n int NOT NULL)", "CREATE INDEX rows_n ON rows(n)")
	s := c.store(t, nil)
	cfg := PostgresConfig{DSN: c.dsn("drill"), BinDir: c.bin}

	// The writer starts before the archiver: rows are written during the
	// base backup too.
	stop := make(chan struct{})
	type result struct {
		rows []writtenRow
		err  error
	}
	done := make(chan result, 1)
	go func() {
		rows, err := writeRows(ctx, c.dsn("drill"), stop)
		done <- result{rows, err}
	}()
	start := time.Now()
	arch, err := s.ArchivePostgres(ctx, cfg, PGArchiveOptions{Interval: 300 * time.Millisecond})
	if err != nil {
		close(stop)
		<-done
		t.Fatal(err)
	}
	t.Cleanup(func() { arch.Close(context.Background()) })
	t.Logf("ArchivePostgres took %v", time.Since(start))
	consistent := arch.Status().ConsistentAt
	writing := time.Now()

	// pg_receivewal loses its connection: the archiver restarts it, and
	// the archive has no gap.
	c.exec(t, "postgres", "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active")

	// Verify while rows are written and the archiver replaces the copy of
	// the segment being written.
	vrep := &Report{ID: arch.ID(), Checks: []Check{}}
	if err := s.verifyPostgresWith(ctx, vrep, arch.Manifest(), PostgresConfig{BinDir: c.bin}); err != nil || !vrep.OK {
		t.Errorf("verifying while archiving: %v\n%s", err, pgChecks(vrep))
	}
	t.Logf("verified while archiving in %v", time.Since(writing))
	if err := sleepCtx(ctx, 3*time.Second-time.Since(writing)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if err := arch.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	st := arch.Status()
	if !st.Healthy || !st.Receiving || st.Restarts < 1 || !strings.Contains(st.LastError, "pg_receivewal stopped") {
		t.Errorf("status after Sync: %+v, want healthy, receiving, and pg_receivewal's restart in Restarts and LastError", st)
	}
	if last := res.rows[len(res.rows)-1].after; st.ArchivedUntil.Before(last) {
		t.Errorf("archived until %s, before the last row's commit returned at %s", st.ArchivedUntil, last)
	}
	// A moment after the WAL switch: in the segment being written, which
	// only the copy of pg_receivewal's .partial file holds.
	k, target := pointBetween(t, res.rows, consistent, pgSwitchRow+5)
	if idx, err := s.pgLoadIndex(arch.Manifest()); err != nil || !idx.Files[len(idx.Files)-1].Partial {
		t.Fatalf("the archive does not end with a partial segment: %v", err)
	}
	t.Logf("%d rows; restoring to %s, between rows %d and %d; status %+v", len(res.rows), target.Format(time.RFC3339Nano), k+1, k+2, st)

	plan, err := s.RestorePostgres(ctx, cfg, target, RestoreOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Join(plan.Plan, "\n")
	if !plan.DryRun || plan.Backup.ID != arch.ID() || plan.Database != "drill" || !strings.HasPrefix(plan.KeptAs, "drill_before_restore_") ||
		!strings.Contains(words, "rename drill to "+plan.KeptAs) || plan.Restored || plan.Verify != nil {
		t.Errorf("dry run: got %+v\nplan:\n%s", plan, words)
	}
	if got := c.ids(t, "drill"); !slices.Equal(got, idsOf(res.rows)) {
		t.Errorf("after the dry run: %d rows, want all %d", len(got), len(res.rows))
	}
	if got := c.databases(t, "drill_"); len(got) != 0 {
		t.Errorf("after the dry run: databases %v, want none", got)
	}

	start = time.Now()
	rep, err := s.RestorePostgres(ctx, cfg, target, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("RestorePostgres took %v; recovery: %s", time.Since(start), strings.Join(rep.Recovery, " | "))
	if !rep.Restored || !rep.Verify.OK {
		t.Errorf("restore: got %+v, want restored and verified", rep)
	}
	if got, want := c.ids(t, "drill"), idsOf(res.rows[:k+1]); !slices.Equal(got, want) {
		t.Errorf("restored rows: got %v, want %v", got, want)
	}
	conn := c.connect(t, "drill")
	n, err := pgAmcheck(ctx, conn)
	closeConn(conn)
	if err != nil || n < 2 {
		t.Errorf("amcheck on the restored database: %d indexes, %v; want 2 and no error", n, err)
	}
	if got := c.databases(t, "drill_"); !slices.Equal(got, []string{rep.KeptAs}) {
		t.Errorf("databases: got %v, want only %s", got, rep.KeptAs)
	}
	if got := c.ids(t, rep.KeptAs); !slices.Equal(got, idsOf(res.rows)) {
		t.Errorf("the database kept: %d rows, want all %d", len(got), len(res.rows))
	}
	if left, _ := filepath.Glob(filepath.Join(s.Dir(), ".*")); len(left) > 0 {
		t.Errorf("left in the store: %v", left)
	}

	if err := arch.Close(ctx); err != nil {
		t.Fatal(err)
	}
	conn = c.connect(t, "postgres")
	var slots int
	err = conn.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots").Scan(&slots)
	closeConn(conn)
	if err != nil || slots != 0 {
		t.Errorf("replication slots after Close: %d (%v), want 0", slots, err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), arch.ID(), pgReceiveWork)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pg_receivewal's folder after Close: %v, want it removed", err)
	}
}

// TestPostgresEncrypted restores from an encrypted store, to a moment
// between two commits and to the end of the archive.
func TestPostgresEncrypted(t *testing.T) {
	t.Parallel()
	c := startPGCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c.exec(t, "postgres", "CREATE DATABASE vault")
	c.exec(t, "vault", "CREATE TABLE rows(id serial PRIMARY KEY, written_at timestamptz NOT NULL, n int NOT NULL)")
	ring := crypto.NewKeyring(crypto.KeyringConfig{})
	key, err := crypto.NewKey("k1", crypto.XChaCha20Poly1305)
	if err != nil {
		t.Fatal(err)
	}
	ring.Add(key, true)
	s := c.store(t, ring)
	cfg := PostgresConfig{DSN: c.dsn("vault"), BinDir: c.bin}

	arch, err := s.ArchivePostgres(ctx, cfg, PGArchiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { arch.Close(context.Background()) })
	stop := make(chan struct{})
	time.AfterFunc(500*time.Millisecond, func() { close(stop) })
	rows, err := writeRows(ctx, c.dsn("vault"), stop)
	if err != nil {
		t.Fatal(err)
	}
	if err := arch.Close(ctx); err != nil {
		t.Fatal(err)
	}
	m := arch.Manifest()
	for _, f := range m.Files {
		if !strings.HasSuffix(f.Name, ".enc") {
			t.Errorf("base file %s is not encrypted", f.Name)
		}
	}
	idx, err := s.pgLoadIndex(m)
	if err != nil {
		t.Fatal(err)
	}
	if !idx.Encrypted || idx.Seal == "" || !idx.Closed || len(idx.Files) == 0 {
		t.Fatalf("index: encrypted %t, sealed %t, closed %t, %d files; want all, and files", idx.Encrypted, idx.Seal != "", idx.Closed, len(idx.Files))
	}
	for _, f := range idx.Files {
		data, err := os.ReadFile(filepath.Join(s.Dir(), m.ID, pgWALDir, f.Name))
		if err != nil || !strings.HasSuffix(f.Name, ".enc") || !strings.HasPrefix(string(data), chunkMagic) {
			t.Errorf("WAL file %s: not sealed in chunks (%v)", f.Name, err)
		}
	}

	k, target := pointBetween(t, rows, time.Time{}, 0)
	rep, err := s.RestorePostgres(ctx, cfg, target, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.ids(t, "vault"), idsOf(rows[:k+1]); !slices.Equal(got, want) {
		t.Errorf("restored to %s: rows %v, want %v", target, got, want)
	}
	if got := c.ids(t, rep.KeptAs); !slices.Equal(got, idsOf(rows)) {
		t.Errorf("the database kept: %d rows, want %d", len(got), len(rows))
	}

	// To the end of the archive, which has no commit after it.
	time.Sleep(time.Second) // the databases' names have the time in seconds
	rep, err = s.RestorePostgres(ctx, cfg, idx.ArchivedUntil, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ids(t, "vault"); !slices.Equal(got, idsOf(rows)) {
		t.Errorf("restored to the end of the archive: %d rows, want %d (recovery: %v)", len(got), len(rows), rep.Recovery)
	}
	t.Logf("restored to the end of the archive: %s", strings.Join(rep.Recovery, " | "))

	// Without the key, the store cannot even read which base to use.
	plain, err := Open(Config{Dir: s.Dir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.RestorePostgres(ctx, cfg, target, RestoreOptions{DryRun: true}); err == nil || !strings.Contains(err.Error(), "no keyring") {
		t.Errorf("restoring without the key: %v, want an error saying the store has no keyring", err)
	}
}

// TestPostgresCorruption damages a base file or the archived WAL: Verify
// names the file, and RestorePostgres refuses and changes nothing.
func TestPostgresCorruption(t *testing.T) {
	t.Parallel()
	c := startPGCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c.exec(t, "postgres", "CREATE DATABASE ledger")
	c.exec(t, "ledger", "CREATE TABLE rows(id serial PRIMARY KEY, written_at timestamptz NOT NULL, n int NOT NULL)",
		"INSERT INTO rows(written_at, n) SELECT now(), g FROM generate_series(1, 1000) g")
	s := c.store(t, nil)
	cfg := PostgresConfig{DSN: c.dsn("ledger"), BinDir: c.bin}
	start := time.Now()
	m, err := s.BackupPostgres(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BackupPostgres took %v", time.Since(start))
	idx, err := s.pgLoadIndex(m)
	if err != nil {
		t.Fatal(err)
	}
	var segment string // a complete segment
	for _, f := range idx.Files {
		if !f.Partial && !isHistoryName(f.WAL) {
			segment = pgWALDir + "/" + f.Name
		}
	}
	if segment == "" {
		t.Fatalf("the archive has no complete segment: %+v", idx.Files)
	}
	want := c.ids(t, "ledger")
	if a := s.pgArchiveInfo(ctx, *m); a.Problem != "" || !a.Closed || !a.Until.Equal(idx.ArchivedUntil) || a.From.After(a.Until) {
		t.Errorf("pgArchiveInfo: %+v, want closed, from the base's consistency until %s", a, idx.ArchivedUntil)
	}

	rep := &Report{ID: m.ID, Checks: []Check{}}
	start = time.Now()
	if err := s.verifyPostgresWith(ctx, rep, m, PostgresConfig{BinDir: c.bin}); err != nil || !rep.OK {
		t.Fatalf("verifying the intact backup: %v, %s", err, pgChecks(rep))
	}
	t.Logf("verifyPostgres took %v:\n%s", time.Since(start), pgChecks(rep))
	for _, name := range []string{CheckChecksum, CheckWALIndex, CheckWALChecksum, CheckWALFiles, CheckVerifyBackup, CheckRecovery, CheckAmcheck} {
		if !slices.ContainsFunc(rep.Checks, func(c Check) bool { return c.Name == name && c.Status == StatusOK }) {
			t.Errorf("verifying the intact backup: no passed %s check in %s", name, pgChecks(rep))
		}
	}
	if _, err := s.RestorePostgres(ctx, cfg, idx.ArchivedUntil.Add(time.Hour), RestoreOptions{}); !errors.Is(err, ErrNotRestorable) || !strings.Contains(err.Error(), "reaches only") {
		t.Errorf("restoring beyond the archive: %v, want an error saying how far it reaches", err)
	}

	flip := func(t *testing.T, name string) func() {
		t.Helper()
		path := filepath.Join(s.Dir(), m.ID, filepath.FromSlash(name))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		orig := slices.Clone(data)
		data[len(data)/2] ^= 0x01
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return func() { os.WriteFile(path, orig, 0o600) }
	}
	cases := []struct {
		name   string
		damage func(t *testing.T) (undo func())
		check  string // the check that fails
		file   string // the file it names
	}{
		{"a byte of the base", func(t *testing.T) func() { return flip(t, pgBaseFile) }, CheckChecksum, pgBaseFile},
		{"a byte of a WAL segment", func(t *testing.T) func() { return flip(t, segment) }, CheckWALChecksum, segment},
		{"a WAL segment missing", func(t *testing.T) func() {
			path := filepath.Join(s.Dir(), m.ID, filepath.FromSlash(segment))
			if err := os.Rename(path, path+".away"); err != nil {
				t.Fatal(err)
			}
			return func() { os.Rename(path+".away", path) }
		}, CheckWALChecksum, segment},
		{"an extra WAL file", func(t *testing.T) func() {
			path := filepath.Join(s.Dir(), m.ID, pgWALDir, "0000000100000000000000FF")
			if err := os.WriteFile(path, []byte("stray"), 0o600); err != nil {
				t.Fatal(err)
			}
			return func() { os.Remove(path) }
		}, CheckWALFiles, pgWALDir},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			undo := tc.damage(t)
			defer undo()
			rep := &Report{ID: m.ID, Checks: []Check{}}
			if err := s.verifyPostgresWith(ctx, rep, m, PostgresConfig{BinDir: c.bin}); err != nil {
				t.Fatal(err)
			}
			var ce *CheckError
			if !errors.As(rep.err(), &ce) || rep.OK {
				t.Fatalf("verify: got OK %t, %v; want a failed check\n%s", rep.OK, rep.err(), pgChecks(rep))
			}
			if ce.Check.Name != tc.check || ce.Check.File != tc.file {
				t.Errorf("verify: first failure is %s of %q, want %s of %q\n%s", ce.Check.Name, ce.Check.File, tc.check, tc.file, pgChecks(rep))
			}
			_, err := s.RestorePostgres(ctx, cfg, idx.ArchivedUntil, RestoreOptions{})
			if err == nil || !errors.Is(err, ErrVerifyFailed) || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("restore: %v, want a refusal naming %s", err, tc.file)
			}
			if got := c.ids(t, "ledger"); !slices.Equal(got, want) {
				t.Errorf("after the refused restore: %d rows, want %d", len(got), len(want))
			}
			if got := c.databases(t, "ledger_"); len(got) != 0 {
				t.Errorf("after the refused restore: databases %v, want none", got)
			}
			if left, _ := filepath.Glob(filepath.Join(s.Dir(), ".*")); len(left) > 0 {
				t.Errorf("left in the store: %v", left)
			}
		})
	}
}

func pgChecks(rep *Report) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		fmt.Fprintf(&b, "  %s %s %s: %.300s\n", c.Status, c.Name, c.File, c.Detail)
	}
	return b.String()
}

func TestPostgresConfigValidate(t *testing.T) {
	long := strings.Repeat("d", PGMaxDatabaseName+1)
	for _, tc := range []struct {
		name, dsn, want string
	}{
		{"ok", "postgres://app:s3cret@127.0.0.1:5432/app?sslmode=disable", ""},
		{"empty", "", "DSN is empty"},
		{"not postgres", "mysql://app:s3cret@host/app", `scheme "mysql"`},
		{"no database", "postgres://app:s3cret@127.0.0.1:5432/", "names no database"},
		{"no user", "postgres://127.0.0.1:5432/app", "names no user"},
		{"long database", "postgres://app:s3cret@127.0.0.1/" + long, "more than"},
		{"password in query", "postgres://app@127.0.0.1:5432/?password=s3cret", "names no database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := PostgresConfig{DSN: tc.dsn}.Validate()
			got := fmt.Sprint(err)
			if tc.want == "" && err != nil || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(got, "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
	d, err := parsePGDSN("postgres://app:s3cret@127.0.0.1:5432/app?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{d.String(), d.source(), d.toolURL("x")} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("%s shows the password", s)
		}
	}
	if got, want := d.String(), "postgres://app:xxxxx@127.0.0.1:5432/app?sslmode=disable"; got != want {
		t.Errorf("String: got %s, want %s", got, want)
	}
	if got := (&pgRedactedError{errors.New("auth failed for s3cret"), d.secrets()}).Error(); got != "auth failed for xxxxx" {
		t.Errorf("redacted error: got %q", got)
	}
}

func TestPostgresWALNames(t *testing.T) {
	const seg = 16 << 20
	for _, tc := range []struct {
		lsn   string
		segno uint64
		name  string
	}{
		{"0/3000060", 3, "000000010000000000000003"},
		{"1/FF000000", 511, "0000000100000001000000FF"},
		{"16/B374D848", 0x16*256 + 0xB3, "0000000100000016000000B3"},
	} {
		lsn, err := parseLSN(tc.lsn)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatLSN(lsn); got != tc.lsn {
			t.Errorf("formatLSN(parseLSN(%s)) = %s", tc.lsn, got)
		}
		if got := lsn / seg; got != tc.segno {
			t.Errorf("%s: segment %d, want %d", tc.lsn, got, tc.segno)
		}
		if got := walSegmentName(1, tc.segno, seg); got != tc.name {
			t.Errorf("walSegmentName(%d) = %s, want %s", tc.segno, got, tc.name)
		}
		if tli, n, ok := parseWALSegment(tc.name, seg); !ok || tli != 1 || n != tc.segno {
			t.Errorf("parseWALSegment(%s) = %d, %d, %t", tc.name, tli, n, ok)
		}
	}
	for _, bad := range []string{"", "0/", "/1", "x/1", "123456789/0"} {
		if _, err := parseLSN(bad); err == nil {
			t.Errorf("parseLSN(%q) accepted it", bad)
		}
	}
	for _, bad := range []string{"00000001000000000000000", "0000000100000000000001000", "000000010000000000000100", "00000000000000000000000A", "00000001000000000000000a"} {
		if _, _, ok := parseWALSegment(bad, seg); ok {
			t.Errorf("parseWALSegment(%q) accepted it", bad)
		}
	}
}

func pgIndexSeed() []byte {
	sum := strings.Repeat("ab", 32)
	idx := pgWALIndex{Format: 1, BaseID: "20261203T055012.123Z-1a2b3c", SegmentSize: 16 << 20, ArchivedUntilLSN: "0/4000100",
		ArchivedUntil: time.Date(2026, 12, 3, 5, 51, 0, 0, time.UTC),
		Files: []pgWALFile{
			{WAL: "000000010000000000000003", File: File{Name: "000000010000000000000003", Size: 16 << 20, SHA256: sum, PlainSize: 16 << 20, PlainSHA256: sum}},
			{WAL: "000000010000000000000004", Partial: true, File: File{Name: "000000010000000000000004.partial-1", Size: 8192, SHA256: sum, PlainSize: 8192, PlainSHA256: sum}},
		}}
	data, _ := json.Marshal(idx)
	return data
}

func TestPostgresParseWALIndex(t *testing.T) {
	seed := string(pgIndexSeed())
	for _, tc := range []struct {
		name, data, want string
	}{
		{"ok", seed, ""},
		{"unknown field", strings.Replace(seed, `"format":1`, `"format":1,"x":1`, 1), "unknown field"},
		{"partial not last", strings.Replace(seed, `"wal":"000000010000000000000003","name":"000000010000000000000003"`, `"wal":"000000010000000000000005","name":"000000010000000000000005"`, 1), "not the last"},
		{"name of another segment", strings.Replace(seed, `"name":"000000010000000000000004.partial-1"`, `"name":"000000010000000000000003.partial-1"`, 1), "not a file name for"},
		{"file path", strings.Replace(seed, `"name":"000000010000000000000003"`, `"name":"../000000010000000000000003"`, 1), "not a file name"},
		{"short complete segment", strings.Replace(seed, `"plainSize":16777216`, `"plainSize":1`, 1), "complete segment"},
		{"bad lsn", strings.Replace(seed, `0/4000100`, `zz`, 1), "archivedUntilLsn"},
		{"sealed but plain", strings.Replace(seed, `"closed":false`, `"closed":false,"seal":"AAAA"`, 1), "not encrypted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePGWALIndex([]byte(tc.data))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzPostgresWALIndex(f *testing.F) {
	f.Add(pgIndexSeed())
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"format":1,"baseId":"20261203T055012.123Z-1a2b3c","segmentSize":16777216,"files":[{"wal":"00000002.history","name":"00000002.history"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := parsePGWALIndex(data)
		if err != nil {
			return
		}
		// What parses validates again after a round trip.
		again, err := json.Marshal(idx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parsePGWALIndex(again); err != nil {
			t.Fatalf("a parsed index does not parse again: %v\n%s", err, again)
		}
		for _, f := range idx.Files {
			if strings.ContainsAny(f.Name, `/\`) || strings.HasPrefix(f.Name, ".") {
				t.Fatalf("file name %q reaches outside wal/", f.Name)
			}
		}
		_, _ = idx.lastSegment()
	})
}

// TestToolURL: libpq programs get only libpq's parameters; pgx's run-time
// settings travel as options=-c, pgx's own parameters are left out, and the
// password never.
func TestToolURL(t *testing.T) {
	d, err := parsePGDSN("postgres://app:secret@127.0.0.1:5432/shop?sslmode=disable&search_path=covet_t_1&pool_max_conns=4&statement_cache_capacity=8&application_name=x&options=-c%20work_mem%3D4MB")
	if err != nil {
		t.Fatal(err)
	}
	got := d.toolURL("shop", "application_name", "covet_basebackup")
	want := "postgres://app@127.0.0.1:5432/shop?application_name=covet_basebackup&options=-c+work_mem%3D4MB+-c+search_path%3Dcovet_t_1&sslmode=disable"
	if got != want {
		t.Errorf("toolURL =\n%s\nwant\n%s", got, want)
	}
}
