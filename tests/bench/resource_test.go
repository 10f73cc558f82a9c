package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/covetpy/covet/tests/bench/e2e"
)

// TestResourceContendersAnswerAlike guards the resource workload (run by
// scripts/bench resource with wrk, never here): pgx-raw and covet-resource
// must give the same status, content type and body for the same request.
// It needs PostgreSQL (COVET_BENCH_POSTGRES or the local test database),
// where it recreates and drops the schema covet_bench_http.
func TestResourceContendersAnswerAlike(t *testing.T) {
	ctx := context.Background()
	dsn := os.Getenv("COVET_BENCH_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s: %v (run make services)", dsn, err)
		}
		t.Skipf("PostgreSQL not reachable at %s: %v (run make services)", dsn, err)
	}
	conn.Close(ctx)
	if err := e2e.SetupUsers(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e2e.DropUsers(context.Background(), dsn); err != nil {
			t.Error(err)
		}
	})
	cases := []struct {
		path   string
		status int
		ctype  string
		body   string // "" means any
	}{
		{"/users/7", 200, "application/json", `{"age":27,"email":"user7@example.com","id":7,"name":"user 7"}` + "\n"},
		{"/users/1000", 200, "application/json", `{"age":20,"email":"user1000@example.com","id":1000,"name":"user 1000"}` + "\n"},
		{"/users/1001", 404, "", ""},
		{"/users/x", 404, "", ""},
	}
	for _, c := range e2e.DBContenders {
		t.Run(c.Name, func(t *testing.T) {
			h, closePool, err := c.Build(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer closePool()
			srv := httptest.NewServer(h)
			defer srv.Close()
			for _, tc := range cases {
				resp, err := http.Get(srv.URL + tc.path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.status ||
					tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype ||
					tc.body != "" && string(body) != tc.body {
					t.Errorf("GET %s = %d %q %q, want %d %q %q", tc.path, resp.StatusCode,
						resp.Header.Get("Content-Type"), body, tc.status, tc.ctype, tc.body)
				}
			}
		})
	}
}
