package orm

import (
	"context"
	"fmt"
	"reflect"
)

// Record is a row of a table defined at run time (Define), as column name →
// value. Values come back in the column's Go type; a NULL is nil.
type Record = map[string]any

// FromTable starts a query on a table defined at run time. All and First
// return Records; everything else works as for a model.
func FromTable(h Handle, t *Table) *Query[Record] {
	return &Query[Record]{h: h, limit: -1, m: h.session().db.defined(t)}
}

// defined returns the cached derived SQL of a run-time table.
func (db *DB) defined(t *Table) *mapped {
	if m, ok := db.tables.Load(t); ok {
		return m.(*mapped)
	}
	m, _ := db.tables.LoadOrStore(t, db.derive(t))
	return m.(*mapped)
}

// scanRecords runs st and reads each row into a Record.
func (s *session) scanRecords(ctx context.Context, st *stmt, cols []*Column, read bool) ([]Record, error) {
	for i, c := range cols {
		if c == nil {
			return nil, fmt.Errorf("orm: selected item %d is an aggregate; read aggregates with orm.Scan", i+1)
		}
	}
	rows, done, err := s.query(ctx, st, read)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Record{}
	dest := make([]any, len(cols))
	vals := make([]reflect.Value, len(cols))
	for rows.Next() {
		for i, c := range cols {
			// A pointer to a pointer, so that NULL reads as nil for any type.
			vals[i] = reflect.New(reflect.PointerTo(derefType(c.Type)))
			dest[i] = vals[i].Interface()
		}
		if err = rows.Scan(dest...); err != nil {
			err = fmt.Errorf("orm: scanning %s: %w", st.sql, err)
			break
		}
		r := make(Record, len(cols))
		for i, c := range cols {
			if p := vals[i].Elem(); !p.IsNil() {
				r[c.Name] = p.Elem().Interface()
			} else {
				r[c.Name] = nil
			}
		}
		out = append(out, r)
	}
	err = s.finish(rows, done, int64(len(out)), err)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// recordValues checks rec's keys against t and returns its columns and
// values in table order. Unknown keys are an error naming the key.
func recordValues(t *Table, rec Record) ([]*Column, []any, error) {
	for k := range rec {
		if c := t.Column(k); c == nil || c.Name != k {
			return nil, nil, fmt.Errorf("orm: %s has no column %q", t.Name, k)
		}
	}
	var cols []*Column
	var vals []any
	for _, c := range t.Columns {
		if v, ok := rec[c.Name]; ok {
			cols = append(cols, c)
			vals = append(vals, v)
		}
	}
	return cols, vals, nil
}

// InsertRecord inserts rec into the run-time table t and returns the row as
// stored (generated key and defaults included).
func InsertRecord(ctx context.Context, h Handle, t *Table, rec Record) (Record, error) {
	s := h.session()
	m := s.db.defined(t)
	cols, vals, err := recordValues(t, rec)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("orm: inserting into %s: no values", t.Name)
	}
	b := &builder{d: s.db.dialect, scope: []*Table{t}}
	writeInsert(b, t, cols, nil, [][]any{vals})
	if s.db.dialect.Returning() {
		b.b = append(b.b, " RETURNING "...)
		b.b = append(b.b, m.selectCols...)
		st, err := b.stmt()
		if err != nil {
			return nil, err
		}
		recs, err := s.scanRecords(ctx, st, t.Columns, false)
		if err != nil {
			return nil, err
		}
		if len(recs) != 1 {
			return nil, fmt.Errorf("orm: inserting into %s: RETURNING gave %d rows", t.Name, len(recs))
		}
		return recs[0], nil
	}
	st, err := b.stmt()
	if err != nil {
		return nil, err
	}
	res, err := s.exec(ctx, st)
	if err != nil {
		return nil, err
	}
	if t.pk == nil {
		return rec, nil
	}
	id, ok := rec[t.pk.Name]
	if !ok {
		id = res.LastInsertID
	}
	return GetRecord(OnPrimary(ctx), h, t, id)
}

// GetRecord reads the row of t with primary key id, or returns an error for
// which IsNotFound is true.
func GetRecord(ctx context.Context, h Handle, t *Table, id any) (Record, error) {
	if t.pk == nil {
		return nil, fmt.Errorf("orm: %s has no primary key", t.Name)
	}
	return FromTable(h, t).Where(Eq(t.pk.Name, id)).First(ctx)
}

// UpdateRecord sets rec's columns on the row of t with primary key id and
// returns the row as stored; IsNotFound says there was none.
func UpdateRecord(ctx context.Context, h Handle, t *Table, id any, rec Record) (Record, error) {
	if t.pk == nil {
		return nil, fmt.Errorf("orm: %s has no primary key", t.Name)
	}
	if _, ok := rec[t.pk.Name]; ok {
		return nil, fmt.Errorf("orm: updating %s: the primary key %q cannot change", t.Name, t.pk.Name)
	}
	if _, _, err := recordValues(t, rec); err != nil {
		return nil, err
	}
	q := FromTable(h, t).Where(Eq(t.pk.Name, id))
	if len(rec) > 0 {
		if _, err := q.Update(ctx, rec); err != nil {
			return nil, err
		}
	}
	// MySQL reports unchanged rows as unaffected, so read back rather than
	// trusting the count.
	return GetRecord(OnPrimary(ctx), h, t, id)
}

// DeleteRecord deletes the row of t with primary key id; IsNotFound says
// there was none.
func DeleteRecord(ctx context.Context, h Handle, t *Table, id any) error {
	if t.pk == nil {
		return fmt.Errorf("orm: %s has no primary key", t.Name)
	}
	n, err := FromTable(h, t).Where(Eq(t.pk.Name, id)).Delete(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(t.Name)
	}
	return nil
}

// isDefined reports whether q reads a run-time table (Records, not structs).
func (m *mapped) isDefined() bool { return m.goType == nil }
