package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/covetpy/covet/backend/security/jwt"
	"github.com/covetpy/covet/backend/security/jwt/jwttest"
	"github.com/covetpy/covet/backend/security/keys"
)

type authFixture struct {
	cfg  jwt.Config
	ring *keys.Ring
	v    *jwt.Verifier
}

func newAuthFixture(t testing.TB) *authFixture {
	ring := keys.NewRing(keys.Config{})
	k, err := ring.Generate(keys.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Promote(k.ID); err != nil {
		t.Fatal(err)
	}
	cfg := jwt.Config{Issuer: "covet", Audience: "api"}
	return &authFixture{cfg: cfg, ring: ring, v: jwt.NewVerifier(cfg, ring)}
}

func (f *authFixture) token(t testing.TB, typ jwt.Type, ttl time.Duration, roles []string, scope string) string {
	t.Helper()
	tok, err := jwt.Issue(f.cfg, f.ring, typ, jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "u1"}, Roles: roles, Scope: scope}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *authFixture) serve(t *testing.T, cfg AuthConfig, req *http.Request) (*httptest.ResponseRecorder, *jwt.Claims) {
	t.Helper()
	cfg.Verifier = f.v
	mw, err := Auth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var seen *jwt.Claims
	rec := httptest.NewRecorder()
	mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = ClaimsFrom(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})).ServeHTTP(rec, req)
	return rec, seen
}

func withBearer(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/secret", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

func TestAuthAnswers(t *testing.T) {
	f := newAuthFixture(t)
	admin := f.token(t, jwt.Access, time.Minute, []string{"user", "admin"}, "read write")
	user := f.token(t, jwt.Access, time.Minute, []string{"user"}, "read")
	refresh := f.token(t, jwt.Refresh, time.Hour, []string{"admin"}, "")
	expired, _ := jwt.Issue(jwt.Config{Issuer: "covet", Audience: "api", Now: func() time.Time { return time.Now().Add(-time.Hour) }}, f.ring, jwt.Access, jwt.Claims{}, time.Minute)
	required := AuthConfig{Required: true, Roles: []string{"admin", "ops"}}
	for _, tc := range []struct {
		name      string
		cfg       AuthConfig
		req       *http.Request
		status    int
		challenge string // WWW-Authenticate must contain it
		detail    string // the problem's body must contain it
	}{
		{"no token", required, httptest.NewRequest("GET", "/", nil), 401, `Bearer realm="covet"`, "an access token is required"},
		{"not a bearer token", required, func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Basic dTpw")
			return r
		}(), 401, `error="invalid_token"`, `is not \"Bearer \u003ctoken\u003e\"`},
		{"expired", required, withBearer(expired), 401, `error_description="expired at `, "expired at"},
		{"refresh token as access token", required, withBearer(refresh), 401, `typ is \"refresh+jwt\"`, "want"},
		{"garbage", required, withBearer("a.b.c"), 401, `error="invalid_token"`, "refused"},
		{"missing role", required, withBearer(user), 403, `error="insufficient_scope"`, "none of the roles this route requires: admin, ops"},
		{"one of the roles", required, withBearer(admin), 204, "", ""},
		{"missing scope", AuthConfig{Required: true, Scopes: []string{"read", "delete"}}, withBearer(admin), 403, `scope="read delete"`, "lacks delete"},
		{"all scopes", AuthConfig{Required: true, Scopes: []string{"write", "read"}}, withBearer(admin), 204, "", ""},
		{"optional, absent", AuthConfig{}, httptest.NewRequest("GET", "/", nil), 204, "", ""},
		{"optional, invalid", AuthConfig{}, withBearer(expired), 401, "invalid_token", "expired"},
		{"realm", AuthConfig{Required: true, Realm: "shop"}, httptest.NewRequest("GET", "/", nil), 401, `Bearer realm="shop"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, claims := f.serve(t, tc.cfg, tc.req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status >= 400 {
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q", ct)
				}
				if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, tc.challenge) {
					t.Errorf("WWW-Authenticate %q does not contain %q", got, tc.challenge)
				}
				if !strings.Contains(rec.Body.String(), tc.detail) {
					t.Errorf("body %s does not contain %q", rec.Body, tc.detail)
				}
				if claims != nil {
					t.Error("the handler ran")
				}
			}
		})
	}
	rec, claims := f.serve(t, required, withBearer(admin))
	if rec.Code != 204 || claims == nil || claims.Subject != "u1" {
		t.Fatalf("claims in the context: %+v", claims)
	}
}

func TestAuthFromCookie(t *testing.T) {
	f := newAuthFixture(t)
	tok := f.token(t, jwt.Access, time.Minute, nil, "")
	cfg := AuthConfig{Required: true, Cookie: "access_token"}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "access_token", Value: tok})
	if rec, _ := f.serve(t, cfg, r); rec.Code != 204 {
		t.Fatalf("token in the cookie: %d %s", rec.Code, rec.Body)
	}
	if rec, _ := f.serve(t, cfg, withBearer(tok)); rec.Code != 401 {
		t.Fatalf("a cookie route read the Authorization header: %d", rec.Code)
	}
}

func TestAuthConfigValidate(t *testing.T) {
	f := newAuthFixture(t)
	for _, c := range []AuthConfig{
		{},
		{Verifier: f.v, Roles: []string{"admin"}},
		{Verifier: f.v, Realm: `a"b`},
	} {
		if _, err := Auth(c); err == nil {
			t.Errorf("%+v was accepted", c)
		}
	}
}

func TestKeyBySubject(t *testing.T) {
	f := newAuthFixture(t)
	tok := f.token(t, jwt.Access, time.Minute, nil, "")
	mw, _ := Auth(AuthConfig{Verifier: f.v})
	var keys []string
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { keys = append(keys, KeyBySubject(r)) }))
	h.ServeHTTP(httptest.NewRecorder(), withBearer(tok))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if strings.Join(keys, " ") != "sub:u1 ip:192.0.2.1" {
		t.Fatalf("keys %q", keys)
	}
}

func TestQuoteParam(t *testing.T) {
	if got := quoteParam("typ is \"x\"\\\r\n…"); got != `"typ is \"x\"\\"` {
		t.Fatalf("%s", got)
	}
}

// TestAuthRejectsTheHostileBattery sends every token of the jwt battery
// through the middleware: each gets 401 with a challenge, none panics and
// none reaches the handler.
func TestAuthRejectsTheHostileBattery(t *testing.T) {
	f := jwttest.New(t)
	mw, err := Auth(AuthConfig{Verifier: jwt.NewVerifier(f.Config, f.Ring), Required: true})
	if err != nil {
		t.Fatal(err)
	}
	reached := 0
	h := Recoverer(nil)(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ })))
	check := func(tok string, want int) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, withBearer(tok))
		if rec.Code != want || want == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), `Bearer realm="covet"`) {
			t.Errorf("token %.60q: %d %q, want %d", tok, rec.Code, rec.Header().Get("WWW-Authenticate"), want)
		}
	}
	check(f.Valid(), http.StatusOK)
	n := 0
	for _, tok := range f.Hostile() {
		if strings.TrimSpace(tok) == f.Valid() {
			continue // a header value's surrounding whitespace is not part of it (RFC 9110 5.5)
		}
		check(tok, http.StatusUnauthorized)
		n++
	}
	if reached != 1 {
		t.Fatalf("the handler ran %d times, want once (for the valid token)", reached)
	}
	t.Logf("%d hostile tokens answered 401", n)
}
