package migrate

import (
	"fmt"
	"strings"
)

// Statement is one SQL statement of a migration file.
type Statement struct {
	SQL  string `json:"sql"`  // the statement's text, trimmed, without its final ';'
	Line int    `json:"line"` // the 1-based line of the file where it begins
}

// Split cuts a migration file into statements at each ';' that is outside
//
//   - a single-quoted string, where two quotes in a row stand for one; in
//     an E'...' string (PostgreSQL) a backslash also escapes the next
//     character;
//   - a "double-quoted" or `backquoted` (MySQL) identifier;
//   - a -- line comment or a /* block comment */, which nest as in
//     PostgreSQL ('#' starts no comment: it is an operator in PostgreSQL);
//   - a dollar-quoted string, $$...$$ or $tag$...$tag$ ($1 is a parameter);
//   - the BEGIN ... END body of a CREATE TRIGGER, PROCEDURE, FUNCTION or
//     EVENT statement (with OR REPLACE, TEMP, TEMPORARY or DEFINER = user
//     allowed after CREATE): the statement ends at the first ';' after the
//     END that closes its BEGIN. CASE ... END inside counts as a block of its
//     own, and END IF, END LOOP, END WHILE, END REPEAT and END FOR close
//     nothing.
//
// A statement starts at its first token that is not a comment: comments
// between statements are dropped, comments inside one are kept. Statements
// that are empty or only comments are dropped, so a file of only comments
// has none; a MySQL /*! executable comment */ counts as SQL. The last
// statement needs no ';'.
//
// A string, identifier, comment, dollar quote or BEGIN block still open at
// the end of the file is an error naming the line where it began.
func Split(sql string) ([]Statement, error) {
	toks, err := scanSQL(sql)
	if err != nil {
		return nil, err
	}
	var stmts []Statement
	for i := 0; i < len(toks); i++ {
		first := toks[i]
		if first.is(";") || first.kind == tokComment && !strings.HasPrefix(first.text, "/*!") {
			continue // between statements
		}
		n, err := statementLen(toks[i:])
		if err != nil {
			return nil, err
		}
		end := len(sql)
		if i+n < len(toks) {
			end = toks[i+n].pos // the ';'
		}
		stmts = append(stmts, Statement{
			SQL:  strings.TrimRight(sql[first.pos:end], spaces),
			Line: first.line,
		})
		i += n
	}
	return stmts, nil
}

// statementLen returns how many of toks make up the statement they begin
// with, not counting the ';' that ends it.
func statementLen(toks []sqlToken) (int, error) {
	routine := isRoutine(toks)
	depth := 0        // open BEGIN and CASE blocks
	var open sqlToken // the outermost open block's BEGIN or CASE
	var prev sqlToken // the last token that is not a comment
	for i, t := range toks {
		switch {
		case t.is(";"):
			if depth == 0 {
				return i, nil
			}
		case !routine:
		case t.is("BEGIN") || t.is("CASE") && !prev.is("END"): // END CASE opens nothing
			if depth == 0 {
				open = t
			}
			depth++
		case t.is("END") && depth > 0 && !nextCode(toks[i+1:]).isAny("IF", "LOOP", "WHILE", "REPEAT", "FOR"):
			depth--
		}
		if t.kind != tokComment {
			prev = t
		}
	}
	if depth > 0 {
		return 0, fmt.Errorf("line %d: unterminated %s ... END block starting here", open.line, strings.ToUpper(open.text))
	}
	return len(toks), nil
}

// isRoutine reports whether toks begin a CREATE TRIGGER, PROCEDURE, FUNCTION
// or EVENT statement, whose body may hold ';' inside BEGIN ... END.
func isRoutine(toks []sqlToken) bool {
	n := 0 // tokens seen, comments left out
	definer := false
	for _, t := range toks {
		if t.kind == tokComment {
			continue
		}
		n++
		switch {
		case n == 1:
			if !t.is("CREATE") {
				return false
			}
		case n > 12:
			return false
		case t.isAny("TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"):
			return true
		case t.is("DEFINER"):
			definer = true
		case definer: // DEFINER = 'user'@'host', `user`@`host`, CURRENT_USER()
		case t.isAny("OR", "REPLACE", "TEMP", "TEMPORARY", "AGGREGATE", "CONSTRAINT"):
		default:
			return false
		}
	}
	return false
}

// nextCode returns the first of toks that is not a comment, or the zero
// token if there is none.
func nextCode(toks []sqlToken) sqlToken {
	for _, t := range toks {
		if t.kind != tokComment {
			return t
		}
	}
	return sqlToken{}
}

// tokenKind says what a sqlToken is.
type tokenKind int

const (
	tokNone    tokenKind = iota // no token: past the end
	tokWord                     // keyword, bare identifier or number
	tokIdent                    // "double-quoted" or `backquoted` identifier
	tokString                   // '...', E'...' or $tag$...$tag$
	tokComment                  // -- line comment or /* block comment */
	tokPunct                    // any other character, one at a time
)

// sqlToken is a token of SQL text.
type sqlToken struct {
	kind tokenKind
	text string // as written, with its quotes or comment marks
	pos  int    // byte offset of text in the scanned source
	line int    // 1-based line of the source where text begins
}

// end returns the byte offset just after t.
func (t sqlToken) end() int { return t.pos + len(t.text) }

// is reports whether t is the keyword or punctuation s, ignoring case.
func (t sqlToken) is(s string) bool {
	return (t.kind == tokWord || t.kind == tokPunct) && strings.EqualFold(t.text, s)
}

// isAny reports whether t is one of the keywords or punctuation ss.
func (t sqlToken) isAny(ss ...string) bool {
	for _, s := range ss {
		if t.is(s) {
			return true
		}
	}
	return false
}

// isName reports whether t can be a table or column name.
func (t sqlToken) isName() bool { return t.kind == tokWord || t.kind == tokIdent }

// spaces are the white space characters between tokens.
const spaces = " \t\n\r\v\f"

// scanSQL cuts src into tokens, white space left out. A string, identifier,
// comment or dollar quote still open at the end runs to the end of src, and
// the error names what it is and the line where it began; the tokens are
// returned with it.
func scanSQL(src string) ([]sqlToken, error) {
	var toks []sqlToken
	line := 1
	for i := 0; i < len(src); {
		if strings.IndexByte(spaces, src[i]) >= 0 {
			if src[i] == '\n' {
				line++
			}
			i++
			continue
		}
		kind, end, open := nextToken(src, i)
		t := sqlToken{kind: kind, text: src[i:end], pos: i, line: line}
		toks = append(toks, t)
		if open != "" {
			return toks, fmt.Errorf("line %d: unterminated %s starting here", line, open)
		}
		line += strings.Count(t.text, "\n")
		i = end
	}
	return toks, nil
}

// nextToken returns the kind and end of the token that starts at src[i],
// which is not white space. When the token is still open at the end of src,
// end is len(src) and open says what it is, e.g. "string literal".
func nextToken(src string, i int) (kind tokenKind, end int, open string) {
	rest := src[i:]
	n := 0 // the token's length, or -1 if it is still open at the end
	switch {
	case strings.HasPrefix(rest, "--"):
		n = strings.IndexByte(rest, '\n')
		if n < 0 {
			n = len(rest)
		}
		return tokComment, i + n, ""
	case strings.HasPrefix(rest, "/*"):
		kind, open = tokComment, "block comment"
		n = blockCommentLen(rest)
	case rest[0] == '\'':
		kind, open = tokString, "string literal"
		n = quotedLen(rest, false)
	case rest[0] == '"' || rest[0] == '`':
		kind, open = tokIdent, "quoted identifier"
		n = quotedLen(rest, false)
	case dollarTag(rest) != "":
		tag := dollarTag(rest)
		kind, open = tokString, "dollar-quoted string "+tag
		n = strings.Index(rest[len(tag):], tag)
		if n >= 0 {
			n += 2 * len(tag)
		}
	case isWordStart(rest[0]):
		n = 1
		for n < len(rest) && (isWordStart(rest[n]) || rest[n] == '$') {
			n++
		}
		if n == 1 && (rest[0] == 'E' || rest[0] == 'e') && len(rest) > 1 && rest[1] == '\'' {
			kind, open = tokString, "string literal"
			n = quotedLen(rest[1:], true)
			if n >= 0 {
				n++
			}
			break
		}
		return tokWord, i + n, ""
	default:
		return tokPunct, i + 1, ""
	}
	if n < 0 {
		return kind, len(src), open
	}
	return kind, i + n, ""
}

// isWordStart reports whether c can begin a keyword, identifier or number.
// Bytes of multi-byte UTF-8 characters count as letters, as in PostgreSQL.
func isWordStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c >= 0x80
}

// quotedLen returns the length of the quoted text at the start of s, up to
// and with the quote that closes it, or -1 if none does. A doubled quote
// stands for one; with backslash, a backslash escapes the next character.
func quotedLen(s string, backslash bool) int {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case backslash && s[i] == '\\':
			i++
		case s[i] != q:
		case i+1 < len(s) && s[i+1] == q:
			i++
		default:
			return i + 1
		}
	}
	return -1
}

// blockCommentLen returns the length of the block comment at the start of
// s, nested comments included, or -1 if it is not closed.
func blockCommentLen(s string) int {
	depth := 0
	for i := 0; i+1 < len(s); i++ {
		switch s[i : i+2] {
		case "/*":
			depth++
			i++
		case "*/":
			depth--
			i++
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// dollarTag returns the $$ or $tag$ that s starts with, or "" if it starts
// with none. A tag is made of letters, digits and '_' and does not begin
// with a digit, so $1 is a parameter.
func dollarTag(s string) string {
	if len(s) < 2 || s[0] != '$' || '0' <= s[1] && s[1] <= '9' {
		return ""
	}
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '$':
			return s[:i+1]
		case !isWordStart(s[i]):
			return ""
		}
	}
	return ""
}
