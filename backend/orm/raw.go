package orm

import (
	"context"
	"fmt"
	"reflect"
	"unsafe"
)

// Exec runs trusted SQL that returns no rows, with ? placeholders for its
// arguments (?? for a literal ?). It always runs on the primary (or the
// transaction). This is the escape hatch: never build the SQL text from
// user input; pass values as arguments.
func Exec(ctx context.Context, h Handle, sql string, args ...any) (Result, error) {
	s := h.session()
	st, err := rawStmt(s.db.dialect, sql, args)
	if err != nil {
		return Result{}, err
	}
	return s.exec(ctx, st)
}

// Raw runs trusted SQL with ? placeholders and scans each row into T by
// column name; every result column must match a column of T. Outside a
// transaction it reads from a replica when there is one.
func Raw[T any](ctx context.Context, h Handle, sql string, args ...any) ([]T, error) {
	s := h.session()
	m, err := s.db.mapping(reflect.TypeFor[T]())
	if err != nil {
		return nil, err
	}
	st, err := rawStmt(s.db.dialect, sql, args)
	if err != nil {
		return nil, err
	}
	rows, done, err := s.query(ctx, st, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	names, err := rows.Columns()
	cols := make([]*Column, len(names))
	for i, n := range names {
		if err != nil {
			break
		}
		if cols[i] = m.Column(n); cols[i] == nil {
			err = fmt.Errorf("orm: Raw: %v has no field for result column %q", m.goType, n)
		}
	}
	dest := make([]any, len(cols))
	for err == nil && rows.Next() {
		var zero T
		out = append(out, zero)
		base := unsafe.Pointer(&out[len(out)-1])
		for i, c := range cols {
			dest[i] = c.ptr(base)
		}
		if err = rows.Scan(dest...); err != nil {
			err = fmt.Errorf("orm: Raw: scanning: %w", err)
		}
	}
	err = s.finish(rows, done, int64(len(out)), err)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ResultSet is a query's result as plain values, for tools such as a SQL
// console or EXPLAIN: text comes back as string, other values as the driver
// returns them.
type ResultSet struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Truncated reports that rows beyond the limit were not read.
	Truncated bool `json:"truncated,omitempty"`
}

// ExecNative runs sql exactly as given, in the dialect's own placeholder
// syntax, on the primary, the transaction or the Conn, for statements that
// return no rows: migrations, DDL. Like RunNative it is for trusted SQL.
func ExecNative(ctx context.Context, h Handle, sql string, args ...any) (Result, error) {
	return h.session().exec(ctx, &stmt{sql: sql, args: args})
}

// RunNative runs sql exactly as given, in the dialect's own placeholder
// syntax (as QueryEvent.SQL shows it), on the primary or the transaction,
// and returns up to maxRows rows (0: all). It is for tools: the SQL is
// trusted, and the caller decides whether writes are allowed (run it in a
// read-only transaction otherwise).
func RunNative(ctx context.Context, h Handle, sql string, args []any, maxRows int) (*ResultSet, error) {
	s := h.session()
	rows, done, err := s.query(ctx, &stmt{sql: sql, args: args}, false)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rs := &ResultSet{Rows: [][]any{}}
	rs.Columns, err = rows.Columns()
	for err == nil && rows.Next() {
		if maxRows > 0 && len(rs.Rows) == maxRows {
			rs.Truncated = true
			break
		}
		vals := make([]any, len(rs.Columns))
		dest := make([]any, len(vals))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err = rows.Scan(dest...); err != nil {
			break
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		rs.Rows = append(rs.Rows, vals)
	}
	err = s.finish(rows, done, int64(len(rs.Rows)), err)
	if err != nil {
		return nil, err
	}
	return rs, nil
}
