package orm

import (
	"errors"
	"fmt"
	"strings"
)

// Cond is a condition for Where and Having. Conditions name columns by
// column name or Go field name ("email", "Email"), qualified with a table
// name after a join ("posts.title"); a name the mapping does not know is an
// error, so identifiers never come from anywhere else. Values always travel
// as placeholders.
type Cond interface {
	build(b *builder)
}

type cmp struct {
	col, op string
	val     any
}

func (c cmp) build(b *builder) {
	col := b.column(c.col)
	if c.val == nil && c.op == "=" {
		b.b = append(b.b, " IS NULL"...)
		return
	}
	if c.val == nil && c.op == "<>" {
		b.b = append(b.b, " IS NOT NULL"...)
		return
	}
	b.b = append(b.b, ' ')
	b.b = append(b.b, c.op...)
	b.b = append(b.b, ' ')
	b.arg(c.val, col)
}

// Eq is col = v; Eq(col, nil) is col IS NULL.
func Eq(col string, v any) Cond { return cmp{col, "=", v} }

// Ne is col <> v; Ne(col, nil) is col IS NOT NULL.
func Ne(col string, v any) Cond { return cmp{col, "<>", v} }

// Lt is col < v.
func Lt(col string, v any) Cond { return cmp{col, "<", v} }

// Le is col <= v.
func Le(col string, v any) Cond { return cmp{col, "<=", v} }

// Gt is col > v.
func Gt(col string, v any) Cond { return cmp{col, ">", v} }

// Ge is col >= v.
func Ge(col string, v any) Cond { return cmp{col, ">=", v} }

// Like is col LIKE pattern, case-sensitive on every dialect: in pattern,
// % matches any run of characters, _ one character, and a backslash makes
// the character after it literal (\% is a percent sign). A pattern that
// ends in a lone backslash is an error (CheckLikePattern).
func Like(col, pattern string) Cond { return like{col, pattern, false} }

// ILike is Like, case-insensitive: ILIKE on PostgreSQL, LIKE on SQLite
// (which ignores the case of A–Z only), LIKE between lowered texts on
// MySQL. PostgreSQL and MySQL fold the case of all of Unicode.
func ILike(col, pattern string) Cond { return like{col, pattern, true} }

type like struct {
	col, pattern string
	fold         bool
}

func (c like) build(b *builder) {
	if err := CheckLikePattern(c.pattern); err != nil {
		b.fail(err)
	}
	pre, mid, post, arg := b.d.Like(c.pattern, c.fold)
	b.b = append(b.b, pre...)
	col := b.column(c.col)
	b.b = append(b.b, mid...)
	b.arg(arg, col)
	b.b = append(b.b, post...)
}

// CheckLikePattern reports a pattern Like and ILike refuse: one whose last
// character is an unescaped backslash, which escapes nothing.
func CheckLikePattern(p string) error {
	escaped := false
	for i := 0; i < len(p); i++ {
		escaped = !escaped && p[i] == '\\'
	}
	if escaped {
		// The pattern stays out of the message: its column may be sensitive.
		return errors.New(`orm: a like pattern ends in a backslash that escapes nothing (write \\ for a backslash)`)
	}
	return nil
}

type isNull struct {
	col string
	not bool
}

func (c isNull) build(b *builder) {
	b.column(c.col)
	if c.not {
		b.b = append(b.b, " IS NOT NULL"...)
	} else {
		b.b = append(b.b, " IS NULL"...)
	}
}

// IsNull is col IS NULL.
func IsNull(col string) Cond { return isNull{col, false} }

// NotNull is col IS NOT NULL.
func NotNull(col string) Cond { return isNull{col, true} }

type in struct {
	col  string
	vals []any
	not  bool
}

func (c in) build(b *builder) {
	if len(c.vals) == 0 {
		// IN () is not SQL; an empty list matches nothing (NOT IN: everything).
		b.lookup(c.col) // still checks the name
		b.b = append(b.b, boolSQL(c.not)...)
		return
	}
	col := b.column(c.col)
	if c.not {
		b.b = append(b.b, " NOT"...)
	}
	b.b = append(b.b, " IN ("...)
	for i, v := range c.vals {
		if i > 0 {
			b.b = append(b.b, ", "...)
		}
		b.arg(v, col)
	}
	b.b = append(b.b, ')')
}

// In is col IN (vals…); an empty list matches no row.
func In(col string, vals ...any) Cond { return in{col, vals, false} }

// NotIn is col NOT IN (vals…); an empty list matches every row.
func NotIn(col string, vals ...any) Cond { return in{col, vals, true} }

type between struct {
	col    string
	lo, hi any
}

func (c between) build(b *builder) {
	col := b.column(c.col)
	b.b = append(b.b, " BETWEEN "...)
	b.arg(c.lo, col)
	b.b = append(b.b, " AND "...)
	b.arg(c.hi, col)
}

// Between is col BETWEEN lo AND hi (both ends included).
func Between(col string, lo, hi any) Cond { return between{col, lo, hi} }

type junction struct {
	op    string
	conds []Cond
}

func (c junction) build(b *builder) {
	if len(c.conds) == 0 {
		b.b = append(b.b, boolSQL(c.op == " AND ")...)
		return
	}
	b.b = append(b.b, '(')
	for i, x := range c.conds {
		if i > 0 {
			b.b = append(b.b, c.op...)
		}
		x.build(b)
	}
	b.b = append(b.b, ')')
}

// And holds when every condition holds (and when there are none).
func And(conds ...Cond) Cond { return junction{" AND ", conds} }

// Or holds when any condition holds (never when there are none).
func Or(conds ...Cond) Cond { return junction{" OR ", conds} }

type not struct{ c Cond }

func (c not) build(b *builder) {
	b.b = append(b.b, "NOT ("...)
	c.c.build(b)
	b.b = append(b.b, ')')
}

// Not negates c.
func Not(c Cond) Cond { return not{c} }

type colCmp struct{ a, op, c string }

func (c colCmp) build(b *builder) {
	b.column(c.a)
	b.b = append(b.b, ' ')
	b.b = append(b.b, c.op...)
	b.b = append(b.b, ' ')
	b.column(c.c)
}

// ColumnsCompare compares two columns, for join conditions and correlated
// subqueries: ColumnsCompare("posts.author_id", "=", "users.id"). op is one
// of = <> < <= > >=.
func ColumnsCompare(a, op, c string) Cond {
	switch op {
	case "=", "<>", "<", "<=", ">", ">=":
	default:
		return errCond{fmt.Errorf("orm: ColumnsCompare: operator %q is not one of = <> < <= > >=", op)}
	}
	return colCmp{a, op, c}
}

type expr struct {
	sql  string
	args []any
}

func (c expr) build(b *builder) { b.raw(c.sql, c.args) }

// Expr is a raw SQL condition, the escape hatch for what the builder cannot
// say: Expr("lower(email) = ?", email). Arguments are written as ? and
// become the dialect's placeholders; write ?? for a literal question mark.
// The SQL text itself is trusted: never build it from user input.
func Expr(sql string, args ...any) Cond { return expr{sql, args} }

type inSub struct {
	col string
	sub Subquery
	not bool
}

func (c inSub) build(b *builder) {
	b.column(c.col)
	if c.not {
		b.b = append(b.b, " NOT"...)
	}
	b.b = append(b.b, " IN ("...)
	b.sub(c.sub)
	b.b = append(b.b, ')')
}

// InQuery is col IN (subquery); the subquery should select one column.
func InQuery(col string, sub Subquery) Cond { return inSub{col, sub, false} }

// NotInQuery is col NOT IN (subquery).
func NotInQuery(col string, sub Subquery) Cond { return inSub{col, sub, true} }

type exists struct{ sub Subquery }

func (c exists) build(b *builder) {
	b.b = append(b.b, "EXISTS ("...)
	b.sub(c.sub)
	b.b = append(b.b, ')')
}

// Exists holds when the subquery returns a row. Inside the subquery,
// columns of the outer query are reachable by their table-qualified name.
func Exists(sub Subquery) Cond { return exists{sub} }

type errCond struct{ err error }

func (c errCond) build(b *builder) { b.fail(c.err) }

// Subquery is a query used inside another: a *Query of any model.
type Subquery interface {
	buildSub(b *builder)
}

// boolSQL is a condition that always (true) or never (false) holds.
func boolSQL(v bool) string {
	if v {
		return "1 = 1"
	}
	return "1 = 0"
}

// splitRef splits "table.column" into its parts; table is "" for "column".
func splitRef(ref string) (table, col string) {
	if i := strings.IndexByte(ref, '.'); i >= 0 {
		return ref[:i], ref[i+1:]
	}
	return "", ref
}
