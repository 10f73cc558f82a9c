package desktop

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// TestMakeRunHeadless runs `make run` without a display: it must serve the
// default project headless and print a studio URL that signs a browser in.
func TestMakeRunHeadless(t *testing.T) {
	requireBinary(t)
	data := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "run", "LISTEN=127.0.0.1:0")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "DISPLAY=", "WAYLAND_DISPLAY=", "XDG_DATA_HOME="+data, "COVET_ADMIN_TOKEN=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })

	loginRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+/_covet/login\?code=[A-Za-z0-9_-]+`)
	found := make(chan string, 1)
	var printed lockedBuffer
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			printed.Write([]byte(sc.Text() + "\n"))
			if u := loginRE.FindString(sc.Text()); u != "" {
				found <- u
			}
		}
	}()
	var login string
	select {
	case login = <-found:
	case <-time.After(3 * time.Minute): // make may still be building
		t.Fatalf("make run printed no studio URL within 3 minutes:\n%s", printed.String())
	}

	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(login)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Errorf("opening the printed URL: %d with %d cookies, want 303 and a session cookie", resp.StatusCode, len(resp.Cookies()))
	}
	project := filepath.Join(data, "Covet", "default-project")
	if _, err := os.Stat(filepath.Join(project, "covet.json")); err != nil {
		t.Errorf("make run did not create the default project: %v", err)
	}
	stop()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("make run did not stop within 20 s of SIGTERM")
	}
	// make may exit before the server it started has finished its clean
	// shutdown, which removes runtime.json last: give it a few seconds.
	rt := filepath.Join(project, "covet_data", "runtime.json")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, err := os.Stat(rt)
		if os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("runtime.json left behind 10 s after make run stopped (%v)", err)
			break
		}
	}
}

// TestMakeRunDesktop runs `make run` with a display: it must open the
// desktop app on the default project, serving it in-process.
func TestMakeRunDesktop(t *testing.T) {
	requireBinary(t)
	display := startXvfb(t)
	home := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "run")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "WAYLAND_DISPLAY=", "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })

	rtPath := filepath.Join(home, "data", "Covet", "default-project", "covet_data", "runtime.json")
	rt := waitRuntime(t, rtPath, 3*time.Minute) // make may still be building
	waitStudioConnected(t, rt, out.String)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("make run did not stop within 30 s of SIGTERM:\n%s", out.String())
	}
	if _, err := os.Stat(rtPath); !os.IsNotExist(err) {
		t.Errorf("runtime.json left behind after make run stopped (%v)", err)
	}
}
