// Package dialect opens an ORM database from a DSN, choosing the dialect by
// its scheme:
//
//	sqlite:covet_data/covet.db
//	postgres://user:pass@127.0.0.1:5432/app?sslmode=disable   (or postgresql://)
//	mysql://user:pass@127.0.0.1:3306/app
//
//	db, err := dialect.Open(ctx, "postgres://127.0.0.1/app", "postgres://replica1/app")
package dialect

import (
	"context"
	"fmt"
	"strings"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/mysql"
	"github.com/covetpy/covet/backend/orm/dialect/postgres"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
)

// Open opens the database at dsn with read replicas (PostgreSQL and MySQL
// only; every replica must have the primary's scheme).
func Open(ctx context.Context, dsn string, replicas ...string) (*orm.DB, error) {
	scheme, rest, _ := strings.Cut(dsn, ":")
	for i, r := range replicas {
		if rs, _, _ := strings.Cut(r, ":"); rs != scheme && !(isPostgres(rs) && isPostgres(scheme)) {
			return nil, fmt.Errorf("replica %d is %q, not %q like the primary", i, rs, scheme)
		}
	}
	switch {
	case scheme == "sqlite":
		if len(replicas) > 0 {
			return nil, fmt.Errorf("sqlite has no replicas")
		}
		return sqlite.New(ctx, sqlite.Config{Path: rest})
	case isPostgres(scheme):
		return postgres.New(ctx, postgres.Config{DSN: dsn, Replicas: replicas})
	case scheme == "mysql":
		return mysql.New(ctx, mysql.Config{DSN: dsn, Replicas: replicas})
	}
	return nil, fmt.Errorf("unsupported database %q: use sqlite:<path>, postgres://… or mysql://…", scheme)
}

func isPostgres(scheme string) bool { return scheme == "postgres" || scheme == "postgresql" }
