package middleware

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBodyLimit(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		chunked     bool
		wantCode    int
		wantHandled bool
	}{
		{"within", "12345", false, 200, true},
		{"at the limit", "1234567890", false, 200, true},
		{"declared too large", "12345678901", false, 413, false},
		{"chunked too large", "12345678901", true, 413, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handled := false
			h := BodyLimit(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				handled = true
				_, err := io.ReadAll(r.Body)
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					w.WriteHeader(413)
				}
			}))
			req := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode || handled != tt.wantHandled {
				t.Errorf("got %d handled=%v, want %d handled=%v", rec.Code, handled, tt.wantCode, tt.wantHandled)
			}
		})
	}
}
