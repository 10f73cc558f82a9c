package admin

import (
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestSecretsExpireAndAreBounded(t *testing.T) {
	tests := []struct {
		name      string
		once      bool
		advance   time.Duration
		checks    int
		wantValid []bool
	}{
		{"one-time code works once", true, 0, 2, []bool{true, false}},
		{"session works repeatedly", false, 0, 3, []bool{true, true, true}},
		{"code expires", true, loginCodeTTL, 1, []bool{false}},
		{"code just before expiry", true, loginCodeTTL - time.Second, 1, []bool{true}},
		{"session expires", false, sessionTTL, 1, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{time.Unix(1e9, 0)}
			ttl := sessionTTL
			if tt.once {
				ttl = loginCodeTTL
			}
			s := newSecrets(ttl, 4, tt.once, c.now)
			secret := s.issue()
			if len(secret) != 43 { // 32 bytes, base64url without padding
				t.Errorf("secret %q has %d characters, want 43", secret, len(secret))
			}
			c.t = c.t.Add(tt.advance)
			for i, want := range tt.wantValid {
				if got := s.valid(secret); got != want {
					t.Errorf("check %d: valid = %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestSecretsEvictOldestAtLimit(t *testing.T) {
	c := &clock{time.Unix(1e9, 0)}
	s := newSecrets(time.Hour, maxLoginCodes, true, c.now)
	first := s.issue()
	for range maxLoginCodes {
		c.t = c.t.Add(time.Second)
		s.issue()
	}
	if len(s.expires) != maxLoginCodes {
		t.Errorf("holding %d secrets, want the limit %d", len(s.expires), maxLoginCodes)
	}
	if s.valid(first) {
		t.Error("the oldest secret survived past the limit")
	}
	if s.valid("") || s.valid("made-up") {
		t.Error("an unknown secret was accepted")
	}
}
