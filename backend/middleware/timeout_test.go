package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTimeout(t *testing.T) {
	cancelled := make(chan bool, 1)
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantCode int
		wantBody string
	}{
		{"on time", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-A", "1")
			w.WriteHeader(201)
			io.WriteString(w, "made")
		}, 201, "made"},
		{"late handler that honours its context", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			cancelled <- true
			io.WriteString(w, "too late")
		}, 503, "did not answer within 50ms"},
		{"late handler that ignores its context", func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(200 * time.Millisecond)
			io.WriteString(w, "too late")
		}, 503, "did not answer within 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Timeout(50*time.Millisecond)(tt.handler).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("got %d %q, want %d with %q", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
			if strings.Contains(rec.Body.String(), "too late") {
				t.Error("a late handler's output reached the client")
			}
		})
	}
	select {
	case <-cancelled:
	case <-time.After(time.Second):
		t.Error("the late handler's context was never cancelled")
	}
}

func TestTimeoutPassesPanicsToRecoverer(t *testing.T) {
	h := Recoverer(nil)(Timeout(time.Second)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 {
		t.Errorf("panic behind Timeout: %d, want 500 from Recoverer", rec.Code)
	}
}
