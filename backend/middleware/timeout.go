package middleware

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/covetpy/covet/backend/problem"
)

// Timeout returns middleware that gives a handler at most d: its context is
// cancelled at the deadline and, if it has not finished by then, the client
// gets 503 problem+json. The response is buffered until the handler
// returns, so a late handler can never write half an answer; streaming
// handlers (Flush, Hijack) do not belong behind Timeout.
func Timeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			tw := &timeoutWriter{header: make(http.Header)}
			done := make(chan struct{})
			panicked := make(chan any, 1)
			go func() {
				defer func() {
					if p := recover(); p != nil {
						panicked <- p
					}
				}()
				next.ServeHTTP(tw, r.WithContext(ctx))
				close(done)
			}()
			select {
			case p := <-panicked:
				panic(p) // to Recoverer, on the request's goroutine
			case <-done:
				tw.mu.Lock()
				defer tw.mu.Unlock()
				dst := w.Header()
				for k, v := range tw.header {
					dst[k] = v
				}
				if tw.code == 0 {
					tw.code = http.StatusOK
				}
				w.WriteHeader(tw.code)
				_, _ = w.Write(tw.buf.Bytes())
			case <-ctx.Done():
				tw.mu.Lock()
				tw.timedOut = true
				tw.mu.Unlock()
				problem.Write(w, problem.New(http.StatusServiceUnavailable, "the handler did not answer within "+d.String()))
			}
		})
	}
}

// timeoutWriter buffers a handler's answer until it is known to be on time.
type timeoutWriter struct {
	mu       sync.Mutex // guards the fields below
	header   http.Header
	buf      bytes.Buffer
	code     int
	timedOut bool
}

func (tw *timeoutWriter) Header() http.Header { return tw.header }

func (tw *timeoutWriter) Write(p []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if tw.code == 0 {
		tw.code = http.StatusOK
	}
	return tw.buf.Write(p)
}

func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if !tw.timedOut && tw.code == 0 && code >= 200 {
		tw.code = code
	}
}
