package embeddedserver

import (
	"io"
	"log/slog"

	"github.com/covetpy/covet/backend/logbuf"
)

// BatchedLogger returns a logger for a server's log, JSON or text, that
// reaches w in blocks (logbuf) rather than a write(2) per line: a server
// logs a line per request. Warnings and errors are written at once; close
// writes what is held and must be called before the program exits.
func BatchedLogger(w io.Writer, json bool) (log *slog.Logger, close func()) {
	out := logbuf.New(w, logbuf.Options{})
	var h slog.Handler = slog.NewTextHandler(out, nil)
	if json {
		h = slog.NewJSONHandler(out, nil)
	}
	return slog.New(logbuf.FlushOn(h, out, slog.LevelWarn)), func() { out.Close() }
}
