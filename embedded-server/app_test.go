package embeddedserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/covet"
	embeddedserver "github.com/covetpy/covet/embedded-server"
	"github.com/covetpy/covet/embedded-server/internal/admin"
	"github.com/covetpy/covet/embedded-server/servertest"
)

// TestGoProgramBesideConfig: a Go program's own routes and named handlers
// are served with the configured routes, config routes of kind "handler"
// reach the named handlers, conflicts and unknown names are field errors,
// and the studio's route table says where everything comes from.
func TestGoProgramBesideConfig(t *testing.T) {
	app := covet.New(covet.Config{})
	app.Get("/api/ping", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong") })
	_, file, line, _ := runtime.Caller(0)
	pingSource := fmt.Sprintf("%s:%d", file, line-1)
	show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "user %s", r.PathValue("id")) })
	app.Register("users.show", show)
	showSource := fmt.Sprintf("%s:%d", file, line+3)
	srv := servertest.Start(t, servertest.Options{App: app})

	route := `{"id": "user", "method": "GET", "path": "/users/{id}", "kind": "handler", "handler": {"name": "users.show"},
	           "policy": {"timeout": "1s", "bodyLimit": 100}}`
	if r := configReq(t, srv, "POST", "/routes", route); r.StatusCode != 200 {
		t.Fatalf("adding a handler route: %d %s", r.StatusCode, r.Body)
	}
	if r := configReq(t, srv, "POST", "/routes", `{"id": "echo", "method": "POST", "path": "/echo/{x}", "kind": "handler", "handler": {"name": "covet.echo"}}`); r.StatusCode != 200 {
		t.Fatalf("adding the built-in echo: %d %s", r.StatusCode, r.Body)
	}
	for path, want := range map[string]string{"/api/ping": "pong", "/users/42": "user 42"} {
		if code, body := get(t, srv.URL+path); code != 200 || body != want {
			t.Errorf("GET %s = %d %q, want %q", path, code, body, want)
		}
	}
	resp, err := http.Post(srv.URL+"/echo/7", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	var echo covet.EchoReply
	json.NewDecoder(resp.Body).Decode(&echo)
	resp.Body.Close()
	if echo.Body != "hello" || echo.Params["x"] != "7" {
		t.Errorf("echo reply %+v", echo)
	}

	// Problems name the field, and the old configuration keeps serving.
	for _, tt := range []struct{ route, want string }{
		{`{"id": "nope", "method": "GET", "path": "/nope", "kind": "handler", "handler": {"name": "users.list"}}`,
			`{"path":"routes[3].handler.name","message":"no handler named \"users.list\" (registered: covet.demo.nplusone, covet.echo, users.show)"}`},
		{`{"id": "clash", "method": "GET", "path": "/api/ping", "kind": "mock", "mock": {}}`,
			`{"path":"routes[3].path","message":"conflicts with GET /api/ping (` + pingSource + `): both match the same requests"}`},
	} {
		r := configReq(t, srv, "POST", "/routes", tt.route)
		if r.StatusCode != 400 || !strings.Contains(string(r.Body), tt.want) {
			t.Errorf("POST %s = %d %s\nwant 400 with %s", tt.route, r.StatusCode, r.Body, tt.want)
		}
	}

	var table admin.RouteTable
	r := srv.Do(t, srv.Request(t, "GET", "/_covet/api/routes", nil))
	if err := json.Unmarshal(r.Body, &table); err != nil {
		t.Fatalf("route table: %v %s", err, r.Body)
	}
	if got := strings.Join(table.Stack, ","); got != "recover,requestID,realIP,accessLog+instrument,securityHeaders" {
		t.Errorf("stack %q", got)
	}
	want := []admin.RouteInfo{
		{Method: "GET", Path: "/api/ping", Kind: "go", Source: pingSource, Middleware: []string{}},
		{Method: "GET", Path: "/hello", Kind: "mock", ID: "hello", Source: "routes[0]", Middleware: []string{}},
		{Method: "GET", Path: "/users/{id}", Kind: "handler", ID: "user", Source: "routes[1]", Handler: "users.show",
			HandlerSource: showSource, Middleware: []string{"bodyLimit 100 B", "timeout 1s"}},
		{Method: "POST", Path: "/echo/{x}", Kind: "handler", ID: "echo", Source: "routes[2]", Handler: "covet.echo", Middleware: []string{}},
	}
	if len(table.Routes) != len(want) {
		t.Fatalf("route table %+v, want %d routes", table.Routes, len(want))
	}
	for i, w := range want {
		g := table.Routes[i]
		if w.Handler == "covet.echo" {
			w.HandlerSource = g.HandlerSource // the server's own line
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("route %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if len(table.Handlers) != 3 || table.Handlers[2].Name != "users.show" || table.Handlers[2].Source != showSource {
		t.Errorf("handlers %+v", table.Handlers)
	}
}

// TestAppURLUnderTheServer: a Go program served by the embedded server
// builds links to its named routes with app.URL, before and after a
// configuration change swaps the table.
func TestAppURLUnderTheServer(t *testing.T) {
	app := covet.New(covet.Config{})
	app.Get("/api/things/{id}", func(w http.ResponseWriter, r *http.Request) {}).Name("thing")
	app.Get("/api/link", func(w http.ResponseWriter, r *http.Request) {
		u, err := app.URL("thing", "id", "a b")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, u)
	})
	srv := servertest.Start(t, servertest.Options{App: app})
	check := func(when string) {
		t.Helper()
		if code, body := get(t, srv.URL+"/api/link"); code != 200 || body != "/api/things/a%20b" {
			t.Errorf("%s: GET /api/link = %d %q, want /api/things/a%%20b", when, code, body)
		}
	}
	check("at start")
	if r := configReq(t, srv, "POST", "/routes", `{"id": "m", "method": "GET", "path": "/m", "kind": "mock", "mock": {}}`); r.StatusCode != 200 {
		t.Fatalf("adding a route: %d %s", r.StatusCode, r.Body)
	}
	check("after a change")
}

// TestHandlerRouteNeedsItsProgram: a covet.json naming a handler the
// program does not register is refused at start, naming the field.
func TestHandlerRouteNeedsItsProgram(t *testing.T) {
	doc := `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:covet_data/covet.db"},
	  "routes": [{"id": "x", "method": "GET", "path": "/x", "kind": "handler", "handler": {"name": "users.show"}}]}`
	_, err := newServer(t, doc, nil)
	if err == nil || !strings.Contains(err.Error(), `routes[0].handler.name: no handler named "users.show" (registered: covet.demo.nplusone, covet.echo)`) {
		t.Errorf("New = %v", err)
	}
	app := covet.New(covet.Config{})
	app.Register("users.show", http.NotFoundHandler())
	if _, err := newServer(t, doc, app); err != nil {
		t.Errorf("New with the program = %v", err)
	}
}

func TestTLSAndH2C(t *testing.T) {
	tests := []struct {
		name, server, wantScheme, wantProto string
		h2cClient                           bool
	}{
		{"self-signed HTTPS speaks HTTP/2", `"tls": {"selfSigned": true}`, "https", "HTTP/2.0", false},
		{"h2c", `"h2c": true`, "http", "HTTP/2.0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0", ` + tt.server + `},
			  "database": {"primary": "sqlite:covet_data/covet.db"},
			  "routes": [{"id": "p", "method": "GET", "path": "/p", "kind": "handler", "handler": {"name": "covet.echo"}}]}`})
			if !strings.HasPrefix(srv.URL, tt.wantScheme+"://") {
				t.Fatalf("URL %s, want %s", srv.URL, tt.wantScheme)
			}
			client := srv.Client
			if tt.h2cClient {
				p := new(http.Protocols)
				p.SetUnencryptedHTTP2(true)
				tr := &http.Transport{Protocols: p}
				defer tr.CloseIdleConnections()
				client = &http.Client{Transport: tr}
			} else {
				client.Transport.(*http.Transport).ForceAttemptHTTP2 = true
			}
			resp, err := client.Get(srv.URL + "/p")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.Proto != tt.wantProto {
				t.Errorf("served over %s, want %s", resp.Proto, tt.wantProto)
			}
			if tt.wantScheme == "https" && resp.Header.Get("Strict-Transport-Security") == "" {
				t.Error("no HSTS over TLS")
			}
			// The admin API works over the same listener.
			if r := srv.Do(t, srv.Request(t, "GET", "/_covet/api/info", nil)); r.StatusCode != 200 {
				t.Errorf("admin info over %s: %d", tt.wantScheme, r.StatusCode)
			}
		})
	}
}

// newServer creates (without starting) a server for a project whose
// covet.json is doc, and closes it when the test ends.
func newServer(t *testing.T, doc string, app *covet.App) (*embeddedserver.Server, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "covet.json"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := embeddedserver.New(embeddedserver.Config{Project: dir, App: app})
	if err == nil {
		t.Cleanup(func() { srv.Shutdown(context.Background()) })
	}
	return srv, err
}
