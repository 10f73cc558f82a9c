package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/covetpy/covet/tests/bench/e2e"
)

// TestE2EContendersAnswerAlike guards the end-to-end benchmark (run by
// scripts/bench http with wrk, never here): every contender must give the
// same status, content type and body for both workloads, and the ones with
// middleware must run it: a request id in the response, and the security
// headers from covet-secure and covet-serve only. covet-serve, covet serve
// itself, runs with its own listener.
func TestE2EContendersAnswerAlike(t *testing.T) {
	for _, c := range e2e.Contenders {
		t.Run(c.Name, func(t *testing.T) {
			h, err := c.Build()
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			answersAlike(t, srv.URL, c.Name != "servemux" && c.Name != "covet-bare", c.Name == "covet-secure")
		})
	}
	t.Run(e2e.ServeName, func(t *testing.T) {
		s, err := e2e.StartServe(t.Context(), "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(context.Background())
		answersAlike(t, s.URL, true, true)
	})
	if len(e2e.HelloBody) != 13 {
		t.Errorf("the hello body is %d bytes, want 13", len(e2e.HelloBody))
	}
}

// answersAlike checks both workloads of the contender at base.
func answersAlike(t *testing.T, base string, withMiddleware, secure bool) {
	t.Helper()
	cases := []struct{ path, ctype, body string }{
		{"/hello", "text/plain; charset=utf-8", "Hello, World!"},
		{"/users/42", "application/json", `{"id":"42","name":"user 42"}`},
	}
	for _, tc := range cases {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || string(body) != tc.body {
			t.Errorf("GET %s = %d %q %q, want 200 %q %q", tc.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), body, tc.ctype, tc.body)
		}
		if got := resp.Header.Get("X-Request-Id") != ""; got != withMiddleware {
			t.Errorf("GET %s: X-Request-Id present = %v, want %v", tc.path, got, withMiddleware)
		}
		for k, v := range e2e.SecurityHeaders {
			if !secure {
				v = ""
			}
			if got := resp.Header.Get(k); got != v {
				t.Errorf("GET %s: %s = %q, want %q", tc.path, k, got, v)
			}
		}
	}
}

// BenchmarkE2EInProcess serves the end-to-end workloads in process, without
// a network: each contender's whole handler (router, middleware, handler)
// into a writer that keeps nothing: the CPU a contender adds to each
// request on top of the net/http server's own work, without the noise of
// two processes and a loopback.
func BenchmarkE2EInProcess(b *testing.B) {
	for _, wl := range []struct{ name, path string }{{"hello", "/hello"}, {"users", "/users/42"}} {
		for _, c := range e2e.Contenders {
			b.Run(wl.name+"/"+c.Name, func(b *testing.B) {
				h, err := c.Build()
				if err != nil {
					b.Fatal(err)
				}
				w := &discard{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					req, _ := http.NewRequest("GET", wl.path, nil)
					req.RemoteAddr = "127.0.0.1:40000"
					clear(w.h)
					h.ServeHTTP(w, req)
				}
			})
		}
	}
}
