package router

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// echo answers with the route pattern and its parameters.
func echo(params ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(r.Pattern)
		for _, p := range params {
			b.WriteString(" " + p + "=" + r.PathValue(p))
		}
		io.WriteString(w, b.String())
	}
}

func build(t *testing.T, opts Options, setup func(b *Builder)) *Router {
	t.Helper()
	b := New(opts)
	setup(b)
	r, err := b.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return r
}

func serve(r http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestMatching(t *testing.T) {
	r := build(t, Options{TrailingSlash: StrictSlash}, func(b *Builder) {
		b.Get("/", echo())
		b.Get("/users", echo())
		b.Get("/users/", echo())
		b.Get("/users/new", echo())
		b.Get("/users/{id:[0-9]+}", echo("id"))
		b.Get("/users/{name}", echo("name"))
		b.Get("/users/{name}/posts/{post}", echo("name", "post"))
		b.Get("/users/new/{step}", echo("step"))
		b.Get("/files/{path...}", echo("path"))
		b.Get("/files/readme", echo())
		b.Get("/a/{x}/c", echo("x"))
		b.Get("/a/b/{y}", echo("y"))
	})
	tests := []struct {
		path string
		want string // body, or "404"
	}{
		{"/", "GET /"},
		{"/users", "GET /users"},
		{"/users/", "GET /users/"},
		{"/users/new", "GET /users/new"},
		{"/users/42", "GET /users/{id:[0-9]+} id=42"},
		{"/users/ada", "GET /users/{name} name=ada"},
		{"/users/ada/posts/7", "GET /users/{name}/posts/{post} name=ada post=7"},
		{"/users/new/posts/7", "GET /users/{name}/posts/{post} name=new post=7"}, // backtracks from static "new"
		{"/users/new/2", "GET /users/new/{step} step=2"},
		{"/files/readme", "GET /files/readme"},
		{"/files/a/b/c.txt", "GET /files/{path...} path=a/b/c.txt"},
		{"/files/", "GET /files/{path...} path="},
		{"/a/b/c", "GET /a/b/{y} y=c"}, // static b beats {x}
		{"/a/z/c", "GET /a/{x}/c x=z"},
		{"/a/b/x/y", "404"},
		{"/users/ada/posts", "404"},
		{"/nope", "404"},
		{"/users//", "404"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := serve(r, "GET", tt.path)
			got := rec.Body.String()
			if tt.want == "404" {
				if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/problem+json" {
					t.Errorf("got %d %q, want a problem+json 404", rec.Code, got)
				}
				return
			}
			if rec.Code != 200 || got != tt.want {
				t.Errorf("got %d %q, want 200 %q", rec.Code, got, tt.want)
			}
		})
	}
}

// methodCase is a request and the answer it must get.
type methodCase struct {
	method, path string
	wantCode     int
	wantAllow    string
	wantBody     string
}

func checkMethods(t *testing.T, r http.Handler, tests []methodCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := serve(r, tt.method, tt.path)
			if rec.Code != tt.wantCode || rec.Header().Get("Allow") != tt.wantAllow || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("got %d Allow %q body %q, want %d Allow %q body containing %q",
					rec.Code, rec.Header().Get("Allow"), rec.Body, tt.wantCode, tt.wantAllow, tt.wantBody)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	r := build(t, Options{}, func(b *Builder) {
		b.Get("/things", echo())
		b.Post("/things", echo())
		b.Delete("/things/{id}", echo("id"))
		b.Handle("OPTIONS", "/custom", echo())
		b.Handle("PURGE", "/cache", echo())
	})
	tests := []methodCase{
		{"GET", "/things", 200, "", "GET /things"},
		{"HEAD", "/things", 200, "", ""},
		{"PUT", "/things", 405, "GET, HEAD, OPTIONS, POST", "not allowed"},
		{"OPTIONS", "/things", 204, "GET, HEAD, OPTIONS, POST", ""},
		{"GET", "/things/1", 405, "DELETE, OPTIONS", "allowed: DELETE, OPTIONS"},
		{"OPTIONS", "/custom", 200, "", "OPTIONS /custom"},
		{"PURGE", "/cache", 200, "", "PURGE /cache"},
	}
	checkMethods(t, r, tests)
}

func TestTrailingSlash(t *testing.T) {
	routes := func(b *Builder) {
		b.Get("/docs", echo())
		b.Post("/items/", echo())
	}
	tests := []struct {
		policy       TrailingSlash
		method, path string
		wantCode     int
		wantLocation string
	}{
		{RedirectSlash, "GET", "/docs/", 301, "/docs"},
		{RedirectSlash, "GET", "/docs/?q=1", 301, "/docs?q=1"},
		{RedirectSlash, "POST", "/items", 308, "/items/"},
		{RedirectSlash, "GET", "/items", 404, ""}, // no GET route either way
		{StrictSlash, "GET", "/docs/", 404, ""},
		{StrictSlash, "POST", "/items", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := build(t, Options{TrailingSlash: tt.policy}, routes)
			rec := serve(r, tt.method, tt.path)
			if rec.Code != tt.wantCode || rec.Header().Get("Location") != tt.wantLocation {
				t.Errorf("got %d Location %q, want %d %q", rec.Code, rec.Header().Get("Location"), tt.wantCode, tt.wantLocation)
			}
		})
	}
}

func TestGroupsAndMiddleware(t *testing.T) {
	tag := func(name string) Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("X-Chain", name)
				next.ServeHTTP(w, r)
			})
		}
	}
	r := build(t, Options{}, func(b *Builder) {
		b.Use(tag("root"))
		b.Get("/health", echo())
		api := b.Group("/api/", tag("api"))
		api.Get("/", echo())
		v1 := api.Group("/v1", tag("v1"))
		v1.Get("/users/{id}", echo("id"))
	})
	tests := []struct {
		path      string
		wantBody  string
		wantChain string
	}{
		{"/health", "GET /health", "root"},
		{"/api", "GET /api", "root,api"},
		{"/api/v1/users/9", "GET /api/v1/users/{id} id=9", "root,api,v1"},
	}
	for _, tt := range tests {
		rec := serve(r, "GET", tt.path)
		if got := strings.Join(rec.Header().Values("X-Chain"), ","); rec.Body.String() != tt.wantBody || got != tt.wantChain {
			t.Errorf("%s: body %q chain %q, want %q and %q", tt.path, rec.Body, got, tt.wantBody, tt.wantChain)
		}
	}
}

// tagger is a named middleware maker, as a library's would be.
func tagger(name string) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("X-Chain", name)
			next.ServeHTTP(w, r)
		})
	}
}

func TestIncludeKeepsRoutesAndDescribesThem(t *testing.T) {
	mod := New(Options{})
	mod.Use(tagger("mod"))
	mod.Get("/users/{id}", echo("id")).Name("user")
	_, file, line, _ := runtime.Caller(0)
	wantSource := fmt.Sprintf("%s:%d", file, line-1)

	for i := range 2 { // one module, two tables: the routes are copied
		b := New(Options{})
		b.Use(tagger("root"))
		b.Group("/v1").Include(mod)
		r, err := b.Build()
		if err != nil {
			t.Fatalf("build %d: %v", i, err)
		}
		rec := serve(r, "GET", "/v1/users/7")
		if got := strings.Join(rec.Header().Values("X-Chain"), ","); rec.Body.String() != "GET /v1/users/{id} id=7" || got != "root,mod" {
			t.Errorf("build %d: body %q chain %q", i, rec.Body, got)
		}
		if u, err := r.URL("user", "id", "3"); err != nil || u != "/v1/users/3" {
			t.Errorf("build %d: URL = %q, %v", i, u, err)
		}
		rt := r.Routes()[0]
		if rt.Source != wantSource || strings.Join(rt.Middleware, ",") != "router.tagger,router.tagger" {
			t.Errorf("build %d: source %q middleware %q, want %q and the tagger twice", i, rt.Source, rt.Middleware, wantSource)
		}
	}
}

func TestUseAfterRoutesPanics(t *testing.T) {
	b := New(Options{})
	b.Get("/", echo())
	defer func() {
		if v := recover(); v == nil || !strings.HasPrefix(v.(string), "router: Use after routes") {
			t.Errorf("recovered %v, want the Use-after-routes panic", v)
		}
	}()
	b.Use(func(h http.Handler) http.Handler { return h })
}

func TestBuildErrors(t *testing.T) {
	b := New(Options{})
	b.Get("/a/{x}", echo())
	b.Get("/a/{y}", echo())                 // same requests as /a/{x}
	b.Get("/n/{a:[0-9]+}", echo())          //
	b.Get("/n/{b:[0-9]+}", echo())          // same pattern, same requests
	b.Get("relative", echo())               //
	b.Get("/p/{id}/q/{id}", echo())         //
	b.Get("/c/{rest...}/more", echo())      //
	b.Get("/r/{id:[}", echo())              //
	b.Get("/m/pre{id}", echo())             //
	b.Get("/nil", nil)                      //
	b.Handle("GE T", "/bad-method", echo()) //
	b.Get("/one", echo()).Name("dup")       //
	b.Get("/two", echo()).Name("dup")       //
	_, err := b.Build()
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("Build error = %v, want a *BuildError", err)
	}
	fields := map[string]int{}
	for _, p := range be.Problems {
		fields[p.Field]++
	}
	if want := map[string]int{"path": 7, "method": 1, "handler": 1, "name": 1}; !maps.Equal(fields, want) {
		t.Errorf("problems by field = %v, want %v", fields, want)
	}
	for _, want := range []string{
		"GET /a/{y} (", ": conflicts with GET /a/{x} (", "router_test.go:",
		"GET /n/{b:[0-9]+}", "must start with '/'", "parameter {id} declared twice",
		"catch-all {rest...} must be the last segment", "invalid pattern", "mixes text and a parameter",
		"GET /nil", "nil handler", `"GE T" is not an HTTP method`, `name "dup" is already used by GET /one`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestURL(t *testing.T) {
	r := build(t, Options{}, func(b *Builder) {
		b.Get("/", echo()).Name("home")
		b.Get("/users/{id:[0-9]+}/posts/{slug}", echo()).Name("post")
		b.Get("/files/{path...}", echo()).Name("file")
	})
	tests := []struct {
		name    string
		pairs   []string
		want    string
		wantErr string
	}{
		{"home", nil, "/", ""},
		{"post", []string{"id", "42", "slug", "hello world/!"}, "/users/42/posts/hello%20world%2F%21", ""},
		{"file", []string{"path", "a b/c.txt"}, "/files/a%20b/c.txt", ""},
		{"post", []string{"id", "x", "slug", "s"}, "", `id="x" does not match`},
		{"post", []string{"id", "1"}, "", `missing parameter "slug"`},
		{"post", []string{"id", "1", "slug", "s", "extra", "v"}, "", `no parameter "extra"`},
		{"post", []string{"id"}, "", "name, value pairs"},
		{"post", []string{"id", "1", "slug", ""}, "", `parameter "slug" is empty`},
		{"nope", nil, "", `no route named "nope"`},
	}
	for _, tt := range tests {
		got, err := r.URL(tt.name, tt.pairs...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("URL(%s, %v) = %q, %v; want error %q", tt.name, tt.pairs, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("URL(%s, %v) = %q, %v; want %q", tt.name, tt.pairs, got, err, tt.want)
		}
	}
	// A built URL routes back to its route.
	u, _ := r.URL("post", "id", "7", "slug", "a b")
	if rec := serve(r, "GET", u); rec.Body.String() != "GET /users/{id:[0-9]+}/posts/{slug}" {
		t.Errorf("GET %s: %q", u, rec.Body)
	}
}

// TestMethodsChooseAmongMatchingPaths: a route whose path matches but
// whose method does not must not hide a less specific route that serves
// the method, and a 405 lists the methods of every route of the path.
func TestMethodsChooseAmongMatchingPaths(t *testing.T) {
	r := build(t, Options{}, func(b *Builder) {
		b.Get("/users/{id:[0-9]+}", echo("id"))
		b.Get("/users/new", echo())
		b.Post("/users/{name}", echo("name"))
		b.Post("/users/login", echo())
		b.Get("/f/{p...}", echo("p"))
		b.Post("/f/upload", echo())
		b.Put("/f/upload/{x}", echo("x"))
		b.Delete("/a/{x}/b", echo("x"))
		b.Patch("/a/c/{y}", echo("y"))
	})
	tests := []methodCase{
		{"POST", "/users/42", 200, "", "POST /users/{name} name=42"},
		{"GET", "/users/42", 200, "", "GET /users/{id:[0-9]+} id=42"},
		{"POST", "/users/new", 200, "", "POST /users/{name} name=new"},
		{"GET", "/users/new", 200, "", "GET /users/new"},
		{"POST", "/users/login", 200, "", "POST /users/login"},
		{"GET", "/users/login", 405, "OPTIONS, POST", "allowed: OPTIONS, POST"},
		{"HEAD", "/users/42", 200, "", ""},
		{"DELETE", "/users/new", 405, "GET, HEAD, OPTIONS, POST", "not allowed"},
		{"OPTIONS", "/users/7", 204, "GET, HEAD, OPTIONS, POST", ""},
		{"GET", "/f/upload", 200, "", "GET /f/{p...} p=upload"},
		{"POST", "/f/upload", 200, "", "POST /f/upload"},
		{"GET", "/f/upload/9", 200, "", "GET /f/{p...} p=upload/9"},
		{"PUT", "/f/upload/9", 200, "", "PUT /f/upload/{x} x=9"},
		{"DELETE", "/f/upload", 405, "GET, HEAD, OPTIONS, POST", "not allowed"},
		{"DELETE", "/a/c/b", 200, "", "DELETE /a/{x}/b x=c"},
		{"PATCH", "/a/c/b", 200, "", "PATCH /a/c/{y} y=b"},
		{"GET", "/a/c/b", 405, "DELETE, OPTIONS, PATCH", "not allowed"},
		{"GET", "/nope", 404, "", "no route"},
	}
	checkMethods(t, r, tests)
}

func TestLookupAllocatesNothing(t *testing.T) {
	r := build(t, Options{}, func(b *Builder) {
		b.Get("/users/{id:[0-9]+}/posts/{post}", echo())
		b.Get("/static/{path...}", echo())
		for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
			b.Get("/"+s+"/x", echo())
		}
	})
	ps := r.pool.Get().(*Params)
	for _, path := range []string{"/users/12/posts/hello", "/static/css/site.css", "/j/x", "/missing"} {
		if n := testing.AllocsPerRun(100, func() { r.Lookup("GET", path, ps) }); n != 0 {
			t.Errorf("Lookup(%s) allocates %v times, want 0", path, n)
		}
	}
}

func TestParamNames(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"/users/{id}", []string{"id"}},
		{"GET /files/{owner:[a-z]{2,8}}/{path...}", []string{"owner", "path"}},
		{"/static/text", nil},
		{"/bad/{id", nil},
	}
	for _, tt := range tests {
		if got := ParamNames(tt.path); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("ParamNames(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
