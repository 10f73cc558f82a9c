// Package desktop is the smoke test of Covet Studio's desktop app: the real
// binary, in a real window, on an X server (Xvfb) the test starts itself.
package desktop

import (
	"bufio"
	"encoding/json"
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
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
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

// TestDesktopSmoke starts the real app on a temporary project, waits until
// its window's UI has connected to the embedded server's admin API, takes a
// screenshot for the README and checks it is not blank, then quits the app
// and checks that it cleaned up.
func TestDesktopSmoke(t *testing.T) {
	bin := requireBinary(t)
	display := startXvfb(t)
	home := t.TempDir()
	project := filepath.Join(t.TempDir(), "project")

	app := exec.Command(bin, "--project", project)
	app.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
	var logs lockedBuffer
	app.Stdout, app.Stderr = &logs, &logs
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- app.Wait() }()
	t.Cleanup(func() { app.Process.Kill() })

	rtPath := filepath.Join(project, "covet_data", "runtime.json")
	rt := waitRuntime(t, rtPath, 60*time.Second)
	if rt.PID != app.Process.Pid {
		t.Errorf("runtime.json names pid %d, the app is %d: the server is not in-process", rt.PID, app.Process.Pid)
	}
	resp, err := http.Get(rt.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz of the embedded server: %v %v", err, resp)
	}
	resp.Body.Close()

	waitStudioConnected(t, rt, logs.String)

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

	shot := filepath.Join("..", "..", "docs", "images", "studio-dashboard.png")
	screenshotWindow(t, display, "Covet Studio", shot)
	checkNotBlank(t, shot)

	// Quit as a user's session manager would; the app must shut its server
	// down cleanly.
	app.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the app did not exit within 30 s of SIGTERM; log:\n%s", logs.String())
	}
	if _, err := os.Stat(rtPath); !os.IsNotExist(err) {
		t.Errorf("runtime.json still exists after the app quit (%v); log:\n%s", err, logs.String())
	}
	if _, err := http.Get(rt.URL + "/healthz"); err == nil {
		t.Error("the embedded server still answers after the app quit")
	}
}

// screenshotWindow saves a PNG of the window titled title (xwininfo finds
// it, ImageMagick's import captures it).
func screenshotWindow(t *testing.T, display, title, path string) {
	t.Helper()
	env := append(os.Environ(), "DISPLAY="+display)
	find := exec.Command("xwininfo", "-name", title)
	find.Env = env
	out, err := find.Output()
	if err != nil {
		t.Fatalf("xwininfo -name %q: %v", title, err)
	}
	var id string
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "0x") {
			id = f
			break
		}
	}
	if id == "" {
		t.Fatalf("no window titled %q:\n%s", title, out)
	}
	imp := exec.Command("import", "-window", id, path)
	imp.Env = env
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("screenshot (ImageMagick import): %v\n%s", err, out)
	}
}

// checkNotBlank fails unless the screenshot shows a rendered UI: many
// distinct colours, and a good share of pixels unlike the dominant one.
func checkNotBlank(t *testing.T, path string) {
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
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			colours[key(img, x, y)]++
		}
	}
	total, top := 0, 0
	for _, n := range colours {
		total += n
		top = max(top, n)
	}
	other := float64(total-top) / float64(total)
	t.Logf("screenshot %s: %dx%d, %d distinct colours, %.0f%% of pixels unlike the dominant colour", path, b.Dx(), b.Dy(), len(colours), other*100)
	if len(colours) < 64 || other < 0.05 {
		t.Errorf("the screenshot looks blank: %d colours, %.1f%% non-dominant pixels", len(colours), other*100)
	}
}

func key(img image.Image, x, y int) uint32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (r>>8)<<16 | (g>>8)<<8 | b>>8
}
