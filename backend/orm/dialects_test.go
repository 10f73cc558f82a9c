package orm_test

import (
	"context"
	"os"
	"path/filepath"
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
