package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecoverer(t *testing.T) {
	var gotValue any
	var gotStack []byte
	h := Recoverer(func(r *http.Request, v any, stack []byte) {
		gotValue, gotStack = v, stack
	})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom secret")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	if body := rec.Body.String(); strings.Contains(body, "boom") || strings.Contains(body, "goroutine") {
		t.Errorf("response leaks the panic or stack: %s", body)
	}
	if gotValue != "boom secret" || !strings.Contains(string(gotStack), "recoverer_test.go") {
		t.Errorf("onPanic got value %v and a stack without the panicking frame", gotValue)
	}
}

func TestRecovererRepanicsAbort(t *testing.T) {
	h := Recoverer(nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler re-panicked", v)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}
