package middleware

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Record describes one served request, as Instrument saw it.
type Record struct {
	Start    time.Time
	Duration time.Duration
	Status   int   // 200 when the handler wrote a body without a header
	Bytes    int64 // response body bytes written
}

// ReportFunc receives each served request's record. r is the request the
// handler saw, so r.Pattern holds the matched ServeMux pattern, if any. It
// runs on the request's goroutine after the handler returns and must be fast.
type ReportFunc func(r *http.Request, rec Record)

// Instrument returns middleware that measures each request's status, body
// size and duration and hands them to report. It allocates nothing per
// request beyond what report does.
//
// When the writer it is given already is the recorder of an Instrument (or
// AccessLog) further out, with nothing between them that wrapped it, it
// reads that recorder instead of stacking a second one: every write the
// handler makes passes both layers anyway. (The record then also counts what
// layers between the two wrote themselves.) Each layer still times the
// request itself; Default puts the access log and the report in one layer,
// timed once.
func Instrument(report ReportFunc) func(http.Handler) http.Handler {
	pool := sync.Pool{New: func() any { return new(recordingWriter) }}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw, shared := w.(*recordingWriter)
			if !shared {
				rw = pool.Get().(*recordingWriter)
				*rw = recordingWriter{ResponseWriter: w}
			}
			start := time.Now()
			returned := false // the handler returned normally
			defer func() {
				rec := Record{Start: start, Duration: time.Since(start), Status: rw.status, Bytes: rw.bytes}
				if rec.Status == 0 {
					// A handler that panicked without writing: Recoverer,
					// outside us, answers 500.
					rec.Status = http.StatusInternalServerError
					if returned {
						rec.Status = http.StatusOK
					}
				}
				if !shared {
					*rw = recordingWriter{}
					pool.Put(rw)
				}
				report(r, rec)
			}()
			next.ServeHTTP(rw, r)
			returned = true
		})
	}
}

// recordingWriter remembers the status and counts body bytes. It passes
// Flush, Hijack and Unwrap (for http.ResponseController) through.
type recordingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *recordingWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	if errors.Is(err, http.ErrNotSupported) {
		return nil, nil, errors.New("middleware: the underlying ResponseWriter does not support hijacking")
	}
	return conn, rw, err
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
