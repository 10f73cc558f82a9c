package middleware

import (
	"errors"
	"net/http"
	"runtime/debug"

	"github.com/covetpy/covet/backend/problem"
)

// PanicFunc is told about a recovered panic, with the value and the stack.
// Libraries do not log; the application decides what to do with it.
type PanicFunc func(r *http.Request, v any, stack []byte)

// Recoverer returns middleware that turns a panic in a handler into a
// problem+json 500 response. The stack goes to onPanic (which may be nil),
// never into the response. http.ErrAbortHandler is re-panicked so net/http
// can abort the connection as it intends.
func Recoverer(onPanic PanicFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				if onPanic != nil {
					onPanic(r, v, debug.Stack())
				}
				if r.Header.Get("Connection") != "Upgrade" {
					problem.Write(w, problem.New(http.StatusInternalServerError, "the handler failed; the server log has the details"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}
