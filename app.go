package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os/exec"
	"runtime"
	"sync"
	"time"

	embeddedserver "github.com/covetpy/covet/embedded-server"
	"github.com/wailsapp/wails/v2/pkg/menu"
	"github.com/wailsapp/wails/v2/pkg/menu/keys"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// desktopOrigins are the origins the Wails window's pages have on each
// platform; the embedded server lets them call its admin API.
var desktopOrigins = []string{"wails://wails", "wails://wails.localhost", "http://wails.localhost"}

// App is the desktop shell: it runs one embedded server for the open
// project and offers the window what only a desktop can do. It holds no
// business logic; the studio talks to the server through the admin API.
type App struct {
	log    *slog.Logger
	recent recentList

	mu       sync.Mutex // guards ctx, server and menu state
	ctx      context.Context
	server   *embeddedserver.Server
	appMenu  *menu.Menu
	recentMu *menu.Menu // the Open Recent submenu
}

// ShellInfo is what the window needs to reach the embedded server.
type ShellInfo struct {
	URL     string `json:"url"`
	Token   string `json:"token"`
	Project string `json:"project"`
	Version string `json:"version"`
}

func newApp(log *slog.Logger, recent recentList) *App {
	a := &App{log: log, recent: recent}
	a.appMenu = a.buildMenu()
	return a
}

// startup runs before the UI loads: it starts the server for project.
func (a *App) startup(ctx context.Context, project string) {
	a.mu.Lock()
	a.ctx = ctx
	a.mu.Unlock()
	if err := a.open(project); err != nil {
		a.fail("Covet Studio could not open the project", err)
	}
}

// shutdown stops the server cleanly when the window closes.
func (a *App) shutdown(context.Context) {
	a.mu.Lock()
	srv := a.server
	a.server = nil
	a.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		a.log.Error("shutting the server down", "err", err)
	}
}

// open serves dir, replacing the server of the project open before.
func (a *App) open(dir string) error {
	a.shutdown(context.Background())
	srv, err := embeddedserver.New(embeddedserver.Config{
		Project: dir, Listen: "127.0.0.1:0", AllowedOrigins: desktopOrigins, Logger: a.log,
	})
	if err != nil {
		return err
	}
	if err := srv.Start(context.Background()); err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	a.mu.Lock()
	a.server = srv
	a.mu.Unlock()
	info := srv.Info()
	dirs, err := a.recent.add(info.Project)
	if err != nil {
		a.log.Warn("updating recent projects", "err", err)
	}
	a.setRecentMenu(dirs)
	a.log.Info("project open", "project", info.Project, "url", info.URL)
	return nil
}

// Info tells the studio where the embedded server is and how to call it.
func (a *App) Info() (ShellInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.server == nil {
		return ShellInfo{}, errors.New("no project is open")
	}
	i := a.server.Info()
	return ShellInfo{URL: i.URL, Token: i.AdminToken, Project: i.Project, Version: i.Version}, nil
}

// OpenProjectDialog asks for a folder and opens it as the project.
func (a *App) OpenProjectDialog() error {
	dir, err := wruntime.OpenDirectoryDialog(a.context(), wruntime.OpenDialogOptions{
		Title: "Open a Covet project folder", CanCreateDirectories: true,
	})
	if err != nil || dir == "" {
		return err // "" means the user cancelled
	}
	return a.OpenProject(dir)
}

// OpenProject opens dir as the project and reloads the studio.
func (a *App) OpenProject(dir string) error {
	if err := a.open(dir); err != nil {
		a.fail("Covet Studio could not open "+dir, err)
		return err
	}
	wruntime.WindowReloadApp(a.context())
	return nil
}

// RecentProjects lists recently opened projects, most recent first.
func (a *App) RecentProjects() []string {
	dirs, err := a.recent.load()
	if err != nil {
		a.log.Warn("reading recent projects", "err", err)
	}
	return dirs
}

// RevealProject opens the project folder in the system's file manager.
func (a *App) RevealProject() error {
	info, err := a.Info()
	if err != nil {
		return err
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", info.Project)
	case "windows":
		cmd = exec.Command("explorer", info.Project)
	default:
		cmd = exec.Command("xdg-open", info.Project)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("revealing %s: %w", info.Project, err)
	}
	go cmd.Wait() // reap it
	return nil
}

// OpenExternal opens an http or https link in the default browser.
func (a *App) OpenExternal(link string) error {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("not an http(s) link: %q", link)
	}
	wruntime.BrowserOpenURL(a.context(), u.String())
	return nil
}

func (a *App) context() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctx
}

// fail logs err and shows it in a native dialog.
func (a *App) fail(title string, err error) {
	a.log.Error(title, "err", err)
	if ctx := a.context(); ctx != nil {
		_, _ = wruntime.MessageDialog(ctx, wruntime.MessageDialogOptions{
			Type: wruntime.ErrorDialog, Title: title, Message: err.Error(),
		})
	}
}

func (a *App) buildMenu() *menu.Menu {
	m := menu.NewMenu()
	if runtime.GOOS == "darwin" {
		m.Append(menu.AppMenu())
	}
	file := m.AddSubmenu("File")
	file.AddText("Open Project…", keys.CmdOrCtrl("o"), func(*menu.CallbackData) {
		if err := a.OpenProjectDialog(); err != nil {
			a.log.Warn("open project", "err", err)
		}
	})
	a.recentMu = file.AddSubmenu("Open Recent")
	file.AddText("Reveal Project Folder", nil, func(*menu.CallbackData) {
		if err := a.RevealProject(); err != nil {
			a.fail("Could not reveal the project folder", err)
		}
	})
	file.AddSeparator()
	file.AddText("Quit", keys.CmdOrCtrl("q"), func(*menu.CallbackData) { wruntime.Quit(a.context()) })
	if runtime.GOOS == "darwin" {
		m.Append(menu.EditMenu())
	}
	return m
}

// setRecentMenu rebuilds Open Recent from dirs.
func (a *App) setRecentMenu(dirs []string) {
	a.mu.Lock()
	a.recentMu.Items = nil
	for _, d := range dirs {
		a.recentMu.AddText(d, nil, func(*menu.CallbackData) { a.OpenProject(d) })
	}
	if len(dirs) == 0 {
		a.recentMu.AddText("No recent projects", nil, nil).Disabled = true
	}
	ctx := a.ctx
	a.mu.Unlock()
	if ctx != nil {
		wruntime.MenuSetApplicationMenu(ctx, a.appMenu)
		wruntime.MenuUpdateApplicationMenu(ctx)
	}
}
