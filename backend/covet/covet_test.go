package covet_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/covet"
	"github.com/covetpy/covet/backend/httpserver"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/router"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func Example() {
	app := covet.New(covet.Config{})
	app.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user %s\n", r.PathValue("id"))
	}).Name("user")
	app.Route("/api", func(r *router.Builder) {
		r.Post("/orders", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	})
	h, err := app.Handler()
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, _ := http.Get(srv.URL + "/users/42")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))
	resp, _ = http.Post(srv.URL+"/api/orders", "application/json", nil)
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	link, _ := app.URL("user", "id", "a b") // reverse routing, escaped
	fmt.Println(link)
	// Output:
	// 200 user 42
	// 201
	// /users/a%20b
}

func TestURLNeedsBuiltRoutes(t *testing.T) {
	app := covet.New(covet.Config{Bare: true})
	app.Get("/users/{id}", func(http.ResponseWriter, *http.Request) {}).Name("user")
	if _, err := app.URL("user", "id", "1"); err == nil || !strings.Contains(err.Error(), "not built yet") {
		t.Errorf("URL before Handler = %v, want an error saying so", err)
	}
	if _, err := app.Handler(); err != nil {
		t.Fatal(err)
	}
	if u, err := app.URL("user", "id", "1"); u != "/users/1" || err != nil {
		t.Errorf("URL = %q, %v", u, err)
	}
	if _, err := app.URL("nope"); err == nil {
		t.Error("URL of an unknown name: no error")
	}
}

// Example_errors shows handlers that return errors: problem.HandlerFunc
// renders them as problem+json.
func Example_errors() {
	app := covet.New(covet.Config{})
	app.Handle("GET", "/orders/{id}", problem.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return problem.New(http.StatusNotFound, "no order "+r.PathValue("id"))
	}))
	h, _ := app.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/orders/7", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), strings.TrimSpace(rec.Body.String()))
	// Output: 404 application/problem+json {"type":"about:blank","title":"Not Found","status":404,"detail":"no order 7"}
}

func TestDefaultStackAndBare(t *testing.T) {
	panics := func(w http.ResponseWriter, r *http.Request) { panic("boom") }
	tests := []struct {
		name          string
		cfg           covet.Config
		wantStack     string
		wantRequestID bool
	}{
		{"default", covet.Config{}, "recover,requestID,realIP,securityHeaders", true},
		{"with metrics", covet.Config{Metrics: prometheus.NewRegistry()}, "recover,requestID,realIP,instrument,securityHeaders", true},
		{"bare", covet.Config{Bare: true}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := covet.New(tt.cfg)
			app.Get("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
			app.Get("/panic", panics)
			if got := strings.Join(app.Stack().Names(), ","); got != tt.wantStack {
				t.Errorf("stack %q, want %q", got, tt.wantStack)
			}
			h, err := app.Handler()
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/hello", nil))
			if rec.Body.String() != "hi" || (rec.Header().Get("X-Request-Id") != "") != tt.wantRequestID ||
				(rec.Header().Get("Content-Security-Policy") != "") != tt.wantRequestID {
				t.Errorf("GET /hello: %q headers %v", rec.Body, rec.Header())
			}
			if tt.cfg.Bare {
				return
			}
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/panic", nil))
			if rec.Code != 500 || rec.Header().Get("Content-Type") != problem.ContentType || strings.Contains(rec.Body.String(), "boom") {
				t.Errorf("panic: %d %q", rec.Code, rec.Body)
			}
			if reg, ok := tt.cfg.Metrics.(*prometheus.Registry); ok {
				want := `
# HELP covet_http_requests_total HTTP requests served, by method, route pattern and status code.
# TYPE covet_http_requests_total counter
covet_http_requests_total{code="200",method="GET",route="GET /hello"} 1
covet_http_requests_total{code="500",method="GET",route="GET /panic"} 1
`
				if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "covet_http_requests_total"); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestNamedHandlers(t *testing.T) {
	app := covet.New(covet.Config{})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	app.Register("users.show", ok)
	_, file, line, _ := runtime.Caller(0)
	app.Register("audit", ok)
	var names []string
	for _, h := range app.Handlers() {
		names = append(names, h.Name)
	}
	if strings.Join(names, ",") != "audit,users.show" {
		t.Errorf("Handlers() = %v, sorted by name wanted", names)
	}
	if h, found := app.Named("users.show"); !found || h.Source != fmt.Sprintf("%s:%d", file, line-1) {
		t.Errorf("Named(users.show) = %+v, %v; want source %s:%d", h, found, file, line-1)
	}
	for _, tt := range []struct{ name, want string }{
		{"users.show", `covet: Register("users.show"): already registered at ` + file},
		{"", `covet: Register(""): the name must be non-empty`},
		{" padded", `covet: Register(" padded"): the name must be non-empty without surrounding spaces`},
	} {
		func() {
			defer func() {
				if v := fmt.Sprint(recover()); !strings.HasPrefix(v, tt.want) {
					t.Errorf("Register(%q) panicked with %q, want %q", tt.name, v, tt.want)
				}
			}()
			app.Register(tt.name, ok)
		}()
	}
}

func TestHandlerReportsConflictsWithTheirSource(t *testing.T) {
	app := covet.New(covet.Config{})
	app.Get("/a/{x}", func(http.ResponseWriter, *http.Request) {})
	app.Get("/a/{y}", func(http.ResponseWriter, *http.Request) {})
	_, file, line, _ := runtime.Caller(0)
	_, err := app.Handler()
	var be *router.BuildError
	if !errors.As(err, &be) || len(be.Problems) != 1 || be.Problems[0].Route.Source != fmt.Sprintf("%s:%d", file, line-1) {
		t.Fatalf("Handler() = %v, want one conflict at %s:%d", err, file, line-1)
	}
}

func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	app := covet.New(covet.Config{})
	app.Get("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- app.Run(ctx, httpserver.Config{Addr: addr}) }()
	var body []byte
	for range 100 {
		resp, err := http.Get("http://" + addr + "/hello")
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if string(body) != "hi" {
		t.Errorf("GET /hello = %q", body)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run = %v", err)
	}
	// Bad routes stop Run before it listens.
	bad := covet.New(covet.Config{})
	bad.Get("no-slash", func(http.ResponseWriter, *http.Request) {})
	if err := bad.Run(context.Background(), httpserver.Config{Addr: addr}); err == nil || !strings.Contains(err.Error(), "covet: building routes") {
		t.Errorf("Run with a bad route = %v", err)
	}
}
