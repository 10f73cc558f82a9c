package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
	}{
		{"problem", New(http.StatusNotFound, "no such key"), 404, "no such key"},
		{"wrapped problem", fmt.Errorf("loading: %w", New(http.StatusConflict, "taken")), 409, "taken"},
		{"plain error hides its text", errors.New("dial tcp 10.0.0.1: secret internals"), 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, tt.err)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != ContentType {
				t.Errorf("Content-Type = %q, want %q", got, ContentType)
			}
			var d Details
			if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
			}
			if d.Status != tt.wantStatus || d.Detail != tt.wantDetail || d.Title != http.StatusText(tt.wantStatus) {
				t.Errorf("body = %+v, want status %d detail %q", d, tt.wantStatus, tt.wantDetail)
			}
		})
	}
}

func ExampleWrite() {
	rec := httptest.NewRecorder()
	Write(rec, New(http.StatusTooManyRequests, "slow down"))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 429 {"type":"about:blank","title":"Too Many Requests","status":429,"detail":"slow down"}
}

func ExampleHandlerFunc() {
	users := map[string]string{"1": "ada"}
	show := HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		name, ok := users[r.PathValue("id")]
		if !ok {
			return New(http.StatusNotFound, "no user "+r.PathValue("id"))
		}
		_, err := fmt.Fprint(w, name)
		return err
	})
	for _, id := range []string{"1", "2"} {
		req := httptest.NewRequest("GET", "/users/"+id, nil)
		req.SetPathValue("id", id)
		rec := httptest.NewRecorder()
		show.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 ada
	// 404 {"type":"about:blank","title":"Not Found","status":404,"detail":"no user 2"}
}

func TestBodyTooLargeNamesTheLimitReached(t *testing.T) {
	// A route's limit of 10 outside a handler's own of 1,000: the read
	// stops at 10, and the answer says so.
	outer := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader(strings.Repeat("x", 50))), 10)
	_, err := io.ReadAll(http.MaxBytesReader(httptest.NewRecorder(), outer, 1000))
	d := From(fmt.Errorf("reading: %w", err))
	if d.Status != http.StatusRequestEntityTooLarge || d.Detail != "the body is more than the limit of 10 bytes" {
		t.Errorf("From(%v) = %+v", err, d)
	}
	if d := BodyTooLarge(errors.New("unexpected EOF")); d != nil {
		t.Errorf("BodyTooLarge(other error) = %+v, want nil", d)
	}
	if d := BodyTooLarge(nil); d != nil {
		t.Errorf("BodyTooLarge(nil) = %+v, want nil", d)
	}
}
