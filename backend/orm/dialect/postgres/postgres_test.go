package postgres

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/ormtest"
)

// testDSN returns a DSN for a private schema of the test database.
func testDSN(t *testing.T) string { return ormtest.PostgresDSN(t, os.Getenv) }

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
		{"ident", string(d.AppendIdent(nil, `we"ird`)), `"we""ird"`},
		{"placeholder", string(d.AppendPlaceholder(nil, 12)), "$12"},
		{"upsert", string(d.AppendUpsert(nil, []string{"email"}, []string{"name", "age"})), ` ON CONFLICT ("email") DO UPDATE SET "name" = EXCLUDED."name", "age" = EXCLUDED."age"`},
		{"upsert nothing", string(d.AppendUpsert(nil, []string{"a", "b"}, nil)), ` ON CONFLICT ("a", "b") DO NOTHING`},
		{"explain", d.Explain("SELECT 1", false), "EXPLAIN (FORMAT JSON) SELECT 1"},
		{"explain analyze", d.Explain("SELECT 1", true), "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT 1"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "DSN is empty"},
		{Config{DSN: "x", MaxConns: -1}, "MaxConns"},
		{Config{DSN: "x", MaxConns: 2, MinConns: 3}, "MinConns"},
		{Config{DSN: "postgres://u:topsecret@127.0.0.1:1/x?connect_timeout=1"}, "DSN postgres://u:xxxxx@127.0.0.1:1/x"},
		{Config{DSN: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", Replicas: []string{"postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=1"}}, "Replicas[0]"},
	} {
		_, err := New(context.Background(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", c.cfg, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "topsecret") || strings.Contains(err.Error(), "hunter2")) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestClassifyRealErrors(t *testing.T) {
	ctx := context.Background()
	db := open(t, Config{DSN: testDSN(t)})
	if _, err := orm.Exec(ctx, db, `CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := orm.Exec(ctx, db, `INSERT INTO acct VALUES (1, 100), (2, 100)`); err != nil {
		t.Fatal(err)
	}

	// Two serializable transactions that each read both rows and write one:
	// one of them must fail with a serialization failure.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	ready := make(chan struct{})
	var once sync.Once
	var arrived sync.WaitGroup
	arrived.Add(2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = orm.WithTx(ctx, db, func(tx *orm.Tx) error {
				if _, err := orm.RunNative(ctx, tx, "SELECT sum(balance) FROM acct", nil, 0); err != nil {
					return err
				}
				arrived.Done()
				once.Do(func() { go func() { arrived.Wait(); close(ready) }() })
				<-ready
				_, err := orm.Exec(ctx, tx, "UPDATE acct SET balance = balance - 10 WHERE id = ?", i+1)
				return err
			}, orm.Isolation(orm.TxOptions{Isolation: sql.LevelSerializable}))
		}()
	}
	wg.Wait()
	if !orm.SafeToRetry(errs[0]) && !orm.SafeToRetry(errs[1]) {
		t.Errorf("concurrent serializable transactions: %v / %v, want one serialization failure", errs[0], errs[1])
	}

	// Retry runs the losing transaction again until it commits.
	attempts := 0
	if err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		attempts++
		if attempts == 1 {
			return &orm.Error{Kind: orm.SerializationFailure, Err: errors.New("first try loses")}
		}
		_, err := orm.Exec(ctx, tx, "UPDATE acct SET balance = 0 WHERE id = 1")
		return err
	}, orm.Retry(2)); err != nil || attempts != 2 {
		t.Errorf("Retry: %d attempts, %v", attempts, err)
	}

	// A statement timeout and a context deadline are both Timeout.
	err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		if _, err := orm.Exec(ctx, tx, "SET LOCAL statement_timeout = 50"); err != nil {
			return err
		}
		_, err := orm.RunNative(ctx, tx, "SELECT pg_sleep(2)", nil, 0)
		return err
	})
	if orm.KindOf(err) != orm.Timeout {
		t.Errorf("statement_timeout: %v (%v), want Timeout", err, orm.KindOf(err))
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := orm.RunNative(short, db, "SELECT pg_sleep(2)", nil, 0); orm.KindOf(err) != orm.Timeout {
		t.Errorf("context deadline: %v (%v), want Timeout", err, orm.KindOf(err))
	}
}

// TestIsolationAndReplicas: isolation levels reach the server; reads go to
// the replica outside transactions, to the primary inside one and with
// OnPrimary.
func TestIsolationAndReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	db := open(t, Config{DSN: dsn + "&application_name=primary", Replicas: []string{dsn + "&application_name=replica"}, MaxConns: 3})
	type setting struct {
		V string `db:"v"`
	}
	app := func(ctx context.Context, h orm.Handle) string {
		t.Helper()
		rows, err := orm.Raw[setting](ctx, h, "SELECT current_setting('application_name') AS v")
		if err != nil || len(rows) != 1 {
			t.Fatal(err)
		}
		return rows[0].V
	}
	if got := app(ctx, db); got != "replica" {
		t.Errorf("a read outside a transaction went to %q, want the replica", got)
	}
	if got := app(orm.OnPrimary(ctx), db); got != "primary" {
		t.Errorf("a read with OnPrimary went to %q", got)
	}
	for _, level := range []struct {
		l    sql.IsolationLevel
		want string
	}{{sql.LevelReadCommitted, "read committed"}, {sql.LevelRepeatableRead, "repeatable read"}, {sql.LevelSerializable, "serializable"}} {
		err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
			if got := app(ctx, tx); got != "primary" {
				t.Errorf("a read in a transaction went to %q", got)
			}
			rows, err := orm.Raw[setting](ctx, tx, "SELECT current_setting('transaction_isolation') AS v")
			if err == nil && rows[0].V != level.want {
				t.Errorf("isolation = %q, want %q", rows[0].V, level.want)
			}
			return err
		}, orm.Isolation(orm.TxOptions{Isolation: level.l}))
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		_, err := orm.Exec(ctx, tx, "CREATE TABLE nope (id INT)")
		return err
	}, orm.Isolation(orm.TxOptions{ReadOnly: true})); err == nil {
		t.Error("a write in a read-only transaction succeeded")
	}
	if err := orm.WithTx(ctx, db, func(*orm.Tx) error { return nil }, orm.Isolation(orm.TxOptions{Isolation: sql.LevelLinearizable})); err == nil {
		t.Error("an unsupported isolation level was accepted")
	}
	primary, replicas := db.Stats()
	if primary.MaxOpen != 3 || len(replicas) != 1 || replicas[0].Open < 1 {
		t.Errorf("stats = %+v %+v", primary, replicas)
	}
}

// TestKilledConnectionLeavesNoPartialWrite: the server kills the
// connection in the middle of a transaction; nothing it wrote remains.
func TestKilledConnectionLeavesNoPartialWrite(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	db := open(t, Config{DSN: dsn})
	if _, err := orm.Exec(ctx, db, "CREATE TABLE items (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	killer, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(ctx)
	err = orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		if _, err := orm.Exec(ctx, tx, "INSERT INTO items VALUES (1), (2)"); err != nil {
			return err
		}
		rs, err := orm.RunNative(ctx, tx, "SELECT pg_backend_pid()", nil, 0)
		if err != nil {
			return err
		}
		if _, err := killer.Exec(ctx, "SELECT pg_terminate_backend($1)", rs.Rows[0][0]); err != nil {
			return err
		}
		_, err = orm.Exec(ctx, tx, "INSERT INTO items VALUES (3)")
		return err
	})
	if err == nil {
		t.Fatal("the transaction committed on a killed connection")
	}
	var n int
	if err := killer.QueryRow(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil || n != 0 {
		t.Errorf("after the kill: %d rows (%v), want 0", n, err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("the pool did not recover: %v", err)
	}
}
