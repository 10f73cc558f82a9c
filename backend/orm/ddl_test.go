package orm_test

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/orm"
)

// everyType has a field of each Go type ColumnType maps.
type everyType struct {
	ID      int64            `db:"id,pk,auto"`
	I8      int8             `db:"i8"`
	I16     int16            `db:"i16"`
	I32     int32            `db:"i32"`
	I       int              `db:"i"`
	U8      uint8            `db:"u8"`
	U16     uint16           `db:"u16"`
	U32     uint32           `db:"u32"`
	U64     uint64           `db:"u64"`
	F32     float32          `db:"f32"`
	F64     float64          `db:"f64"`
	B       bool             `db:"b"`
	S       string           `db:"s"`
	Short   string           `db:"short,max=20"`
	Long    string           `db:"long,max=20000"`
	Unique  string           `db:"uniq,unique"`
	Indexed string           `db:"indexed,index"`
	Blob    []byte           `db:"blob"`
	At      time.Time        `db:"at"`
	MaybeAt *time.Time       `db:"maybe_at"`
	MaybeS  sql.NullString   `db:"maybe_s"`
	MaybeN  sql.Null[int64]  `db:"maybe_n"`
	MaybeB  *bool            `db:"maybe_b"`
	MaybeF  sql.Null[string] `db:"maybe_f,max=10"`
}

// TestEnsureTableKeepsItsOwnTypes: a table EnsureTable created is good as
// it is the next time, whatever the types of its columns: the catalogue's
// spelling of each type reads as the one ColumnType wrote.
func TestEnsureTableKeepsItsOwnTypes(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			defer db.Close()
			tbl, err := orm.Mapping[everyType](db)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := orm.EnsureTable(ctx, db, tbl); err != nil {
				t.Fatal(err)
			}
			if ddl, err := orm.EnsureTable(ctx, db, tbl); err != nil || len(ddl) != 0 {
				t.Errorf("second EnsureTable = %q, %v; want nothing to do", ddl, err)
			}
		})
	}
}

// TestEnsureTableRefusesTypeChanges: a column whose type in the database
// cannot hold what the table now declares is refused before any DDL runs,
// with an error that names the table, the column and both types; a column
// that is wider than declared is fine (the table's own checks bound what
// is written). SQLite enforces no length, so lengths never matter there.
func TestEnsureTableRefusesTypeChanges(t *testing.T) {
	col := func(name string, typ reflect.Type, maxLength int) orm.Column {
		return orm.Column{Name: name, Type: typ, Nullable: true, MaxLength: maxLength}
	}
	id := orm.Column{Name: "id", Type: reflect.TypeFor[int64](), PrimaryKey: true, AutoIncrement: true}
	str, i64, f64, bl, tm := reflect.TypeFor[*string](), reflect.TypeFor[*int64](), reflect.TypeFor[*float64](), reflect.TypeFor[*bool](), reflect.TypeFor[*time.Time]()
	original := []orm.Column{id, col("qty", i64, 0), col("name", str, 50), col("price", f64, 0), col("done", bl, 0), col("due", tm, 0), col("note", str, 0)}
	cases := []struct {
		name    string
		column  string                       // the column that changes
		changed orm.Column                   // what it becomes
		want    map[string]orm.ColumnProblem // by dialect; absent: accepted
	}{
		{"int to string", "qty", col("qty", str, 0), map[string]orm.ColumnProblem{"sqlite": orm.WrongType, "postgres": orm.WrongType, "mysql": orm.WrongType}},
		{"string to int", "name", col("name", i64, 0), map[string]orm.ColumnProblem{"sqlite": orm.WrongType, "postgres": orm.WrongType, "mysql": orm.WrongType}},
		{"float to bool", "price", col("price", bl, 0), map[string]orm.ColumnProblem{"sqlite": orm.WrongType, "postgres": orm.WrongType, "mysql": orm.WrongType}},
		{"bool to int", "done", col("done", i64, 0), map[string]orm.ColumnProblem{"sqlite": orm.WrongType, "postgres": orm.WrongType, "mysql": orm.WrongType}},
		{"time to string", "due", col("due", str, 0), map[string]orm.ColumnProblem{"sqlite": orm.WrongType, "postgres": orm.WrongType, "mysql": orm.WrongType}},
		{"text to time", "note", col("note", tm, 0), map[string]orm.ColumnProblem{"sqlite": orm.WrongType, "postgres": orm.WrongType, "mysql": orm.WrongType}},
		{"longer", "name", col("name", str, 100), map[string]orm.ColumnProblem{"postgres": orm.TooShort, "mysql": orm.TooShort}},
		{"unbounded", "name", col("name", str, 0), map[string]orm.ColumnProblem{"postgres": orm.TooShort, "mysql": orm.TooShort}},
		{"shorter", "name", col("name", str, 20), nil},
		{"int to float", "qty", col("qty", f64, 0), map[string]orm.ColumnProblem{"sqlite": orm.WrongType, "postgres": orm.WrongType, "mysql": orm.WrongType}},
		{"unbounded text bounded", "note", col("note", str, 30), nil},
		{"nullable", "qty", orm.Column{Name: "qty", Type: reflect.TypeFor[int64](), Default: "0"}, nil},
	}
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			defer db.Close()
			before, err := orm.Define("items", original...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := orm.EnsureTable(ctx, db, before); err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					cols := []orm.Column{}
					for _, o := range original {
						if o.Name == c.column {
							o = c.changed
						}
						cols = append(cols, o)
					}
					// A new nullable column too: a refusal must leave it out.
					after, err := orm.Define("items", append(cols, col("added", str, 0))...)
					if err != nil {
						t.Fatal(err)
					}
					ddl, err := orm.EnsureTable(ctx, db, after)
					want, refused := c.want[name]
					if !refused {
						if err != nil {
							t.Fatalf("got %v, want the change accepted", err)
						}
						// Undo the added column for the next case.
						if _, err := orm.ExecNative(ctx, db, "ALTER TABLE items DROP COLUMN added"); err != nil || len(ddl) != 1 {
							t.Fatalf("ran %q, then dropping the added column: %v", ddl, err)
						}
						return
					}
					var ce *orm.ColumnError
					if !errors.As(err, &ce) || ce.Problem != want || ce.Table != "items" || ce.Column != c.column || ce.Have == "" || ce.Want == "" {
						t.Fatalf("got %#v (%v), want a *ColumnError %v for items.%s", err, err, want, c.column)
					}
					for _, part := range []string{"items", c.column, ce.Have, ce.Want, "migration"} {
						if !strings.Contains(err.Error(), part) {
							t.Errorf("error %q does not name %q", err, part)
						}
					}
					if len(ddl) != 0 {
						t.Errorf("ran %q before refusing", ddl)
					}
					if cols, err := orm.TableColumns(ctx, db, after); err != nil || cols["added"] {
						t.Errorf("columns after a refusal: %v, %v; want no column added", cols, err)
					}
				})
			}
		})
	}
}

// TestSplitType: a type's name and its numbers come apart whatever the
// case, spacing and modifiers.
func TestSplitType(t *testing.T) {
	for _, c := range []struct {
		decl string
		base string
		args []int
	}{
		{"character varying(50)", "character varying", []int{50}},
		{"DECIMAL(10, 2) UNSIGNED", "decimal unsigned", []int{10, 2}},
		{"timestamp(3) with time zone", "timestamp with time zone", []int{3}},
		{"  TEXT ", "text", nil},
		{"varchar(x)", "varchar", nil},
	} {
		if base, args := orm.SplitType(c.decl); base != c.base || !reflect.DeepEqual(args, c.args) {
			t.Errorf("SplitType(%q) = %q, %v; want %q, %v", c.decl, base, args, c.base, c.args)
		}
	}
}
