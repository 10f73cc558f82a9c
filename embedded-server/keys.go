package embeddedserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/covetpy/covet/backend/events"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/security/jwt"
	"github.com/covetpy/covet/backend/security/keys"
	"github.com/covetpy/covet/backend/security/tokens"
	"github.com/covetpy/covet/embedded-server/internal/admin"
	"github.com/covetpy/covet/embedded-server/internal/assemble"
	"github.com/covetpy/covet/embedded-server/internal/config"
)

// The key store's files in covet_data/, and how it is kept.
const (
	keysFile    = "keys.json"
	kekFile     = "keys.kek"
	revokedFile = "revoked.json" // tokens revoked by jti, until they expire
	// keyringTimeout bounds the wait for the OS keyring at start.
	keyringTimeout = 3 * time.Second
	// jwksPath is where the public keys are served, as a JWKS.
	jwksPath = "/.well-known/jwks.json"
	// jwksMaxAge is how long clients may cache the JWKS; a scheduled
	// rotation publishes the next key at least this long before it signs.
	jwksMaxAge = 5 * time.Minute
	// rotationCheck is how often the rotation schedule is applied (also
	// how soon a schedule saved in covet.json takes effect).
	rotationCheck = 10 * time.Second
)

// keyService is the signing-key store and the token tools: the admin
// API's Keys, the public JWKS, and the rotation schedule.
type keyService struct {
	store   *keys.Store
	deny    *tokens.Denylist
	revoked string            // the file that keeps deny across restarts
	routes  *assemble.Handler // for the auth section and verifier being served
	hub     *events.Hub
	log     *slog.Logger
	rel     string // the store's path, relative to the project
	warning string
	url     func() string // the public listener's URL
}

var _ admin.Keys = (*keyService)(nil)

// openKeyStore opens covet_data/keys.json, sealed with a key from the
// passphrase when one is given, else from the OS keyring, else from a key
// file beside it (with a warning).
func openKeyStore(p *project, passphrase string, log *slog.Logger) (*keys.Store, string, error) {
	path := p.path(DataDir, keysFile)
	var sources []keys.KEKSource
	if passphrase != "" {
		sources = append(sources, keys.Passphrase(passphrase))
	}
	sources = append(sources, keys.OSKeyring("covet", path, keyringTimeout), keys.KeyFile(p.path(DataDir, kekFile)))
	st, err := keys.OpenStore(path, keys.NewRing(keys.Config{}), sources...)
	if err != nil {
		if passphrase == "" && strings.Contains(err.Error(), "sealed with a key from the passphrase") {
			err = fmt.Errorf("%w; set COVET_KEYS_PASSPHRASE", err)
		}
		return nil, "", err
	}
	warning := ""
	if st.Source() == "key-file" {
		warning = "The key that encrypts keys.json is in covet_data/" + kekFile + " beside it, so anyone who can read the project folder can read the signing keys. " +
			"Set COVET_KEYS_PASSPHRASE (servers, CI) or run where an OS keyring is available, then move the keys (see docs/security.md)."
		log.Warn("signing keys are protected only by a key file beside them", "store", path, "kek", p.path(DataDir, kekFile))
	}
	return st, warning, nil
}

// run applies the rotation schedule now and every rotationCheck until ctx
// ends.
func (k *keyService) run(ctx context.Context) {
	for {
		k.rotate()
		select {
		case <-ctx.Done():
			return
		case <-time.After(rotationCheck):
		}
	}
}

func (k *keyService) rotate() {
	auth, _ := k.routes.Auth()
	r := auth.Rotation
	if r == nil {
		return
	}
	changed, err := k.store.Rotate(keys.Rotation{
		Every: r.Every.Std(), Alg: r.Alg, Ahead: jwksMaxAge,
		Retain: max(auth.AccessTTL, auth.RefreshTTL).Std() + auth.Leeway.Std(),
	})
	if err != nil {
		k.log.Error("rotating signing keys", "err", err)
	}
	if changed {
		k.changed("rotation")
	}
}

func (k *keyService) changed(why string) {
	k.log.Info("signing keys changed", "by", why)
	k.hub.Publish(admin.EventKeysChanged, map[string]string{"by": why})
}

// serveJWKS serves the public keys on the public listener, cacheable for
// jwksMaxAge, with an ETag.
func (k *keyService) serveJWKS(w http.ResponseWriter, r *http.Request) {
	body := k.store.Ring().JWKS()
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := w.Header()
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(jwksMaxAge.Seconds())))
	h.Set("ETag", etag)
	h.Set("Access-Control-Allow-Origin", "*") // public keys, for browser clients too
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/jwk-set+json")
	_, _ = w.Write(body)
}

// Overview implements admin.Keys.
func (k *keyService) Overview() admin.KeysOverview {
	auth, _ := k.routes.Auth()
	ring := k.store.Ring()
	o := admin.KeysOverview{
		Keys: ring.List(), JWKS: ring.Set(), JWKSURL: k.url() + jwksPath,
		Store:  admin.KeyStoreInfo{Path: k.rel, KEK: k.store.Source(), Warning: k.warning},
		Issuer: auth.Issuer, Audience: auth.Audience, Leeway: shortDuration(auth.Leeway.Std()),
		AccessTTL: shortDuration(auth.AccessTTL.Std()), RefreshTTL: shortDuration(auth.RefreshTTL.Std()),
	}
	if r := auth.Rotation; r != nil {
		o.Rotation = &admin.KeyRotation{Every: shortDuration(r.Every.Std()), Alg: r.Alg}
		if next, ok := ring.Next(r.Every.Std()); ok {
			next = next.UTC()
			o.Rotation.Next = &next
		}
	}
	return o
}

// Generate implements admin.Keys.
func (k *keyService) Generate(alg string) (keys.Info, error) {
	switch alg {
	case keys.EdDSA, keys.ES256, keys.RS256, keys.HS256:
	default:
		return keys.Info{}, fieldProblem(http.StatusBadRequest, "alg", fmt.Sprintf("%q is not an algorithm: use EdDSA, ES256, RS256 or HS256", alg))
	}
	info, err := k.store.Generate(alg)
	if err != nil {
		return keys.Info{}, err
	}
	k.changed("generate " + info.ID)
	return info, nil
}

// Move implements admin.Keys.
func (k *keyService) Move(kid, action string) (keys.Info, error) {
	var err error
	switch action {
	case "promote":
		err = k.store.Promote(kid)
	case "retire":
		err = k.store.Retire(kid)
	case "revoke":
		err = k.store.Revoke(kid)
	default:
		return keys.Info{}, problem.New(http.StatusNotFound, "no key action "+action)
	}
	switch {
	case errors.Is(err, keys.ErrNotFound):
		return keys.Info{}, problem.New(http.StatusNotFound, err.Error())
	case errors.Is(err, keys.ErrState):
		return keys.Info{}, problem.New(http.StatusConflict, err.Error())
	case err != nil:
		return keys.Info{}, err
	}
	k.changed(action + " " + kid)
	for _, info := range k.store.Ring().List() {
		if info.ID == kid {
			return info, nil
		}
	}
	return keys.Info{}, problem.New(http.StatusNotFound, "no key "+kid)
}

// Mint implements admin.Keys.
func (k *keyService) Mint(req admin.MintRequest) (admin.MintedToken, error) {
	auth, _ := k.routes.Auth()
	typ, ttl := jwt.Access, auth.AccessTTL.Std()
	switch req.Type {
	case "", "access":
	case "refresh":
		typ, ttl = jwt.Refresh, auth.RefreshTTL.Std()
	default:
		return admin.MintedToken{}, fieldProblem(http.StatusBadRequest, "type", fmt.Sprintf("%q is not a token type: use \"access\" or \"refresh\"", req.Type))
	}
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 || d > config.MaxTokenTTL {
			return admin.MintedToken{}, fieldProblem(http.StatusBadRequest, "ttl", fmt.Sprintf("%q is not a duration from 1s to %v (examples: \"5m\", \"12h\")", req.TTL, config.MaxTokenTTL))
		}
		ttl = d
	}
	if strings.TrimSpace(req.Sub) == "" || len(req.Sub) > 256 {
		return admin.MintedToken{}, fieldProblem(http.StatusBadRequest, "sub", "is required: the subject the token speaks for, up to 256 characters")
	}
	claims := jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: req.Sub}, Roles: req.Roles, Scope: req.Scope, Extra: req.Claims}
	if req.Aud != "" {
		claims.Audience = gojwt.ClaimStrings{req.Aud}
	}
	for name := range req.Claims {
		switch name {
		case "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "roles", "scope", "fam":
			return admin.MintedToken{}, fieldProblem(http.StatusBadRequest, "claims."+name, "is set by the form or the server, not as an extra claim")
		}
	}
	token, signed, kid, err := jwt.Mint(auth.JWT(), k.store.Ring(), typ, claims, ttl)
	if err != nil {
		if strings.Contains(err.Error(), "no current signing key") {
			return admin.MintedToken{}, problem.New(http.StatusConflict, "there is no current signing key: generate a key and promote it first")
		}
		return admin.MintedToken{}, err
	}
	return admin.MintedToken{Token: token, Kid: kid, JTI: signed.ID, Expires: signed.ExpiresAt.UTC()}, nil
}

// Inspect implements admin.Keys: the token's parts as they decode, and
// the verdict of the verifier the routes use.
func (k *keyService) Inspect(token string) admin.TokenInspection {
	token = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(token), "Bearer "))
	out := admin.TokenInspection{}
	_, v := k.routes.Auth()
	if len(token) <= v.Config().MaxTokenBytes {
		parts := strings.Split(token, ".")
		if len(parts) == 3 {
			out.Header, out.Claims = decodePart(parts[0]), decodePart(parts[1])
		}
	}
	want := jwt.Access
	switch typ, _ := out.Header["typ"].(string); typ {
	case string(jwt.Access):
		out.Type = "access"
	case string(jwt.Refresh):
		out.Type, want = "refresh", jwt.Refresh
	}
	_, err := v.Verify(token, want)
	out.Valid = err == nil
	var rej *jwt.Rejection
	if errors.As(err, &rej) {
		out.Reason = rej.Reason
	} else if err != nil {
		out.Reason = err.Error()
	}
	return out
}

func decodePart(s string) map[string]any {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// RevokeToken implements admin.Keys.
func (k *keyService) RevokeToken(token string) (admin.RevokedToken, error) {
	insp := k.Inspect(token)
	if !insp.Valid {
		return admin.RevokedToken{}, problem.New(http.StatusConflict, "the token is refused already: "+insp.Reason)
	}
	auth, _ := k.routes.Auth()
	jti, _ := insp.Claims["jti"].(string)
	exp, _ := insp.Claims["exp"].(float64)
	until := time.Unix(int64(exp), 0).Add(auth.Leeway.Std()).UTC()
	if err := k.deny.Revoke(jti, until); err != nil {
		return admin.RevokedToken{}, problem.New(http.StatusServiceUnavailable, err.Error())
	}
	if err := k.saveRevoked(); err != nil {
		return admin.RevokedToken{}, fmt.Errorf("the token is refused until the server stops, but saving the revocation failed: %w", err)
	}
	k.log.Info("token revoked", "jti", jti, "until", until)
	return admin.RevokedToken{JTI: jti, Until: until}, nil
}

// openDenylist returns the denylist with the revocations saved in file
// that have not ended.
func openDenylist(file string) (*tokens.Denylist, error) {
	d, err := tokens.NewDenylist(tokens.DenylistConfig{})
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return d, nil
	}
	var saved map[string]time.Time
	if err == nil {
		err = json.Unmarshal(b, &saved)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the revoked tokens in %s: %w", file, err)
	}
	for jti, until := range saved {
		if err := d.Revoke(jti, until); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	return d, nil
}

func (k *keyService) saveRevoked() error {
	b, err := json.Marshal(k.deny.Entries())
	if err != nil {
		return err
	}
	return writeFileAtomic(k.revoked, b, 0o600)
}

// shortDuration writes d without zero trailing units: "720h", "15m", "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func fieldProblem(status int, path, msg string) *problem.Details {
	p := problem.New(status, path+": "+msg)
	p.Errors = []problem.FieldError{{Path: path, Message: msg}}
	return p
}

// relPath is path relative to the project, for display.
func relPath(project, path string) string {
	if rel, err := filepath.Rel(project, path); err == nil {
		return rel
	}
	return path
}
