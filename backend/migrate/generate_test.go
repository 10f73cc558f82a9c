package migrate_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/migrate"
	"github.com/covetpy/covet/backend/orm"
)

func table(t *testing.T, name string, cols ...orm.Column) *orm.Table {
	t.Helper()
	tbl, err := orm.Define(name, cols...)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestGenerate: a migration generated from models creates what is missing,
// applies, rolls back to the schema before it, and once applied leaves
// nothing more to generate; what the models lack is only noted.
func TestGenerate(t *testing.T) {
	id := orm.Column{Name: "id", Type: reflect.TypeFor[int64](), PrimaryKey: true, AutoIncrement: true}
	email := orm.Column{Name: "email", Type: reflect.TypeFor[string](), MaxLength: 200, Unique: true}
	age := orm.Column{Name: "age", Type: reflect.TypeFor[int64](), Nullable: true, Index: true}
	for name, private := range dialects() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := private(t)()
			dir := t.TempDir()
			apply := func(want int64) {
				t.Helper()
				ms, err := migrate.Load(os.DirFS(dir))
				if err != nil {
					t.Fatal(err)
				}
				rep := run(t, newMigrator(t, db, ms), migrate.Request{Action: migrate.Up, Force: true})
				if rep.Current != want {
					t.Fatalf("current = %d, want %d", rep.Current, want)
				}
			}
			users := table(t, "users", id, email)
			d, err := migrate.Generate(ctx, db, db.Dialect(), users)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Up) != 1 || !strings.HasPrefix(d.Up[0], "CREATE TABLE") || len(d.Down) != 1 || !strings.HasPrefix(d.Down[0], "DROP TABLE") {
				t.Fatalf("draft for a missing table: %+v", d)
			}
			empty := dump(t, db)
			if _, _, err := d.Write(dir, "users"); err != nil {
				t.Fatal(err)
			}
			apply(1)
			if d, err := migrate.Generate(ctx, db, db.Dialect(), users); err != nil || !d.Empty() {
				t.Fatalf("after applying, the draft is %+v, %v; want empty", d, err)
			}
			if _, _, err := (&migrate.Draft{}).Write(dir, "nothing"); err == nil {
				t.Error("writing an empty draft succeeded")
			}

			// A column more in the model.
			before := dump(t, db)
			d, err = migrate.Generate(ctx, db, db.Dialect(), table(t, "users", id, email, age))
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Up) != 2 || !strings.Contains(d.Up[0], "ADD COLUMN") || !strings.HasPrefix(d.Up[1], "CREATE INDEX") || len(d.Down) != 2 || !strings.HasPrefix(d.Down[0], "DROP INDEX") || !strings.Contains(d.Down[1], "DROP COLUMN") {
				t.Fatalf("draft for a missing column: %+v", d)
			}
			up, _, err := d.Write(dir, "age")
			if err != nil || filepath.Base(up) != "0002_age.up.sql" {
				t.Fatalf("Write = %s, %v", up, err)
			}
			apply(2)
			if !strings.Contains(dump(t, db), "age") {
				t.Error("the column was not added")
			}
			ms, _ := migrate.Load(os.DirFS(dir))
			run(t, newMigrator(t, db, ms), migrate.Request{Action: migrate.Down, Force: true})
			if got := dump(t, db); got != before {
				t.Errorf("rolling the generated migration back gives\n%s\nwant\n%s", got, before)
			}
			run(t, newMigrator(t, db, ms), migrate.Request{Action: migrate.To, Version: 0, Force: true})
			if got := dump(t, db); got != empty {
				t.Errorf("rolling everything back gives\n%s\nwant\n%s", got, empty)
			}

			// A column less in the model is noted, never dropped.
			apply(2)
			d, err = migrate.Generate(ctx, db, db.Dialect(), users)
			if err != nil || !d.Empty() || len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "users.age is in the database but not in the model") {
				t.Errorf("draft for a column the model lacks: %+v, %v", d, err)
			}
		})
	}
}
