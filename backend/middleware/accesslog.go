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
//
// Lines skipped by the sampling or by the handler's level cost no
// formatting. A line is handed to log's handler directly, stamped with the
// time the response ended and without a source location (it would always
// be this file), which spares the caller lookup of slog.Logger.LogAttrs.
func AccessLog(log *slog.Logger, sampleEvery int) func(http.Handler) http.Handler {
	return Instrument(accessLogReport(log, sampleEvery))
}

// accessLogReport is AccessLog's report: it logs rec as AccessLog says.
func accessLogReport(log *slog.Logger, sampleEvery int) ReportFunc {
	var n atomic.Uint64
	h := log.Handler()
	return func(r *http.Request, rec Record) {
		level := slog.LevelInfo
		switch {
		case rec.Status >= 500:
			level = slog.LevelError
		case rec.Status >= 400:
			level = slog.LevelWarn
		case sampleEvery > 1 && n.Add(1)%uint64(sampleEvery) != 0:
			return
		}
		ctx := context.Background()
		if !h.Enabled(ctx, level) {
			return
		}
		line := slog.NewRecord(rec.Start.Add(rec.Duration), level, "request", 0)
		line.AddAttrs(
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.Status),
			slog.Int64("bytes", rec.Bytes),
			slog.Duration("duration", rec.Duration.Round(time.Microsecond)),
			slog.String("remote", r.RemoteAddr),
			slog.String("request_id", GetRequestID(r.Context())),
		)
		_ = h.Handle(ctx, line)
	}
}
