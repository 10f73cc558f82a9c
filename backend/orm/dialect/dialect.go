// Package dialect opens an ORM database from a DSN, choosing the dialect by
// its scheme:
//
//	sqlite:covet_data/covet.db
//	postgres://user:pass@127.0.0.1:5432/app?sslmode=disable   (or postgresql://)
//	mysql://user:pass@127.0.0.1:3306/app
//
//	db, err := dialect.Open(ctx, "postgres://127.0.0.1/app", "postgres://replica1/app")
//
// New does the same with the pool settings PostgreSQL and MySQL share:
//
//	db, err := dialect.New(ctx, dialect.Config{DSN: "mysql://app@db1/shop", MaxConns: 32})
package dialect

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/mysql"
	"github.com/covetpy/covet/backend/orm/dialect/postgres"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
)

// Config opens a primary, its read replicas, and their connection pools.
// Zero pool settings keep the dialect's defaults (postgres.Config,
// mysql.Config).
type Config struct {
	// DSN is the primary's.
	DSN string
	// Replicas are read replicas (PostgreSQL and MySQL only), each with the
	// primary's scheme.
	Replicas []string
	// MaxConns bounds each pool: the primary's and each replica's.
	MaxConns int
	// MinConns keeps that many connections of each pool open. PostgreSQL
	// only: database/sql, under MySQL, opens connections on demand and
	// keeps no minimum.
	MinConns int
	// MaxConnLifetime closes a connection that has been open this long,
	// and MaxConnIdleTime one that has been idle this long.
	MaxConnLifetime, MaxConnIdleTime time.Duration
}

// pooled reports whether c sets any pool setting.
func (c Config) pooled() bool {
	return c.MaxConns != 0 || c.MinConns != 0 || c.MaxConnLifetime != 0 || c.MaxConnIdleTime != 0
}

// Open opens the database at dsn with read replicas (PostgreSQL and MySQL
// only; every replica must have the primary's scheme).
func Open(ctx context.Context, dsn string, replicas ...string) (*orm.DB, error) {
	return New(ctx, Config{DSN: dsn, Replicas: replicas})
}

// New opens the database cfg describes. Pool settings apply to PostgreSQL
// and MySQL; SQLite refuses them, because its pools are the sqlite
// package's: one connection takes every write, and it sizes the readers.
func New(ctx context.Context, cfg Config) (*orm.DB, error) {
	scheme, rest, _ := strings.Cut(cfg.DSN, ":")
	for i, r := range cfg.Replicas {
		if rs, _, _ := strings.Cut(r, ":"); rs != scheme && !(isPostgres(rs) && isPostgres(scheme)) {
			return nil, fmt.Errorf("replica %d is %q, not %q like the primary", i, rs, scheme)
		}
	}
	switch {
	case scheme == "sqlite":
		if len(cfg.Replicas) > 0 {
			return nil, errors.New("sqlite has no replicas")
		}
		if cfg.pooled() {
			return nil, errors.New("sqlite takes no pool settings: one connection writes, and the sqlite package sizes the readers")
		}
		return sqlite.New(ctx, sqlite.Config{Path: rest})
	case isPostgres(scheme):
		if cfg.MaxConns > math.MaxInt32 || cfg.MinConns > math.MaxInt32 {
			return nil, fmt.Errorf("postgres: MaxConns %d or MinConns %d is more than %d", cfg.MaxConns, cfg.MinConns, math.MaxInt32)
		}
		return postgres.New(ctx, postgres.Config{DSN: cfg.DSN, Replicas: cfg.Replicas,
			MaxConns: int32(cfg.MaxConns), MinConns: int32(cfg.MinConns),
			MaxConnLifetime: cfg.MaxConnLifetime, MaxConnIdleTime: cfg.MaxConnIdleTime})
	case scheme == "mysql":
		if cfg.MinConns != 0 {
			return nil, fmt.Errorf("mysql: MinConns %d: database/sql keeps no minimum of open connections", cfg.MinConns)
		}
		return mysql.New(ctx, mysql.Config{DSN: cfg.DSN, Replicas: cfg.Replicas,
			MaxOpenConns: cfg.MaxConns, ConnMaxLifetime: cfg.MaxConnLifetime, ConnMaxIdleTime: cfg.MaxConnIdleTime})
	}
	return nil, fmt.Errorf("unsupported database %q: use sqlite:<path>, postgres://… or mysql://…", scheme)
}

func isPostgres(scheme string) bool { return scheme == "postgres" || scheme == "postgresql" }
