package jwt_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/covetpy/covet/backend/security/jwt"
	"github.com/covetpy/covet/backend/security/jwt/jwttest"
	"github.com/covetpy/covet/backend/security/keys"
)

func TestIssueAndVerify(t *testing.T) {
	f := jwttest.New(t)
	v := jwt.NewVerifier(f.Config, f.Ring)
	tok, err := jwt.Issue(f.Config, f.Ring, jwt.Access, jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "u1"}, Roles: []string{"admin"}}, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(tok, jwt.Access)
	if err != nil || c.Subject != "u1" || len(c.Roles) != 1 || c.ID == "" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	if _, err := v.Verify(tok, jwt.Refresh); err == nil || !strings.Contains(err.Error(), `typ is "at+jwt", want "refresh+jwt"`) {
		t.Errorf("an access token accepted as refresh: %v", err)
	}
	later := jwt.NewVerifier(jwt.Config{Issuer: f.Config.Issuer, Audience: "api", Now: func() time.Time { return f.Now.Add(6 * time.Minute) }}, f.Ring)
	var r *jwt.Rejection
	if _, err := later.Verify(tok, jwt.Access); !errors.As(err, &r) || r.Reason != "expired at 2026-11-25T10:05:00Z" {
		t.Errorf("after expiry: %v", err)
	}
	within := jwt.NewVerifier(jwt.Config{Issuer: f.Config.Issuer, Audience: "api", Now: func() time.Time { return f.Now.Add(5*time.Minute + 20*time.Second) }}, f.Ring)
	if _, err := within.Verify(tok, jwt.Access); err != nil {
		t.Errorf("within the leeway: %v", err)
	}
}

// TestHostileTokens is the battery: every token must be rejected with a
// reason, none may panic.
func TestHostileTokens(t *testing.T) {
	f := jwttest.New(t)
	v := jwt.NewVerifier(f.Config, f.Ring)
	if _, err := v.Verify(f.Valid(), jwt.Access); err != nil {
		t.Fatalf("the battery's base token is rejected: %v", err)
	}
	tokens := f.Hostile()
	cfg := f.Config
	cfg.CacheSize = 16
	cached := jwt.NewVerifier(cfg, f.Ring)
	if _, err := cached.Verify(f.Valid(), jwt.Access); err != nil { // remembered from here on
		t.Fatal(err)
	}
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
			for _, v := range []*jwt.Verifier{v, cached} {
				c, err := v.Verify(tok, jwt.Access)
				var r *jwt.Rejection
				if err == nil || !errors.As(err, &r) || r.Reason == "" {
					t.Errorf("token %d (%q) = %+v, %v; want a rejection with a reason", i, tok[:min(len(tok), 80)], c, err)
				}
			}
		}()
	}
	t.Logf("%d hostile tokens rejected", len(tokens))
}

// TestRejectionMemoryIsBounded: rejecting an oversized token costs the
// same few hundred bytes whatever its size: nothing is decoded.
func TestRejectionMemoryIsBounded(t *testing.T) {
	f := jwttest.New(t)
	v := jwt.NewVerifier(f.Config, f.Ring)
	for _, size := range []int{10_000, 100_000, 1_000_000} {
		tok := strings.Repeat(".", size)
		r := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = v.Verify(tok, jwt.Access)
			}
		})
		if bytes := r.AllocedBytesPerOp(); bytes > 512 {
			t.Errorf("rejecting %d bytes of dots allocates %d bytes, want at most 512", size, bytes)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []jwt.Config{{}, {Issuer: "i"}, {Issuer: "i", Audience: "a", Leeway: time.Hour}, {Issuer: "i", Audience: "a", MaxTokenBytes: -1}} {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
}

func FuzzVerify(f *testing.F) {
	fx := jwttest.New(f)
	v := jwt.NewVerifier(fx.Config, fx.Ring)
	valid := jwttest.Raw(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": "ed1"}, fx.Claims(nil), fx.EdSign)
	for _, s := range []string{valid, "a.b.c", "..", "eyJhbGciOiJub25lIn0.e30.", valid[:len(valid)-3]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(tok, jwt.Access)
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
	f := jwttest.New(t)
	deny := denySet{}
	f.Config.Denylist = deny
	tok, signed, kid, err := jwt.Mint(f.Config, f.Ring, jwt.Access, jwt.Claims{}, time.Minute)
	if err != nil || kid != "ed1" || signed.ID == "" {
		t.Fatalf("jwt.Mint: kid %q jti %q, %v", kid, signed.ID, err)
	}
	other, _ := jwt.Issue(f.Config, f.Ring, jwt.Access, jwt.Claims{}, time.Minute)
	v := jwt.NewVerifier(f.Config, f.Ring)
	deny[signed.ID] = true
	var r *jwt.Rejection
	if _, err := v.Verify(tok, jwt.Access); !errors.As(err, &r) || !strings.HasPrefix(r.Reason, "revoked") {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := v.Verify(other, jwt.Access); err != nil {
		t.Fatalf("another token of the same key: %v", err)
	}
}

func TestExtraClaimsAreSignedButNeverOverride(t *testing.T) {
	f := jwttest.New(t)
	tok, err := jwt.Issue(f.Config, f.Ring, jwt.Access, jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "u1"},
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
	if _, err := jwt.NewVerifier(f.Config, f.Ring).Verify(tok, jwt.Access); err != nil {
		t.Fatal(err)
	}
}

// TestCachedTokensAreCheckedAgain: a remembered token skips the signature
// check, but what can change since (its key, the denylist, the clock, the
// type asked for) is checked on every use.
func TestCachedTokensAreCheckedAgain(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	ring := keys.NewRing(keys.Config{})
	k, _ := ring.Generate(keys.EdDSA)
	_ = ring.Promote(k.ID)
	deny := denySet{}
	cfg := jwt.Config{Issuer: "covet", Audience: "api", Denylist: deny, CacheSize: 100, Now: func() time.Time { return now }}
	v := jwt.NewVerifier(cfg, ring)
	tok, signed, _, _ := jwt.Mint(cfg, ring, jwt.Access, jwt.Claims{Roles: []string{"admin"}}, time.Minute)
	other, _ := jwt.Issue(cfg, ring, jwt.Access, jwt.Claims{}, time.Minute)
	first, err := v.Verify(tok, jwt.Access)
	if err != nil {
		t.Fatal(err)
	}
	again, err := v.Verify(tok, jwt.Access)
	if err != nil || again == first || again.ID != signed.ID || again.Roles[0] != "admin" {
		t.Fatalf("from the cache: %+v, %v (want a copy of the claims)", again, err)
	}
	reason := func(tok string, want jwt.Type) string {
		_, err := v.Verify(tok, want)
		var r *jwt.Rejection
		if !errors.As(err, &r) {
			return fmt.Sprint(err)
		}
		return r.Reason
	}
	if got := reason(tok, jwt.Refresh); !strings.HasPrefix(got, "typ is") {
		t.Errorf("cached access token as refresh: %q", got)
	}
	deny[signed.ID] = true
	if got := reason(tok, jwt.Access); !strings.HasPrefix(got, "revoked") {
		t.Errorf("cached token after its jti was revoked: %q", got)
	}
	delete(deny, signed.ID)
	now = now.Add(time.Minute + 31*time.Second) // past exp and the 30 s leeway
	if got := reason(tok, jwt.Access); !strings.HasPrefix(got, "expired at") {
		t.Errorf("cached token after expiry: %q", got)
	}
	now = now.Add(-time.Minute)
	if _, err := v.Verify(other, jwt.Access); err != nil {
		t.Fatal(err)
	}
	_ = ring.Revoke(k.ID)
	if got := reason(other, jwt.Access); !strings.HasPrefix(got, "unknown kid") {
		t.Errorf("cached token after its key was revoked: %q", got)
	}
}
