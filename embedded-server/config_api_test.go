package embeddedserver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/covetpy/covet/embedded-server/servertest"
)

type change struct {
	Version         int
	ETag            string
	Source          string
	RestartRequired []string
	DryRun          bool
}

type problemDoc struct {
	Status int
	Detail string
	Errors []struct{ Path, Message string }
}

func configReq(t *testing.T, srv *servertest.Server, method, path, body string, header ...string) *servertest.Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := srv.Request(t, method, "/_covet/api/config"+path, r)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return srv.Do(t, req)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const usersRoute = `{"id": "users", "method": "GET", "path": "/users/{id}", "kind": "mock", "mock": {"status": 200, "body": "user v1"}}`

func TestConfigAPILiveApply(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	conn := dialEvents(t, srv)

	// Read: the whole document with an ETag, one route by id, a miss.
	whole := configReq(t, srv, "GET", "", "")
	etag0 := whole.Header.Get("ETag")
	if whole.StatusCode != 200 || etag0 == "" || !json.Valid(whole.Body) {
		t.Fatalf("GET config: %d ETag %q", whole.StatusCode, etag0)
	}
	if r := configReq(t, srv, "GET", "/routes/hello/mock/body", ""); string(r.Body) != `"Hello, World!"` {
		t.Errorf("GET routes/hello/mock/body = %s", r.Body)
	}
	if r := configReq(t, srv, "GET", "/routes/nope", ""); r.StatusCode != 404 {
		t.Errorf("GET routes/nope = %d, want 404", r.StatusCode)
	}

	// Add a route: served at once, announced on the stream.
	var c change
	r := configReq(t, srv, "POST", "/routes", usersRoute, "If-Match", etag0)
	if r.StatusCode != 200 || json.Unmarshal(r.Body, &c) != nil || c.Version < 2 || c.ETag == etag0 || c.Source != "api" {
		t.Fatalf("POST routes: %d %s", r.StatusCode, r.Body)
	}
	if code, body := get(t, srv.URL+"/users/42"); code != 200 || body != "user v1" {
		t.Errorf("new route serves %d %q", code, body)
	}
	ev := nextEvent(t, conn, "config.changed")
	if !strings.Contains(string(ev.Data), fmt.Sprintf(`"version":%d`, c.Version)) {
		t.Errorf("config.changed = %s, want version %d", ev.Data, c.Version)
	}

	// A stale If-Match is refused and changes nothing.
	if r := configReq(t, srv, "PATCH", "/routes/users", `{"mock": {"body": "stale"}}`, "If-Match", etag0); r.StatusCode != 412 {
		t.Errorf("PATCH with a stale ETag = %d, want 412", r.StatusCode)
	}
	// A fresh one applies.
	if r := configReq(t, srv, "PATCH", "/routes/users", `{"mock": {"body": "user v2"}}`, "If-Match", c.ETag); r.StatusCode != 200 {
		t.Fatalf("PATCH = %d %s", r.StatusCode, r.Body)
	}
	if _, body := get(t, srv.URL+"/users/1"); body != "user v2" {
		t.Errorf("after PATCH the route serves %q", body)
	}

	// Invalid input: 400 with every problem and its path; nothing changes.
	bad := `{"id": "users", "method": "GET", "path": "/users/{id}/{id}", "kind": "mock", "mock": {"status": 99}}`
	r = configReq(t, srv, "PUT", "/routes/users", bad)
	var p problemDoc
	json.Unmarshal(r.Body, &p)
	paths := map[string]bool{}
	for _, e := range p.Errors {
		paths[e.Path] = true
	}
	if r.StatusCode != 400 || !paths["routes[1].path"] || !paths["routes[1].mock.status"] {
		t.Errorf("PUT invalid route: %d %s; want 400 naming routes[1].path and routes[1].mock.status", r.StatusCode, r.Body)
	}
	if _, body := get(t, srv.URL+"/users/1"); body != "user v2" {
		t.Errorf("after a refused PUT the route serves %q, want the old %q", body, "user v2")
	}

	// Dry run: validated, not applied.
	doc := configReq(t, srv, "GET", "", "").Body
	dry := strings.Replace(string(doc), "user v2", "dry", 1)
	r = configReq(t, srv, "POST", "/validate", dry)
	if json.Unmarshal(r.Body, &c); r.StatusCode != 200 || !c.DryRun {
		t.Errorf("validate: %d %s", r.StatusCode, r.Body)
	}
	if _, body := get(t, srv.URL+"/users/1"); body != "user v2" {
		t.Errorf("a dry run changed the route to %q", body)
	}
	if r := configReq(t, srv, "POST", "/validate", `{"routes": [{"id": "X"}]}`); r.StatusCode != 400 {
		t.Errorf("validate of an invalid document = %d, want 400", r.StatusCode)
	}

	// Delete, then undo twice: the route comes back, then its first body.
	if r := configReq(t, srv, "DELETE", "/routes/users", ""); r.StatusCode != 200 {
		t.Fatalf("DELETE = %d %s", r.StatusCode, r.Body)
	}
	if code, _ := get(t, srv.URL+"/users/1"); code != 404 {
		t.Errorf("deleted route answers %d", code)
	}
	for _, want := range []string{"user v2", "user v1"} {
		r := configReq(t, srv, "POST", "/undo", "")
		if r.StatusCode != 200 {
			t.Fatalf("undo = %d %s", r.StatusCode, r.Body)
		}
		if _, body := get(t, srv.URL+"/users/1"); body != want {
			t.Errorf("after undo the route serves %q, want %q", body, want)
		}
	}
	// History: newest first, sources recorded, on disk.
	var hist []struct {
		Version, Parent int
		Source          string
	}
	json.Unmarshal(configReq(t, srv, "GET", "/history", "").Body, &hist)
	if len(hist) < 6 || hist[0].Source != "undo" || hist[len(hist)-1].Source != "start" {
		t.Errorf("history = %+v", hist)
	}
	files, _ := filepath.Glob(filepath.Join(srv.Project, "covet_data", "history", "v*.json"))
	if len(files) != len(hist) {
		t.Errorf("%d history files, %d versions", len(files), len(hist))
	}
	// covet.json on disk holds what is served.
	onDisk, _ := os.ReadFile(filepath.Join(srv.Project, "covet.json"))
	if !strings.Contains(string(onDisk), "user v1") {
		t.Errorf("covet.json was not saved:\n%s", onDisk)
	}
}

func TestConfigAPILimitsAndRestartNotice(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	big := `{"x": "` + strings.Repeat("a", 5<<20) + `"}`
	if r := configReq(t, srv, "PUT", "", big); r.StatusCode != 413 {
		t.Errorf("5 MiB body = %d, want 413", r.StatusCode)
	}
	req := srv.Request(t, "PUT", "/_covet/api/config/server/listen", strings.NewReader(`"x"`))
	req.Header.Set("Content-Type", "text/plain")
	if r := srv.Do(t, req); r.StatusCode != 415 {
		t.Errorf("text/plain body = %d, want 415", r.StatusCode)
	}
	if r := configReq(t, srv, "PUT", "/server/listen", `{`); r.StatusCode != 400 {
		t.Errorf("malformed JSON body = %d, want 400", r.StatusCode)
	}
	if r := configReq(t, srv, "DELETE", "", ""); r.StatusCode != 400 {
		t.Errorf("DELETE of the whole config = %d, want 400", r.StatusCode)
	}
	var c change
	r := configReq(t, srv, "PUT", "/server/listen", `"127.0.0.1:0"`)
	json.Unmarshal(r.Body, &c)
	if r.StatusCode != 200 || len(c.RestartRequired) != 1 || c.RestartRequired[0] != "server" {
		t.Errorf("changing the listener: %d %s; want restartRequired [server]", r.StatusCode, r.Body)
	}
	if code, _ := get(t, srv.URL+"/healthz"); code != 200 {
		t.Error("the listener was closed by a configuration change")
	}
}

func TestConfigFileEditsAreApplied(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	conn := dialEvents(t, srv)
	file := filepath.Join(srv.Project, "covet.json")
	data, _ := os.ReadFile(file)

	// A hand edit, formatted as a person would, is applied.
	edited := bytes.Replace(data, []byte("Hello, World!"), []byte("edited by hand"), 1)
	edited = bytes.Replace(edited, []byte("\n  "), []byte("\n\t"), -1) // tabs: not the canonical layout
	os.WriteFile(file, edited, 0o644)
	waitBody(t, srv.URL+"/hello", "edited by hand")
	nextEvent(t, conn, "config.changed")
	if now, _ := os.ReadFile(file); !bytes.Equal(now, edited) {
		t.Errorf("applying the hand edit rewrote covet.json:\n%s", now)
	}

	// An invalid edit is reported and the previous configuration serves.
	os.WriteFile(file, []byte(`{"server": {"listen": 1}}`), 0o644)
	ev := nextEvent(t, conn, "config.error")
	if !strings.Contains(string(ev.Data), `"path":"server.listen"`) {
		t.Errorf("config.error = %s, want the problem at server.listen", ev.Data)
	}
	if _, body := get(t, srv.URL+"/hello"); body != "edited by hand" {
		t.Errorf("after an invalid edit /hello serves %q", body)
	}

	// A studio opened now learns of it, and the API does not overwrite it.
	var fileState struct {
		Errors []struct{ Path, Message string }
	}
	if r := configReq(t, srv, "GET", "/file", ""); r.StatusCode != 200 || json.Unmarshal(r.Body, &fileState) != nil || len(fileState.Errors) != 1 || fileState.Errors[0].Path != "server.listen" {
		t.Errorf("GET config/file = %d %s, want the problem at server.listen", r.StatusCode, r.Body)
	}
	r := configReq(t, srv, "PATCH", "/routes/hello", `{"mock": {"body": "from the studio"}}`)
	if r.StatusCode != 409 || !strings.Contains(string(r.Body), "server.listen") {
		t.Errorf("PATCH while the file holds an invalid edit = %d %s, want 409 naming it", r.StatusCode, r.Body)
	}
	if r := configReq(t, srv, "POST", "/undo", ""); r.StatusCode != 409 {
		t.Errorf("undo while the file holds an invalid edit = %d %s, want 409", r.StatusCode, r.Body)
	}
	if now, _ := os.ReadFile(file); string(now) != `{"server": {"listen": 1}}` {
		t.Errorf("the refused write changed covet.json: %s", now)
	}

	// Reverting the file to what runs clears it, with a config.changed.
	os.WriteFile(file, edited, 0o644)
	nextEvent(t, conn, "config.changed")
	if r := configReq(t, srv, "GET", "/file", ""); !strings.Contains(string(r.Body), `"errors":[]`) {
		t.Errorf("GET config/file after the revert = %s, want no errors", r.Body)
	}
	if r := configReq(t, srv, "PATCH", "/routes/hello", `{"mock": {"body": "from the studio"}}`); r.StatusCode != 200 {
		t.Errorf("PATCH after the revert = %d %s", r.StatusCode, r.Body)
	}
}

func waitBody(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get(t, url)
		if body == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still serves %q, want %q", url, body, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLiveApplyUnderLoad applies 100 route changes while 4 clients send a
// bounded 4,000 requests over loopback: no request fails, and every answer
// is one the old or the new configuration gives.
func TestLiveApplyUnderLoad(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	var failures, served atomic.Int64
	var badBody atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 4 {
		wg.Go(func() {
			for i := 0; i < 1000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(srv.URL + "/hello")
				if err != nil {
					failures.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				served.Add(1)
				if s := string(b); resp.StatusCode != 200 || (s != "Hello, World!" && !strings.HasPrefix(s, "body ")) {
					badBody.Store(fmt.Sprintf("%d %q", resp.StatusCode, s))
				}
			}
		})
	}
	for i := range 100 {
		if r := configReq(t, srv, "PATCH", "/routes/hello/mock", fmt.Sprintf(`{"body": "body %d"}`, i)); r.StatusCode != 200 {
			t.Errorf("change %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Errorf("%d requests failed during live apply", failures.Load())
	}
	if v := badBody.Load(); v != nil {
		t.Errorf("an answer from neither configuration: %v", v)
	}
	if _, body := get(t, srv.URL+"/hello"); body != "body 99" {
		t.Errorf("after 100 changes /hello serves %q, want %q", body, "body 99")
	}
	t.Logf("%d requests served during 100 changes", served.Load())
}

func TestTryIt(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	try := func(body string) (*servertest.Response, map[string]any) {
		req := srv.Request(t, "POST", "/_covet/api/try", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		r := srv.Do(t, req)
		var m map[string]any
		json.Unmarshal(r.Body, &m)
		return r, m
	}
	tests := []struct {
		name       string
		body       string
		wantStatus int
		check      func(m map[string]any) bool
	}{
		{"a route through the whole stack", `{"method": "GET", "path": "/hello?x=1", "headers": {"X-Request-Id": "try-1"}}`, 200,
			func(m map[string]any) bool {
				if m["status"] != 200.0 || m["body"] != "Hello, World!" || m["requestId"] != "try-1" || m["durationMs"].(float64) <= 0 {
					return false
				}
				// The request's own events come with the answer.
				evs, _ := m["events"].([]any)
				if len(evs) != 1 {
					return false
				}
				ev := evs[0].(map[string]any)
				data := ev["data"].(map[string]any)
				return ev["type"] == "request" && data["id"] == "try-1" && data["route"] == "GET /hello" && data["status"] == 200.0
			}},
		{"a 404 is an answer, not an error", `{"method": "GET", "path": "/nope"}`, 200, func(m map[string]any) bool { return m["status"] == 404.0 }},
		{"the admin API cannot be tried", `{"method": "GET", "path": "/_covet/api/info"}`, 400, nil},
		{"a path must be absolute", `{"method": "GET", "path": "//evil.example/x"}`, 400, nil},
		{"a method must be a token", `{"method": "GE T", "path": "/hello"}`, 400, nil},
		{"a header must be valid", `{"method": "GET", "path": "/hello", "headers": {"X": "a\r\nb"}}`, 400, nil},
		{"invalid JSON", `{`, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, m := try(tt.body)
			if r.StatusCode != tt.wantStatus || (tt.check != nil && !tt.check(m)) {
				t.Errorf("got %d %s", r.StatusCode, r.Body)
			}
		})
	}
}

// TestConfigAPIPutCreatesARoute: PUT to the id of a route that does not
// exist creates it, with that id.
func TestConfigAPIPutCreatesARoute(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	if r := configReq(t, srv, "PUT", "/routes/put-new", `{"method": "GET", "path": "/put-new", "kind": "mock", "mock": {"body": "created by PUT"}}`); r.StatusCode != 200 {
		t.Fatalf("PUT a new route by id = %d %s", r.StatusCode, r.Body)
	}
	if code, body := get(t, srv.URL+"/put-new"); code != 200 || body != "created by PUT" {
		t.Errorf("the route PUT created serves %d %q", code, body)
	}
	if r := configReq(t, srv, "GET", "/routes/put-new/id", ""); string(r.Body) != `"put-new"` {
		t.Errorf("its id: %s", r.Body)
	}
	if r := configReq(t, srv, "PUT", "/routes/other", `{"id": "else", "method": "GET", "path": "/else", "kind": "mock", "mock": {}}`); r.StatusCode != 400 || !strings.Contains(string(r.Body), "is not the path's") {
		t.Errorf("PUT with another id in the body = %d %s, want 400", r.StatusCode, r.Body)
	}
}
