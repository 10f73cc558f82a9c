package orm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
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

func TestSuiteSQLite(t *testing.T)   { suite(t, openSQLite) }
func TestSuitePostgres(t *testing.T) { suite(t, openPostgres) }

func TestSuiteMySQL(t *testing.T) { suite(t, openMySQL) }

// TestEnsureTableInTransaction: creating a missing table inside a
// transaction works on every dialect (on PostgreSQL the probe for the
// missing table must not abort the transaction).
func TestEnsureTableInTransaction(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *orm.DB{"sqlite": openSQLite, "postgres": openPostgres, "mysql": openMySQL} {
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
	for name, open := range map[string]func(testing.TB) *orm.DB{"sqlite": openSQLite, "postgres": openPostgres, "mysql": openMySQL} {
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
	for name, open := range map[string]func(testing.TB) *orm.DB{"sqlite": openSQLite, "postgres": openPostgres, "mysql": openMySQL} {
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
