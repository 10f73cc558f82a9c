package orm_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/mysql"
	"github.com/covetpy/covet/backend/orm/dialect/postgres"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
)

func openSQLite(t testing.TB) *orm.DB {
	t.Helper()
	db, err := sqlite.New(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "suite.db")})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// unreachable fails under CI (make test must have started the server) and
// skips, loudly, elsewhere.
func unreachable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not reachable: %v (make services starts it)", what, err)
	}
	t.Skipf("%s is not reachable: %v (make services starts it)", what, err)
}

// openPostgres opens a private schema of the test database, dropped at the
// end of the test.
func openPostgres(t testing.TB) *orm.DB {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv("COVET_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unreachable(t, "PostgreSQL at "+postgres.Redact(base), err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "covet_t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	db, err := postgres.New(ctx, postgres.Config{DSN: base + "&search_path=" + schema})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSuiteSQLite(t *testing.T)   { suite(t, openSQLite) }
func TestSuitePostgres(t *testing.T) { suite(t, openPostgres) }

// openMySQL opens a private database on the MariaDB/MySQL test server,
// dropped at the end of the test.
func openMySQL(t testing.TB) *orm.DB {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv("COVET_TEST_MYSQL")
	if base == "" {
		base = "mysql://root@127.0.0.1:3306/test"
	}
	admin, err := mysql.New(ctx, mysql.Config{DSN: base})
	if err != nil {
		unreachable(t, "MySQL at "+mysql.Redact(base), err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "covet_t_" + hex.EncodeToString(b)
	if _, err := orm.Exec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a, err := mysql.New(context.Background(), mysql.Config{DSN: base}); err == nil {
			orm.Exec(context.Background(), a, "DROP DATABASE "+name)
			a.Close()
		}
	})
	u := strings.TrimSuffix(base, "/test")
	db, err := mysql.New(ctx, mysql.Config{DSN: u + "/" + name})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSuiteMySQL(t *testing.T) { suite(t, openMySQL) }
