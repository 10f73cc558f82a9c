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
			"Content-Security-Policy": DefaultCSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "",
			"Referrer-Policy": "no-referrer", "Strict-Transport-Security": "",
		}},
		{"HSTS on TLS only", SecurityOptions{}, true, map[string]string{"Strict-Transport-Security": hsts}},
		{"own CSP without frame-ancestors", SecurityOptions{CSP: "default-src 'none'"}, false, map[string]string{
			"Content-Security-Policy": "default-src 'none'", "X-Frame-Options": "DENY",
		}},
		{"own CSP with frame-ancestors", SecurityOptions{CSP: "default-src 'none';Frame-Ancestors 'self'"}, false, map[string]string{
			"Content-Security-Policy": "default-src 'none';Frame-Ancestors 'self'", "X-Frame-Options": "",
		}},
		{"no CSP", SecurityOptions{CSP: "-"}, false, map[string]string{"Content-Security-Policy": "", "X-Frame-Options": "DENY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := SecurityHeaders(tt.opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Referrer-Policy", "no-referrer") // a handler may override
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
