package middleware

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"strconv"
	"sync/atomic"
)

// RequestIDHeader is the header a request id is read from and written to.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds an incoming request id; longer ones are replaced.
const maxRequestIDLen = 64

type requestIDKey struct{}

// RequestID returns middleware that gives every request an id: a valid
// incoming X-Request-Id (1–64 characters of A–Z a–z 0–9 - _ . :) is kept,
// anything else is replaced by a fresh id of the form <random prefix>-<n>.
// The id is stored in the request context (see GetRequestID) and echoed in
// the response header.
func RequestID() func(http.Handler) http.Handler {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	prefix := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]) + "-"
	var counter atomic.Uint64
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(RequestIDHeader)
			if !validRequestID(id) {
				id = prefix + strconv.FormatUint(counter.Add(1), 10)
			}
			w.Header().Set(RequestIDHeader, id)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		})
	}
}

// GetRequestID returns the request id that RequestID stored in ctx, or "".
func GetRequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}
