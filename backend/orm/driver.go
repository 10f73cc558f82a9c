package orm

import (
	"context"
	"database/sql"
)

// Dialect is what differs between database servers in the SQL the ORM
// writes. The dialect packages (postgres, sqlite, mysql) implement it.
type Dialect interface {
	// Name is "postgres", "sqlite" or "mysql".
	Name() string
	// AppendIdent appends the quoted identifier.
	AppendIdent(b []byte, ident string) []byte
	// AppendPlaceholder appends the placeholder of the n-th argument (from 1).
	AppendPlaceholder(b []byte, n int) []byte
	// Returning reports whether INSERT … RETURNING is supported.
	Returning() bool
	// MaxParams is the most placeholders one statement may hold.
	MaxParams() int
	// NullsLast reports whether an ascending ORDER BY puts NULLs after
	// every value, and a descending one before (PostgreSQL). Where it does
	// not (SQLite, MySQL), the ORM writes that placement out for nullable
	// columns, so that every dialect sorts, and pages, alike.
	NullsLast() bool
	// Like returns how a LIKE condition is written so that it matches alike
	// on every dialect (see orm.Like): the SQL before the column, between
	// the column and the pattern's placeholder, and after it, and the
	// pattern to bind, which the dialect may translate. fold asks for a
	// case-insensitive match.
	Like(pattern string, fold bool) (pre, mid, post, arg string)
	// AppendUpsert appends the clause that turns an INSERT INTO table into
	// an upsert: ON CONFLICT (…) DO UPDATE SET … or ON DUPLICATE KEY
	// UPDATE …. update lists the columns to overwrite; when it is empty the
	// clause leaves the existing row unchanged. key, when not empty, is the
	// table's auto-increment primary key, whose value the statement must
	// report for the row it inserted or ran into: where the dialect has
	// RETURNING the caller appends RETURNING key, so the clause must make
	// the existing row come back even when there is nothing to update (set
	// a conflict column to its own value rather than DO NOTHING); without
	// RETURNING, it must make the last insert id that row's key.
	AppendUpsert(b []byte, table string, conflict, update []string, key string) []byte
	// ColumnType is the SQL type a column gets when a table is created. For
	// an auto-increment primary key it is the whole definition, PRIMARY KEY
	// included (SQLite needs AUTOINCREMENT after it).
	ColumnType(c *Column) string
	// ColumnTypes returns the query, and its arguments, whose rows are the
	// name and the type of each column of table as the catalogue has them
	// (information_schema.columns, PRAGMA table_info): what EnsureTable
	// compares with ColumnType before it calls a table good.
	ColumnTypes(table string) (query string, args []any)
	// ParseType reads a column type as ColumnType writes it or as
	// ColumnTypes reports it. A type the ORM does not compare (uuid, enum,
	// …) is FamilyOther.
	ParseType(decl string) SQLType
	// Classify wraps a driver error in an *Error with its Kind, or returns
	// err unchanged when it is not a database error.
	Classify(err error) error
	// Explain returns the statement that shows the plan of query, in the
	// format the dialect's tree renderer reads (JSON where the server can).
	Explain(query string, analyze bool) string
}

// AppendOnConflict appends the standard upsert clause that PostgreSQL and
// SQLite share: ON CONFLICT (…) DO UPDATE SET c = EXCLUDED.c, …, or DO
// NOTHING when update is empty. With a key to report and nothing to
// update, it sets the first conflict column to the existing row's value
// instead (DO UPDATE SET c = table.c), a no-op after which RETURNING still
// gives that row. Identifiers are quoted by d.
func AppendOnConflict(d Dialect, b []byte, table string, conflict, update []string, key string) []byte {
	b = append(b, " ON CONFLICT ("...)
	for i, c := range conflict {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.AppendIdent(b, c)
	}
	if len(update) == 0 && key != "" {
		b = append(b, ") DO UPDATE SET "...)
		b = d.AppendIdent(b, conflict[0])
		b = append(b, " = "...)
		b = d.AppendIdent(b, table)
		b = append(b, '.')
		return d.AppendIdent(b, conflict[0])
	}
	if len(update) == 0 {
		return append(b, ") DO NOTHING"...)
	}
	b = append(b, ") DO UPDATE SET "...)
	for i, c := range update {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.AppendIdent(b, c)
		b = append(b, " = EXCLUDED."...)
		b = d.AppendIdent(b, c)
	}
	return b
}

// Pool is a dialect's connection pool, the database's side of a DB. The
// dialect packages provide one; args are already in the driver's shape.
type Pool interface {
	Querier
	// Begin starts a transaction on one connection.
	Begin(ctx context.Context, opts TxOptions) (PoolTx, error)
	// Conn takes one connection out of the pool until it is released.
	Conn(ctx context.Context) (PoolConn, error)
	// Ping checks that the server answers.
	Ping(ctx context.Context) error
	// Stats reports the pool's use.
	Stats() PoolStats
	// Close closes every connection.
	Close() error
}

// PoolTx is a transaction on one of a Pool's connections.
type PoolTx interface {
	Querier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// PoolConn is one connection held out of a Pool, outside any transaction.
type PoolConn interface {
	Querier
	// Release returns the connection to the pool.
	Release()
}

// Querier runs statements.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	Exec(ctx context.Context, query string, args ...any) (Result, error)
}

// Copier is implemented by pools and transactions that have a bulk-load path
// faster than INSERT (PostgreSQL's COPY).
type Copier interface {
	CopyFrom(ctx context.Context, table string, columns []string, rows [][]any) (int64, error)
}

// Rows is a result set being read; database/sql's and pgx's rows satisfy it
// through small adapters.
type Rows interface {
	// Columns names the result columns.
	Columns() ([]string, error)
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Result is what a statement that returns no rows reports.
type Result struct {
	RowsAffected int64
	// LastInsertID is the id the server generated, where the dialect
	// reports one (MySQL, SQLite); 0 otherwise.
	LastInsertID int64
}

// TxOptions chooses a transaction's isolation level and access mode.
type TxOptions struct {
	// Isolation is the level; the zero value is the server's default.
	// SQLite is always serializable and accepts only the default and
	// sql.LevelSerializable.
	Isolation sql.IsolationLevel
	ReadOnly  bool
}

// PoolStats reports a pool's connections.
type PoolStats struct {
	MaxOpen      int   `json:"maxOpen"`
	Open         int   `json:"open"`
	InUse        int   `json:"inUse"`
	Idle         int   `json:"idle"`
	WaitCount    int64 `json:"waitCount"`
	WaitDuration int64 `json:"waitDurationNs"`
}

// SQLPool adapts a database/sql pool, for the dialects whose driver is a
// database/sql driver (SQLite, MySQL).
type SQLPool struct {
	DB *sql.DB
	// BeginOptions turns the options into the driver's, or refuses them;
	// nil passes them on as they are.
	BeginOptions func(TxOptions) (*sql.TxOptions, error)
}

var _ Pool = (*SQLPool)(nil)

func (p *SQLPool) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := p.DB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (p *SQLPool) Exec(ctx context.Context, query string, args ...any) (Result, error) {
	return sqlResult(p.DB.ExecContext(ctx, query, args...))
}

func (p *SQLPool) Begin(ctx context.Context, opts TxOptions) (PoolTx, error) {
	o := &sql.TxOptions{Isolation: opts.Isolation, ReadOnly: opts.ReadOnly}
	if p.BeginOptions != nil {
		var err error
		if o, err = p.BeginOptions(opts); err != nil {
			return nil, err
		}
	}
	tx, err := p.DB.BeginTx(ctx, o)
	if err != nil {
		return nil, err
	}
	return sqlTx{tx}, nil
}

func (p *SQLPool) Conn(ctx context.Context) (PoolConn, error) {
	c, err := p.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return sqlConn{c}, nil
}

func (p *SQLPool) Ping(ctx context.Context) error { return p.DB.PingContext(ctx) }
func (p *SQLPool) Close() error                   { return p.DB.Close() }

func (p *SQLPool) Stats() PoolStats {
	s := p.DB.Stats()
	return PoolStats{MaxOpen: s.MaxOpenConnections, Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle,
		WaitCount: s.WaitCount, WaitDuration: int64(s.WaitDuration)}
}

type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (t sqlTx) Exec(ctx context.Context, query string, args ...any) (Result, error) {
	return sqlResult(t.tx.ExecContext(ctx, query, args...))
}

func (t sqlTx) Commit(context.Context) error   { return t.tx.Commit() }
func (t sqlTx) Rollback(context.Context) error { return t.tx.Rollback() }

type sqlConn struct{ c *sql.Conn }

func (c sqlConn) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := c.c.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (c sqlConn) Exec(ctx context.Context, query string, args ...any) (Result, error) {
	return sqlResult(c.c.ExecContext(ctx, query, args...))
}

func (c sqlConn) Release() { _ = c.c.Close() }

// Raw runs fn with the database/sql driver's connection.
func (c sqlConn) Raw(fn func(driverConn any) error) error { return c.c.Raw(fn) }

func sqlResult(r sql.Result, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	n, _ := r.RowsAffected()
	id, _ := r.LastInsertId()
	return Result{RowsAffected: n, LastInsertID: id}, nil
}
