package orm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config assembles a DB from a dialect and its pools. The dialect packages'
// Open functions fill it in; most programs never build one by hand.
type Config struct {
	Dialect Dialect
	// Primary takes every write and every transaction.
	Primary Pool
	// Replicas take reads outside transactions, in turn; reads go to the
	// primary when there are none or the context asks (OnPrimary).
	Replicas []Pool
	// Tracer, when set, receives an event for every statement; it can be
	// changed later with SetTracer.
	Tracer Tracer
}

// Validate reports the first missing piece of c.
func (c Config) Validate() error {
	switch {
	case c.Dialect == nil:
		return errors.New("orm: Config.Dialect is nil")
	case c.Primary == nil:
		return errors.New("orm: Config.Primary is nil")
	}
	for i, r := range c.Replicas {
		if r == nil {
			return fmt.Errorf("orm: Config.Replicas[%d] is nil", i)
		}
	}
	return nil
}

// DB is a database: a dialect, a primary pool and optional read replicas.
// It is safe for concurrent use; share one per database.
type DB struct {
	self     session // session{db: db}: what a DB runs statements on
	dialect  Dialect
	primary  Pool
	replicas []Pool
	next     atomic.Uint32 // round-robin position among replicas

	tracer atomic.Pointer[tracerBox] // nil when nobody listens
	txSeq  atomic.Uint64             // transaction ids for events

	tables sync.Map // reflect.Type → *mapped; the per-type mapping cache
	sites  sync.Map // program counter → call site ("" inside the ORM); see caller
}

type tracerBox struct{ t Tracer }

// New returns a DB over the pools in cfg.
func New(cfg Config) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db := &DB{dialect: cfg.Dialect, primary: cfg.Primary, replicas: cfg.Replicas}
	db.self = session{db: db}
	db.SetTracer(cfg.Tracer)
	return db, nil
}

// Dialect returns the DB's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

// SetTracer starts sending query events to t; nil stops them.
func (db *DB) SetTracer(t Tracer) {
	if t == nil {
		db.tracer.Store(nil)
		return
	}
	db.tracer.Store(&tracerBox{t})
}

// Ping checks the primary and every replica.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.primary.Ping(ctx); err != nil {
		return fmt.Errorf("pinging primary: %w", err)
	}
	for i, r := range db.replicas {
		if err := r.Ping(ctx); err != nil {
			return fmt.Errorf("pinging replica %d: %w", i, err)
		}
	}
	return nil
}

// Stats reports the primary pool's use, then each replica's.
func (db *DB) Stats() (primary PoolStats, replicas []PoolStats) {
	for _, r := range db.replicas {
		replicas = append(replicas, r.Stats())
	}
	return db.primary.Stats(), replicas
}

// Close closes every pool.
func (db *DB) Close() error {
	errs := []error{db.primary.Close()}
	for _, r := range db.replicas {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// Handle is a DB or a Tx: what queries run on. Only this package implements it.
type Handle interface {
	session() *session
}

var (
	_ Handle = (*DB)(nil)
	_ Handle = (*Tx)(nil)
	_ Handle = (*Conn)(nil)
)

func (db *DB) session() *session { return &db.self }

// session is where one statement runs: the DB, and the transaction or the
// held connection if any.
type session struct {
	db   *DB
	tx   PoolTx   // nil outside a transaction
	conn PoolConn // a Conn's connection; nil otherwise
	txID uint64
}

type primaryKey struct{}

// OnPrimary returns a context whose reads go to the primary, so that a
// request reads its own writes even when replicas lag.
func OnPrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

func (s *session) querier(ctx context.Context, read bool) (Querier, bool) {
	if s.tx != nil {
		return s.tx, false
	}
	if s.conn != nil {
		return s.conn, false
	}
	db := s.db
	if read && len(db.replicas) > 0 && ctx.Value(primaryKey{}) == nil {
		n := db.next.Add(1)
		return db.replicas[int(n)%len(db.replicas)], true
	}
	return db.primary, false
}

// stmt is one statement with its arguments. sensitive lists the indexes of
// arguments whose values are redacted in query events.
type stmt struct {
	sql       string
	args      []any
	sensitive []int
}

// query runs a statement that returns rows; done must be called with the
// number of rows read and the iteration's error once the caller is finished.
func (s *session) query(ctx context.Context, st *stmt, read bool) (Rows, func(rows int64, err error), error) {
	q, replica := s.querier(ctx, read)
	tb := s.db.tracer.Load()
	if tb == nil {
		rows, err := q.Query(ctx, st.sql, st.args...)
		if err != nil {
			return nil, nil, s.db.dialect.Classify(err)
		}
		return rows, noTrace, nil
	}
	start := time.Now()
	rows, err := q.Query(ctx, st.sql, st.args...)
	done := func(n int64, err error) { s.trace(ctx, tb.t, st, start, n, err, replica) }
	if err != nil {
		err = s.db.dialect.Classify(err)
		done(0, err)
		return nil, nil, err
	}
	return rows, done, nil
}

func noTrace(int64, error) {}

// finish ends reading rows: the iteration's own error, else Err, else
// Close's, classified, and reported to the tracer with the rows read.
func (s *session) finish(rows Rows, done func(int64, error), n int64, err error) error {
	if err == nil {
		err = rows.Err()
	}
	if err == nil {
		err = rows.Close()
	}
	if err != nil {
		err = s.db.dialect.Classify(err)
	}
	done(n, err)
	return err
}

// exec runs a statement that returns no rows.
func (s *session) exec(ctx context.Context, st *stmt) (Result, error) {
	q, _ := s.querier(ctx, false)
	tb := s.db.tracer.Load()
	var start time.Time
	if tb != nil {
		start = time.Now()
	}
	res, err := q.Exec(ctx, st.sql, st.args...)
	if err != nil {
		err = s.db.dialect.Classify(err)
	}
	if tb != nil {
		s.trace(ctx, tb.t, st, start, res.RowsAffected, err, false)
	}
	return res, err
}

func (s *session) trace(ctx context.Context, t Tracer, st *stmt, start time.Time, rows int64, err error, replica bool) {
	args := st.args
	if len(st.sensitive) > 0 {
		args = append([]any(nil), args...)
		for _, i := range st.sensitive {
			args[i] = Redacted
		}
	}
	t.TraceQuery(ctx, &QueryEvent{
		SQL: st.sql, Args: args, Start: start, Duration: time.Since(start), Rows: rows, Err: err,
		Dialect: s.db.dialect.Name(), TxID: s.txID, Replica: replica, Caller: s.db.caller(),
	})
}

// Redacted replaces the value of a sensitive column in query events.
const Redacted = "[redacted]"

// ormPrefix is the import path prefix whose frames caller skips: the ORM and
// its dialects. A program's own code, and code built on the ORM, is reported.
const ormPrefix = "github.com/covetpy/covet/backend/orm"

// caller returns file:line of the first frame outside the ORM. What each
// program counter stands for is symbolised once and cached on the DB (a
// program has finitely many call sites), so a traced statement pays for
// runtime.Callers and a few map lookups.
func (db *DB) caller() string {
	var pcs [24]uintptr
	n := runtime.Callers(3, pcs[:])
	for _, pc := range pcs[:n] {
		site, ok := db.sites.Load(pc)
		if !ok {
			site, _ = db.sites.LoadOrStore(pc, siteOf(pc))
		}
		if s := site.(string); s != "" {
			return s
		}
	}
	return ""
}

// siteOf returns file:line of the first logical frame at pc (inlined calls
// expand to several) that is outside the ORM, or "" when all are inside.
func siteOf(pc uintptr) string {
	frames := runtime.CallersFrames([]uintptr{pc})
	for {
		f, more := frames.Next()
		if f.Function != "" && (!inORM(f.Function) || strings.HasSuffix(f.File, "_test.go")) {
			return f.File + ":" + strconv.Itoa(f.Line)
		}
		if !more {
			return ""
		}
	}
}

func inORM(fn string) bool {
	if !strings.HasPrefix(fn, ormPrefix) {
		return false
	}
	rest := fn[len(ormPrefix):]
	// backend/orm.X and backend/orm/dialect/….X, but not backend/ormx.
	return strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "/")
}

// mapped is a struct type's table plus the SQL the ORM derives from it once.
type mapped struct {
	*Table
	selectCols string // quoted column list for SELECT
	byPK       string // SELECT … WHERE pk = $1

	// The UPDATE of every column by key, built once.
	updateCols []*Column // the non-key columns, then the key
	updateSQL  string

	// defaults are the columns with a default, which an insert leaves to
	// the database when a row's value is zero; bit i of an insertShape's
	// omit is defaults[i].
	defaults []*Column
	// whole are the plans of the shapes that leave no default out, without
	// and with the auto-increment key (nil when there is none), built with
	// the mapping: every insert of a model without defaults uses one.
	whole [2]*insertPlan
	plans sync.Map // insertShape → *insertPlan, for the shapes that leave defaults out
}

// Mapping returns the Table of struct type T as h's DB maps it (cached).
func Mapping[T any](h Handle) (*Table, error) {
	m, err := h.session().db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	return m.Table, nil
}

func (db *DB) mapping(typ reflect.Type) (*mapped, error) {
	if m, ok := db.tables.Load(typ); ok {
		return m.(*mapped), nil
	}
	t, err := parseStruct(typ)
	if err != nil {
		return nil, err
	}
	m := db.derive(t)
	actual, _ := db.tables.LoadOrStore(typ, m)
	return actual.(*mapped), nil
}

// derive builds the SQL that depends only on a table.
func (db *DB) derive(t *Table) *mapped {
	d := db.dialect
	var b []byte
	for i, c := range t.Columns {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.AppendIdent(b, c.Name)
	}
	m := &mapped{Table: t, selectCols: string(b)}
	if t.pk != nil {
		q := append([]byte("SELECT "), m.selectCols...)
		q = append(q, " FROM "...)
		q = d.AppendIdent(q, t.Name)
		q = append(q, " WHERE "...)
		q = d.AppendIdent(q, t.pk.Name)
		q = append(q, " = "...)
		q = d.AppendPlaceholder(q, 1)
		m.byPK = string(q)
	}
	for _, c := range t.Columns {
		if c.Default != "" && !(c.PrimaryKey && c.AutoIncrement) {
			m.defaults = append(m.defaults, c)
		}
	}
	m.whole[0] = m.newPlan(d, insertShape{})
	if t.pk != nil && t.pk.AutoIncrement {
		m.whole[1] = m.newPlan(d, insertShape{auto: true})
	}
	if t.pk != nil && len(t.Columns) > 1 {
		b := &builder{d: d}
		b.b = append(b.b, "UPDATE "...)
		b.ident(t.Name)
		b.b = append(b.b, " SET "...)
		for _, c := range t.Columns {
			if c == t.pk {
				continue
			}
			if len(m.updateCols) > 0 {
				b.b = append(b.b, ", "...)
			}
			m.updateCols = append(m.updateCols, c)
			b.ident(c.Name)
			b.b = append(b.b, " = "...)
			b.arg(nil, nil)
		}
		b.b = append(b.b, " WHERE "...)
		b.ident(t.pk.Name)
		b.b = append(b.b, " = "...)
		b.arg(nil, nil)
		m.updateCols = append(m.updateCols, t.pk)
		m.updateSQL = string(b.b)
	}
	return m
}
