package assemble

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/embedded-server/internal/config"
	"github.com/prometheus/client_golang/prometheus"
)

func newHandler(t *testing.T, cfg *config.Config, report middleware.ReportFunc) *Handler {
	t.Helper()
	db, err := sqlite.New(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if report == nil {
		report = func(*http.Request, middleware.Record) {}
	}
	h, err := New(cfg, Deps{DB: db, Gatherer: prometheus.NewRegistry(), Report: report})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRoutes(t *testing.T) {
	var reported []string
	h := newHandler(t, config.Default(), func(r *http.Request, rec middleware.Record) {
		reported = append(reported, r.Method+" "+r.URL.Path)
	})
	tests := []struct {
		method, path string
		wantStatus   int
		wantBody     string
		wantHeader   [2]string
	}{
		{"GET", "/hello", 200, "Hello, World!", [2]string{"Content-Type", "text/plain; charset=utf-8"}},
		{"HEAD", "/hello", 200, "", [2]string{"Content-Type", "text/plain; charset=utf-8"}},
		{"POST", "/hello", 405, `"status":405`, [2]string{"Allow", "GET, HEAD, OPTIONS"}},
		{"OPTIONS", "/hello", 204, "", [2]string{"Allow", "GET, HEAD, OPTIONS"}},
		{"GET", "/hello/", 301, "", [2]string{"Location", "/hello"}},
		{"GET", "/nope", 404, "no route matches /nope", [2]string{"Content-Type", "application/problem+json"}},
		{"GET", "/healthz", 200, `"status":"ok"`, [2]string{"Cache-Control", "no-store"}},
		{"GET", "/readyz", 200, `"status":"ready"`, [2]string{"Content-Type", "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("got %d %q, want %d containing %q", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			if got := rec.Header().Get(tt.wantHeader[0]); got != tt.wantHeader[1] {
				t.Errorf("header %s = %q, want %q", tt.wantHeader[0], got, tt.wantHeader[1])
			}
		})
	}
	want := "GET /hello,HEAD /hello,POST /hello,OPTIONS /hello,GET /hello/,GET /nope"
	if got := strings.Join(reported, ","); got != want {
		t.Errorf("reported %s, want %s (probes are not reported)", got, want)
	}
}

func TestApplySwapsAndKeepsOldOnError(t *testing.T) {
	h := newHandler(t, config.Default(), nil)
	body := func() string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/hello", nil))
		return rec.Body.String()
	}
	next := config.Default()
	next.Routes[0].Mock.Body = "changed"
	if err := h.Apply(next); err != nil {
		t.Fatal(err)
	}
	if got := body(); got != "changed" {
		t.Fatalf("after Apply: %q, want %q", got, "changed")
	}
	broken := config.Default()
	broken.Routes[0].Kind = "teleport"
	if err := h.Apply(broken); err == nil || !strings.Contains(err.Error(), "routes[0].kind") {
		t.Errorf("Apply(broken) = %v, want a routes[0].kind error", err)
	}
	if got := body(); got != "changed" {
		t.Errorf("after a failed Apply: %q, want the previous tree's %q", got, "changed")
	}
}

func TestMockBodyFillsPathParameters(t *testing.T) {
	cfg := config.Default()
	mock := func(id, path, contentType, body string) config.Route {
		m := &config.Mock{Status: 200, Body: body}
		if contentType != "" {
			m.Headers = map[string]string{"content-type": contentType}
		}
		return config.Route{ID: id, Method: "GET", Path: path, Kind: "mock", Mock: m}
	}
	cfg.Routes = append(cfg.Routes,
		mock("json", "/users/{id}", "application/json", `{"id": "{id}", "name": "user {id}", "other": "{name}"}`),
		mock("html", "/pages/{id}", "text/html; charset=utf-8", "<p>{id}</p>"),
		mock("text", "/files/{path...}", "text/plain", "file {path} {id}"),
		mock("sniffed", "/sniff/{x}", "", "<html><body>{x}</body></html>"),
		mock("sniffed-with-header", "/sniff2/{x}", "", "<html><body>{x}</body></html>"),
		mock("long", "/long/{s}", "text/plain", strings.Repeat("{s}", 1000)),
	)
	cfg.Routes[len(cfg.Routes)-2].Mock.Headers = map[string]string{"X-Mock": "yes"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, cfg, nil)
	for _, tt := range []struct {
		path, wantBody, wantType string
		wantStatus               int
	}{
		{"/users/42", `{"id": "42", "name": "user 42", "other": "{name}"}`, "application/json", 200},
		{`/users/a%22b%5Cc`, `{"id": "a\"b\\c", "name": "user a\"b\\c", "other": "{name}"}`, "application/json", 200},
		{"/pages/%3Cscript%3E", "<p>&lt;script&gt;</p>", "text/html; charset=utf-8", 200},
		{"/files/a/b.txt", "file a/b.txt {id}", "text/plain", 200},
		{"/sniff/%3Cb%3E", "<html><body>&lt;b&gt;</body></html>", "text/html; charset=utf-8", 200},
		{"/sniff2/%3Cb%3E", "<html><body>&lt;b&gt;</body></html>", "text/html; charset=utf-8", 200},
		{"/long/" + strings.Repeat("x", 1100), "more than 1048576 bytes", "application/problem+json", 414},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) || rec.Header().Get("Content-Type") != tt.wantType {
			t.Errorf("GET %s = %d %q (%s), want %d %q (%s)", tt.path, rec.Code, rec.Body, rec.Header().Get("Content-Type"), tt.wantStatus, tt.wantBody, tt.wantType)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/sniff2/x", nil))
	if rec.Header().Get("X-Mock") != "yes" {
		t.Errorf("the sniffed type replaced the mock's other headers: %v", rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("HEAD", "/users/42", nil))
	if want := len(`{"id": "42", "name": "user 42", "other": "{name}"}`); rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != fmt.Sprint(want) {
		t.Errorf("HEAD = %d %q Content-Length %q, want 200, no body and the GET's length %d", rec.Code, rec.Body, rec.Header().Get("Content-Length"), want)
	}
}

// TestRedirectParameters: a catch-all keeps its slashes in the Location,
// other characters are escaped, and no value can make the Location start
// with "//" (another host, for a browser).
func TestRedirectParameters(t *testing.T) {
	cfg := config.Default()
	cfg.Routes = append(cfg.Routes,
		config.Route{ID: "moved", Method: "GET", Path: "/moved/{rest...}", Kind: "redirect", Redirect: &config.Redirect{To: "/{rest}", Status: 302}},
		config.Route{ID: "old", Method: "GET", Path: "/old/{id}", Kind: "redirect", Redirect: &config.Redirect{To: "/new/{id}?from=old", Status: 301}},
	)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h := newHandler(t, cfg, nil)
	for _, tt := range []struct{ path, want string }{
		{"/moved/docs/a%20b.html?x=1", "/docs/a%20b.html?x=1"},
		{"/moved/a%2Fb", "/a/b"},
		{"/moved//evil.example/x", "/%2Fevil.example%2Fx"},
		{"/moved/a//b", "/a%2F%2Fb"},
		{"/moved/%5Cevil.example", "/%5Cevil.example"},
		{"/old/a%20b?x=1", "/new/a%20b?from=old"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if got := rec.Header().Get("Location"); rec.Code/100 != 3 || got != tt.want {
			t.Errorf("GET %s = %d Location %q, want %q", tt.path, rec.Code, got, tt.want)
		}
	}
}

func TestMockDelayEndsWhenTheClientLeaves(t *testing.T) {
	cfg := config.Default()
	cfg.Routes[0].Mock.Delay = config.Duration(time.Hour)
	h := newHandler(t, cfg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	rec := httptest.NewRecorder()
	go func() {
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/hello", nil).WithContext(ctx))
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the delayed mock kept waiting after its client left")
	}
	if rec.Body.Len() != 0 {
		t.Errorf("wrote %q to a client that left", rec.Body)
	}
}

func TestAccessLogModes(t *testing.T) {
	for mode, want := range map[string]int{"all": 11, "1/5": 2 + 1, "errors": 1, "off": 0} {
		cfg := config.Default()
		cfg.Server.AccessLog = mode
		var lines strings.Builder
		db, err := sqlite.New(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		h, err := New(cfg, Deps{DB: db, Gatherer: prometheus.NewRegistry(), Report: func(*http.Request, middleware.Record) {}, Logger: slog.New(slog.NewJSONHandler(&lines, nil))})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/hello", nil))
		}
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/missing", nil))
		if got := strings.Count(lines.String(), `"msg":"request"`); got != want {
			t.Errorf("accessLog %q: %d lines for 10 successes and a 404, want %d", mode, got, want)
		}
	}
}

func TestSecurityHeadersOff(t *testing.T) {
	for mode, want := range map[string]string{"on": "nosniff", "off": ""} {
		cfg := config.Default()
		cfg.Server.SecurityHeaders = mode
		db, err := sqlite.New(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db")})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		h, err := New(cfg, Deps{DB: db, Gatherer: prometheus.NewRegistry(), Report: func(*http.Request, middleware.Record) {}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/hello", nil))
		if rec.Code != 200 || rec.Header().Get("X-Content-Type-Options") != want || (rec.Header().Get("Content-Security-Policy") == "") != (want == "") {
			t.Errorf("securityHeaders %q: %d %v", mode, rec.Code, rec.Header())
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("securityHeaders %q: no request id; only the security headers may go", mode)
		}
	}
}
