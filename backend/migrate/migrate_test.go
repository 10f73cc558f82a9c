package migrate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/covetpy/covet/backend/migrate"
	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/mysql"
	"github.com/covetpy/covet/backend/orm/dialect/postgres"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/orm/ormtest"
)

// dialects gives, for each dialect, a function that creates a private
// database for t (a file, a schema, a database) and returns how to connect
// to it: every call opens a new pool, as another process would.
func dialects() map[string]func(t *testing.T) func() *orm.DB {
	return map[string]func(t *testing.T) func() *orm.DB{
		"sqlite": func(t *testing.T) func() *orm.DB {
			path := filepath.Join(t.TempDir(), "m.db")
			return connector(t, func(ctx context.Context) (*orm.DB, error) { return sqlite.New(ctx, sqlite.Config{Path: path}) })
		},
		"postgres": func(t *testing.T) func() *orm.DB {
			dsn := ormtest.PostgresDSN(t, os.Getenv)
			return connector(t, func(ctx context.Context) (*orm.DB, error) { return postgres.New(ctx, postgres.Config{DSN: dsn}) })
		},
		"mysql": func(t *testing.T) func() *orm.DB {
			dsn := ormtest.MySQLDSN(t, os.Getenv)
			return connector(t, func(ctx context.Context) (*orm.DB, error) { return mysql.New(ctx, mysql.Config{DSN: dsn}) })
		},
	}
}

func connector(t *testing.T, open func(context.Context) (*orm.DB, error)) func() *orm.DB {
	return func() *orm.DB {
		t.Helper()
		db, err := open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// files builds migrations from name → SQL.
func files(t *testing.T, fs map[string]string) []*migrate.Migration {
	t.Helper()
	m := fstest.MapFS{}
	for name, text := range fs {
		m[name] = &fstest.MapFile{Data: []byte(text)}
	}
	ms, err := migrate.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// schema is a three-step history every dialect accepts.
func schema() map[string]string {
	return map[string]string{
		"0001_users.up.sql": `CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL);
CREATE UNIQUE INDEX users_email ON users (email);`,
		"0001_users.down.sql": "DROP TABLE users;",
		"0002_age.up.sql":     "ALTER TABLE users ADD COLUMN age INTEGER;",
		"0002_age.down.sql":   "ALTER TABLE users DROP COLUMN age;",
		"0003_posts.up.sql": `-- posts belong to users
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title VARCHAR(100) NOT NULL DEFAULT 'untitled');
CREATE INDEX posts_user ON posts (user_id);`,
		"0003_posts.down.sql": "DROP TABLE posts;",
	}
}

func newMigrator(t *testing.T, db *orm.DB, ms []*migrate.Migration) *migrate.Migrator {
	t.Helper()
	m, err := migrate.New(migrate.Config{DB: db, Migrations: ms})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// dump is the schema without the history table (or without skip).
func dump(t *testing.T, db *orm.DB, skip ...string) string {
	t.Helper()
	if skip == nil {
		skip = []string{migrate.DefaultTable}
	}
	s, err := migrate.DumpSchema(context.Background(), db, db.Dialect(), skip...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, m *migrate.Migrator, req migrate.Request) *migrate.Report {
	t.Helper()
	rep, err := m.Run(context.Background(), req)
	if err != nil {
		t.Fatalf("%s: %v", req.Action, err)
	}
	return rep
}

func current(t *testing.T, m *migrate.Migrator) int64 {
	t.Helper()
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Problems) > 0 {
		t.Errorf("status problems: %v", st.Problems)
	}
	return st.Current
}

// TestUpDownUp: applying, rolling everything back and applying again gives
// the same schema, and rolling back gives the empty one.
func TestUpDownUp(t *testing.T) {
	for name, private := range dialects() {
		t.Run(name, func(t *testing.T) {
			connect := private(t)
			db := connect()
			m := newMigrator(t, db, files(t, schema()))
			empty := dump(t, db)
			rep := run(t, m, migrate.Request{Action: migrate.Up})
			if len(rep.Steps) != 3 || rep.Current != 3 {
				t.Fatalf("up: %d steps, current %d, want 3, 3", len(rep.Steps), rep.Current)
			}
			first := dump(t, db)
			for _, want := range []string{"users", "posts", "age", "users_email", "posts_user"} {
				if !strings.Contains(first, want) {
					t.Errorf("the schema after up does not mention %s:\n%s", want, first)
				}
			}
			run(t, m, migrate.Request{Action: migrate.To, Version: 0, Force: true})
			if got := dump(t, db); got != empty {
				t.Errorf("after down to 0 the schema is\n%s\nwant the empty one\n%s", got, empty)
			}
			if c := current(t, m); c != 0 {
				t.Errorf("current after down = %d, want 0", c)
			}
			run(t, m, migrate.Request{Action: migrate.Up})
			if got := dump(t, db); got != first {
				t.Errorf("up → down → up: the schema is\n%s\nwant\n%s", got, first)
			}
			// Redo rolls back and applies the latest again.
			rep = run(t, m, migrate.Request{Action: migrate.Redo, Force: true})
			if len(rep.Steps) != 2 || rep.Steps[0].Direction != migrate.Down || rep.Steps[1].Version != 3 || rep.Current != 3 {
				t.Errorf("redo: %+v", rep)
			}
			// Down 2 then To 2.
			run(t, m, migrate.Request{Action: migrate.Down, Steps: 2, Force: true})
			if c := current(t, m); c != 1 {
				t.Errorf("current after down 2 = %d, want 1", c)
			}
			run(t, m, migrate.Request{Action: migrate.To, Version: 2})
			if c := current(t, m); c != 2 {
				t.Errorf("current after to 2 = %d, want 2", c)
			}
		})
	}
}

// broken returns the schema with a second migration whose statement k (of
// three) fails.
func broken(k int) map[string]string {
	fs := map[string]string{
		"0001_users.up.sql":   "CREATE TABLE users (id INTEGER PRIMARY KEY);",
		"0001_users.down.sql": "DROP TABLE users;",
	}
	stmts := []string{
		"CREATE TABLE a (id INTEGER PRIMARY KEY);",
		"ALTER TABLE users ADD COLUMN b INTEGER;",
		"CREATE INDEX users_b ON users (b);",
	}
	stmts[k-1] = "INSERT INTO no_such_table VALUES (1);"
	fs["0002_more.up.sql"] = strings.Join(stmts, "\n")
	return fs
}

// TestFailureLeavesNoTrace: on PostgreSQL and SQLite a migration whose
// statement k fails is rolled back whole, whichever k.
func TestFailureLeavesNoTrace(t *testing.T) {
	for name, private := range dialects() {
		if name == "mysql" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			connect := private(t)
			db := connect()
			run(t, newMigrator(t, db, files(t, broken(1))), migrate.Request{Action: migrate.Up, Steps: 1})
			before := dump(t, db)
			for k := 1; k <= 3; k++ {
				m := newMigrator(t, db, files(t, broken(k)))
				rep, err := m.Run(context.Background(), migrate.Request{Action: migrate.Up})
				if rep == nil || rep.Current != 1 || len(rep.Steps) != 0 {
					t.Errorf("k=%d: the report of the failed run is %+v, want current 1 and no step done", k, rep)
				}
				var se *migrate.StepError
				if !errors.As(err, &se) || se.Statement != k || se.Line != k || se.Dirty {
					t.Fatalf("k=%d: error %v, want a StepError at statement %d, line %d, not dirty", k, err, k, k)
				}
				if !strings.Contains(err.Error(), "0002_more.up.sql:"+string(rune('0'+k))) || !strings.Contains(err.Error(), "rolled back") {
					t.Errorf("k=%d: the message %q does not name the file and line, or the rollback", k, err)
				}
				if got := dump(t, db); got != before {
					t.Errorf("k=%d: the failed migration left a trace:\n%s\nwant\n%s", k, got, before)
				}
				if c := current(t, m); c != 1 {
					t.Errorf("k=%d: current = %d, want 1", k, c)
				}
			}
		})
	}
}

// TestMySQLDirtyAndRecovery: MySQL commits DDL as it runs, so a failure
// after the first statement leaves the migration dirty; runs are refused
// until Force records the state, and a failure of the first statement
// leaves nothing.
func TestMySQLDirtyAndRecovery(t *testing.T) {
	db := dialects()["mysql"](t)()
	ctx := context.Background()
	run(t, newMigrator(t, db, files(t, broken(1))), migrate.Request{Action: migrate.Up, Steps: 1})
	before := dump(t, db)

	// Statement 1 fails: nothing was applied, nothing is dirty.
	m := newMigrator(t, db, files(t, broken(1)))
	if _, err := m.Run(ctx, migrate.Request{Action: migrate.Up}); err == nil || strings.Contains(err.Error(), "dirty") {
		t.Fatalf("k=1: %v, want a clean failure", err)
	}
	if got := dump(t, db); got != before || current(t, m) != 1 {
		t.Fatalf("k=1 left a trace:\n%s", got)
	}

	// Statement 2 fails: statement 1 stays, the migration is dirty.
	m = newMigrator(t, db, files(t, broken(2)))
	_, err := m.Run(ctx, migrate.Request{Action: migrate.Up})
	var se *migrate.StepError
	if !errors.As(err, &se) || !se.Dirty || se.Statement != 2 || !strings.Contains(err.Error(), "force 1") {
		t.Fatalf("k=2: %v, want a dirty StepError at statement 2 that names force 1", err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last := st.Migrations[len(st.Migrations)-1]; last.State != "dirty" || last.FailedStatement != 2 || last.Error == "" || len(st.Problems) != 1 {
		t.Errorf("status after the failure: %+v, problems %v", last, st.Problems)
	}
	if _, err := m.Run(ctx, migrate.Request{Action: migrate.Up}); err == nil || !strings.Contains(err.Error(), "is dirty") {
		t.Errorf("a run on a dirty database = %v, want it refused", err)
	}

	// Recovery: undo statement 1 by hand, record that 2 is not applied,
	// fix the file, apply.
	if _, err := orm.ExecNative(ctx, db, "DROP TABLE a"); err != nil {
		t.Fatal(err)
	}
	if err := m.Force(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, db); got != before || current(t, m) != 1 {
		t.Errorf("after force 1: current %d, schema\n%s", current(t, m), got)
	}
	fixed := broken(2)
	fixed["0002_more.up.sql"] = "CREATE TABLE a (id INTEGER PRIMARY KEY);\nALTER TABLE users ADD COLUMN b INTEGER;"
	m = newMigrator(t, db, files(t, fixed))
	run(t, m, migrate.Request{Action: migrate.Up})
	if c := current(t, m); c != 2 {
		t.Errorf("current after the fixed migration = %d, want 2", c)
	}
}

// TestConcurrentMigrators: ten migrators, each with its own pool, start
// together: every migration is applied exactly once.
func TestConcurrentMigrators(t *testing.T) {
	for name, private := range dialects() {
		t.Run(name, func(t *testing.T) {
			connect := private(t)
			db := connect()
			ms := files(t, schema())
			const n = 10
			reports := make([]*migrate.Report, n)
			errs := make([]error, n)
			dbs := make([]*orm.DB, n)
			for i := range dbs {
				dbs[i] = connect()
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					m, err := migrate.New(migrate.Config{DB: dbs[i], Migrations: ms})
					if err != nil {
						errs[i] = err
						return
					}
					<-start
					reports[i], errs[i] = m.Run(context.Background(), migrate.Request{Action: migrate.Up})
				})
			}
			close(start)
			wg.Wait()
			applied := map[int64]int{}
			for i := range n {
				if errs[i] != nil {
					t.Errorf("migrator %d: %v", i, errs[i])
					continue
				}
				for _, s := range reports[i].Steps {
					if s.Outcome == "applied" {
						applied[s.Version]++
					}
				}
			}
			for v := int64(1); v <= 3; v++ {
				if applied[v] != 1 {
					t.Errorf("version %d applied %d times, want once", v, applied[v])
				}
			}
			if c := current(t, newMigrator(t, db, ms)); c != 3 {
				t.Errorf("current = %d, want 3", c)
			}
		})
	}
}

// TestEditedMigration: changing an applied migration's file stops every
// run, naming the file, and nothing is applied.
func TestEditedMigration(t *testing.T) {
	for name, private := range dialects() {
		t.Run(name, func(t *testing.T) {
			connect := private(t)
			db := connect()
			fs := schema()
			run(t, newMigrator(t, db, files(t, fs)), migrate.Request{Action: migrate.Up, Steps: 1})
			before := dump(t, db)
			fs["0001_users.up.sql"] += "\n-- edited"
			m := newMigrator(t, db, files(t, fs))
			_, err := m.Run(context.Background(), migrate.Request{Action: migrate.Up})
			if err == nil || !strings.Contains(err.Error(), "0001_users.up.sql was edited after it was applied") {
				t.Fatalf("run after an edit = %v, want the edit named", err)
			}
			if got := dump(t, db); got != before {
				t.Errorf("something was applied:\n%s", got)
			}
			st, err := m.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !st.Migrations[0].Edited || len(st.Problems) != 1 || st.Pending != 2 {
				t.Errorf("status: edited %v, problems %v, pending %d", st.Migrations[0].Edited, st.Problems, st.Pending)
			}
		})
	}
}

// TestDryRunAndLint: a dry run writes nothing, not even the history table,
// and lists the SQL and the warnings; destructive steps need Force.
func TestDryRunAndLint(t *testing.T) {
	db := dialects()["sqlite"](t)()
	ctx := context.Background()
	m := newMigrator(t, db, files(t, schema()))
	empty := dump(t, db)
	rep, err := m.Run(ctx, migrate.Request{Action: migrate.Up, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || len(rep.Steps) != 3 || rep.Steps[0].Statements[1].SQL != "CREATE UNIQUE INDEX users_email ON users (email)" || rep.Steps[2].Statements[0].Line != 2 {
		t.Errorf("dry run: %+v", rep)
	}
	if got, _ := migrate.DumpSchema(ctx, db, db.Dialect()); got != empty {
		t.Errorf("the dry run wrote:\n%s", got)
	}
	run(t, m, migrate.Request{Action: migrate.Up})
	_, err = m.Run(ctx, migrate.Request{Action: migrate.Down})
	var le *migrate.LintError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "0003_posts.down.sql:1: drop-table") {
		t.Fatalf("down of a DROP TABLE = %v, want it refused by the linter naming file and line", err)
	}
	if c := current(t, m); c != 3 {
		t.Errorf("the refused down ran: current %d", c)
	}
	rep, err = m.Run(ctx, migrate.Request{Action: migrate.Down, DryRun: true})
	if err != nil || len(rep.Steps) != 1 || len(rep.Steps[0].Warnings) != 1 {
		t.Errorf("a dry run shows the warnings without refusing: %+v, %v", rep, err)
	}
	run(t, m, migrate.Request{Action: migrate.Down, Force: true})
	if c := current(t, m); c != 2 {
		t.Errorf("current after a forced down = %d, want 2", c)
	}
}

// TestGoMigrationAndNoDown: Go migrations run in the same transaction as
// their history row; a migration without a down path cannot be rolled back.
func TestGoMigrationAndNoDown(t *testing.T) {
	db := dialects()["postgres"](t)()
	ctx := context.Background()
	ms := files(t, map[string]string{"0001_t.up.sql": "CREATE TABLE t (n INTEGER);"})
	ms = append(ms, migrate.Func(2, "seed", func(ctx context.Context, h orm.Handle) error {
		_, err := orm.Exec(ctx, h, "INSERT INTO t (n) VALUES (?)", 42)
		return err
	}, nil))
	m := newMigrator(t, db, ms)
	run(t, m, migrate.Request{Action: migrate.Up})
	rs, err := orm.RunNative(ctx, db, "SELECT n FROM t", nil, 0)
	if err != nil || len(rs.Rows) != 1 {
		t.Fatalf("the Go migration's row: %v, %v", rs, err)
	}
	if _, err := m.Run(ctx, migrate.Request{Action: migrate.Down}); err == nil || !strings.Contains(err.Error(), "cannot be rolled back") {
		t.Errorf("down of a migration without a down path = %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"bad name", map[string]string{"1_Users.up.sql": "SELECT 1"}, "1_Users.up.sql: want NNNN_name.up.sql"},
		{"down without up", map[string]string{"0002_x.down.sql": "SELECT 1"}, "0002_x.down.sql: there is no 0002_x.up.sql"},
		{"two names", map[string]string{"0001_a.up.sql": "SELECT 1", "0001_b.up.sql": "SELECT 1"}, "version 1 is also"},
		{"zero", map[string]string{"0000_a.up.sql": "SELECT 1"}, "the version must be a positive number"},
		{"unterminated", map[string]string{"0001_a.up.sql": "SELECT 1;\nSELECT 'x"}, "0001_a.up.sql: line 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := fstest.MapFS{}
			for n, s := range c.files {
				m[n] = &fstest.MapFile{Data: []byte(s)}
			}
			_, err := migrate.Load(m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Load = %v, want an error containing %q", err, c.want)
			}
		})
	}
}
