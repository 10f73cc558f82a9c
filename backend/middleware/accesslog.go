package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// AccessLog returns middleware that logs one line per request through log:
// every 4xx and 5xx answer, and one in sampleEvery of the others
// (sampleEvery ≤ 1 logs them all). It records status and size itself, so
// it can sit anywhere in the stack.
func AccessLog(log *slog.Logger, sampleEvery int) func(http.Handler) http.Handler {
	var n atomic.Uint64
	return Instrument(func(r *http.Request, rec Record) {
		level := slog.LevelInfo
		switch {
		case rec.Status >= 500:
			level = slog.LevelError
		case rec.Status >= 400:
			level = slog.LevelWarn
		case sampleEvery > 1 && n.Add(1)%uint64(sampleEvery) != 0:
			return
		}
		log.LogAttrs(context.Background(), level, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.Status),
			slog.Int64("bytes", rec.Bytes),
			slog.Duration("duration", rec.Duration.Round(time.Microsecond)),
			slog.String("remote", r.RemoteAddr),
			slog.String("request_id", GetRequestID(r.Context())),
		)
	})
}
