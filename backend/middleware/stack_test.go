package middleware

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	tests := []struct {
		name        string
		log, report bool
		want        string
	}{
		{"zero value", false, false, "recover,requestID,realIP,securityHeaders"},
		{"access log", true, false, "recover,requestID,realIP,accessLog,securityHeaders"},
		{"report", false, true, "recover,requestID,realIP,instrument,securityHeaders"},
		{"both in one layer", true, true, "recover,requestID,realIP,accessLog+instrument,securityHeaders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			var reported []int
			var cfg DefaultConfig
			if tt.log {
				cfg.AccessLog = slog.New(slog.NewTextHandler(&logs, nil))
			}
			if tt.report {
				cfg.Report = func(_ *http.Request, rec Record) { reported = append(reported, rec.Status) }
			}
			s := Default(cfg)
			if got := strings.Join(s.Names(), ","); got != tt.want {
				t.Fatalf("Names() = %q, want %q", got, tt.want)
			}
			h := s.Then(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			// The recoverer is outermost: the panic is a 500 with the
			// request id and security headers of the inner layers.
			if rec.Code != 500 || rec.Header().Get("X-Request-Id") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("panic answered %d with %v", rec.Code, rec.Header())
			}
			if logged := strings.Count(logs.String(), "status=500"); logged != btoi(tt.log) {
				t.Errorf("logged %q; want the 500 %d time(s)", logs.String(), btoi(tt.log))
			}
			if len(reported) != btoi(tt.report) || tt.report && reported[0] != 500 {
				t.Errorf("reported %v; want the 500 %d time(s)", reported, btoi(tt.report))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestStackThenOrder(t *testing.T) {
	var order []string
	layer := func(name string) Named {
		return Named{name, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}}
	}
	Stack{layer("outer"), layer("inner")}.Then(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if strings.Join(order, ",") != "outer,inner" {
		t.Errorf("order %v", order)
	}
}

// BenchmarkDefault is the default stack's cost per request: every layer,
// an access log formatted as JSON (to io.Discard) and a no-op report.
func BenchmarkDefault(b *testing.B) {
	h := Default(DefaultConfig{
		AccessLog: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Report:    func(*http.Request, Record) {},
	}).Then(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Hello, World!")) }))
	req := httptest.NewRequest("GET", "/hello", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkDefaultSampled is BenchmarkDefault with the access log sampling
// one success in 100: the stack's own cost, nearly without formatting.
func BenchmarkDefaultSampled(b *testing.B) {
	h := Default(DefaultConfig{
		AccessLog:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		LogSampleEvery: 100,
		Report:         func(*http.Request, Record) {},
	}).Then(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Hello, World!")) }))
	req := httptest.NewRequest("GET", "/hello", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

func TestDefaultNoSecurityHeaders(t *testing.T) {
	s := Default(DefaultConfig{NoSecurityHeaders: true})
	if got := strings.Join(s.Names(), ","); got != "recover,requestID,realIP" {
		t.Fatalf("Names() = %q", got)
	}
	rec := httptest.NewRecorder()
	s.Then(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		if v := rec.Header().Get(k); v != "" {
			t.Errorf("%s: %q, want none", k, v)
		}
	}
	if rec.Header().Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id: the rest of the stack must stay")
	}
}
