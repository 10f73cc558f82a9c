package orm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/mysql"
	"github.com/covetpy/covet/backend/orm/dialect/postgres"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/orm/ormtest"
)

func openSQLite(t testing.TB) *orm.DB {
	t.Helper()
	db, err := sqlite.New(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "suite.db")})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openPostgres(t testing.TB) *orm.DB {
	t.Helper()
	db, err := postgres.New(context.Background(), postgres.Config{DSN: ormtest.PostgresDSN(t, os.Getenv)})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openMySQL(t testing.TB) *orm.DB {
	t.Helper()
	db, err := mysql.New(context.Background(), mysql.Config{DSN: ormtest.MySQLDSN(t, os.Getenv)})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// dialects opens a fresh database of each dialect, by name: a test runs on
// every dialect as for name, open := range dialects() { t.Run(name, …) }.
func dialects() map[string]func(testing.TB) *orm.DB {
	return map[string]func(testing.TB) *orm.DB{"sqlite": openSQLite, "postgres": openPostgres, "mysql": openMySQL}
}

func TestSuiteSQLite(t *testing.T)   { suite(t, openSQLite) }
func TestSuitePostgres(t *testing.T) { suite(t, openPostgres) }

func TestSuiteMySQL(t *testing.T) { suite(t, openMySQL) }

// TestEnsureTableInTransaction: creating a missing table inside a
// transaction works on every dialect (on PostgreSQL the probe for the
// missing table must not abort the transaction).
func TestEnsureTableInTransaction(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			defer db.Close()
			tbl, err := orm.Define("in_tx", orm.Column{Name: "id", Type: reflect.TypeFor[int64](), PrimaryKey: true, AutoIncrement: true},
				orm.Column{Name: "note", Type: reflect.TypeFor[string](), MaxLength: 20})
			if err != nil {
				t.Fatal(err)
			}
			err = orm.WithTx(ctx, db, func(tx *orm.Tx) error {
				if _, err := orm.EnsureTable(ctx, tx, tbl); err != nil {
					return err
				}
				_, err := orm.InsertRecord(ctx, tx, tbl, orm.Record{"note": "x"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := orm.FromTable(db, tbl).Count(orm.OnPrimary(ctx)); err != nil || n != 1 {
				t.Errorf("rows = %d, %v", n, err)
			}
		})
	}
}

// TestWithConn: statements given a Conn share one connection, so what
// belongs to a session (here a temporary table) outlives each statement,
// and the connection goes back to the pool afterwards.
func TestWithConn(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			defer db.Close()
			err := orm.WithConn(ctx, db, func(c *orm.Conn) error {
				if _, err := orm.ExecNative(ctx, c, "CREATE TEMPORARY TABLE conn_probe (n INTEGER)"); err != nil {
					return err
				}
				if _, err := orm.ExecNative(ctx, c, "INSERT INTO conn_probe (n) VALUES (7)"); err != nil {
					return err
				}
				rs, err := orm.RunNative(ctx, c, "SELECT n FROM conn_probe", nil, 0)
				if err != nil {
					return err
				}
				if len(rs.Rows) != 1 || fmt.Sprint(rs.Rows[0][0]) != "7" {
					t.Errorf("the temporary table holds %v, want [[7]]", rs.Rows)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := db.Stats(); p.InUse != 0 {
				t.Errorf("%d connections in use after WithConn, want 0", p.InUse)
			}
		})
	}
}

// TestTableColumnsAfterRecreate: a table dropped and created again with
// other columns is seen as it is now, although the probe's statement was
// cached (by pgx) for the old table.
func TestTableColumnsAfterRecreate(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			defer db.Close()
			tbl, err := orm.Define("recreated", orm.Column{Name: "id", Type: reflect.TypeFor[int64](), PrimaryKey: true})
			if err != nil {
				t.Fatal(err)
			}
			for i, ddl := range []string{"CREATE TABLE recreated (id INTEGER PRIMARY KEY)", "CREATE TABLE recreated (id INTEGER PRIMARY KEY, extra INTEGER)"} {
				if _, err := orm.ExecNative(ctx, db, ddl); err != nil {
					t.Fatal(err)
				}
				cols, err := orm.TableColumns(ctx, db, tbl)
				if err != nil || len(cols) != i+1 {
					t.Fatalf("after %s: columns %v, %v", ddl, cols, err)
				}
				if _, err := orm.ExecNative(ctx, db, "DROP TABLE recreated"); err != nil {
					t.Fatal(err)
				}
			}
			if cols, err := orm.TableColumns(ctx, db, tbl); cols != nil || err != nil {
				t.Errorf("a dropped table has columns %v, %v", cols, err)
			}
		})
	}
}

// TestKeysetThroughNulls: keyset pages through a nullable column visit every
// row once, in the order of the unpaged query, and that order is the same
// on every dialect: NULLs last ascending, first descending. A cursor holds
// NULL as a nil pointer or as nil.
func TestKeysetThroughNulls(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			f := setup(t, open)
			ctx := context.Background()
			ages := []*int64{nil, ptr[int64](30), nil, ptr[int64](20), ptr[int64](30)}
			seed := make([]user, len(ages))
			for i, age := range ages {
				seed[i] = user{Name: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("u%d@example.com", i), Age: age}
			}
			must(t, orm.InsertMany(ctx, f.db, seed))
			cases := []struct {
				order []string
				want  string
			}{
				{[]string{"age", "id"}, "u3,u1,u4,u0,u2"},
				{[]string{"-age", "id"}, "u0,u2,u1,u4,u3"},
				{[]string{"age", "-id"}, "u3,u4,u1,u2,u0"},
				{[]string{"-age", "-id"}, "u2,u0,u4,u1,u3"},
			}
			for _, c := range cases {
				for _, limit := range []int{1, 2} {
					t.Run(fmt.Sprintf("%s by %d", strings.Join(c.order, ","), limit), func(t *testing.T) {
						all, err := orm.From[user](f.db).OrderBy(c.order...).All(ctx)
						if got := userNames(t, all, err); got != c.want {
							t.Errorf("unpaged: got %s, want %s", got, c.want)
						}
						var seen []user
						var after []any
						for range len(ages) + 1 {
							q := orm.From[user](f.db).OrderBy(c.order...).Limit(limit)
							if after != nil {
								q.After(after...)
							}
							page, err := q.All(ctx)
							if err != nil {
								t.Fatal(err)
							}
							if len(page) == 0 {
								break
							}
							seen = append(seen, page...)
							last := page[len(page)-1]
							after = []any{last.Age, last.ID} // a nil *int64 for NULL
							if limit == 1 && last.Age == nil {
								after[0] = nil
							}
						}
						if got := userNames(t, seen, nil); got != c.want {
							t.Errorf("pages: got %s, want %s", got, c.want)
						}
					})
				}
			}
		})
	}
}

func userNames(t *testing.T, us []user, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(us))
	for i, u := range us {
		names[i] = u.Name
	}
	return strings.Join(names, ",")
}

// TestCountGroups: Count of a grouped query counts its groups (a NULL
// group too), and Exists says whether there is one.
func TestCountGroups(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			f := setup(t, open)
			ctx := context.Background()
			seed := []user{{Name: "a", Email: "a@x", Age: ptr[int64](25)}, {Name: "b", Email: "b@x", Age: ptr[int64](25)},
				{Name: "c", Email: "c@x", Age: ptr[int64](40)}, {Name: "d", Email: "d@x"}, {Name: "e", Email: "e@x"}}
			must(t, orm.InsertMany(ctx, f.db, seed))
			cases := []struct {
				name   string
				q      *orm.Query[user]
				want   int64
				exists bool
			}{
				{"rows", orm.From[user](f.db), 5, true},
				{"groups", orm.From[user](f.db).GroupBy("age"), 3, true},
				{"filtered groups", orm.From[user](f.db).Where(orm.NotNull("age")).GroupBy("age"), 2, true},
				{"having", orm.From[user](f.db).GroupBy("age").Having(orm.Expr("count(*) > ?", 1)), 2, true},
				{"having none", orm.From[user](f.db).GroupBy("age").Having(orm.Expr("count(*) > ?", 5)), 0, false},
				{"no rows", orm.From[user](f.db).Where(orm.Eq("name", "nobody")).GroupBy("age"), 0, false},
				{"two columns", orm.From[user](f.db).GroupBy("age", "name"), 5, true},
				{"having without group by", orm.From[user](f.db).Having(orm.Expr("count(*) > ?", 1)), 1, true},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if got, err := c.q.Count(ctx); err != nil || got != c.want {
						t.Errorf("Count = %d, %v; want %d", got, err, c.want)
					}
					if got, err := c.q.Exists(ctx); err != nil || got != c.exists {
						t.Errorf("Exists = %v, %v; want %v", got, err, c.exists)
					}
				})
			}
		})
	}
}

// TestUpsertSetsKey: like Insert, Upsert sets a zero auto-increment key on
// the row: the new row's key, or the existing row's when it updated it or,
// with nothing to update, kept it. A key the row already has stays.
func TestUpsertSetsKey(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			f := setup(t, open)
			ctx := context.Background()
			db := f.db
			must(t, orm.InsertMany(ctx, db, []user{{Name: "Ann", Email: "ann@x"}, {Name: "Bob", Email: "bob@x"}}))
			must(t, orm.InsertMany(ctx, db, []tag{{Name: "go"}, {Name: "sql"}}))
			userID := func(email string) int64 {
				u, err := orm.From[user](db).Where(orm.Eq("email", email)).First(orm.OnPrimary(ctx))
				must(t, err)
				return u.ID
			}
			tagID := func(name string) int64 {
				g, err := orm.From[tag](db).Where(orm.Eq("name", name)).First(orm.OnPrimary(ctx))
				must(t, err)
				return g.ID
			}
			cases := []struct {
				name   string
				upsert func() (got int64, err error)
				want   func() int64 // the key of the row that holds the values now
			}{
				{"inserted", func() (int64, error) {
					u := user{Name: "Cy", Email: "cy@x"}
					err := orm.Upsert(ctx, db, &u, []string{"email"})
					return u.ID, err
				}, func() int64 { return userID("cy@x") }},
				{"updated", func() (int64, error) {
					u := user{Name: "Bobby", Email: "bob@x"}
					err := orm.Upsert(ctx, db, &u, []string{"email"}, "name")
					return u.ID, err
				}, func() int64 { return userID("bob@x") }},
				{"updated every column", func() (int64, error) {
					u := user{Name: "Annie", Email: "ann@x", Age: ptr[int64](7)}
					err := orm.Upsert(ctx, db, &u, []string{"email"})
					return u.ID, err
				}, func() int64 { return userID("ann@x") }},
				{"kept, nothing to update", func() (int64, error) {
					g := tag{Name: "sql"}
					err := orm.Upsert(ctx, db, &g, []string{"name"})
					return g.ID, err
				}, func() int64 { return tagID("sql") }},
				{"inserted, nothing to update", func() (int64, error) {
					g := tag{Name: "rust"}
					err := orm.Upsert(ctx, db, &g, []string{"name"})
					return g.ID, err
				}, func() int64 { return tagID("rust") }},
				{"key given", func() (int64, error) {
					g := tag{ID: 77, Name: "zig"}
					err := orm.Upsert(ctx, db, &g, []string{"name"})
					return g.ID, err
				}, func() int64 { return tagID("zig") }},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					got, err := c.upsert()
					if err != nil {
						t.Fatal(err)
					}
					if want := c.want(); got != want || got == 0 {
						t.Errorf("got key %d, want %d", got, want)
					}
				})
			}
			if got, err := orm.From[tag](db).Where(orm.Eq("name", "sql")).Count(orm.OnPrimary(ctx)); err != nil || got != 1 {
				t.Errorf("tags named sql: %d, %v; want 1", got, err)
			}
		})
	}
}

// TestLikeMatchesAlike: Like and ILike give the same rows on every
// dialect: Like tells cases apart (SQLite's and MySQL's LIKE do not by
// themselves), ILike does not, _ is one character (not one byte), a
// backslash makes %, _ and itself literal, and GLOB's own wildcards are
// plain text.
func TestLikeMatchesAlike(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			f := setup(t, open)
			ctx := context.Background()
			seed := []string{"Ann", "ann", "ANNA", "Zoë", "50% off", "50 off", "a_b", "axb", `back\slash`, "star*", "q?", "[x]"}
			for i, n := range seed {
				must(t, orm.Insert(ctx, f.db, &user{Name: n, Email: fmt.Sprintf("%d@x", i)}))
			}
			cases := []struct {
				cond orm.Cond
				want string
			}{
				{orm.Like("name", "Ann%"), "Ann"},
				{orm.Like("name", "ann"), "ann"},
				{orm.ILike("name", "ann%"), "ANNA,Ann,ann"},
				{orm.ILike("name", "ANN"), "Ann,ann"},
				{orm.Like("name", "Zo_"), "Zoë"},
				{orm.Like("name", `50\% off`), "50% off"},
				{orm.Like("name", "50% off"), "50 off,50% off"},
				{orm.Like("name", `a\_b`), "a_b"},
				{orm.Like("name", "a_b"), "a_b,axb"},
				{orm.Like("name", `back\\slash`), `back\slash`},
				{orm.ILike("name", `BACK\\%`), `back\slash`},
				{orm.Like("name", "star*"), "star*"},
				{orm.Like("name", "q?"), "q?"},
				{orm.Like("name", "[x]"), "[x]"},
				{orm.Like("name", "[%"), "[x]"},
			}
			for _, c := range cases {
				got, err := orm.From[user](f.db).Where(c.cond).All(ctx)
				if err != nil {
					t.Errorf("%+v: %v", c.cond, err)
					continue
				}
				var names []string
				for _, u := range got {
					names = append(names, u.Name)
				}
				slices.Sort(names) // byte order: the dialects' collations differ
				if s := strings.Join(names, ","); s != c.want {
					t.Errorf("%+v: got %q, want %q", c.cond, s, c.want)
				}
			}
			if _, err := orm.From[user](f.db).Where(orm.Like("name", `ends in \`)).All(ctx); err == nil || !strings.Contains(err.Error(), "escapes nothing") {
				t.Errorf("a pattern ending in a lone backslash: %v", err)
			}
		})
	}
	// MySQL: Like compares under utf8mb4_bin also over a connection in
	// another character set.
	t.Run("mysql latin1 connection", func(t *testing.T) {
		db, err := mysql.New(context.Background(), mysql.Config{DSN: ormtest.MySQLDSN(t, os.Getenv) + "?charset=latin1"})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ensureTables(t, db, orm.Mapping[user])
		ctx := context.Background()
		must(t, orm.InsertMany(ctx, db, []user{{Name: "Ann", Email: "1@x"}, {Name: "ann", Email: "2@x"}}))
		got, err := orm.From[user](db).Where(orm.Like("name", "A%")).All(ctx)
		if err != nil || len(got) != 1 || got[0].Name != "Ann" {
			t.Errorf("Like over a latin1 connection = %+v, %v; want Ann alone", got, err)
		}
	})
}
