package main

import (
	"log/slog"
	"os"

	"github.com/wailsapp/wails/v2/pkg/logger"
)

// wailsLogger sends Wails' own log lines to the app's slog logger, so the
// desktop shell writes one log, in one format, to stderr.
type wailsLogger struct{ log *slog.Logger }

var _ logger.Logger = wailsLogger{}

func (l wailsLogger) Print(msg string)   { l.log.Info(msg) }
func (l wailsLogger) Trace(msg string)   { l.log.Debug(msg) }
func (l wailsLogger) Debug(msg string)   { l.log.Debug(msg) }
func (l wailsLogger) Info(msg string)    { l.log.Info(msg) }
func (l wailsLogger) Warning(msg string) { l.log.Warn(msg) }
func (l wailsLogger) Error(msg string)   { l.log.Error(msg) }

// Fatal logs and exits, as Wails' default logger does.
func (l wailsLogger) Fatal(msg string) {
	l.log.Error(msg, "fatal", true)
	os.Exit(1)
}
