package orm

import (
	"context"
	"time"
)

// Tracer receives one event per statement, after it finished (for a query,
// once its rows have been read). Implementations must be safe for
// concurrent use and quick; they must not keep e after returning, but may
// keep its fields. When a DB has no tracer, statements build no event and
// pay no allocation for tracing.
type Tracer interface {
	TraceQuery(ctx context.Context, e *QueryEvent)
}

// QueryEvent describes one executed statement.
type QueryEvent struct {
	// SQL is the statement as sent, with placeholders.
	SQL string
	// Args are the arguments; values of columns marked sensitive are
	// replaced by Redacted.
	Args []any
	// Start is when the statement was sent; Duration runs until its last
	// row was read.
	Start    time.Time
	Duration time.Duration
	// Rows is the number of rows read, or affected for a write.
	Rows int64
	// Err is the statement's error, classified; nil on success.
	Err error
	// Dialect is the dialect's name.
	Dialect string
	// TxID identifies the transaction (0 outside one); ids are unique per DB.
	TxID uint64
	// Replica reports that a read replica served the statement.
	Replica bool
	// Caller is file:line of the code that issued the statement: the first
	// frame outside the ORM.
	Caller string
}

// TracerFunc adapts a function to a Tracer.
type TracerFunc func(ctx context.Context, e *QueryEvent)

func (f TracerFunc) TraceQuery(ctx context.Context, e *QueryEvent) { f(ctx, e) }
