package middleware

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	const hsts = "max-age=31536000; includeSubDomains"
	tests := []struct {
		name string
		opts SecurityOptions
		tls  bool
		want map[string]string
	}{
		{"defaults over plain HTTP", SecurityOptions{}, false, map[string]string{
			"Content-Security-Policy": DefaultCSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
			"Referrer-Policy": "strict-origin-when-cross-origin", "Strict-Transport-Security": "",
		}},
		{"HSTS on TLS only", SecurityOptions{}, true, map[string]string{"Strict-Transport-Security": hsts}},
		{"own CSP", SecurityOptions{CSP: "default-src 'none'"}, false, map[string]string{"Content-Security-Policy": "default-src 'none'"}},
		{"no CSP", SecurityOptions{CSP: "-"}, false, map[string]string{"Content-Security-Policy": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := SecurityHeaders(tt.opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Frame-Options", "SAMEORIGIN") // a handler may override
			}))
			req := httptest.NewRequest("GET", "/", nil)
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			for k, v := range tt.want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
