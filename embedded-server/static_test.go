package embeddedserver_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/embedded-server/servertest"
)

const kindsConfig = `{
  "server": {"listen": "127.0.0.1:0"},
  "database": {"primary": "sqlite:covet_data/covet.db"},
  "routes": [
    {"id": "assets", "method": "GET", "path": "/assets/{file...}", "kind": "static", "static": {"dir": "public"}},
    {"id": "old", "method": "GET", "path": "/old/{id}", "kind": "redirect", "redirect": {"to": "/new/{id}", "status": 301}}
  ]
}`

// project writes the files the static route serves, and secrets around it
// that must never be served.
func staticProject(t *testing.T) *servertest.Server {
	srv := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:covet_data/covet.db"}, "routes": []}`})
	pub := filepath.Join(srv.Project, "public")
	for name, body := range map[string]string{"app.js": "console.log('app')", "docs/index.html": "<h1>docs</h1>", "empty/.keep": ""} {
		os.MkdirAll(filepath.Dir(filepath.Join(pub, name)), 0o755)
		os.WriteFile(filepath.Join(pub, name), []byte(body), 0o644)
	}
	os.WriteFile(filepath.Join(srv.Project, "secret.txt"), []byte("SECRET-MARKER"), 0o600)
	outside := filepath.Join(t.TempDir(), "outside.txt")
	os.WriteFile(outside, []byte("SECRET-MARKER outside"), 0o600)
	os.Symlink("../secret.txt", filepath.Join(pub, "link-up"))
	os.Symlink(outside, filepath.Join(pub, "link-abs"))
	os.Symlink("/etc", filepath.Join(pub, "etc"))
	if r := configReq(t, srv, "PUT", "", kindsConfig); r.StatusCode != 200 {
		t.Fatalf("applying the kinds config: %d %s", r.StatusCode, r.Body)
	}
	return srv
}

func TestStaticAndRedirectRoutes(t *testing.T) {
	srv := staticProject(t)
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	fetch := func(path string, header map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	tests := []struct {
		path   string
		header map[string]string
		code   int
		body   string
		hdr    [2]string
	}{
		{"/assets/app.js", nil, 200, "console.log('app')", [2]string{"Content-Type", "text/javascript; charset=utf-8"}},
		{"/assets/docs/", nil, 200, "<h1>docs</h1>", [2]string{"Content-Type", "text/html; charset=utf-8"}},
		{"/assets/empty/", nil, 404, "no such file", [2]string{}},
		{"/assets/docs", nil, 301, "", [2]string{"Location", "/assets/docs/"}},
		{"/assets/docs?v=2", nil, 301, "", [2]string{"Location", "/assets/docs/?v=2"}},
		{"/assets/missing.js", nil, 404, "no such file", [2]string{}},
		{"/assets/app.js", map[string]string{"Range": "bytes=0-6"}, 206, "console", [2]string{"Content-Range", "bytes 0-6/18"}},
		{"/old/a%20b?x=1", nil, 301, "", [2]string{"Location", "/new/a%20b?x=1"}},
	}
	for _, tt := range tests {
		resp, body := fetch(tt.path, tt.header)
		if resp.StatusCode != tt.code || !strings.Contains(body, tt.body) || (tt.hdr[0] != "" && resp.Header.Get(tt.hdr[0]) != tt.hdr[1]) {
			t.Errorf("GET %s: %d %q %s=%q; want %d %q %q", tt.path, resp.StatusCode, body, tt.hdr[0], resp.Header.Get(tt.hdr[0]), tt.code, tt.body, tt.hdr[1])
		}
	}
	// Conditional requests: the ETag and Last-Modified come back as 304.
	resp, _ := fetch("/assets/app.js", nil)
	if etag := resp.Header.Get("ETag"); etag == "" || resp.Header.Get("Last-Modified") == "" {
		t.Errorf("no ETag or Last-Modified: %v", resp.Header)
	} else if again, _ := fetch("/assets/app.js", map[string]string{"If-None-Match": etag}); again.StatusCode != 304 {
		t.Errorf("If-None-Match with the ETag: %d, want 304", again.StatusCode)
	}
}

// TestStaticPathTraversal sends 500 traversal payloads as raw request lines
// (so no client normalises them): none may reach a file outside public/.
func TestStaticPathTraversal(t *testing.T) {
	srv := staticProject(t)
	ups := []string{"..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "..%00", "%c0%ae%c0%ae", "....", ".."}
	seps := []string{"/", "%2f", "%2F", "%5c", "\\", "%255c", "/./", "//", ";/", "%252f"}
	targets := []string{"secret.txt", "covet.json", "covet_data/runtime.json", "etc/passwd", "link-up", "link-abs", "etc/hostname", "secret.txt%00.js", ""}
	var payloads []string
	for _, up := range ups {
		for _, sep := range seps {
			for depth := 1; depth <= 5; depth++ {
				p := strings.Repeat(up+sep, depth) + targets[(len(payloads))%len(targets)]
				payloads = append(payloads, p)
				if len(payloads) == 500 {
					break
				}
			}
		}
	}
	if len(payloads) != 500 {
		t.Fatalf("built %d payloads, want 500", len(payloads))
	}
	addr := strings.TrimPrefix(srv.URL, "http://")
	leaks := 0
	for _, p := range payloads {
		body, status := rawGet(t, addr, "/assets/"+p)
		if strings.Contains(body, "SECRET-MARKER") || strings.Contains(body, "root:") || strings.Contains(body, "adminToken") || strings.Contains(body, `"routes"`) {
			leaks++
			t.Errorf("GET /assets/%s escaped the folder: %d %.60q", p, status, body)
		}
		if status == 500 {
			t.Errorf("GET /assets/%s: 500", p)
		}
	}
	t.Logf("%d traversal payloads, %d leaks", len(payloads), leaks)
}

// rawGet writes a request line byte for byte and reads the answer.
func rawGet(t *testing.T, addr, target string) (string, int) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

func TestStaticMissingFolderIsAFieldError(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	r := configReq(t, srv, "POST", "/routes", `{"id": "assets", "method": "GET", "path": "/assets/{file...}", "kind": "static", "static": {"dir": "nowhere"}}`)
	if r.StatusCode != 400 || !strings.Contains(string(r.Body), `"path":"routes[1].static.dir"`) || !strings.Contains(string(r.Body), `cannot open \"nowhere\"`) {
		t.Errorf("a missing folder: %d %s; want 400 at routes[1].static.dir", r.StatusCode, r.Body)
	}
	if code, _ := get(t, srv.URL+"/hello"); code != 200 {
		t.Error("the refused change disturbed the serving configuration")
	}
}

// TestUncleanPathsRedirect: the listener's shortcut to the routes leaves
// paths ServeMux cleans to it, so they are still redirected to their clean
// form, and the probes and the JWKS are still served beside the routes.
func TestUncleanPathsRedirect(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]string{
		"/hello":                 "200 ",
		"/x/../hello":            "307 /hello",
		"/hello/.":               "307 /hello",
		"/a//hello":              "307 /a/hello",
		"/a/./hello?q=1":         "307 /a/hello?q=1",
		"/healthz":               "200 ",
		"/.well-known/jwks.json": "200 ",
	} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.URL.Opaque = path // sent as written, not cleaned by the client
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("Location")); got != want {
			t.Errorf("GET %s: %s, want %s", path, got, want)
		}
	}
}
