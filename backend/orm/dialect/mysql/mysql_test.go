package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/ormtest"
)

// The tests below run against the MySQL or MariaDB server of `make
// services` (COVET_TEST_MYSQL), each in a database of its own; see ormtest.

// testDSN returns the mysql:// DSN of a private database on the test server,
// with extra query parameters, if any.
func testDSN(t *testing.T, params string) string {
	t.Helper()
	dsn := ormtest.MySQLDSN(t, os.Getenv)
	if params != "" {
		dsn += "?" + params
	}
	return dsn
}

// open opens cfg with New and closes the DB after t.
func open(t *testing.T, cfg Config) *orm.DB {
	t.Helper()
	db, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPlain opens dsn the way a MySQL 8 server behaves: the zero Dialect
// (no RETURNING: keys come from the last insert id) and ClientFoundRows
// off, so an UPDATE that changes nothing reports 0 rows.
func openPlain(t *testing.T, dsn string) *orm.DB {
	t.Helper()
	dc, err := ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dc.ClientFoundRows = false
	conn, err := driver.NewConnector(dc)
	if err != nil {
		t.Fatal(err)
	}
	sdb := sql.OpenDB(conn)
	t.Cleanup(func() { sdb.Close() })
	db, err := orm.New(orm.Config{Dialect: Dialect{}, Primary: &orm.SQLPool{DB: sdb, BeginOptions: txOptions}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// exec runs statements that must succeed.
func exec(t *testing.T, h orm.Handle, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := orm.Exec(context.Background(), h, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// scalar runs a query for one value on the primary or the transaction.
func scalar(t *testing.T, h orm.Handle, query string, args ...any) any {
	t.Helper()
	rs, err := orm.RunNative(context.Background(), h, query, args, 0)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if len(rs.Rows) != 1 || len(rs.Rows[0]) != 1 {
		t.Fatalf("%s: got %v, want one value", query, rs.Rows)
	}
	return rs.Rows[0][0]
}

func TestConfigValidate(t *testing.T) {
	const dsn = "mysql://app:s3cret@h/db"
	cases := []struct {
		name string
		cfg  Config
		want string // "" when valid
	}{
		{"minimal", Config{DSN: dsn}, ""},
		{"full", Config{DSN: dsn, Replicas: []string{"app:s3cret@tcp(r:3306)/db"}, MaxOpenConns: 8, MaxIdleConns: 8, ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Minute}, ""},
		{"no DSN", Config{}, "Config.DSN is empty"},
		{"bad DSN", Config{DSN: "mysql://app:s3cret@/db"}, "Config.DSN: parsing DSN"},
		{"empty replica", Config{DSN: dsn, Replicas: []string{dsn, ""}}, "Config.Replicas[1] is empty"},
		{"bad replica", Config{DSN: dsn, Replicas: []string{"app:s3cret@tcp(h"}}, "Config.Replicas[0]: parsing DSN"},
		{"negative MaxOpenConns", Config{DSN: dsn, MaxOpenConns: -1}, "Config.MaxOpenConns"},
		{"negative MaxIdleConns", Config{DSN: dsn, MaxIdleConns: -1}, "Config.MaxIdleConns"},
		{"more idle than open", Config{DSN: dsn, MaxOpenConns: 2, MaxIdleConns: 3}, "Config.MaxIdleConns (3) is more than Config.MaxOpenConns (2)"},
		{"negative ConnMaxLifetime", Config{DSN: dsn, ConnMaxLifetime: -time.Second}, "Config.ConnMaxLifetime"},
		{"negative ConnMaxIdleTime", Config{DSN: dsn, ConnMaxIdleTime: -time.Second}, "Config.ConnMaxIdleTime"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("got %v, want nil", err)
			case c.want == "":
				return
			case err == nil:
				t.Fatalf("got nil, want an error naming %q", c.want)
			case !strings.HasPrefix(err.Error(), "mysql: ") || !strings.Contains(err.Error(), c.want):
				t.Errorf("got %q, want mysql: … naming %q", err, c.want)
			case strings.Contains(err.Error(), "s3cret"):
				t.Errorf("got %q, which shows the password", err)
			}
			if _, nerr := New(context.Background(), c.cfg); err != nil && nerr == nil {
				t.Errorf("New accepted a config Validate refuses")
			}
		})
	}
}

// TestNewErrors checks that a server that does not answer fails New with
// the DSN's field named and the password hidden.
func TestNewErrors(t *testing.T) {
	good := testDSN(t, "")
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"primary down", Config{DSN: "mysql://root:hunter22@127.0.0.1:1/x?timeout=1s"}, "Config.DSN"},
		{"replica down", Config{DSN: good, Replicas: []string{good, "root:hunter22@tcp(127.0.0.1:1)/x?timeout=1s"}}, "Config.Replicas[1]"},
		{"wrong password", Config{DSN: strings.Replace(good, "root@", "root:hunter22@", 1)}, "Config.DSN"},
		{"missing database", Config{DSN: strings.Replace(good, "/covet_t_", "/covet_missing_", 1)}, "Config.DSN"},
		{"bad session variable", Config{DSN: good + "?no_such_variable=1"}, "Config.DSN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, err := New(context.Background(), c.cfg)
			if err == nil {
				db.Close()
				t.Fatal("got a DB, want an error")
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, "hunter22") {
				t.Errorf("got %q, want an error naming %s without the password", msg, c.want)
			}
		})
	}
}

func TestClassifyServerErrors(t *testing.T) {
	ctx := context.Background()
	db := open(t, Config{DSN: testDSN(t, "")})
	exec(t, db,
		"CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB",
		"CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL, CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent(id)) ENGINE=InnoDB",
		"CREATE TABLE people (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, balance INT NOT NULL, UNIQUE KEY people_email (email)) ENGINE=InnoDB",
		"INSERT INTO parent VALUES (1)", "INSERT INTO child VALUES (1, 1)", "INSERT INTO people VALUES (1, 'a@x.org', 100)",
	)
	cases := []struct {
		name, sql  string
		kind       orm.Kind
		constraint string
	}{
		{"duplicate primary key", "INSERT INTO parent VALUES (1)", orm.UniqueViolation, "PRIMARY"},
		{"duplicate unique key", "INSERT INTO people VALUES (2, 'a@x.org', 1)", orm.UniqueViolation, "people_email"},
		{"missing parent", "INSERT INTO child VALUES (2, 99)", orm.ForeignKeyViolation, "child_parent"},
		{"parent still referenced", "DELETE FROM parent WHERE id = 1", orm.ForeignKeyViolation, "child_parent"},
		{"missing value in strict mode", "INSERT INTO people (id, email) VALUES (3, 'b@x.org')", orm.NotNullViolation, "balance"},
		{"null value", "INSERT INTO people VALUES (4, 'c@x.org', NULL)", orm.NotNullViolation, "balance"},
		{"null in update", "UPDATE people SET balance = NULL WHERE id = 1", orm.NotNullViolation, "balance"},
		{"unclassified", "SELECT * FROM no_such_table", orm.Other, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := orm.Exec(ctx, db, c.sql)
			if err == nil {
				t.Fatal("got nil, want an error")
			}
			var oe *orm.Error
			errors.As(err, &oe)
			if got := orm.KindOf(err); got != c.kind {
				t.Fatalf("got kind %v (%v), want %v", got, err, c.kind)
			}
			if oe != nil && !strings.HasSuffix(oe.Constraint, c.constraint) {
				t.Errorf("got constraint %q, want %q", oe.Constraint, c.constraint)
			}
		})
	}
}

// TestSerializationFailures causes a deadlock and a lock wait timeout: both
// are safe to retry, and Retry does.
func TestSerializationFailures(t *testing.T) {
	ctx := context.Background()
	db := open(t, Config{DSN: testDSN(t, "")})
	exec(t, db,
		"CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB",
		"INSERT INTO acct VALUES (1, 100), (2, 100)",
	)

	t.Run("deadlock", func(t *testing.T) {
		// Two transactions lock the same two rows in opposite order: InnoDB
		// picks one as the deadlock victim.
		var wg sync.WaitGroup
		var locked sync.WaitGroup
		locked.Add(2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Go(func() {
				first, second := 1+i, 2-i
				errs[i] = orm.WithTx(ctx, db, func(tx *orm.Tx) error {
					_, err := orm.Exec(ctx, tx, "UPDATE acct SET balance = balance - 1 WHERE id = ?", first)
					locked.Done()
					if err != nil {
						return err
					}
					locked.Wait()
					_, err = orm.Exec(ctx, tx, "UPDATE acct SET balance = balance + 1 WHERE id = ?", second)
					return err
				})
			})
		}
		wg.Wait()
		victims := 0
		for _, err := range errs {
			switch {
			case err == nil:
			case orm.SafeToRetry(err) && orm.KindOf(err) == orm.SerializationFailure:
				victims++
			default:
				t.Errorf("got %v, want nil or a serialization failure", err)
			}
		}
		if victims != 1 {
			t.Errorf("got %d deadlock victims (%v), want 1", victims, errs)
		}
	})

	t.Run("lock wait timeout", func(t *testing.T) {
		holding, release := make(chan struct{}), make(chan struct{})
		done := make(chan error)
		go func() {
			done <- orm.WithTx(ctx, db, func(tx *orm.Tx) error {
				if _, err := orm.Exec(ctx, tx, "UPDATE acct SET balance = 0 WHERE id = 1"); err != nil {
					close(holding)
					return err
				}
				close(holding)
				<-release
				return nil
			})
		}()
		<-holding
		_, err := orm.Exec(ctx, db, "SET STATEMENT innodb_lock_wait_timeout=1 FOR UPDATE acct SET balance = 1 WHERE id = 1")
		close(release)
		if herr := <-done; herr != nil {
			t.Fatal(herr)
		}
		if got := orm.KindOf(err); got != orm.SerializationFailure {
			t.Errorf("got %v (%v), want a serialization failure", got, err)
		}
	})

	t.Run("retry", func(t *testing.T) {
		attempts := 0
		err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
			attempts++
			if attempts == 1 {
				return &orm.Error{Kind: orm.SerializationFailure, Err: &driver.MySQLError{Number: 1213}}
			}
			_, err := orm.Exec(ctx, tx, "UPDATE acct SET balance = 7 WHERE id = 2")
			return err
		}, orm.Retry(2))
		if err != nil || attempts != 2 {
			t.Errorf("got %v after %d attempts, want nil after 2", err, attempts)
		}
	})
}

func TestTimeouts(t *testing.T) {
	ctx := context.Background()
	db := open(t, Config{DSN: testDSN(t, "")})
	exec(t, db, "CREATE TABLE one (id INT PRIMARY KEY) ENGINE=InnoDB", "INSERT INTO one VALUES (1)")
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	cases := []struct {
		name string
		ctx  func() context.Context
		sql  string
	}{
		// 1969 on MariaDB; MySQL's equivalent is the optimizer hint
		// /*+ MAX_EXECUTION_TIME(100) */, error 3024.
		{"max_statement_time", func() context.Context { return ctx }, "SET STATEMENT max_statement_time=0.1 FOR SELECT SLEEP(1) FROM one"},
		{"context deadline", short, "SELECT SLEEP(1) FROM one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := orm.RunNative(c.ctx(), db, c.sql, nil, 0)
			if got := orm.KindOf(err); got != orm.Timeout {
				t.Errorf("got %v (%v), want a timeout", got, err)
			}
			if d := time.Since(start); d > 700*time.Millisecond {
				t.Errorf("got an answer after %v, want it well before the 1s sleep ends", d)
			}
		})
	}
	// The pool is still usable after the context killed a statement.
	if got := scalar(t, db, "SELECT COUNT(*) FROM one"); got != int64(1) {
		t.Errorf("after the timeouts: got %v, want 1", got)
	}
}

// account exercises every column type the dialect maps.
type account struct {
	ID      int64             `db:"id,pk,auto"`
	Email   string            `db:"email,unique,max=191"`
	Name    string            `db:"name"`
	Balance int64             `db:"balance"`
	Points  uint64            `db:"points"`
	Active  bool              `db:"active"`
	Score   float64           `db:"score"`
	Avatar  []byte            `db:"avatar"`
	Nick    *string           `db:"nick"`
	Joined  time.Time         `db:"joined"`
	Seen    sql.Null[float32] `db:"seen"`
}

// TestRoundTrip writes and reads rows through the ORM on a table the ORM
// creates, both the way New sets it up for this server and the way MySQL 8
// behaves (keys from the last insert id, UPDATE reporting changed rows).
func TestRoundTrip(t *testing.T) {
	variants := []struct {
		name string
		open func(t *testing.T) *orm.DB
	}{
		{"New", func(t *testing.T) *orm.DB { return open(t, Config{DSN: testDSN(t, "")}) }},
		{"MySQL 8 semantics", func(t *testing.T) *orm.DB { return openPlain(t, testDSN(t, "")) }},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) { roundTrip(t, v.open(t)) })
	}
}

func roundTrip(t *testing.T, db *orm.DB) {
	ctx := context.Background()
	table, err := orm.Mapping[account](db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orm.EnsureTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	if got := scalar(t, db, "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'accounts'"); got != "InnoDB" {
		t.Fatalf("got engine %v, want InnoDB", got)
	}
	nick := "ann"
	joined := time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.FixedZone("CET", 3600))
	a := account{Email: "ann@x.org", Name: "Ann", Balance: -5, Points: 1<<64 - 1, Active: true, Score: 2.5,
		Avatar: []byte{0, 1, 255}, Nick: &nick, Joined: joined, Seen: sql.Null[float32]{V: 1.5, Valid: true}}
	b := account{Email: "bob@x.org", Name: "Bob", Avatar: []byte{}, Joined: joined}

	same := func(t *testing.T, got, want account) {
		t.Helper()
		if got.ID != want.ID || got.Email != want.Email || got.Name != want.Name || got.Balance != want.Balance ||
			got.Points != want.Points || got.Active != want.Active || got.Score != want.Score ||
			string(got.Avatar) != string(want.Avatar) || (got.Nick == nil) != (want.Nick == nil) ||
			got.Nick != nil && *got.Nick != *want.Nick || !got.Joined.Equal(want.Joined) || got.Seen != want.Seen {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
		if got.Joined.Location() != time.UTC {
			t.Errorf("got time in %v, want UTC", got.Joined.Location())
		}
	}

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"insert sets the id", func(t *testing.T) {
			for _, r := range []*account{&a, &b} {
				if err := orm.Insert(ctx, db, r); err != nil {
					t.Fatal(err)
				}
			}
			if a.ID == 0 || b.ID != a.ID+1 {
				t.Errorf("got ids %d, %d, want consecutive ids from the server", a.ID, b.ID)
			}
		}},
		{"get", func(t *testing.T) {
			got, err := orm.Get[account](ctx, db, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, a)
			if _, err := orm.Get[account](ctx, db, b.ID+100); !orm.IsNotFound(err) {
				t.Errorf("a missing id: got %v, want not found", err)
			}
		}},
		{"query", func(t *testing.T) {
			got, err := orm.From[account](db).Where(orm.Eq("active", false)).OrderBy("-id").All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d rows, want 1", len(got))
			}
			same(t, got[0], b)
		}},
		{"update unchanged is not missing", func(t *testing.T) {
			if err := orm.Update(ctx, db, &a); err != nil {
				t.Errorf("got %v, want nil", err)
			}
			if err := orm.Update(ctx, db, &a, "name"); err != nil {
				t.Errorf("one column: got %v, want nil", err)
			}
		}},
		{"update", func(t *testing.T) {
			a.Name, a.Nick, a.Balance = "Anne", nil, 10
			if err := orm.Update(ctx, db, &a); err != nil {
				t.Fatal(err)
			}
			got, err := orm.Get[account](ctx, db, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, a)
			missing := a
			missing.ID = b.ID + 100
			if err := orm.Update(ctx, db, &missing); !orm.IsNotFound(err) {
				t.Errorf("a missing row: got %v, want not found", err)
			}
		}},
		{"duplicate", func(t *testing.T) {
			dup := account{Email: a.Email, Avatar: []byte{}, Joined: joined}
			err := orm.Insert(ctx, db, &dup)
			var oe *orm.Error
			if !errors.As(err, &oe) || oe.Kind != orm.UniqueViolation || !strings.HasSuffix(oe.Constraint, "email") {
				t.Errorf("got %v, want a unique violation of email", err)
			}
		}},
		{"upsert", func(t *testing.T) {
			u := account{Email: a.Email, Name: "Ann again", Balance: 99, Avatar: []byte{7}, Joined: joined}
			if err := orm.Upsert(ctx, db, &u, []string{"email"}, "name"); err != nil {
				t.Fatal(err)
			}
			if u.ID != a.ID {
				t.Errorf("an upsert that updated: got id %d, want the row's %d", u.ID, a.ID)
			}
			got, err := orm.Get[account](ctx, db, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			a.Name = "Ann again" // only name was to be updated
			same(t, got, a)
			c := account{Email: "cid@x.org", Name: "Cid", Avatar: []byte{}, Joined: joined}
			if err := orm.Upsert(ctx, db, &c, []string{"email"}); err != nil {
				t.Fatal(err)
			}
			if got, err := orm.From[account](db).Where(orm.Eq("email", c.Email)).First(ctx); err != nil || c.ID != got.ID {
				t.Errorf("an upsert that inserted: got id %d, want the new row's %d (%v)", c.ID, got.ID, err)
			}
			if n, err := orm.From[account](db).Count(ctx); err != nil || n != 3 {
				t.Errorf("got %d rows (%v), want 3", n, err)
			}
			unchanged := account{Email: a.Email, Name: a.Name, Avatar: []byte{}, Joined: joined}
			if err := orm.Upsert(ctx, db, &unchanged, []string{"email"}, "name"); err != nil || unchanged.ID != a.ID {
				t.Errorf("an upsert that changed nothing: got id %d (%v), want the row's %d", unchanged.ID, err, a.ID)
			}
		}},
		{"upsert that updates nothing keeps the row", func(t *testing.T) {
			q := "INSERT INTO `accounts` (`email`, `name`, `balance`, `points`, `active`, `score`, `avatar`, `joined`) VALUES (?, 'X', 0, 0, 0, 0, '', NOW())" +
				string(Dialect{}.AppendUpsert(nil, "accounts", []string{"email"}, nil, ""))
			if _, err := orm.Exec(ctx, db, q, a.Email); err != nil {
				t.Fatal(err)
			}
			got, err := orm.Get[account](ctx, db, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			same(t, got, a)
		}},
		{"insert many sets the ids", func(t *testing.T) {
			rows := make([]account, 3)
			for i := range rows {
				rows[i] = account{Email: fmt.Sprintf("many%d@x.org", i), Name: "many", Balance: int64(i), Avatar: []byte{}, Joined: joined}
			}
			if err := orm.InsertMany(ctx, db, rows); err != nil {
				t.Fatal(err)
			}
			for i, r := range rows {
				got, err := orm.Get[account](ctx, db, r.ID)
				if err != nil || got.Email != r.Email {
					t.Errorf("row %d: got %+v, %v for id %d, want %s", i, got, err, r.ID, r.Email)
				}
			}
		}},
		{"copy from", func(t *testing.T) {
			rows := make([]account, 250)
			for i := range rows {
				rows[i] = account{Email: fmt.Sprintf("copy%d@x.org", i), Name: "copy", Avatar: []byte{}, Joined: joined}
			}
			n, err := orm.CopyFrom(ctx, db, rows)
			if err != nil || n != int64(len(rows)) {
				t.Fatalf("got %d, %v, want %d", n, err, len(rows))
			}
			if c, err := orm.From[account](db).Where(orm.Eq("name", "copy")).Count(ctx); err != nil || c != int64(len(rows)) {
				t.Errorf("got %d rows (%v), want %d", c, err, len(rows))
			}
		}},
		{"delete", func(t *testing.T) {
			if err := orm.Delete(ctx, db, &b); err != nil {
				t.Fatal(err)
			}
			if err := orm.Delete(ctx, db, &b); !orm.IsNotFound(err) {
				t.Errorf("deleting again: got %v, want not found", err)
			}
			if _, err := orm.Get[account](ctx, db, b.ID); !orm.IsNotFound(err) {
				t.Errorf("got %v, want not found", err)
			}
		}},
		{"transaction rolls back", func(t *testing.T) {
			boom := errors.New("boom")
			err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
				r := account{Email: "tx@x.org", Avatar: []byte{}, Joined: joined}
				if err := orm.Insert(ctx, tx, &r); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("got %v, want boom", err)
			}
			if ok, err := orm.From[account](db).Where(orm.Eq("email", "tx@x.org")).Exists(ctx); err != nil || ok {
				t.Errorf("got exists=%v (%v), want the insert rolled back", ok, err)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return // later steps build on earlier ones
		}
	}
}

// TestIsolation checks that each level reaches the server and behaves as
// that level. InnoDB's own view of the transaction shows the level;
// @@tx_isolation would not (it is the session's level, not the one SET
// TRANSACTION gives the next transaction), and INNODB_TRX is a cache
// refreshed at most every 100ms, hence the pause before reading it.
func TestIsolation(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t, "")
	db := open(t, Config{DSN: dsn})
	other := open(t, Config{DSN: dsn})
	exec(t, db, "CREATE TABLE kv (k INT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB", "INSERT INTO kv VALUES (1, 0)")
	read := func(t *testing.T, tx *orm.Tx) int64 {
		t.Helper()
		return scalar(t, tx, "SELECT v FROM kv WHERE k = 1").(int64)
	}
	cases := []struct {
		level     sql.IsolationLevel
		innodb    string
		locks     bool // a plain read locks the row
		dirty     bool // sees another transaction's uncommitted change
		committed bool // sees a change another session commits mid-transaction
	}{
		{sql.LevelReadUncommitted, "READ UNCOMMITTED", false, true, true},
		{sql.LevelReadCommitted, "READ COMMITTED", false, false, true},
		{sql.LevelRepeatableRead, "REPEATABLE READ", false, false, false},
		{sql.LevelSerializable, "SERIALIZABLE", true, false, false},
	}
	for _, c := range cases {
		t.Run(c.level.String(), func(t *testing.T) {
			err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
				before := read(t, tx)
				time.Sleep(110 * time.Millisecond)
				if got := scalar(t, tx, "SELECT trx_isolation_level FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = CONNECTION_ID()"); got != c.innodb {
					t.Errorf("got InnoDB level %v, want %s", got, c.innodb)
				}
				_, err := orm.Exec(ctx, other, "SELECT v FROM kv WHERE k = 1 FOR UPDATE NOWAIT")
				if locked := err != nil; locked != c.locks {
					t.Errorf("another session locking the row read: got %v, want it refused: %v", err, c.locks)
				}
				if c.locks {
					return nil // the other session's writes would wait for us
				}
				rollback := errors.New("rollback")
				err = orm.WithTx(ctx, other, func(otx *orm.Tx) error {
					if _, err := orm.Exec(ctx, otx, "UPDATE kv SET v = v + 100 WHERE k = 1"); err != nil {
						return err
					}
					if got := read(t, tx); (got != before) != c.dirty {
						t.Errorf("read %d before, %d during another transaction's uncommitted update; want seeing it: %v", before, got, c.dirty)
					}
					return rollback
				})
				if !errors.Is(err, rollback) {
					return err
				}
				if _, err := orm.Exec(ctx, other, "UPDATE kv SET v = v + 1 WHERE k = 1"); err != nil {
					return err
				}
				if got := read(t, tx); (got != before) != c.committed {
					t.Errorf("read %d before, %d after another session committed an update; want seeing it: %v", before, got, c.committed)
				}
				return nil
			}, orm.Isolation(orm.TxOptions{Isolation: c.level}))
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("default", func(t *testing.T) {
		err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
			read(t, tx)
			return nil
		}, orm.Isolation(orm.TxOptions{}))
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("read only", func(t *testing.T) {
		err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
			if got := read(t, tx); got < 0 {
				t.Errorf("got %d", got)
			}
			_, err := orm.Exec(ctx, tx, "UPDATE kv SET v = -1")
			return err
		}, orm.Isolation(orm.TxOptions{ReadOnly: true}))
		if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
			t.Errorf("got %v, want the write refused as one in a read-only transaction", err)
		}
		if got := scalar(t, db, "SELECT MIN(v) FROM kv"); got.(int64) < 0 {
			t.Errorf("got v = %v, want the write not done", got)
		}
	})
	t.Run("unsupported level", func(t *testing.T) {
		err := orm.WithTx(ctx, db, func(*orm.Tx) error { return nil }, orm.Isolation(orm.TxOptions{Isolation: sql.LevelSnapshot}))
		if err == nil || !strings.Contains(err.Error(), "isolation level") {
			t.Errorf("got %v, want the level refused", err)
		}
	})
}

// TestReplicas checks where statements go. The replica is a second pool on
// the same server whose sessions set wait_timeout to a value of their own.
func TestReplicas(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t, "")
	var mu sync.Mutex
	var events []orm.QueryEvent // guarded by mu
	tracer := orm.TracerFunc(func(_ context.Context, e *orm.QueryEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, *e)
	})
	db := open(t, Config{DSN: dsn, Replicas: []string{dsn + "?wait_timeout=12345"}, Tracer: tracer})
	type row struct {
		V string `db:"v"`
	}
	where := func(ctx context.Context, h orm.Handle) string {
		t.Helper()
		rows, err := orm.Raw[row](ctx, h, "SELECT CAST(@@session.wait_timeout AS CHAR) AS v")
		if err != nil || len(rows) != 1 {
			t.Fatalf("got %v, %v", rows, err)
		}
		if rows[0].V == "12345" {
			return "replica"
		}
		return "primary"
	}
	cases := []struct {
		name string
		read func() string
		want string
	}{
		{"read", func() string { return where(ctx, db) }, "replica"},
		{"read on primary", func() string { return where(orm.OnPrimary(ctx), db) }, "primary"},
		{"read in a transaction", func() string {
			var got string
			if err := orm.WithTx(ctx, db, func(tx *orm.Tx) error { got = where(ctx, tx); return nil }); err != nil {
				t.Fatal(err)
			}
			return got
		}, "primary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			events = nil
			mu.Unlock()
			if got := c.read(); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
			mu.Lock()
			defer mu.Unlock()
			i := slices.IndexFunc(events, func(e orm.QueryEvent) bool { return strings.Contains(e.SQL, "wait_timeout") })
			if i < 0 || events[i].Replica != (c.want == "replica") || events[i].Dialect != "mysql" {
				t.Errorf("got events %+v, want the read traced with Replica=%v", events, c.want == "replica")
			}
		})
	}
	t.Run("writes", func(t *testing.T) {
		// A write goes to the primary even outside a transaction; the
		// replica pool's sessions would refuse none, so look at the
		// session that ran it.
		exec(t, db, "CREATE TABLE w (id INT PRIMARY KEY, t INT NOT NULL) ENGINE=InnoDB")
		if _, err := orm.Exec(ctx, db, "INSERT INTO w VALUES (1, @@session.wait_timeout)"); err != nil {
			t.Fatal(err)
		}
		if got := scalar(t, db, "SELECT t FROM w"); got == int64(12345) {
			t.Errorf("the write ran on the replica")
		}
	})
	t.Run("ping", func(t *testing.T) {
		if err := db.Ping(ctx); err != nil {
			t.Error(err)
		}
	})
}

func TestStats(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t, "")
	cases := []struct {
		name     string
		cfg      Config
		maxOpen  int
		replicas int
	}{
		{"defaults", Config{DSN: dsn}, DefaultMaxOpenConns, 0},
		{"limits and replicas", Config{DSN: dsn, Replicas: []string{dsn, dsn}, MaxOpenConns: 3, MaxIdleConns: 1}, 3, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := open(t, c.cfg)
			err := orm.WithTx(ctx, db, func(*orm.Tx) error {
				primary, replicas := db.Stats()
				if primary.MaxOpen != c.maxOpen || primary.InUse != 1 || primary.Open < 1 {
					t.Errorf("in a transaction: got primary %+v, want MaxOpen %d, one in use", primary, c.maxOpen)
				}
				if len(replicas) != c.replicas {
					t.Fatalf("got %d replica stats, want %d", len(replicas), c.replicas)
				}
				for i, r := range replicas {
					if r.MaxOpen != c.maxOpen || r.InUse != 0 || r.Open < 1 { // pinged by New
						t.Errorf("replica %d: got %+v, want MaxOpen %d, open and idle", i, r, c.maxOpen)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if primary, _ := db.Stats(); primary.InUse != 0 {
				t.Errorf("after the transaction: got %+v, want none in use", primary)
			}
		})
	}
}

// TestKilledConnectionLeavesNoPartialWrite kills the connection under a
// transaction: the server rolls it back and the commit cannot succeed.
func TestKilledConnectionLeavesNoPartialWrite(t *testing.T) {
	ctx := context.Background()
	// The driver logs the broken connection; that is the point here.
	if err := driver.SetLogger(log.New(io.Discard, "", 0)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = driver.SetLogger(log.New(os.Stderr, "[mysql] ", log.Ldate|log.Ltime|log.Lshortfile)) })
	dsn := testDSN(t, "")
	db := open(t, Config{DSN: dsn})
	killer := open(t, Config{DSN: dsn})
	exec(t, db, "CREATE TABLE items (id INT PRIMARY KEY) ENGINE=InnoDB")
	err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		if _, err := orm.Exec(ctx, tx, "INSERT INTO items VALUES (1), (2)"); err != nil {
			return err
		}
		id := scalar(t, tx, "SELECT CONNECTION_ID()")
		if _, err := orm.Exec(ctx, killer, "KILL ?", id); err != nil {
			return err
		}
		_, err := orm.Exec(ctx, tx, "INSERT INTO items VALUES (3)")
		return err
	})
	if err == nil {
		t.Fatal("the transaction committed on a killed connection")
	}
	if got := scalar(t, killer, "SELECT COUNT(*) FROM items"); got != int64(0) {
		t.Errorf("after the kill: got %v rows, want 0", got)
	}
}
