package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCORS(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("handled")) })
	exact := CORS(CORSOptions{AllowOrigins: []string{"https://app.example"}, AllowMethods: []string{"GET", "PUT"},
		AllowHeaders: []string{"Content-Type"}, ExposeHeaders: []string{"ETag"}, AllowCredentials: true, MaxAge: time.Minute})(ok)
	star := CORS(CORSOptions{AllowOrigins: []string{"*"}})(ok)
	tests := []struct {
		name       string
		h          http.Handler
		method     string
		header     map[string]string
		wantCode   int
		wantHeader map[string]string
		wantBody   string
	}{
		{"no origin", exact, "GET", nil, 200, map[string]string{"Access-Control-Allow-Origin": ""}, "handled"},
		{"allowed origin", exact, "GET", map[string]string{"Origin": "https://app.example"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Credentials": "true", "Access-Control-Expose-Headers": "ETag"}, "handled"},
		{"other origin passes without headers", exact, "GET", map[string]string{"Origin": "https://evil.example"}, 200,
			map[string]string{"Access-Control-Allow-Origin": ""}, "handled"},
		{"preflight", exact, "OPTIONS", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}, 204,
			map[string]string{"Access-Control-Allow-Methods": "GET, PUT", "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "60"}, ""},
		{"preflight from another origin", exact, "OPTIONS", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}, 403, nil, ""},
		{"wildcard", star, "GET", map[string]string{"Origin": "https://any.example"}, 200, map[string]string{"Access-Control-Allow-Origin": "*"}, "handled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/", nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode || (tt.wantBody != "" && rec.Body.String() != tt.wantBody) {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
