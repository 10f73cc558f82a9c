package bench

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
)

// The five operations of the common Go ORM benchmark (efectn/go-orm-benchmarks):
// Insert, InsertMulti (100 rows), Update, Read (by id) and ReadSlice (100
// rows), on a model of 10 columns.
type Model struct {
	ID      int64  `db:"id,pk,auto"`
	Name    string `db:"name"`
	Title   string `db:"title"`
	Fax     string `db:"fax"`
	Web     string `db:"web"`
	Age     int64  `db:"age"`
	Right   bool   `db:"right"`
	Counter int64  `db:"counter"`
}

func (Model) TableName() string { return "models" }

func newModel() Model {
	return Model{Name: "Orm Benchmark", Title: "Just a Benchmark for fun", Fax: "99909990", Web: "http://blog.milkpod29.me", Age: 100, Right: true, Counter: 1000}
}

const sqliteSchema = `CREATE TABLE models (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, title TEXT NOT NULL, fax TEXT NOT NULL, web TEXT NOT NULL, age INTEGER NOT NULL, "right" BOOLEAN NOT NULL, counter INTEGER NOT NULL)`

// openSQLiteBench opens a fresh database for the ORM and a raw
// database/sql handle on the same file, configured the same way.
func openSQLiteBench(b *testing.B) (*orm.DB, *sql.DB) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := orm.Exec(ctx, db, sqliteSchema); err != nil {
		b.Fatal(err)
	}
	raw, err := sqlite.Open(ctx, sqlite.Config{Path: path, MaxOpenConns: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	return db, raw
}

func seed(b *testing.B, db *orm.DB, n int) {
	b.Helper()
	rows := make([]Model, n)
	for i := range rows {
		rows[i] = newModel()
	}
	if _, err := orm.CopyFrom(context.Background(), db, rows); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkORMSQLite(b *testing.B) {
	ctx := context.Background()
	b.Run("Insert/raw", func(b *testing.B) {
		_, raw := openSQLiteBench(b)
		m := newModel()
		b.ReportAllocs()
		for b.Loop() {
			if err := raw.QueryRowContext(ctx, `INSERT INTO models (name, title, fax, web, age, "right", counter) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				m.Name, m.Title, m.Fax, m.Web, m.Age, m.Right, m.Counter).Scan(&m.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Insert/covet", func(b *testing.B) {
		db, _ := openSQLiteBench(b)
		b.ReportAllocs()
		for b.Loop() {
			m := newModel()
			if err := orm.Insert(ctx, db, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("InsertMulti/raw", func(b *testing.B) {
		_, raw := openSQLiteBench(b)
		q := `INSERT INTO models (name, title, fax, web, age, "right", counter) VALUES `
		for i := range 100 {
			if i > 0 {
				q += ", "
			}
			q += "(?, ?, ?, ?, ?, ?, ?)"
		}
		rows := make([]Model, 100)
		b.ReportAllocs()
		for b.Loop() {
			args := make([]any, 0, 700) // from the rows, as an ORM must
			for i := range rows {
				rows[i] = newModel()
				m := &rows[i]
				args = append(args, m.Name, m.Title, m.Fax, m.Web, m.Age, m.Right, m.Counter)
			}
			if _, err := raw.ExecContext(ctx, q, args...); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("InsertMulti/covet", func(b *testing.B) {
		db, _ := openSQLiteBench(b)
		rows := make([]Model, 100)
		b.ReportAllocs()
		for b.Loop() {
			for i := range rows {
				rows[i] = newModel()
			}
			if _, err := orm.CopyFrom(ctx, db, rows); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Update/raw", func(b *testing.B) {
		db, raw := openSQLiteBench(b)
		seed(b, db, 1)
		m := newModel()
		m.ID = 1
		b.ReportAllocs()
		for b.Loop() {
			if _, err := raw.ExecContext(ctx, `UPDATE models SET name = ?, title = ?, fax = ?, web = ?, age = ?, "right" = ?, counter = ? WHERE id = ?`,
				m.Name, m.Title, m.Fax, m.Web, m.Age, m.Right, m.Counter, m.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Update/covet", func(b *testing.B) {
		db, _ := openSQLiteBench(b)
		seed(b, db, 1)
		m := newModel()
		m.ID = 1
		b.ReportAllocs()
		for b.Loop() {
			if err := orm.Update(ctx, db, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Read/raw", func(b *testing.B) {
		db, raw := openSQLiteBench(b)
		seed(b, db, 1)
		b.ReportAllocs()
		for b.Loop() {
			var m Model
			if err := raw.QueryRowContext(ctx, `SELECT id, name, title, fax, web, age, "right", counter FROM models WHERE id = ?`, 1).
				Scan(&m.ID, &m.Name, &m.Title, &m.Fax, &m.Web, &m.Age, &m.Right, &m.Counter); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Read/covet", func(b *testing.B) {
		db, _ := openSQLiteBench(b)
		seed(b, db, 1)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := orm.Get[Model](ctx, db, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReadSlice/raw", func(b *testing.B) {
		db, raw := openSQLiteBench(b)
		seed(b, db, 100)
		b.ReportAllocs()
		for b.Loop() {
			rows, err := raw.QueryContext(ctx, `SELECT id, name, title, fax, web, age, "right", counter FROM models WHERE id > ? LIMIT 100`, 0)
			if err != nil {
				b.Fatal(err)
			}
			ms := make([]Model, 0, 100)
			for rows.Next() {
				var m Model
				if err := rows.Scan(&m.ID, &m.Name, &m.Title, &m.Fax, &m.Web, &m.Age, &m.Right, &m.Counter); err != nil {
					b.Fatal(err)
				}
				ms = append(ms, m)
			}
			if err := rows.Err(); err != nil || len(ms) != 100 {
				b.Fatal(err, len(ms))
			}
			rows.Close()
		}
	})
	b.Run("ReadSlice/covet", func(b *testing.B) {
		db, _ := openSQLiteBench(b)
		seed(b, db, 100)
		b.ReportAllocs()
		for b.Loop() {
			ms, err := orm.From[Model](db).Where(orm.Gt("id", 0)).Limit(100).All(ctx)
			if err != nil || len(ms) != 100 {
				b.Fatal(err, len(ms))
			}
		}
	})
}
