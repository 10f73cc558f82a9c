// Package mysql is the ORM's MySQL 8 and MariaDB 10.11 dialect, through
// go-sql-driver/mysql and database/sql: identifiers in backticks, real
// server-side placeholders (values are never interpolated into the SQL),
// times in UTC, strict SQL mode, and the servers' errors classified into
// orm kinds.
//
//	db, err := mysql.New(ctx, mysql.Config{
//		DSN:      "mysql://app:secret@db1:3306/shop",
//		Replicas: []string{"mysql://app:secret@db2:3306/shop"},
//	})
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	err = orm.Insert(ctx, db, &user) // user.ID comes back from the server
//
// A DSN is a URL (mysql://user:pass@host:port/db?param=value, the form
// covet.json uses) or the driver's own form
// (user:pass@tcp(host:port)/db?param=value); see ParseDSN for what every
// connection is given regardless.
//
// MySQL has no INSERT … RETURNING: the ORM takes a generated key from the
// last insert id, and InsertMany writes rows with generated keys one at a
// time. MariaDB 10.5 and newer have it, and New detects them. Reads outside
// transactions go to the replicas in turn; transactions and writes go to
// the primary.
package mysql

import (
	"cmp"
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/covetpy/covet/backend/orm"
)

// Pool defaults, below MySQL's default wait_timeout (8 hours) and any
// sensible proxy idle timeout.
const (
	DefaultMaxOpenConns    = 16
	DefaultConnMaxLifetime = 30 * time.Minute
	DefaultConnMaxIdleTime = 5 * time.Minute
)

// Config opens a primary and its read replicas.
type Config struct {
	// DSN is the primary's, as a mysql:// URL or a go-sql-driver DSN.
	DSN string
	// Replicas are the read replicas' DSNs, in the same forms.
	Replicas []string
	// MaxOpenConns bounds each pool (default 16); MaxIdleConns is how many
	// of those stay open when idle (default: MaxOpenConns).
	MaxOpenConns, MaxIdleConns int
	// ConnMaxLifetime and ConnMaxIdleTime recycle connections (default
	// 30 minutes and 5 minutes).
	ConnMaxLifetime, ConnMaxIdleTime time.Duration
	// Tracer receives the query events; see orm.Tracer.
	Tracer orm.Tracer
}

// Validate reports the first invalid field by name. It parses every DSN,
// so an error here never shows a password.
func (c Config) Validate() error {
	if c.DSN == "" {
		return errors.New("mysql: Config.DSN is empty")
	}
	if _, err := parseDSN(c.DSN); err != nil {
		return fmt.Errorf("mysql: Config.DSN: %w", err)
	}
	for i, r := range c.Replicas {
		if r == "" {
			return fmt.Errorf("mysql: Config.Replicas[%d] is empty", i)
		}
		if _, err := parseDSN(r); err != nil {
			return fmt.Errorf("mysql: Config.Replicas[%d]: %w", i, err)
		}
	}
	switch {
	case c.MaxOpenConns < 0:
		return fmt.Errorf("mysql: Config.MaxOpenConns is %d, want 0 (default %d) or more", c.MaxOpenConns, DefaultMaxOpenConns)
	case c.MaxIdleConns < 0:
		return fmt.Errorf("mysql: Config.MaxIdleConns is %d, want 0 (default) or more", c.MaxIdleConns)
	case c.MaxOpenConns > 0 && c.MaxIdleConns > c.MaxOpenConns:
		return fmt.Errorf("mysql: Config.MaxIdleConns (%d) is more than Config.MaxOpenConns (%d)", c.MaxIdleConns, c.MaxOpenConns)
	case c.ConnMaxLifetime < 0:
		return fmt.Errorf("mysql: Config.ConnMaxLifetime is %v, want 0 (default %v) or more", c.ConnMaxLifetime, DefaultConnMaxLifetime)
	case c.ConnMaxIdleTime < 0:
		return fmt.Errorf("mysql: Config.ConnMaxIdleTime is %v, want 0 (default %v) or more", c.ConnMaxIdleTime, DefaultConnMaxIdleTime)
	}
	return nil
}

// New connects to the primary and every replica, checks that each answers
// (within the connect timeout, 5s by default), and returns the ORM's DB.
// On error nothing stays open.
func New(ctx context.Context, cfg Config) (*orm.DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var opened []*sql.DB
	closeAll := func() {
		for _, db := range opened {
			db.Close()
		}
	}
	primary, err := openPool(ctx, cfg, "Config.DSN", cfg.DSN)
	if err != nil {
		return nil, err
	}
	opened = append(opened, primary)
	var replicas []orm.Pool
	for i, dsn := range cfg.Replicas {
		r, err := openPool(ctx, cfg, fmt.Sprintf("Config.Replicas[%d]", i), dsn)
		if err != nil {
			closeAll()
			return nil, err
		}
		opened = append(opened, r)
		replicas = append(replicas, pool{&orm.SQLPool{DB: r, BeginOptions: txOptions}})
	}
	d, err := detect(ctx, primary)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("mysql: reading the server version of %s: %w", Redact(cfg.DSN), err)
	}
	db, err := orm.New(orm.Config{
		Dialect:  d,
		Primary:  pool{&orm.SQLPool{DB: primary, BeginOptions: txOptions}},
		Replicas: replicas,
		Tracer:   cfg.Tracer,
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	return db, nil
}

// openPool opens one database/sql pool with cfg's limits and pings it.
// field names the DSN's Config field for errors.
func openPool(ctx context.Context, cfg Config, field, dsn string) (*sql.DB, error) {
	dc, err := parseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql: %s: %w", field, err)
	}
	conn, err := driver.NewConnector(dc)
	if err != nil {
		return nil, fmt.Errorf("mysql: %s %s: %v", field, Redact(dsn), scrub(err, dc.Passwd))
	}
	db := sql.OpenDB(conn)
	open := cmp.Or(cfg.MaxOpenConns, DefaultMaxOpenConns)
	db.SetMaxOpenConns(open)
	db.SetMaxIdleConns(cmp.Or(cfg.MaxIdleConns, open))
	db.SetConnMaxLifetime(cmp.Or(cfg.ConnMaxLifetime, DefaultConnMaxLifetime))
	db.SetConnMaxIdleTime(cmp.Or(cfg.ConnMaxIdleTime, DefaultConnMaxIdleTime))
	pctx, cancel := context.WithTimeout(ctx, dc.Timeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql: connecting to %s (%s): %v", Redact(dsn), field, scrub(err, dc.Passwd))
	}
	return db, nil
}

// detect returns the dialect for the server behind db.
func detect(ctx context.Context, db *sql.DB) (Dialect, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultConnectTimeout)
	defer cancel()
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return Dialect{}, err
	}
	return Dialect{returning: mariaDBWithReturning(version)}, nil
}

// mariaDBWithReturning reads a VERSION() such as "10.11.6-MariaDB-0+deb12u1"
// and reports MariaDB 10.5 or newer.
func mariaDBWithReturning(version string) bool {
	if !strings.Contains(version, "MariaDB") {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 10 || major == 10 && minor >= 5
}

// txOptions passes on the isolation levels InnoDB has and refuses the
// others, rather than let the server pick a level the caller did not ask
// for.
func txOptions(o orm.TxOptions) (*sql.TxOptions, error) {
	switch o.Isolation {
	case sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead, sql.LevelSerializable:
		return &sql.TxOptions{Isolation: o.Isolation, ReadOnly: o.ReadOnly}, nil
	}
	return nil, fmt.Errorf("mysql: isolation level %v is not supported (want read uncommitted, read committed, repeatable read or serializable)", o.Isolation)
}

// pool is orm.SQLPool whose read-only transactions explain a refused write.
type pool struct{ *orm.SQLPool }

var _ orm.Pool = pool{}

func (p pool) Begin(ctx context.Context, opts orm.TxOptions) (orm.PoolTx, error) {
	tx, err := p.SQLPool.Begin(ctx, opts)
	if err != nil || !opts.ReadOnly {
		return tx, err
	}
	return readOnlyTx{tx}, nil
}

// readOnlyTx is a transaction started READ ONLY. A write there fails with
// error 1792, which the driver, because ParseDSN sets RejectReadOnly, takes
// for a primary demoted to read-only: it drops the connection and returns
// driver.ErrBadConn ("driver: bad connection"). readOnlyTx says what
// probably happened instead.
type readOnlyTx struct{ orm.PoolTx }

func (t readOnlyTx) Query(ctx context.Context, query string, args ...any) (orm.Rows, error) {
	rows, err := t.PoolTx.Query(ctx, query, args...)
	return rows, explainReadOnly(err)
}

func (t readOnlyTx) Exec(ctx context.Context, query string, args ...any) (orm.Result, error) {
	res, err := t.PoolTx.Exec(ctx, query, args...)
	return res, explainReadOnly(err)
}

func explainReadOnly(err error) error {
	if errors.Is(err, sqldriver.ErrBadConn) {
		return fmt.Errorf("mysql: the statement wrote in a read-only transaction (or the connection broke), and the connection was closed: %w", err)
	}
	return err
}
