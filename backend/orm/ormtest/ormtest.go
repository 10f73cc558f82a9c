// Package ormtest gives tests the real servers `make services` provides: a
// private PostgreSQL schema or MySQL/MariaDB database per test, dropped
// when the test ends, and the address of the Redis test server.
//
//	func TestStore(t *testing.T) {
//		dsn := ormtest.PostgresDSN(t, os.Getenv) // postgres://…&search_path=covet_t_…
//		db, err := postgres.New(ctx, postgres.Config{DSN: dsn})
//		…
//	}
//
// The servers come from COVET_TEST_POSTGRES, COVET_TEST_MYSQL and
// COVET_TEST_REDIS (defaults: the local servers `make services` starts). A
// server that does not answer fails the test when CI=true, because CI must
// never skip silently, and skips it otherwise, saying how to start it.
// Backend code reads no environment, so the caller passes its getenv
// (os.Getenv).
package ormtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
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
	DefaultRedis    = "127.0.0.1:6379"
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
		unavailable(t, getenv, "PostgreSQL", redact(base), err)
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
// its DSN as a mysql:// URL without query parameters (the mysql dialect
// adds the ones the ORM relies on); the database is dropped after t.
// COVET_TEST_MYSQL is a mysql:// URL or a go-sql-driver DSN
// (user:pass@tcp(host:port)/db).
func MySQLDSN(t testing.TB, getenv func(string) string) string {
	t.Helper()
	base := getenv("COVET_TEST_MYSQL")
	if base == "" {
		base = DefaultMySQL
	}
	cfg, err := mysqlConfig(base)
	if err != nil {
		t.Fatalf("ormtest: COVET_TEST_MYSQL: %v", err)
	}
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
		unavailable(t, getenv, "MySQL", redact("mysql://"+userinfo(cfg)+cfg.Addr), err)
	}
	t.Cleanup(func() {
		if err := exec("DROP DATABASE " + name); err != nil {
			t.Errorf("ormtest: dropping database %s: %v", name, err)
		}
	})
	return "mysql://" + userinfo(cfg) + cfg.Addr + "/" + name
}

// mysqlConfig reads a mysql:// URL or a go-sql-driver DSN as the driver's
// configuration for a TCP connection with the connect timeout.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	var cfg *mysql.Config
	if strings.HasPrefix(dsn, "mysql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, fmt.Errorf("%s is not a URL", redact(dsn))
		}
		cfg = mysql.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net, cfg.Addr = "tcp", u.Host
		if u.Port() == "" {
			cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
		}
	} else {
		var err error
		if cfg, err = mysql.ParseDSN(dsn); err != nil {
			return nil, fmt.Errorf("%q is neither a mysql:// URL nor a go-sql-driver DSN", redact(dsn))
		}
		if cfg.Net != "tcp" {
			return nil, fmt.Errorf("%s: the test server is reached over tcp, not %s", redact(dsn), cfg.Net)
		}
	}
	cfg.DBName = ""
	cfg.Timeout = connectTimeout
	return cfg, nil
}

// userinfo is the URL's user[:password]@ for cfg.
func userinfo(cfg *mysql.Config) string {
	u := url.User(cfg.User)
	if cfg.Passwd != "" {
		u = url.UserPassword(cfg.User, cfg.Passwd)
	}
	return u.String() + "@"
}

// RedisAddr returns the host:port of the Redis test server after checking
// that it answers PING.
func RedisAddr(t testing.TB, getenv func(string) string) string {
	t.Helper()
	addr := getenv("COVET_TEST_REDIS")
	if addr == "" {
		addr = DefaultRedis
	}
	if err := ping(addr); err != nil {
		unavailable(t, getenv, "Redis", addr, err)
	}
	return addr
}

// ping sends RESP's PING and expects +PONG, within the connect timeout.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, connectTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(connectTimeout)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return fmt.Errorf("sending PING: %w", err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the reply to PING: %w", err)
	}
	if line = strings.TrimRight(line, "\r\n"); line != "+PONG" {
		return fmt.Errorf("PING answered %q, want +PONG", line)
	}
	return nil
}

func privateName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "covet_t_" + hex.EncodeToString(b)
}

// withParam adds key=value to a PostgreSQL DSN, a URL or keyword/value
// pairs.
func withParam(dsn, key, value string) string {
	if !strings.Contains(dsn, "://") {
		return dsn + " " + key + "=" + value
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + key + "=" + url.QueryEscape(value)
}

// unavailable fails t under CI=true and skips it otherwise; addr must not
// carry a password.
func unavailable(t testing.TB, getenv func(string) string, service, addr string, err error) {
	t.Helper()
	if getenv("CI") == "true" {
		t.Fatalf("ormtest: %s at %s is not available: %v (CI=true: run `make services` before the tests)", service, addr, err)
	}
	t.Skipf("ormtest: skipping: %s at %s is not available: %v (`make services` starts it)", service, addr, err)
}

// redact returns a URL DSN with its password replaced; other forms lose
// everything up to the host.
func redact(dsn string) string {
	if !strings.Contains(dsn, "://") {
		if at := strings.LastIndex(dsn, "@"); at >= 0 {
			return "…" + dsn[at:]
		}
		if strings.Contains(dsn, "password") {
			return "(keyword/value DSN)"
		}
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unreadable DSN)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
