// Command covet-studio is Covet Studio, the desktop app: a native window
// (Wails v2) around a Covet server that runs in-process on 127.0.0.1.
//
//	covet-studio [--project DIR]
//
// Without --project it opens the last project, or on first launch a default
// project in the user's data folder, created with working defaults.
//
// It builds with Wails' build tags and cgo (GTK 3 and WebKitGTK 4.1 on
// Linux), without the wails CLI:
//
//	CGO_ENABLED=1 go build -tags desktop,production,webkit2_41 -o build/bin/covet-studio .
//
// Built without those tags it compiles but cannot open a window.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	embeddedserver "github.com/covetpy/covet/embedded-server"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/options/mac"
	"github.com/wailsapp/wails/v2/pkg/options/windows"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// appIcon is the window icon on Linux (macOS and Windows take theirs from
// the app bundle and the executable's resources, made from the same file).
//
//go:embed build/appicon.png
var appIcon []byte

func main() {
	project := flag.String("project", "", "project `folder` to open (default: the last one opened)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "covet-studio: unexpected argument %q (use --project DIR)\n", flag.Arg(0))
		os.Exit(2)
	}
	// The server logs a line per request: batched, a load test from the
	// Benchmarks page does not pay a write(2) per request (logbuf).
	// Warnings and errors are written at once.
	log, closeLog := embeddedserver.BatchedLogger(os.Stderr, false)
	err := run(*project, log)
	closeLog()
	if err != nil {
		log.Error("Covet Studio could not run", "err", err)
		os.Exit(1)
	}
}

func run(project string, log *slog.Logger) error {
	if err := checkDisplay(); err != nil {
		return err
	}
	configDir, err := os.UserConfigDir()
	if err != nil {
		return fmt.Errorf("finding the user's config folder: %w", err)
	}
	recent := recentList{path: filepath.Join(configDir, "covet-studio", "recent.json")}
	if project == "" {
		if project, err = lastProject(recent, log); err != nil {
			return err
		}
	}

	app := newApp(log, recent)
	// The server starts before the window, so it is ready when the studio
	// asks Info() for its URL. A failure is shown once the window is up.
	app.openInitial(project)
	defer app.shutdown(context.Background()) // when wails.Run fails before OnShutdown

	quitOnHangup(app)
	return wails.Run(&options.App{
		Title:     "Covet Studio",
		Width:     1280,
		Height:    800,
		MinWidth:  900,
		MinHeight: 600,
		// The studio's light background, shown until the page paints; the
		// page itself follows the system's light or dark preference.
		BackgroundColour: options.NewRGB(0xf6, 0xf7, 0xf9),
		AssetServer:      &assetserver.Options{Assets: embeddedserver.StudioAssets()},
		Menu:             app.menu.root,
		Bind:             []any{app},
		// Wails turns SIGINT and SIGTERM into a clean quit, so OnShutdown
		// runs and runtime.json is removed.
		OnStartup:          app.startup,
		OnDomReady:         app.domReady,
		OnShutdown:         app.shutdown,
		Logger:             wailsLogger{log.With("component", "wails")},
		LogLevelProduction: logger.WARNING,
		Linux: &linux.Options{
			ProgramName:      "covet-studio",
			Icon:             appIcon,
			WebviewGpuPolicy: linux.WebviewGpuPolicyOnDemand,
		},
		Mac:     &mac.Options{Appearance: mac.DefaultAppearance}, // follows the system
		Windows: &windows.Options{Theme: windows.SystemDefault},  // follows the system
	})
}

// lastProject is the most recently opened project, or on first launch the
// default one (which the server creates with working defaults).
func lastProject(recent recentList, log *slog.Logger) (string, error) {
	dirs, err := recent.load()
	if err != nil {
		log.Warn("reading recent projects", "err", err)
	}
	if len(dirs) > 0 {
		return dirs[0], nil
	}
	dir, err := embeddedserver.DefaultProjectDir()
	if err != nil {
		return "", fmt.Errorf("finding the default project folder: %w", err)
	}
	return dir, nil
}

// checkDisplay fails early, with advice, where GTK would panic: on Linux
// without an X11 or Wayland display.
func checkDisplay() error {
	if runtime.GOOS != "linux" || os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "" {
		return nil
	}
	return errors.New("no display (DISPLAY and WAYLAND_DISPLAY are unset): run the headless server with its browser studio instead, `covet serve --studio`")
}

// quitOnHangup quits cleanly when the terminal that started the app goes
// away (Wails itself handles only SIGINT and SIGTERM).
func quitOnHangup(app *App) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		<-hup
		if ctx := app.context(); ctx != nil {
			wruntime.Quit(ctx)
			return
		}
		app.shutdown(context.Background())
		os.Exit(1)
	}()
}
