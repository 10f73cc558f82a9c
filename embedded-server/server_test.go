package embeddedserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	embeddedserver "github.com/covetpy/covet/embedded-server"
	"github.com/covetpy/covet/embedded-server/servertest"
	"github.com/gorilla/websocket"
)

const desktopOrigin = "wails://wails"

// TestAdminSecurityRules is the scenario table of docs/admin-api.md's rules,
// against a real server, for plain requests.
func TestAdminSecurityRules(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{AllowedOrigins: []string{desktopOrigin}})
	u, _ := url.Parse(srv.URL)
	port := u.Port()
	tests := []struct {
		name       string
		method     string
		path       string
		headers    map[string]string
		noToken    bool
		wantStatus int
		wantHeader map[string]string
	}{
		{name: "valid token", path: "/_covet/api/info", wantStatus: 200},
		{name: "no token", path: "/_covet/api/info", noToken: true, wantStatus: 401, wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="covet-admin"`}},
		{name: "wrong token", path: "/_covet/api/info", headers: map[string]string{"Authorization": "Bearer nope"}, wantStatus: 401},
		{name: "token with wrong scheme", path: "/_covet/api/info", headers: map[string]string{"Authorization": "Basic " + srv.Token}, wantStatus: 401},
		{name: "token prefix only", path: "/_covet/api/info", headers: map[string]string{"Authorization": "Bearer " + srv.Token[:10]}, wantStatus: 401},
		{name: "rebinding host", path: "/_covet/api/info", headers: map[string]string{"Host": "evil.example"}, wantStatus: 403},
		{name: "rebinding host with port", path: "/_covet/api/info", headers: map[string]string{"Host": "evil.example:" + port}, wantStatus: 403},
		{name: "rebinding host without token", path: "/_covet/api/info", noToken: true, headers: map[string]string{"Host": "evil.example"}, wantStatus: 403},
		{name: "loopback host on another port", path: "/_covet/api/info", headers: map[string]string{"Host": "127.0.0.1:1"}, wantStatus: 403},
		{name: "localhost host", path: "/_covet/api/info", headers: map[string]string{"Host": "localhost:" + port}, wantStatus: 200},
		{name: "sub.localhost host", path: "/_covet/api/info", headers: map[string]string{"Host": "studio.localhost:" + port}, wantStatus: 200},
		{name: "ipv6 loopback host", path: "/_covet/api/info", headers: map[string]string{"Host": "[::1]:" + port}, wantStatus: 200},
		{name: "private address host", path: "/_covet/api/info", headers: map[string]string{"Host": "192.168.1.10:" + port}, wantStatus: 403},
		{name: "foreign origin", path: "/_covet/api/info", headers: map[string]string{"Origin": "http://evil.example"}, wantStatus: 403},
		{name: "null origin", path: "/_covet/api/info", headers: map[string]string{"Origin": "null"}, wantStatus: 403},
		{name: "loopback origin on another port", path: "/_covet/api/info", headers: map[string]string{"Origin": "http://127.0.0.1:1"}, wantStatus: 403},
		{name: "own origin", path: "/_covet/api/info", headers: map[string]string{"Origin": srv.URL}, wantStatus: 200},
		{name: "desktop origin gets CORS", path: "/_covet/api/info", headers: map[string]string{"Origin": desktopOrigin}, wantStatus: 200,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": desktopOrigin}},
		{name: "desktop preflight", method: "OPTIONS", path: "/_covet/api/info", noToken: true,
			headers:    map[string]string{"Origin": desktopOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
			wantStatus: 204, wantHeader: map[string]string{"Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match"}},
		{name: "foreign preflight", method: "OPTIONS", path: "/_covet/api/info", noToken: true,
			headers: map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}, wantStatus: 403},
		{name: "unknown endpoint needs a token", path: "/_covet/api/nope", noToken: true, wantStatus: 401},
		{name: "unknown endpoint", path: "/_covet/api/nope", wantStatus: 404},
		{name: "requests endpoint", path: "/_covet/api/requests?limit=5", wantStatus: 200},
		{name: "requests bad limit", path: "/_covet/api/requests?limit=-1", wantStatus: 400},
		{name: "series endpoint", path: "/_covet/api/metrics/series", wantStatus: 200},
		{name: "events without upgrade", path: "/_covet/api/events", wantStatus: 426},
		{name: "login page rebinding host", path: "/_covet/login?code=x", noToken: true, headers: map[string]string{"Host": "evil.example"}, wantStatus: 403},
		{name: "public route needs no token", path: "/hello", noToken: true, headers: map[string]string{"Origin": "http://evil.example"}, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			req := srv.Request(t, method, tt.path, nil)
			if tt.noToken {
				req.Header.Del("Authorization")
			}
			for k, v := range tt.headers {
				if k == "Host" {
					req.Host = v
				} else {
					req.Header.Set(k, v)
				}
			}
			resp := srv.Do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body: %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			for k, want := range tt.wantHeader {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("error Content-Type = %q, want application/problem+json", resp.Header.Get("Content-Type"))
			}
			if tt.wantStatus == 200 && strings.HasPrefix(tt.path, "/_covet/api/info") {
				var info struct{ URL, Project string }
				if err := json.Unmarshal(resp.Body, &info); err != nil || info.URL != srv.URL || info.Project != srv.Project {
					t.Errorf("info = %s (%v), want url %s and project %s", resp.Body, err, srv.URL, srv.Project)
				}
			}
		})
	}
}

// TestAdminSecurityRulesWebSocket applies the same rules to the events
// WebSocket upgrade.
func TestAdminSecurityRulesWebSocket(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{AllowedOrigins: []string{desktopOrigin}})
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/_covet/api/events"
	tests := []struct {
		name         string
		header       http.Header
		protocols    []string
		wantStatus   int
		wantProtocol string
	}{
		{name: "bearer header", header: http.Header{"Authorization": {"Bearer " + srv.Token}}, wantStatus: 101},
		{name: "token subprotocol", protocols: []string{"covet.v1", "covet.token." + srv.Token}, header: http.Header{"Origin": {desktopOrigin}}, wantStatus: 101, wantProtocol: "covet.v1"},
		{name: "no token", wantStatus: 401},
		{name: "wrong token subprotocol", protocols: []string{"covet.v1", "covet.token.nope"}, wantStatus: 401},
		{name: "foreign origin with token", header: http.Header{"Authorization": {"Bearer " + srv.Token}, "Origin": {"http://evil.example"}}, wantStatus: 403},
		{name: "foreign origin with token subprotocol", protocols: []string{"covet.v1", "covet.token." + srv.Token}, header: http.Header{"Origin": {"https://evil.example"}}, wantStatus: 403},
		{name: "rebinding host", header: http.Header{"Authorization": {"Bearer " + srv.Token}, "Host": {"evil.example"}}, wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := websocket.Dialer{Subprotocols: tt.protocols, HandshakeTimeout: 5 * time.Second}
			conn, resp, err := d.Dial(wsURL, tt.header)
			if resp == nil {
				t.Fatalf("dial: %v (no response)", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (err %v)", resp.StatusCode, tt.wantStatus, err)
			}
			if conn == nil {
				return
			}
			defer conn.Close()
			if got := conn.Subprotocol(); got != tt.wantProtocol {
				t.Errorf("subprotocol = %q, want %q (the token must never be echoed)", got, tt.wantProtocol)
			}
		})
	}
}

type wireEvent struct {
	Type string          `json:"type"`
	Seq  uint64          `json:"seq"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data"`
}

func dialEvents(t *testing.T, srv *servertest.Server) *websocket.Conn {
	t.Helper()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/_covet/api/events"
	conn, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + srv.Token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	deadline := time.Now().Add(5 * time.Second)
	for srv.Info().URL != "" && studioClients(t, srv) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the server never counted the event subscriber")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return conn
}

func studioClients(t *testing.T, srv *servertest.Server) int {
	var info struct{ StudioClients int }
	json.Unmarshal(srv.Do(t, srv.Request(t, "GET", "/_covet/api/info", nil)).Body, &info)
	return info.StudioClients
}

// nextEvent reads events until one of type typ arrives, bounded.
func nextEvent(t *testing.T, conn *websocket.Conn, typ string) wireEvent {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var ev wireEvent
		if err := conn.ReadJSON(&ev); err != nil {
			t.Fatalf("waiting for a %s event: %v", typ, err)
		}
		if ev.Type == typ {
			return ev
		}
	}
}

func TestEventStreamCarriesRequests(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	conn := dialEvents(t, srv)

	srv.Do(t, srv.Request(t, "GET", "/healthz", nil)) // probes are not request events
	resp := srv.Do(t, srv.Request(t, "GET", "/hello?x=1", nil))
	id := resp.Header.Get("X-Request-Id")
	if id == "" {
		t.Fatal("no X-Request-Id on the response")
	}
	ev := nextEvent(t, conn, "request")
	var re struct {
		ID, Method, Path, RemoteAddr string
		Status                       int
		DurationMs                   float64
		Bytes                        int64
		Time                         time.Time
	}
	if err := json.Unmarshal(ev.Data, &re); err != nil {
		t.Fatal(err)
	}
	if re.ID != id || re.Method != "GET" || re.Path != "/hello" || re.Status != 200 || re.Bytes != int64(len("Hello, World!")) || re.DurationMs <= 0 || !strings.HasPrefix(re.RemoteAddr, "127.0.0.1:") {
		t.Errorf("request event = %+v, want id %s GET /hello 200 13 bytes", re, id)
	}
	if time.Since(re.Time) > time.Minute || ev.Seq == 0 {
		t.Errorf("implausible event time %v or seq %d", re.Time, ev.Seq)
	}

	srv.Do(t, srv.Request(t, "GET", "/missing", nil))
	ev = nextEvent(t, conn, "request")
	if !strings.Contains(string(ev.Data), `"status":404`) || !strings.Contains(string(ev.Data), `"/missing"`) {
		t.Errorf("second event = %s, want the 404 for /missing", ev.Data)
	}

	var recent []struct {
		Path   string
		Status int
	}
	body := srv.Do(t, srv.Request(t, "GET", "/_covet/api/requests?limit=10", nil)).Body
	if err := json.Unmarshal(body, &recent); err != nil || len(recent) != 2 || recent[0].Path != "/missing" || recent[1].Path != "/hello" {
		t.Errorf("recent requests = %s, want /missing then /hello (newest first, probes excluded)", body)
	}
}

func TestEventStreamCarriesMetricSamples(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	conn := dialEvents(t, srv)
	for range 3 {
		srv.Do(t, srv.Request(t, "GET", "/hello", nil))
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ev := nextEvent(t, conn, "metric.sample")
		var s struct {
			Requests uint64
			P50Ms    float64
			Time     time.Time
		}
		json.Unmarshal(ev.Data, &s)
		if s.Requests > 0 {
			if s.P50Ms <= 0 || s.Time.IsZero() {
				t.Errorf("sample %s has no latency or time", ev.Data)
			}
			var series []struct{ Requests uint64 }
			json.Unmarshal(srv.Do(t, srv.Request(t, "GET", "/_covet/api/metrics/series", nil)).Body, &series)
			var total uint64
			for _, x := range series {
				total += x.Requests
			}
			if total < 3 {
				t.Errorf("series counts %d requests, want at least 3", total)
			}
			return
		}
	}
	t.Fatal("no metric sample counted the requests within 5 s")
}

func TestEventStreamEndsOnShutdown(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	conn := dialEvents(t, srv)
	done := make(chan error, 1)
	go func() {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				done <- err
				return
			}
		}
	}()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("stream ended with %v, want a going-away close", err)
	}
}

func TestStudioLogin(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Studio: true})
	login, err := srv.LoginURL()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(login, srv.URL+"/_covet/login?code=") || strings.Contains(login, srv.Token) {
		t.Fatalf("login URL %q: want %s/_covet/login?code=… without the admin token", login, srv.URL)
	}
	get := func(u string, cookies ...*http.Cookie) *servertest.Response {
		req, _ := http.NewRequest("GET", u, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		return srv.Do(t, req)
	}
	resp := get(login)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/_covet/" {
		t.Fatalf("login: %d to %q, want 303 to /_covet/", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies, want 1", len(cookies))
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/_covet" || c.Value == srv.Token {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/_covet, not the admin token", c)
	}
	if got := get(srv.URL+"/_covet/api/info", c).StatusCode; got != 200 {
		t.Errorf("API with the session cookie: %d, want 200", got)
	}
	if got := get(srv.URL+"/_covet/api/info", &http.Cookie{Name: c.Name, Value: "forged"}).StatusCode; got != 401 {
		t.Errorf("API with a forged cookie: %d, want 401", got)
	}
	if got := get(login).StatusCode; got != 401 {
		t.Errorf("second use of the login URL: %d, want 401", got)
	}
	ui := get(srv.URL + "/_covet/")
	if ui.StatusCode != 200 || !strings.Contains(string(ui.Body), "<html") && !strings.Contains(string(ui.Body), "<!doctype") {
		t.Errorf("studio UI: %d %.80s", ui.StatusCode, ui.Body)
	}
	if csp := ui.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("studio CSP = %q", csp)
	}
}

func TestStudioNotServedWithoutFlag(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	if got := srv.Do(t, srv.Request(t, "GET", "/_covet/", nil)).StatusCode; got != 404 {
		t.Errorf("/_covet/ without Studio: %d, want 404", got)
	}
}

func TestRuntimeFileLifecycle(t *testing.T) {
	dir := t.TempDir()
	srv, err := embeddedserver.New(embeddedserver.Config{Project: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "covet_data", "runtime.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("runtime.json mode %v, want 0600", fi.Mode().Perm())
	}
	var rt struct {
		URL, AdminToken string
		PID             int
	}
	data, _ := os.ReadFile(path)
	json.Unmarshal(data, &rt)
	info := srv.Info()
	if rt.URL != info.URL || rt.AdminToken != info.AdminToken || rt.PID != os.Getpid() || len(rt.AdminToken) != 64 {
		t.Errorf("runtime.json = %s, want url %s, this pid and a 64-hex-digit token", data, info.URL)
	}

	// A second server on the same project is refused while the first runs.
	second, err := embeddedserver.New(embeddedserver.Config{Project: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	err = second.Start(context.Background())
	second.Shutdown(context.Background())
	if err == nil || !strings.Contains(err.Error(), "already served by process") {
		t.Errorf("second Start = %v, want an 'already served' error", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the refused second server removed the first one's runtime.json: %v", err)
	}

	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("runtime.json still there after Shutdown (%v)", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown = %v, want nil", err)
	}
}

func TestNewReportsProblems(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	badConfig := t.TempDir()
	os.WriteFile(filepath.Join(badConfig, "covet.json"), []byte(`{"server": {"listen": "127.0.0.1:0", "tsl": true}}`), 0o644)
	tests := []struct {
		name string
		cfg  embeddedserver.Config
		want string
	}{
		{"no project", embeddedserver.Config{}, "no folder given"},
		{"project is a file", embeddedserver.Config{Project: file}, "it is a file, not a folder"},
		{"invalid covet.json", embeddedserver.Config{Project: badConfig}, "covet.json: server.tsl: unknown field"},
		{"invalid listen override", embeddedserver.Config{Project: t.TempDir(), Listen: "nope"}, `--listen: server.listen: "nope" is not host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := embeddedserver.New(tt.cfg)
			if err == nil {
				srv.Shutdown(context.Background())
				t.Fatalf("New succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestConfigProblems(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "covet.json"), []byte(`{"server": {"listen": 1, "tsl": true}}`), 0o644)
	_, err := embeddedserver.New(embeddedserver.Config{Project: dir})
	got := embeddedserver.ConfigProblems(err)
	want := []embeddedserver.Problem{
		{Path: "server.listen", Message: "expected a string, got the number 1"},
		{Path: "server.tsl", Message: `unknown field (known: accessLog, h2c, idleTimeout, listen, maxHeaderBytes, readHeaderTimeout, readTimeout, securityHeaders, shutdownTimeout, tls, trailingSlash, trustedProxies, writeTimeout)`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ConfigProblems = %+v\nwant %+v", got, want)
	}
	if embeddedserver.ConfigProblems(errors.New("other")) != nil {
		t.Error("ConfigProblems of an unrelated error is not nil")
	}
}

func TestPortInUse(t *testing.T) {
	first := servertest.Start(t, servertest.Options{})
	addr := strings.TrimPrefix(first.URL, "http://")
	srv, err := embeddedserver.New(embeddedserver.Config{Project: t.TempDir(), Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	err = srv.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "--listen") {
		t.Errorf("Start on a busy port = %v, want an 'already in use … --listen' error", err)
	}
}

func TestProbesAndMetrics(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	srv.Do(t, srv.Request(t, "GET", "/hello", nil))
	for _, tt := range []struct {
		path, want string
	}{
		{"/healthz", `"status":"ok"`},
		{"/readyz", `"status":"ready"`},
		{"/metrics", `covet_http_requests_total{code="200",method="GET",route="GET /hello"} 1`},
		{"/metrics", `covet_db_pool_open_connections{pool="primary"}`},
		{"/metrics", `covet_db_pool_open_connections{pool="replica0"}`},
		{"/metrics", `covet_http_request_duration_seconds_bucket{method="GET",route="GET /hello",le="0.0001"}`},
		{"/metrics", "go_goroutines"},
		{"/metrics", "process_resident_memory_bytes"},
	} {
		resp := srv.Do(t, srv.Request(t, "GET", tt.path, nil))
		if resp.StatusCode != 200 || !strings.Contains(string(resp.Body), tt.want) {
			t.Errorf("GET %s: %d, body lacks %q", tt.path, resp.StatusCode, tt.want)
		}
	}
}

const slowConfig = `{
  "server": {"listen": "127.0.0.1:0"},
  "database": {"primary": "sqlite:covet_data/covet.db"},
  "routes": [{"id": "slow", "method": "GET", "path": "/slow", "kind": "mock", "mock": {"body": "finally", "delay": "1s"}}]
}`

// TestShutdownDrainsInFlightRequests: a request in flight when Shutdown
// starts completes with its full answer, Shutdown waits for it, and new
// connections are refused meanwhile.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Config: slowConfig})
	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		inflight <- result{resp.StatusCode, string(b), err}
	}()
	time.Sleep(300 * time.Millisecond) // the request is now waiting in the handler

	shutdownErr := make(chan error, 1)
	go func() { shutdownErr <- srv.Shutdown(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	if _, err := http.Get(srv.URL + "/hello"); err == nil {
		t.Error("a new request was accepted during shutdown")
	}
	r := <-inflight
	if r.err != nil || r.status != 200 || r.body != "finally" {
		t.Errorf("in-flight request: %d %q %v, want 200 \"finally\"", r.status, r.body, r.err)
	}
	if err := <-shutdownErr; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
}
