package keys

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/covetpy/covet/backend/security/jwt"
)

var cfg = jwt.Config{Issuer: "https://covet.test", Audience: "api"}

func issue(t *testing.T, r *Ring) string {
	t.Helper()
	tok, err := jwt.Issue(cfg, r, jwt.Access, jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "u1"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func jwksKids(t *testing.T, r *Ring) string {
	t.Helper()
	var set struct{ Keys []JWK }
	if err := json.Unmarshal(r.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return strings.Join(kids, ",")
}

func TestEveryAlgorithmSignsAndVerifies(t *testing.T) {
	for _, alg := range []string{EdDSA, ES256, RS256, HS256} {
		t.Run(alg, func(t *testing.T) {
			r := NewRing(Config{})
			k, err := r.Generate(alg)
			if err != nil || k.State != Standby || k.Alg != alg {
				t.Fatalf("Generate = %+v, %v", k, err)
			}
			if err := r.Promote(k.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := jwt.NewVerifier(cfg, r).Verify(issue(t, r), jwt.Access); err != nil {
				t.Errorf("a %s token does not verify: %v", alg, err)
			}
			if kids := jwksKids(t, r); (alg == HS256) != (kids == "") {
				t.Errorf("JWKS kids %q for %s: HS256 must never be published, the others must", kids, alg)
			}
		})
	}
	if _, err := NewRing(Config{}).Generate("none"); err == nil {
		t.Error("a key with algorithm none was made")
	}
}

// TestRotation: tokens of the old key pass while it is previous and fail
// once it is revoked; the JWKS follows at once.
func TestRotation(t *testing.T) {
	r := NewRing(Config{})
	v := jwt.NewVerifier(cfg, r)
	a, _ := r.Generate(EdDSA)
	if jwksKids(t, r) != a.ID {
		t.Error("a standby key is not published ahead of signing")
	}
	if _, err := jwt.Issue(cfg, r, jwt.Access, jwt.Claims{}, time.Minute); err == nil {
		t.Error("a token was signed with no current key")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Promote(a.ID))
	oldTok := issue(t, r)
	b, _ := r.Generate(ES256)
	must(r.Promote(b.ID))
	newTok := issue(t, r)
	if l := r.List(); l[0].ID != b.ID || l[0].State != Current {
		t.Errorf("list = %+v, want the newest, current key first", l)
	}
	for _, tok := range []string{oldTok, newTok} {
		if _, err := v.Verify(tok, jwt.Access); err != nil {
			t.Errorf("while the old key is previous: %v", err)
		}
	}
	states := map[string]State{}
	for _, k := range r.List() {
		states[k.ID] = k.State
	}
	if states[a.ID] != Previous || states[b.ID] != Current {
		t.Errorf("states = %v", states)
	}
	must(r.Revoke(a.ID))
	if _, err := v.Verify(oldTok, jwt.Access); err == nil || !strings.Contains(err.Error(), "unknown kid") {
		t.Errorf("a token of a revoked key: %v", err)
	}
	if _, err := v.Verify(newTok, jwt.Access); err != nil {
		t.Errorf("the current key's token after revoking the old: %v", err)
	}
	if got := jwksKids(t, r); got != b.ID {
		t.Errorf("JWKS after revoking = %q, want only %s", got, b.ID)
	}
}

func TestTransitions(t *testing.T) {
	r := NewRing(Config{})
	k, _ := r.Generate(EdDSA)
	cases := []struct {
		name string
		op   func(string) error
		kid  string
		ok   bool
	}{
		{"retire a standby", r.Retire, k.ID, true},
		{"promote a previous", r.Promote, k.ID, true},
		{"promote the current", r.Promote, k.ID, false},
		{"revoke", r.Revoke, k.ID, true},
		{"revoke twice", r.Revoke, k.ID, false},
		{"promote a revoked", r.Promote, k.ID, false},
		{"retire a revoked", r.Retire, k.ID, false},
		{"unknown", r.Promote, "nope", false},
	}
	for _, c := range cases {
		if err := c.op(c.kid); (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
	if _, ok := r.SigningKey(); ok {
		t.Error("a revoked key still signs")
	}
}
