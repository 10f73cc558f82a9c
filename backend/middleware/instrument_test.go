package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestInstrument(t *testing.T) {
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		wantStatus  int
		wantBytes   int64
		wantPattern string
	}{
		{"implicit 200", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }, 200, 5, "GET /x"},
		{"explicit 404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, 404, 19, "GET /x"},
		{"no body", func(w http.ResponseWriter, r *http.Request) {}, 200, 0, "GET /x"},
		{"informational then 201", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		}, 201, 0, "GET /x"},
		{"flush only", func(w http.ResponseWriter, r *http.Request) { w.(http.Flusher).Flush() }, 200, 0, "GET /x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Record
			var pattern string
			mux := http.NewServeMux()
			mux.Handle("GET /x", tt.handler)
			h := Instrument(func(r *http.Request, rec Record) { got, pattern = rec, r.Pattern })(mux)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
			if got.Status != tt.wantStatus || got.Bytes != tt.wantBytes {
				t.Errorf("record status %d bytes %d, want %d and %d", got.Status, got.Bytes, tt.wantStatus, tt.wantBytes)
			}
			if pattern != tt.wantPattern {
				t.Errorf("pattern = %q, want %q", pattern, tt.wantPattern)
			}
			if got.Duration <= 0 || got.Start.IsZero() || time.Since(got.Start) > time.Minute {
				t.Errorf("implausible timing: %+v", got)
			}
		})
	}
}

func TestInstrumentPanicReportsServerError(t *testing.T) {
	var got Record
	h := Recoverer(nil)(Instrument(func(r *http.Request, rec Record) { got = rec })(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got.Status != 500 || rec.Code != 500 {
		t.Errorf("recorded %d, served %d; want 500 for both", got.Status, rec.Code)
	}
}

func TestInstrumentKeepsResponseController(t *testing.T) {
	h := Instrument(func(*http.Request, Record) {})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func BenchmarkInstrument(b *testing.B) {
	h := Instrument(func(*http.Request, Record) {})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	}))
	req := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

func TestInstrumentNestedSharesRecorder(t *testing.T) {
	// Instrument inside Instrument (with a layer between that does not wrap
	// the writer, as in Default) and inside a layer that does: every layer
	// reports the handler's status and size.
	headerOnly := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Layer", "1")
			next.ServeHTTP(w, r)
		})
	}
	wrapping := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
		})
	}
	tests := []struct {
		name    string
		between func(http.Handler) http.Handler
		handler http.HandlerFunc
		status  int
		bytes   int64
	}{
		{"shared, body", headerOnly, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }, 200, 5},
		{"shared, 404", headerOnly, http.NotFound, 404, 19},
		{"shared, panic", headerOnly, func(http.ResponseWriter, *http.Request) { panic("x") }, 500, 0},
		{"wrapped, body", wrapping, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }, 200, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var outer, inner Record
			h := Recoverer(nil)(Instrument(func(r *http.Request, rec Record) { outer = rec })(
				tt.between(Instrument(func(r *http.Request, rec Record) { inner = rec })(tt.handler))))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			for _, got := range []Record{outer, inner} {
				if got.Status != tt.status || got.Bytes != tt.bytes {
					t.Errorf("record status %d bytes %d, want %d and %d", got.Status, got.Bytes, tt.status, tt.bytes)
				}
			}
			if inner.Duration <= 0 || outer.Duration < inner.Duration {
				t.Errorf("durations outer %v inner %v, want 0 < inner ≤ outer", outer.Duration, inner.Duration)
			}
		})
	}
}
