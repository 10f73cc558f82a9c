package tokens

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/covetpy/covet/backend/security/jwt"
)

// Session defaults and limits.
const (
	DefaultAccessTTL   = 15 * time.Minute
	MaxAccessTTL       = 24 * time.Hour
	DefaultRefreshTTL  = 30 * 24 * time.Hour
	MaxRefreshTTL      = 90 * 24 * time.Hour // jwt.Mint's limit
	DefaultMaxFamilies = 100_000
	MaxMaxFamilies     = 10_000_000
	// MaxLiveAccess is how many unexpired access tokens a family keeps
	// track of, to revoke them when it ends. A refresh beyond it revokes
	// the oldest at once (a newer one has replaced it).
	MaxLiveAccess = 16
)

// Errors, for errors.Is. ErrReuse and ErrNoSession come inside a
// *jwt.Rejection, like any other refused token. Read only.
//
//   - ErrReuse: a refresh token that had already been exchanged was
//     presented again, so it was stolen or copied; its family has been
//     revoked.
//   - ErrNoSession: the token's family is unknown or has ended.
//   - ErrTooManySessions: MaxFamilies sessions are live; no live one is
//     ever dropped to make room.
var (
	ErrReuse           = errors.New("refresh token reused")
	ErrNoSession       = errors.New("no such session")
	ErrTooManySessions = errors.New("too many sessions")
)

// SessionsConfig configures Sessions. Zero durations and limits take
// their defaults.
type SessionsConfig struct {
	// JWT is what the tokens say and how they are checked. Its Now is
	// replaced by Now below, so that one clock serves both.
	JWT jwt.Config
	// Keys signs and verifies the tokens. Required.
	Keys jwt.KeySource
	// Denylist receives the live access tokens of a session that ends.
	// Required; give the same one to the access token verifier.
	Denylist *Denylist
	// AccessTTL is the life of an access token. Default 15m, at most 24h.
	AccessTTL time.Duration
	// RefreshTTL is the life of a refresh token, renewed at each refresh:
	// a session unused this long ends. Default 30 days, at most 90, and
	// longer than AccessTTL.
	RefreshTTL time.Duration
	// MaxFamilies caps the live sessions. Default 100,000.
	MaxFamilies int
	// Now returns the time; nil means JWT.Now, then time.Now.
	Now func() time.Time
}

func (c SessionsConfig) withDefaults() SessionsConfig {
	if c.AccessTTL == 0 {
		c.AccessTTL = DefaultAccessTTL
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = DefaultRefreshTTL
	}
	if c.MaxFamilies == 0 {
		c.MaxFamilies = DefaultMaxFamilies
	}
	if c.Now == nil {
		c.Now = c.JWT.Now
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.JWT.Now = c.Now
	return c
}

// Validate reports the first invalid field.
func (c SessionsConfig) Validate() error {
	c = c.withDefaults()
	if err := c.JWT.Validate(); err != nil {
		return fmt.Errorf("tokens: SessionsConfig.JWT: %w", err)
	}
	switch {
	case c.Keys == nil:
		return errors.New("tokens: SessionsConfig.Keys is required")
	case c.Denylist == nil:
		return errors.New("tokens: SessionsConfig.Denylist is required: ending a session revokes its access tokens there")
	case c.AccessTTL < 0 || c.AccessTTL > MaxAccessTTL:
		return fmt.Errorf("tokens: SessionsConfig.AccessTTL %v is outside 0..%v", c.AccessTTL, MaxAccessTTL)
	case c.RefreshTTL <= c.AccessTTL || c.RefreshTTL > MaxRefreshTTL:
		return fmt.Errorf("tokens: SessionsConfig.RefreshTTL %v must be longer than AccessTTL %v and at most %v", c.RefreshTTL, c.AccessTTL, MaxRefreshTTL)
	case c.MaxFamilies < 0 || c.MaxFamilies > MaxMaxFamilies:
		return fmt.Errorf("tokens: SessionsConfig.MaxFamilies %d is outside 0..%d", c.MaxFamilies, MaxMaxFamilies)
	}
	return nil
}

// Pair is what a client keeps after a sign-in or a refresh.
type Pair struct {
	Access, Refresh               string
	AccessExpires, RefreshExpires time.Time
	// Family identifies the session, for RevokeFamily.
	Family string
}

// Sessions issues access and refresh tokens for sign-ins and rotates the
// refresh tokens, detecting reuse. It is safe for concurrent use.
type Sessions struct {
	cfg      SessionsConfig // defaults filled in
	verifier *jwt.Verifier  // of refresh tokens
	leeway   time.Duration  // the verifier's

	mu       sync.Mutex        // guards families
	families expiring[*family] // by id, until its refresh token stops verifying
}

// family is all the server knows of one session; a persistent store would
// keep exactly this.
type family struct {
	refresh string   // jti of the one refresh token that may be exchanged
	access  []issued // access tokens that may be live, oldest first
}

// issued is a token's jti and when it stops verifying (exp + leeway).
type issued struct {
	jti   string
	until time.Time
}

// NewSessions returns Sessions with no session, or an error naming the
// invalid field of cfg.
func NewSessions(cfg SessionsConfig) (*Sessions, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	v := jwt.NewVerifier(cfg.JWT, cfg.Keys)
	return &Sessions{cfg: cfg, verifier: v, leeway: v.Config().Leeway, families: newExpiring[*family]()}, nil
}

// Start begins a session for a sign-in: a new family, an access token and
// a refresh token. The tokens carry claims' Subject, Roles and Scope (the
// rest is set here), fixed for the session's life. Subject is required.
func (s *Sessions) Start(claims jwt.Claims) (Pair, error) {
	if claims.Subject == "" {
		return Pair{}, errors.New("tokens: starting a session: claims.Subject is empty")
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id) // never fails (crypto/rand)
	claims.Family = hex.EncodeToString(id)
	p, access, refresh, err := s.mint(claims)
	if err != nil {
		return Pair{}, fmt.Errorf("tokens: starting a session: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.families.purge(s.cfg.Now())
	if s.families.len() >= s.cfg.MaxFamilies {
		return Pair{}, fmt.Errorf("tokens: starting a session: %w: all %d are live", ErrTooManySessions, s.cfg.MaxFamilies)
	}
	s.families.put(claims.Family, &family{refresh: refresh.jti, access: []issued{access}}, refresh.until)
	return p, nil
}

// Refresh exchanges the family's current refresh token for a new pair;
// the presented one can never be exchanged again. A refresh token of the
// family that was already exchanged is reuse: the family ends, its live
// access tokens go to the Denylist, and the error wraps ErrReuse. Of two
// simultaneous refreshes with one token, exactly one wins and the other
// is reuse. A token of an unknown or ended family wraps ErrNoSession;
// every refusal is a *jwt.Rejection.
func (s *Sessions) Refresh(refreshToken string) (Pair, error) {
	c, err := s.verifier.Verify(refreshToken, jwt.Refresh)
	if err != nil {
		return Pair{}, fmt.Errorf("tokens: refreshing: %w", err)
	}
	// Sign before locking, as it is the slow part; the pair is thrown
	// away if the token turns out not to be the current one.
	p, access, refresh, err := s.mint(*c)
	if err != nil {
		return Pair{}, fmt.Errorf("tokens: refreshing: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	s.families.purge(now)
	f, ok := s.families.get(c.Family)
	if !ok {
		return Pair{}, fmt.Errorf("tokens: refreshing: %w", noSession(c.Family))
	}
	if c.ID != f.refresh {
		reuse := &jwt.Rejection{Reason: fmt.Sprintf("reused: refresh token %s of session %s was already exchanged; the session is revoked", c.ID, c.Family), Err: ErrReuse}
		return Pair{}, fmt.Errorf("tokens: refreshing: %w", errors.Join(reuse, s.endLocked(c.Family, f)))
	}
	live := slices.DeleteFunc(slices.Clone(f.access), func(a issued) bool { return !a.until.After(now) })
	if len(live) >= MaxLiveAccess {
		if err := s.cfg.Denylist.Revoke(live[0].jti, live[0].until); err != nil {
			return Pair{}, fmt.Errorf("tokens: refreshing session %s: revoking its oldest access token: %w", c.Family, err)
		}
		live = live[1:]
	}
	f.refresh, f.access = refresh.jti, append(live, access)
	s.families.put(c.Family, f, refresh.until)
	return p, nil
}

// End is logout: the family of refreshToken ends as on reuse, whichever of
// its refresh tokens it is. Ending an ended session returns an error
// wrapping ErrNoSession, which a logout may take as done.
func (s *Sessions) End(refreshToken string) error {
	c, err := s.verifier.Verify(refreshToken, jwt.Refresh)
	if err != nil {
		return fmt.Errorf("tokens: ending a session: %w", err)
	}
	return s.RevokeFamily(c.Family)
}

// RevokeFamily ends the session fam (Pair.Family): its refresh tokens are
// refused from now on and its live access tokens go to the Denylist. If
// the Denylist is full the session still ends, and the error says so.
func (s *Sessions) RevokeFamily(fam string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.families.purge(s.cfg.Now())
	f, ok := s.families.get(fam)
	if !ok {
		return fmt.Errorf("tokens: ending a session: %w", noSession(fam))
	}
	return s.endLocked(fam, f)
}

// Families returns how many sessions are live.
func (s *Sessions) Families() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.families.purge(s.cfg.Now())
	return s.families.len()
}

// endLocked forgets family fam and revokes its access tokens. The family
// ends even if the Denylist refuses some; the error then says so.
func (s *Sessions) endLocked(fam string, f *family) error {
	s.families.remove(fam)
	var errs []error
	for _, a := range f.access {
		errs = append(errs, s.cfg.Denylist.Revoke(a.jti, a.until))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tokens: ending session %s: access tokens stay valid until they expire: %w", fam, err)
	}
	return nil
}

// mint signs an access and a refresh token for claims' session.
func (s *Sessions) mint(claims jwt.Claims) (p Pair, access, refresh issued, err error) {
	var c jwt.Claims
	c.Subject, c.Roles, c.Scope, c.Family = claims.Subject, claims.Roles, claims.Scope, claims.Family
	at, ac, _, err := jwt.Mint(s.cfg.JWT, s.cfg.Keys, jwt.Access, c, s.cfg.AccessTTL)
	if err != nil {
		return Pair{}, issued{}, issued{}, err
	}
	rt, rc, _, err := jwt.Mint(s.cfg.JWT, s.cfg.Keys, jwt.Refresh, c, s.cfg.RefreshTTL)
	if err != nil {
		return Pair{}, issued{}, issued{}, err
	}
	p = Pair{Access: at, Refresh: rt, AccessExpires: ac.ExpiresAt.Time, RefreshExpires: rc.ExpiresAt.Time, Family: c.Family}
	return p, issued{ac.ID, p.AccessExpires.Add(s.leeway)}, issued{rc.ID, p.RefreshExpires.Add(s.leeway)}, nil
}

func noSession(fam string) *jwt.Rejection {
	return &jwt.Rejection{Reason: fmt.Sprintf("no session: %.64q is unknown or has ended (logged out, revoked, reused, expired, or the server restarted)", fam), Err: ErrNoSession}
}
