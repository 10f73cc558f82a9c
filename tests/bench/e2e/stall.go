package e2e

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// MaxStall bounds one stall of NewStall's server.
const MaxStall = 10 * time.Second

// NewStall returns the server of the load generator's coordinated-omission
// check (scripts/bench loadgen): net/http's ServeMux with servemux's
// GET /hello, and POST /stall?for=DURATION, which answers 204 at once and
// makes every GET /hello that arrives in the next DURATION (at most
// MaxStall) sleep until the stall is over, as a server stalled by a long
// pause would.
func NewStall() http.Handler {
	var until atomic.Int64 // UnixNano; the current stall ends then
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		if d := time.Until(time.Unix(0, until.Load())); d > 0 {
			time.Sleep(d)
		}
		Hello(w)
	})
	mux.HandleFunc("POST /stall", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("for"))
		if err != nil || d <= 0 || d > MaxStall {
			http.Error(w, fmt.Sprintf("for=%q: want a duration from 1ns to %s, such as 1s", r.URL.Query().Get("for"), MaxStall), http.StatusBadRequest)
			return
		}
		until.Store(time.Now().Add(d).UnixNano())
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}
