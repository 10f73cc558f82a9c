// Package ormtest gives tests a private database on the real PostgreSQL and
// MySQL/MariaDB test servers: a fresh schema or database per test, dropped
// when the test ends.
//
//	dsn := ormtest.PostgresDSN(t, os.Getenv) // postgres://…&search_path=covet_t_…
//	db, err := postgres.New(ctx, postgres.Config{DSN: dsn})
//
// The servers come from COVET_TEST_POSTGRES and COVET_TEST_MYSQL (defaults:
// the local servers `make services` starts). A server that does not answer
// fails the test when CI=true, because CI must never skip silently, and
// skips it otherwise, saying how to start it. Backend code reads no
// environment, so the caller passes its getenv (os.Getenv).
package ormtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// Defaults are the servers `make services` provides.
const (
	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultMySQL    = "mysql://root@127.0.0.1:3306/test"
)

// connectTimeout bounds every connection the helpers make.
const connectTimeout = 3 * time.Second

// PostgresDSN creates a schema of its own on the test server and returns a
// DSN whose search_path is that schema; the schema is dropped after t.
func PostgresDSN(t testing.TB, getenv func(string) string) string {
	t.Helper()
	base := getenv("COVET_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgres
	}
	exec := func(ctx context.Context, stmt string) error {
		conn, err := pgx.Connect(ctx, withParam(base, "connect_timeout", "3"))
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, stmt)
		return err
	}
	name := privateName()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := exec(ctx, "CREATE SCHEMA "+name); err != nil {
		unavailable(t, getenv, "PostgreSQL", base, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("ormtest: dropping schema %s: %v", name, err)
		}
	})
	return withParam(base, "search_path", name)
}

// MySQLDSN creates a database of its own on the test server and returns
// its DSN as a mysql:// URL; the database is dropped after t.
func MySQLDSN(t testing.TB, getenv func(string) string) string {
	t.Helper()
	base := getenv("COVET_TEST_MYSQL")
	if base == "" {
		base = DefaultMySQL
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "mysql" {
		t.Fatalf("ormtest: COVET_TEST_MYSQL %q is not a mysql:// URL", base)
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr, cfg.Timeout = "tcp", u.Host, connectTimeout
	exec := func(stmt string) error {
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return err
		}
		db := sql.OpenDB(conn)
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = db.ExecContext(ctx, stmt)
		return err
	}
	name := privateName()
	if err := exec("CREATE DATABASE " + name); err != nil {
		unavailable(t, getenv, "MySQL", base, err)
	}
	t.Cleanup(func() {
		if err := exec("DROP DATABASE " + name); err != nil {
			t.Errorf("ormtest: dropping database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

func privateName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "covet_t_" + hex.EncodeToString(b)
}

func withParam(dsn, key, value string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + key + "=" + url.QueryEscape(value)
}

func unavailable(t testing.TB, getenv func(string) string, what, dsn string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s at %s is not available: %v (make services starts it)", what, redact(dsn), err)
	if getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unreadable DSN)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
