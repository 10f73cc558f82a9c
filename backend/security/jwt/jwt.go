// Package jwt issues and verifies access and refresh tokens on golang-jwt
// v5, with every check the well-known attacks need:
//
//   - the token's size is capped before anything is parsed;
//
//   - the key is found by kid (a plain identifier, never a path or URL), and
//     the algorithm is pinned to that key's: "none", or HS256 signed with a
//     public key, cannot pass;
//
//   - jku, x5u, x5c and jwk headers are refused, never followed;
//
//   - exp is required, nbf and iat are checked, with a bounded leeway;
//
//   - iss and aud must match;
//
//   - the typ header tells access tokens ("at+jwt") from refresh tokens
//     ("refresh+jwt"), so one is never accepted as the other.
//
//     v := jwt.NewVerifier(jwt.Config{Issuer: "https://api.example.com", Audience: "api"}, keys)
//     claims, err := v.Verify(token, jwt.Access)
//     var r *jwt.Rejection
//     if errors.As(err, &r) { log.Print(r.Reason) } // "expired at 2026-11-25T10:00:00Z", …
package jwt

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// Type is what a token is for; it travels in the typ header.
type Type string

const (
	// Access tokens authorise requests (RFC 9068's media type).
	Access Type = "at+jwt"
	// Refresh tokens only get new access tokens.
	Refresh Type = "refresh+jwt"
)

// Algorithms the package signs and verifies; a key has exactly one.
const (
	EdDSA = "EdDSA"
	ES256 = "ES256"
	RS256 = "RS256"
	HS256 = "HS256"
)

// Key is a key as the verifier sees it: its id, its one algorithm, and the
// key material (ed25519.PublicKey, *ecdsa.PublicKey, *rsa.PublicKey, or the
// HS256 secret as []byte for verifying; the private key or secret for
// signing).
type Key struct {
	ID       string
	Alg      string
	Material any
}

// KeySource finds keys. The keys package implements it.
type KeySource interface {
	// VerificationKey returns the key with id kid if tokens signed with it
	// are still accepted (standby, current or previous), else false.
	VerificationKey(kid string) (Key, bool)
	// SigningKey returns the current key with its private part.
	SigningKey() (Key, bool)
}

// Config is what tokens must say.
type Config struct {
	// Issuer is the iss of issued tokens, and the only one accepted.
	Issuer string
	// Audience is the aud of issued tokens; a token must list it.
	Audience string
	// Leeway tolerates clock skew on exp, nbf and iat. Default 30s, at
	// most 5m.
	Leeway time.Duration
	// MaxTokenBytes caps a token before parsing. Default 8 KiB.
	MaxTokenBytes int
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Denylist, if set, refuses tokens revoked by their jti.
	Denylist Denylist
	// CacheSize is how many verified tokens the verifier remembers, so
	// that a token sent again skips the signature check and the decoding
	// (0: none, at most MaxCacheSize). A remembered token is still checked
	// against the clock, its key's state, its typ and the Denylist on
	// every use; only tokens that passed every check are remembered.
	CacheSize int
}

// Denylist knows tokens revoked one by one, by jti, until they expire.
type Denylist interface {
	Revoked(jti string) bool
}

// Limits.
const (
	DefaultLeeway        = 30 * time.Second
	MaxLeeway            = 5 * time.Minute
	DefaultMaxTokenBytes = 8 << 10
	MaxKidLen            = 64
	MaxCacheSize         = 1 << 20
)

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Issuer == "":
		return errors.New("jwt: Issuer is required")
	case c.Audience == "":
		return errors.New("jwt: Audience is required")
	case c.Leeway < 0 || c.Leeway > MaxLeeway:
		return fmt.Errorf("jwt: Leeway %v is outside 0..%v", c.Leeway, MaxLeeway)
	case c.MaxTokenBytes < 0 || c.MaxTokenBytes > 1<<20:
		return fmt.Errorf("jwt: MaxTokenBytes %d is outside 0..%d", c.MaxTokenBytes, 1<<20)
	case c.CacheSize < 0 || c.CacheSize > MaxCacheSize:
		return fmt.Errorf("jwt: CacheSize %d is outside 0..%d", c.CacheSize, MaxCacheSize)
	}
	return nil
}

// Claims are a token's claims: the registered ones, roles and scope.
type Claims struct {
	gojwt.RegisteredClaims
	Roles []string `json:"roles,omitempty"`
	Scope string   `json:"scope,omitempty"`
	// Family ties the refresh tokens of one sign-in together, and the
	// access tokens issued with them, so reuse can revoke them all.
	Family string `json:"fam,omitempty"`
	// Extra are further claims to sign; they never replace the claims
	// above. Verify does not read them back.
	Extra map[string]any `json:"-"`
}

// MarshalJSON writes the claims, Extra included.
func (c Claims) MarshalJSON() ([]byte, error) {
	type plain Claims // without this method
	b, err := json.Marshal(plain(c))
	if err != nil || len(c.Extra) == 0 {
		return b, err
	}
	all := map[string]any{}
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range c.Extra {
		if _, taken := all[k]; !taken {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

// Rejection says exactly why a token was not accepted.
type Rejection struct {
	Reason string
	Err    error // the underlying error, if any
}

func (r *Rejection) Error() string { return "jwt: token rejected: " + r.Reason }
func (r *Rejection) Unwrap() error { return r.Err }

func reject(format string, args ...any) *Rejection {
	return &Rejection{Reason: fmt.Sprintf(format, args...)}
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	cfg     Config
	keys    KeySource
	parser  *gojwt.Parser
	keyfunc gojwt.Keyfunc
	cache   *cache // nil without Config.CacheSize
}

// NewVerifier returns a Verifier; it panics on an invalid Config (a
// programming error; check configuration with Validate).
func NewVerifier(cfg Config, keys KeySource) *Verifier {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.MaxTokenBytes == 0 {
		cfg.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	parser := gojwt.NewParser(
		gojwt.WithValidMethods([]string{EdDSA, ES256, RS256, HS256}),
		gojwt.WithExpirationRequired(),
		gojwt.WithIssuedAt(),
		gojwt.WithIssuer(cfg.Issuer),
		gojwt.WithAudience(cfg.Audience),
		gojwt.WithLeeway(cfg.Leeway),
		gojwt.WithTimeFunc(cfg.Now),
		gojwt.WithStrictDecoding(),
	)
	v := &Verifier{cfg: cfg, keys: keys, parser: parser}
	if cfg.CacheSize > 0 {
		v.cache = newCache(cfg.CacheSize)
	}
	v.keyfunc = v.keyFor
	return v
}

// Config returns the verifier's configuration, defaults filled in.
func (v *Verifier) Config() Config { return v.cfg }

// forbiddenHeaders point at keys elsewhere; a verifier must never use
// them, and a token carrying them is refused outright. Read only.
var forbiddenHeaders = []string{"jku", "x5u", "x5c", "jwk"}

// Verify checks token and returns its claims, or a *Rejection saying why
// it is not acceptable as a token of type want. With a cache, the slices
// in the claims are shared between calls: read them, do not change them.
func (v *Verifier) Verify(token string, want Type) (*Claims, error) {
	if len(token) > v.cfg.MaxTokenBytes {
		return nil, reject("the token is %d bytes, over the limit of %d", len(token), v.cfg.MaxTokenBytes)
	}
	if strings.Count(token, ".") != 2 {
		return nil, reject("the token is not three base64url parts separated by dots")
	}
	if v.cache != nil {
		if c, ok := v.cache.get(token); ok {
			return v.recheck(c, want)
		}
	}
	claims := &Claims{}
	tok, err := v.parser.ParseWithClaims(token, claims, v.keyfunc)
	if err != nil {
		if why := (*Rejection)(nil); errors.As(err, &why) {
			return nil, why // from keyfunc
		}
	}
	if tok != nil && tok.Header != nil {
		if typ, _ := tok.Header["typ"].(string); typ != string(want) {
			return nil, reject("typ is %q, want %q", truncate(typ), want)
		}
	}
	if err != nil {
		return nil, v.explain(err, claims)
	}
	if v.cfg.Denylist != nil && v.cfg.Denylist.Revoked(claims.ID) {
		return nil, reject("revoked: token %s was revoked before it expired", truncate(claims.ID))
	}
	if v.cache != nil {
		kid, _ := tok.Header["kid"].(string)
		v.cache.put(token, &verified{claims: *claims, typ: want, kid: kid, alg: tok.Method.Alg()})
	}
	return claims, nil
}

// recheck decides a token found in the cache: what may have changed since
// it was verified (the clock, its key's state, the denylist) is checked
// again; what cannot change (signature, issuer, audience) is not.
func (v *Verifier) recheck(c *verified, want Type) (*Claims, error) {
	if c.typ != want {
		return nil, reject("typ is %q, want %q", c.typ, want)
	}
	if key, ok := v.keys.VerificationKey(c.kid); !ok || key.Alg != c.alg {
		return nil, reject("unknown kid %q (or its key was revoked)", c.kid)
	}
	// exp is there: tokens without one are never remembered.
	if v.cfg.Now().After(c.claims.ExpiresAt.Add(v.cfg.Leeway)) {
		v.cache.remove(c)
		return nil, reject("expired at %s", c.claims.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if v.cfg.Denylist != nil && v.cfg.Denylist.Revoked(c.claims.ID) {
		return nil, reject("revoked: token %s was revoked before it expired", truncate(c.claims.ID))
	}
	claims := c.claims // a copy: the handler may change it
	return &claims, nil
}

// keyfunc finds the key by kid and pins the algorithm to it; it is bound
// once per Verifier, so verifying allocates no closure.
func (v *Verifier) keyFor(t *gojwt.Token) (any, error) {
	for _, h := range forbiddenHeaders {
		if _, ok := t.Header[h]; ok {
			return nil, reject("the header carries %q; keys are never taken from a token", h)
		}
	}
	kid, _ := t.Header["kid"].(string)
	if !ValidKid(kid) {
		return nil, reject("kid %q is not an identifier of 1 to %d letters, digits, '-' or '_'", truncate(kid), MaxKidLen)
	}
	key, ok := v.keys.VerificationKey(kid)
	if !ok {
		return nil, reject("unknown kid %q (or its key was revoked)", kid)
	}
	if alg := t.Method.Alg(); alg != key.Alg {
		return nil, reject("algorithm %s is not allowed for key %s, which is %s", alg, kid, key.Alg)
	}
	return key.Material, nil
}

// explain turns golang-jwt's errors into a reason a person can act on.
func (v *Verifier) explain(err error, c *Claims) *Rejection {
	r := &Rejection{Err: err}
	switch {
	case errors.Is(err, gojwt.ErrTokenExpired) && c.ExpiresAt != nil:
		r.Reason = "expired at " + c.ExpiresAt.UTC().Format(time.RFC3339)
	case errors.Is(err, gojwt.ErrTokenRequiredClaimMissing):
		r.Reason = "exp is missing: every token must expire"
	case errors.Is(err, gojwt.ErrTokenNotValidYet) && c.NotBefore != nil:
		r.Reason = "not valid before " + c.NotBefore.UTC().Format(time.RFC3339)
	case errors.Is(err, gojwt.ErrTokenUsedBeforeIssued):
		r.Reason = "issued in the future"
	case errors.Is(err, gojwt.ErrTokenInvalidIssuer):
		r.Reason = fmt.Sprintf("issuer %q, want %q", c.Issuer, v.cfg.Issuer)
	case errors.Is(err, gojwt.ErrTokenInvalidAudience):
		r.Reason = fmt.Sprintf("audience %q does not include %q", []string(c.Audience), v.cfg.Audience)
	case errors.Is(err, gojwt.ErrTokenSignatureInvalid):
		r.Reason = "signature invalid"
	case errors.Is(err, gojwt.ErrTokenUnverifiable):
		r.Reason = "unverifiable: the algorithm is not one of EdDSA, ES256, RS256, HS256"
	case errors.Is(err, gojwt.ErrTokenMalformed):
		r.Reason = "malformed"
	default:
		r.Reason = "invalid claims"
	}
	return r
}

// ValidKid reports whether kid is a plain identifier: 1 to MaxKidLen
// letters, digits, '-' or '_' (never a path, URL or SQL).
func ValidKid(kid string) bool {
	if kid == "" || len(kid) > MaxKidLen {
		return false
	}
	for i := 0; i < len(kid); i++ {
		c := kid[i]
		if !(c == '-' || c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Issue signs claims with the source's current key, as a token of type
// typ valid for ttl: it sets iss, aud, iat, nbf, exp and a random jti, and
// the kid and typ headers.
func Issue(cfg Config, keys KeySource, typ Type, claims Claims, ttl time.Duration) (string, error) {
	token, _, _, err := Mint(cfg, keys, typ, claims, ttl)
	return token, err
}

// Mint is Issue that also returns the claims as signed and the signing
// key's kid. An audience already in claims is kept (to mint tokens for
// another service, or to test a wrong one); otherwise it is cfg.Audience.
func Mint(cfg Config, keys KeySource, typ Type, claims Claims, ttl time.Duration) (token string, signed Claims, kid string, err error) {
	if err := cfg.Validate(); err != nil {
		return "", Claims{}, "", err
	}
	if ttl <= 0 || ttl > 90*24*time.Hour {
		return "", Claims{}, "", fmt.Errorf("jwt: ttl %v is outside 0..90 days", ttl)
	}
	key, ok := keys.SigningKey()
	if !ok {
		return "", Claims{}, "", errors.New("jwt: there is no current signing key")
	}
	method := gojwt.GetSigningMethod(key.Alg)
	if method == nil {
		return "", Claims{}, "", fmt.Errorf("jwt: key %s has unknown algorithm %q", key.ID, key.Alg)
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	t := now().Truncate(time.Second)
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims.Issuer = cfg.Issuer
	if len(claims.Audience) == 0 {
		claims.Audience = gojwt.ClaimStrings{cfg.Audience}
	}
	claims.IssuedAt = gojwt.NewNumericDate(t)
	claims.NotBefore = gojwt.NewNumericDate(t)
	claims.ExpiresAt = gojwt.NewNumericDate(t.Add(ttl))
	claims.ID = hex.EncodeToString(jti)
	tok := gojwt.NewWithClaims(method, claims)
	tok.Header["kid"] = key.ID
	tok.Header["typ"] = string(typ)
	s, err := tok.SignedString(key.Material)
	if err != nil {
		return "", Claims{}, "", fmt.Errorf("jwt: signing with key %s: %w", key.ID, err)
	}
	return s, claims, key.ID, nil
}
