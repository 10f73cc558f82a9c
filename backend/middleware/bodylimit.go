package middleware

import (
	"net/http"
	"strconv"

	"github.com/covetpy/covet/backend/problem"
)

// BodyLimit returns middleware that refuses request bodies over n bytes
// with 413 problem+json: at once when Content-Length says so (the handler
// never runs), and otherwise when a read passes the limit
// (http.MaxBytesReader makes the read fail and closes the connection; a
// handler that returns that error through package problem answers the 413,
// see problem.BodyTooLarge).
func BodyLimit(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				problem.Write(w, problem.New(http.StatusRequestEntityTooLarge,
					"the body is "+strconv.FormatInt(r.ContentLength, 10)+" bytes, more than the limit of "+strconv.FormatInt(n, 10)))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}
