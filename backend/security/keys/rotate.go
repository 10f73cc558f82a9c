package keys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/covetpy/covet/backend/security/jwt"
)

// Rotation is a rotation schedule.
type Rotation struct {
	// Every is how long a key stays current.
	Every time.Duration
	// Alg is the algorithm of the keys the schedule generates.
	Alg string
	// Retain is how long a retired key keeps verifying before the
	// schedule revokes it: the longest token lifetime plus leeway, so
	// no token it signed is cut short.
	Retain time.Duration
	// Ahead is how long before a rotation the next key is generated in
	// standby, so that JWKS caches learn it before it signs (at least
	// the JWKS cache lifetime).
	Ahead time.Duration
}

// Next returns when the current key is due to be replaced; false when
// there is no current key (Rotate makes one at once).
func (r *Ring) Next(every time.Duration) (time.Time, bool) {
	for _, k := range r.List() {
		if k.State == Current && k.Activated != nil {
			return k.Activated.Add(every), true
		}
	}
	return time.Time{}, false
}

// Rotate applies the schedule at the ring's current time: it generates
// the next key Ahead of time, promotes it when the current key is due (or
// when there is none), and revokes previous keys retired more than
// Retain ago. It reports whether anything changed.
func (r *Ring) Rotate(s Rotation) (bool, error) {
	if s.Every <= 0 || s.Ahead < 0 || s.Retain < 0 {
		return false, fmt.Errorf("keys: rotation every %v, ahead %v, retain %v: every must be positive and the others not negative", s.Every, s.Ahead, s.Retain)
	}
	now := r.now()
	changed := false
	next, ok := r.Next(s.Every)
	standby := ""
	for _, k := range r.List() {
		if k.State == Standby && k.Alg == s.Alg && standby == "" {
			standby = k.ID // List is newest first
		}
	}
	if standby == "" && (!ok || !now.Before(next.Add(-s.Ahead))) {
		k, err := r.Generate(s.Alg)
		if err != nil {
			return changed, err
		}
		standby, changed = k.ID, true
	}
	if !ok || !now.Before(next) {
		if err := r.Promote(standby); err != nil {
			return changed, err
		}
		changed = true
	}
	for _, k := range r.List() {
		if k.State == Previous && k.Retired != nil && !now.Before(k.Retired.Add(s.Retain)) {
			if err := r.Revoke(k.ID); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	return changed, nil
}

// stored is one key as a key store keeps it: its Info and its private
// part, PKCS #8 (or the HS256 secret).
type stored struct {
	Info
	PKCS8  []byte `json:"pkcs8,omitempty"`
	Secret []byte `json:"secret,omitempty"`
}

// MarshalPrivate returns every key with its private part, for a key store
// to encrypt. The result is as secret as the keys themselves.
func (r *Ring) MarshalPrivate() ([]byte, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]stored, 0, len(r.keys))
	for _, k := range r.keys {
		s := stored{Info: k.Info, Secret: k.secret}
		s.Signed = 0
		if k.private != nil {
			der, err := x509.MarshalPKCS8PrivateKey(k.private)
			if err != nil {
				return nil, fmt.Errorf("keys: encoding key %s: %w", k.ID, err)
			}
			s.PKCS8 = der
		}
		out = append(out, s)
	}
	return json.Marshal(out)
}

// LoadPrivate replaces the ring's keys with those of MarshalPrivate's
// output. Nothing changes when it fails.
func (r *Ring) LoadPrivate(b []byte) error {
	var in []stored
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("keys: decoding stored keys: %w", err)
	}
	keys := make(map[string]*key, len(in))
	current := 0
	for i, s := range in {
		k := &key{Info: s.Info}
		k.Signed = 0
		if !jwt.ValidKid(k.ID) {
			return fmt.Errorf("keys: stored key %d has kid %q, not 1 to 64 letters, digits, '-' or '_'", i, k.ID)
		}
		if _, dup := keys[k.ID]; dup {
			return fmt.Errorf("keys: stored key %s appears twice", k.ID)
		}
		switch k.State {
		case Current:
			current++
		case Standby, Previous, Revoked:
		default:
			return fmt.Errorf("keys: stored key %s has unknown state %q", k.ID, k.State)
		}
		if err := k.setMaterial(s); err != nil {
			return err
		}
		k.setPublic()
		keys[k.ID] = k
	}
	if current > 1 {
		return fmt.Errorf("keys: %d stored keys are current; exactly one may be", current)
	}
	r.mu.Lock()
	r.keys = keys
	r.mu.Unlock()
	return nil
}

func (k *key) setMaterial(s stored) error {
	if k.Alg == HS256 {
		if len(s.Secret) != 32 {
			return fmt.Errorf("keys: stored HS256 key %s has a %d-byte secret, want 32", k.ID, len(s.Secret))
		}
		k.secret = s.Secret
		return nil
	}
	priv, err := x509.ParsePKCS8PrivateKey(s.PKCS8)
	if err != nil {
		return fmt.Errorf("keys: stored key %s: %w", k.ID, err)
	}
	var ok bool
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		ok = k.Alg == EdDSA
		k.private = p
	case *ecdsa.PrivateKey:
		ok = k.Alg == ES256 && p.Curve.Params().BitSize == 256
		k.private = p
	case *rsa.PrivateKey:
		ok = k.Alg == RS256 && p.N.BitLen() >= RSABits
		k.private = p
	}
	if !ok {
		return fmt.Errorf("keys: stored key %s is %s but its private key is %T", k.ID, k.Alg, priv)
	}
	return nil
}

// ErrState is wrapped by errors for a move the key's state does not
// allow; ErrNotFound by errors for an unknown kid. Read only.
var (
	ErrState    = errors.New("keys: the key's state does not allow this")
	ErrNotFound = errors.New("keys: no such key")
)

// keyError is an error message that wraps a sentinel.
type keyError struct {
	msg  string
	kind error
}

func (e *keyError) Error() string { return e.msg }
func (e *keyError) Unwrap() error { return e.kind }

func errorOf(kind error, format string, args ...any) error {
	return &keyError{msg: fmt.Sprintf(format, args...), kind: kind}
}
