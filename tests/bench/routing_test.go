// Package bench compares Covet with its peers, side by side in one run, as
// ../shared/BENCHMARKING.md says. Peers are dependencies of this module only.
package bench

import (
	"bufio"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/router"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/julienschmidt/httprouter"
	"github.com/labstack/echo/v4"
)

type route struct{ method, path string }

// githubAPI reads the 203 routes of the GitHub API set.
func githubAPI(tb testing.TB) []route {
	tb.Helper()
	f, err := os.Open("testdata/github-api.txt")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var routes []route
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		method, path, _ := strings.Cut(line, " ")
		routes = append(routes, route{method, path})
	}
	if len(routes) != 203 {
		tb.Fatalf("read %d routes, want 203", len(routes))
	}
	return routes
}

var colonParam = regexp.MustCompile(`:([a-z_]+)`)

// braces turns :name into {name}, the syntax of covet, chi and ServeMux.
func braces(path string) string { return colonParam.ReplaceAllString(path, "{$1}") }

func noop(http.ResponseWriter, *http.Request) {}

// contenders build each router with the GitHub API set.
var contenders = []struct {
	name  string
	build func(testing.TB, []route) http.Handler
}{
	{"covet", func(tb testing.TB, rs []route) http.Handler {
		b := router.New(router.Options{})
		for _, r := range rs {
			b.Handle(r.method, braces(r.path), http.HandlerFunc(noop))
		}
		h, err := b.Build()
		if err != nil {
			tb.Fatal(err)
		}
		return h
	}},
	{"servemux", func(tb testing.TB, rs []route) http.Handler {
		mux := http.NewServeMux()
		for _, r := range rs {
			mux.HandleFunc(r.method+" "+braces(r.path), noop)
		}
		return mux
	}},
	{"chi", func(tb testing.TB, rs []route) http.Handler {
		m := chi.NewRouter()
		for _, r := range rs {
			m.MethodFunc(r.method, braces(r.path), noop)
		}
		return m
	}},
	{"httprouter", func(tb testing.TB, rs []route) http.Handler {
		m := httprouter.New()
		for _, r := range rs {
			m.Handle(r.method, r.path, func(http.ResponseWriter, *http.Request, httprouter.Params) {})
		}
		return m
	}},
	{"gin", func(tb testing.TB, rs []route) http.Handler {
		gin.SetMode(gin.ReleaseMode)
		m := gin.New()
		for _, r := range rs {
			m.Handle(r.method, r.path, func(*gin.Context) {})
		}
		return m
	}},
	{"echo", func(tb testing.TB, rs []route) http.Handler {
		e := echo.New()
		for _, r := range rs {
			e.Add(r.method, r.path, func(echo.Context) error { return nil })
		}
		return e
	}},
}

// discard is a ResponseWriter that costs nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// TestContendersRouteEveryRequest guards the benchmark: every router must
// answer every route of the set, or its numbers would mean nothing.
func TestContendersRouteEveryRequest(t *testing.T) {
	rs := githubAPI(t)
	for _, c := range contenders {
		t.Run(c.name, func(t *testing.T) {
			h := c.build(t, rs)
			for _, r := range rs {
				req, _ := http.NewRequest(r.method, r.path, nil)
				rec := &status{discard: discard{h: http.Header{}}}
				h.ServeHTTP(rec, req)
				if rec.code != 0 && rec.code != 200 {
					t.Fatalf("%s %s: %d", r.method, r.path, rec.code)
				}
			}
		})
	}
}

type status struct {
	discard
	code int
}

func (s *status) WriteHeader(c int) { s.code = c }

// BenchmarkGithubAll serves all 203 routes per operation.
func BenchmarkGithubAll(b *testing.B) {
	rs := githubAPI(b)
	for _, c := range contenders {
		b.Run(c.name, func(b *testing.B) {
			h := c.build(b, rs)
			reqs := make([]*http.Request, len(rs))
			for i, r := range rs {
				reqs[i], _ = http.NewRequest(r.method, r.path, nil)
			}
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				for _, req := range reqs {
					h.ServeHTTP(w, req)
				}
			}
		})
	}
}

// BenchmarkGithubStatic and BenchmarkGithubParam serve one route each.
func BenchmarkGithubStatic(b *testing.B) { benchOne(b, "GET", "/user/repos") }
func BenchmarkGithubParam(b *testing.B) {
	benchOne(b, "GET", "/repos/julienschmidt/httprouter/stargazers")
}

func benchOne(b *testing.B, method, path string) {
	rs := githubAPI(b)
	for _, c := range contenders {
		b.Run(c.name, func(b *testing.B) {
			h := c.build(b, rs)
			req, _ := http.NewRequest(method, path, nil)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}
