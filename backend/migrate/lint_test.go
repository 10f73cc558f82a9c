package migrate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// lintCase is a migration file and the warnings Lint gives for it, each as
// "statement:line rule: message".
type lintCase struct {
	name    string
	dialect string
	in      string
	want    []string
}

func lintCases() []lintCase {
	return []lintCase{
		// drop-table, drop-database, drop-schema
		{
			name:    "drop table",
			dialect: "postgres",
			in:      "DROP TABLE users;",
			want:    []string{"1:1 drop-table: drops table users and every row in it"},
		},
		{
			name:    "drop several tables if they exist",
			dialect: "postgres",
			in:      "drop table if exists public.users, \"Orders\" cascade;",
			want: []string{
				"1:1 drop-table: drops table public.users and every row in it",
				`1:1 drop-table: drops table "Orders" and every row in it`,
			},
		},
		{
			name:    "drop a MySQL table in a database",
			dialect: "mysql",
			in:      "DROP TABLE IF EXISTS `shop`.`users`;",
			want:    []string{"1:1 drop-table: drops table `shop`.`users` and every row in it"},
		},
		{
			name:    "statement index and line",
			dialect: "sqlite",
			in:      "CREATE TABLE a (id INTEGER);\n\n-- a is enough\nDROP TABLE b;",
			want:    []string{"2:4 drop-table: drops table b and every row in it"},
		},
		{
			name:    "drop database and schema",
			dialect: "mysql",
			in:      "DROP DATABASE IF EXISTS shop;\nDROP SCHEMA sales;",
			want: []string{
				"1:1 drop-database: drops database shop and every table in it",
				"2:2 drop-schema: drops schema sales and every table in it",
			},
		},
		{
			name:    "drop a PostgreSQL schema",
			dialect: "postgres",
			in:      "DROP SCHEMA IF EXISTS sales CASCADE;",
			want:    []string{"1:1 drop-schema: drops schema sales and every table in it"},
		},

		// drop-column
		{
			name:    "drop column",
			dialect: "postgres",
			in:      "ALTER TABLE users DROP COLUMN email;\nALTER TABLE IF EXISTS ONLY users DROP COLUMN IF EXISTS phone CASCADE;\nALTER TABLE users DROP fax;",
			want: []string{
				"1:1 drop-column: drops column users.email and its data",
				"2:2 drop-column: drops column users.phone and its data",
				"3:3 drop-column: drops column users.fax and its data",
			},
		},
		{
			name:    "drop column in SQLite",
			dialect: "sqlite",
			in:      "ALTER TABLE users DROP COLUMN email;",
			want:    []string{"1:1 drop-column: drops column users.email and its data"},
		},
		{
			name:    "drop columns among other actions, with their lines",
			dialect: "mysql",
			in:      "ALTER TABLE users\n  DROP INDEX idx_email,\n  DROP COLUMN email,\n  DROP `phone`,\n  ADD COLUMN note TEXT;",
			want: []string{
				"1:3 drop-column: drops column users.email and its data",
				"1:4 drop-column: drops column users.`phone` and its data",
			},
		},
		{
			name:    "quoted names are named as written",
			dialect: "postgres",
			in:      `ALTER TABLE "Users" DROP COLUMN "Email";`,
			want:    []string{`1:1 drop-column: drops column "Users"."Email" and its data`},
		},
		{
			name:    "dropping a constraint, index, default or NOT NULL drops no column",
			dialect: "postgres",
			in: "ALTER TABLE users DROP CONSTRAINT users_email_key;\n" +
				"ALTER TABLE users DROP CONSTRAINT IF EXISTS c2, ALTER COLUMN email DROP DEFAULT;\n" +
				"ALTER TABLE users ALTER COLUMN email DROP NOT NULL;\n" +
				"ALTER TABLE users ALTER email DROP IDENTITY;",
		},
		{
			name:    "dropping MySQL keys and checks drops no column",
			dialect: "mysql",
			in:      "ALTER TABLE users DROP INDEX i, DROP KEY k, DROP FOREIGN KEY fk, DROP PRIMARY KEY, DROP CHECK chk, ALTER COLUMN a DROP DEFAULT;",
		},

		// narrow-type
		{
			name:    "PostgreSQL column type change",
			dialect: "postgres",
			in:      "ALTER TABLE users ALTER COLUMN name TYPE varchar(50) USING left(name, 50);\nALTER TABLE users ALTER price SET DATA TYPE numeric(10, 2);",
			want: []string{
				"1:1 narrow-type: changes the type of column users.name to varchar(50): values that do not fit are lost or make it fail",
				"2:2 narrow-type: changes the type of column users.price to numeric(10, 2): values that do not fit are lost or make it fail",
			},
		},
		{
			name:    "PostgreSQL multi-word type",
			dialect: "postgres",
			in:      "ALTER TABLE t ALTER COLUMN at TYPE timestamp with time zone COLLATE \"C\";",
			want:    []string{"1:1 narrow-type: changes the type of column t.at to timestamp with time zone: values that do not fit are lost or make it fail"},
		},
		{
			name:    "MySQL MODIFY",
			dialect: "mysql",
			in:      "ALTER TABLE users MODIFY COLUMN name VARCHAR(50) NOT NULL DEFAULT '';\nALTER TABLE users MODIFY age TINYINT UNSIGNED;",
			want: []string{
				"1:1 narrow-type: changes the type of column users.name to VARCHAR(50): values that do not fit are lost or make it fail",
				"2:2 narrow-type: changes the type of column users.age to TINYINT UNSIGNED: values that do not fit are lost or make it fail",
			},
		},
		{
			name:    "MySQL CHANGE with and without a new name",
			dialect: "mysql",
			in:      "ALTER TABLE users CHANGE COLUMN name full_name VARCHAR(100) NOT NULL;\nALTER TABLE users CHANGE `kind` kind ENUM('a', 'b');",
			want: []string{
				"1:1 narrow-type: changes the type of column users.name to VARCHAR(100): values that do not fit are lost or make it fail",
				"1:1 rename: renames column users.name to full_name: renaming breaks code still using the old name",
				"2:2 narrow-type: changes the type of column users.`kind` to ENUM('a', 'b'): values that do not fit are lost or make it fail",
			},
		},

		// not-null-without-default
		{
			name:    "PostgreSQL NOT NULL column without a default",
			dialect: "postgres",
			in:      "ALTER TABLE users ADD COLUMN age int NOT NULL;",
			want:    []string{"1:1 not-null-without-default: adds column users.age NOT NULL without a DEFAULT: fails if the table has any rows"},
		},
		{
			name:    "SQLite NOT NULL column without a default",
			dialect: "sqlite",
			in:      "ALTER TABLE users ADD age INTEGER NOT NULL REFERENCES ages(id);",
			want:    []string{"1:1 not-null-without-default: adds column users.age NOT NULL without a DEFAULT: fails if the table has any rows"},
		},
		{
			name:    "MySQL NOT NULL column without a default",
			dialect: "mysql",
			in:      "ALTER TABLE users ADD COLUMN age INT NOT NULL AFTER name;",
			want:    []string{"1:1 not-null-without-default: adds column users.age NOT NULL without a DEFAULT: every existing row silently gets the type's zero value (0, '' or a zero date) instead of real data"},
		},
		{
			name:    "MySQL list of added columns",
			dialect: "mysql",
			in:      "ALTER TABLE users ADD (a INT NULL, b INT NOT NULL, INDEX (a));",
			want:    []string{"1:1 not-null-without-default: adds column users.b NOT NULL without a DEFAULT: every existing row silently gets the type's zero value (0, '' or a zero date) instead of real data"},
		},
		{
			name:    "PostgreSQL SET NOT NULL",
			dialect: "postgres",
			in:      "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
			want:    []string{"1:1 not-null-without-default: makes column users.email NOT NULL: fails if any row has NULL in it"},
		},
		{
			name:    "added columns that give existing rows a value",
			dialect: "postgres",
			in: "ALTER TABLE users ADD COLUMN a int NOT NULL DEFAULT 0;\n" +
				"ALTER TABLE users ADD COLUMN b int DEFAULT 0 NOT NULL;\n" +
				"ALTER TABLE users ADD COLUMN c bigserial NOT NULL;\n" +
				"ALTER TABLE users ADD COLUMN d int GENERATED ALWAYS AS (a + b) STORED NOT NULL;\n" +
				"ALTER TABLE users ADD COLUMN e int NOT NULL GENERATED ALWAYS AS IDENTITY;\n" +
				"ALTER TABLE users ADD COLUMN IF NOT EXISTS f text;\n" +
				"ALTER TABLE users ADD CONSTRAINT g CHECK (x IS NOT NULL);\n" +
				"ALTER TABLE users ADD COLUMN h text CHECK (h IS NOT NULL);",
		},
		{
			name:    "MySQL added columns that give existing rows a value",
			dialect: "mysql",
			in:      "ALTER TABLE users ADD COLUMN id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, ADD COLUMN total INT AS (a + b) NOT NULL, ADD PRIMARY KEY (id);",
		},

		// truncate
		{
			name:    "truncate",
			dialect: "mysql",
			in:      "TRUNCATE TABLE users;",
			want:    []string{"1:1 truncate: empties table users: every row in it is deleted"},
		},
		{
			name:    "truncate several PostgreSQL tables",
			dialect: "postgres",
			in:      "TRUNCATE ONLY a, b * RESTART IDENTITY CASCADE;",
			want: []string{
				"1:1 truncate: empties table a: every row in it is deleted",
				"1:1 truncate: empties table b: every row in it is deleted",
			},
		},

		// delete-all, update-all
		{
			name:    "delete without WHERE",
			dialect: "sqlite",
			in:      "DELETE FROM sessions;",
			want:    []string{"1:1 delete-all: deletes every row of table sessions: the DELETE has no WHERE clause"},
		},
		{
			name:    "MySQL delete without WHERE",
			dialect: "mysql",
			in:      "DELETE LOW_PRIORITY QUICK FROM sessions ORDER BY id LIMIT 10;",
			want:    []string{"1:1 delete-all: deletes every row of table sessions: the DELETE has no WHERE clause"},
		},
		{
			name:    "a WHERE only in a subquery or a string does not count",
			dialect: "postgres",
			in: "WITH old AS (SELECT id FROM users WHERE active) DELETE FROM users USING old;\n" +
				"UPDATE users SET x = (SELECT y FROM z WHERE z.id = users.id);\n" +
				"UPDATE users SET note = 'WHERE id = 1' -- WHERE\n;",
			want: []string{
				"1:1 delete-all: deletes every row of table users: the DELETE has no WHERE clause",
				"2:2 update-all: overwrites every row of table users: the UPDATE has no WHERE clause, so the old values are lost",
				"3:3 update-all: overwrites every row of table users: the UPDATE has no WHERE clause, so the old values are lost",
			},
		},
		{
			name:    "update without WHERE",
			dialect: "sqlite",
			in:      "UPDATE OR IGNORE users SET name = lower(name);",
			want:    []string{"1:1 update-all: overwrites every row of table users: the UPDATE has no WHERE clause, so the old values are lost"},
		},
		{
			name:    "MySQL update without WHERE",
			dialect: "mysql",
			in:      "UPDATE LOW_PRIORITY IGNORE `users` SET name = lower(name);",
			want:    []string{"1:1 update-all: overwrites every row of table `users`: the UPDATE has no WHERE clause, so the old values are lost"},
		},
		{
			name:    "delete and update with WHERE",
			dialect: "postgres",
			in:      "DELETE FROM users WHERE id IN (SELECT id FROM old);\nUPDATE users SET a = 1 FROM b WHERE b.id = users.id;\nWITH x AS (SELECT 1) UPDATE users SET a = 2 WHERE a IS NULL;",
		},

		// rename
		{
			name:    "rename table and column",
			dialect: "postgres",
			in:      "ALTER TABLE users RENAME TO people;\nALTER TABLE people RENAME COLUMN name TO full_name;\nALTER TABLE people RENAME email TO mail;",
			want: []string{
				"1:1 rename: renames table users to people: renaming breaks code still using the old name",
				"2:2 rename: renames column people.name to full_name: renaming breaks code still using the old name",
				"3:3 rename: renames column people.email to mail: renaming breaks code still using the old name",
			},
		},
		{
			name:    "SQLite table rebuild",
			dialect: "sqlite",
			in: "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n" +
				"INSERT INTO users_new SELECT id, name FROM users;\n" +
				"DROP TABLE users;\n" +
				"ALTER TABLE users_new RENAME TO users;",
			want: []string{
				"3:3 drop-table: drops table users and every row in it",
				"4:4 rename: renames table users_new to users: renaming breaks code still using the old name",
			},
		},
		{
			name:    "MySQL RENAME TABLE and RENAME AS",
			dialect: "mysql",
			in:      "RENAME TABLE a TO b, c TO d;\nALTER TABLE b RENAME AS e;",
			want: []string{
				"1:1 rename: renames table a to b: renaming breaks code still using the old name",
				"1:1 rename: renames table c to d: renaming breaks code still using the old name",
				"2:2 rename: renames table b to e: renaming breaks code still using the old name",
			},
		},
		{
			name:    "renaming a constraint or an index",
			dialect: "postgres",
			in:      "ALTER TABLE t RENAME CONSTRAINT a TO b;\nALTER TABLE t RENAME INDEX i TO j;",
		},

		// not destructive
		{
			name:    "creating, inserting and dropping derived objects",
			dialect: "postgres",
			in: "CREATE TABLE t (id int NOT NULL);\n" +
				"CREATE UNIQUE INDEX t_id ON t (id);\n" +
				"DROP INDEX t_id;\n" +
				"DROP VIEW IF EXISTS v;\n" +
				"DROP TRIGGER IF EXISTS trg ON t;\n" +
				"ALTER TABLE t ADD COLUMN note text;\n" +
				"ALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 0;\n" +
				"INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = 2;\n" +
				"CREATE TABLE drop_table (x int);",
		},
		{
			name:    "MySQL inserts and temporary tables",
			dialect: "mysql",
			in:      "INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2;\nDROP TEMPORARY TABLE tmp;\nDROP INDEX i ON t;",
		},
		{
			name:    "keywords in strings and comments",
			dialect: "postgres",
			in: "INSERT INTO t VALUES ('DROP TABLE x; --');\n" +
				"/* DROP TABLE users; */ SELECT 1;\n" +
				"SELECT 1 -- ; DELETE FROM users\n;\n" +
				"SELECT $$ TRUNCATE users; $$, \"DROP TABLE\";\n" +
				"-- DROP TABLE users;",
		},
		{
			name:    "statements inside routine bodies do not run",
			dialect: "mysql",
			in: "CREATE DEFINER=`root`@`%` PROCEDURE purge() BEGIN DELETE FROM sessions; DROP TABLE tmp; END;\n" +
				"CREATE TRIGGER trg AFTER DELETE ON a FOR EACH ROW BEGIN DELETE FROM b; END;",
		},
		{
			name:    "a PL/pgSQL function body",
			dialect: "postgres",
			in:      "CREATE FUNCTION purge() RETURNS void AS $fn$ BEGIN DELETE FROM sessions; END $fn$ LANGUAGE plpgsql;",
		},
		{
			name:    "an empty file",
			dialect: "postgres",
			in:      "-- nothing\n",
		},
	}
}

// lintStrings splits in and lints it, each warning written as
// "statement:line rule: message".
func lintStrings(t *testing.T, dialect, in string) []string {
	t.Helper()
	stmts, err := Split(in)
	if err != nil {
		t.Fatalf("Split(%q): %v", in, err)
	}
	var got []string
	for _, w := range Lint(dialect, stmts) {
		got = append(got, fmt.Sprintf("%d:%d %s: %s", w.Statement, w.Line, w.Rule, w.Message))
	}
	return got
}

func TestLint(t *testing.T) {
	for _, tc := range lintCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := lintStrings(t, tc.dialect, tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Lint(%q, %q)\n got %q\nwant %q", tc.dialect, tc.in, got, tc.want)
			}
		})
	}
}

func TestLintStatementsNotFromSplit(t *testing.T) {
	tests := []struct {
		name  string
		stmts []Statement
		want  []Warning
	}{
		{
			name: "no statements",
		},
		{
			name:  "the line counts from the statement's line",
			stmts: []Statement{{SQL: "SELECT 1", Line: 1}, {SQL: "ALTER TABLE t\n  DROP COLUMN c", Line: 10}},
			want:  []Warning{{Statement: 2, Line: 11, Rule: "drop-column", Message: "drops column t.c and its data"}},
		},
		{
			name:  "unterminated text",
			stmts: []Statement{{SQL: "DROP TABLE t, 'x", Line: 1}, {SQL: "DROP TABLE \"x", Line: 2}, {SQL: "ALTER TABLE t ADD (", Line: 3}},
			want:  []Warning{{Statement: 1, Line: 1, Rule: "drop-table", Message: "drops table t and every row in it"}},
		},
		{
			name:  "truncated statements",
			stmts: []Statement{{SQL: "DROP TABLE"}, {SQL: "ALTER TABLE t ALTER COLUMN c TYPE"}, {SQL: "ALTER TABLE t RENAME"}, {SQL: "UPDATE"}, {SQL: "ALTER TABLE t MODIFY"}},
			want:  []Warning{{Statement: 2, Line: 0, Rule: "narrow-type", Message: "changes the type of column t.c to another type: values that do not fit are lost or make it fail"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Lint("postgres", tc.stmts)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Lint(%#v)\n got %+v\nwant %+v", tc.stmts, got, tc.want)
			}
		})
	}
}

func FuzzLint(f *testing.F) {
	for _, tc := range lintCases() {
		f.Add(tc.dialect, tc.in)
	}
	for _, tc := range splitCases() {
		f.Add("sqlite", tc.in)
	}
	f.Fuzz(func(t *testing.T, dialect, in string) {
		stmts, err := Split(in)
		if err != nil {
			stmts = nil
		}
		// Lint takes any text, not only what Split gives.
		stmts = append(stmts, Statement{SQL: in, Line: 1})
		for _, s := range strings.Split(in, ";") {
			stmts = append(stmts, Statement{SQL: s, Line: 1})
		}
		prev := 1
		for _, w := range Lint(dialect, stmts) {
			if w.Statement < prev || w.Statement > len(stmts) || w.Rule == "" || w.Message == "" {
				t.Fatalf("Lint(%q, %q): warning %+v out of order or incomplete", dialect, in, w)
			}
			prev = w.Statement
		}
	})
}
