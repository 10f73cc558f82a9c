package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/covetpy/covet/backend/orm"
)

// Pool is one server's pgxpool as an orm.Pool. Statements go through pgx
// natively (not database/sql), with pgx's per-connection statement cache,
// and bulk loads through COPY.
type Pool struct{ pool *pgxpool.Pool }

var (
	_ orm.Pool     = (*Pool)(nil)
	_ orm.Copier   = (*Pool)(nil)
	_ orm.PoolTx   = tx{}
	_ orm.PoolConn = conn{}
	_ orm.Copier   = tx{}
	_ orm.Rows     = rows{}
)

// NewPool adapts a pgxpool the caller configured itself (a tracer, TLS, an
// AfterConnect hook), for orm.New. Closing the Pool closes pool.
func NewPool(pool *pgxpool.Pool) *Pool { return &Pool{pool: pool} }

// PGX returns the underlying pool, for what the ORM does not cover
// (LISTEN/NOTIFY, large objects, pgx.Batch).
func (p *Pool) PGX() *pgxpool.Pool { return p.pool }

// Query runs a statement that returns rows.
func (p *Pool) Query(ctx context.Context, query string, args ...any) (orm.Rows, error) {
	r, err := p.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

// Exec runs a statement and reports the rows it affected.
func (p *Pool) Exec(ctx context.Context, query string, args ...any) (orm.Result, error) {
	tag, err := p.pool.Exec(ctx, query, args...)
	return orm.Result{RowsAffected: tag.RowsAffected()}, err
}

// CopyFrom loads rows into table with COPY … FROM STDIN.
func (p *Pool) CopyFrom(ctx context.Context, table string, columns []string, rows [][]any) (int64, error) {
	return p.pool.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
}

// Begin starts a transaction with the isolation level and access mode of
// opts; it refuses the levels PostgreSQL does not have.
func (p *Pool) Begin(ctx context.Context, opts orm.TxOptions) (orm.PoolTx, error) {
	o, err := txOptions(opts)
	if err != nil {
		return nil, err
	}
	t, err := p.pool.BeginTx(ctx, o)
	if err != nil {
		return nil, err
	}
	return tx{t}, nil
}

// txOptions maps database/sql's isolation levels onto PostgreSQL's.
// LevelSnapshot is REPEATABLE READ, which is snapshot isolation in
// PostgreSQL; READ UNCOMMITTED is accepted and behaves as READ COMMITTED.
func txOptions(o orm.TxOptions) (pgx.TxOptions, error) {
	var out pgx.TxOptions
	switch o.Isolation {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted:
		out.IsoLevel = pgx.ReadUncommitted
	case sql.LevelReadCommitted:
		out.IsoLevel = pgx.ReadCommitted
	case sql.LevelRepeatableRead, sql.LevelSnapshot:
		out.IsoLevel = pgx.RepeatableRead
	case sql.LevelSerializable:
		out.IsoLevel = pgx.Serializable
	default:
		return out, fmt.Errorf("postgres: beginning a transaction: isolation level %v is not supported", o.Isolation)
	}
	if o.ReadOnly {
		out.AccessMode = pgx.ReadOnly
	}
	return out, nil
}

// Conn acquires a connection until Release.
func (p *Pool) Conn(ctx context.Context) (orm.PoolConn, error) {
	c, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return conn{c}, nil
}

// Ping acquires a connection and checks that the server answers.
func (p *Pool) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }

// Close closes every connection, waiting for the acquired ones to be
// released. It always returns nil.
func (p *Pool) Close() error {
	p.pool.Close()
	return nil
}

// Stats reports pgxpool's counters. WaitCount and WaitDuration count the
// acquires that had to wait because no connection was idle, like
// database/sql's.
func (p *Pool) Stats() orm.PoolStats {
	s := p.pool.Stat()
	return orm.PoolStats{
		MaxOpen:      int(s.MaxConns()),
		Open:         int(s.TotalConns()),
		InUse:        int(s.AcquiredConns()),
		Idle:         int(s.IdleConns()),
		WaitCount:    s.EmptyAcquireCount(),
		WaitDuration: int64(s.EmptyAcquireWaitTime()),
	}
}

// conn is an acquired pgx connection as an orm.PoolConn.
type conn struct{ c *pgxpool.Conn }

func (c conn) Query(ctx context.Context, query string, args ...any) (orm.Rows, error) {
	r, err := c.c.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (orm.Result, error) {
	tag, err := c.c.Exec(ctx, query, args...)
	return orm.Result{RowsAffected: tag.RowsAffected()}, err
}

func (c conn) Release() { c.c.Release() }

// tx is a pgx transaction as an orm.PoolTx.
type tx struct{ tx pgx.Tx }

func (t tx) Query(ctx context.Context, query string, args ...any) (orm.Rows, error) {
	r, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func (t tx) Exec(ctx context.Context, query string, args ...any) (orm.Result, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	return orm.Result{RowsAffected: tag.RowsAffected()}, err
}

func (t tx) CopyFrom(ctx context.Context, table string, columns []string, rows [][]any) (int64, error) {
	return t.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
}

func (t tx) Commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t tx) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

// rows adapts pgx.Rows, whose Next, Scan and Err it keeps. pgx reports a
// failure found while closing through Err, so Close returns that.
type rows struct{ pgx.Rows }

// Columns names the result's columns, from its field descriptions.
func (r rows) Columns() ([]string, error) {
	fds := r.FieldDescriptions()
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = fd.Name
	}
	return names, nil
}

func (r rows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}
