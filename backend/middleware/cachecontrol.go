package middleware

import "net/http"

// CacheControl returns middleware that sets the Cache-Control header to
// value before the handler runs; the handler may still override it.
func CacheControl(value string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", value)
			next.ServeHTTP(w, r)
		})
	}
}
