package orm

import (
	"fmt"
	"slices"
)

// builder writes one statement: SQL text in the dialect's syntax and its
// arguments, numbering placeholders as it goes.
type builder struct {
	d         Dialect
	b         []byte
	args      []any
	sensitive []int
	scope     []*Table // tables whose columns may be named; scope[0] is the main one
	qualify   bool     // write columns as table.column (joins, subqueries)
	err       error
}

func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *builder) ident(s string) { b.b = b.d.AppendIdent(b.b, s) }

// names writes the quoted names of cols, separated by commas.
func (b *builder) names(cols []*Column) {
	for i, c := range cols {
		if i > 0 {
			b.b = append(b.b, ", "...)
		}
		b.ident(c.Name)
	}
}

// qualified writes table.column, both quoted.
func (b *builder) qualified(table, column string) {
	b.ident(table)
	b.b = append(b.b, '.')
	b.ident(column)
}

// lookup resolves a column reference without writing it. Unknown names are
// an error: identifiers come only from the mapping.
func (b *builder) lookup(ref string) (*Table, *Column) {
	tname, cname := splitRef(ref)
	for _, t := range b.scope {
		if tname != "" && tname != t.Name {
			continue
		}
		if c := t.Column(cname); c != nil {
			return t, c
		}
		if tname != "" {
			break
		}
	}
	where := b.scope[0].Name
	if tname != "" {
		where = tname
		if !slices.ContainsFunc(b.scope, func(t *Table) bool { return t.Name == tname }) {
			b.fail(fmt.Errorf("orm: column %q: table %q is not part of this query", ref, tname))
			return nil, nil
		}
	}
	b.fail(fmt.Errorf("orm: %s has no column %q", where, cname))
	return nil, nil
}

// column resolves and writes a column reference.
func (b *builder) column(ref string) *Column {
	t, c := b.lookup(ref)
	if c == nil {
		b.b = append(b.b, "NULL"...) // keeps the text well-formed; b.err is set
		return nil
	}
	if b.qualify {
		b.ident(t.Name)
		b.b = append(b.b, '.')
	}
	b.ident(c.Name)
	return c
}

// conds writes clause (" WHERE ", " HAVING ") and the conditions joined
// by AND, or nothing when there are none.
func (b *builder) conds(clause string, conds []Cond) {
	for i, c := range conds {
		if i == 0 {
			b.b = append(b.b, clause...)
		} else {
			b.b = append(b.b, " AND "...)
		}
		c.build(b)
	}
}

// arg writes a placeholder for v. col, when known, marks the value sensitive.
func (b *builder) arg(v any, col *Column) {
	b.args = append(b.args, v)
	if col != nil && col.Sensitive {
		b.sensitive = append(b.sensitive, len(b.args)-1)
	}
	b.b = b.d.AppendPlaceholder(b.b, len(b.args))
}

// raw writes trusted SQL whose arguments are marked ?; ?? is a literal ?.
// Quoted strings and identifiers are copied as they are.
func (b *builder) raw(sql string, args []any) {
	n := 0
	var quote byte
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '?' && i+1 < len(sql) && sql[i+1] == '?':
			b.b = append(b.b, '?')
			i++
			continue
		case c == '?':
			if n >= len(args) {
				b.fail(fmt.Errorf("orm: %q has more ? than its %d arguments", sql, len(args)))
				return
			}
			b.arg(args[n], nil)
			n++
			continue
		}
		b.b = append(b.b, c)
	}
	if n != len(args) {
		b.fail(fmt.Errorf("orm: %q has %d ? for %d arguments", sql, n, len(args)))
	}
}

// sub writes a subquery in its own scope, sharing the argument numbering.
// The outer tables stay reachable by qualified name (correlated subqueries).
func (b *builder) sub(s Subquery) {
	scope, qualify := b.scope, b.qualify
	s.buildSub(b)
	b.scope, b.qualify = scope, qualify
}

func (b *builder) stmt() (*stmt, error) {
	if b.err != nil {
		return nil, b.err
	}
	return &stmt{sql: string(b.b), args: b.args, sensitive: b.sensitive}, nil
}

// Raw prepares trusted SQL with ? placeholders for a Handle's dialect:
// Query and Exec take it. It is the escape hatch; identifiers in it are
// the caller's responsibility, values still travel as placeholders.
func rawStmt(d Dialect, sql string, args []any) (*stmt, error) {
	b := builder{d: d, args: make([]any, 0, len(args))}
	b.raw(sql, args)
	return b.stmt()
}
