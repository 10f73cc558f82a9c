package orm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// Get reads the row of T whose primary key is id, or returns an error for
// which IsNotFound is true.
func Get[T any](ctx context.Context, h Handle, id any) (T, error) {
	var zero T
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return zero, err
	}
	if m.pk == nil {
		return zero, fmt.Errorf("orm: Get: %s has no primary key", m.Name)
	}
	st := &stmt{sql: m.byPK, args: []any{id}}
	if m.pk.Sensitive {
		st.sensitive = []int{0}
	}
	out, err := scanAll[T](ctx, s, st, m.Columns, true, 1)
	if err != nil {
		return zero, err
	}
	if len(out) == 0 {
		return zero, notFound(m.Name)
	}
	return out[0], nil
}

// Insert writes row as a new row of its table. An auto-increment primary
// key that is zero is left to the database and set on row afterwards
// (through RETURNING, or the driver's last insert id on MySQL). So is a
// column with a default (tag option default=…) whose value in row is the
// zero value: the database fills it in and Insert reads it back into row
// (through RETURNING, or on MySQL a SELECT by the row's key).
func Insert[T any](ctx context.Context, h Handle, row *T) error {
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return err
	}
	base := unsafe.Pointer(row)
	return insertPlanned(ctx, s, m, m.plan(s.db.dialect, m.shapeOf(base)), base)
}

// sensitiveArgs lists the positions of sensitive columns among cols, for
// statements whose arguments are the columns in order.
func sensitiveArgs(cols []*Column) []int {
	var out []int
	for i, c := range cols {
		if c.Sensitive {
			out = append(out, i)
		}
	}
	return out
}

// insertReturning runs an INSERT … RETURNING pk and stores the key.
func insertReturning(ctx context.Context, s *session, st *stmt, pk *Column, base unsafe.Pointer) error {
	rows, done, err := s.query(ctx, st, false)
	if err != nil {
		return err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		n = 1
		err = rows.Scan(pk.ptr(base))
	}
	err = s.finish(rows, done, n, err)
	if err == nil && n == 0 {
		err = errors.New("orm: INSERT … RETURNING returned no row")
	}
	return err
}

// insertPlanned inserts the row at base by plan p (its shape's) and reads
// back what the database filled in.
func insertPlanned(ctx context.Context, s *session, m *mapped, p *insertPlan, base unsafe.Pointer) error {
	st := &stmt{sql: p.sql, args: rowValues(p.cols, base), sensitive: sensitiveArgs(p.cols)}
	one := func() unsafe.Pointer { return base }
	if len(p.returned) > 0 && s.db.dialect.Returning() {
		n, err := s.scanRows(ctx, st, p.returned, nil, false, one, nil)
		if err == nil && n != 1 {
			err = fmt.Errorf("orm: inserting into %s: RETURNING gave %d rows", m.Name, n)
		}
		return err
	}
	res, err := s.exec(ctx, st)
	if err != nil {
		return err
	}
	if p.auto {
		setInt(m.pk, base, res.LastInsertID)
	}
	if p.readBack == "" {
		return nil
	}
	byKey := &stmt{sql: p.readBack, args: []any{m.pk.value(base)}}
	if m.pk.Sensitive {
		byKey.sensitive = []int{0}
	}
	n, err := s.scanRows(OnPrimary(ctx), byKey, p.defaulted, nil, true, one, nil)
	if err == nil && n != 1 {
		err = fmt.Errorf("orm: inserting into %s: reading the defaults back found %d rows", m.Name, n)
	}
	return err
}

// insertShape is what an INSERT of one row leaves to the database: the
// auto-increment key when it is zero, and each column with a default whose
// value is zero (bit i of omit for mapped.defaults[i]).
type insertShape struct {
	auto bool
	omit uint64
}

// shapeOf returns the shape of the row at base.
func (m *mapped) shapeOf(base unsafe.Pointer) insertShape {
	var sh insertShape
	sh.auto = m.pk != nil && m.pk.AutoIncrement && isZero(m.pk, base)
	for i, c := range m.defaults {
		if isZero(c, base) {
			sh.omit |= 1 << i
		}
	}
	return sh
}

// insertPlan is how rows of one shape are inserted and what is read back.
type insertPlan struct {
	auto bool      // the auto-increment key is left out
	cols []*Column // the columns written, in table order
	// inline is the first of defaulted when cols would be empty: it is
	// written as its default's SQL, since a row must write a column.
	inline *Column
	// defaulted are the columns with a default the rows leave out, and
	// returned what is read back: the key when auto, then defaulted.
	defaulted, returned []*Column
	// sql is the one-row INSERT, with RETURNING returned where the dialect
	// has it; without, readBack selects defaulted by key (empty when there
	// is nothing to read or no key to read it by).
	sql, readBack string
	multi         sync.Map // multiKey → multi-row INSERT; see multiSQL
}

// plan returns the insert plan of shape sh in dialect d (the DB's, which
// the plans are cached for), building it on first use.
func (m *mapped) plan(d Dialect, sh insertShape) *insertPlan {
	if sh.omit == 0 {
		if sh.auto {
			return m.whole[1]
		}
		return m.whole[0]
	}
	if p, ok := m.plans.Load(sh); ok {
		return p.(*insertPlan)
	}
	p, _ := m.plans.LoadOrStore(sh, m.newPlan(d, sh))
	return p.(*insertPlan)
}

// newPlan builds the plan of shape sh in dialect d.
func (m *mapped) newPlan(d Dialect, sh insertShape) *insertPlan {
	p := &insertPlan{auto: sh.auto}
	for _, c := range m.Columns {
		i := slices.Index(m.defaults, c)
		switch {
		case sh.auto && c == m.pk:
			p.returned = append(p.returned, c)
		case i >= 0 && sh.omit&(1<<i) != 0:
			p.defaulted = append(p.defaulted, c)
		default:
			p.cols = append(p.cols, c)
		}
	}
	p.returned = append(p.returned, p.defaulted...)
	if len(p.cols) == 0 && len(p.defaulted) > 0 {
		p.inline = p.defaulted[0]
	}
	p.sql = p.multiSQL(d, m.Table, 1, d.Returning() && len(p.returned) > 0)
	if !d.Returning() && len(p.defaulted) > 0 && m.pk != nil && !slices.Contains(p.defaulted, m.pk) {
		b := &builder{d: d}
		b.b = append(b.b, "SELECT "...)
		b.names(p.defaulted)
		b.b = append(b.b, " FROM "...)
		b.ident(m.Name)
		b.b = append(b.b, " WHERE "...)
		b.ident(m.pk.Name)
		b.b = append(b.b, " = "...)
		b.arg(nil, nil)
		p.readBack = string(b.b)
	}
	return p
}

type multiKey struct {
	rows      int
	returning bool
}

// multiSQL returns the plan's INSERT INTO t (cols) VALUES (…) × n, with
// RETURNING its returned columns when returning is set; built once per
// number of rows.
func (p *insertPlan) multiSQL(d Dialect, t *Table, n int, returning bool) string {
	key := multiKey{n, returning}
	if sql, ok := p.multi.Load(key); ok {
		return sql.(string)
	}
	b := &builder{d: d}
	writeInsert(b, t, p.cols, p.inline, slices.Repeat([][]any{make([]any, len(p.cols))}, n))
	if returning {
		b.b = append(b.b, " RETURNING "...)
		b.names(p.returned)
	}
	sql := string(b.b)
	p.multi.Store(key, sql)
	return sql
}

// insertColumns lists the columns an INSERT of the row at base writes:
// all but an auto-increment key that is still zero.
func insertColumns(t *Table, base unsafe.Pointer) []*Column {
	pk := t.pk
	if pk == nil || !pk.AutoIncrement || !isZero(pk, base) {
		return t.Columns
	}
	return slices.DeleteFunc(slices.Clone(t.Columns), func(c *Column) bool { return c == pk })
}

func isZero(c *Column, base unsafe.Pointer) bool {
	return reflect.NewAt(c.Type, unsafe.Add(base, c.offset)).Elem().IsZero()
}

func setInt(c *Column, base unsafe.Pointer, v int64) {
	f := reflect.NewAt(c.Type, unsafe.Add(base, c.offset)).Elem()
	if f.CanInt() {
		f.SetInt(v)
	} else {
		f.SetUint(uint64(v))
	}
}

func rowValues(cols []*Column, base unsafe.Pointer) []any {
	vals := make([]any, len(cols))
	for i, c := range cols {
		vals[i] = c.value(base)
	}
	return vals
}

// writeInsert writes INSERT INTO t (cols) VALUES (…), (…). inline, when
// not nil, is one more column, written in every row as its default's SQL:
// a row must write a column, and no syntax for "every column's default"
// is common to the dialects.
func writeInsert(b *builder, t *Table, cols []*Column, inline *Column, rows [][]any) {
	b.b = append(b.b, "INSERT INTO "...)
	b.ident(t.Name)
	b.b = append(b.b, " ("...)
	b.names(cols)
	if inline != nil {
		b.ident(inline.Name) // cols is empty
	}
	b.b = append(b.b, ") VALUES "...)
	for r, vals := range rows {
		if r > 0 {
			b.b = append(b.b, ", "...)
		}
		b.b = append(b.b, '(')
		for i, v := range vals {
			if i > 0 {
				b.b = append(b.b, ", "...)
			}
			b.arg(v, cols[i])
		}
		if inline != nil {
			b.b = append(b.b, inline.Default...)
		}
		b.b = append(b.b, ')')
	}
}

// InsertMany inserts rows with multi-row INSERTs, as few as the dialect's
// parameter limit allows, and sets auto-increment keys on the rows. Like
// Insert, it leaves a column with a default to the database in the rows
// where its value is zero and reads the stored values back; consecutive
// rows that leave out the same columns share a statement. Run it in a
// transaction (WithTx) when all rows must land or none.
func InsertMany[T any](ctx context.Context, h Handle, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return err
	}
	if len(m.defaults) == 0 {
		// Every row is written like the first.
		return insertRun(ctx, s, m, m.plan(s.db.dialect, m.shapeOf(unsafe.Pointer(&rows[0]))), rows, 0)
	}
	for start := 0; start < len(rows); {
		shape := m.shapeOf(unsafe.Pointer(&rows[start]))
		end := start + 1
		for end < len(rows) && m.shapeOf(unsafe.Pointer(&rows[end])) == shape {
			end++
		}
		if err := insertRun(ctx, s, m, m.plan(s.db.dialect, shape), rows[start:end], start); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// insertRun inserts rows, which have the shape of plan p, and reads back
// what the database filled in; first is the index of rows[0] in the
// caller's rows, for errors.
func insertRun[T any](ctx context.Context, s *session, m *mapped, p *insertPlan, rows []T, first int) error {
	if len(p.returned) > 0 && !s.db.dialect.Returning() {
		// Without RETURNING the keys of a multi-row insert are not reliably
		// known (MySQL gives only the first), so rows go one by one.
		for i := range rows {
			if err := insertPlanned(ctx, s, m, p, unsafe.Pointer(&rows[i])); err != nil {
				return fmt.Errorf("orm: InsertMany: row %d: %w", first+i, err)
			}
		}
		return nil
	}
	returning := len(p.returned) > 0
	return insertChunks(s, m, p, rows, returning, func(st *stmt, start, end int) error {
		if !returning {
			_, err := s.exec(ctx, st)
			return err
		}
		// The servers return the rows of a multi-row VALUES in order.
		next := start
		n, err := s.scanRows(ctx, st, p.returned, nil, false, func() unsafe.Pointer {
			row := unsafe.Pointer(&rows[min(next, end-1)]) // more rows than sent are reported below
			next++
			return row
		}, nil)
		if err == nil && n != int64(end-start) {
			err = fmt.Errorf("orm: InsertMany: %d rows returned for %d inserted", n, end-start)
		}
		return err
	})
}

// insertChunks calls fn with each multi-row INSERT of rows by plan p, as
// many rows per statement as the dialect's parameter limit allows, and the
// range of rows it holds. The arguments are one flat slice; the SQL is
// built once per plan and number of rows.
func insertChunks[T any](s *session, m *mapped, p *insertPlan, rows []T, returning bool, fn func(st *stmt, start, end int) error) error {
	cols := p.cols
	per := max(1, s.db.dialect.MaxParams()/max(1, len(cols)))
	for start := 0; start < len(rows); start += per {
		end := min(len(rows), start+per)
		st := &stmt{sql: p.multiSQL(s.db.dialect, m.Table, end-start, returning), args: make([]any, 0, (end-start)*len(cols))}
		for i := start; i < end; i++ {
			base := unsafe.Pointer(&rows[i])
			for _, c := range cols {
				if c.Sensitive {
					st.sensitive = append(st.sensitive, len(st.args))
				}
				st.args = append(st.args, c.value(base))
			}
		}
		if err := fn(st, start, end); err != nil {
			return err
		}
	}
	return nil
}

// CopyFrom bulk-loads rows as fast as the dialect can: COPY on PostgreSQL,
// multi-row INSERTs elsewhere. Unlike InsertMany it does not report the
// generated keys back into rows. It returns the number of rows written.
func CopyFrom[T any](ctx context.Context, h Handle, rows []T) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return 0, err
	}
	// Every row is written like the first, with its defaults' columns as
	// they are: COPY cannot leave a column out of some rows.
	p := m.plan(s.db.dialect, insertShape{auto: m.pk != nil && m.pk.AutoIncrement && isZero(m.pk, unsafe.Pointer(&rows[0]))})
	cols := p.cols
	var copier Copier
	if s.tx != nil {
		copier, _ = s.tx.(Copier)
	} else {
		copier, _ = s.db.primary.(Copier)
	}
	if copier == nil {
		var n int64
		err := insertChunks(s, m, p, rows, false, func(st *stmt, _, _ int) error {
			res, err := s.exec(ctx, st)
			n += res.RowsAffected
			return err
		})
		return n, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	vals := make([][]any, len(rows))
	for i := range rows {
		vals[i] = rowValues(cols, unsafe.Pointer(&rows[i]))
	}
	tb := s.db.tracer.Load()
	var start time.Time
	if tb != nil {
		start = time.Now()
	}
	n, err := copier.CopyFrom(ctx, m.Name, names, vals)
	if err != nil {
		err = s.db.dialect.Classify(err)
	}
	if tb != nil {
		s.trace(ctx, tb.t, &stmt{sql: "COPY " + m.Name + " FROM STDIN"}, start, n, err, false)
	}
	return n, err
}

// Update writes row's columns to the row with its primary key; with cols,
// only those columns (names or Go field names). It returns an error for
// which IsNotFound is true when no row has that key.
func Update[T any](ctx context.Context, h Handle, row *T, cols ...string) error {
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return err
	}
	if m.pk == nil {
		return fmt.Errorf("orm: Update: %s has no primary key", m.Name)
	}
	base := unsafe.Pointer(row)
	if len(cols) == 0 && m.updateSQL != "" {
		st := &stmt{sql: m.updateSQL, args: rowValues(m.updateCols, base), sensitive: sensitiveArgs(m.updateCols)}
		return updated[T](ctx, h, m, base, st)
	}
	b := &builder{d: s.db.dialect, scope: []*Table{m.Table}}
	b.b = append(b.b, "UPDATE "...)
	b.ident(m.Name)
	b.b = append(b.b, " SET "...)
	n := 0
	set := func(c *Column) {
		if n > 0 {
			b.b = append(b.b, ", "...)
		}
		n++
		b.ident(c.Name)
		b.b = append(b.b, " = "...)
		b.arg(c.value(base), c)
	}
	if len(cols) == 0 {
		for _, c := range m.Columns {
			if c != m.pk {
				set(c)
			}
		}
	} else {
		for _, name := range cols {
			c := m.Column(name)
			if c == nil {
				return fmt.Errorf("orm: Update: %s has no column %q", m.Name, name)
			}
			set(c)
		}
	}
	b.b = append(b.b, " WHERE "...)
	b.ident(m.pk.Name)
	b.b = append(b.b, " = "...)
	b.arg(m.pk.value(base), m.pk)
	st, err := b.stmt()
	if err != nil {
		return err
	}
	return updated[T](ctx, h, m, base, st)
}

// updated runs an UPDATE by key and reports a missing row as not found.
func updated[T any](ctx context.Context, h Handle, m *mapped, base unsafe.Pointer, st *stmt) error {
	res, err := h.session().exec(ctx, st)
	if err != nil {
		return err
	}
	// MySQL counts only rows whose values changed, so zero affected rows
	// does not mean "missing" there; check existence instead.
	if res.RowsAffected == 0 {
		ok, err := From[T](h).Where(Eq(m.pk.Name, m.pk.value(base))).Exists(OnPrimary(ctx))
		if err != nil {
			return err
		}
		if !ok {
			return notFound(m.Name)
		}
	}
	return nil
}

// Delete deletes the row with row's primary key; an error for which
// IsNotFound is true says there was none.
func Delete[T any](ctx context.Context, h Handle, row *T) error {
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return err
	}
	if m.pk == nil {
		return fmt.Errorf("orm: Delete: %s has no primary key", m.Name)
	}
	n, err := From[T](h).Where(Eq(m.pk.Name, m.pk.value(unsafe.Pointer(row)))).Delete(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(m.Name)
	}
	return nil
}

// Upsert inserts row, or when it collides with an existing row on the
// conflict columns (a unique key; on MySQL any unique key) updates that
// row's update columns instead; with no update columns, it updates every
// column except the key and the conflict columns. Like Insert, when the
// auto-increment primary key is zero it is set on row afterwards: to the
// new row's key, or to the key of the row that was updated (or kept, when
// there was nothing to update).
func Upsert[T any](ctx context.Context, h Handle, row *T, conflict []string, update ...string) error {
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return err
	}
	if len(conflict) == 0 {
		return errors.New("orm: Upsert needs the conflict columns")
	}
	base := unsafe.Pointer(row)
	cols := insertColumns(m.Table, base)
	conf, err := columnNames(m.Table, conflict)
	if err != nil {
		return fmt.Errorf("orm: Upsert: conflict: %w", err)
	}
	upd, err := columnNames(m.Table, update)
	if err != nil {
		return fmt.Errorf("orm: Upsert: update: %w", err)
	}
	if len(update) == 0 {
		for _, c := range cols {
			if c != m.pk && !slices.Contains(conf, c.Name) {
				upd = append(upd, c.Name)
			}
		}
	}
	d := s.db.dialect
	b := &builder{d: d, scope: []*Table{m.Table}}
	writeInsert(b, m.Table, cols, nil, [][]any{rowValues(cols, base)})
	pk := m.pk
	key := ""
	if pk != nil && !slices.Contains(cols, pk) {
		key = pk.Name // auto-increment and zero: the server picks or finds it
	}
	b.b = d.AppendUpsert(b.b, m.Name, conf, upd, key)
	if key != "" && d.Returning() {
		b.b = append(b.b, " RETURNING "...)
		b.ident(key)
	}
	st, err := b.stmt()
	if err != nil {
		return err
	}
	if key != "" && d.Returning() {
		return insertReturning(ctx, s, st, pk, base)
	}
	res, err := s.exec(ctx, st)
	if err != nil {
		return err
	}
	if key != "" {
		setInt(pk, base, res.LastInsertID)
	}
	return nil
}

func columnNames(t *Table, refs []string) ([]string, error) {
	names := make([]string, len(refs))
	for i, r := range refs {
		c := t.Column(r)
		if c == nil {
			return nil, fmt.Errorf("%s has no column %q", t.Name, r)
		}
		names[i] = c.Name
	}
	return names, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
