// Package desktop holds the smoke tests of Covet Studio's desktop app: the
// real binary, in a real window, on an X server (Xvfb) the tests start
// themselves. They need COVET_STUDIO_BIN, the built app (`make test` sets
// it), and Xvfb, xwininfo and ImageMagick's import (scripts/setup installs
// them). WebKitGTK needs no special environment under Xvfb.
package desktop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a child process's output while the test may read it.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// requireBinary returns the desktop binary to test. Without it the test
// skips, except in CI, where a skip would hide a broken pipeline.
func requireBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("COVET_STUDIO_BIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("COVET_STUDIO_BIN is not set in CI; run this through `make test`")
		}
		t.Skip("set COVET_STUDIO_BIN to the built desktop app (make test does)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("COVET_STUDIO_BIN: %v", err)
	}
	return bin
}

// startXvfb starts an X server on a free display and returns its name.
func startXvfb(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"Xvfb", "xwininfo", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for the desktop tests (scripts/setup installs it): %v", tool, err)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1400x900x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb (scripts/setup installs it): %v", err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb reported display %q", n)
		}
		return ":" + n
	case <-time.After(15 * time.Second):
		t.Fatal("Xvfb did not report its display within 15 s")
	}
	return ""
}

// studio is a running desktop app.
type studio struct {
	cmd     *exec.Cmd
	display string
	logs    lockedBuffer
	exited  chan struct{} // closed when the process has exited
	err     error         // how it exited, once exited is closed
}

// launch starts the app on project, on display, with a home folder of its
// own (so recent projects and the default project start empty).
func launch(t *testing.T, bin, display, project string) *studio {
	t.Helper()
	home := t.TempDir()
	s := &studio{display: display, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "--project", project)
	s.cmd.Env = append(os.Environ(), "DISPLAY="+display, "WAYLAND_DISPLAY=", "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
	s.cmd.Stdout, s.cmd.Stderr = &s.logs, &s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("the app's log:\n%s", s.logs.String())
		}
	})
	return s
}

// waitExit fails unless the app exits with status 0 within timeout.
func (s *studio) waitExit(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-s.exited:
		if s.err != nil {
			t.Errorf("the app exited with %v", s.err)
		}
	case <-time.After(timeout):
		t.Fatalf("the app did not exit within %v", timeout)
	}
}

// window waits for a window titled title and returns its id.
func (s *studio) window(t *testing.T, title string, timeout time.Duration) uint32 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		find := exec.Command("xwininfo", "-name", title)
		find.Env = append(os.Environ(), "DISPLAY="+s.display)
		out, err := find.CombinedOutput()
		if err == nil {
			// "xwininfo: Window id: 0x20000e "Covet Studio""
			for _, f := range strings.Fields(string(out)) {
				if id, err := strconv.ParseUint(f, 0, 32); err == nil && strings.HasPrefix(f, "0x") {
					return uint32(id)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window titled %q within %v: %s", title, timeout, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// x connects to the app's display.
func (s *studio) x(t *testing.T) *xconn {
	t.Helper()
	x, err := dialX(s.display)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

type runtimeFile struct {
	URL        string `json:"url"`
	PID        int    `json:"pid"`
	AdminToken string `json:"adminToken"`
}

// waitRuntime waits for a server of the project to write runtime.json.
func waitRuntime(t *testing.T, path string, timeout time.Duration) runtimeFile {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil {
			var rt runtimeFile
			if json.Unmarshal(data, &rt) == nil && rt.URL != "" {
				return rt
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s within %v", path, timeout)
	return runtimeFile{}
}

// waitStudioConnected waits until the window's UI has subscribed to the
// event stream with the token it got from the Info binding: proof that it
// reached the admin API, CORS and authentication included.
func waitStudioConnected(t *testing.T, rt runtimeFile, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n, err := studioClients(rt)
		if err == nil && n >= 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window's UI never connected to the admin API (studioClients %d, %v); log:\n%s", n, err, logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// studioClients asks the admin API how many studios are subscribed.
func studioClients(rt runtimeFile) (int, error) {
	req, _ := http.NewRequest("GET", rt.URL+"/_covet/api/info", nil)
	req.Header.Set("Authorization", "Bearer "+rt.AdminToken)
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("info: %s", resp.Status)
	}
	var info struct {
		StudioClients int `json:"studioClients"`
	}
	err = json.NewDecoder(resp.Body).Decode(&info)
	return info.StudioClients, err
}

// assertStopped checks that the app's server cleaned up: runtime.json is
// gone and nothing answers at its URL.
func assertStopped(t *testing.T, rtPath string, rt runtimeFile) {
	t.Helper()
	if _, err := os.Stat(rtPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("runtime.json still exists after the app quit (%v)", err)
	}
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(rt.URL + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("the embedded server still answers after the app quit")
	}
}

// TestDesktopSmoke starts the real app on a new project, waits until its
// window's UI has connected to the embedded server's admin API, takes the
// README's screenshot and checks that it shows a rendered studio, then
// closes the window as a user would and checks that the app cleaned up.
func TestDesktopSmoke(t *testing.T) {
	bin := requireBinary(t)
	display := startXvfb(t)
	// A short path and a plain name, as they show in the README's screenshot.
	tmp, err := os.MkdirTemp("", "covet-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	project := filepath.Join(tmp, "my-api")
	app := launch(t, bin, display, project)

	rtPath := filepath.Join(project, "covet_data", "runtime.json")
	rt := waitRuntime(t, rtPath, 60*time.Second)
	if rt.PID != app.cmd.Process.Pid {
		t.Errorf("runtime.json names pid %d, the app is %d: the server is not in-process", rt.PID, app.cmd.Process.Pid)
	}
	resp, err := http.Get(rt.URL + "/healthz")
	if err != nil {
		t.Fatalf("/healthz of the embedded server: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz of the embedded server: %s", resp.Status)
	}

	waitStudioConnected(t, rt, app.logs.String)

	// Traffic for the dashboard to show, then a moment to render it.
	for i := range 20 {
		path := "/hello"
		if i%4 == 3 {
			path = "/missing"
		}
		if r, err := http.Get(rt.URL + path); err == nil {
			r.Body.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond)

	win := app.window(t, "Covet Studio", 10*time.Second)
	shot := filepath.Join(repoRoot(t), "docs", "images", "studio-dashboard.png")
	screenshot(t, display, win, shot)
	checkRendered(t, shot)

	// Close the window as its close button does.
	if err := app.x(t).closeWindow(win); err != nil {
		t.Fatalf("closing the window: %v", err)
	}
	app.waitExit(t, 30*time.Second)
	assertStopped(t, rtPath, rt)
}

// TestDesktopQuit quits the app each way but closing the window (which
// TestDesktopSmoke does); every way must stop the server cleanly.
func TestDesktopQuit(t *testing.T) {
	bin := requireBinary(t)
	display := startXvfb(t)
	tests := []struct {
		name string
		quit func(t *testing.T, app *studio)
	}{
		{"File menu Quit by its shortcut Ctrl+Q", func(t *testing.T, app *studio) {
			x := app.x(t)
			if err := x.focus(app.window(t, "Covet Studio", 10*time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := x.typeKeys(keysymControlL, keysymQ); err != nil {
				t.Fatal(err)
			}
		}},
		{"SIGTERM, as a session manager sends", func(t *testing.T, app *studio) {
			app.cmd.Process.Signal(syscall.SIGTERM)
		}},
		{"SIGHUP, as a closing terminal sends", func(t *testing.T, app *studio) {
			app.cmd.Process.Signal(syscall.SIGHUP)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			project := filepath.Join(t.TempDir(), "project")
			app := launch(t, bin, display, project)
			rtPath := filepath.Join(project, "covet_data", "runtime.json")
			rt := waitRuntime(t, rtPath, 60*time.Second)
			waitStudioConnected(t, rt, app.logs.String)
			tt.quit(t, app)
			app.waitExit(t, 30*time.Second)
			assertStopped(t, rtPath, rt)
		})
	}
}

// TestDesktopStartupError opens a project whose covet.json is invalid: the
// app must say why in a native dialog and in its log, keep running (the
// user can open another project), and quit cleanly afterwards.
func TestDesktopStartupError(t *testing.T) {
	bin := requireBinary(t)
	display := startXvfb(t)
	project := t.TempDir()
	bad := `{"routes": [{"id": "hello", "path": "no-slash", "method": "GET", "kind": "mock"}]}`
	if err := os.WriteFile(filepath.Join(project, "covet.json"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	app := launch(t, bin, display, project)

	dialog := app.window(t, "Covet Studio could not open the project", 60*time.Second)
	if log := app.logs.String(); !strings.Contains(log, "routes[0].path") || !strings.Contains(log, "level=ERROR") {
		t.Errorf("the log does not report the invalid routes[0].path as an error:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(project, "covet_data", "runtime.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("runtime.json exists though no server could start (%v)", err)
	}
	select {
	case <-app.exited:
		t.Fatalf("the app exited (%v) instead of showing the error", app.err)
	default:
	}

	// Dismiss the dialog, then close the window.
	x := app.x(t)
	if err := x.closeWindow(dialog); err != nil {
		t.Fatal(err)
	}
	win := app.window(t, "Covet Studio", 10*time.Second)
	time.Sleep(300 * time.Millisecond) // the dialog's loop ends
	if err := x.closeWindow(win); err != nil {
		t.Fatal(err)
	}
	app.waitExit(t, 30*time.Second)
}

// repoRoot is the root of the Covet module, found upwards from the test's
// working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/covetpy/covet\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("the Covet repository's go.mod is not above the working directory")
		}
		dir = parent
	}
}

// screenshot saves a PNG of window with ImageMagick's import.
func screenshot(t *testing.T, display string, window uint32, path string) {
	t.Helper()
	imp := exec.Command("import", "-window", fmt.Sprintf("%#x", window), path)
	imp.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("screenshot (ImageMagick import): %v\n%s", err, out)
	}
}

// checkRendered fails unless the screenshot shows a rendered studio
// rather than a blank or plain page: it must have many distinct colours,
// a good share of pixels unlike the background, and some in colour (the
// dashboard's logo, status badges and chart), where an error page or an
// unstyled one is shades of grey.
func checkRendered(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	colours := map[uint32]int{}
	total, saturated := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgb(img, x, y)
			colours[c]++
			total++
			if saturation(c) > 0.15 {
				saturated++
			}
		}
	}
	top := 0
	for _, n := range colours {
		top = max(top, n)
	}
	other := float64(total-top) / float64(total)
	coloured := float64(saturated) / float64(total)
	t.Logf("screenshot %s: %dx%d, %d distinct colours, %.1f%% unlike the background, %.2f%% in colour",
		path, b.Dx(), b.Dy(), len(colours), other*100, coloured*100)
	if b.Dx() < 900 || b.Dy() < 600 {
		t.Errorf("the window is %dx%d, smaller than its minimum 900x600", b.Dx(), b.Dy())
	}
	if len(colours) < 256 || other < 0.10 || coloured < 0.002 {
		t.Errorf("the screenshot does not look like the rendered studio: %d colours (want ≥ 256), %.1f%% non-background (want ≥ 10%%), %.2f%% in colour (want ≥ 0.2%%)",
			len(colours), other*100, coloured*100)
	}
}

func rgb(img image.Image, x, y int) uint32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (r>>8)<<16 | (g>>8)<<8 | b>>8
}

// saturation is HSV saturation, 0 for greys and 1 for pure colours.
func saturation(c uint32) float64 {
	r, g, b := c>>16&0xff, c>>8&0xff, c&0xff
	hi, lo := max(r, g, b), min(r, g, b)
	if hi == 0 {
		return 0
	}
	return float64(hi-lo) / float64(hi)
}
