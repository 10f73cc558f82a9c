package orm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Tx is a transaction. Queries given a Tx run on its connection; WithTx on a
// Tx nests through a savepoint. A Tx is not safe for concurrent use.
type Tx struct {
	s      session
	depth  int // savepoint nesting depth; 0 for the outer transaction
	closed bool
}

func (tx *Tx) session() *session { return &tx.s }

// TxOption adjusts WithTx.
type TxOption func(*txConfig)

type txConfig struct {
	opts    TxOptions
	retries int
}

// Isolation sets the isolation level (and read-only mode) of the
// transaction. It has no effect on a nested WithTx, which shares the outer
// transaction.
func Isolation(o TxOptions) TxOption { return func(c *txConfig) { c.opts = o } }

// Retry runs fn again, up to n more times, when the transaction fails with
// an error for which SafeToRetry is true (serialization failure, deadlock,
// SQLite busy). fn must then be safe to run more than once. It has no effect
// on a nested WithTx: only the outer transaction can be retried.
func Retry(n int) TxOption { return func(c *txConfig) { c.retries = n } }

// WithTx runs fn in a transaction on h: a new transaction when h is a DB, a
// savepoint inside the transaction when h is a Tx. The transaction commits
// when fn returns nil and rolls back when fn returns an error or panics (the
// panic then continues). Nothing fn wrote survives a rollback.
func WithTx(ctx context.Context, h Handle, fn func(tx *Tx) error, options ...TxOption) error {
	var cfg txConfig
	for _, o := range options {
		o(&cfg)
	}
	if tx, ok := h.(*Tx); ok {
		return tx.nested(ctx, fn)
	}
	db := h.session().db
	for attempt := 0; ; attempt++ {
		err := db.runTx(ctx, cfg.opts, fn)
		if err == nil || attempt >= cfg.retries || !SafeToRetry(err) || ctx.Err() != nil {
			return err
		}
	}
}

func (db *DB) runTx(ctx context.Context, opts TxOptions, fn func(tx *Tx) error) (err error) {
	ptx, err := db.primary.Begin(ctx, opts)
	if err != nil {
		return fmt.Errorf("orm: beginning transaction: %w", db.dialect.Classify(err))
	}
	tx := &Tx{s: session{db: db, tx: ptx, txID: db.txSeq.Add(1)}}
	defer func() {
		if p := recover(); p != nil {
			tx.closed = true
			_ = ptx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.closed = true
		if rbErr := ptx.Rollback(context.WithoutCancel(ctx)); rbErr != nil {
			return errors.Join(err, fmt.Errorf("orm: rolling back: %w", rbErr))
		}
		return err
	}
	tx.closed = true
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("orm: committing: %w", db.dialect.Classify(err))
	}
	return nil
}

// nested runs fn inside a savepoint of tx.
func (tx *Tx) nested(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if tx.closed {
		return errors.New("orm: WithTx on a transaction that has already ended")
	}
	name := "covet_sp_" + strconv.Itoa(tx.depth+1)
	if _, err := tx.s.exec(ctx, &stmt{sql: "SAVEPOINT " + name}); err != nil {
		return fmt.Errorf("orm: savepoint: %w", err)
	}
	inner := &Tx{s: tx.s, depth: tx.depth + 1}
	rollback := func() error {
		_, err := tx.s.exec(context.WithoutCancel(ctx), &stmt{sql: "ROLLBACK TO SAVEPOINT " + name})
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			inner.closed = true
			_ = rollback()
			panic(p)
		}
	}()
	if err := fn(inner); err != nil {
		inner.closed = true
		if rbErr := rollback(); rbErr != nil {
			return errors.Join(err, fmt.Errorf("orm: rolling back to savepoint: %w", rbErr))
		}
		return err
	}
	inner.closed = true
	if _, err := tx.s.exec(ctx, &stmt{sql: "RELEASE SAVEPOINT " + name}); err != nil {
		return fmt.Errorf("orm: releasing savepoint: %w", err)
	}
	return nil
}

// Conn is one connection of a DB's primary held outside any transaction,
// for what belongs to a session rather than to a transaction: PostgreSQL's
// advisory locks, MySQL's GET_LOCK, session variables. Statements given a
// Conn run on its connection, each committed on its own. A Conn is not safe
// for concurrent use.
type Conn struct{ s session }

func (c *Conn) session() *session { return &c.s }

// Raw runs fn with the driver's connection underneath c, for what only the
// driver offers (SQLite's online backup API, say). It fails when the pool
// is not a database/sql one (PostgreSQL's pgx pool).
func (c *Conn) Raw(fn func(driverConn any) error) error {
	r, ok := c.s.conn.(interface{ Raw(func(any) error) error })
	if !ok {
		return fmt.Errorf("orm: Raw: the %s pool's connections are not database/sql ones", c.s.db.dialect.Name())
	}
	return r.Raw(fn)
}

// WithConn runs fn on one connection of db's primary and returns the
// connection to the pool afterwards. fn must leave the session as it found
// it (release its locks, reset its variables): the connection is reused.
func WithConn(ctx context.Context, db *DB, fn func(c *Conn) error) error {
	pc, err := db.primary.Conn(ctx)
	if err != nil {
		return fmt.Errorf("orm: acquiring a connection: %w", db.dialect.Classify(err))
	}
	defer pc.Release()
	return fn(&Conn{s: session{db: db, conn: pc}})
}
