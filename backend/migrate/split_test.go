package migrate

import (
	"slices"
	"strings"
	"testing"
)

// splitCase is a file and the statements Split finds in it.
type splitCase struct {
	name string
	in   string
	want []Statement
}

func splitCases() []splitCase {
	return []splitCase{
		{
			name: "one statement without a final semicolon",
			in:   "SELECT 1",
			want: []Statement{{"SELECT 1", 1}},
		},
		{
			name: "statements and their lines",
			in:   "CREATE TABLE a (id int);\n\nCREATE TABLE b (\n  id int\n);\nSELECT 1;\n",
			want: []Statement{{"CREATE TABLE a (id int)", 1}, {"CREATE TABLE b (\n  id int\n)", 3}, {"SELECT 1", 6}},
		},
		{
			name: "empty statements are dropped",
			in:   ";;\n ;  SELECT 1;;\n;",
			want: []Statement{{"SELECT 1", 2}},
		},
		{
			name: "a file of only comments has no statements",
			in:   "-- nothing here;\n/* nor; here */\n",
			want: nil,
		},
		{
			name: "an empty file has no statements",
			in:   "",
			want: nil,
		},
		{
			name: "comments between statements are dropped, comments inside kept",
			in:   "-- the users\nCREATE TABLE users ( -- one per person;\n  id int /* ; */\n);\n-- done;\n",
			want: []Statement{{"CREATE TABLE users ( -- one per person;\n  id int /* ; */\n)", 2}},
		},
		{
			name: "a comment before the semicolon is kept",
			in:   "SELECT 1 -- one\n;SELECT 2",
			want: []Statement{{"SELECT 1 -- one", 1}, {"SELECT 2", 2}},
		},
		{
			name: "a string holding a semicolon, keywords and a comment mark",
			in:   "INSERT INTO t VALUES ('DROP TABLE x; --');\nSELECT 2;",
			want: []Statement{{"INSERT INTO t VALUES ('DROP TABLE x; --')", 1}, {"SELECT 2", 2}},
		},
		{
			name: "a doubled quote in a string",
			in:   "INSERT INTO t VALUES ('it''s; fine');SELECT 2",
			want: []Statement{{"INSERT INTO t VALUES ('it''s; fine')", 1}, {"SELECT 2", 1}},
		},
		{
			name: "a backslash escapes a quote in an E string",
			in:   `SELECT E'it\'s; \\'; SELECT e'\'';`,
			want: []Statement{{`SELECT E'it\'s; \\'`, 1}, {`SELECT e'\''`, 1}},
		},
		{
			name: "a backslash escapes nothing in a plain string",
			in:   `SELECT 'C:\'; SELECT 2`,
			want: []Statement{{`SELECT 'C:\'`, 1}, {"SELECT 2", 1}},
		},
		{
			name: "a string over several lines",
			in:   "INSERT INTO t VALUES ('a;\nb;\nc');\nSELECT 2;",
			want: []Statement{{"INSERT INTO t VALUES ('a;\nb;\nc')", 1}, {"SELECT 2", 4}},
		},
		{
			name: "a double-quoted identifier",
			in:   `CREATE TABLE "a;b" ("x"";" int); SELECT 2`,
			want: []Statement{{`CREATE TABLE "a;b" ("x"";" int)`, 1}, {"SELECT 2", 1}},
		},
		{
			name: "a backquoted identifier",
			in:   "CREATE TABLE `a;b` (`x``;` int); SELECT 2",
			want: []Statement{{"CREATE TABLE `a;b` (`x``;` int)", 1}, {"SELECT 2", 1}},
		},
		{
			name: "hash starts no comment",
			in:   "SELECT 5 # 3;\nSELECT 2;",
			want: []Statement{{"SELECT 5 # 3", 1}, {"SELECT 2", 2}},
		},
		{
			name: "nested block comments",
			in:   "/* outer /* inner; */ still; */ SELECT 1; /*/**/;*/\nSELECT 2",
			want: []Statement{{"SELECT 1", 1}, {"SELECT 2", 2}},
		},
		{
			name: "a dollar quote without a tag",
			in:   "SELECT $$a; 'b$$; SELECT 2",
			want: []Statement{{"SELECT $$a; 'b$$", 1}, {"SELECT 2", 1}},
		},
		{
			name: "a dollar quote with a tag holds $$",
			in:   "SELECT $fn$ a $$; $$ b $fn$;\nSELECT 2",
			want: []Statement{{"SELECT $fn$ a $$; $$ b $fn$", 1}, {"SELECT 2", 2}},
		},
		{
			name: "placeholders and parameters are not dollar quotes",
			in:   "SELECT $1; SELECT $2, $name; SELECT a$b$ FROM t",
			want: []Statement{{"SELECT $1", 1}, {"SELECT $2, $name", 1}, {"SELECT a$b$ FROM t", 1}},
		},
		{
			name: "a PL/pgSQL function body",
			in: `CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_touch BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION touch();
`,
			want: []Statement{
				{"CREATE OR REPLACE FUNCTION touch() RETURNS trigger AS $$\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql", 1},
				{"CREATE TRIGGER users_touch BEFORE UPDATE ON users\n  FOR EACH ROW EXECUTE FUNCTION touch()", 8},
			},
		},
		{
			name: "a PostgreSQL BEGIN ATOMIC body",
			in:   "CREATE FUNCTION one() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND;\nSELECT 2;",
			want: []Statement{{"CREATE FUNCTION one() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND", 1}, {"SELECT 2", 5}},
		},
		{
			name: "a SQLite trigger with CASE ... END inside",
			in: `CREATE TABLE a (x int);
CREATE TRIGGER a_check BEFORE INSERT ON a
BEGIN
  SELECT CASE WHEN NEW.x < 0 THEN RAISE(ABORT, 'negative; no') END;
  UPDATE a SET x = CASE x WHEN 1 THEN 2 ELSE 3 END;
END;
INSERT INTO a VALUES (1);`,
			want: []Statement{
				{"CREATE TABLE a (x int)", 1},
				{"CREATE TRIGGER a_check BEFORE INSERT ON a\nBEGIN\n  SELECT CASE WHEN NEW.x < 0 THEN RAISE(ABORT, 'negative; no') END;\n  UPDATE a SET x = CASE x WHEN 1 THEN 2 ELSE 3 END;\nEND", 2},
				{"INSERT INTO a VALUES (1)", 7},
			},
		},
		{
			name: "a SQLite temporary trigger",
			in:   "create temp trigger t after delete on a begin delete from b; end; select 1",
			want: []Statement{{"create temp trigger t after delete on a begin delete from b; end", 1}, {"select 1", 1}},
		},
		{
			name: "a MySQL trigger with a DEFINER and END IF",
			in:   "CREATE DEFINER=`root`@`localhost` TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\n  IF NEW.x < 0 THEN SET NEW.x = 0; END IF;\nEND;\nSELECT 1;",
			want: []Statement{{"CREATE DEFINER=`root`@`localhost` TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\n  IF NEW.x < 0 THEN SET NEW.x = 0; END IF;\nEND", 1}, {"SELECT 1", 4}},
		},
		{
			name: "a MySQL procedure with loops, a CASE statement and a labelled block",
			in: `CREATE DEFINER = CURRENT_USER PROCEDURE p()
BEGIN
  DECLARE i INT DEFAULT 0;
  lbl: LOOP SET i = i + 1; IF i > 3 THEN LEAVE lbl; END IF; END LOOP lbl;
  WHILE i > 0 DO SET i = i - 1; END WHILE;
  REPEAT SET i = i + 1; UNTIL i > 2 END REPEAT;
  CASE i WHEN 0 THEN SELECT 1; ELSE SELECT 2; END CASE;
  inner_block: BEGIN SELECT 3; END inner_block;
END;
SELECT 4`,
			want: []Statement{
				{"CREATE DEFINER = CURRENT_USER PROCEDURE p()\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  lbl: LOOP SET i = i + 1; IF i > 3 THEN LEAVE lbl; END IF; END LOOP lbl;\n  WHILE i > 0 DO SET i = i - 1; END WHILE;\n  REPEAT SET i = i + 1; UNTIL i > 2 END REPEAT;\n  CASE i WHEN 0 THEN SELECT 1; ELSE SELECT 2; END CASE;\n  inner_block: BEGIN SELECT 3; END inner_block;\nEND", 1},
				{"SELECT 4", 10},
			},
		},
		{
			name: "a MySQL function without BEGIN ends at its semicolon",
			in:   "CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN CASE WHEN 1 THEN 1 END; SELECT 2;",
			want: []Statement{{"CREATE FUNCTION f() RETURNS INT DETERMINISTIC RETURN CASE WHEN 1 THEN 1 END", 1}, {"SELECT 2", 1}},
		},
		{
			name: "BEGIN outside a routine is a statement",
			in:   "BEGIN;\nCREATE TABLE trigger_log (id int);\nEND;",
			want: []Statement{{"BEGIN", 1}, {"CREATE TABLE trigger_log (id int)", 2}, {"END", 3}},
		},
		{
			name: "CRLF line endings",
			in:   "CREATE TABLE a (id int);\r\n-- b\r\nCREATE TABLE b (\r\n  id int\r\n)  \r\n;\r\nSELECT 1\r\n",
			want: []Statement{{"CREATE TABLE a (id int)", 1}, {"CREATE TABLE b (\r\n  id int\r\n)", 3}, {"SELECT 1", 7}},
		},
		{
			name: "a MySQL executable comment is a statement",
			in:   "/*!40101 SET NAMES utf8mb4 */;\nSELECT 1;",
			want: []Statement{{"/*!40101 SET NAMES utf8mb4 */", 1}, {"SELECT 1", 2}},
		},
		{
			name: "multi-byte text",
			in:   "INSERT INTO café VALUES ('é;ü'); SELECT 2",
			want: []Statement{{"INSERT INTO café VALUES ('é;ü')", 1}, {"SELECT 2", 1}},
		},
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range splitCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Split(tc.in)
			if err != nil {
				t.Fatalf("Split(%q): %v", tc.in, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Split(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
		})
	}
}

// splitErrorCases are files that do not split, and the error they give.
func splitErrorCases() []struct{ name, in, want string } {
	return []struct{ name, in, want string }{
		{"string literal", "SELECT 1;\n\nSELECT 'abc;\ndef", "line 3: unterminated string literal starting here"},
		{"E string ending in an escaped quote", "SELECT E'abc\\'", "line 1: unterminated string literal starting here"},
		{"double-quoted identifier", "SELECT 1;\nSELECT \"abc;", "line 2: unterminated quoted identifier starting here"},
		{"backquoted identifier", "SELECT `abc``;", "line 1: unterminated quoted identifier starting here"},
		{"nested block comment closed once", "SELECT 1;\n/* a /* b */\nSELECT 2;", "line 2: unterminated block comment starting here"},
		{"block comment opened by its own slash", "SELECT 1 /*/", "line 1: unterminated block comment starting here"},
		{"dollar quote with a tag", "SELECT 1;\nSELECT $fn$ body $$;\n", "line 2: unterminated dollar-quoted string $fn$ starting here"},
		{"dollar quote without a tag", "\n\nSELECT $$ body;", "line 3: unterminated dollar-quoted string $$ starting here"},
		{"trigger without END", "SELECT 1;\nCREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n  DELETE FROM b;\n", "line 3: unterminated BEGIN ... END block starting here"},
		{"CRLF line endings", "SELECT 1;\r\n\r\nSELECT 'x;\r\n", "line 3: unterminated string literal starting here"},
	}
}

func TestSplitErrors(t *testing.T) {
	for _, tc := range splitErrorCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Split(tc.in)
			if err == nil {
				t.Fatalf("Split(%q) = %#v, want error %q", tc.in, got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Split(%q) error\n got %q\nwant %q", tc.in, err, tc.want)
			}
		})
	}
}

func FuzzSplit(f *testing.F) {
	for _, tc := range splitCases() {
		f.Add(tc.in)
	}
	for _, tc := range splitErrorCases() {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		stmts, err := Split(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("Split(%q) error %q does not name a line", in, err)
			}
			return
		}
		lines := strings.Count(in, "\n") + 1
		pos := 0 // where the previous statement ends in the input
		for i, s := range stmts {
			if s.Line < 1 || s.Line > lines {
				t.Fatalf("Split(%q): statement %d on line %d of a %d-line file", in, i+1, s.Line, lines)
			}
			if s.SQL == "" || strings.Trim(s.SQL, spaces) != s.SQL {
				t.Fatalf("Split(%q): statement %d %q is empty or untrimmed", in, i+1, s.SQL)
			}
			at := strings.Index(in[pos:], s.SQL)
			if at < 0 {
				t.Fatalf("Split(%q): statement %d %q is not in the input after offset %d", in, i+1, s.SQL, pos)
			}
			pos += at + len(s.SQL)
			// A statement on its own splits into itself.
			again, err := Split(s.SQL)
			if err != nil || len(again) != 1 || again[0].SQL != s.SQL {
				t.Fatalf("Split(%q) = %#v, %v; want the statement itself", s.SQL, again, err)
			}
		}
	})
}
