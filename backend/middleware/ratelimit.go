package middleware

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/ratelimit"
)

// KeyFunc says which bucket a request counts against.
type KeyFunc func(r *http.Request) string

// KeyByIP counts requests per client address (the peer's IP: put RealIP
// in front when trusted proxies forward requests).
func KeyByIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// KeyByHeader counts requests per value of a header (an API key, say);
// requests without it share one bucket.
func KeyByHeader(name string) KeyFunc {
	return func(r *http.Request) string { return r.Header.Get(name) }
}

// KeyGlobal counts every request against one bucket.
func KeyGlobal(*http.Request) string { return "" }

// RateLimit returns middleware that admits requests within lim's rate per
// key and answers the others 429 problem+json with Retry-After. Every
// answer carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset.
func RateLimit(lim *ratelimit.Memory, key KeyFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			res := lim.Allow(key(r), time.Now())
			h := w.Header()
			h.Set("RateLimit-Limit", strconv.Itoa(res.Limit))
			h.Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
			h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(res.ResetAfter)))
			if !res.Allowed {
				h.Set("Retry-After", strconv.Itoa(ceilSeconds(res.RetryAfter)))
				problem.Write(w, problem.New(http.StatusTooManyRequests, "rate limit exceeded; retry after "+res.RetryAfter.Round(time.Millisecond).String()))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
