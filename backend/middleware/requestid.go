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

// requestIDContext carries a request's id. It is the context RequestID
// hands on and the backing array of the response header's value, in one
// allocation: a context.WithValue, the id boxed in an interface and the
// header's []string would be three.
type requestIDContext struct {
	context.Context
	id     string
	header [1]string // the X-Request-Id response header value, id
}

// Value answers requestIDKey{} with c itself (a pointer, so nothing is
// boxed) and asks the parent for every other key.
func (c *requestIDContext) Value(key any) any {
	if key == (requestIDKey{}) {
		return c
	}
	return c.Context.Value(key)
}

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
			var id string
			if v := r.Header[RequestIDHeader]; len(v) > 0 { // the key is canonical: no Header.Get
				id = v[0]
			}
			if !validRequestID(id) {
				// prefix (17 bytes) and a uint64 (≤ 20 digits) fit in buf,
				// so the id costs the one allocation of the string.
				var buf [48]byte
				id = string(strconv.AppendUint(append(buf[:0], prefix...), counter.Add(1), 10))
			}
			c := &requestIDContext{Context: r.Context(), id: id, header: [1]string{id}}
			w.Header()[RequestIDHeader] = c.header[:] // RequestIDHeader is canonical
			next.ServeHTTP(w, r.WithContext(c))
		})
	}
}

// GetRequestID returns the request id that RequestID stored in ctx, or "".
func GetRequestID(ctx context.Context) string {
	if c, ok := ctx.Value(requestIDKey{}).(*requestIDContext); ok {
		return c.id
	}
	return ""
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
