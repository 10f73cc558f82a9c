package middleware

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{"none", "", false},
		{"valid kept", "abc-123_x.y:z", true},
		{"too long replaced", strings.Repeat("a", 65), false},
		{"max length kept", strings.Repeat("a", 64), true},
		{"header injection replaced", "abc\r\nSet-Cookie: x=1", false},
		{"space replaced", "a b", false},
		{"unicode replaced", "idé", false},
	}
	mw := RequestID()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = GetRequestID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			if tt.incoming != "" {
				req.Header[RequestIDHeader] = []string{tt.incoming}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get(RequestIDHeader)
			if got != seen {
				t.Errorf("header id %q != context id %q", got, seen)
			}
			if tt.keep && got != tt.incoming {
				t.Errorf("id = %q, want incoming %q kept", got, tt.incoming)
			}
			if !tt.keep && (got == tt.incoming || !validRequestID(got)) {
				t.Errorf("id = %q, want a fresh valid id", got)
			}
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	h := RequestID()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	seen := make(map[string]bool)
	for range 1000 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		id := rec.Header().Get(RequestIDHeader)
		if seen[id] {
			t.Fatalf("duplicate request id %q", id)
		}
		seen[id] = true
	}
}

func TestRequestIDKeepsParentContext(t *testing.T) {
	// The id rides on its own context type: values set further out and
	// cancellation must still come through it, and values set further in
	// must not hide the id.
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "outer"))
	var ctx context.Context
	h := RequestID()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx = context.WithValue(r.Context(), struct{ inner int }{}, 1)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(parent))
	child, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	<-child.Done() // blocks forever if cancellation does not propagate
	if got := ctx.Value(key{}); got != "outer" {
		t.Errorf("outer value = %v, want outer", got)
	}
	if id := GetRequestID(ctx); !validRequestID(id) {
		t.Errorf("GetRequestID = %q, want a valid id", id)
	}
	if id := GetRequestID(context.Background()); id != "" {
		t.Errorf("GetRequestID without RequestID = %q, want empty", id)
	}
}
