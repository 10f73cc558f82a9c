package orm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
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
// (through RETURNING, or the driver's last insert id on MySQL).
func Insert[T any](ctx context.Context, h Handle, row *T) error {
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return err
	}
	base := unsafe.Pointer(row)
	pk := m.pk
	var st *stmt
	if cols := insertColumns(m.Table, base); len(cols) == len(m.insertCols) && m.insertSQL != "" {
		st = &stmt{sql: m.insertSQL, args: rowValues(cols, base), sensitive: sensitiveArgs(cols)}
	} else {
		b := &builder{d: s.db.dialect, scope: []*Table{m.Table}}
		writeInsert(b, m.Table, cols, [][]any{rowValues(cols, base)})
		if st, err = b.stmt(); err != nil {
			return err
		}
	}
	returning := pk != nil && pk.AutoIncrement && isZero(pk, base)
	if returning && s.db.dialect.Returning() {
		return insertReturning(ctx, s, st, pk, base)
	}
	res, err := s.exec(ctx, st)
	if err != nil {
		return err
	}
	if returning {
		setInt(pk, base, res.LastInsertID)
	}
	return nil
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

// writeInsert writes INSERT INTO t (cols) VALUES (…), (…).
func writeInsert(b *builder, t *Table, cols []*Column, rows [][]any) {
	b.b = append(b.b, "INSERT INTO "...)
	b.ident(t.Name)
	b.b = append(b.b, " ("...)
	for i, c := range cols {
		if i > 0 {
			b.b = append(b.b, ", "...)
		}
		b.ident(c.Name)
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
		b.b = append(b.b, ')')
	}
}

// InsertMany inserts rows with multi-row INSERTs, as few as the dialect's
// parameter limit allows, and sets auto-increment keys on the rows. Run it
// in a transaction (WithTx) when all rows must land or none.
func InsertMany[T any](ctx context.Context, h Handle, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return err
	}
	pk := m.pk
	auto := pk != nil && pk.AutoIncrement
	cols := insertColumns(m.Table, unsafe.Pointer(&rows[0]))
	returning := auto && !slices.Contains(cols, pk)
	if returning && !s.db.dialect.Returning() {
		// Without RETURNING the keys of a multi-row insert are not reliably
		// known (MySQL gives only the first), so rows go one by one.
		for i := range rows {
			if err := Insert(ctx, h, &rows[i]); err != nil {
				return fmt.Errorf("orm: InsertMany: row %d: %w", i, err)
			}
		}
		return nil
	}
	return insertChunks(s, m, cols, rows, returning, func(st *stmt, start, end int) error {
		if !returning {
			_, err := s.exec(ctx, st)
			return err
		}
		ids, err := scanAll[keyRow](ctx, s, st, []*Column{keyColumn}, false, end-start)
		if err != nil {
			return err
		}
		if len(ids) != end-start {
			return fmt.Errorf("orm: InsertMany: %d keys returned for %d rows", len(ids), end-start)
		}
		// The servers return the keys of a multi-row VALUES in order.
		for i, id := range ids {
			setInt(pk, unsafe.Pointer(&rows[start+i]), id.ID)
		}
		return nil
	})
}

// insertChunks calls fn with each multi-row INSERT of rows, as many rows
// per statement as the dialect's parameter limit allows, and the range of
// rows it holds. The arguments are one flat slice; the SQL of the usual
// shapes is built once per table.
func insertChunks[T any](s *session, m *mapped, cols []*Column, rows []T, returning bool, fn func(st *stmt, start, end int) error) error {
	per := max(1, s.db.dialect.MaxParams()/len(cols))
	for start := 0; start < len(rows); start += per {
		end := min(len(rows), start+per)
		st := &stmt{sql: m.multiInsertSQL(s.db.dialect, cols, end-start, returning), args: make([]any, 0, (end-start)*len(cols))}
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

type multiKey struct {
	rows      int
	returning bool
}

// multiInsertSQL returns INSERT INTO t (cols) VALUES (…) × n [RETURNING
// key], from the cache when cols are the table's usual insert columns.
func (m *mapped) multiInsertSQL(d Dialect, cols []*Column, n int, returning bool) string {
	usual := len(cols) == len(m.insertCols)
	key := multiKey{n, returning}
	if usual {
		if sql, ok := m.multi.Load(key); ok {
			return sql.(string)
		}
	}
	b := &builder{d: d}
	writeInsert(b, m.Table, cols, slices.Repeat([][]any{make([]any, len(cols))}, n))
	if returning {
		b.b = append(b.b, " RETURNING "...)
		b.ident(m.pk.Name)
	}
	sql := string(b.b)
	if usual {
		m.multi.Store(key, sql)
	}
	return sql
}

type keyRow struct{ ID int64 }

// keyColumn scans a returned key into keyRow.ID. Read only.
var keyColumn = &Column{Name: "id", Type: reflect.TypeFor[int64]()}

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
	cols := insertColumns(m.Table, unsafe.Pointer(&rows[0]))
	var copier Copier
	if s.tx != nil {
		copier, _ = s.tx.(Copier)
	} else {
		copier, _ = s.db.primary.(Copier)
	}
	if copier == nil {
		var n int64
		err := insertChunks(s, m, cols, rows, false, func(st *stmt, _, _ int) error {
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
	writeInsert(b, m.Table, cols, [][]any{rowValues(cols, base)})
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
