package orm_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	driver "github.com/go-sql-driver/mysql"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/mysql"
	"github.com/covetpy/covet/backend/orm/ormtest"
)

// thing has defaults of several types; a nil Flag is left to its default,
// a pointer to false is written.
type thing struct {
	ID     int64  `db:"id,pk,auto"`
	Name   string `db:"name,max=20"`
	Status string `db:"status,max=20,default='active'"`
	Stars  int64  `db:"stars,default=3"`
	Flag   *bool  `db:"flag,default=TRUE"`
}

// tally has nothing to write but its default.
type tally struct {
	ID int64 `db:"id,pk,auto"`
	N  int64 `db:"n,default=7"`
}

// code has a key of its own and a default.
type code struct {
	Code  string `db:"code,pk,max=10"`
	Label string `db:"label,max=20,default='none'"`
}

// openMySQLWithoutReturning opens the MySQL test server as MySQL 8 is
// used: the zero mysql.Dialect, without INSERT … RETURNING, so that keys
// come from the last insert id and defaults are read back by key.
func openMySQLWithoutReturning(t testing.TB) *orm.DB {
	t.Helper()
	dc, err := mysql.ParseDSN(ormtest.MySQLDSN(t, os.Getenv))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := driver.NewConnector(dc)
	if err != nil {
		t.Fatal(err)
	}
	db, err := orm.New(orm.Config{Dialect: mysql.Dialect{}, Primary: &orm.SQLPool{DB: sql.OpenDB(conn)}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestInsertDefaults: Insert and InsertMany leave a column with a default
// to the database when the row's value is zero, and read the stored value
// back into the row; a value that is not zero is written. Rows in a row
// that leave out the same columns share a statement.
func TestInsertDefaults(t *testing.T) {
	opens := dialects()
	opens["mysql without RETURNING"] = openMySQLWithoutReturning
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			defer db.Close()
			ensureTables(t, db, orm.Mapping[thing], orm.Mapping[tally], orm.Mapping[code])
			rec := &recorder{}
			db.SetTracer(rec)
			check := func(t *testing.T, got thing, name, status string, stars int64, flag bool) {
				t.Helper()
				if got.ID == 0 || got.Name != name || got.Status != status || got.Stars != stars || got.Flag == nil || *got.Flag != flag {
					t.Errorf("got %+v (flag %v), want %s: %s, %d stars, flag %v", got, got.Flag, name, status, stars, flag)
				}
				stored, err := orm.Get[thing](orm.OnPrimary(ctx), db, got.ID)
				if err != nil || stored.Status != got.Status || stored.Stars != got.Stars || stored.Flag == nil || *stored.Flag != *got.Flag {
					t.Errorf("stored %+v, %v; the row says %+v", stored, err, got)
				}
			}

			a := thing{Name: "a"}
			must(t, orm.Insert(ctx, db, &a))
			check(t, a, "a", "active", 3, true)
			b := thing{Name: "b", Status: "done", Stars: 5, Flag: ptr(false)}
			must(t, orm.Insert(ctx, db, &b))
			check(t, b, "b", "done", 5, false)

			rec.take()
			many := []thing{{Name: "c"}, {Name: "d"}, {Name: "e", Status: "x"}, {Name: "f"}}
			must(t, orm.InsertMany(ctx, db, many))
			for i, want := range []struct{ status string }{{"active"}, {"active"}, {"x"}, {"active"}} {
				check(t, many[i], many[i].Name, want.status, 3, true)
				if i > 0 && many[i].ID <= many[i-1].ID {
					t.Errorf("InsertMany ids out of order: %+v", many)
				}
			}
			if db.Dialect().Returning() {
				var inserts int
				for _, e := range rec.events() {
					if strings.HasPrefix(e.SQL, "INSERT") {
						inserts++
					}
				}
				if inserts != 3 {
					t.Errorf("InsertMany of rows shaped 2+1+1 ran %d INSERTs, want 3", inserts)
				}
			}

			// A row with nothing to write but defaults.
			one := tally{}
			must(t, orm.Insert(ctx, db, &one))
			tallies := make([]tally, 3)
			must(t, orm.InsertMany(ctx, db, tallies))
			for _, got := range append(tallies, one) {
				if got.ID == 0 || got.N != 7 {
					t.Errorf("tally %+v, want an id and n 7", got)
				}
			}

			// A key of the row's own: the defaults are read by it.
			c := code{Code: "x"}
			must(t, orm.Insert(ctx, db, &c))
			codes := []code{{Code: "y"}, {Code: "z", Label: "zed"}}
			must(t, orm.InsertMany(ctx, db, codes))
			if c.Label != "none" || codes[0].Label != "none" || codes[1].Label != "zed" {
				t.Errorf("labels %q, %q, %q; want none, none, zed", c.Label, codes[0].Label, codes[1].Label)
			}
		})
	}
}
