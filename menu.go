package main

import (
	"context"
	"runtime"
	"sync"

	"github.com/wailsapp/wails/v2/pkg/menu"
	"github.com/wailsapp/wails/v2/pkg/menu/keys"
	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"
)

// appMenu is the native menu bar: File (Open Project…, Open Recent, Reveal
// Project Folder, Quit) and, on macOS, the app and Edit menus.
type appMenu struct {
	root *menu.Menu
	// live says whether a changed menu can be shown while the window is
	// up. Wails v2 cannot do that on Linux: its GTK menu bar is built once,
	// and rebuilding it at run time leaves the old one on screen with its
	// items unregistered, so that clicking one crashes the app. There the
	// menu keeps the recent projects it started with.
	live bool

	app    *App       // whose methods the items call
	mu     sync.Mutex // guards recent's items
	recent *menu.Menu // File → Open Recent
}

func newAppMenu(a *App) *appMenu {
	m := &appMenu{root: menu.NewMenu(), live: runtime.GOOS != "linux", app: a}
	if runtime.GOOS == "darwin" {
		m.root.Append(menu.AppMenu()) // About, Hide, Quit ⌘Q
	}
	file := m.root.AddSubmenu("File")
	file.AddText("Open Project…", keys.CmdOrCtrl("o"), func(*menu.CallbackData) {
		_ = a.OpenProjectDialog() // errors are shown in a dialog
	})
	m.recent = file.AddSubmenu("Open Recent")
	file.AddText("Reveal Project Folder", nil, func(*menu.CallbackData) {
		if err := a.RevealProject(); err != nil {
			a.showError("Covet Studio could not reveal the project folder", err)
		}
	})
	if runtime.GOOS != "darwin" { // macOS has Quit in the app menu
		file.AddSeparator()
		file.AddText("Quit", keys.CmdOrCtrl("q"), func(*menu.CallbackData) { a.quit() })
	}
	if runtime.GOOS == "darwin" {
		m.root.Append(menu.EditMenu()) // copy and paste in text fields
	}
	m.fillRecent(nil)
	return m
}

// setRecent shows dirs under Open Recent. ctx is Wails' runtime context,
// nil before the window exists; once it does, the menu changes only where
// Wails can show the change (see live).
func (m *appMenu) setRecent(ctx context.Context, dirs []string) {
	if ctx != nil && !m.live {
		return
	}
	m.mu.Lock()
	m.fillRecent(dirs)
	m.mu.Unlock()
	if ctx != nil {
		wruntime.MenuSetApplicationMenu(ctx, m.root)
		wruntime.MenuUpdateApplicationMenu(ctx)
	}
}

// fillRecent replaces the items of Open Recent with dirs.
func (m *appMenu) fillRecent(dirs []string) {
	m.recent.Items = nil
	for _, d := range dirs {
		m.recent.AddText(d, nil, func(*menu.CallbackData) {
			_ = m.app.OpenProject(d) // errors are shown in a dialog
		})
	}
	if len(dirs) == 0 {
		m.recent.AddText("No Recent Projects", nil, nil).Disabled = true
	}
}
