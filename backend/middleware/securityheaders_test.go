package middleware

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	h := SecurityHeaders()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "SAMEORIGIN") // a handler may override
	}))
	for _, tlsOn := range []bool{false, true} {
		req := httptest.NewRequest("GET", "/", nil)
		if tlsOn {
			req.TLS = &tls.ConnectionState{}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		want := map[string]string{
			"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
			"Referrer-Policy": "strict-origin-when-cross-origin", "Strict-Transport-Security": "",
		}
		if tlsOn {
			want["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
		}
		for k, v := range want {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("tls=%v: %s = %q, want %q", tlsOn, k, got, v)
			}
		}
	}
}
