package tokens

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/covetpy/covet/backend/security/jwt"
)

// Denylist limits.
const (
	// DefaultDenylistMax is how many revoked tokens a Denylist holds when
	// DenylistConfig.Max is zero.
	DefaultDenylistMax = 100_000
	// MaxDenylistMax caps DenylistConfig.Max (about 150 bytes an entry).
	MaxDenylistMax = 10_000_000
	// MaxJTILen is the longest jti Revoke accepts; jwt.Mint's are 32.
	MaxJTILen = 128
)

// ErrDenylistFull: every entry of the Denylist is still live, so a token
// could not be revoked. The caller must report it (the token stays valid
// until it expires); no live entry is ever dropped to make room. Read only.
var ErrDenylistFull = errors.New("the denylist is full")

// DenylistConfig tunes a Denylist.
type DenylistConfig struct {
	// Max is how many revoked tokens can be held at once. Default
	// DefaultDenylistMax, at most MaxDenylistMax.
	Max int
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// Validate reports the first invalid field.
func (c DenylistConfig) Validate() error {
	if c.Max < 0 || c.Max > MaxDenylistMax {
		return fmt.Errorf("tokens: DenylistConfig.Max %d is outside 0..%d", c.Max, MaxDenylistMax)
	}
	return nil
}

// Denylist holds tokens revoked one by one, by jti, until they expire. It
// implements jwt.Denylist; set it as jwt.Config.Denylist of the access
// token verifier. It is in memory; to survive a restart, save Entries
// and Revoke them again at start. It is safe for concurrent use.
type Denylist struct {
	max int
	now func() time.Time

	mu      sync.RWMutex       // guards revoked
	revoked expiring[struct{}] // by jti, until the token can no longer verify
}

var _ jwt.Denylist = (*Denylist)(nil)

// NewDenylist returns an empty Denylist, or an error naming the invalid
// field of cfg.
func NewDenylist(cfg DenylistConfig) (*Denylist, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Max == 0 {
		cfg.Max = DefaultDenylistMax
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Denylist{max: cfg.Max, now: cfg.Now, revoked: newExpiring[struct{}]()}, nil
}

// Revoke refuses the token jti until until, which should be the token's
// exp plus the verifier's leeway (after that the verifier refuses it as
// expired). A until already past is nothing to remember and returns nil;
// revoking a jti again keeps the later end. Ended entries are purged here,
// amortised O(log n) each. When every entry is still live it returns an
// error wrapping ErrDenylistFull.
func (d *Denylist) Revoke(jti string, until time.Time) error {
	if err := validJTI(jti); err != nil {
		return fmt.Errorf("tokens: revoking: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if !until.After(now) {
		return nil
	}
	d.revoked.purge(now)
	if it, ok := d.revoked.items[jti]; ok {
		if until.After(it.until) {
			d.revoked.put(jti, struct{}{}, until)
		}
		return nil
	}
	if d.revoked.len() >= d.max {
		return fmt.Errorf("tokens: revoking jti %s: %w: all %d entries are live", jti, ErrDenylistFull, d.max)
	}
	d.revoked.put(jti, struct{}{}, until)
	return nil
}

// Revoked reports whether jti was revoked. It is on every authenticated
// request's path: a read-locked map lookup, without allocations. An entry
// past its end may still answer true until purged; its token has expired
// anyway.
func (d *Denylist) Revoked(jti string) bool {
	d.mu.RLock()
	_, ok := d.revoked.items[jti]
	d.mu.RUnlock()
	return ok
}

// Entries returns the live revocations (jti to end), for keeping them
// across restarts: Revoke each again at start.
func (d *Denylist) Entries() map[string]time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.revoked.purge(d.now())
	out := make(map[string]time.Time, d.revoked.len())
	for jti, it := range d.revoked.items {
		out[jti] = it.until
	}
	return out
}

// Len returns how many revoked tokens are held, ended ones purged first.
func (d *Denylist) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.revoked.purge(d.now())
	return d.revoked.len()
}

func validJTI(jti string) error {
	switch {
	case jti == "":
		return errors.New("jti is empty")
	case len(jti) > MaxJTILen:
		return fmt.Errorf("jti is %d bytes, over the limit of %d", len(jti), MaxJTILen)
	}
	return nil
}
