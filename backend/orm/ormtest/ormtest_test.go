package ormtest_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"

	driver "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/covetpy/covet/backend/orm/dialect/mysql"
	"github.com/covetpy/covet/backend/orm/dialect/postgres"
	"github.com/covetpy/covet/backend/orm/ormtest"
)

// env is os.Getenv with some variables replaced.
func env(over map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := over[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
}

func TestPostgresDSN(t *testing.T) {
	base := os.Getenv("COVET_TEST_POSTGRES")
	if base == "" {
		base = ormtest.DefaultPostgres
	}
	cases := []struct{ name, base string }{
		{"url", base},
	}
	if base == ormtest.DefaultPostgres {
		cases = append(cases, struct{ name, base string }{"keyword/value", "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"})
	}
	for _, c := range cases {
		var schema string
		t.Run(c.name, func(t *testing.T) {
			getenv := env(map[string]string{"COVET_TEST_POSTGRES": c.base})
			dsn := ormtest.PostgresDSN(t, getenv)
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatalf("connecting to %s: %v", dsn, err)
			}
			defer conn.Close(ctx)
			if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(schema, "covet_t_") || !strings.Contains(dsn, "search_path="+schema) {
				t.Fatalf("current_schema() = %q with DSN %s; want the private covet_t_… schema the DSN names", schema, dsn)
			}
			if _, err := conn.Exec(ctx, "CREATE TABLE items (id INT PRIMARY KEY); INSERT INTO items VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'items'", schema).Scan(&n); err != nil || n != 1 {
				t.Errorf("tables items in schema %s: got %d (%v), want 1", schema, n, err)
			}
			if other := ormtest.PostgresDSN(t, getenv); other == dsn {
				t.Errorf("two calls returned the same DSN %s; want a fresh schema each", dsn)
			}
			db, err := postgres.New(ctx, postgres.Config{DSN: dsn})
			if err != nil {
				t.Fatalf("the postgres dialect rejects %s: %v", dsn, err)
			}
			db.Close()
		})
		if schema == "" {
			continue // skipped or failed before creating anything
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, c.base)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = conn.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n)
		conn.Close(ctx)
		if err != nil || n != 0 {
			t.Errorf("%s: schema %s after the test: got %d (%v), want 0: the cleanup did not drop it", c.name, schema, n, err)
		}
	}
}

// openMySQL opens dsn (a mysql:// URL or a go-sql-driver DSN) as the mysql
// dialect reads it.
func openMySQL(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sql.OpenDB(conn)
}

func TestMySQLDSN(t *testing.T) {
	base := os.Getenv("COVET_TEST_MYSQL")
	if base == "" {
		base = ormtest.DefaultMySQL
	}
	cases := []struct{ name, base string }{
		{"url", base},
	}
	if base == ormtest.DefaultMySQL {
		cases = append(cases, struct{ name, base string }{"go-sql-driver form", "root@tcp(127.0.0.1:3306)/test"})
	}
	for _, c := range cases {
		var name string
		t.Run(c.name, func(t *testing.T) {
			getenv := env(map[string]string{"COVET_TEST_MYSQL": c.base})
			dsn := ormtest.MySQLDSN(t, getenv)
			if !strings.HasPrefix(dsn, "mysql://") || strings.Contains(dsn, "?") {
				t.Errorf("DSN = %s; want a mysql:// URL without parameters", dsn)
			}
			db := openMySQL(t, dsn)
			defer db.Close()
			ctx := context.Background()
			if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(name, "covet_t_") || !strings.HasSuffix(dsn, "/"+name) {
				t.Fatalf("DATABASE() = %q with DSN %s; want the private covet_t_… database the DSN names", name, dsn)
			}
			for _, stmt := range []string{"CREATE TABLE items (id INT PRIMARY KEY)", "INSERT INTO items VALUES (1)"} {
				if _, err := db.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			if other := ormtest.MySQLDSN(t, getenv); other == dsn {
				t.Errorf("two calls returned the same DSN %s; want a fresh database each", dsn)
			}
		})
		if name == "" {
			continue // skipped or failed before creating anything
		}
		db := openMySQL(t, c.base)
		var n int
		err := db.QueryRow("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n)
		db.Close()
		if err != nil || n != 0 {
			t.Errorf("%s: database %s after the test: got %d (%v), want 0: the cleanup did not drop it", c.name, name, n, err)
		}
	}
}

func TestRedisAddr(t *testing.T) {
	addr := ormtest.RedisAddr(t, os.Getenv)
	if want := os.Getenv("COVET_TEST_REDIS"); want != "" && addr != want {
		t.Errorf("RedisAddr = %s, want COVET_TEST_REDIS %s", addr, want)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "*2\r\n$4\r\nECHO\r\n$5\r\ncovet\r\n")
	r := bufio.NewReader(conn)
	var got [2]string
	for i := range got {
		if got[i], err = r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	if got != [2]string{"$5\r\n", "covet\r\n"} {
		t.Errorf("ECHO covet on %s: got %q, want $5 covet", addr, got)
	}
}

// recorder stands in for a test to see how a helper gives up: the Fatal
// and Skip families record the message and end the calling goroutine, as
// the real ones do.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()           {}
func (r *recorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) Fatalf(format string, a ...any) {
	r.fatal = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (r *recorder) FailNow()         { r.fatal = "FailNow"; runtime.Goexit() }
func (r *recorder) Skip(args ...any) { r.skip = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) Skipf(format string, a ...any) {
	r.skip = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (r *recorder) SkipNow() { r.skip = "SkipNow"; runtime.Goexit() }

// run calls helper with r in a goroutine of its own, so that Fatal and Skip
// can end it.
func (r *recorder) run(helper func(testing.TB, func(string) string) string, getenv func(string) string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		helper(r, getenv)
	}()
	<-done
}

// notRedis listens on loopback and answers every connection as a Redis
// server that wants a password would; closed when t ends.
func notRedis(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() { // ends when the cleanup closes l
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "-NOAUTH Authentication required.\r\n")
			c.Close()
		}
	}()
	return l.Addr().String()
}

func TestUnavailableServer(t *testing.T) {
	cases := []struct {
		name    string
		helper  func(testing.TB, func(string) string) string
		env     string
		value   string
		service string
		addr    string
	}{
		{"postgres", ormtest.PostgresDSN, "COVET_TEST_POSTGRES", "postgres://u:secret@127.0.0.1:1/x?sslmode=disable", "PostgreSQL", "127.0.0.1:1"},
		{"mysql url", ormtest.MySQLDSN, "COVET_TEST_MYSQL", "mysql://u:secret@127.0.0.1:1/x", "MySQL", "127.0.0.1:1"},
		{"mysql go-sql-driver form", ormtest.MySQLDSN, "COVET_TEST_MYSQL", "u:secret@tcp(127.0.0.1:1)/x", "MySQL", "127.0.0.1:1"},
		{"redis closed port", ormtest.RedisAddr, "COVET_TEST_REDIS", "127.0.0.1:1", "Redis", "127.0.0.1:1"},
		{"redis wanting a password", ormtest.RedisAddr, "COVET_TEST_REDIS", "", "Redis", "NOAUTH"},
	}
	for _, c := range cases {
		for _, ci := range []string{"", "true"} {
			t.Run(c.name+"/CI="+ci, func(t *testing.T) {
				value, addr := c.value, c.addr
				if value == "" {
					value = notRedis(t)
					addr = value
				}
				r := &recorder{TB: t}
				r.run(c.helper, env(map[string]string{"CI": ci, c.env: value}))
				got, other, want := r.skip, r.fatal, "skip"
				if ci == "true" {
					got, other, want = r.fatal, r.skip, "fatal"
				}
				if got == "" || other != "" {
					t.Fatalf("fatal %q, skip %q; want a %s only", r.fatal, r.skip, want)
				}
				for _, s := range []string{c.service, addr, "make services"} {
					if !strings.Contains(got, s) {
						t.Errorf("%s message %q does not name %q", want, got, s)
					}
				}
				if strings.Contains(got, "secret") {
					t.Errorf("%s message %q shows the password", want, got)
				}
			})
		}
	}
}

func ExamplePostgresDSN() {
	// In a test function:
	test := func(t *testing.T) {
		db, err := postgres.New(context.Background(), postgres.Config{DSN: ormtest.PostgresDSN(t, os.Getenv)})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// … the test's tables live in a schema of their own, dropped after t.
	}
	_ = test
}

func ExampleMySQLDSN() {
	// In a test function:
	test := func(t *testing.T) {
		db, err := mysql.New(context.Background(), mysql.Config{DSN: ormtest.MySQLDSN(t, os.Getenv)})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// … the test's tables live in a database of its own, dropped after t.
	}
	_ = test
}

func ExampleRedisAddr() {
	// In a test function:
	test := func(t *testing.T) {
		conn, err := net.Dial("tcp", ormtest.RedisAddr(t, os.Getenv))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
	}
	_ = test
}
