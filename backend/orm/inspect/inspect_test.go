package inspect_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/dataloader"
	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/orm/inspect"
)

type author struct {
	ID    int64  `db:"id,pk,auto"`
	Name  string `db:"name"`
	Token string `db:"token,sensitive"`
	Books []book `rel:"has_many,fk=author_id"`
}

type book struct {
	ID       int64   `db:"id,pk,auto"`
	AuthorID int64   `db:"author_id"`
	Title    string  `db:"title"`
	Author   *author `rel:"belongs_to"`
}

// recorder collects published queries.
type recorder struct {
	mu sync.Mutex
	qs []*inspect.Query
}

func (r *recorder) publish(q *inspect.Query) { r.mu.Lock(); r.qs = append(r.qs, q); r.mu.Unlock() }

func (r *recorder) take() []*inspect.Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	qs := r.qs
	r.qs = nil
	return qs
}

func setup(t *testing.T, cfg inspect.Config) (*orm.DB, *inspect.Inspector, *recorder) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "n1.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, s := range []string{
		`CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, token TEXT NOT NULL DEFAULT '')`,
		`CREATE TABLE books (id INTEGER PRIMARY KEY AUTOINCREMENT, author_id INTEGER NOT NULL REFERENCES authors(id), title TEXT NOT NULL)`,
	} {
		if _, err := orm.Exec(ctx, db, s); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		a := author{Name: "author " + string(rune('a'+i)), Token: "secret"}
		if err := orm.Insert(ctx, db, &a); err != nil {
			t.Fatal(err)
		}
		if err := orm.InsertMany(ctx, db, []book{{AuthorID: a.ID, Title: "one"}, {AuthorID: a.ID, Title: "two"}}); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{}
	cfg.Publish = rec.publish
	ins := inspect.New(cfg)
	db.SetTracer(ins)
	return db, ins, rec
}

// The fixture suite: each case runs inside one request and says whether
// the detector must flag it.
func TestNPlusOneFixtures(t *testing.T) {
	cases := []struct {
		name    string
		run     func(ctx context.Context, db *orm.DB) error
		flagged bool
	}{
		{"loop of Get by id", func(ctx context.Context, db *orm.DB) error {
			books, err := orm.From[book](db).All(ctx)
			for _, b := range books {
				if _, err := orm.Get[author](ctx, db, b.AuthorID); err != nil {
					return err
				}
			}
			return err
		}, true},
		{"loop of filtered First", func(ctx context.Context, db *orm.DB) error {
			authors, err := orm.From[author](db).All(ctx)
			for _, a := range authors {
				if _, err := orm.From[book](db).Where(orm.Eq("author_id", a.ID)).All(ctx); err != nil {
					return err
				}
			}
			return err
		}, true},
		{"loop of inserts", func(ctx context.Context, db *orm.DB) error {
			for i := range 4 {
				if err := orm.Insert(ctx, db, &author{Name: "x" + string(rune('0'+i))}); err != nil {
					return err
				}
			}
			return nil
		}, true},
		{"eager has-many", func(ctx context.Context, db *orm.DB) error {
			_, err := orm.From[author](db).With("Books").All(ctx)
			return err
		}, false},
		{"eager belongs-to", func(ctx context.Context, db *orm.DB) error {
			_, err := orm.From[book](db).With("Author").All(ctx)
			return err
		}, false},
		{"batched IN lookup", func(ctx context.Context, db *orm.DB) error {
			books, err := orm.From[book](db).All(ctx)
			ids := []any{}
			for _, b := range books {
				ids = append(ids, b.AuthorID)
			}
			if err == nil {
				_, err = orm.From[author](db).Where(orm.In("id", ids...)).All(ctx)
			}
			return err
		}, false},
		{"DataLoader per book", func(ctx context.Context, db *orm.DB) error {
			books, err := orm.From[book](db).All(ctx)
			if err != nil {
				return err
			}
			authors := dataloader.New(dataloader.Config[int64, author]{Fetch: func(ctx context.Context, ids []int64) (map[int64]author, error) {
				in := make([]any, len(ids))
				for i, id := range ids {
					in[i] = id
				}
				as, err := orm.From[author](db).Where(orm.In("id", in...)).All(ctx)
				out := map[int64]author{}
				for _, a := range as {
					out[a.ID] = a
				}
				return out, err
			}})
			var wg sync.WaitGroup
			errs := make([]error, len(books))
			for i, b := range books { // each book resolved on its own, as a resolver would
				wg.Add(1)
				go func() { defer wg.Done(); _, errs[i] = authors.Load(ctx, b.AuthorID) }()
			}
			wg.Wait()
			return errors.Join(errs...)
		}, false},
		{"InsertMany", func(ctx context.Context, db *orm.DB) error {
			return orm.InsertMany(ctx, db, []author{{Name: "p"}, {Name: "q"}, {Name: "r"}, {Name: "s"}})
		}, false},
		{"two lookups below the threshold", func(ctx context.Context, db *orm.DB) error {
			for _, id := range []int64{1, 2} {
				if _, err := orm.Get[author](ctx, db, id); err != nil {
					return err
				}
			}
			return nil
		}, false},
		{"same statement from different call sites", func(ctx context.Context, db *orm.DB) error {
			_, err1 := orm.Get[author](ctx, db, 1)
			_, err2 := orm.Get[author](ctx, db, 2)
			_, err3 := orm.Get[author](ctx, db, 3)
			if err1 != nil || err2 != nil {
				return err1
			}
			return err3
		}, false},
		{"loop of updates", func(ctx context.Context, db *orm.DB) error {
			for i := range 4 {
				if _, err := orm.From[author](db).Where(orm.Eq("id", i+1)).Update(ctx, map[string]any{"name": "u"}); err != nil {
					return err
				}
			}
			return nil
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, _, rec := setup(t, inspect.Config{})
			rec.take()
			ins := inspect.New(inspect.Config{Publish: rec.publish})
			db.SetTracer(ins)
			ctx := ins.WithRequest(context.Background(), inspect.RequestInfo{ID: "req-1", Route: "fixture"})
			if err := c.run(ctx, db); err != nil {
				t.Fatal(err)
			}
			var verdict *inspect.Verdict
			for _, q := range rec.take() {
				if q.RequestID != "req-1" || q.Route != "fixture" {
					t.Errorf("query %q attributed to %q/%q, want req-1/fixture", q.SQL, q.RequestID, q.Route)
				}
				if q.NPlusOne && verdict == nil {
					verdict = q.Verdict
				}
			}
			if got := verdict != nil; got != c.flagged {
				t.Fatalf("flagged = %v (%+v), want %v", got, verdict, c.flagged)
			}
			if verdict != nil {
				if verdict.Count != 3 || !strings.Contains(verdict.Caller, "inspect_test.go:") || verdict.Fix == "" {
					t.Errorf("verdict = %+v, want count 3, a caller in inspect_test.go and a fix", verdict)
				}
			}
		})
	}
}

func TestQueryRecord(t *testing.T) {
	db, ins, rec := setup(t, inspect.Config{SlowThreshold: time.Nanosecond})
	ctx := context.Background()
	if _, err := orm.From[author](db).Where(orm.Eq("token", "secret"), orm.Eq("name", "author a")).All(ctx); err != nil {
		t.Fatal(err)
	}
	qs := rec.take()
	if len(qs) != 1 {
		t.Fatalf("got %d queries, want 1", len(qs))
	}
	q := qs[0]
	if q.Args[0] != orm.Redacted || q.Args[1] != "author a" {
		t.Errorf("args = %v, want the sensitive token redacted and the name kept", q.Args)
	}
	if !q.Slow || q.Rows != 1 || q.Dialect != "sqlite" || q.RequestID != "" || !strings.Contains(q.Caller, "inspect_test.go:") {
		t.Errorf("query = %+v", q)
	}
	if want := `select "id", "name", "token" from "authors" where "token" = ? and "name" = ?`; q.Fingerprint != want {
		t.Errorf("fingerprint = %q, want %q", q.Fingerprint, want)
	}
	stats := ins.Stats()
	if len(stats) != 1 || stats[0].Count != 1 || stats[0].Rows != 1 || stats[0].P99Ms <= 0 {
		t.Errorf("stats = %+v", stats)
	}
}

func TestStatsAreBounded(t *testing.T) {
	db, ins, _ := setup(t, inspect.Config{MaxFingerprints: 2})
	ctx := context.Background()
	for _, col := range []string{"id", "name", "token", "id", "name"} {
		if _, err := orm.From[author](db).Select(col).All(ctx); err != nil {
			t.Fatal(err)
		}
	}
	stats := ins.Stats()
	if len(stats) != 3 {
		t.Fatalf("got %d fingerprints, want 2 plus %s: %+v", len(stats), inspect.OtherFingerprint, stats)
	}
	var other int64
	for _, s := range stats {
		if s.Fingerprint == inspect.OtherFingerprint {
			other = s.Count
		}
	}
	if other != 1 {
		t.Errorf("%s counted %d, want 1", inspect.OtherFingerprint, other)
	}
}

// TestMiddlewareSeesTheMatchedPattern: the middleware sits outside a router
// and still attributes queries to the route the router matched, and passes
// the pattern back out.
func TestMiddlewareSeesTheMatchedPattern(t *testing.T) {
	db, ins, rec := setup(t, inspect.Config{})
	rec.take()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authors/{id}", func(w http.ResponseWriter, r *http.Request) {
		if _, err := orm.Get[author](r.Context(), db, r.PathValue("id")); err != nil {
			t.Error(err)
		}
	})
	var outer string
	h := ins.Middleware(func(r *http.Request) inspect.RequestInfo {
		return inspect.RequestInfo{ID: r.Header.Get("X-Request-Id"), Route: r.Pattern}
	})(mux)
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		outer = r.Pattern
	})
	req := httptest.NewRequest("GET", "/authors/1", nil)
	req.Header.Set("X-Request-Id", "abc")
	wrapped.ServeHTTP(httptest.NewRecorder(), req)
	qs := rec.take()
	if len(qs) != 1 || qs[0].Route != "GET /authors/{id}" || qs[0].RequestID != "abc" {
		t.Errorf("queries = %+v, want one attributed to GET /authors/{id} and abc", qs)
	}
	if outer != "GET /authors/{id}" {
		t.Errorf("pattern outside the middleware = %q", outer)
	}
}

// TestMiddlewareCostsTwoAllocations: a request that runs no query pays for
// its context and the request copy that carries it, nothing more.
func TestMiddlewareCostsTwoAllocations(t *testing.T) {
	_, ins, _ := setup(t, inspect.Config{})
	h := ins.Middleware(func(r *http.Request) inspect.RequestInfo { return inspect.RequestInfo{} })(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req, w := httptest.NewRequest("GET", "/", nil), httptest.NewRecorder()
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); n != 2 {
		t.Errorf("the middleware allocates %v times per request, want 2", n)
	}
}

// BenchmarkTraceQuery is what the inspector adds to one statement outside
// a request (the tracer is called after the statement ran).
func BenchmarkTraceQuery(b *testing.B) {
	ins := inspect.New(inspect.Config{Publish: func(*inspect.Query) {}})
	e := &orm.QueryEvent{SQL: `SELECT "id", "name" FROM "users" WHERE "id" = $1`, Args: []any{int64(1)}, Start: time.Now(), Duration: time.Millisecond, Rows: 1, Dialect: "postgres", Caller: "/app/users.go:42"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ins.TraceQuery(ctx, e)
	}
}
