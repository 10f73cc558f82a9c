package orm_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/orm"
)

// FuzzQueryStructure shows that nothing a caller passes through the query
// API, values or names, changes the structure of the SQL: a value only ever
// becomes an argument, and a name is either a known column (and the SQL is
// the one for that column) or an error.
func FuzzQueryStructure(f *testing.F) {
	for _, s := range []string{"Ann", "x' OR '1'='1", `"; DROP TABLE users; --`, "name", "Email", "users.name", "age", "count(*)", "-id", "?", "$1", "`", "\x00"} {
		f.Add(s)
	}
	db := openSQLite(f)
	f.Cleanup(func() { db.Close() })
	known := map[string]string{}
	tbl, err := orm.Mapping[user](db)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range tbl.Columns {
		known[c.Name], known[c.Field] = c.Name, c.Name
	}
	template := func(col string) string {
		order := `"` + col + `"`
		if tbl.Column(col).Nullable { // SQLite sorts NULLs first; the ORM puts them last
			order = order + " IS NULL, " + order
		}
		return `SELECT "id", "name", "email", "age", "token" FROM "users" WHERE "` + col + `" = ? ORDER BY ` + order
	}
	f.Fuzz(func(t *testing.T, s string) {
		// As a value.
		sql, args, err := orm.From[user](db).Where(orm.Eq("name", s)).OrderBy("name").ToSQL()
		if err != nil || sql != template("name") || len(args) != 1 || args[0] != s {
			t.Fatalf("value %q: %q %v %v", s, sql, args, err)
		}
		// As a column name in Where and OrderBy.
		sql, _, err = orm.From[user](db).Where(orm.Eq(s, 1)).OrderBy(s).ToSQL()
		col, ok := known[strings.TrimPrefix(s, "users.")]
		if strings.HasPrefix(s, "-") || strings.Count(s, ".") > 1 || strings.Contains(s, ".") && !strings.HasPrefix(s, "users.") {
			ok = false
		}
		switch {
		case ok && (err != nil || sql != template(col)):
			t.Fatalf("known column %q: %q %v", s, sql, err)
		case !ok && err == nil:
			t.Fatalf("unknown name %q was accepted: %q", s, sql)
		}
		// As a selected item: only known columns and allowed aggregates.
		sql, _, err = orm.From[user](db).Select(s).ToSQL()
		if err == nil && !slices.ContainsFunc(tbl.Columns, func(c *orm.Column) bool { return strings.Contains(sql, `"`+c.Name+`"`) }) && !strings.Contains(sql, "COUNT(*)") {
			t.Fatalf("Select(%q) gave %q", s, sql)
		}
		if err == nil && strings.ContainsAny(strings.TrimPrefix(sql, "SELECT "), ";'\x00") {
			t.Fatalf("Select(%q) let text through: %q", s, sql)
		}
	})
}
