package admin

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Limits of the login machinery. Each is tested.
const (
	loginCodeTTL    = 10 * time.Minute
	sessionTTL      = 24 * time.Hour
	maxLoginCodes   = 16  // outstanding one-time codes; the oldest is evicted
	maxSessions     = 128 // live sessions; the oldest is evicted
	secretByteCount = 32
)

// secrets is a bounded set of expiring random secrets: one-time login codes
// or session ids.
type secrets struct {
	ttl  time.Duration
	max  int
	now  func() time.Time
	once bool // a secret is consumed by its first successful check

	mu      sync.Mutex           // guards expires
	expires map[string]time.Time // secret -> expiry
}

func newSecrets(ttl time.Duration, max int, once bool, now func() time.Time) *secrets {
	return &secrets{ttl: ttl, max: max, once: once, now: now, expires: make(map[string]time.Time)}
}

// issue creates and remembers a new secret.
func (s *secrets) issue() string {
	b := make([]byte, secretByteCount)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	secret := base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	if len(s.expires) >= s.max {
		var oldest string
		for k, exp := range s.expires {
			if oldest == "" || exp.Before(s.expires[oldest]) {
				oldest = k
			}
		}
		delete(s.expires, oldest)
	}
	s.expires[secret] = s.now().Add(s.ttl)
	return secret
}

// valid reports whether secret is live, consuming it if the set is one-time.
func (s *secrets) valid(secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.expires[secret]
	if !ok {
		return false
	}
	if s.once || !s.now().Before(exp) {
		delete(s.expires, secret)
	}
	return s.now().Before(exp)
}

func (s *secrets) pruneLocked() {
	now := s.now()
	for k, exp := range s.expires {
		if !now.Before(exp) {
			delete(s.expires, k)
		}
	}
}
