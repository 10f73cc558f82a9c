package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	embeddedserver "github.com/covetpy/covet/embedded-server"
	"github.com/wailsapp/wails/v2/pkg/menu"
)

// newTestApp is an App whose recent projects live in a temporary folder.
// It has no window, so it runs the real servers without Wails.
func newTestApp(t *testing.T) *App {
	t.Helper()
	app := newApp(slog.New(slog.DiscardHandler), recentList{path: filepath.Join(t.TempDir(), "recent.json")})
	t.Cleanup(func() { app.shutdown(context.Background()) })
	return app
}

// badProject is a project folder whose covet.json is invalid.
func badProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bad")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "covet.json"), []byte(`{"routes": [{"id": "x", "path": "no-slash"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func answers(url string) bool {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url + "/healthz")
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func hasRuntimeFile(project string) bool {
	_, err := os.Stat(filepath.Join(project, embeddedserver.DataDir, embeddedserver.RuntimeFileName))
	return err == nil
}

// TestSwitchProject walks the app through a sequence of project switches,
// each step starting from where the one before left it.
func TestSwitchProject(t *testing.T) {
	base := t.TempDir()
	a, b, bad := filepath.Join(base, "a"), filepath.Join(base, "b"), badProject(t)
	app := newTestApp(t)
	app.openInitial(a)
	if _, err := app.Info(); err != nil {
		t.Fatalf("opening the first project: %v", err)
	}

	steps := []struct {
		name       string
		open       string
		wantErr    string // part of the error; "" for none
		want       string // the project open afterwards
		wantRecent []string
	}{
		{"a new folder becomes a project", b, "", b, []string{b, a}},
		{"an invalid project leaves the open one serving", bad, "routes[0].path", b, []string{b, a}},
		{"reopening the open project keeps its server", b, "", b, []string{b, a}},
		{"a relative path of the open project keeps its server", mustRel(t, b), "", b, []string{b, a}},
		{"back to the first project", a, "", a, []string{a, b}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before, _ := app.Info()
			err := app.switchTo(st.open)
			if st.wantErr == "" && err != nil || st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)) {
				t.Fatalf("switchTo(%s) = %v, want error containing %q", st.open, err, st.wantErr)
			}
			info, err := app.Info()
			if err != nil {
				t.Fatalf("Info after switching: %v", err)
			}
			if info.Project != st.want {
				t.Errorf("open project = %s, want %s", info.Project, st.want)
			}
			if !answers(info.URL) {
				t.Errorf("the open project's server does not answer at %s", info.URL)
			}
			if !hasRuntimeFile(st.want) {
				t.Errorf("the open project has no runtime.json")
			}
			switch {
			case before.Project == info.Project && before.URL != info.URL:
				t.Errorf("the open project's server was restarted: %s, was %s", info.URL, before.URL)
			case before.Project != info.Project && answers(before.URL):
				t.Errorf("the previous project's server still answers at %s", before.URL)
			case before.Project != info.Project && hasRuntimeFile(before.Project):
				t.Errorf("the previous project's runtime.json was left behind")
			}
			if got := app.RecentProjects(); !reflect.DeepEqual(got, st.wantRecent) {
				t.Errorf("recent projects = %v, want %v", got, st.wantRecent)
			}
		})
	}

	last, _ := app.Info()
	app.shutdown(context.Background())
	if answers(last.URL) || hasRuntimeFile(last.Project) {
		t.Error("shutdown left the server running or its runtime.json behind")
	}
	if _, err := app.Info(); err == nil {
		t.Error("Info after shutdown reports a server")
	}
}

func mustRel(t *testing.T, path string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// TestOpenInitialFailure: a project that cannot open at startup leaves the
// app running without one, and Info says why.
func TestOpenInitialFailure(t *testing.T) {
	app := newTestApp(t)
	app.openInitial(badProject(t))
	_, err := app.Info()
	if err == nil || !strings.Contains(err.Error(), "no project is open") || !strings.Contains(err.Error(), "routes[0].path") {
		t.Errorf("Info() error = %v, want one saying no project is open, and why", err)
	}
	if got := app.RecentProjects(); got == nil || len(got) != 0 {
		t.Errorf("RecentProjects() = %#v, want an empty list (not null)", got)
	}
	if err := app.RevealProject(); err == nil {
		t.Error("RevealProject without a project succeeded")
	}
	// The user can still open another project.
	good := filepath.Join(t.TempDir(), "good")
	if err := app.switchTo(good); err != nil {
		t.Fatalf("opening a project after the failure: %v", err)
	}
	if info, err := app.Info(); err != nil || info.Project != good {
		t.Errorf("Info() = %+v, %v; want project %s", info, err, good)
	}
}

// TestShellInfoJSON pins the field names the studio reads from Info().
func TestShellInfoJSON(t *testing.T) {
	data, err := json.Marshal(ShellInfo{URL: "u", Token: "t", Project: "p", Version: "v"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	json.Unmarshal(data, &got)
	want := map[string]string{"url": "u", "token": "t", "project": "p", "version": "v"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ShellInfo as JSON = %v, want %v", got, want)
	}
}

func TestCheckExternalURL(t *testing.T) {
	tests := []struct {
		link string
		ok   bool
	}{
		{"https://github.com/covetpy/covet", true},
		{"http://127.0.0.1:8080/hello?x=1", true},
		{"HTTPS://example.com", true},
		{"file:///etc/passwd", false},
		{"javascript:alert(1)", false},
		{"mailto:someone@example.com", false},
		{"wails://wails/", false},
		{"//example.com/no-scheme", false},
		{"https:///no-host", false},
		{"not a url", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.link, func(t *testing.T) {
			_, err := checkExternalURL(tt.link)
			if (err == nil) != tt.ok {
				t.Errorf("checkExternalURL(%q) error = %v, want ok %v", tt.link, err, tt.ok)
			}
		})
	}
}

func TestSameFolder(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o755)
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatalf("making a symlink (Linux filesystems have them): %v", err)
	}
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same path", real, real, true},
		{"trailing slash", real, real + string(filepath.Separator), true},
		{"through a symlink", real, link, true},
		{"different folders", real, base, false},
		{"missing folders compare by path", filepath.Join(base, "x"), filepath.Join(base, "y"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameFolder(tt.a, tt.b); got != tt.want {
				t.Errorf("sameFolder(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// TestMenuRecent checks Open Recent before the window exists, when the
// menu may change on every platform.
func TestMenuRecent(t *testing.T) {
	tests := []struct {
		name string
		dirs []string
		want []string // labels; a leading "-" marks a disabled item
	}{
		{"none", nil, []string{"-No Recent Projects"}},
		{"some", []string{"/p/one", "/p/two"}, []string{"/p/one", "/p/two"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newAppMenu(newTestApp(t))
			m.setRecent(nil, tt.dirs)
			var got []string
			for _, it := range m.recent.Items {
				label := it.Label
				if it.Disabled {
					label = "-" + label
				}
				got = append(got, label)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Open Recent = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMenuFile pins the File menu's items and shortcuts.
func TestMenuFile(t *testing.T) {
	m := newAppMenu(newTestApp(t))
	var file *menu.Menu
	for _, it := range m.root.Items {
		if it.Label == "File" {
			file = it.SubMenu
		}
	}
	if file == nil {
		t.Fatal("no File menu")
	}
	var got []string
	for _, it := range file.Items {
		s := it.Label
		if it.Type == menu.SeparatorType {
			s = "---"
		}
		if it.Accelerator != nil {
			s += " " + strings.Join(slices.Concat(toStrings(it.Accelerator.Modifiers), []string{it.Accelerator.Key}), "+")
		}
		got = append(got, s)
	}
	want := []string{"Open Project… cmdorctrl+o", "Open Recent", "Reveal Project Folder", "---", "Quit cmdorctrl+q"}
	if runtime.GOOS == "darwin" {
		want = want[:3] // Quit is in the app menu
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("File menu = %q, want %q", got, want)
	}
}

func toStrings[S ~string](s []S) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}
