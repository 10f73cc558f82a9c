package embeddedserver_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/embedded-server/servertest"
)

func TestProxyRoutes(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/slow" {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("X-Upstream-Secret", "internal")
		fmt.Fprintf(w, "%s %s?%s xff=%s from=%s secret=%q", r.Method, r.URL.Path, r.URL.RawQuery,
			r.Header.Get("X-Forwarded-For"), r.Header.Get("X-From"), r.Header.Get("X-Secret"))
	}))
	defer upstream.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	srv := servertest.Start(t, servertest.Options{})
	for _, rt := range []string{
		`{"id": "api", "method": "GET", "path": "/api/{rest...}", "kind": "proxy", "proxy": {"upstream": "` + upstream.URL + `/v1", "stripPrefix": "/api", "timeout": "300ms", "setHeaders": {"X-From": "covet", "X-Secret": ""}}}`,
		`{"id": "down", "method": "GET", "path": "/down", "kind": "proxy", "proxy": {"upstream": "` + deadURL + `"}}`,
		`{"id": "people", "method": "GET", "path": "/people/{id}/files/{rest...}", "kind": "proxy", "proxy": {"upstream": "` + upstream.URL + `/v2", "rewrite": "/persons/{id}/documents/{rest}", "responseHeaders": {"X-Proxied": "covet", "X-Upstream-Secret": ""}}}`,
	} {
		if r := configReq(t, srv, "POST", "/routes", rt); r.StatusCode != 200 {
			t.Fatalf("POST route: %d %s", r.StatusCode, r.Body)
		}
	}
	do := func(path string) (int, string, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-Secret", "do-not-forward")
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("Content-Type")
	}
	code, body, _ := do("/api/users/7?x=1")
	if code != 200 || !strings.HasPrefix(body, "GET /v1/users/7?x=1 xff=127.0.0.1 from=covet secret=\"\"") {
		t.Errorf("proxied answer: %d %q", code, body)
	}
	if code, _, ct := do("/api/slow"); code != 504 || ct != "application/problem+json" {
		t.Errorf("slow upstream: %d %s, want 504 problem+json", code, ct)
	}
	if code, body, _ := do("/down"); code != 502 || !strings.Contains(body, "could not be reached") {
		t.Errorf("dead upstream: %d %q, want 502", code, body)
	}
	// A rewrite builds the upstream's path from the parameters, escaped
	// (a catch-all keeps its slashes), and the answer's headers follow
	// the rules.
	resp, err := http.Get(srv.URL + "/people/a%20b/files/x/y.txt?v=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "GET /v2/persons/a b/documents/x/y.txt?v=1 ") || resp.Header.Get("X-Proxied") != "covet" || resp.Header.Get("X-Upstream-Secret") != "" {
		t.Errorf("rewritten: %q %v", b, resp.Header)
	}
}

// TestProxyBodyLimitWithoutLength: a chunked body past the route's
// bodyLimit is a 413 naming the limit, not an upstream failure.
func TestProxyBodyLimitWithoutLength(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "read %d", n)
	}))
	defer upstream.Close()
	srv := servertest.Start(t, servertest.Options{})
	rt := `{"id": "up", "method": "POST", "path": "/up", "kind": "proxy", "proxy": {"upstream": "` + upstream.URL + `"}, "policy": {"bodyLimit": 50}}`
	if r := configReq(t, srv, "POST", "/routes", rt); r.StatusCode != 200 {
		t.Fatalf("POST route: %d %s", r.StatusCode, r.Body)
	}
	for _, size := range []int{40, 200, 100_000} {
		// io.MultiReader hides the length: the body goes chunked.
		req, _ := http.NewRequest("POST", srv.URL+"/up", io.MultiReader(strings.NewReader(strings.Repeat("x", size))))
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want, wantBody := 413, "more than the limit of 50 bytes"
		if size <= 50 {
			want, wantBody = 200, "read 40"
		}
		if resp.StatusCode != want || !strings.Contains(string(b), wantBody) {
			t.Errorf("%d bytes chunked: %d %q, want %d with %q", size, resp.StatusCode, b, want, wantBody)
		}
	}
}
