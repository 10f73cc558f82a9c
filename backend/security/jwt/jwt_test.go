package jwt

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
	"errors"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// ring is a KeySource over fixed keys: verify holds the public parts.
type ring struct {
	verify  map[string]Key
	signing Key
}

func (r *ring) VerificationKey(kid string) (Key, bool) { k, ok := r.verify[kid]; return k, ok }
func (r *ring) SigningKey() (Key, bool)                { return r.signing, r.signing.ID != "" }

type fixture struct {
	ring   *ring
	cfg    Config
	now    time.Time
	edPriv ed25519.PrivateKey
	rsaPub []byte // PEM of the RSA public key
	ecPub  []byte // PEM of the EC public key
}

func newFixture(t testing.TB) *fixture {
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
	r := &ring{verify: map[string]Key{
		"ed1":  {ID: "ed1", Alg: EdDSA, Material: edPub},
		"rsa1": {ID: "rsa1", Alg: RS256, Material: &rsaKey.PublicKey},
		"ec1":  {ID: "ec1", Alg: ES256, Material: &ecKey.PublicKey},
		"hs1":  {ID: "hs1", Alg: HS256, Material: []byte("0123456789abcdef0123456789abcdef")},
	}, signing: Key{ID: "ed1", Alg: EdDSA, Material: edPriv}}
	return &fixture{ring: r, cfg: Config{Issuer: "https://covet.test", Audience: "api", Now: func() time.Time { return now }},
		now: now, edPriv: edPriv, rsaPub: pemOf(&rsaKey.PublicKey), ecPub: pemOf(&ecKey.PublicKey)}
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// raw builds a token from header and claims maps, signed by sign (or with
// an empty signature when sign is nil).
func raw(header, claims map[string]any, sign func(input string) string) string {
	input := b64(header) + "." + b64(claims)
	sig := ""
	if sign != nil {
		sig = sign(input)
	}
	return input + "." + sig
}

func (f *fixture) claims(mut func(map[string]any)) map[string]any {
	c := map[string]any{"iss": f.cfg.Issuer, "aud": []string{"api"}, "sub": "u1", "iat": f.now.Unix(), "nbf": f.now.Unix(), "exp": f.now.Add(5 * time.Minute).Unix()}
	if mut != nil {
		mut(c)
	}
	return c
}

func (f *fixture) edSign(input string) string {
	return base64.RawURLEncoding.EncodeToString(ed25519.Sign(f.edPriv, []byte(input)))
}

func hsSign(secret []byte) func(string) string {
	return func(input string) string {
		s, _ := gojwt.SigningMethodHS256.Sign(input, secret)
		return base64.RawURLEncoding.EncodeToString(s)
	}
}

func TestIssueAndVerify(t *testing.T) {
	f := newFixture(t)
	v := NewVerifier(f.cfg, f.ring)
	tok, err := Issue(f.cfg, f.ring, Access, Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "u1"}, Roles: []string{"admin"}}, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(tok, Access)
	if err != nil || c.Subject != "u1" || len(c.Roles) != 1 || c.ID == "" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	if _, err := v.Verify(tok, Refresh); err == nil || !strings.Contains(err.Error(), `typ is "at+jwt", want "refresh+jwt"`) {
		t.Errorf("an access token accepted as refresh: %v", err)
	}
	later := NewVerifier(Config{Issuer: f.cfg.Issuer, Audience: "api", Now: func() time.Time { return f.now.Add(6 * time.Minute) }}, f.ring)
	var r *Rejection
	if _, err := later.Verify(tok, Access); !errors.As(err, &r) || r.Reason != "expired at 2026-11-25T10:05:00Z" {
		t.Errorf("after expiry: %v", err)
	}
	within := NewVerifier(Config{Issuer: f.cfg.Issuer, Audience: "api", Now: func() time.Time { return f.now.Add(5*time.Minute + 20*time.Second) }}, f.ring)
	if _, err := within.Verify(tok, Access); err != nil {
		t.Errorf("within the leeway: %v", err)
	}
}

// TestHostileTokens is the battery: every token must be rejected with a
// reason, none may panic.
func TestHostileTokens(t *testing.T) {
	f := newFixture(t)
	v := NewVerifier(f.cfg, f.ring)
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
	valid := raw(good(nil), f.claims(nil), f.edSign)
	if _, err := v.Verify(valid, Access); err != nil {
		t.Fatalf("the battery's base token is rejected: %v", err)
	}
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
			add(raw(h, f.claims(nil), nil), raw(h, f.claims(nil), f.edSign))
		}
	}
	// HS256 signed with a public key or with the key's own id as secret.
	for _, kid := range []string{"rsa1", "ec1", "ed1"} {
		for _, secret := range [][]byte{f.rsaPub, f.ecPub, []byte(kid), nil} {
			add(raw(good(map[string]any{"alg": "HS256", "kid": kid}), f.claims(nil), hsSign(secret)))
		}
	}
	// Algorithms other than the key's, and unknown ones.
	for _, alg := range []string{"RS256", "ES256", "HS256", "HS512", "PS256", "RS512", "EdDSA ", "eddsa", "", "HS1"} {
		add(raw(good(map[string]any{"alg": alg}), f.claims(nil), f.edSign))
	}
	// kid: traversal, SQL, URLs, wrong types, unknown.
	for _, kid := range []any{"../../etc/passwd", "' OR 1=1 --", "ed1' --", "https://evil/keys", "/dev/null", "ed1\x00", "", strings.Repeat("a", 65), 7, true, []string{"ed1"}, "nope", "ED1"} {
		add(raw(good(map[string]any{"kid": kid}), f.claims(nil), f.edSign))
	}
	// Headers that point at keys elsewhere.
	for _, h := range []string{"jku", "x5u", "x5c", "jwk"} {
		for _, val := range []any{"https://evil.example/jwks.json", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, []string{"MIIB"}} {
			add(raw(good(map[string]any{h: val}), f.claims(nil), f.edSign))
		}
	}
	// Claims: exp missing or past, nbf and iat in the future, iss, aud, typ.
	for _, mut := range []func(map[string]any){
		func(c map[string]any) { delete(c, "exp") },
		func(c map[string]any) { c["exp"] = f.now.Add(-time.Minute).Unix() },
		func(c map[string]any) { c["exp"] = f.now.Add(-31 * time.Second).Unix() },
		func(c map[string]any) { c["exp"] = "tomorrow" },
		func(c map[string]any) { c["nbf"] = f.now.Add(time.Hour).Unix() },
		func(c map[string]any) { c["iat"] = f.now.Add(time.Hour).Unix() },
		func(c map[string]any) { c["iss"] = "https://evil" },
		func(c map[string]any) { delete(c, "iss") },
		func(c map[string]any) { c["aud"] = []string{"other"} },
		func(c map[string]any) { delete(c, "aud") },
		func(c map[string]any) { c["aud"] = 42 },
	} {
		add(raw(good(nil), f.claims(mut), f.edSign))
	}
	for _, typ := range []any{"refresh+jwt", "JWT", "", nil, 1, "AT+JWT"} {
		add(raw(good(map[string]any{"typ": typ}), f.claims(nil), f.edSign))
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
	if len(tokens) < 1000 {
		t.Fatalf("the battery has %d tokens, want at least 1000", len(tokens))
	}
	for i, tok := range tokens {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("token %d panicked: %v", i, p)
				}
			}()
			c, err := v.Verify(tok, Access)
			var r *Rejection
			if err == nil || !errors.As(err, &r) || r.Reason == "" {
				t.Errorf("token %d (%q) = %+v, %v; want a rejection with a reason", i, truncate(tok), c, err)
			}
		}()
	}
	t.Logf("%d hostile tokens rejected", len(tokens))
}

// TestRejectionMemoryIsBounded: rejecting an oversized token costs the
// same few hundred bytes whatever its size: nothing is decoded.
func TestRejectionMemoryIsBounded(t *testing.T) {
	f := newFixture(t)
	v := NewVerifier(f.cfg, f.ring)
	for _, size := range []int{10_000, 100_000, 1_000_000} {
		tok := strings.Repeat(".", size)
		r := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = v.Verify(tok, Access)
			}
		})
		if bytes := r.AllocedBytesPerOp(); bytes > 512 {
			t.Errorf("rejecting %d bytes of dots allocates %d bytes, want at most 512", size, bytes)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{}, {Issuer: "i"}, {Issuer: "i", Audience: "a", Leeway: time.Hour}, {Issuer: "i", Audience: "a", MaxTokenBytes: -1}} {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
}

func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	v := NewVerifier(fx.cfg, fx.ring)
	valid := raw(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "ed1"}, fx.claims(nil), fx.edSign)
	for _, s := range []string{valid, "a.b.c", "..", "eyJhbGciOiJub25lIn0.e30.", valid[:len(valid)-3]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(tok, Access)
		if err == nil && tok != valid {
			// Accepting another string is only fine if it is the same
			// token (base64 variants are refused by strict decoding).
			t.Fatalf("accepted %q: %+v", tok, c)
		}
	})
}

type denySet map[string]bool

func (d denySet) Revoked(jti string) bool { return d[jti] }

func TestDenylistRevokesOneToken(t *testing.T) {
	f := newFixture(t)
	deny := denySet{}
	f.cfg.Denylist = deny
	tok, signed, kid, err := Mint(f.cfg, f.ring, Access, Claims{}, time.Minute)
	if err != nil || kid != "ed1" || signed.ID == "" {
		t.Fatalf("Mint: kid %q jti %q, %v", kid, signed.ID, err)
	}
	other, _ := Issue(f.cfg, f.ring, Access, Claims{}, time.Minute)
	v := NewVerifier(f.cfg, f.ring)
	deny[signed.ID] = true
	var r *Rejection
	if _, err := v.Verify(tok, Access); !errors.As(err, &r) || !strings.HasPrefix(r.Reason, "revoked") {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := v.Verify(other, Access); err != nil {
		t.Fatalf("another token of the same key: %v", err)
	}
}

func TestExtraClaimsAreSignedButNeverOverride(t *testing.T) {
	f := newFixture(t)
	tok, err := Issue(f.cfg, f.ring, Access, Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "u1"},
		Extra: map[string]any{"tenant": "acme", "sub": "admin", "exp": 0}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	if m["tenant"] != "acme" || m["sub"] != "u1" || m["exp"] == float64(0) {
		t.Fatalf("payload %s", payload)
	}
	if _, err := NewVerifier(f.cfg, f.ring).Verify(tok, Access); err != nil {
		t.Fatal(err)
	}
}
