package embeddedserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	embeddedserver "github.com/covetpy/covet/embedded-server"
	"github.com/covetpy/covet/embedded-server/servertest"
)

type keyInfo struct {
	Kid, Alg, State string
	Signed          int
}

// newKey generates a key of alg and promotes it.
func newKey(t *testing.T, srv *servertest.Server, alg string, promote bool) string {
	t.Helper()
	var k keyInfo
	if code := adminJSON(t, srv, "POST", "/_covet/api/keys", `{"alg": "`+alg+`"}`, &k); code != 201 || k.State != "standby" || k.Alg != alg {
		t.Fatalf("generate %s: %d %+v", alg, code, k)
	}
	if promote {
		if code := adminJSON(t, srv, "POST", "/_covet/api/keys/"+k.Kid+"/promote", "", &k); code != 200 || k.State != "current" {
			t.Fatalf("promote: %d %+v", code, k)
		}
	}
	return k.Kid
}

func mint(t *testing.T, srv *servertest.Server, body string) string {
	t.Helper()
	var out struct{ Token, Kid, JTI string }
	if code := adminJSON(t, srv, "POST", "/_covet/api/tokens", body, &out); code != 201 || out.Token == "" || out.JTI == "" {
		t.Fatalf("mint %s: %d", body, code)
	}
	return out.Token
}

// call sends GET path on the public listener with an optional bearer token.
func call(t *testing.T, srv *servertest.Server, path, token string) *servertest.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return srv.Do(t, req)
}

func jwksKids(t *testing.T, srv *servertest.Server) string {
	t.Helper()
	resp := call(t, srv, "/.well-known/jwks.json", "")
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(resp.Body, &set); err != nil || resp.StatusCode != 200 {
		t.Fatalf("jwks: %d %s", resp.StatusCode, resp.Body)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return strings.Join(kids, ",")
}

const secretRoute = `{"id": "secret", "method": "GET", "path": "/secret", "kind": "mock", "mock": {"body": "the secret"}, "policy": {"auth": {"required": true, "roles": ["admin"]}}}`

func TestAuthPolicyWithKeysFromTheAPI(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	if r := configReq(t, srv, "POST", "/routes", secretRoute); r.StatusCode != 200 {
		t.Fatalf("POST route: %d %s", r.StatusCode, r.Body)
	}
	// Without any key, nothing signs and nothing verifies.
	if code := adminJSON(t, srv, "POST", "/_covet/api/tokens", `{"sub": "u1"}`, nil); code != 409 {
		t.Fatalf("mint without a current key: %d, want 409", code)
	}
	old := newKey(t, srv, "EdDSA", true)
	admin := mint(t, srv, `{"sub": "u1", "roles": ["admin"], "ttl": "5m"}`)
	user := mint(t, srv, `{"sub": "u2", "roles": ["user"]}`)

	resp := call(t, srv, "/secret", "")
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp := call(t, srv, "/secret", admin); resp.StatusCode != 200 || string(resp.Body) != "the secret" {
		t.Fatalf("admin token: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := call(t, srv, "/secret", user); resp.StatusCode != 403 {
		t.Fatalf("user token: %d %s", resp.StatusCode, resp.Body)
	}

	// Rotation: the old key's tokens pass while it is previous, and fail
	// once it is revoked; the JWKS follows at once.
	next := newKey(t, srv, "ES256", false)
	if got := jwksKids(t, srv); !strings.Contains(got, old) || !strings.Contains(got, next) {
		t.Fatalf("jwks %s lacks the standby key", got)
	}
	if code := adminJSON(t, srv, "POST", "/_covet/api/keys/"+next+"/promote", "", nil); code != 200 {
		t.Fatal(code)
	}
	if resp := call(t, srv, "/secret", admin); resp.StatusCode != 200 {
		t.Fatalf("old key now previous: %d %s", resp.StatusCode, resp.Body)
	}
	fresh := mint(t, srv, `{"sub": "u1", "roles": ["admin"]}`)
	if code := adminJSON(t, srv, "POST", "/_covet/api/keys/"+old+"/revoke", "", nil); code != 200 {
		t.Fatal(code)
	}
	if got := jwksKids(t, srv); strings.Contains(got, old) {
		t.Fatalf("jwks %s still lists the revoked key", got)
	}
	resp = call(t, srv, "/secret", admin)
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "unknown kid") {
		t.Fatalf("revoked key's token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp := call(t, srv, "/secret", fresh); resp.StatusCode != 200 {
		t.Fatalf("new key's token: %d", resp.StatusCode)
	}
	// A revoked key cannot come back; an unknown one is 404.
	if code := adminJSON(t, srv, "POST", "/_covet/api/keys/"+old+"/promote", "", nil); code != 409 {
		t.Fatalf("promote a revoked key: %d, want 409", code)
	}
	if code := adminJSON(t, srv, "POST", "/_covet/api/keys/nope/retire", "", nil); code != 404 {
		t.Fatalf("unknown kid: %d, want 404", code)
	}

	// One token revoked by jti; others of the same key still pass.
	var rt struct{ JTI string }
	if code := adminJSON(t, srv, "POST", "/_covet/api/tokens/revoke", `{"token": "`+fresh+`"}`, &rt); code != 200 || rt.JTI == "" {
		t.Fatalf("revoke token: %d", code)
	}
	if resp := call(t, srv, "/secret", fresh); resp.StatusCode != 401 || !strings.Contains(string(resp.Body), "revoked") {
		t.Fatalf("revoked token: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := call(t, srv, "/secret", mint(t, srv, `{"sub": "u1", "roles": ["admin"]}`)); resp.StatusCode != 200 {
		t.Fatalf("another token: %d", resp.StatusCode)
	}
}

func TestTokenInspector(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	newKey(t, srv, "EdDSA", true)
	tok := mint(t, srv, `{"sub": "u1", "roles": ["admin"], "claims": {"tenant": "acme"}}`)
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + flipChar(parts[1]) + "." + parts[2]
	refresh := mint(t, srv, `{"sub": "u1", "type": "refresh"}`)
	wrongAud := mint(t, srv, `{"sub": "u1", "aud": "another-api"}`)
	for _, tc := range []struct {
		token, typ, reason string
		valid              bool
	}{
		{tok, "access", "", true},
		{"Bearer " + tok, "access", "", true},
		{refresh, "refresh", "", true},
		{tampered, "access", "signature invalid", false},
		{wrongAud, "access", `audience ["another-api"] does not include "covet-api"`, false},
		{"not a token", "", "not three base64url parts", false},
		{strings.Repeat(".", 50<<10), "", "over the limit", false},
	} {
		var insp struct {
			Header, Claims map[string]any
			Type           string
			Valid          bool
			Reason         string
		}
		if code := adminJSON(t, srv, "POST", "/_covet/api/tokens/inspect", `{"token": "`+tc.token+`"}`, &insp); code != 200 {
			t.Fatalf("inspect: %d", code)
		}
		if insp.Valid != tc.valid || insp.Type != tc.typ || !strings.Contains(insp.Reason, tc.reason) {
			t.Errorf("inspect %.40s…: valid %v type %q reason %q; want %v %q %q", tc.token, insp.Valid, insp.Type, insp.Reason, tc.valid, tc.typ, tc.reason)
		}
		if tc.valid && (insp.Claims["tenant"] != "acme" && tc.typ == "access" || insp.Header["kid"] == nil) {
			t.Errorf("decoded parts: %v %v", insp.Header, insp.Claims)
		}
	}
	for body, field := range map[string]string{
		`{"sub": ""}`:                         "sub",
		`{"sub": "u1", "ttl": "forever"}`:     "ttl",
		`{"sub": "u1", "type": "id"}`:         "type",
		`{"sub": "u1", "claims": {"exp": 1}}`: "claims.exp",
	} {
		resp := srv.Do(t, jsonReq(t, srv, "POST", "/_covet/api/tokens", body))
		if resp.StatusCode != 400 || !strings.Contains(string(resp.Body), `"path":"`+field+`"`) {
			t.Errorf("mint %s: %d %s; want 400 naming %s", body, resp.StatusCode, resp.Body, field)
		}
	}
}

func flipChar(s string) string {
	b := []byte(s)
	if b[3] == 'A' {
		b[3] = 'B'
	} else {
		b[3] = 'A'
	}
	return string(b)
}

func jsonReq(t *testing.T, srv *servertest.Server, method, path, body string) *http.Request {
	req := srv.Request(t, method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestJWKSCaching(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	newKey(t, srv, "RS256", true)
	newKey(t, srv, "HS256", false)
	resp := call(t, srv, "/.well-known/jwks.json", "")
	if resp.Header.Get("Cache-Control") != "public, max-age=300" || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("headers %v", resp.Header)
	}
	if strings.Count(string(resp.Body), `"kid"`) != 1 || !strings.Contains(string(resp.Body), `"kty":"RSA"`) {
		t.Fatalf("jwks %s: want the RSA key only (HS256 secrets are never published)", resp.Body)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/.well-known/jwks.json", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if r := srv.Do(t, req); r.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
}

// TestKeysEndpointsFollowTheAdminRules checks DESIGN.md's rules (token,
// Host, Origin) on every keys endpoint.
func TestKeysEndpointsFollowTheAdminRules(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	kid := newKey(t, srv, "EdDSA", false)
	endpoints := []struct{ method, path, body string }{
		{"GET", "/_covet/api/keys", ""},
		{"POST", "/_covet/api/keys", `{"alg": "EdDSA"}`},
		{"POST", "/_covet/api/keys/" + kid + "/promote", ""},
		{"POST", "/_covet/api/keys/" + kid + "/retire", ""},
		{"POST", "/_covet/api/keys/" + kid + "/revoke", ""},
		{"POST", "/_covet/api/tokens", `{"sub": "u1"}`},
		{"POST", "/_covet/api/tokens/inspect", `{"token": "x"}`},
		{"POST", "/_covet/api/tokens/revoke", `{"token": "x"}`},
	}
	for _, e := range endpoints {
		for _, rule := range []struct {
			name   string
			mutate func(*http.Request)
			want   int
		}{
			{"no token", func(r *http.Request) { r.Header.Del("Authorization") }, 401},
			{"wrong token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+strings.Repeat("0", 64)) }, 401},
			{"foreign Host", func(r *http.Request) { r.Host = "evil.example" }, 403},
			{"foreign Origin", func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, 403},
		} {
			req := jsonReq(t, srv, e.method, e.path, e.body)
			rule.mutate(req)
			if resp := srv.Do(t, req); resp.StatusCode != rule.want {
				t.Errorf("%s %s with %s: %d, want %d", e.method, e.path, rule.name, resp.StatusCode, rule.want)
			}
		}
	}
	var o struct{ Keys []keyInfo }
	if adminJSON(t, srv, "GET", "/_covet/api/keys", "", &o); len(o.Keys) != 1 || o.Keys[0].State != "standby" {
		t.Fatalf("a refused request changed the keys: %+v", o.Keys)
	}
}

// TestKeysSurviveARestart: the store is kept, encrypted, in covet_data.
func TestKeysSurviveARestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	const pass = "a passphrase for the test"
	start := func(passphrase string) (*embeddedserver.Server, error) {
		srv, err := embeddedserver.New(embeddedserver.Config{Project: dir, Listen: "127.0.0.1:0", KeysPassphrase: passphrase})
		if err != nil {
			return nil, err
		}
		return srv, srv.Start(context.Background())
	}
	adminReq := func(srv *embeddedserver.Server, method, path, body string) []byte {
		info := srv.Info()
		req, _ := http.NewRequest(method, info.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+info.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	srv, err := start(pass)
	if err != nil {
		t.Fatal(err)
	}
	var k keyInfo
	_ = json.Unmarshal(adminReq(srv, "POST", "/_covet/api/keys", `{"alg": "EdDSA"}`), &k)
	adminReq(srv, "POST", "/_covet/api/keys/"+k.Kid+"/promote", "")
	var m, revoked struct{ Token string }
	_ = json.Unmarshal(adminReq(srv, "POST", "/_covet/api/tokens", `{"sub": "u1"}`), &m)
	_ = json.Unmarshal(adminReq(srv, "POST", "/_covet/api/tokens", `{"sub": "u2"}`), &revoked)
	adminReq(srv, "POST", "/_covet/api/tokens/revoke", `{"token": "`+revoked.Token+`"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "covet_data", "keys.json"))
	if err != nil || strings.Contains(string(raw), k.Kid) || !strings.Contains(string(raw), `"kek": "passphrase"`) {
		t.Fatalf("keys.json: %v\n%s", err, raw)
	}

	if _, err := start(""); err == nil || !strings.Contains(err.Error(), "COVET_KEYS_PASSPHRASE") {
		t.Fatalf("start without the passphrase: %v", err)
	}
	srv, err = start(pass)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	var insp struct {
		Valid  bool
		Reason string
	}
	_ = json.Unmarshal(adminReq(srv, "POST", "/_covet/api/tokens/inspect", `{"token": "`+m.Token+`"}`), &insp)
	if !insp.Valid {
		t.Fatalf("a token from before the restart: %s", insp.Reason)
	}
	_ = json.Unmarshal(adminReq(srv, "POST", "/_covet/api/tokens/inspect", `{"token": "`+revoked.Token+`"}`), &insp)
	if insp.Valid || !strings.HasPrefix(insp.Reason, "revoked") {
		t.Fatalf("a token revoked before the restart: valid %v, %q", insp.Valid, insp.Reason)
	}
}

// TestScheduledRotationMakesAKeyAtStart: with a schedule and no key, the
// server makes a current key of the schedule's algorithm at once.
func TestScheduledRotationMakesAKeyAtStart(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:covet_data/covet.db"},
		"auth": {"issuer": "covet", "audience": "covet-api", "rotation": {"every": "24h", "alg": "ES256"}}, "routes": []}`})
	deadline := time.Now().Add(5 * time.Second)
	for {
		var o struct {
			Keys     []keyInfo
			Rotation struct{ Every, Alg, Next string }
		}
		adminJSON(t, srv, "GET", "/_covet/api/keys", "", &o)
		if len(o.Keys) == 1 && o.Keys[0].State == "current" && o.Keys[0].Alg == "ES256" {
			if o.Rotation.Every != "24h" || o.Rotation.Next == "" {
				t.Fatalf("rotation %+v", o.Rotation)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no current ES256 key 5 s after start: %+v", o.Keys)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRateLimitPerTokenSubject(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	route := `{"id": "quota", "method": "GET", "path": "/quota", "kind": "mock", "mock": {"body": "ok"},
		"policy": {"auth": {"required": true}, "rateLimit": {"rate": 1, "per": "1h", "key": "subject"}}}`
	if r := configReq(t, srv, "POST", "/routes", route); r.StatusCode != 200 {
		t.Fatalf("POST route: %d %s", r.StatusCode, r.Body)
	}
	newKey(t, srv, "EdDSA", true)
	u1, u1again, u2 := mint(t, srv, `{"sub": "u1"}`), mint(t, srv, `{"sub": "u1"}`), mint(t, srv, `{"sub": "u2"}`)
	for _, step := range []struct {
		token string
		want  int
	}{{u1, 200}, {u1again, 429}, {u2, 200}, {"", 401}} {
		if resp := call(t, srv, "/quota", step.token); resp.StatusCode != step.want {
			t.Fatalf("%.20s…: %d, want %d: %s", step.token, resp.StatusCode, step.want, resp.Body)
		}
	}
}
