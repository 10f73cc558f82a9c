package orm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unsafe"
)

// Query selects rows of model T. Build it with From and the chained methods,
// then run it with All, First, Count, Exists, Update or Delete. The methods
// change the query they are called on and return it; a Query belongs to one
// goroutine and can run more than once.
type Query[T any] struct {
	h      Handle
	m      *mapped
	err    error
	cols   []string // selected columns and aggregates; nil selects every column
	where  []Cond
	joins  []join
	group  []string
	having []Cond
	order  []orderBy
	after  []any // keyset: values of the order columns of the last row seen
	limit  int   // -1: none
	offset int
	with   []string // relations to eager-load
	lock   bool     // FOR UPDATE
}

type join struct {
	left bool
	rel  *Relation
	to   *mapped
	on   Cond
}

type orderBy struct {
	col  string
	desc bool
}

// From starts a query for model T on h (a *DB or a *Tx).
func From[T any](h Handle) *Query[T] {
	q := &Query[T]{h: h, limit: -1}
	q.m, q.err = h.session().db.mapping(reflect.TypeFor[T]())
	return q
}

// Select limits the columns read (the other fields stay zero). Aggregates
// are allowed with a column or *: "count(*)", "max(posts.id) AS last";
// the functions are count, sum, avg, min and max. Use Scan to read rows of
// aggregates into another struct.
func (q *Query[T]) Select(cols ...string) *Query[T] { q.cols = append(q.cols, cols...); return q }

// Where adds conditions; all of them must hold.
func (q *Query[T]) Where(conds ...Cond) *Query[T] { q.where = append(q.where, conds...); return q }

// Join adds an INNER JOIN along a relation declared on T (its Go field
// name). The joined table's columns are then named "table.column".
func (q *Query[T]) Join(relation string) *Query[T] { return q.addJoin(relation, false) }

// LeftJoin adds a LEFT JOIN along a relation declared on T.
func (q *Query[T]) LeftJoin(relation string) *Query[T] { return q.addJoin(relation, true) }

func (q *Query[T]) addJoin(name string, left bool) *Query[T] {
	if q.err != nil {
		return q
	}
	rel := q.m.Relations[name]
	if rel == nil {
		q.err = fmt.Errorf("orm: %s has no relation %q", q.m.Name, name)
		return q
	}
	if rel.Kind == ManyToMany {
		q.err = fmt.Errorf("orm: Join(%q): joins along many-to-many relations are not supported; use With to load it", name)
		return q
	}
	to, err := q.h.session().db.mapping(rel.target)
	if err != nil {
		q.err = err
		return q
	}
	var on Cond
	if rel.Kind == BelongsTo {
		on = colCmp{to.Name + "." + to.pk.Name, "=", q.m.Name + "." + rel.ForeignKey}
	} else {
		on = colCmp{to.Name + "." + rel.ForeignKey, "=", q.m.Name + "." + q.m.pk.Name}
	}
	q.joins = append(q.joins, join{left: left, rel: rel, to: to, on: on})
	return q
}

// GroupBy groups rows by columns; Having filters groups.
func (q *Query[T]) GroupBy(cols ...string) *Query[T] { q.group = append(q.group, cols...); return q }

// Having adds conditions on groups, usually Expr over aggregates.
func (q *Query[T]) Having(conds ...Cond) *Query[T] { q.having = append(q.having, conds...); return q }

// OrderBy sorts by columns; a leading - sorts that column descending:
// OrderBy("-created_at", "id"). NULL sorts as larger than every value, on
// every dialect: last ascending, first descending. That is PostgreSQL's
// own order; on SQLite and MySQL, whose NULLs come first, a nullable
// column (or one of a LEFT JOINed table) is written "col IS NULL, col",
// which an index on col alone cannot serve.
func (q *Query[T]) OrderBy(cols ...string) *Query[T] {
	for _, c := range cols {
		o := orderBy{col: c}
		if strings.HasPrefix(c, "-") {
			o = orderBy{col: c[1:], desc: true}
		}
		q.order = append(q.order, o)
	}
	return q
}

// After continues a keyset pagination: values are those of the order
// columns in the last row of the previous page, one per OrderBy column; a
// NULL is nil, a nil pointer or an invalid sql.Null. The order should end
// in a unique column (the primary key) so that pages neither skip nor
// repeat rows.
func (q *Query[T]) After(values ...any) *Query[T] { q.after = values; return q }

// Limit caps the rows returned.
func (q *Query[T]) Limit(n int) *Query[T] { q.limit = n; return q }

// Offset skips rows; prefer After for deep pages.
func (q *Query[T]) Offset(n int) *Query[T] { q.offset = n; return q }

// With eager-loads relations of T (Go field names) after the rows are read:
// one batched IN query per relation, never one per row.
func (q *Query[T]) With(relations ...string) *Query[T] {
	q.with = append(q.with, relations...)
	return q
}

// ForUpdate locks the selected rows until the transaction ends (not on
// SQLite, which locks the whole database for a write transaction anyway).
func (q *Query[T]) ForUpdate() *Query[T] { q.lock = true; return q }

// All returns every matching row.
func (q *Query[T]) All(ctx context.Context) ([]T, error) {
	st, cols, err := q.selectStmt()
	if err != nil {
		return nil, err
	}
	hint := 0
	if q.limit > 0 {
		hint = min(q.limit, 1024) // the slice holds the page without growing
	}
	out, err := q.scan(ctx, st, cols, hint)
	if err != nil {
		return nil, err
	}
	if err := q.eager(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// First returns the first matching row, or an error for which IsNotFound
// is true.
func (q *Query[T]) First(ctx context.Context) (T, error) {
	var zero T
	limit := q.limit
	q.limit = 1
	st, cols, err := q.selectStmt()
	q.limit = limit
	if err != nil {
		return zero, err
	}
	out, err := q.scan(ctx, st, cols, 1)
	if err != nil {
		return zero, err
	}
	if len(out) == 0 {
		return zero, notFound(q.m.Name)
	}
	if err := q.eager(ctx, out); err != nil {
		return zero, err
	}
	return out[0], nil
}

// scan reads the rows of st: into structs, or into Records for a table
// defined at run time (FromTable, where T is Record).
func (q *Query[T]) scan(ctx context.Context, st *stmt, cols []*Column, sizeHint int) ([]T, error) {
	if q.m.isDefined() {
		recs, err := q.h.session().scanRecords(ctx, st, cols, !q.lock)
		out, _ := any(recs).([]T)
		return out, err
	}
	return scanAll[T](ctx, q.h.session(), st, cols, !q.lock, sizeHint)
}

// ToSQL returns the SELECT that All would run, in the dialect's syntax,
// with its arguments, without running it.
func (q *Query[T]) ToSQL() (string, []any, error) {
	st, _, err := q.selectStmt()
	if err != nil {
		return "", nil, err
	}
	return st.sql, st.args, nil
}

// Count returns the number of matching rows (ignoring limit and offset);
// for a grouped query (GroupBy or Having), the number of groups.
func (q *Query[T]) Count(ctx context.Context) (int64, error) {
	if q.grouped() {
		return q.scalar(ctx, "SELECT COUNT(*) FROM "+groupsHead, groupsTail)
	}
	return q.scalar(ctx, "SELECT COUNT(*) FROM ", "")
}

// Exists reports whether any row matches; for a grouped query, whether
// any group does.
func (q *Query[T]) Exists(ctx context.Context) (bool, error) {
	if q.grouped() {
		n, err := q.scalar(ctx, "SELECT 1 FROM "+groupsHead, groupsTail+" LIMIT 1")
		return n > 0, err
	}
	n, err := q.scalar(ctx, "SELECT 1 FROM ", " LIMIT 1")
	return n > 0, err
}

// A grouped query's rows are its groups, so Count and Exists read them
// from a subquery: COUNT(*) beside GROUP BY would count each group's rows.
// The subquery selects an aggregate because SQLite takes a query for an
// aggregate one (a HAVING without GROUP BY: the whole table is the group)
// only when its select list has one.
const (
	groupsHead = "(SELECT COUNT(*) FROM "
	groupsTail = ") AS covet_groups"
)

func (q *Query[T]) grouped() bool { return len(q.group) > 0 || len(q.having) > 0 }

// scalar runs head FROM … WHERE … tail and reads one integer.
func (q *Query[T]) scalar(ctx context.Context, head, tail string) (int64, error) {
	if q.err != nil {
		return 0, q.err
	}
	b := q.newBuilder()
	b.b = append(b.b, head...)
	q.from(b)
	q.filters(b)
	b.b = append(b.b, tail...)
	st, err := b.stmt()
	if err != nil {
		return 0, err
	}
	s := q.h.session()
	rows, done, err := s.query(ctx, st, true)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n, read int64
	if rows.Next() {
		read = 1
		err = rows.Scan(&n)
	}
	return n, s.finish(rows, done, read, err)
}

// Update sets columns on every matching row and returns how many changed:
// q.Update(ctx, map[string]any{"active": false}). Joins, order, limit and
// offset are not allowed.
func (q *Query[T]) Update(ctx context.Context, set map[string]any) (int64, error) {
	if q.err != nil {
		return 0, q.err
	}
	if len(set) == 0 {
		return 0, errors.New("orm: Update with nothing to set")
	}
	if err := q.plainWrite("Update"); err != nil {
		return 0, err
	}
	b := q.newBuilder()
	b.b = append(b.b, "UPDATE "...)
	b.ident(q.m.Name)
	b.b = append(b.b, " SET "...)
	keys := sortedKeys(set)
	for i, k := range keys {
		if i > 0 {
			b.b = append(b.b, ", "...)
		}
		col := b.column(k)
		b.b = append(b.b, " = "...)
		b.arg(set[k], col)
	}
	q.filters(b)
	st, err := b.stmt()
	if err != nil {
		return 0, err
	}
	res, err := q.h.session().exec(ctx, st)
	return res.RowsAffected, err
}

// Delete deletes every matching row and returns how many went. A Delete
// without Where is refused; use Where(And()) to delete every row on purpose.
func (q *Query[T]) Delete(ctx context.Context) (int64, error) {
	if q.err != nil {
		return 0, q.err
	}
	if len(q.where) == 0 {
		return 0, errors.New("orm: Delete without Where would delete every row; say Where(orm.And()) if that is meant")
	}
	if err := q.plainWrite("Delete"); err != nil {
		return 0, err
	}
	b := q.newBuilder()
	b.b = append(b.b, "DELETE FROM "...)
	b.ident(q.m.Name)
	q.filters(b)
	st, err := b.stmt()
	if err != nil {
		return 0, err
	}
	res, err := q.h.session().exec(ctx, st)
	return res.RowsAffected, err
}

func (q *Query[T]) plainWrite(op string) error {
	if len(q.joins) > 0 || len(q.order) > 0 || q.limit >= 0 || q.offset > 0 || len(q.group) > 0 || q.after != nil {
		return fmt.Errorf("orm: %s takes only Where conditions (no joins, order, limit, offset, grouping or keyset)", op)
	}
	return nil
}

func (q *Query[T]) newBuilder() *builder {
	d := q.h.session().db.dialect
	b := &builder{d: d, scope: []*Table{q.m.Table}, qualify: len(q.joins) > 0}
	b.b = make([]byte, 0, 128)
	for _, j := range q.joins {
		b.scope = append(b.scope, j.to.Table)
	}
	return b
}

// selectStmt builds the SELECT and returns the model columns it reads, in
// order (nil entries for aggregates, which only Scan reads).
func (q *Query[T]) selectStmt() (*stmt, []*Column, error) {
	if q.err != nil {
		return nil, nil, q.err
	}
	b := q.newBuilder()
	b.b = append(b.b, "SELECT "...)
	cols := q.selectList(b)
	b.b = append(b.b, " FROM "...)
	q.from(b)
	q.filters(b)
	q.tail(b)
	st, err := b.stmt()
	return st, cols, err
}

func (q *Query[T]) selectList(b *builder) []*Column {
	if q.cols == nil {
		if !b.qualify {
			b.b = append(b.b, q.m.selectCols...)
			return q.m.Columns
		}
		for i, c := range q.m.Columns {
			if i > 0 {
				b.b = append(b.b, ", "...)
			}
			b.qualified(q.m.Name, c.Name)
		}
		return q.m.Columns
	}
	cols := make([]*Column, len(q.cols))
	for i, ref := range q.cols {
		if i > 0 {
			b.b = append(b.b, ", "...)
		}
		cols[i] = b.selectItem(ref)
	}
	return cols
}

func (q *Query[T]) from(b *builder) {
	b.ident(q.m.Name)
	for _, j := range q.joins {
		if j.left {
			b.b = append(b.b, " LEFT JOIN "...)
		} else {
			b.b = append(b.b, " JOIN "...)
		}
		b.ident(j.to.Name)
		b.b = append(b.b, " ON "...)
		j.on.build(b)
	}
}

// filters writes WHERE (conditions and keyset), GROUP BY and HAVING.
func (q *Query[T]) filters(b *builder) {
	conds := q.where
	if q.after != nil {
		conds = append(conds[:len(conds):len(conds)], q.keyset(b))
	}
	b.conds(" WHERE ", conds)
	if len(q.group) > 0 {
		b.b = append(b.b, " GROUP BY "...)
		for i, g := range q.group {
			if i > 0 {
				b.b = append(b.b, ", "...)
			}
			b.column(g)
		}
	}
	b.conds(" HAVING ", q.having)
}

// keyset turns After into "the rows after the cursor's" in the order tail
// writes: (a > x) OR (a = x AND b > y) …, honouring each column's direction
// and NULL's place after every value. So ascending, a > x becomes
// (a > x OR a IS NULL) for a nullable column, and nothing follows a NULL;
// descending, a NULL is followed by every value (a IS NOT NULL), and a < x
// already leaves the NULLs out. Ties on a NULL are a IS NULL.
func (q *Query[T]) keyset(b *builder) Cond {
	if len(q.after) != len(q.order) {
		return errCond{fmt.Errorf("orm: After has %d values for %d OrderBy columns", len(q.after), len(q.order))}
	}
	var ors []Cond
	for i, o := range q.order {
		ands := make([]Cond, 0, i+1)
		for j := 0; j < i; j++ {
			if isNullValue(q.after[j]) {
				ands = append(ands, IsNull(q.order[j].col))
			} else {
				ands = append(ands, Eq(q.order[j].col, q.after[j]))
			}
		}
		v := q.after[i]
		switch null := isNullValue(v); {
		case null && o.desc:
			ands = append(ands, NotNull(o.col))
		case null:
			continue // nothing sorts after NULL
		case o.desc:
			ands = append(ands, cmp{o.col, "<", v})
		case q.nullable(b, o.col):
			ands = append(ands, Or(cmp{o.col, ">", v}, IsNull(o.col)))
		default:
			ands = append(ands, cmp{o.col, ">", v})
		}
		ors = append(ors, And(ands...))
	}
	return Or(ors...)
}

// nullable reports whether column ref can hold NULL in this query's rows:
// a nullable column, or any column of a LEFT JOINed table.
func (q *Query[T]) nullable(b *builder, ref string) bool {
	t, c := b.lookup(ref)
	if c == nil {
		return false // b.err names the column
	}
	if c.Nullable {
		return true
	}
	for _, j := range q.joins {
		if j.left && j.to.Table == t {
			return true
		}
	}
	return false
}

// isNullValue reports whether v stands for SQL NULL: nil, a nil pointer, or a
// driver.Valuer (sql.Null[T]) whose value is nil.
func isNullValue(v any) bool { return normKey(v) == nil }

// maxLimit stands for "no limit" where OFFSET needs a LIMIT (SQLite, MySQL).
const maxLimit = "9223372036854775807"

func (q *Query[T]) tail(b *builder) {
	if len(q.order) > 0 {
		b.b = append(b.b, " ORDER BY "...)
		for i, o := range q.order {
			if i > 0 {
				b.b = append(b.b, ", "...)
			}
			if !b.d.NullsLast() && q.nullable(b, o.col) {
				// col IS NULL is false for values and true for NULL, so it
				// puts NULLs after them (before them descending).
				b.column(o.col)
				b.b = append(b.b, " IS NULL"...)
				if o.desc {
					b.b = append(b.b, " DESC"...)
				}
				b.b = append(b.b, ", "...)
			}
			b.column(o.col)
			if o.desc {
				b.b = append(b.b, " DESC"...)
			}
		}
	}
	if q.limit >= 0 {
		b.b = append(b.b, " LIMIT "...)
		b.b = strconv.AppendInt(b.b, int64(q.limit), 10)
	} else if q.offset > 0 {
		b.b = append(b.b, " LIMIT "+maxLimit...)
	}
	if q.offset > 0 {
		b.b = append(b.b, " OFFSET "...)
		b.b = strconv.AppendInt(b.b, int64(q.offset), 10)
	}
	if q.lock && b.d.Name() != "sqlite" {
		b.b = append(b.b, " FOR UPDATE"...)
	}
}

// buildSub writes q as a subquery.
func (q *Query[T]) buildSub(b *builder) {
	if q.err != nil {
		b.fail(q.err)
		return
	}
	b.scope = append([]*Table{q.m.Table}, b.scope...)
	for _, j := range q.joins {
		b.scope = append(b.scope, j.to.Table)
	}
	b.qualify = true
	b.b = append(b.b, "SELECT "...)
	if q.cols == nil {
		b.b = append(b.b, '*')
	} else {
		q.selectList(b)
	}
	b.b = append(b.b, " FROM "...)
	q.from(b)
	q.filters(b)
	q.tail(b)
}

// aggregates allowed in Select. Read only.
var aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true}

// selectItem writes a Select entry: a column, or an aggregate of a column or
// *, with an optional alias. It returns the column for a plain column.
func (b *builder) selectItem(ref string) *Column {
	item, alias, hasAlias := strings.Cut(ref, " AS ")
	item = strings.TrimSpace(item)
	if open := strings.IndexByte(item, '('); open > 0 && strings.HasSuffix(item, ")") {
		fn := strings.ToLower(item[:open])
		arg := strings.TrimSpace(item[open+1 : len(item)-1])
		if !aggregates[fn] {
			b.fail(fmt.Errorf("orm: Select(%q): %s is not one of count, sum, avg, min, max", ref, fn))
			return nil
		}
		b.b = append(b.b, strings.ToUpper(fn)...)
		b.b = append(b.b, '(')
		if arg == "*" && fn == "count" {
			b.b = append(b.b, '*')
		} else {
			b.column(arg)
		}
		b.b = append(b.b, ')')
		if !hasAlias {
			alias = fn
		}
		b.b = append(b.b, " AS "...)
		if err := checkIdent(strings.TrimSpace(alias)); err != nil {
			b.fail(fmt.Errorf("orm: Select(%q): alias: %w", ref, err))
			return nil
		}
		b.ident(strings.TrimSpace(alias))
		return nil
	}
	c := b.column(item)
	if hasAlias {
		if err := checkIdent(strings.TrimSpace(alias)); err != nil {
			b.fail(fmt.Errorf("orm: Select(%q): alias: %w", ref, err))
			return nil
		}
		b.b = append(b.b, " AS "...)
		b.ident(strings.TrimSpace(alias))
	}
	return c
}

// scanAll runs st and scans each row into a new T, reading the given
// columns. It does no reflection per row: each column knows its offset.
func scanAll[T any](ctx context.Context, s *session, st *stmt, cols []*Column, read bool, sizeHint int) ([]T, error) {
	out := make([]T, 0, sizeHint)
	_, err := s.scanRows(ctx, st, cols, nil, read, func() unsafe.Pointer {
		var zero T
		out = append(out, zero)
		return unsafe.Pointer(&out[len(out)-1])
	}, nil)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanRows runs st and scans each row into the struct that next returns,
// column by column, then into extra; after each row, got (when not nil)
// sees the row. It returns the number of rows read.
func (s *session) scanRows(ctx context.Context, st *stmt, cols []*Column, extra []any, read bool, next func() unsafe.Pointer, got func(unsafe.Pointer)) (int64, error) {
	for i, c := range cols {
		if c == nil {
			return 0, fmt.Errorf("orm: selected item %d is an aggregate; read aggregates with orm.Scan", i+1)
		}
	}
	rows, done, err := s.query(ctx, st, read)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	dest := make([]any, len(cols)+len(extra))
	copy(dest[len(cols):], extra)
	var n int64
	for rows.Next() {
		base := next()
		for i, c := range cols {
			dest[i] = c.ptr(base)
		}
		if err = rows.Scan(dest...); err != nil {
			err = fmt.Errorf("orm: scanning %s: %w", st.sql, err)
			break
		}
		n++
		if got != nil {
			got(base)
		}
	}
	err = s.finish(rows, done, n, err)
	return n, err
}

// Scan runs q and reads its rows into R by column name (or alias), for
// selections that do not fit the model: aggregates, grouped rows, a subset
// of columns. Every selected item must match a field of R.
func Scan[R, T any](ctx context.Context, q *Query[T]) ([]R, error) {
	if q.err != nil {
		return nil, q.err
	}
	s := q.h.session()
	rm, err := s.db.mapping(reflect.TypeFor[R]())
	if err != nil {
		return nil, err
	}
	st, _, err := q.selectStmt()
	if err != nil {
		return nil, err
	}
	cols := make([]*Column, 0, len(q.cols))
	names := q.cols
	if names == nil {
		names = q.m.ColumnNames()
	}
	for _, ref := range names {
		name := resultName(ref)
		c := rm.Column(name)
		if c == nil {
			return nil, fmt.Errorf("orm: Scan: %v has no field for selected %q (column %q)", rm.goType, ref, name)
		}
		cols = append(cols, c)
	}
	return scanAll[R](ctx, s, st, cols, !q.lock, 0)
}

// resultName is the column name a Select item comes back as.
func resultName(ref string) string {
	item, alias, hasAlias := strings.Cut(ref, " AS ")
	if hasAlias {
		return strings.TrimSpace(alias)
	}
	item = strings.TrimSpace(item)
	if open := strings.IndexByte(item, '('); open > 0 {
		return strings.ToLower(item[:open])
	}
	_, col := splitRef(item)
	return col
}
