// Package jwttest has keys and a battery of hostile tokens for testing
// verifiers and the middleware that uses them.
package jwttest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/covetpy/covet/backend/security/jwt"
)

// Ring is a KeySource over fixed keys: Verify holds the public parts.
type Ring struct {
	Verify  map[string]jwt.Key
	Signing jwt.Key
}

// VerificationKey implements jwt.KeySource.
func (r *Ring) VerificationKey(kid string) (jwt.Key, bool) { k, ok := r.Verify[kid]; return k, ok }

// SigningKey implements jwt.KeySource.
func (r *Ring) SigningKey() (jwt.Key, bool) { return r.Signing, r.Signing.ID != "" }

// Fixture has keys of every algorithm under fixed kids (ed1 signs; rsa1,
// ec1 and hs1 verify), a Config and a fixed clock.
type Fixture struct {
	Ring   *Ring
	Config jwt.Config
	Now    time.Time
	edPriv ed25519.PrivateKey
	rsaPub []byte // PEM of the RSA public key
	ecPub  []byte // PEM of the EC public key
}

// New returns a Fixture with fresh keys.
func New(t testing.TB) *Fixture {
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pemOf := func(pub any) []byte {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	r := &Ring{Verify: map[string]jwt.Key{
		"ed1":  {ID: "ed1", Alg: jwt.EdDSA, Material: edPub},
		"rsa1": {ID: "rsa1", Alg: jwt.RS256, Material: &rsaKey.PublicKey},
		"ec1":  {ID: "ec1", Alg: jwt.ES256, Material: &ecKey.PublicKey},
		"hs1":  {ID: "hs1", Alg: jwt.HS256, Material: []byte("0123456789abcdef0123456789abcdef")},
	}, Signing: jwt.Key{ID: "ed1", Alg: jwt.EdDSA, Material: edPriv}}
	return &Fixture{Ring: r, Config: jwt.Config{Issuer: "https://covet.test", Audience: "api", Now: func() time.Time { return now }},
		Now: now, edPriv: edPriv, rsaPub: pemOf(&rsaKey.PublicKey), ecPub: pemOf(&ecKey.PublicKey)}
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Raw builds a token from header and claims maps, signed by sign (or with
// an empty signature when sign is nil).
func Raw(header, claims map[string]any, sign func(input string) string) string {
	input := b64(header) + "." + b64(claims)
	sig := ""
	if sign != nil {
		sig = sign(input)
	}
	return input + "." + sig
}

// Claims are valid claims for the fixture's config and clock, changed by
// mut if it is not nil.
func (f *Fixture) Claims(mut func(map[string]any)) map[string]any {
	c := map[string]any{"iss": f.Config.Issuer, "aud": []string{"api"}, "sub": "u1", "iat": f.Now.Unix(), "nbf": f.Now.Unix(), "exp": f.Now.Add(5 * time.Minute).Unix()}
	if mut != nil {
		mut(c)
	}
	return c
}

// EdSign signs input with ed1.
func (f *Fixture) EdSign(input string) string {
	return base64.RawURLEncoding.EncodeToString(ed25519.Sign(f.edPriv, []byte(input)))
}

// HSSign signs with an HS256 secret.
func HSSign(secret []byte) func(string) string {
	return func(input string) string {
		s, _ := gojwt.SigningMethodHS256.Sign(input, secret)
		return base64.RawURLEncoding.EncodeToString(s)
	}
}

// Valid is a token the fixture's verifier accepts as an access token:
// every Hostile token is a variation of it.
func (f *Fixture) Valid() string {
	return Raw(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "ed1"}, f.Claims(nil), f.EdSign)
}

// Hostile returns more than 1,000 tokens that a verifier with the
// fixture's Ring and Config must reject as access tokens: alg none in
// every casing, HS256 signed with public keys, algorithms other than the
// key's, kid traversal and SQL, jku/x5u/x5c/jwk headers, bad exp, nbf,
// iat, iss, aud and typ, every header, payload and signature character
// changed, every truncation, and 100 KB of dots.
func (f *Fixture) Hostile() []string {
	good := func(h map[string]any) map[string]any {
		out := map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "ed1"}
		for k, val := range h {
			if val == nil {
				delete(out, k)
			} else {
				out[k] = val
			}
		}
		return out
	}
	var tokens []string
	add := func(ts ...string) { tokens = append(tokens, ts...) }
	valid := f.Valid()
	// alg none, in every casing, with and without a signature and a kid.
	for mask := range 16 {
		none := []byte("none")
		for i := range 4 {
			if mask&(1<<i) != 0 {
				none[i] -= 'a' - 'A'
			}
		}
		for _, kid := range []any{"ed1", "hs1", nil} {
			h := good(map[string]any{"alg": string(none), "kid": kid})
			add(Raw(h, f.Claims(nil), nil), Raw(h, f.Claims(nil), f.EdSign))
		}
	}
	// HS256 signed with a public key or with the key's own id as secret.
	for _, kid := range []string{"rsa1", "ec1", "ed1"} {
		for _, secret := range [][]byte{f.rsaPub, f.ecPub, []byte(kid), nil} {
			add(Raw(good(map[string]any{"alg": "HS256", "kid": kid}), f.Claims(nil), HSSign(secret)))
		}
	}
	// Algorithms other than the key's, and unknown ones.
	for _, alg := range []string{"RS256", "ES256", "HS256", "HS512", "PS256", "RS512", "EdDSA ", "eddsa", "", "HS1"} {
		add(Raw(good(map[string]any{"alg": alg}), f.Claims(nil), f.EdSign))
	}
	// kid: traversal, SQL, URLs, wrong types, unknown.
	for _, kid := range []any{"../../etc/passwd", "' OR 1=1 --", "ed1' --", "https://evil/keys", "/dev/null", "ed1\x00", "", strings.Repeat("a", 65), 7, true, []string{"ed1"}, "nope", "ED1"} {
		add(Raw(good(map[string]any{"kid": kid}), f.Claims(nil), f.EdSign))
	}
	// Headers that point at keys elsewhere.
	for _, h := range []string{"jku", "x5u", "x5c", "jwk"} {
		for _, val := range []any{"https://evil.example/jwks.json", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, []string{"MIIB"}} {
			add(Raw(good(map[string]any{h: val}), f.Claims(nil), f.EdSign))
		}
	}
	// Claims: exp missing or past, nbf and iat in the future, iss, aud, typ.
	for _, mut := range []func(map[string]any){
		func(c map[string]any) { delete(c, "exp") },
		func(c map[string]any) { c["exp"] = f.Now.Add(-time.Minute).Unix() },
		func(c map[string]any) { c["exp"] = f.Now.Add(-31 * time.Second).Unix() },
		func(c map[string]any) { c["exp"] = "tomorrow" },
		func(c map[string]any) { c["nbf"] = f.Now.Add(time.Hour).Unix() },
		func(c map[string]any) { c["iat"] = f.Now.Add(time.Hour).Unix() },
		func(c map[string]any) { c["iss"] = "https://evil" },
		func(c map[string]any) { delete(c, "iss") },
		func(c map[string]any) { c["aud"] = []string{"other"} },
		func(c map[string]any) { delete(c, "aud") },
		func(c map[string]any) { c["aud"] = 42 },
	} {
		add(Raw(good(nil), f.Claims(mut), f.EdSign))
	}
	for _, typ := range []any{"refresh+jwt", "JWT", "", nil, 1, "AT+JWT"} {
		add(Raw(good(map[string]any{"typ": typ}), f.Claims(nil), f.EdSign))
	}
	// Every header byte changed, keeping payload and signature.
	h0 := []byte(strings.Split(valid, ".")[0])
	for i := range h0 {
		for _, c := range []byte{'A', 'z', '_'} {
			if h0[i] == c {
				continue
			}
			b := append([]byte(nil), h0...)
			b[i] = c
			add(string(b) + valid[len(h0):])
		}
	}
	// Tampering: each character of payload and signature changed, parts
	// swapped, truncated at every length, extra parts, padding, junk.
	parts := strings.Split(valid, ".")
	for _, part := range []int{1, 2} { // every payload and signature character changed three ways
		for i := range len(parts[part]) {
			for _, c := range []byte{'A', 'z', '_'} {
				if parts[part][i] == c {
					continue
				}
				changed := append([]string(nil), parts...)
				b := []byte(changed[part])
				b[i] = c
				changed[part] = string(b)
				add(strings.Join(changed, "."))
			}
		}
	}
	for n := range len(valid) {
		add(valid[:n])
	}
	add(valid+".", valid+"=", parts[0]+"."+parts[1], parts[1]+"."+parts[0]+"."+parts[2], "..", "...", "", " ", valid+" ",
		strings.Repeat(".", 100_000), strings.Repeat("a", 100_000)+"."+parts[1]+"."+parts[2], "Bearer "+valid)
	return tokens
}
