package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCacheControl(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"set", func(http.ResponseWriter, *http.Request) {}, "public, max-age=60"},
		{"handler overrides", func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Cache-Control", "no-store") }, "no-store"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		CacheControl("public, max-age=60")(tt.handler).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if got := rec.Header().Get("Cache-Control"); got != tt.want {
			t.Errorf("%s: Cache-Control = %q, want %q", tt.name, got, tt.want)
		}
	}
}
