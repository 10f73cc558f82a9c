package config

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/resource"
	"github.com/covetpy/covet/backend/router"
)

func TestDefaultIsValidAndRoundTrips(t *testing.T) {
	def := Default()
	if err := def.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	data, err := def.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode(Default().Marshal()) = %v\n%s", err, data)
	}
	again, _ := got.Marshal()
	if string(again) != string(data) {
		t.Errorf("round trip changed the document:\n got %s\nwant %s", again, data)
	}
}

func TestDecodeFillsDefaults(t *testing.T) {
	cfg, err := Decode([]byte(`{"server":{"listen":"127.0.0.1:0"},"database":{"primary":"sqlite:x.db"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.ReadHeaderTimeout.Std() != 5*time.Second || cfg.Server.MaxHeaderBytes != 1<<20 {
		t.Errorf("defaults not filled: %+v", cfg.Server)
	}
	if cfg.Routes == nil || len(cfg.Routes) != 0 {
		t.Errorf("routes = %#v, want empty (omitted routes are not the sample route)", cfg.Routes)
	}
}

func TestDecodeErrorsNamePaths(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // each must appear in the error
	}{
		{"syntax error names line and column", "{\n  \"server\": {\n    \"listen\": ,\n  }\n}", []string{"line 3, column 15"}},
		{"empty document", "", []string{"empty"}},
		{"trailing data", `{} {}`, []string{"after the top-level value"}},
		{"unknown top-level field", `{"servre": {}}`, []string{"servre: unknown field", "known: auth, backups, bench, database, resources, routes, server"}},
		{"unknown nested field with case hint", `{"server": {"Listen": "x"}}`, []string{`server.Listen: unknown field (did you mean "listen"?)`}},
		{"unknown field in an array item", `{"routes": [{}, {"id": "a", "methd": "GET"}]}`, []string{"routes[1].methd: unknown field"}},
		{"wrong type", `{"server": {"listen": 8080}}`, []string{"server.listen: expected a string, got the number 8080"}},
		{"bad duration", `{"server": {"readTimeout": "5 seconds"}}`, []string{`server.readTimeout: "5 seconds" is not a duration`}},
		{"duration as number", `{"server": {"readTimeout": 5}}`, []string{"server.readTimeout: expected a duration string"}},
		{"integer overflow", `{"server": {"maxHeaderBytes": 1e100}}`, []string{"server.maxHeaderBytes: expected an integer"}},
		{"array expected", `{"routes": {}}`, []string{"routes: expected an array, got an object"}},
		{"all problems at once", `{"server": {"listen": 1, "bogus": true}, "x": 1}`, []string{"server.listen", "server.bogus", "x: unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.doc))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Decode error = %v, want Errors", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestDecodeRejectsOversizedDocument(t *testing.T) {
	_, err := Decode(make([]byte, MaxSize+1))
	if err == nil || !strings.Contains(err.Error(), "larger than the limit") {
		t.Errorf("Decode(oversized) = %v, want a size error", err)
	}
}

func TestValidate(t *testing.T) {
	route := func(mut func(*Route)) *Config {
		c := Default()
		mut(&c.Routes[0])
		return c
	}
	tests := []struct {
		name string
		cfg  *Config
		want []string
	}{
		{"bad listen", func() *Config { c := Default(); c.Server.Listen = "localhost"; return c }(), []string{"server.listen: \"localhost\" is not host:port"}},
		{"bad port", func() *Config { c := Default(); c.Server.Listen = ":99999"; return c }(), []string{"server.listen: port"}},
		{"zero timeout", func() *Config { c := Default(); c.Server.WriteTimeout = 0; return c }(), []string{"server.writeTimeout: 0s is out of range"}},
		{"header bytes", func() *Config { c := Default(); c.Server.MaxHeaderBytes = 10; return c }(), []string{"server.maxHeaderBytes"}},
		{"unknown database", func() *Config { c := Default(); c.Database.Primary = "oracle://x"; return c }(), []string{"database.primary: unsupported database \"oracle\""}},
		{"sqlite replicas", func() *Config { c := Default(); c.Database.Replicas = []string{"sqlite:x.db"}; return c }(), []string{"database.replicas[0]: SQLite has no replicas"}},
		{"mixed replicas", func() *Config {
			c := Default()
			c.Database.Primary, c.Database.Replicas = "postgres://127.0.0.1/test", []string{"mysql://127.0.0.1/test"}
			return c
		}(), []string{"database.replicas[0]: a replica must be the same kind of database as the primary (postgres)"}},
		{"n+1 threshold", func() *Config { c := Default(); c.Database.NPlusOneThreshold = 1; return c }(), []string{"database.nPlusOneThreshold: 1 is out of range"}},
		{"resource problems", func() *Config {
			c := Default()
			c.Resources = []resource.Definition{
				{Name: "users", Table: "users", Fields: []resource.Field{{Name: "age", Type: "integer"}}},
				{Name: "users", Table: "users", Fields: []resource.Field{{Name: "x", Type: "int"}}},
			}
			return c
		}(), []string{`resources[0].fields[0].type: unknown type "integer"`, `resources[1].name: duplicate resource "users" (also resources[0])`, `resources[1].table: table "users" is already used by resources[0]`}},
		{"resource route", route(func(r *Route) {
			r.Kind, r.Mock, r.Method, r.Path, r.Resource = "resource", nil, "GET", "/users/{id}", "people"
		}), []string{
			"routes[0].method: a resource route serves GET and POST", `routes[0].path: "/users/{id}": a resource path is a plain prefix`, `routes[0].resource: no resource named "people" (declared: )`}},
		{"sqlite without path", func() *Config { c := Default(); c.Database.Primary = "sqlite:"; return c }(), []string{"database.primary: the sqlite: DSN has no path"}},
		{"tls files and self-signed", func() *Config { c := Default(); c.Server.TLS = &TLS{SelfSigned: true, CertFile: "c.pem"}; return c }(), []string{"server.tls.selfSigned: cannot be combined"}},
		{"tls key without cert", func() *Config { c := Default(); c.Server.TLS = &TLS{KeyFile: "k.pem"}; return c }(), []string{"server.tls.certFile: is required with keyFile"}},
		{"empty tls", func() *Config { c := Default(); c.Server.TLS = &TLS{}; return c }(), []string{"server.tls: needs certFile and keyFile, or selfSigned: true"}},
		{"bad tls host", func() *Config {
			c := Default()
			c.Server.TLS = &TLS{SelfSigned: true, Hosts: []string{"a b"}}
			return c
		}(), []string{"server.tls.hosts[0]: \"a b\" is not a host name"}},
		{"h2c with tls", func() *Config { c := Default(); c.Server.H2C = true; c.Server.TLS = &TLS{SelfSigned: true}; return c }(), []string{"server.h2c: HTTP/2 without TLS cannot be combined"}},
		{"handler without name", route(func(r *Route) { r.Kind, r.Mock, r.Handler = "handler", nil, &Handler{} }), []string{"routes[0].handler.name: is required"}},
		{"handler missing", route(func(r *Route) { r.Kind, r.Mock = "handler", nil }), []string{"routes[0].handler: is required for a route of kind \"handler\""}},
		{"handler beside mock", route(func(r *Route) { r.Handler = &Handler{Name: "x"} }), []string{"routes[0].handler: is set, but the route's kind is \"mock\""}},
		{"compress problems", route(func(r *Route) { r.Policy = &Policy{Compress: &Compress{ContentTypes: []string{"json"}}} }), []string{`routes[0].policy.compress.contentTypes[0]: "json" is not a media type`}},
		{"compress level", route(func(r *Route) { r.Policy = &Policy{Compress: &Compress{Level: "max"}} }), []string{`routes[0].policy.compress.level: "max" is not a level`}},
		{"csrf origin", route(func(r *Route) { r.Policy = &Policy{CSRF: &CSRF{TrustedOrigins: []string{"https://App.example"}}} }), []string{`routes[0].policy.csrf.trustedOrigins[0]: origin "https://App.example" never matches`}},
		{"missing id", route(func(r *Route) { r.ID = "" }), []string{"routes[0].id: is required"}},
		{"bad id", route(func(r *Route) { r.ID = "Hello World" }), []string{"routes[0].id"}},
		{"bad method", route(func(r *Route) { r.Method = "get" }), []string{"routes[0].method: \"get\" is not an HTTP method"}},
		{"bad method and path", route(func(r *Route) { r.Method, r.Path = "GE T", "/a/{y}/{y}" }), []string{"routes[0].method: \"GE T\" is not an HTTP method", "routes[0].path: parameter {y} declared twice"}},
		{"relative path", route(func(r *Route) { r.Path = "hello" }), []string{"routes[0].path: \"hello\" must start with '/'"}},
		{"dot segment", route(func(r *Route) { r.Path = "/a/../b" }), []string{"contains a \"..\" segment"}},
		{"param twice", route(func(r *Route) { r.Path = "/users/{id}/x/{id}" }), []string{"routes[0].path: parameter {id} declared twice"}},
		{"malformed param", route(func(r *Route) { r.Path = "/users/{id" }), []string{`routes[0].path: parameter "{id" is not closed with '}'`}},
		{"reserved probe path", route(func(r *Route) { r.Path = "/healthz" }), []string{"routes[0].path: \"/healthz\" is reserved"}},
		{"reserved admin prefix", route(func(r *Route) { r.Path = "/_covet/api/info" }), []string{"routes[0].path: \"/_covet/api/info\" is reserved"}},
		{"query in path", route(func(r *Route) { r.Path = "/a?b=1" }), []string{"query strings"}},
		{"unknown kind", route(func(r *Route) { r.Kind = "teleport" }), []string{"routes[0].kind: unknown kind \"teleport\""}},
		{"missing mock", route(func(r *Route) { r.Mock = nil }), []string{"routes[0].mock: is required"}},
		{"bad status", route(func(r *Route) { r.Mock.Status = 42 }), []string{"routes[0].mock.status: 42"}},
		{"bad header", route(func(r *Route) { r.Mock.Headers = map[string]string{"X Y": "1", "Z": "a\r\nb"} }), []string{"\"X Y\" is not a valid header name", "routes[0].mock.headers.Z: value contains a line break"}},
		{"negative delay", route(func(r *Route) { r.Mock.Delay = -1 }), []string{"routes[0].mock.delay: -1ns is out of range"}},
		{"delay too long", route(func(r *Route) { r.Mock.Delay = Duration(2 * time.Minute) }), []string{"routes[0].mock.delay: 2m0s is out of range"}},
		{"delay beyond write timeout", func() *Config {
			c := Default()
			c.Server.WriteTimeout = Duration(time.Second)
			c.Routes[0].Mock.Delay = Duration(time.Second)
			return c
		}(), []string{"routes[0].mock.delay: 1s is not less than server.writeTimeout (1s)"}},
		{"policy problems", route(func(r *Route) {
			r.Policy = &Policy{
				Timeout:   Duration(time.Hour),
				RateLimit: &RateLimit{Rate: 0, Per: 0, Burst: -1, Key: "cookie"},
				BodyLimit: -1,
				CORS:      &CORS{AllowOrigins: []string{"*", "ftp//x"}, AllowCredentials: true, AllowMethods: []string{"get me"}, AllowHeaders: []string{"bad header"}},
				Cache:     &Cache{MaxAge: -1},
			}
		}), []string{
			"routes[0].policy.timeout: 1h0m0s is out of range", "routes[0].policy.rateLimit.rate: 0 is out of range",
			"routes[0].policy.rateLimit.per", "routes[0].policy.rateLimit.burst", `routes[0].policy.rateLimit.key: "cookie" is not a key`,
			"routes[0].policy.bodyLimit", `routes[0].policy.cors.allowOrigins[0]: "*" cannot be combined with allowCredentials`,
			`routes[0].policy.cors.allowOrigins[1]: "ftp//x" is not an origin`, "routes[0].policy.cors.allowMethods[0]",
			`routes[0].policy.cors.allowHeaders[0]: "bad header" is not a header name`, "routes[0].policy.cache.maxAge",
		}},
		{"redirect problems", route(func(r *Route) {
			r.Kind, r.Mock, r.Path = "redirect", nil, "/old/{id}"
			r.Redirect = &Redirect{To: "ftp://x/{name}", Status: 200}
		}), []string{"routes[0].redirect.status: 200 is not a redirect status", `routes[0].redirect.to: "ftp://x/{name}" is not an http(s) URL`, "routes[0].redirect.to: refers to {name}, which the route's path does not have"}},
		{"catch-all written with dots", route(func(r *Route) {
			r.Kind, r.Mock, r.Path = "redirect", nil, "/old/{rest...}"
			r.Redirect = &Redirect{To: "/new/{rest...}", Status: 301}
		}), []string{"routes[0].redirect.to: refers to {rest...}: write {rest}"}},
		{"redirect without target", route(func(r *Route) { r.Kind, r.Mock, r.Redirect = "redirect", nil, &Redirect{Status: 308} }), []string{"routes[0].redirect.to: is required"}},
		{"static problems", route(func(r *Route) {
			r.Kind, r.Mock, r.Static = "static", nil, &Static{Dir: "../elsewhere", Index: "a/b.html"}
		}), []string{"routes[0].path: a static route's path must end with a catch-all", `routes[0].static.dir: "../elsewhere" must be a folder inside the project`, `routes[0].static.index: "a/b.html" must be a file name`}},
		{"proxy problems", route(func(r *Route) {
			r.Kind, r.Mock = "proxy", nil
			r.Proxy = &Proxy{Upstream: "ftp://x", StripPrefix: "api", Timeout: Duration(time.Hour), SetHeaders: map[string]string{"Bad Name": "x", "X-Ok": "a\nb"}}
		}), []string{`routes[0].proxy.upstream: "ftp://x" is not an http(s) base URL`, `routes[0].proxy.stripPrefix: "api" must start with '/'`,
			"routes[0].proxy.timeout: 1h0m0s is out of range", `routes[0].proxy.setHeaders: "Bad Name" is not a valid header name`, "routes[0].proxy.setHeaders.X-Ok: value contains a line break"}},
		{"proxy rewrite problems", route(func(r *Route) {
			r.Kind, r.Mock, r.Path = "proxy", nil, "/people/{id}"
			r.Proxy = &Proxy{Upstream: "http://x", StripPrefix: "/people", Rewrite: "/v2/{id}/{other}", Timeout: Duration(time.Second), ResponseHeaders: map[string]string{"Bad Name": "x"}}
		}), []string{"routes[0].proxy.rewrite: replaces the whole path, so stripPrefix has nothing to strip", "routes[0].proxy.rewrite: refers to {other}, which the route's path does not have",
			`routes[0].proxy.responseHeaders: "Bad Name" is not a valid header name`}},
		{"fields of another kind", route(func(r *Route) { r.Redirect = &Redirect{To: "/x"} }), []string{`routes[0].redirect: is set, but the route's kind is "mock"`}},
		{"body too big", route(func(r *Route) { r.Mock.Body = strings.Repeat("x", MaxMockBodyBytes+1) }), []string{"routes[0].mock.body"}},
		{"duplicates and conflicts", func() *Config {
			c := Default()
			r := c.Routes[0]
			r2, r3 := r, r
			r3.ID, r3.Path = "other", "/{name}"
			c.Routes = append(c.Routes, r2, r3)
			return c
		}(), []string{"routes[1].id: duplicate id \"hello\" (also routes[0])", "routes[1].path: conflicts with GET /hello (routes[0]): both match the same requests"}},
		{"same requests under other parameter names", func() *Config {
			c := Default()
			a, b := c.Routes[0], c.Routes[0]
			a.ID, a.Path = "a", "/x/{id}"
			b.ID, b.Path = "b", "/x/{name}"
			c.Routes = []Route{a, b}
			return c
		}(), []string{"routes[1].path: conflicts with GET /x/{id} (routes[0])"}},
		{"bad parameter pattern", route(func(r *Route) { r.Path = "/u/{id:[0-9}" }), []string{"routes[0].path: parameter {id}: invalid pattern"}},
		{"bad trusted proxy", func() *Config {
			c := Default()
			c.Server.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.0/99", "proxy.local"}
			return c
		}(),
			[]string{`server.trustedProxies[1]: "10.0.0.0/99" is not an IP address or CIDR prefix`, "server.trustedProxies[2]"}},
		{"bad bench allowed host", func() *Config {
			c := Default()
			c.Bench.AllowHosts = []string{"staging.internal", "::1", "http://x.example", ""}
			return c
		}(), []string{`bench.allowHosts[2]: "http://x.example" is not a host name`, "bench.allowHosts[3]"}},
		{"bad access log mode", func() *Config { c := Default(); c.Server.AccessLog = "some"; return c }(), []string{`server.accessLog: "some" is not a mode`}},
		{"bad access log sample", func() *Config { c := Default(); c.Server.AccessLog = "1/0"; return c }(), []string{`server.accessLog: "1/0" is not a mode`}},
		{"bad security headers mode", func() *Config { c := Default(); c.Server.SecurityHeaders = "yes"; return c }(), []string{`server.securityHeaders: "yes" is not a mode: use "on" or "off"`}},
		{"access log sample too sparse", func() *Config { c := Default(); c.Server.AccessLog = "1/1000001"; return c }(), []string{`server.accessLog: "1/1000001" is not a mode`}},
		{"auth section", func() *Config {
			c := Default()
			c.Auth.Issuer, c.Auth.Leeway, c.Auth.RefreshTTL = " ", Duration(time.Hour), Duration(time.Minute)
			c.Auth.Rotation = &Rotation{Every: Duration(time.Minute), Alg: "none"}
			return c
		}(), []string{`auth.issuer: " " must be 1 to 256 characters`, "auth.leeway: 1h0m0s is out of range", "auth.refreshTTL: 1m0s is out of range: must be longer than accessTTL (15m0s)",
			"auth.rotation.every: 1m0s is too short", `auth.rotation.alg: "none" is not an algorithm`}},
		{"auth policy", route(func(r *Route) {
			r.Policy = &Policy{Auth: &AuthPolicy{Roles: []string{"admin", "two words"}, Source: "query", Cookie: "x"}}
		}), []string{"routes[0].policy.auth.required: must be true when roles or scopes are listed", `routes[0].policy.auth.roles[1]: "two words" must be 1 to 128 characters`,
			`routes[0].policy.auth.source: "query" is not a token source`}},
		{"rate limit by subject without auth", route(func(r *Route) {
			r.Policy = &Policy{RateLimit: &RateLimit{Rate: 1, Per: Duration(time.Second), Key: "subject"}}
		}), []string{`routes[0].policy.rateLimit.key: "subject" counts per token subject, so the route needs an auth policy`}},
		{"auth cookie on a header source", route(func(r *Route) {
			r.Policy = &Policy{Auth: &AuthPolicy{Required: true, Cookie: "tok"}}
		}), []string{`routes[0].policy.auth.cookie: only applies when source is "cookie"`}},
		{"bad trailing slash policy", func() *Config { c := Default(); c.Server.TrailingSlash = "loose"; return c }(), []string{`server.trailingSlash: "loose" is not a policy`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, tt.cfg.Validate(), tt.want)
		})
	}
}

// checkProblems fails unless err has a problem containing each of want.
func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil, want errors containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
}

func TestOverlappingButOrderedRoutesAreValid(t *testing.T) {
	c := Default()
	a, b, d := c.Routes[0], c.Routes[0], c.Routes[0]
	a.ID, a.Path = "a", "/x/{id}/y"
	b.ID, b.Path = "b", "/x/z/{id}"
	d.ID, d.Path = "d", "/x/{id:[0-9]+}/y"
	c.Routes = []Route{a, b, d}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v; the most specific route wins, so these do not conflict", err)
	}
}

func TestValidKindsAreAccepted(t *testing.T) {
	c := Default()
	c.Routes = append(c.Routes,
		Route{ID: "old", Method: "GET", Path: "/old/{id}", Kind: "redirect", Redirect: &Redirect{To: "https://example.com/new/{id}"}},
		Route{ID: "assets", Method: "GET", Path: "/assets/{file...}", Kind: "static", Static: &Static{Dir: "public"}},
	)
	c.fillDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Routes[1].Redirect.Status != 308 || c.Routes[2].Static.Index != "index.html" {
		t.Errorf("defaults not filled: %+v %+v", c.Routes[1].Redirect, c.Routes[2].Static)
	}
}

func TestValidateInChecksTheProgram(t *testing.T) {
	goRoutes := router.New(router.Options{})
	goRoutes.Get("/users/{id}", func(http.ResponseWriter, *http.Request) {})
	c := Default()
	c.Routes = append(c.Routes,
		Route{ID: "show", Method: "GET", Path: "/show", Kind: "handler", Handler: &Handler{Name: "users.show"}},
		Route{ID: "clash", Method: "GET", Path: "/users/{userID}", Kind: "handler", Handler: &Handler{Name: "users.list"}},
	)
	c.fillDefaults()
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() checks no program, got %v", err)
	}
	tests := []struct {
		name string
		env  Env
		want []string
	}{
		{"names and routes", Env{Handlers: []string{"users.show"}, Routes: goRoutes}, []string{
			`routes[2].handler.name: no handler named "users.list" (registered: users.show)`,
			"routes[2].path: conflicts with GET /users/{id} (" + callerFile(t),
		}},
		{"no names registered", Env{Handlers: []string{}}, []string{
			`routes[1].handler.name: no handler named "users.show": this program registers none`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, c.ValidateIn(tt.env), tt.want)
		})
	}
}

// callerFile is the file of the test calling it.
func callerFile(t *testing.T) string {
	_, file, _, _ := runtime.Caller(1)
	return file
}

func TestIssueRouteIsAcceptedVerbatim(t *testing.T) {
	doc := `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:x.db"}, "routes": [
		{"id": "hello", "method": "GET", "path": "/hello", "kind": "mock", "mock": {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": "Hello, World!"}, "policy": {"timeout": "2s", "rateLimit": {"rate": 100, "per": "1s", "burst": 20, "key": "ip"}}}]}`
	cfg, err := Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPrefixesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(path, []byte(`{"server": {"listen": "nope"}}`), 0o600)
	_, err := Load(path, Env{})
	if err == nil || !strings.HasPrefix(err.Error(), path+": server.listen") {
		t.Errorf("Load error = %v, want it to start with the file path and the JSON path", err)
	}
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Errorf("Load error does not unwrap to Errors: %v", err)
	}
}

// TestResourceDefaultsAndEnums: any JSON value decodes as a field's default
// or enum member, and Validate checks it against the field's type.
func TestResourceDefaultsAndEnums(t *testing.T) {
	doc := `{"server": {"listen": "127.0.0.1:0"}, "resources": [{"name": "tasks", "table": "tasks", "fields": [
		{"name": "state", "type": "string", "default": "open", "enum": ["open", "done"]},
		{"name": "score", "type": "int", "default": 18, "enum": [18, 21]},
		{"name": "bad", "type": "int", "default": "x", "enum": [1, {"a": 1}]}]}], "routes": []}`
	cfg, err := Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Validate = %v, want Errors", err)
	}
	got := fmt.Sprint(errs)
	for _, want := range []string{"resources[0].fields[2].default: want an integer", "resources[0].fields[2].enum[1]: want an integer, got an object"} {
		if !strings.Contains(got, want) {
			t.Errorf("errors %s lack %q", got, want)
		}
	}
	if strings.Contains(got, "fields[0]") || strings.Contains(got, "fields[1]") {
		t.Errorf("valid defaults and enums were refused: %s", got)
	}
}

func TestValidatePool(t *testing.T) {
	const pg, my, lite = "postgres://127.0.0.1/test", "mysql://127.0.0.1/test", "sqlite:covet_data/covet.db"
	for _, tc := range []struct {
		name    string
		primary string
		pool    Pool
		want    []string
	}{
		{"none", lite, Pool{}, nil},
		{"postgres", pg, Pool{MaxConns: 16, MinConns: 2, MaxConnLifetime: Duration(30 * time.Minute), MaxConnIdleTime: Duration(5 * time.Minute)}, nil},
		{"mysql", my, Pool{MaxConns: MaxPoolConns, MaxConnIdleTime: Duration(time.Second)}, nil},
		{"sqlite", lite, Pool{MaxConns: 4}, []string{"database.pool: SQLite has no pool to size"}},
		{"too many", pg, Pool{MaxConns: MaxPoolConns + 1}, []string{"database.pool.maxConns: 1001 is out of range: must be from 1 to 1000"}},
		{"negative", pg, Pool{MaxConns: -1, MinConns: -1}, []string{"database.pool.maxConns: -1 is out of range", "database.pool.minConns: -1 is out of range"}},
		{"min over max", pg, Pool{MaxConns: 2, MinConns: 3}, []string{"database.pool.minConns: 3 is more than maxConns (2)"}},
		{"min without max", pg, Pool{MinConns: 3}, []string{"database.pool.minConns: needs maxConns as well"}},
		{"min on mysql", my, Pool{MaxConns: 8, MinConns: 2}, []string{"database.pool.minConns: MySQL's pools keep no minimum"}},
		{"durations", pg, Pool{MaxConnLifetime: Duration(time.Millisecond), MaxConnIdleTime: Duration(48 * time.Hour)}, []string{
			"database.pool.maxConnLifetime: 1ms is out of range: must be from 1s to 24h0m0s", "database.pool.maxConnIdleTime: 48h0m0s is out of range"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Database.Primary, c.Database.Pool = tc.primary, tc.pool
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Errorf("got %v, want no problem", err)
				}
				return
			}
			checkProblems(t, err, tc.want)
			if n := len(err.(Errors)); n != len(tc.want) {
				t.Errorf("got %d problems (%v), want %d", n, err, len(tc.want))
			}
		})
	}
	// A pool is read from covet.json with its durations, and a document
	// without one is saved without one.
	cfg, err := Decode([]byte(`{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "` + pg + `", "pool": {"maxConns": 16, "maxConnLifetime": "30m"}}, "routes": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Pool{MaxConns: 16, MaxConnLifetime: Duration(30 * time.Minute)}); cfg.Database.Pool != want {
		t.Errorf("decoded pool %+v, want %+v", cfg.Database.Pool, want)
	}
	if _, err := Decode([]byte(`{"database": {"pool": {"maxConns": "16", "maxIdle": 1}}}`)); err == nil ||
		!strings.Contains(err.Error(), "database.pool.maxConns") || !strings.Contains(err.Error(), "database.pool.maxIdle") {
		t.Errorf("a pool of the wrong shape: %v, want problems at database.pool.maxConns and database.pool.maxIdle", err)
	}
	if doc, _ := Default().Marshal(); strings.Contains(string(doc), `"pool"`) {
		t.Errorf("the default configuration has a pool:\n%s", doc)
	}
}

func TestValidateBackups(t *testing.T) {
	for _, tc := range []struct {
		b    Backups
		want string
	}{
		{Backups{}, ""},
		{Backups{Schedule: "off"}, ""},
		{Backups{Schedule: "*/5 * * * *", Keep: 3, MaxAge: Duration(time.Hour), Encrypt: true}, ""},
		{Backups{Schedule: "@every 30m"}, ""},
		{Backups{Schedule: "every hour"}, `backups.schedule: "every hour" is not a cron schedule`},
		{Backups{Schedule: "61 * * * *"}, `backups.schedule: "61 * * * *" is not a cron schedule`},
		{Backups{Keep: -1}, "backups.keep: -1 is out of range"},
		{Backups{Keep: MaxBackupKeep + 1}, "backups.keep: 10001 is out of range"},
		{Backups{MaxAge: Duration(-time.Hour)}, "backups.maxAge: -1h0m0s is negative"},
	} {
		c := Default()
		c.Backups = tc.b
		err := c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.b, err, tc.want)
		}
	}
	if d := (Backups{}).WithDefaults(); d.Schedule != DefaultBackupSchedule || d.Keep != DefaultBackupKeep || d.MaxAge != DefaultBackupMaxAge {
		t.Errorf("defaults = %+v", d)
	}
}

func TestSplitParams(t *testing.T) {
	isParam := func(name string) bool { return name == "id" || name == "file" }
	for _, c := range []struct {
		in       string
		literals []string
		names    []string
	}{
		{"Hello", []string{"Hello"}, nil},
		{"", []string{""}, nil},
		{"{id}", []string{"", ""}, []string{"id"}},
		{`{"id": "{id}", "file": "{file}"}`, []string{`{"id": "`, `", "file": "`, `"}`}, []string{"id", "file"}},
		{"{other} {id}{id} {id:x} {} {{id}}", []string{"{other} ", "", " {id:x} {} {", "}"}, []string{"id", "id", "id"}},
	} {
		literals, names := SplitParams(c.in, isParam)
		if fmt.Sprintf("%q %q", literals, names) != fmt.Sprintf("%q %q", c.literals, c.names) {
			t.Errorf("SplitParams(%q) = %q, %q; want %q, %q", c.in, literals, names, c.literals, c.names)
		}
	}
}

func TestAccessLogSample(t *testing.T) {
	for mode, want := range map[string]int{"all": 1, "1/1": 1, "1/100": 100, "1/1000000": 1_000_000, "errors": 0, "off": 0, "1/0": 0, "1/-2": 0, "2/10": 0, "1/x": 0, "1/": 0, "": 0} {
		if got := (Server{AccessLog: mode}).AccessLogSample(); got != want {
			t.Errorf("AccessLogSample(%q) = %d, want %d", mode, got, want)
		}
	}
	c := Default()
	c.Server.AccessLog = "1/100"
	if err := c.Validate(); err != nil {
		t.Errorf("accessLog 1/100: %v", err)
	}
}
