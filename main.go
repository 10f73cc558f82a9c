// Command covet-studio is Covet Studio, the desktop app: a native window
// (Wails v2) around a Covet server that runs in-process on 127.0.0.1.
//
//	covet-studio [--project DIR]
//
// Without --project it opens the last project, or on first launch a default
// project in the user's data folder, created with working defaults.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	embeddedserver "github.com/covetpy/covet/embedded-server"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
)

//go:embed build/appicon.png
var appIcon []byte

func main() {
	project := flag.String("project", "", "project `folder` to open (default: the last one)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*project, log); err != nil {
		fmt.Fprintf(os.Stderr, "covet-studio: %v\n", err)
		os.Exit(1)
	}
}

func run(project string, log *slog.Logger) error {
	configDir, err := os.UserConfigDir()
	if err != nil {
		return err
	}
	app := newApp(log, recentList{path: filepath.Join(configDir, "covet-studio", "recent.json")})
	if project == "" {
		project, err = lastProject(app)
		if err != nil {
			return err
		}
	}
	return wails.Run(&options.App{
		Title:            "Covet Studio",
		Width:            1280,
		Height:           800,
		MinWidth:         900,
		MinHeight:        600,
		AssetServer:      &assetserver.Options{Assets: embeddedserver.StudioAssets()},
		Menu:             app.appMenu,
		BackgroundColour: options.NewRGB(17, 19, 24),
		Bind:             []any{app},
		// Wails handles SIGINT and SIGTERM itself by quitting cleanly, so
		// OnShutdown runs and runtime.json is removed.
		OnStartup:  func(ctx context.Context) { app.startup(ctx, project) },
		OnShutdown: app.shutdown,
		Linux:      &linux.Options{ProgramName: "covet-studio", Icon: appIcon, WebviewGpuPolicy: linux.WebviewGpuPolicyOnDemand},
	})
}

// lastProject is the most recent project, or the default one.
func lastProject(app *App) (string, error) {
	if dirs := app.RecentProjects(); len(dirs) > 0 {
		return dirs[0], nil
	}
	return embeddedserver.DefaultProjectDir()
}
