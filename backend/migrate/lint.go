package migrate

import (
	"fmt"
	"strings"
)

// Warning is a destructive change the linter found in a statement.
type Warning struct {
	Statement int    `json:"statement"` // index in the statements, from 1
	Line      int    `json:"line"`
	Rule      string `json:"rule"`    // e.g. "drop-table"
	Message   string `json:"message"` // says what will be lost and why it needs --force
}

// Lint returns the destructive changes in stmts (dialect "postgres", "sqlite" or "mysql").
//
// It matches keywords, ignoring case, comments and quoted text, at the top
// level of each statement (not inside a routine's body), and knows the
// syntax of all three dialects; the dialect only tunes the messages. The
// rules:
//
//   - drop-table: DROP TABLE, one warning for each table named.
//   - drop-database, drop-schema: DROP DATABASE, DROP SCHEMA.
//   - drop-column: ALTER TABLE t DROP [COLUMN] c (not DROP CONSTRAINT,
//     INDEX, KEY, DEFAULT and the like).
//   - narrow-type: a column's type changes: ALTER [COLUMN] c [SET DATA]
//     TYPE x (PostgreSQL), MODIFY [COLUMN] c x and CHANGE [COLUMN] a b x
//     (MySQL).
//   - not-null-without-default: ADD [COLUMN] c ... NOT NULL with no DEFAULT
//     (nor a generated, AUTO_INCREMENT or serial column), and ALTER [COLUMN]
//     c SET NOT NULL.
//   - truncate: TRUNCATE [TABLE] t.
//   - delete-all, update-all: DELETE or UPDATE without a WHERE clause.
//   - rename: ALTER TABLE t RENAME [COLUMN] a TO b, RENAME TO, MySQL's
//     RENAME TABLE, and CHANGE a b with b another name.
//
// Warnings come in statement order, each with the line of the clause it is
// about. Lint reads any text without panicking; what it cannot make sense
// of it does not report.
func Lint(dialect string, stmts []Statement) []Warning {
	var ws []Warning
	for i, s := range stmts {
		l := stmtLinter{dialect: dialect, stmt: i + 1, line: s.Line}
		l.lint(newCursor(s.SQL))
		ws = append(ws, l.warnings...)
	}
	return ws
}

// stmtLinter collects the warnings of one statement.
type stmtLinter struct {
	dialect  string
	stmt     int // the statement's index, from 1
	line     int // the statement's first line in the file
	warnings []Warning
}

// renameWhy ends every rename warning.
const renameWhy = "renaming breaks code still using the old name"

// warn adds a warning about the clause that begins with the token at.
func (l *stmtLinter) warn(rule string, at sqlToken, format string, args ...any) {
	l.warnings = append(l.warnings, Warning{
		Statement: l.stmt,
		Line:      l.line + at.line - 1,
		Rule:      rule,
		Message:   fmt.Sprintf(format, args...),
	})
}

// lint checks the statement c holds.
func (l *stmtLinter) lint(c cursor) {
	if c.accept("WITH") {
		c.skipTo("DELETE", "UPDATE", "INSERT", "SELECT", "MERGE")
	}
	at := c.peek(0)
	switch {
	case c.accept("DROP", "TABLE"):
		for _, t := range c.names() {
			l.warn("drop-table", at, "drops table %s and every row in it", t)
		}
	case c.accept("DROP", "DATABASE"):
		for _, d := range c.names() {
			l.warn("drop-database", at, "drops database %s and every table in it", d)
		}
	case c.accept("DROP", "SCHEMA"):
		for _, s := range c.names() {
			l.warn("drop-schema", at, "drops schema %s and every table in it", s)
		}
	case c.accept("TRUNCATE"):
		c.accept("TABLE")
		for _, t := range c.names() {
			l.warn("truncate", at, "empties table %s: every row in it is deleted", t)
		}
	case c.accept("DELETE"):
		if c.has("WHERE") {
			return
		}
		c.skipTo("FROM")
		c.accept("FROM")
		c.accept("ONLY")
		if t := c.name(); t != "" {
			l.warn("delete-all", at, "deletes every row of table %s: the DELETE has no WHERE clause", t)
		}
	case c.accept("UPDATE"):
		if c.has("WHERE") {
			return
		}
		for c.peek(0).isAny("LOW_PRIORITY", "IGNORE", "OR", "ROLLBACK", "ABORT", "REPLACE", "FAIL", "ONLY") {
			c.toks = c.toks[1:]
		}
		if t := c.name(); t != "" {
			l.warn("update-all", at, "overwrites every row of table %s: the UPDATE has no WHERE clause, so the old values are lost", t)
		}
	case c.accept("RENAME", "TABLE"):
		for {
			from := c.name()
			if from == "" || !c.accept("TO") {
				return
			}
			l.warn("rename", at, "renames table %s to %s: %s", from, c.name(), renameWhy)
			if !c.accept(",") {
				return
			}
		}
	case c.accept("ALTER", "TABLE"), c.accept("ALTER", "ONLINE", "TABLE"), c.accept("ALTER", "IGNORE", "TABLE"):
		c.accept("IF", "EXISTS")
		c.accept("ONLY")
		table := c.name()
		if table == "" {
			return
		}
		c.accept("*")
		for _, action := range c.list() {
			l.alterAction(table, action)
		}
	}
}

// alterAction checks one action of ALTER TABLE table.
func (l *stmtLinter) alterAction(table string, c cursor) {
	at := c.peek(0)
	switch {
	case c.accept("ADD"):
		l.addColumns(table, at, c)
	case c.accept("DROP"):
		if !c.accept("COLUMN") && c.peek(0).isAny("CONSTRAINT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "CHECK",
			"UNIQUE", "FULLTEXT", "SPATIAL", "PARTITION", "DEFAULT", "NOT", "IDENTITY", "EXPRESSION", "SYSTEM", "PERIOD") {
			return
		}
		c.accept("IF", "EXISTS")
		if col := c.name(); col != "" {
			l.warn("drop-column", at, "drops column %s.%s and its data", table, col)
		}
	case c.accept("ALTER"):
		if !c.accept("COLUMN") && c.peek(0).isAny("CONSTRAINT", "INDEX", "CHECK") {
			return
		}
		col := c.name()
		switch {
		case c.accept("SET", "DATA", "TYPE"), c.accept("TYPE"):
			l.typeChange(table, col, at, c)
		case c.accept("SET", "NOT", "NULL"):
			l.warn("not-null-without-default", at, "makes column %s.%s NOT NULL: fails if any row has NULL in it", table, col)
		}
	case c.accept("MODIFY"):
		c.accept("COLUMN")
		c.accept("IF", "EXISTS")
		l.typeChange(table, c.name(), at, c)
	case c.accept("CHANGE"):
		c.accept("COLUMN")
		c.accept("IF", "EXISTS")
		from, to := c.name(), c.name()
		l.typeChange(table, from, at, c)
		if !strings.EqualFold(unquote(from), unquote(to)) {
			l.warn("rename", at, "renames column %s.%s to %s: %s", table, from, to, renameWhy)
		}
	case c.accept("RENAME"):
		if c.peek(0).isAny("CONSTRAINT", "INDEX", "KEY") {
			return
		}
		if c.accept("TO") || c.accept("AS") {
			l.warn("rename", at, "renames table %s to %s: %s", table, c.name(), renameWhy)
			return
		}
		column := c.accept("COLUMN")
		from := c.name()
		switch {
		case c.accept("TO"):
			l.warn("rename", at, "renames column %s.%s to %s: %s", table, from, c.name(), renameWhy)
		case !column && from != "": // MySQL: RENAME new_name
			l.warn("rename", at, "renames table %s to %s: %s", table, from, renameWhy)
		}
	}
}

// addColumns checks the column definitions of ADD [COLUMN], one or, in
// MySQL's ADD (a ..., b ...), several.
func (l *stmtLinter) addColumns(table string, at sqlToken, c cursor) {
	column := c.accept("COLUMN")
	c.accept("IF", "NOT", "EXISTS")
	defs := []cursor{c}
	if c.accept("(") {
		if n := len(c.toks); n > 0 && c.toks[n-1].is(")") {
			c.toks = c.toks[:n-1]
		}
		defs = c.list()
	}
	for _, def := range defs {
		if !column && def.peek(0).isAny("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "INDEX", "KEY",
			"FULLTEXT", "SPATIAL", "PARTITION", "EXCLUDE", "PERIOD", "SYSTEM") {
			continue
		}
		col := def.name()
		if col == "" || !notNullWithoutDefault(def) {
			continue
		}
		if l.dialect == "mysql" {
			l.warn("not-null-without-default", at, "adds column %s.%s NOT NULL without a DEFAULT: every existing row silently gets the type's zero value (0, '' or a zero date) instead of real data", table, col)
		} else {
			l.warn("not-null-without-default", at, "adds column %s.%s NOT NULL without a DEFAULT: fails if the table has any rows", table, col)
		}
	}
}

// notNullWithoutDefault reports whether the column definition c, after the
// column's name, says NOT NULL and gives existing rows no value.
func notNullWithoutDefault(c cursor) bool {
	if c.peek(0).isAny("SERIAL", "SMALLSERIAL", "BIGSERIAL", "SERIAL2", "SERIAL4", "SERIAL8") {
		return false
	}
	notNull := false
	depth := 0
	for i, t := range c.toks {
		switch {
		case t.is("("):
			depth++
		case t.is(")"):
			depth--
		case depth != 0:
		case t.isAny("DEFAULT", "GENERATED", "AS", "AUTO_INCREMENT"):
			return false
		case t.is("NOT") && c.peek(i+1).is("NULL"):
			notNull = true
		}
	}
	return notNull
}

// typeChange warns that column col of table changes to the type c starts
// with.
func (l *stmtLinter) typeChange(table, col string, at sqlToken, c cursor) {
	if col == "" {
		return
	}
	n := 0 // the type's tokens
	depth := 0
	for _, t := range c.toks {
		if depth == 0 && t.isAny("NOT", "NULL", "DEFAULT", "COLLATE", "USING", "COMMENT", "AUTO_INCREMENT",
			"PRIMARY", "UNIQUE", "KEY", "CHECK", "REFERENCES", "GENERATED", "AS", "CONSTRAINT", "FIRST", "AFTER",
			"ON", "VISIBLE", "INVISIBLE", "COLUMN_FORMAT", "STORAGE", "SRID") {
			break
		}
		switch {
		case t.is("("):
			depth++
		case t.is(")"):
			depth--
		}
		n++
	}
	typ := "another type"
	if n > 0 {
		typ = c.src[c.toks[0].pos:c.toks[n-1].end()]
	}
	l.warn("narrow-type", at, "changes the type of column %s.%s to %s: values that do not fit are lost or make it fail", table, col, typ)
}

// unquote returns name without the quotes of a quoted identifier.
func unquote(name string) string {
	if n := len(name); n >= 2 && (name[0] == '"' || name[0] == '`') && name[n-1] == name[0] {
		return name[1 : n-1]
	}
	return name
}

// cursor reads the tokens of a statement, or of part of one, from the
// front. Comments are left out.
type cursor struct {
	src  string // the statement's text, which token offsets refer to
	toks []sqlToken
}

// newCursor returns a cursor at the start of the statement sql. A string,
// identifier or comment still open at the end of sql is left out.
func newCursor(sql string) cursor {
	toks, err := scanSQL(sql)
	if err != nil {
		toks = toks[:len(toks)-1]
	}
	code := toks[:0]
	for _, t := range toks {
		if t.kind != tokComment {
			code = append(code, t)
		}
	}
	return cursor{src: sql, toks: code}
}

// peek returns the token n places ahead, or the zero token past the end.
func (c *cursor) peek(n int) sqlToken {
	if n < len(c.toks) {
		return c.toks[n]
	}
	return sqlToken{}
}

// accept skips the keywords (or punctuation) ws if they come next, and
// reports whether they did.
func (c *cursor) accept(ws ...string) bool {
	for i, w := range ws {
		if !c.peek(i).is(w) {
			return false
		}
	}
	c.toks = c.toks[len(ws):]
	return true
}

// name reads a name, perhaps qualified (public.users, `db`.`t`), and
// returns it as written, or "" if no name comes next.
func (c *cursor) name() string {
	if !c.peek(0).isName() {
		return ""
	}
	first, last := c.toks[0], c.toks[0]
	c.toks = c.toks[1:]
	for c.peek(0).is(".") && c.peek(1).isName() {
		last = c.toks[1]
		c.toks = c.toks[2:]
	}
	return c.src[first.pos:last.end()]
}

// names reads the list of [IF EXISTS] [ONLY] a [*], [ONLY] b [*] ... of DROP
// and TRUNCATE.
func (c *cursor) names() []string {
	c.accept("IF", "EXISTS")
	var names []string
	for {
		c.accept("ONLY")
		n := c.name()
		if n == "" {
			return names
		}
		names = append(names, n)
		c.accept("*")
		if !c.accept(",") {
			return names
		}
	}
}

// skipTo skips to the first of the keywords ws outside parentheses and
// reports whether there is one; if not, c stays where it is.
func (c *cursor) skipTo(ws ...string) bool {
	depth := 0
	for i, t := range c.toks {
		switch {
		case t.is("("):
			depth++
		case t.is(")"):
			depth--
		case depth == 0 && t.isAny(ws...):
			c.toks = c.toks[i:]
			return true
		}
	}
	return false
}

// has reports whether the keyword w comes later, outside parentheses.
func (c *cursor) has(w string) bool {
	rest := *c
	return rest.skipTo(w)
}

// list cuts the rest of c at the commas outside parentheses.
func (c *cursor) list() []cursor {
	var items []cursor
	depth, start := 0, 0
	for i, t := range c.toks {
		switch {
		case t.is("("):
			depth++
		case t.is(")"):
			depth--
		case depth == 0 && t.is(","):
			items = append(items, cursor{src: c.src, toks: c.toks[start:i]})
			start = i + 1
		}
	}
	return append(items, cursor{src: c.src, toks: c.toks[start:]})
}
