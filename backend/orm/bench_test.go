package orm_test

import (
	"context"
	"testing"

	"github.com/covetpy/covet/backend/orm"
)

// BenchmarkGetTracing is the cost of tracing one read: the same Get on
// SQLite with no tracer and with a tracer that does nothing (the event,
// the caller's file:line and the timing are what remains).
func BenchmarkGetTracing(b *testing.B) {
	ctx := context.Background()
	db := openSQLite(b)
	b.Cleanup(func() { db.Close() })
	tbl, err := orm.Mapping[user](db)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := orm.EnsureTable(ctx, db, tbl); err != nil {
		b.Fatal(err)
	}
	u := user{Name: "Ann", Email: "ann@example.com"}
	if err := orm.Insert(ctx, db, &u); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		tracer orm.Tracer
	}{{"off", nil}, {"on", orm.TracerFunc(func(context.Context, *orm.QueryEvent) {})}} {
		b.Run(c.name, func(b *testing.B) {
			db.SetTracer(c.tracer)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := orm.Get[user](ctx, db, u.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
