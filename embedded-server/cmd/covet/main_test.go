package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
	bin := filepath.Join(t.TempDir(), "covet")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
	for _, want := range []string{`"msg":"serving"`, `"msg":"stopped"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks JSON log line %s:\n%s", want, stderr.String())
		}
	}
}
