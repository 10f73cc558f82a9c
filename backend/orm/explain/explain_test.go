package explain

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
)

// render prints a tree one node per line, indented, with full scans marked.
func render(nodes []*Node, depth int, b *strings.Builder) {
	for _, n := range nodes {
		b.WriteString(strings.Repeat("  ", depth) + n.Label)
		if n.FullScan {
			b.WriteString(" [full scan]")
		}
		b.WriteString("\n")
		render(n.Children, depth+1, b)
	}
}

// The fixtures are real server output (PostgreSQL 15 EXPLAIN (ANALYZE,
// FORMAT JSON) and MariaDB 10.11 EXPLAIN FORMAT=JSON of a join with
// grouping); the live servers are exercised by the dialects' own tests.
func TestParsers(t *testing.T) {
	cases := []struct {
		file  string
		parse func([]byte) ([]*Node, error)
		want  string
	}{
		{"postgres.json", postgresTree, "Aggregate\n  Inner Hash Join\n    Seq Scan on posts [full scan]\n    Hash\n      Seq Scan on users [full scan]\n"},
		{"mysql.json", mysqlTree, "query block\n  filesort\n    temporary table\n      ALL on p [full scan]\n      eq_ref on u\n"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			nodes, err := c.parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			render(nodes, 0, &b)
			if b.String() != c.want {
				t.Errorf("tree:\n%s\nwant:\n%s", b.String(), c.want)
			}
		})
	}
	if _, err := postgresTree([]byte("not json")); err == nil {
		t.Error("postgresTree accepted garbage")
	}
	if _, err := mysqlTree([]byte(`{"nope": 1}`)); err == nil {
		t.Error("mysqlTree accepted a document without query_block")
	}
}

func TestRunSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "e.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := orm.Exec(ctx, db, `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, age INT)`); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		sql      string
		args     []any
		fullScan bool
	}{
		{`SELECT * FROM users WHERE email = ?`, []any{"a"}, false},
		{`SELECT * FROM users WHERE age > ?`, []any{3}, true},
	}
	for _, c := range cases {
		plan, err := Run(ctx, db, c.sql, c.args, true)
		if err != nil {
			t.Fatal(err)
		}
		if plan.Dialect != "sqlite" || plan.Analyzed || len(plan.Nodes) == 0 || plan.Nodes[0].FullScan != c.fullScan || plan.Raw == "" {
			t.Errorf("%s: %+v, first node %+v; want fullScan %v", c.sql, plan, plan.Nodes[0], c.fullScan)
		}
	}
	if _, err := Run(ctx, db, "SELECT * FROM nowhere", nil, false); err == nil {
		t.Error("explain of a missing table succeeded")
	}
	if _, err := Run(ctx, db, "  ", nil, false); err == nil {
		t.Error("explain of nothing succeeded")
	}
}
