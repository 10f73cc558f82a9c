package e2e

import (
	"fmt"
	"net/http"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/covetpy/covet/backend/covet"
	covetmw "github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/backend/security/jwt"
	"github.com/covetpy/covet/backend/security/keys"
)

// The auth workload (scripts/bench auth): GET /hello behind
// middleware.Auth, against the same route unprotected (covet-default), with
// wrk sending a bearer token to both. ../auth_test.go measures the same
// middleware in process against a bare golang-jwt parser.

// What the tokens of the auth workload say.
const (
	AuthIssuer   = "https://bench.covet.test"
	AuthAudience = "bench"
	AuthSubject  = "bench-user"
	AuthRole     = "admin"
	AuthLeeway   = 30 * time.Second
)

// AuthSetup is a key ring with one current key and an access token it
// signed.
type AuthSetup struct {
	Config jwt.Config // Issuer AuthIssuer, Audience AuthAudience, Leeway AuthLeeway
	Ring   *keys.Ring
	Kid    string // the current key's id
	Alg    string
	// Token is an access token (typ at+jwt) with sub AuthSubject and roles
	// [AuthRole], signed by the current key.
	Token string
}

// NewAuthSetup generates a key of alg (keys.EdDSA, ES256, RS256 or HS256),
// promotes it and issues Token, valid for ttl.
func NewAuthSetup(alg string, ttl time.Duration) (*AuthSetup, error) {
	ring := keys.NewRing(keys.Config{})
	k, err := ring.Generate(alg)
	if err != nil {
		return nil, err
	}
	if err := ring.Promote(k.ID); err != nil {
		return nil, err
	}
	cfg := jwt.Config{Issuer: AuthIssuer, Audience: AuthAudience, Leeway: AuthLeeway}
	claims := jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: AuthSubject}, Roles: []string{AuthRole}}
	token, err := jwt.Issue(cfg, ring, jwt.Access, claims, ttl)
	if err != nil {
		return nil, fmt.Errorf("issuing the bench token: %w", err)
	}
	return &AuthSetup{Config: cfg, Ring: ring, Kid: k.ID, Alg: alg, Token: token}, nil
}

// ServeCacheSize is the verified-token cache of covet serve's verifier
// (config.VerifiedTokenCache, which this module cannot import).
const ServeCacheSize = 10_000

// Middleware returns middleware.Auth over the setup's ring: a token
// required, with the role AuthRole; the verifier remembers cacheSize
// verified tokens (0: every request verifies its signature).
func (s *AuthSetup) Middleware(cacheSize int) (func(http.Handler) http.Handler, error) {
	cfg := s.Config
	cfg.CacheSize = cacheSize
	return covetmw.Auth(covetmw.AuthConfig{
		Verifier: jwt.NewVerifier(cfg, s.Ring),
		Required: true,
		Roles:    []string{AuthRole},
	})
}

// AuthContender is a server of the auth workload: it also hands out the
// token that its protected routes accept.
type AuthContender struct {
	Name string // the -impl flag of cmd/e2eserver
	Desc string // what it runs, for docs/BENCHMARKS.md
	// Build returns a fresh handler and an access token for it valid for
	// ttl; every call generates a new key.
	Build func(ttl time.Duration) (h http.Handler, token string, err error)
}

// AuthContenders are the protected contenders; the unprotected one is
// covet-default of Contenders.
var AuthContenders = []AuthContender{
	{"covet-auth", "covet-default with GET /hello behind middleware.Auth (EdDSA key generated at start, Required, Roles [admin], a verified-token cache of 10,000 as covet serve)", buildCovetAuth},
}

// LookupAuth returns the auth contender called name.
func LookupAuth(name string) (AuthContender, bool) {
	for _, c := range AuthContenders {
		if c.Name == name {
			return c, true
		}
	}
	return AuthContender{}, false
}

// buildCovetAuth is buildCovetDefault with /hello behind Auth.
func buildCovetAuth(ttl time.Duration) (http.Handler, string, error) {
	s, err := NewAuthSetup(keys.EdDSA, ttl)
	if err != nil {
		return nil, "", err
	}
	auth, err := s.Middleware(ServeCacheSize) // as covet serve
	if err != nil {
		return nil, "", err
	}
	app := covet.New(defaultConfig(false))
	app.Group("", auth).Get("/hello", func(w http.ResponseWriter, r *http.Request) { Hello(w) })
	app.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) { User(w, r.PathValue("id")) })
	h, err := app.Handler()
	if err != nil {
		return nil, "", err
	}
	return h, s.Token, nil
}
