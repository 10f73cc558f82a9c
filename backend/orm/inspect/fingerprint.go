package inspect

import "strings"

// Fingerprint normalises a statement so that statements differing only in
// their values share one fingerprint: literals and placeholders become ?,
// lists of them (IN (…), VALUES (…), (…)) collapse to one, whitespace and
// comments collapse to single spaces, and keywords outside quotes are
// lower-cased. Quoted identifiers keep their text.
//
//	SELECT * FROM "users" WHERE id IN ($1, $2, $3)  →  select * from "users" where id in (?)
func Fingerprint(sql string) string {
	var b strings.Builder
	b.Grow(len(sql))
	space := false // a space is pending
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = true
			i++
			continue
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
			space = true
			continue
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 4
			}
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		switch {
		case c == '"' || c == '`':
			j := closing(sql, i, c)
			b.WriteString(sql[i:j])
			i = j
		case c == '\'':
			i = closing(sql, i, c)
			b.WriteByte('?')
		case c == '?' || c == '$' && i+1 < len(sql) && isDigit(sql[i+1]):
			i++
			for i < len(sql) && isDigit(sql[i]) {
				i++
			}
			b.WriteByte('?')
		case isDigit(c) && !identBefore(b.String()):
			for i < len(sql) && (isDigit(sql[i]) || sql[i] == '.' || sql[i] == 'e' || sql[i] == 'E') {
				i++
			}
			b.WriteByte('?')
		default:
			b.WriteByte(lower(c))
			i++
		}
	}
	return collapseLists(b.String())
}

// closing returns the index just past the quote that closes the one at i;
// a doubled quote inside is an escaped quote.
func closing(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// identBefore reports whether the text ends inside an identifier, where a
// digit is part of a name (t1, col2) rather than a literal.
func identBefore(s string) bool {
	if s == "" {
		return false
	}
	c := s[len(s)-1]
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// collapseLists turns "(?, ?, ?)" into "(?)" and "(?), (?), (?)" into "(?)".
func collapseLists(s string) string {
	for {
		t := strings.ReplaceAll(s, "?, ?", "?")
		t = strings.ReplaceAll(t, "?,?", "?")
		t = strings.ReplaceAll(t, "(?), (?)", "(?)")
		t = strings.ReplaceAll(t, "(?),(?)", "(?)")
		if t == s {
			return s
		}
		s = t
	}
}
