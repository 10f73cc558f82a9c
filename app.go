package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	embeddedserver "github.com/covetpy/covet/embedded-server"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// desktopOrigins are the origins of the window's pages, which the embedded
// server lets call its admin API: WebKitGTK (Linux, checked by
// tests/desktop) and WKWebView (macOS) load the studio from wails://wails,
// WebView2 (Windows) from http://wails.localhost. `wails dev` builds add
// devServerOrigins.
var desktopOrigins = []string{"wails://wails", "http://wails.localhost"}

// shutdownTimeout bounds how long closing the window or switching projects
// waits for the server to finish in-flight requests.
const shutdownTimeout = 15 * time.Second

// App is the desktop shell: it runs one embedded server, for the open
// project, and offers the window what only a desktop can do. It holds no
// business logic; the studio talks to the server through the admin API.
//
// Its exported methods are bound to the window as window.go.main.App.
type App struct {
	log    *slog.Logger
	recent recentList
	menu   *appMenu

	// switching is held while a project opens, switches or closes, so that
	// they happen one at a time and each sees the server the last one left.
	switching sync.Mutex

	mu       sync.Mutex             // guards the fields below
	ctx      context.Context        // Wails' runtime context, set once the window exists
	server   *embeddedserver.Server // the open project's server; nil when none is open
	openErr  error                  // why no project is open, when server is nil
	reported bool                   // whether openErr has been shown to the user
}

// ShellInfo tells the studio where the embedded server is and how to call it.
type ShellInfo struct {
	URL     string `json:"url"`
	Token   string `json:"token"`
	Project string `json:"project"`
	Version string `json:"version"`
}

func newApp(log *slog.Logger, recent recentList) *App {
	a := &App{log: log, recent: recent}
	a.menu = newAppMenu(a)
	return a
}

// openInitial opens the project the app starts with. A failure is kept, to
// be shown once the window is up, and the app runs without a project: the
// user can open another from the File menu.
func (a *App) openInitial(dir string) {
	a.switching.Lock()
	defer a.switching.Unlock()
	srv, err := a.start(dir)
	a.mu.Lock()
	a.server, a.openErr = srv, err
	a.mu.Unlock()
	if err != nil {
		a.log.Error("opening the project", "project", dir, "err", err)
		a.menu.setRecent(a.context(), a.RecentProjects())
		return
	}
	a.remember(srv.Info().Project)
}

// startup is Wails' OnStartup: the window exists now.
func (a *App) startup(ctx context.Context) {
	a.mu.Lock()
	a.ctx = ctx
	a.mu.Unlock()
}

// domReady is Wails' OnDomReady, run on every load of the studio: it shows
// why the project could not be opened at startup, once.
func (a *App) domReady(ctx context.Context) {
	a.mu.Lock()
	if a.ctx == nil {
		a.ctx = ctx // the same context OnStartup gets, in case it is late
	}
	err := a.openErr
	show := err != nil && !a.reported
	a.reported = a.reported || show
	a.mu.Unlock()
	if show {
		go a.showError("Covet Studio could not open the project", err)
	}
}

// shutdown is Wails' OnShutdown: it stops the server cleanly when the app
// quits, so in-flight requests finish and runtime.json is removed.
func (a *App) shutdown(context.Context) {
	a.switching.Lock()
	defer a.switching.Unlock()
	a.mu.Lock()
	srv := a.server
	a.server = nil
	a.mu.Unlock()
	a.stop(srv)
}

// start creates and starts a server for the project in dir.
func (a *App) start(dir string) (*embeddedserver.Server, error) {
	srv, err := embeddedserver.New(embeddedserver.Config{
		Project:        dir,
		Listen:         "127.0.0.1:0",
		AllowedOrigins: slices.Concat(desktopOrigins, devServerOrigins),
		Logger:         a.log,
		KeysPassphrase: os.Getenv("COVET_KEYS_PASSPHRASE"),
	})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(context.Background()); err != nil {
		_ = srv.Shutdown(context.Background()) // closes the database
		return nil, err
	}
	a.log.Info("project open", "project", srv.Info().Project, "url", srv.Info().URL)
	return srv, nil
}

// stop shuts srv down, waiting at most shutdownTimeout.
func (a *App) stop(srv *embeddedserver.Server) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		a.log.Error("shutting the server down", "project", srv.Info().Project, "err", err)
	}
}

// switchTo makes dir the open project. The new server starts before the
// old one stops, so a project that fails to open leaves the current one
// open and serving. Opening the open project again keeps its server.
func (a *App) switchTo(dir string) error {
	project, err := a.swap(dir)
	if err != nil {
		return err
	}
	// Outside switching: updating a live menu waits for the UI thread,
	// which may be waiting for switching in OnShutdown.
	a.remember(project)
	return nil
}

// swap serves dir in place of the open project and returns its folder.
func (a *App) swap(dir string) (string, error) {
	a.switching.Lock()
	defer a.switching.Unlock()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", dir, err)
	}
	a.mu.Lock()
	old := a.server
	a.mu.Unlock()
	if old != nil && sameFolder(old.Info().Project, abs) {
		return old.Info().Project, nil
	}
	srv, err := a.start(abs)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.server, a.openErr = srv, nil
	a.mu.Unlock()
	a.stop(old)
	return srv.Info().Project, nil
}

// remember puts project first in the recent projects and the menu.
func (a *App) remember(project string) {
	dirs, err := a.recent.add(project)
	if err != nil {
		a.log.Warn("saving recent projects", "file", a.recent.path, "err", err)
	}
	a.menu.setRecent(a.context(), dirs)
}

// Info tells the studio where the embedded server is and how to call it.
func (a *App) Info() (ShellInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.server == nil {
		if a.openErr != nil {
			return ShellInfo{}, fmt.Errorf("no project is open: %w", a.openErr)
		}
		return ShellInfo{}, errors.New("no project is open")
	}
	i := a.server.Info()
	return ShellInfo{URL: i.URL, Token: i.AdminToken, Project: i.Project, Version: i.Version}, nil
}

// OpenProjectDialog asks for a folder and opens it as the project, as
// OpenProject does. Cancelling the dialog changes nothing.
func (a *App) OpenProjectDialog() error {
	ctx := a.context()
	if ctx == nil {
		return errors.New("the window is not ready")
	}
	opts := wruntime.OpenDialogOptions{Title: "Open a Covet project folder", CanCreateDirectories: true}
	if info, err := a.Info(); err == nil {
		opts.DefaultDirectory = filepath.Dir(info.Project) // beside the open project
	}
	dir, err := wruntime.OpenDirectoryDialog(ctx, opts)
	if err != nil {
		a.showError("Covet Studio could not show the folder dialog", err)
		return err
	}
	if dir == "" {
		return nil // cancelled
	}
	return a.OpenProject(dir)
}

// OpenProject opens dir as the project (a folder without covet.json gets
// one with defaults), adds it to the recent projects and reloads the
// studio. When it fails, the error has been shown in a native dialog and
// the project open before stays open.
func (a *App) OpenProject(dir string) error {
	if err := a.switchTo(dir); err != nil {
		a.showError("Covet Studio could not open "+dir, err)
		return err
	}
	if ctx := a.context(); ctx != nil {
		wruntime.WindowReloadApp(ctx)
	}
	return nil
}

// RecentProjects lists the recently opened projects, most recent first.
func (a *App) RecentProjects() []string {
	dirs, err := a.recent.load()
	if err != nil {
		a.log.Warn("reading recent projects", "err", err)
	}
	if dirs == nil {
		dirs = []string{} // [] rather than null for the studio
	}
	return dirs
}

// RevealProject opens the project folder in the system's file manager.
func (a *App) RevealProject() error {
	info, err := a.Info()
	if err != nil {
		return err
	}
	cmd := revealCommand(info.Project)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("revealing %s with %s: %w", info.Project, cmd.Path, err)
	}
	go func() { _ = cmd.Wait() }() // reaps it; file managers may run on
	return nil
}

// revealCommand opens dir in the platform's file manager.
func revealCommand(dir string) *exec.Cmd {
	switch runtime.GOOS {
	case "darwin":
		return exec.Command("open", dir)
	case "windows":
		return exec.Command("explorer", dir)
	default:
		return exec.Command("xdg-open", dir)
	}
}

// OpenExternal opens an http or https link in the default browser.
func (a *App) OpenExternal(link string) error {
	u, err := checkExternalURL(link)
	if err != nil {
		return err
	}
	if ctx := a.context(); ctx != nil {
		wruntime.BrowserOpenURL(ctx, u)
	}
	return nil
}

// checkExternalURL accepts absolute http and https URLs only, so the
// studio cannot make the shell run file:, javascript: or custom-scheme
// handlers.
func checkExternalURL(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("opening a link: %q is not an http or https URL", link)
	}
	return u.String(), nil
}

// context is Wails' runtime context, or nil before the window exists.
func (a *App) context() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctx
}

// quit quits the app as closing its window does.
func (a *App) quit() {
	if ctx := a.context(); ctx != nil {
		wruntime.Quit(ctx)
	}
}

// showError logs err and shows it in a native error dialog, waiting until
// the user dismisses it.
func (a *App) showError(title string, err error) {
	a.log.Error(title, "err", err)
	ctx := a.context()
	if ctx == nil {
		return
	}
	// One problem of a covet.json a line, each with its JSON path.
	msg := err.Error()
	if problems := embeddedserver.ConfigProblems(err); len(problems) > 0 {
		lines := []string{"The project's covet.json is invalid:"}
		for _, p := range problems {
			lines = append(lines, p.Path+": "+p.Message)
		}
		msg = strings.Join(lines, "\n")
	}
	if runtime.GOOS == "linux" {
		// Wails passes the message to GTK as a printf format.
		msg = strings.ReplaceAll(msg, "%", "%%")
	}
	if _, derr := wruntime.MessageDialog(ctx, wruntime.MessageDialogOptions{
		Type: wruntime.ErrorDialog, Title: title, Message: msg,
	}); derr != nil {
		a.log.Error("showing an error dialog", "err", derr)
	}
}

// sameFolder reports whether a and b name the same folder.
func sameFolder(a, b string) bool {
	if ra, err := filepath.EvalSymlinks(a); err == nil {
		a = ra
	}
	if rb, err := filepath.EvalSymlinks(b); err == nil {
		b = rb
	}
	return filepath.Clean(a) == filepath.Clean(b)
}
