package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/covetpy/covet/backend/orm"
)

// model is the row of the read benchmark: the ORM benchmarks' usual eight
// columns.
type model struct {
	ID      int64  `db:"id,pk,auto"`
	Name    string `db:"name"`
	Title   string `db:"title"`
	Fax     string `db:"fax"`
	Web     string `db:"web"`
	Age     int64  `db:"age"`
	Right   bool   `db:"right"`
	Counter int64  `db:"counter"`
}

// BenchmarkReadByID compares orm.Get with the same read through pgx
// alone, on one pool: the cost of the ORM and of these adapters (the goal
// is at most 1.05x raw pgx).
func BenchmarkReadByID(b *testing.B) {
	ctx := context.Background()
	dsn := testDSN(b)
	db := open(b, Config{DSN: dsn})
	tbl, err := orm.Mapping[model](db)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := orm.EnsureTable(ctx, db, tbl); err != nil {
		b.Fatal(err)
	}
	m := model{Name: "Orm Benchmark", Title: "Just a Benchmark for fun", Fax: "99909990", Web: "http://blog.milkpod29.me", Age: 100, Right: true, Counter: 1000}
	if err := orm.Insert(ctx, db, &m); err != nil {
		b.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	const readSQL = `SELECT "id", "name", "title", "fax", "web", "age", "right", "counter" FROM "models" WHERE "id" = $1`
	b.Run("pgx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m model
			if err := pool.QueryRow(ctx, readSQL, 1).Scan(&m.ID, &m.Name, &m.Title, &m.Fax, &m.Web, &m.Age, &m.Right, &m.Counter); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("orm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := orm.Get[model](ctx, db, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
