package tokens

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/covetpy/covet/backend/security/jwt"
	"github.com/covetpy/covet/backend/security/keys"
)

type fixture struct {
	clock    *clock
	ring     *keys.Ring
	jwt      jwt.Config
	deny     *Denylist
	sessions *Sessions
	access   *jwt.Verifier // of access tokens, with the Denylist
}

// newFixture returns Sessions over a real key ring and a fake clock; mut,
// if set, changes the config first.
func newFixture(t testing.TB, mut func(*SessionsConfig)) *fixture {
	t.Helper()
	f := &fixture{clock: newClock()}
	f.ring = keys.NewRing(keys.Config{Now: f.clock.Now})
	k, err := f.ring.Generate(keys.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.ring.Promote(k.ID); err != nil {
		t.Fatal(err)
	}
	f.deny = newDenylist(t, 0, f.clock.Now)
	f.jwt = jwt.Config{Issuer: "https://covet.test", Audience: "api", Now: f.clock.Now, Denylist: f.deny}
	cfg := SessionsConfig{JWT: f.jwt, Keys: f.ring, Denylist: f.deny, Now: f.clock.Now}
	if mut != nil {
		mut(&cfg)
	}
	if f.sessions, err = NewSessions(cfg); err != nil {
		t.Fatal(err)
	}
	f.access = jwt.NewVerifier(f.jwt, f.ring)
	return f
}

var alice = jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: "alice"}, Roles: []string{"editor"}, Scope: "read write"}

func (f *fixture) start(t *testing.T) Pair {
	t.Helper()
	p, err := f.sessions.Start(alice)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) refresh(t *testing.T, token string) Pair {
	t.Helper()
	p, err := f.sessions.Refresh(token)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// reason returns the Rejection's reason in err, or fails.
func reason(t *testing.T, err error) string {
	t.Helper()
	var r *jwt.Rejection
	if !errors.As(err, &r) {
		t.Fatalf("error %v is not a *jwt.Rejection", err)
	}
	return r.Reason
}

func (f *fixture) wantRevoked(t *testing.T, name, access string) {
	t.Helper()
	_, err := f.access.Verify(access, jwt.Access)
	if err == nil {
		t.Fatalf("%s: access token accepted, want revoked", name)
	}
	if got := reason(t, err); !strings.HasPrefix(got, "revoked") {
		t.Errorf("%s: rejected as %q, want revoked", name, got)
	}
}

func TestRotation(t *testing.T) {
	f := newFixture(t, nil)
	p := f.start(t)
	if len(p.Family) != 32 || !p.AccessExpires.Equal(f.clock.Now().Add(DefaultAccessTTL)) || !p.RefreshExpires.Equal(f.clock.Now().Add(DefaultRefreshTTL)) {
		t.Fatalf("Start = family %q, access until %v, refresh until %v", p.Family, p.AccessExpires, p.RefreshExpires)
	}
	seen := map[string]bool{p.Refresh: true}
	for i := range 5 {
		f.clock.Advance(10 * time.Minute)
		next := f.refresh(t, p.Refresh)
		c, err := f.access.Verify(next.Access, jwt.Access)
		if err != nil {
			t.Fatalf("refresh %d: the new access token: %v", i, err)
		}
		if c.Subject != "alice" || fmt.Sprint(c.Roles) != "[editor]" || c.Scope != "read write" || c.Family != p.Family || next.Family != p.Family {
			t.Errorf("refresh %d: claims %+v, want alice's in family %s", i, c, p.Family)
		}
		if seen[next.Refresh] || !next.RefreshExpires.Equal(f.clock.Now().Add(DefaultRefreshTTL)) {
			t.Errorf("refresh %d: refresh token repeated, or expiry %v not renewed", i, next.RefreshExpires)
		}
		seen[next.Refresh] = true
		p = next
	}
	if n := f.sessions.Families(); n != 1 {
		t.Errorf("Families = %d, want 1", n)
	}
}

// TestReuseRevokesTheFamily: an exchanged refresh token presented again
// ends its family and revokes its live access tokens, and no other.
func TestReuseRevokesTheFamily(t *testing.T) {
	f := newFixture(t, nil)
	other := f.start(t)
	p1 := f.start(t)
	f.clock.Advance(5 * time.Minute)
	p2 := f.refresh(t, p1.Refresh)
	f.clock.Advance(5 * time.Minute)
	p3 := f.refresh(t, p2.Refresh)

	_, err := f.sessions.Refresh(p1.Refresh)
	if !errors.Is(err, ErrReuse) || !strings.HasPrefix(reason(t, err), "reused: ") {
		t.Fatalf("reusing the first refresh token: %v, want ErrReuse", err)
	}
	f.wantRevoked(t, "the latest access token", p3.Access)
	f.wantRevoked(t, "an earlier live access token", p2.Access)
	f.wantRevoked(t, "the first access token", p1.Access)
	if _, err := f.sessions.Refresh(p3.Refresh); !errors.Is(err, ErrNoSession) {
		t.Errorf("the latest refresh token after reuse: %v, want ErrNoSession", err)
	}
	if _, err := f.access.Verify(other.Access, jwt.Access); err != nil {
		t.Errorf("another session's access token: %v", err)
	}
	if _, err := f.sessions.Refresh(other.Refresh); err != nil {
		t.Errorf("another session's refresh: %v", err)
	}
	if n := f.sessions.Families(); n != 1 {
		t.Errorf("Families = %d, want 1", n)
	}
}

func TestRefreshRefuses(t *testing.T) {
	f := newFixture(t, nil)
	p := f.start(t)
	noFamily, err := jwt.Issue(f.jwt, f.ring, jwt.Refresh, alice, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, token, reason string
		is                  error
	}{
		{"an access token", p.Access, `typ is "at+jwt", want "refresh+jwt"`, nil},
		{"garbage", "a.b.c", "malformed", nil},
		{"empty", "", "the token is not three base64url parts separated by dots", nil},
		{"a refresh token of no session", noFamily, `no session: "" is unknown or has ended`, ErrNoSession},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.sessions.Refresh(tc.token)
			if got := reason(t, err); !strings.HasPrefix(got, tc.reason) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("Refresh = %v, want reason %q", err, tc.reason)
			}
		})
	}
	// Refusing an access token spent nothing: the refresh token still works.
	f.refresh(t, p.Refresh)
}

func TestEnd(t *testing.T) {
	f := newFixture(t, nil)
	p, q := f.start(t), f.start(t)
	if err := f.sessions.End(p.Refresh); err != nil {
		t.Fatal(err)
	}
	f.wantRevoked(t, "after logout", p.Access)
	if _, err := f.sessions.Refresh(p.Refresh); !errors.Is(err, ErrNoSession) {
		t.Errorf("refresh after logout: %v, want ErrNoSession", err)
	}
	if err := f.sessions.End(p.Refresh); !errors.Is(err, ErrNoSession) {
		t.Errorf("logout twice: %v, want ErrNoSession", err)
	}
	if err := f.sessions.End(p.Access); err == nil || !strings.Contains(err.Error(), "typ") {
		t.Errorf("logout with an access token: %v, want a typ rejection", err)
	}
	if err := f.sessions.RevokeFamily(q.Family); err != nil {
		t.Fatal(err)
	}
	f.wantRevoked(t, "after RevokeFamily", q.Access)
	if err := f.sessions.RevokeFamily(strings.Repeat("x", 1000)); !errors.Is(err, ErrNoSession) || len(err.Error()) > 300 {
		t.Errorf("RevokeFamily of an unknown long id: %v, want a short ErrNoSession", err)
	}
	if n := f.sessions.Families(); n != 0 {
		t.Errorf("Families = %d, want 0", n)
	}
}

// TestExpiry: a session lives RefreshTTL after its last refresh, then is
// purged; its refresh token is refused as expired.
func TestExpiry(t *testing.T) {
	f := newFixture(t, func(c *SessionsConfig) { c.RefreshTTL = 24 * time.Hour })
	idle, busy := f.start(t), f.start(t)
	f.clock.Advance(20 * time.Hour)
	busy = f.refresh(t, busy.Refresh)
	f.clock.Advance(4*time.Hour + time.Minute) // past idle's expiry and leeway
	if n := f.sessions.Families(); n != 1 {
		t.Errorf("Families = %d, want 1: the idle session purged, the busy one renewed", n)
	}
	if _, err := f.sessions.Refresh(idle.Refresh); err == nil || !strings.HasPrefix(reason(t, err), "expired at") {
		t.Errorf("the idle session's refresh: %v, want expired", err)
	}
	busy = f.refresh(t, busy.Refresh)
	f.clock.Advance(25 * time.Hour)
	if n := f.sessions.Families(); n != 0 {
		t.Errorf("Families = %d, want 0", n)
	}
	if n := f.deny.Len(); n != 0 {
		t.Errorf("Denylist.Len = %d, want 0", n)
	}
}

// TestMaxFamilies: when every session is live, Start fails; ending or
// expiry makes room.
func TestMaxFamilies(t *testing.T) {
	f := newFixture(t, func(c *SessionsConfig) { c.MaxFamilies = 2; c.RefreshTTL = time.Hour })
	p := f.start(t)
	f.start(t)
	if _, err := f.sessions.Start(alice); !errors.Is(err, ErrTooManySessions) || err.Error() != "tokens: starting a session: too many sessions: all 2 are live" {
		t.Fatalf("a third Start = %v, want ErrTooManySessions", err)
	}
	if err := f.sessions.End(p.Refresh); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	f.clock.Advance(time.Hour + time.Minute)
	f.start(t)
	f.start(t)
}

// TestLiveAccessCap: a family tracks at most MaxLiveAccess live access
// tokens; a refresh beyond revokes the oldest, superseded one.
func TestLiveAccessCap(t *testing.T) {
	f := newFixture(t, nil)
	first := f.start(t)
	p := first
	for range MaxLiveAccess - 1 {
		p = f.refresh(t, p.Refresh)
	}
	if n := f.deny.Len(); n != 0 {
		t.Fatalf("Denylist.Len = %d after %d live access tokens, want 0", n, MaxLiveAccess)
	}
	second := p
	p = f.refresh(t, p.Refresh)
	f.wantRevoked(t, "the oldest of too many", first.Access)
	for name, tok := range map[string]string{"second": second.Access, "latest": p.Access} {
		if _, err := f.access.Verify(tok, jwt.Access); err != nil {
			t.Errorf("the %s access token: %v", name, err)
		}
	}
	// Expired access tokens leave the list (and the revoked one the
	// Denylist): MaxLiveAccess - 1 more refreshes revoke nothing.
	f.clock.Advance(DefaultAccessTTL + time.Minute)
	for range MaxLiveAccess - 1 {
		p = f.refresh(t, p.Refresh)
	}
	if n := f.deny.Len(); n != 0 {
		t.Errorf("Denylist.Len = %d, want 0", n)
	}
}

// TestDenylistFullOnEnd: the family ends even if its access tokens cannot
// be revoked, and the error says both.
func TestDenylistFullOnEnd(t *testing.T) {
	f := newFixture(t, nil)
	f.deny.max = 1
	p1 := f.start(t)
	f.refresh(t, p1.Refresh)
	if err := f.deny.Revoke("filler", f.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err := f.sessions.Refresh(p1.Refresh)
	if !errors.Is(err, ErrReuse) || !errors.Is(err, ErrDenylistFull) {
		t.Fatalf("reuse with a full denylist: %v, want ErrReuse and ErrDenylistFull", err)
	}
	if n := f.sessions.Families(); n != 0 {
		t.Errorf("Families = %d, want 0", n)
	}
}

// TestConcurrentRefresh: of simultaneous refreshes with one token exactly
// one wins; the others are reuse (or, once the family has ended, no
// session), and the winner's tokens die with the family.
func TestConcurrentRefresh(t *testing.T) {
	for _, n := range []int{2, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newFixture(t, nil)
			for round := range 20 {
				p := f.start(t)
				var (
					wg    sync.WaitGroup
					ready = make(chan struct{})
					pairs = make([]Pair, n)
					errs  = make([]error, n)
				)
				for i := range n {
					wg.Go(func() {
						<-ready
						pairs[i], errs[i] = f.sessions.Refresh(p.Refresh)
					})
				}
				close(ready)
				wg.Wait()
				var won []Pair
				reuses := 0
				for i, err := range errs {
					switch {
					case err == nil:
						won = append(won, pairs[i])
					case errors.Is(err, ErrReuse):
						reuses++
					case !errors.Is(err, ErrNoSession):
						t.Errorf("round %d: Refresh = %v", round, err)
					}
				}
				if len(won) != 1 || reuses < 1 || (n == 2 && reuses != 1) {
					t.Fatalf("round %d: %d won, %d reuses of %d; want 1 winner and the rest reuse", round, len(won), reuses, n)
				}
				f.wantRevoked(t, "the winner's access token", won[0].Access)
				if _, err := f.sessions.Refresh(won[0].Refresh); !errors.Is(err, ErrNoSession) {
					t.Errorf("round %d: the winner's refresh token: %v, want ErrNoSession", round, err)
				}
			}
		})
	}
}

func TestSessionsConfigValidate(t *testing.T) {
	f := newFixture(t, nil)
	good := SessionsConfig{JWT: f.jwt, Keys: f.ring, Denylist: f.deny}
	cases := []struct {
		name string
		mut  func(*SessionsConfig)
		err  string // a prefix of the error; "" for none
	}{
		{"defaults", func(*SessionsConfig) {}, ""},
		{"no issuer", func(c *SessionsConfig) { c.JWT.Issuer = "" }, "tokens: SessionsConfig.JWT: jwt: Issuer is required"},
		{"no keys", func(c *SessionsConfig) { c.Keys = nil }, "tokens: SessionsConfig.Keys is required"},
		{"no denylist", func(c *SessionsConfig) { c.Denylist = nil }, "tokens: SessionsConfig.Denylist is required"},
		{"negative access", func(c *SessionsConfig) { c.AccessTTL = -time.Second }, "tokens: SessionsConfig.AccessTTL -1s is outside"},
		{"long access", func(c *SessionsConfig) { c.AccessTTL = 25 * time.Hour }, "tokens: SessionsConfig.AccessTTL 25h0m0s is outside"},
		{"refresh not longer", func(c *SessionsConfig) { c.RefreshTTL = DefaultAccessTTL }, "tokens: SessionsConfig.RefreshTTL 15m0s must be longer than AccessTTL 15m0s"},
		{"refresh over 90 days", func(c *SessionsConfig) { c.RefreshTTL = 91 * 24 * time.Hour }, "tokens: SessionsConfig.RefreshTTL 2184h0m0s must be"},
		{"negative families", func(c *SessionsConfig) { c.MaxFamilies = -1 }, "tokens: SessionsConfig.MaxFamilies -1 is outside"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mut(&cfg)
			_, err := NewSessions(cfg)
			if got := fmt.Sprint(err); (tc.err == "" && err != nil) || (tc.err != "" && !strings.HasPrefix(got, tc.err)) {
				t.Errorf("NewSessions = %v, want %q", got, tc.err)
			}
		})
	}
	if _, err := f.sessions.Start(jwt.Claims{}); err == nil || err.Error() != "tokens: starting a session: claims.Subject is empty" {
		t.Errorf("Start without a subject: %v", err)
	}
}

// FuzzRefresh: Refresh takes untrusted input; it must never panic, and
// accept nothing but a refresh token it issued.
func FuzzRefresh(f *testing.F) {
	fx := newFixture(f, nil)
	p, err := fx.sessions.Start(alice)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{p.Refresh, p.Access, "a.b.c", "..", "", p.Refresh[:len(p.Refresh)-2], p.Refresh + "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if _, err := fx.sessions.Refresh(tok); err == nil && tok != p.Refresh {
			t.Fatalf("accepted %q", tok)
		}
	})
}
