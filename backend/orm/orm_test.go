package orm_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/covetpy/covet/backend/orm"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from this run")

// The models of the suite: every relation kind, a nullable column, a
// sensitive column and a default.
type user struct {
	ID      int64    `db:"id,pk,auto"`
	Name    string   `db:"name,max=100"`
	Email   string   `db:"email,unique,max=200"`
	Age     *int64   `db:"age"`
	Token   string   `db:"token,sensitive,max=64,default=''"`
	Profile *profile `rel:"has_one"`
	Posts   []post   `rel:"has_many,fk=author_id"`
}

type profile struct {
	ID     int64  `db:"id,pk,auto"`
	UserID int64  `db:"user_id,unique"`
	Bio    string `db:"bio"`
	User   *user  `rel:"belongs_to"`
}

type post struct {
	ID       int64  `db:"id,pk,auto"`
	AuthorID int64  `db:"author_id,index"`
	Title    string `db:"title,max=200"`
	Author   *user  `rel:"belongs_to"`
	Tags     []tag  `rel:"many_to_many,join=post_tags,fk=post_id,ref=tag_id"`
}

type tag struct {
	ID   int64  `db:"id,pk,auto"`
	Name string `db:"name,unique,max=50"`
}

type postTag struct {
	ID     int64 `db:"id,pk,auto"`
	PostID int64 `db:"post_id"`
	TagID  int64 `db:"tag_id"`
	Post   *post `rel:"belongs_to"`
	Tag    *tag  `rel:"belongs_to"`
}

func (postTag) TableName() string { return "post_tags" }

// recorder is a Tracer that keeps the SQL of every statement.
type recorder struct {
	mu   sync.Mutex
	sqls []string
	evs  []orm.QueryEvent
}

func (r *recorder) TraceQuery(_ context.Context, e *orm.QueryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sqls = append(r.sqls, e.SQL)
	r.evs = append(r.evs, *e)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sqls
	r.sqls, r.evs = nil, nil
	return s
}

func (r *recorder) events() []orm.QueryEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]orm.QueryEvent(nil), r.evs...)
}

// fixture opens a fresh database of one dialect with the suite's tables.
type fixture struct {
	name string
	db   *orm.DB
	rec  *recorder
}

func setup(t *testing.T, open func(t testing.TB) *orm.DB) *fixture {
	t.Helper()
	db := open(t)
	t.Cleanup(func() { db.Close() })
	ensureTables(t, db, orm.Mapping[user], orm.Mapping[profile], orm.Mapping[tag], orm.Mapping[post], orm.Mapping[postTag])
	rec := &recorder{}
	db.SetTracer(rec)
	return &fixture{name: db.Dialect().Name(), db: db, rec: rec}
}

// ensureTables creates the tables of the models whose mappings are given.
func ensureTables(t *testing.T, db *orm.DB, mappings ...func(orm.Handle) (*orm.Table, error)) {
	t.Helper()
	for _, m := range mappings {
		tbl, err := m(db)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := orm.EnsureTable(context.Background(), db, tbl); err != nil {
			t.Fatal(err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// golden compares the statements of a step with testdata/<dialect>.golden.
type golden struct {
	t     *testing.T
	file  string
	lines []string
}

func newGolden(t *testing.T, dialect string) *golden {
	g := &golden{t: t, file: filepath.Join("testdata", dialect+".golden")}
	t.Cleanup(g.check)
	return g
}

func (g *golden) add(step string, sqls []string) {
	g.lines = append(g.lines, "-- "+step)
	g.lines = append(g.lines, sqls...)
}

func (g *golden) check() {
	got := strings.Join(g.lines, "\n") + "\n"
	if *update {
		if err := os.WriteFile(g.file, []byte(got), 0o644); err != nil {
			g.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(g.file)
	if err != nil {
		g.t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var a, b string
			if i < len(gl) {
				a = gl[i]
			}
			if i < len(wl) {
				b = wl[i]
			}
			if a != b {
				g.t.Errorf("%s line %d:\n got %s\nwant %s\n(go test -update rewrites the golden file)", g.file, i+1, a, b)
				return
			}
		}
	}
}

// suite runs every scenario on one dialect.
func suite(t *testing.T, open func(t testing.TB) *orm.DB) {
	f := setup(t, open)
	g := newGolden(t, f.name)
	ctx := context.Background()
	db := f.db
	step := func(name string) { g.add(name, f.rec.take()) }

	// CRUD.
	ann := user{Name: "Ann", Email: "ann@example.com", Age: ptr[int64](31), Token: "s3cret"}
	must(t, orm.Insert(ctx, db, &ann))
	if ann.ID == 0 {
		t.Fatal("Insert did not set the id")
	}
	step("insert")
	got, err := orm.Get[user](ctx, db, ann.ID)
	if err != nil || got.Name != "Ann" || *got.Age != 31 || got.Token != "s3cret" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := orm.Get[user](ctx, db, 9999); !orm.IsNotFound(err) {
		t.Errorf("Get(9999) = %v, want not found", err)
	}
	step("get")
	ann.Name, ann.Age = "Ann B", nil
	must(t, orm.Update(ctx, db, &ann))
	must(t, orm.Update(ctx, db, &ann, "name")) // unchanged values: not "not found" on MySQL either
	if got, _ := orm.Get[user](ctx, db, ann.ID); got.Name != "Ann B" || got.Age != nil {
		t.Errorf("after Update: %+v", got)
	}
	if err := orm.Update(ctx, db, &user{ID: 9999, Name: "x", Email: "x"}); !orm.IsNotFound(err) {
		t.Errorf("Update of a missing row = %v, want not found", err)
	}
	step("update")

	// Errors are classified the same way everywhere.
	err = orm.Insert(ctx, db, &user{Name: "Eve", Email: "ann@example.com"})
	var oe *orm.Error
	if !orm.IsUniqueViolation(err) || !errors.As(err, &oe) || !strings.Contains(oe.Constraint, "email") {
		t.Errorf("duplicate email = %v, want a unique violation naming email", err)
	}
	if err := orm.Insert(ctx, db, &post{AuthorID: 424242, Title: "orphan"}); orm.KindOf(err) != orm.ForeignKeyViolation {
		t.Errorf("dangling author = %v (%v), want a foreign key violation", err, orm.KindOf(err))
	}
	if _, err := orm.Exec(ctx, db, "INSERT INTO users (name, email) VALUES (?, ?)", nil, "n@x"); orm.KindOf(err) != orm.NotNullViolation {
		t.Errorf("NULL name = %v (%v), want a not-null violation", err, orm.KindOf(err))
	}
	step("errors")

	// Bulk writes.
	people := []user{{Name: "Bob", Email: "bob@example.com", Age: ptr[int64](25)}, {Name: "Cy", Email: "cy@example.com", Age: ptr[int64](40)},
		{Name: "Di", Email: "di@example.com"}, {Name: "Ed", Email: "ed@example.com", Age: ptr[int64](25)}}
	must(t, orm.InsertMany(ctx, db, people))
	for i, p := range people {
		if p.ID == 0 || i > 0 && p.ID <= people[i-1].ID {
			t.Errorf("InsertMany ids: %+v", people)
		}
	}
	step("insert many")

	// Queries.
	names := func(us []user, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, u := range us {
			s = append(s, u.Name)
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		name string
		q    *orm.Query[user]
		want string
	}{
		{"eq", orm.From[user](db).Where(orm.Eq("age", 25)).OrderBy("name"), "Bob,Ed"},
		{"ne and null", orm.From[user](db).Where(orm.Ne("age", 25), orm.NotNull("age")).OrderBy("name"), "Cy"},
		{"is null", orm.From[user](db).Where(orm.IsNull("Age")).OrderBy("name"), "Ann B,Di"},
		{"in", orm.From[user](db).Where(orm.In("name", "Bob", "Di", "Zed")).OrderBy("-name"), "Di,Bob"},
		{"empty in", orm.From[user](db).Where(orm.In("name")), ""},
		{"not in", orm.From[user](db).Where(orm.NotIn("name", "Bob", "Di")).OrderBy("name"), "Ann B,Cy,Ed"},
		{"between", orm.From[user](db).Where(orm.Between("age", 26, 40)), "Cy"},
		{"like", orm.From[user](db).Where(orm.Like("email", "%y@%")), "Cy"},
		{"or and not", orm.From[user](db).Where(orm.Or(orm.Eq("name", "Bob"), orm.Not(orm.Lt("age", 40)))).OrderBy("name"), "Bob,Cy"},
		{"limit offset", orm.From[user](db).OrderBy("name").Limit(2).Offset(1), "Bob,Cy"},
		{"offset only", orm.From[user](db).OrderBy("name").Offset(3), "Di,Ed"},
		{"expr", orm.From[user](db).Where(orm.Expr("lower(name) = ?", "cy")), "Cy"},
		{"values are values", orm.From[user](db).Where(orm.Eq("name", "x' OR '1'='1")), ""},
	}
	for _, c := range cases {
		if got := names(c.q.All(ctx)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		step("query " + c.name)
	}
	if n, err := orm.From[user](db).Where(orm.Gt("age", 20)).Count(ctx); err != nil || n != 3 {
		t.Errorf("Count = %d, %v", n, err)
	}
	if ok, err := orm.From[user](db).Where(orm.Eq("email", "di@example.com")).Exists(ctx); err != nil || !ok {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	if u, err := orm.From[user](db).Where(orm.Eq("name", "Bob")).Select("id", "name").First(ctx); err != nil || u.Name != "Bob" || u.Email != "" {
		t.Errorf("First with Select = %+v, %v", u, err)
	}
	if _, err := orm.From[user](db).Where(orm.Eq("name", "nobody")).First(ctx); !orm.IsNotFound(err) {
		t.Errorf("First of nothing = %v", err)
	}
	step("count exists first")
	for _, bad := range []*orm.Query[user]{
		orm.From[user](db).Where(orm.Eq("nme", 1)),
		orm.From[user](db).OrderBy("name; DROP TABLE users"),
		orm.From[user](db).Select("count(*) AS n; --"),
		orm.From[user](db).Select("pg_sleep(1)"),
		orm.From[user](db).Where(orm.ColumnsCompare("name", "= 1 OR", "email")),
	} {
		if _, err := bad.All(ctx); err == nil {
			t.Errorf("a query naming an unknown column or function ran")
		}
	}
	if got := f.rec.take(); len(got) != 0 {
		t.Errorf("refused queries reached the database: %q", got)
	}

	// Grouping, aggregates, subqueries, joins.
	type ageCount struct {
		Age *int64 `db:"age"`
		N   int64  `db:"n"`
	}
	groups, err := orm.Scan[ageCount](ctx, orm.From[user](db).Select("age", "count(*) AS n").Where(orm.NotNull("age")).GroupBy("age").Having(orm.Expr("count(*) > ?", 1)))
	if err != nil || len(groups) != 1 || *groups[0].Age != 25 || groups[0].N != 2 {
		t.Errorf("group by = %+v, %v", groups, err)
	}
	step("group by")
	posts := []post{{AuthorID: ann.ID, Title: "Hello"}, {AuthorID: people[0].ID, Title: "Bob's"}, {AuthorID: ann.ID, Title: "Again"}}
	must(t, orm.InsertMany(ctx, db, posts))
	p1, p2, p3 := posts[0], posts[1], posts[2]
	step("insert posts")
	writers := orm.From[post](db).Select("author_id")
	if got := names(orm.From[user](db).Where(orm.InQuery("id", writers)).OrderBy("name").All(ctx)); got != "Ann B,Bob" {
		t.Errorf("IN subquery: %q", got)
	}
	if got := names(orm.From[user](db).Where(orm.NotInQuery("id", writers)).OrderBy("name").All(ctx)); got != "Cy,Di,Ed" {
		t.Errorf("NOT IN subquery: %q", got)
	}
	if got := names(orm.From[user](db).Where(orm.Not(orm.Exists(orm.From[post](db).Where(orm.ColumnsCompare("posts.author_id", "=", "users.id"))))).OrderBy("name").All(ctx)); got != "Cy,Di,Ed" {
		t.Errorf("NOT EXISTS correlated: %q", got)
	}
	step("subqueries")
	if n, err := orm.From[post](db).Join("Author").Where(orm.Eq("users.name", "Ann B")).Count(ctx); err != nil || n != 2 {
		t.Errorf("join count = %d, %v", n, err)
	}
	titles, err := orm.From[post](db).LeftJoin("Author").Where(orm.Like("users.email", "bob%")).All(ctx)
	if err != nil || len(titles) != 1 || titles[0].Title != "Bob's" {
		t.Errorf("left join = %+v, %v", titles, err)
	}
	step("joins")

	// Keyset pagination visits every row once in order.
	var seen []string
	var after []any
	for range 10 {
		q := orm.From[user](db).OrderBy("-age", "id").Limit(2)
		if after != nil {
			q.After(after...)
		}
		page, err := q.Where(orm.NotNull("age")).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			seen = append(seen, u.Name)
		}
		last := page[len(page)-1]
		after = []any{*last.Age, last.ID}
	}
	if got := strings.Join(seen, ","); got != "Cy,Bob,Ed" {
		t.Errorf("keyset pages = %q", got)
	}
	step("keyset")

	// Relations load with one query per relation.
	tags := []tag{{Name: "go"}, {Name: "sql"}}
	must(t, orm.InsertMany(ctx, db, tags))
	must(t, orm.InsertMany(ctx, db, []postTag{{PostID: p1.ID, TagID: tags[0].ID}, {PostID: p1.ID, TagID: tags[1].ID}, {PostID: p2.ID, TagID: tags[1].ID}}))
	must(t, orm.Insert(ctx, db, &profile{UserID: ann.ID, Bio: "writes"}))
	f.rec.take()
	us, err := orm.From[user](db).Where(orm.In("id", ann.ID, people[0].ID, people[1].ID)).OrderBy("id").With("Posts", "Profile").All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 3 || len(us[0].Posts) != 2 || us[0].Profile == nil || us[0].Profile.Bio != "writes" || len(us[1].Posts) != 1 || us[1].Profile != nil || us[2].Posts == nil || len(us[2].Posts) != 0 {
		t.Errorf("has-many/has-one = %+v", us)
	}
	if n := len(f.rec.take()); n != 3 {
		t.Errorf("eager loading two relations of 3 users took %d queries, want 3", n)
	}
	ps, err := orm.From[post](db).OrderBy("id").With("Author", "Tags").All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].Author == nil || ps[0].Author.Name != "Ann B" || len(ps[0].Tags) != 2 || ps[0].Tags[1].Name != "sql" || len(ps[1].Tags) != 1 || len(ps[2].Tags) != 0 {
		t.Errorf("belongs-to/many-to-many = %+v", ps)
	}
	g.add("relations", f.rec.take())

	// Upsert.
	up := user{Name: "Bobby", Email: "bob@example.com", Age: ptr[int64](26)}
	must(t, orm.Upsert(ctx, db, &up, []string{"email"}, "name", "age"))
	if b, _ := orm.From[user](db).Where(orm.Eq("email", "bob@example.com")).First(ctx); b.Name != "Bobby" || *b.Age != 26 || b.ID != people[0].ID {
		t.Errorf("after upsert: %+v", b)
	}
	must(t, orm.Upsert(ctx, db, &user{Name: "Fay", Email: "fay@example.com"}, []string{"email"}))
	if n, _ := orm.From[user](db).Count(ctx); n != 6 {
		t.Errorf("upsert of a new row: %d users, want 6", n)
	}
	step("upsert")

	// Filtered update and delete.
	if n, err := orm.From[user](db).Where(orm.Eq("age", 25)).Update(ctx, map[string]any{"age": 26}); err != nil || n != 1 {
		t.Errorf("Query.Update = %d, %v", n, err)
	}
	if _, err := orm.From[user](db).Delete(ctx); err == nil {
		t.Error("Delete without Where ran")
	}
	if n, err := orm.From[user](db).Where(orm.Eq("email", "fay@example.com")).Delete(ctx); err != nil || n != 1 {
		t.Errorf("Query.Delete = %d, %v", n, err)
	}
	must(t, orm.Delete(ctx, db, &people[2]))
	if err := orm.Delete(ctx, db, &people[2]); !orm.IsNotFound(err) {
		t.Errorf("Delete twice = %v", err)
	}
	step("update delete")

	// Transactions: commit, rollback on error and on panic, savepoints.
	count := func() int64 {
		n, err := orm.From[tag](db).Count(orm.OnPrimary(ctx))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	must(t, orm.WithTx(ctx, db, func(tx *orm.Tx) error { return orm.Insert(ctx, tx, &tag{Name: "kept"}) }))
	boom := errors.New("boom")
	if err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		must(t, orm.Insert(ctx, tx, &tag{Name: "lost"}))
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("WithTx error = %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("WithTx swallowed a panic")
			}
		}()
		_ = orm.WithTx(ctx, db, func(tx *orm.Tx) error {
			must(t, orm.Insert(ctx, tx, &tag{Name: "panicked"}))
			panic("boom")
		})
	}()
	must(t, orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		must(t, orm.Insert(ctx, tx, &tag{Name: "outer"}))
		if err := orm.WithTx(ctx, tx, func(tx *orm.Tx) error {
			must(t, orm.Insert(ctx, tx, &tag{Name: "inner"}))
			return boom
		}); !errors.Is(err, boom) {
			t.Errorf("nested WithTx = %v", err)
		}
		return nil
	}))
	if got := count(); got != before+2 {
		t.Errorf("tags after transactions: %d, want %d (kept and outer)", got, before+2)
	}
	if ok, _ := orm.From[tag](db).Where(orm.In("name", "lost", "panicked", "inner")).Exists(orm.OnPrimary(ctx)); ok {
		t.Error("a rolled-back row survived")
	}
	step("transactions")
	attempts := 0
	must(t, orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		attempts++
		if attempts < 3 {
			return &orm.Error{Kind: orm.SerializationFailure, Err: errors.New("simulated conflict")}
		}
		return nil
	}, orm.Retry(5)))
	if attempts != 3 {
		t.Errorf("Retry ran fn %d times, want 3", attempts)
	}
	attempts = 0
	if err := orm.WithTx(ctx, db, func(tx *orm.Tx) error { attempts++; return boom }, orm.Retry(5)); !errors.Is(err, boom) || attempts != 1 {
		t.Errorf("Retry of a non-retryable error: %d attempts, %v", attempts, err)
	}
	f.rec.take()

	// Bulk load past the parameter limit splits into several statements.
	n := db.Dialect().MaxParams()/2 + 7
	bulk := make([]postTag, n)
	for i := range bulk {
		bulk[i] = postTag{PostID: p3.ID, TagID: tags[i%2].ID}
	}
	if got, err := orm.CopyFrom(ctx, db, bulk); err != nil || got != int64(n) {
		t.Errorf("CopyFrom = %d, %v; want %d", got, err, n)
	}
	if c, _ := orm.From[postTag](db).Where(orm.Eq("post_id", p3.ID)).Count(orm.OnPrimary(ctx)); c != int64(n) {
		t.Errorf("after CopyFrom: %d rows, want %d", c, n)
	}
	f.rec.take()

	// Sensitive values never reach tracers; callers are the program's.
	must(t, orm.Insert(ctx, db, &user{Name: "Gil", Email: "gil@example.com", Token: "hunter2"}))
	_, _ = orm.From[user](db).Where(orm.Eq("token", "hunter2")).All(ctx)
	for _, e := range f.rec.events() {
		for _, a := range e.Args {
			if a == "hunter2" {
				t.Errorf("%s: sensitive value in the event args %v", e.SQL, e.Args)
			}
		}
		if !strings.Contains(e.Caller, "orm_test.go:") {
			t.Errorf("%s: caller %q, want a line of orm_test.go", e.SQL, e.Caller)
		}
	}
	step("sensitive")

	// Run-time tables (resources) through Records.
	tbl, err := orm.Define("notes", orm.Column{Name: "id", Type: typeOf[int64](), PrimaryKey: true, AutoIncrement: true},
		orm.Column{Name: "body", Type: typeOf[string](), MaxLength: 100}, orm.Column{Name: "stars", Type: typeOf[*int64](), Nullable: true})
	must(t, err)
	_, err = orm.EnsureTable(ctx, db, tbl)
	must(t, err)
	rec, err := orm.InsertRecord(ctx, db, tbl, orm.Record{"body": "hi"})
	if err != nil || rec["body"] != "hi" || rec["stars"] != nil || rec["id"] == nil {
		t.Errorf("InsertRecord = %v, %v", rec, err)
	}
	rec, err = orm.UpdateRecord(ctx, db, tbl, rec["id"], orm.Record{"stars": int64(4)})
	if err != nil || rec["stars"] != int64(4) {
		t.Errorf("UpdateRecord = %v, %v", rec, err)
	}
	if _, err := orm.InsertRecord(ctx, db, tbl, orm.Record{"bogus": 1}); err == nil {
		t.Error("a record with an unknown column was inserted")
	}
	recs, err := orm.FromTable(db, tbl).Where(orm.Ge("stars", 3)).All(ctx)
	if err != nil || len(recs) != 1 {
		t.Errorf("FromTable = %v, %v", recs, err)
	}
	must(t, orm.DeleteRecord(ctx, db, tbl, rec["id"]))
	if err := orm.DeleteRecord(ctx, db, tbl, rec["id"]); !orm.IsNotFound(err) {
		t.Errorf("DeleteRecord twice = %v", err)
	}
	step("records")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }
