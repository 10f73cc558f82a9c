package mysql

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/ormtest"
)

// testDSN returns the DSN of a private database on the test server, with
// extra query parameters, if any.
func testDSN(t *testing.T, params string) string {
	dsn := ormtest.MySQLDSN(t, os.Getenv)
	if params != "" {
		dsn += "?" + params
	}
	return dsn
}

func open(t *testing.T, cfg Config) *orm.DB {
	t.Helper()
	db, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDialect(t *testing.T) {
	d := Dialect{}
	cases := []struct{ name, got, want string }{
		{"ident", string(d.AppendIdent(nil, "we`ird")), "`we``ird`"},
		{"placeholder", string(d.AppendPlaceholder(nil, 12)), "?"},
		{"upsert", string(d.AppendUpsert(nil, []string{"email"}, []string{"name", "age"})), " ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `age` = VALUES(`age`)"},
		{"upsert nothing", string(d.AppendUpsert(nil, []string{"email"}, nil)), " ON DUPLICATE KEY UPDATE `email` = `email`"},
		{"explain", d.Explain("SELECT 1", false), "EXPLAIN FORMAT=JSON SELECT 1"},
		{"unique string", d.ColumnType(&orm.Column{Type: typeOfString, Unique: true}), "VARCHAR(255)"},
		{"bounded string", d.ColumnType(&orm.Column{Type: typeOfString, MaxLength: 100}), "VARCHAR(100)"},
		{"text", d.ColumnType(&orm.Column{Type: typeOfString}), "TEXT"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestMariaDBWithReturning(t *testing.T) {
	for v, want := range map[string]bool{"10.11.6-MariaDB-0+deb12u1": true, "10.5.0-MariaDB": true, "10.4.32-MariaDB": false, "11.4.2-MariaDB": true, "8.0.36": false, "garbage-MariaDB": false} {
		if got := mariaDBWithReturning(v); got != want {
			t.Errorf("%s: %v, want %v", v, got, want)
		}
	}
}

func TestParseDSN(t *testing.T) {
	for _, c := range []struct{ dsn, addr, db, user, pass string }{
		{"mysql://app:s3cret@db.local:3307/shop?charset=utf8mb4", "db.local:3307", "shop", "app", "s3cret"},
		{"mysql://root@127.0.0.1/test", "127.0.0.1:3306", "test", "root", ""},
		{"app:s3cret@tcp(10.0.0.1:3306)/shop?parseTime=false", "10.0.0.1:3306", "shop", "app", "s3cret"},
	} {
		cfg, err := ParseDSN(c.dsn)
		if err != nil {
			t.Fatalf("%s: %v", c.dsn, err)
		}
		if cfg.Addr != c.addr || cfg.DBName != c.db || cfg.User != c.user || cfg.Passwd != c.pass {
			t.Errorf("%s: got %s %s %s %s", c.dsn, cfg.Addr, cfg.DBName, cfg.User, cfg.Passwd)
		}
		if !cfg.ParseTime || cfg.InterpolateParams || cfg.MultiStatements || cfg.Loc != time.UTC || !strings.Contains(cfg.Params["sql_mode"], "STRICT_ALL_TABLES") {
			t.Errorf("%s: the forced settings are missing: %+v", c.dsn, cfg)
		}
	}
	for _, bad := range []string{"mysql://app:s3cret@h/db?timeout=soon", "app:s3cret@tcp(h:1/db"} {
		_, err := ParseDSN(bad)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseDSN(%q) = %v, want an error without the password", bad, err)
		}
	}
	if got := Redact("mysql://app:s3cret@h:1/db"); strings.Contains(got, "s3cret") {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact("app:s3cret@tcp(h:1)/db"); got != "app:xxxxx@tcp(h:1)/db" {
		t.Errorf("Redact = %q", got)
	}
	if _, err := New(context.Background(), Config{DSN: "mysql://root:hunter2@127.0.0.1:1/x?timeout=1s"}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("New on a closed port = %v, want an error without the password", err)
	}
}

func TestClassifyRealErrors(t *testing.T) {
	ctx := context.Background()
	db := open(t, Config{DSN: testDSN(t, "")})
	for _, s := range []string{
		"CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB",
		"CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL, CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent(id)) ENGINE=InnoDB",
		"CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB",
		"INSERT INTO parent VALUES (1)", "INSERT INTO child VALUES (1, 1)", "INSERT INTO acct VALUES (1, 100), (2, 100)",
	} {
		if _, err := orm.Exec(ctx, db, s); err != nil {
			t.Fatal(s, err)
		}
	}
	cases := []struct {
		sql        string
		kind       orm.Kind
		constraint string
	}{
		{"INSERT INTO parent VALUES (1)", orm.UniqueViolation, "PRIMARY"},
		{"INSERT INTO child VALUES (2, 99)", orm.ForeignKeyViolation, "child_parent"},
		{"DELETE FROM parent WHERE id = 1", orm.ForeignKeyViolation, "child_parent"},
		{"INSERT INTO acct (id) VALUES (3)", orm.NotNullViolation, "balance"},
		{"INSERT INTO acct VALUES (4, NULL)", orm.NotNullViolation, "balance"},
	}
	for _, c := range cases {
		_, err := orm.Exec(ctx, db, c.sql)
		var oe *orm.Error
		if orm.KindOf(err) != c.kind || !errorsAs(err, &oe) || !strings.Contains(oe.Constraint, c.constraint) {
			t.Errorf("%s: %v (kind %v), want %v naming %q", c.sql, err, orm.KindOf(err), c.kind, c.constraint)
		}
	}

	// Two transactions locking the same two rows in opposite order: InnoDB
	// picks one as the deadlock victim, which is safe to retry.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	var first sync.WaitGroup
	first.Add(2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, b := 1+i, 2-i
			errs[i] = orm.WithTx(ctx, db, func(tx *orm.Tx) error {
				if _, err := orm.Exec(ctx, tx, "UPDATE acct SET balance = balance - 1 WHERE id = ?", a); err != nil {
					first.Done()
					return err
				}
				first.Done()
				first.Wait()
				_, err := orm.Exec(ctx, tx, "UPDATE acct SET balance = balance + 1 WHERE id = ?", b)
				return err
			})
		}()
	}
	wg.Wait()
	if !orm.SafeToRetry(errs[0]) && !orm.SafeToRetry(errs[1]) {
		t.Errorf("opposite-order locks: %v / %v, want a deadlock safe to retry", errs[0], errs[1])
	}

	// MariaDB's max_statement_time and a context deadline are Timeouts.
	_, err := orm.RunNative(ctx, db, "SET STATEMENT max_statement_time=0.05 FOR SELECT SLEEP(2) FROM parent", nil, 0)
	if orm.KindOf(err) != orm.Timeout {
		t.Errorf("max_statement_time: %v (%v), want Timeout", err, orm.KindOf(err))
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := orm.RunNative(short, db, "SELECT SLEEP(2)", nil, 0); orm.KindOf(err) != orm.Timeout {
		t.Errorf("context deadline: %v (%v), want Timeout", err, orm.KindOf(err))
	}
}

func TestIsolationAndReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t, "")
	// The replica pool's sessions have their own wait_timeout.
	db := open(t, Config{DSN: dsn, Replicas: []string{dsn + "?wait_timeout=12345"}, MaxOpenConns: 3})
	type row struct {
		V *string `db:"v"`
	}
	role := func(ctx context.Context, h orm.Handle) string {
		t.Helper()
		rows, err := orm.Raw[row](ctx, h, "SELECT CAST(@@session.wait_timeout AS CHAR) AS v")
		if err != nil || len(rows) != 1 {
			t.Fatal(err)
		}
		if *rows[0].V == "12345" {
			return "replica"
		}
		return "primary"
	}
	if got := role(ctx, db); got != "replica" {
		t.Errorf("a read outside a transaction went to the %s", got)
	}
	if got := role(orm.OnPrimary(ctx), db); got != "primary" {
		t.Errorf("a read with OnPrimary went to the %s", got)
	}
	// The level shows in what a transaction sees: after another session
	// commits a change, READ COMMITTED sees it, REPEATABLE READ does not.
	if _, err := orm.Exec(ctx, db, "CREATE TABLE kv (k INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	if _, err := orm.Exec(ctx, db, "INSERT INTO kv VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
	other := open(t, Config{DSN: dsn})
	for i, level := range []struct {
		l       sql.IsolationLevel
		seesNew bool
	}{{sql.LevelReadCommitted, true}, {sql.LevelRepeatableRead, false}} {
		err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
			if got := role(ctx, tx); got != "primary" {
				t.Errorf("a read in a transaction went to the %s", got)
			}
			if _, err := orm.RunNative(ctx, tx, "SELECT v FROM kv WHERE k = 1", nil, 0); err != nil {
				return err
			}
			if _, err := orm.Exec(ctx, other, "UPDATE kv SET v = ? WHERE k = 1", i+1); err != nil {
				return err
			}
			rs, err := orm.RunNative(ctx, tx, "SELECT v FROM kv WHERE k = 1", nil, 0)
			if err == nil && (rs.Rows[0][0] == int64(i+1)) != level.seesNew {
				t.Errorf("%v: read %v after another session committed %d", level.l, rs.Rows[0][0], i+1)
			}
			return err
		}, orm.Isolation(orm.TxOptions{Isolation: level.l}))
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := orm.WithTx(ctx, db, func(*orm.Tx) error { return nil }, orm.Isolation(orm.TxOptions{Isolation: sql.LevelLinearizable})); err == nil {
		t.Error("an unsupported isolation level was accepted")
	}
	primary, replicas := db.Stats()
	if primary.MaxOpen != 3 || len(replicas) != 1 {
		t.Errorf("stats = %+v %+v", primary, replicas)
	}
}

func TestKilledConnectionLeavesNoPartialWrite(t *testing.T) {
	ctx := context.Background()
	// The driver logs the broken connection; that is the point here.
	driver.SetLogger(log.New(io.Discard, "", 0))
	defer driver.SetLogger(log.New(os.Stderr, "[mysql] ", log.Ldate|log.Ltime|log.Lshortfile))
	dsn := testDSN(t, "")
	db := open(t, Config{DSN: dsn})
	killer := open(t, Config{DSN: dsn})
	if _, err := orm.Exec(ctx, db, "CREATE TABLE items (id INT PRIMARY KEY) ENGINE=InnoDB"); err != nil {
		t.Fatal(err)
	}
	err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		if _, err := orm.Exec(ctx, tx, "INSERT INTO items VALUES (1), (2)"); err != nil {
			return err
		}
		rs, err := orm.RunNative(ctx, tx, "SELECT CONNECTION_ID()", nil, 0)
		if err != nil {
			return err
		}
		if _, err := orm.Exec(ctx, killer, "KILL ?", rs.Rows[0][0]); err != nil {
			return err
		}
		_, err = orm.Exec(ctx, tx, "INSERT INTO items VALUES (3)")
		return err
	})
	if err == nil {
		t.Fatal("the transaction committed on a killed connection")
	}
	if n, err := orm.RunNative(ctx, killer, "SELECT COUNT(*) FROM items", nil, 0); err != nil || n.Rows[0][0] != int64(0) {
		t.Errorf("after the kill: %v (%v), want 0 rows", n, err)
	}
}

var typeOfString = reflect.TypeFor[string]()

func errorsAs(err error, target **orm.Error) bool { return errors.As(err, target) }
