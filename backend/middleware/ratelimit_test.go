package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/ratelimit"
)

func TestRateLimit(t *testing.T) {
	// One request an hour refills nothing while the test runs, however
	// slowly a loaded machine runs it: every count below is exact.
	lim := ratelimit.NewMemory(ratelimit.Config{Rate: 1, Per: time.Hour, Burst: 20})
	h := RateLimit(lim, KeyByIP)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	send := func(remote string, header map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = remote
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// A bounded burst of 1,000 requests from one client admits the burst
	// allowance and no more.
	admitted := 0
	var last *httptest.ResponseRecorder
	for range 1000 {
		rec := send("192.0.2.1:1000", nil)
		if rec.Code == 200 {
			admitted++
		} else {
			last = rec
		}
	}
	if admitted != 21 {
		t.Errorf("admitted %d of 1,000, want 21", admitted)
	}
	if last == nil || last.Code != 429 || last.Header().Get("Retry-After") != "3600" || last.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("refusal: %+v", last)
	}
	if last.Header().Get("RateLimit-Limit") != "21" || last.Header().Get("RateLimit-Remaining") != "0" {
		t.Errorf("RateLimit headers: %v", last.Header())
	}
	// Another client has its own bucket; a spoofed X-Forwarded-For does not
	// move the first client into a fresh one.
	if rec := send("192.0.2.2:1000", nil); rec.Code != 200 {
		t.Errorf("a second client was refused: %d", rec.Code)
	}
	if rec := send("192.0.2.1:2000", map[string]string{"X-Forwarded-For": "198.51.100.9"}); rec.Code != 429 {
		t.Errorf("spoofed X-Forwarded-For escaped the limit: %d", rec.Code)
	}
}
