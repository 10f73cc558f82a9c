package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var built struct {
	once sync.Once
	path string
	err  error
}

// buildCovet builds this command once per test binary.
func buildCovet(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "covet-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "covet")
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
	os.Exit(code)
}

func TestRunExitCodesAndMessages(t *testing.T) {
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "covet.json"), []byte("{\n  \"server\": {\"listen\": 8080}\n}"), 0o644)
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no command", nil, 2, "", "Usage:"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"version", []string{"version"}, 0, "covet 0.1.0 go1.", ""},
		{"help", []string{"help"}, 0, "covet serve", ""},
		{"serve help", []string{"serve", "-h"}, 0, "", "-listen address"},
		{"serve bad flag", []string{"serve", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{"serve stray argument", []string{"serve", "extra"}, 2, "", `unexpected argument "extra"`},
		{"serve invalid covet.json", []string{"serve", "--project", bad}, 1, "", "covet.json: server.listen: expected a string, got the number 8080"},
		{"serve project is a file", []string{"serve", "--project", file}, 1, "", "it is a file, not a folder"},
		{"serve bad listen", []string{"serve", "--project", t.TempDir(), "--listen", "nowhere"}, 1, "", `"nowhere" is not host:port`},
		{"serve port in use", []string{"serve", "--project", t.TempDir(), "--listen", busy.Addr().String()}, 1, "", "already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

// TestServeAcceptance runs the real binary as issue #2's acceptance says:
// COVET_ADMIN_TOKEN=t covet serve --project DIR --listen ADDR, the probes
// and admin rules, runtime.json 0600 while running and gone after SIGTERM.
func TestServeAcceptance(t *testing.T) {
	bin := buildCovet(t)
	project := filepath.Join(t.TempDir(), "p")
	cmd := exec.Command(bin, "serve", "--project", project, "--listen", "127.0.0.1:0", "--studio")
	cmd.Env = append(os.Environ(), "COVET_ADMIN_TOKEN=t")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var base, login string
	loginRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+/_covet/login\?code=[A-Za-z0-9_-]+`)
	timeout := time.After(30 * time.Second)
	for login == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("covet serve exited early; stderr:\n%s", stderr.String())
			}
			if _, u, found := strings.Cut(line, " serving "); found {
				base = u
			}
			login = loginRE.FindString(line)
		case <-timeout:
			t.Fatal("no login URL printed within 30 s")
		}
	}
	if !strings.HasPrefix(login, base) {
		t.Fatalf("login URL %s is not on the served URL %s", login, base)
	}

	get := func(path string, header map[string]string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		for k, v := range header {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	auth := map[string]string{"Authorization": "Bearer t"}
	if code, _ := get("/healthz", nil); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	// Its access line is an info line: held by the log's buffer until the
	// server stops (or 100 ms pass), and written then, checked below.
	if code, _ := get("/hello", nil); code != 200 {
		t.Errorf("/hello = %d", code)
	}
	if code, body := get("/metrics", nil); code != 200 || !strings.Contains(body, "# TYPE go_goroutines gauge") {
		t.Errorf("/metrics = %d, not Prometheus text", code)
	}
	for _, c := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"without token", nil, 401},
		{"rebinding host", map[string]string{"Authorization": "Bearer t", "Host": "evil.example"}, 403},
		{"foreign origin", map[string]string{"Authorization": "Bearer t", "Origin": "http://evil.example"}, 403},
		{"with token", auth, 200},
	} {
		if code, body := get("/_covet/api/info", c.header); code != c.want {
			t.Errorf("/_covet/api/info %s = %d, want %d: %s", c.name, code, c.want, body)
		}
	}

	rtPath := filepath.Join(project, "covet_data", "runtime.json")
	fi, err := os.Stat(rtPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("runtime.json: %v mode %v, want 0600", err, fi.Mode().Perm())
	}
	var rt struct{ URL, AdminToken string }
	data, _ := os.ReadFile(rtPath)
	if json.Unmarshal(data, &rt); rt.URL != base || rt.AdminToken != "t" {
		t.Errorf("runtime.json = %s", data)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("covet serve exited with %v after SIGTERM; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("covet serve did not exit within 20 s of SIGTERM")
	}
	if _, err := os.Stat(rtPath); !os.IsNotExist(err) {
		t.Errorf("runtime.json still there after SIGTERM (%v)", err)
	}
	for _, want := range []string{`"msg":"serving"`, `"msg":"request","method":"GET","path":"/hello","status":200`, `"msg":"stopped"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks JSON log line %s:\n%s", want, stderr.String())
		}
	}
}

// startSlow serves a project whose GET /slow answers "done" after delay,
// and returns the process, its URL and runtime.json's path.
func startSlow(t *testing.T, delay string) (*exec.Cmd, string, string) {
	t.Helper()
	bin := buildCovet(t)
	project := t.TempDir()
	os.WriteFile(filepath.Join(project, "covet.json"), []byte(`{
  "server": {"listen": "127.0.0.1:0"},
  "database": {"primary": "sqlite:covet_data/covet.db"},
  "routes": [{"id": "slow", "method": "GET", "path": "/slow", "kind": "mock", "mock": {"body": "done", "delay": "`+delay+`"}}]
}`), 0o644)
	cmd := exec.Command(bin, "serve", "--project", project)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	rtPath := filepath.Join(project, "covet_data", "runtime.json")
	var rt struct{ URL string }
	for deadline := time.Now().Add(30 * time.Second); rt.URL == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no runtime.json within 30 s")
		}
		if data, err := os.ReadFile(rtPath); err == nil {
			json.Unmarshal(data, &rt)
		}
	}
	return cmd, rt.URL, rtPath
}

// get answers GET url's status and body, or the error, on a channel.
func get(url string) <-chan string {
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- fmt.Sprint(resp.StatusCode, " ", string(b))
	}()
	return got
}

// TestServeDrainsOnSIGTERM: a request in flight when SIGTERM arrives gets its
// full answer before the process exits 0, also when a second SIGTERM
// follows at once (as from make, sent one with its process group, which
// sends its children another).
func TestServeDrainsOnSIGTERM(t *testing.T) {
	cmd, url, rtPath := startSlow(t, "1s")
	got := get(url + "/slow")
	time.Sleep(300 * time.Millisecond) // the request waits in the handler
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(10 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if r := <-got; r != "200 done" {
		t.Errorf("in-flight request during SIGTERM: %q, want \"200 done\"", r)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want 0", err)
	}
	if _, err := os.Stat(rtPath); !os.IsNotExist(err) {
		t.Errorf("runtime.json left after SIGTERM (%v)", err)
	}
}

// TestServeSecondSignalStopsAtOnce: a second SIGTERM a second or more after
// the first ends a shutdown still draining a slow request, with status 1.
func TestServeSecondSignalStopsAtOnce(t *testing.T) {
	cmd, url, _ := startSlow(t, "20s")
	get(url + "/slow")
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(1200 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || time.Since(start) > 5*time.Second {
		t.Errorf("after a second SIGTERM: %v in %v, want exit status 1 at once", err, time.Since(start))
	}
}
