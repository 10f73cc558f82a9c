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
// those changes belong in migrations. A column it cannot make match, because
// it is missing and cannot be added as it is, or because its type in the
// database cannot hold what t declares (bigint for text, VARCHAR(50) for
// VARCHAR(100)), is a *ColumnError, and a type is checked before any DDL
// runs. It returns the DDL it ran.
func EnsureTable(ctx context.Context, h Handle, t *Table) ([]string, error) {
	s := h.session()
	existing, err := existingColumns(ctx, s, t)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if err := checkTypes(ctx, s, t); err != nil {
			return nil, err
		}
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
		ddl, err := CreateTableDDL(h, t)
		if err != nil {
			return nil, err
		}
		for _, sql := range ddl {
			if err := run(sql); err != nil {
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
			return ran, &ColumnError{Table: t.Name, Column: c.Name, Problem: MissingNotNull}
		}
		if c.Unique || c.PrimaryKey {
			return ran, &ColumnError{Table: t.Name, Column: c.Name, Problem: MissingUnique}
		}
		if err := run(AddColumnDDL(s.db.dialect, t, c)); err != nil {
			return ran, err
		}
	}
	return ran, nil
}

// ColumnError is EnsureTable's refusal of a change it leaves to migrations.
type ColumnError struct {
	Table, Column string
	Problem       ColumnProblem
	// Have and Want are, for WrongType and TooShort, the column's type in
	// the database and the type the table declares (ColumnType's).
	Have, Want string
}

var _ error = (*ColumnError)(nil)

// ColumnProblem says why EnsureTable cannot make a column match.
type ColumnProblem int

const (
	// MissingNotNull: the column is missing, NOT NULL and without a
	// default, which a table that has rows cannot take.
	MissingNotNull ColumnProblem = iota + 1
	// MissingUnique: the column is missing and unique.
	MissingUnique
	// WrongType: the column's type holds another family of values (bigint
	// for text), so writes fail or reads cannot be scanned.
	WrongType
	// TooShort: the column's text type holds fewer characters than the
	// declared one, so longer values the table accepts would fail.
	TooShort
)

func (e *ColumnError) Error() string {
	prefix := "orm: ensuring table " + e.Table + ": column " + e.Column
	switch e.Problem {
	case MissingNotNull:
		return prefix + " is missing and NOT NULL without a default; add it with a migration"
	case MissingUnique:
		return prefix + " is missing and unique; add it with a migration"
	case WrongType:
		return fmt.Sprintf("%s is %s in the database, but the table now declares it %s, whose values %s cannot hold; the ORM never retypes a column: change it with a migration", prefix, e.Have, e.Want, e.Have)
	}
	return fmt.Sprintf("%s is %s in the database, but the table now declares it %s, which holds longer text; the ORM never widens a column: change it with a migration", prefix, e.Have, e.Want)
}

// checkTypes compares the types of t's columns that exist in the database
// with the ones t declares, and returns a *ColumnError for the first that
// cannot hold what the declared one does.
func checkTypes(ctx context.Context, s *session, t *Table) error {
	d := s.db.dialect
	q, args := d.ColumnTypes(t.Name)
	rows, done, err := s.query(ctx, &stmt{sql: q, args: args}, false)
	if err != nil {
		return fmt.Errorf("orm: ensuring table %s: reading its column types: %w", t.Name, err)
	}
	defer rows.Close()
	have := map[string]string{}
	for rows.Next() {
		var name, decl string
		if err = rows.Scan(&name, &decl); err != nil {
			break
		}
		have[strings.ToLower(name)] = decl
	}
	if err = s.finish(rows, done, int64(len(have)), err); err != nil {
		return fmt.Errorf("orm: ensuring table %s: reading its column types: %w", t.Name, err)
	}
	for _, c := range t.Columns {
		decl, ok := have[strings.ToLower(c.Name)]
		if !ok || c.PrimaryKey && c.AutoIncrement { // missing, or a key whose type is a whole definition
			continue
		}
		want := d.ColumnType(c)
		if p := fits(d.ParseType(decl), d.ParseType(want)); p != 0 {
			return &ColumnError{Table: t.Name, Column: c.Name, Problem: p, Have: decl, Want: want}
		}
	}
	return nil
}

// fits says why a column of type have cannot hold the values of type want,
// or returns 0 when it can.
func fits(have, want SQLType) ColumnProblem {
	switch {
	case have.Family == FamilyOther || want.Family == FamilyOther:
		return 0 // not compared
	case have.Family == FamilyDecimal:
		if want.Family != FamilyInteger && want.Family != FamilyFloat && want.Family != FamilyDecimal {
			return WrongType
		}
		return 0
	case have.Family != want.Family:
		return WrongType
	case have.MaxLength > 0 && (want.MaxLength == 0 || want.MaxLength > have.MaxLength):
		return TooShort
	}
	return 0
}

// SQLType is a column type as EnsureTable compares them: the family of
// values it holds and, for text, its length.
type SQLType struct {
	Family TypeFamily
	// MaxLength is the most characters a text type holds; 0 when the
	// database enforces no limit.
	MaxLength int
}

// TypeFamily is the kind of value a column type holds, as far as the ORM
// reads and writes it.
type TypeFamily int

const (
	// FamilyOther is a type the ORM does not compare (uuid, enum, …).
	FamilyOther TypeFamily = iota
	FamilyInteger
	FamilyFloat
	// FamilyDecimal (numeric, decimal, SQLite's NUMERIC affinity) holds
	// integers and floats as well.
	FamilyDecimal
	FamilyText
	FamilyBool
	FamilyTime
	FamilyJSON
	FamilyBlob
)

// SplitType lower-cases a column type and takes out the numbers in its
// parentheses, for the dialects' ParseType: "character varying(50)" is
// "character varying" and [50], "DECIMAL(10, 2) UNSIGNED" is "decimal
// unsigned" and [10 2]. A part that is not a number is left out.
func SplitType(decl string) (base string, args []int) {
	var b strings.Builder
	for rest := strings.ToLower(decl); rest != ""; {
		open := strings.IndexByte(rest, '(')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open])
		b.WriteByte(' ')
		inside, after, _ := strings.Cut(rest[open+1:], ")")
		for part := range strings.SplitSeq(inside, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(part)); err == nil {
				args = append(args, n)
			}
		}
		rest = after
	}
	return strings.Join(strings.Fields(b.String()), " "), args
}

// CreateTableDDL returns the statements that create table t in h's
// dialect: CREATE TABLE with its columns, primary key, NOT NULL, UNIQUE,
// defaults and a foreign key for each belongs-to relation, then CREATE
// INDEX for each indexed column.
func CreateTableDDL(h Handle, t *Table) ([]string, error) {
	s := h.session()
	d := s.db.dialect
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
			return nil, err
		}
		if target.pk == nil || t.Column(rel.ForeignKey) == nil {
			return nil, fmt.Errorf("orm: table %s: relation %s needs column %s and a primary key on %s", t.Name, name, rel.ForeignKey, target.Name)
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
	out := []string{string(b)}
	for _, c := range t.Columns {
		if !c.Index || c.Unique || c.PrimaryKey {
			continue
		}
		b := []byte("CREATE INDEX ")
		b = d.AppendIdent(b, IndexName(t, c))
		b = append(b, " ON "...)
		b = d.AppendIdent(b, t.Name)
		b = append(b, " ("...)
		b = d.AppendIdent(b, c.Name)
		b = append(b, ')')
		out = append(out, string(b))
	}
	return out, nil
}

// IndexName is the name CreateTableDDL gives the index of column c.
func IndexName(t *Table, c *Column) string { return t.Name + "_" + c.Name + "_idx" }

// AddColumnDDL returns the ALTER TABLE … ADD COLUMN statement for c.
func AddColumnDDL(d Dialect, t *Table, c *Column) string {
	b := []byte("ALTER TABLE ")
	b = d.AppendIdent(b, t.Name)
	b = append(b, " ADD COLUMN "...)
	return string(columnDef(b, d, c))
}

// TableColumns returns the lower-cased names of t's columns in the
// database h is connected to, or nil when the table does not exist.
func TableColumns(ctx context.Context, h Handle, t *Table) (map[string]bool, error) {
	return existingColumns(ctx, h.session(), t)
}

// existingColumns returns the lower-cased names of t's columns in the
// database, or nil when the table does not exist. Reading zero rows of the
// table is portable across the dialects, unlike their catalogues.
func existingColumns(ctx context.Context, s *session, t *Table) (map[string]bool, error) {
	b := []byte("SELECT * FROM ")
	b = s.db.dialect.AppendIdent(b, t.Name)
	b = append(b, " WHERE 1 = 0"...)
	// A failure means a missing table, or, once, a statement cached for a
	// table that was dropped and created again since (pgx forgets it after
	// reporting that): probe twice. Any other problem shows up again, with
	// its real cause, when the DDL runs.
	for range 2 {
		if names := probeColumns(ctx, s, string(b)); names != nil {
			return names, nil
		}
	}
	return nil, nil
}

// probeColumns returns the lower-cased column names of the probe's result,
// or nil when it fails.
func probeColumns(ctx context.Context, s *session, probe string) map[string]bool {
	q, _ := s.querier(ctx, false)
	if s.tx != nil {
		// A failed statement aborts a PostgreSQL transaction: probe in a
		// savepoint, so that a missing table leaves the transaction usable.
		if _, err := s.tx.Exec(ctx, "SAVEPOINT covet_probe"); err != nil {
			return nil
		}
		defer s.tx.Exec(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT covet_probe")
	}
	rows, err := q.Query(ctx, probe)
	if err != nil {
		return nil
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err == nil {
		err = rows.Close() // pgx reports a missing table only here
	}
	if err != nil || len(names) == 0 {
		return nil
	}
	cols := map[string]bool{}
	for _, n := range names {
		cols[strings.ToLower(n)] = true
	}
	return cols
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
