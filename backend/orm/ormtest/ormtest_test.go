package ormtest

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestPostgresSchemaIsPrivateAndDropped(t *testing.T) {
	var dsn string
	t.Run("use", func(t *testing.T) {
		dsn = PostgresDSN(t, os.Getenv)
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "CREATE TABLE t (id INT)"); err != nil {
			t.Fatal(err)
		}
	})
	schema := dsn[strings.LastIndex(dsn, "=")+1:]
	conn, err := pgx.Connect(context.Background(), DefaultPostgres)
	if err != nil {
		t.Skip(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s still exists after the test (%d, %v)", schema, n, err)
	}
}

func TestMySQLDatabaseIsDropped(t *testing.T) {
	var dsn string
	t.Run("use", func(t *testing.T) { dsn = MySQLDSN(t, os.Getenv) })
	if !strings.HasPrefix(dsn, "mysql://") || !strings.Contains(dsn, "/covet_t_") {
		t.Errorf("dsn = %q", dsn)
	}
}

// fakeT records how a helper gave up; Fatal and Skip end its goroutine as
// the real ones do.
type fakeT struct {
	testing.TB
	fatal, skip string
}

func (f *fakeT) Helper()        {}
func (f *fakeT) Cleanup(func()) {}
func (f *fakeT) Fatal(args ...any) {
	f.fatal = sprint(args)
	runtime.Goexit()
}
func (f *fakeT) Skip(args ...any)      { f.skip = sprint(args); runtime.Goexit() }
func (f *fakeT) Errorf(string, ...any) {}

func sprint(args []any) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(a.(string))
	}
	return b.String()
}

func TestUnreachableServer(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		env := map[string]string{"CI": ci, "COVET_TEST_POSTGRES": "postgres://u:secret@127.0.0.1:1/x?sslmode=disable", "COVET_TEST_MYSQL": "mysql://u:secret@127.0.0.1:1/x"}
		for name, helper := range map[string]func(testing.TB, func(string) string) string{"postgres": PostgresDSN, "mysql": MySQLDSN} {
			f := &fakeT{TB: t}
			done := make(chan struct{})
			go func() { defer close(done); helper(f, func(k string) string { return env[k] }) }()
			<-done
			got := f.skip
			if ci == "true" {
				got = f.fatal
			}
			if got == "" || !strings.Contains(got, "make services") || strings.Contains(got, "secret") {
				t.Errorf("%s with CI=%q: fatal %q, skip %q; want the %s one, naming make services, without the password", name, ci, f.fatal, f.skip, map[string]string{"": "skip", "true": "fatal"}[ci])
			}
		}
	}
}
