package orm

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// EnsureTable makes sure table t exists with at least its columns: a
// missing table is created (columns, primary key, NOT NULL, UNIQUE, defaults,
// indexes, and a foreign key for each belongs-to relation), and a missing column is added when that is safe (it is
// nullable or has a default). It never drops, renames or retypes anything;
// those changes belong in migrations. It returns the DDL it ran.
func EnsureTable(ctx context.Context, h Handle, t *Table) ([]string, error) {
	s := h.session()
	d := s.db.dialect
	existing, err := existingColumns(ctx, s, t)
	if err != nil {
		return nil, err
	}
	var ran []string
	run := func(sql string) error {
		if _, err := s.exec(ctx, &stmt{sql: sql}); err != nil {
			return fmt.Errorf("orm: ensuring table %s: %s: %w", t.Name, sql, err)
		}
		ran = append(ran, sql)
		return nil
	}
	if existing == nil {
		b := []byte("CREATE TABLE ")
		b = d.AppendIdent(b, t.Name)
		b = append(b, " ("...)
		for i, c := range t.Columns {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = columnDef(b, d, c)
		}
		// A belongs-to relation is a foreign key to the target's key.
		for _, name := range slices.Sorted(maps.Keys(t.Relations)) {
			rel := t.Relations[name]
			if rel.Kind != BelongsTo {
				continue
			}
			target, err := s.db.mapping(rel.target)
			if err != nil {
				return ran, err
			}
			if target.pk == nil || t.Column(rel.ForeignKey) == nil {
				return ran, fmt.Errorf("orm: ensuring table %s: relation %s needs column %s and a primary key on %s", t.Name, name, rel.ForeignKey, target.Name)
			}
			b = append(b, ", FOREIGN KEY ("...)
			b = d.AppendIdent(b, rel.ForeignKey)
			b = append(b, ") REFERENCES "...)
			b = d.AppendIdent(b, target.Name)
			b = append(b, " ("...)
			b = d.AppendIdent(b, target.pk.Name)
			b = append(b, ')')
		}
		b = append(b, ')')
		if err := run(string(b)); err != nil {
			return ran, err
		}
		for _, c := range t.Columns {
			if !c.Index || c.Unique || c.PrimaryKey {
				continue
			}
			b := []byte("CREATE INDEX ")
			b = d.AppendIdent(b, t.Name+"_"+c.Name+"_idx")
			b = append(b, " ON "...)
			b = d.AppendIdent(b, t.Name)
			b = append(b, " ("...)
			b = d.AppendIdent(b, c.Name)
			b = append(b, ')')
			if err := run(string(b)); err != nil {
				return ran, err
			}
		}
		return ran, nil
	}
	for _, c := range t.Columns {
		if existing[strings.ToLower(c.Name)] {
			continue
		}
		if !c.Nullable && c.Default == "" {
			return ran, fmt.Errorf("orm: ensuring table %s: column %s is missing and NOT NULL without a default; add it with a migration", t.Name, c.Name)
		}
		if c.Unique || c.PrimaryKey {
			return ran, fmt.Errorf("orm: ensuring table %s: column %s is missing and unique; add it with a migration", t.Name, c.Name)
		}
		b := []byte("ALTER TABLE ")
		b = d.AppendIdent(b, t.Name)
		b = append(b, " ADD COLUMN "...)
		b = columnDef(b, d, c)
		if err := run(string(b)); err != nil {
			return ran, err
		}
	}
	return ran, nil
}

// existingColumns returns the lower-cased names of t's columns in the
// database, or nil when the table does not exist. Reading zero rows of the
// table is portable across the dialects, unlike their catalogues.
func existingColumns(ctx context.Context, s *session, t *Table) (map[string]bool, error) {
	b := []byte("SELECT * FROM ")
	b = s.db.dialect.AppendIdent(b, t.Name)
	b = append(b, " WHERE 1 = 0"...)
	q, _ := s.querier(ctx, false)
	if s.tx != nil {
		// A failed statement aborts a PostgreSQL transaction: probe in a
		// savepoint, so that a missing table leaves the transaction usable.
		if _, err := s.tx.Exec(ctx, "SAVEPOINT covet_probe"); err != nil {
			return nil, fmt.Errorf("orm: probing table %s: %w", t.Name, err)
		}
		defer s.tx.Exec(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT covet_probe")
	}
	rows, err := q.Query(ctx, string(b))
	if err != nil {
		// The probe fails for a missing table; any other problem shows up
		// again, with its real cause, when CREATE TABLE runs.
		return nil, nil
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err == nil {
		err = rows.Close() // pgx reports a missing table only here
	}
	if err != nil || len(names) == 0 {
		return nil, nil
	}
	cols := map[string]bool{}
	for _, n := range names {
		cols[strings.ToLower(n)] = true
	}
	return cols, nil
}

func columnDef(b []byte, d Dialect, c *Column) []byte {
	b = d.AppendIdent(b, c.Name)
	b = append(b, ' ')
	b = append(b, d.ColumnType(c)...)
	if c.PrimaryKey && c.AutoIncrement {
		return b // the dialect's type says PRIMARY KEY itself
	}
	if c.PrimaryKey {
		b = append(b, " PRIMARY KEY"...)
	}
	if !c.Nullable && !c.PrimaryKey {
		b = append(b, " NOT NULL"...)
	}
	if c.Unique && !c.PrimaryKey {
		b = append(b, " UNIQUE"...)
	}
	if c.Default != "" {
		b = append(b, " DEFAULT "...)
		b = append(b, c.Default...)
	}
	return b
}

// Literal renders a value as a SQL literal, for the one place values cannot
// travel as placeholders: DEFAULT clauses in DDL. It accepts only bools,
// integers, finite floats and strings; strings are single-quoted with
// quotes doubled and must not contain NUL or backslashes (MySQL reads
// backslash escapes in literals).
func Literal(v any) (string, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return "TRUE", nil
		}
		return "FALSE", nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "", fmt.Errorf("orm: literal %v is not a finite number", x)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case string:
		if strings.ContainsAny(x, "\x00\\") {
			return "", fmt.Errorf("orm: literal %q contains a NUL or a backslash", x)
		}
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
	}
	return "", fmt.Errorf("orm: %T cannot be a literal", v)
}
