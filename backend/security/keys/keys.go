// Package keys is a ring of JWT signing keys with a lifecycle:
//
//	standby → current → previous → revoked
//
// A key is created in standby (published in the JWKS, so that caches learn
// it before it signs), promoted to current (exactly one key signs; the old
// current becomes previous), retired (previous: its tokens still verify
// until they expire) and revoked (nothing it signed verifies any more).
// Each key's algorithm is fixed when it is created: EdDSA, ES256, RS256
// (2048-bit or larger) or HS256 (a 256-bit random secret, never published).
//
//	ring := keys.NewRing(keys.Config{})
//	k, _ := ring.Generate(keys.EdDSA)
//	_ = ring.Promote(k.ID)
//	token, _ := jwt.Issue(cfg, ring, jwt.Access, claims, 15*time.Minute)
//	jwks := ring.JWKS() // serve at /.well-known/jwks.json
//
// The ring implements jwt.KeySource. It keeps keys in memory; storing them
// encrypted is the caller's (covet_data's key store).
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/covetpy/covet/backend/security/jwt"
)

// Algorithms a key can have.
const (
	EdDSA = jwt.EdDSA
	ES256 = jwt.ES256
	RS256 = jwt.RS256
	HS256 = jwt.HS256
)

// State is where a key is in its lifecycle.
type State string

const (
	Standby  State = "standby"
	Current  State = "current"
	Previous State = "previous"
	Revoked  State = "revoked"
)

// RSABits is the size of generated RSA keys (RS256 needs at least 2048).
const RSABits = 2048

// Info describes a key without its secret part.
type Info struct {
	ID        string     `json:"kid"`
	Alg       string     `json:"alg"`
	State     State      `json:"state"`
	Created   time.Time  `json:"created"`
	Activated *time.Time `json:"activated,omitempty"`
	Retired   *time.Time `json:"retired,omitempty"`
	Revoked   *time.Time `json:"revoked,omitempty"`
	// Signed counts the tokens the key signed since the process started.
	Signed int64 `json:"signed"`
}

type key struct {
	Info
	private crypto.Signer // nil for HS256
	secret  []byte        // HS256 only
	pub     any           // what verifies: the public key, or the secret; set once
	signed  atomic.Int64
}

// setPublic fills pub from the private part, once, so that looking a key
// up for every token allocates nothing.
func (k *key) setPublic() {
	if k.Alg == HS256 {
		k.pub = k.secret
	} else {
		k.pub = k.private.Public()
	}
}

func (k *key) public() any { return k.pub }

func (k *key) signing() any {
	if k.Alg == HS256 {
		return k.secret
	}
	return k.private
}

// Config tunes a Ring.
type Config struct {
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// Ring holds the keys. It is safe for concurrent use.
type Ring struct {
	now func() time.Time

	mu   sync.RWMutex    // guards keys
	keys map[string]*key // by kid
}

var _ jwt.KeySource = (*Ring)(nil)

// NewRing returns an empty ring.
func NewRing(cfg Config) *Ring {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Ring{now: cfg.Now, keys: map[string]*key{}}
}

// Generate makes a new standby key of alg with a random kid.
func (r *Ring) Generate(alg string) (Info, error) {
	k := &key{Info: Info{Alg: alg, State: Standby, Created: r.now().UTC()}}
	var err error
	switch alg {
	case EdDSA:
		_, k.private, err = ed25519.GenerateKey(rand.Reader)
	case ES256:
		k.private, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		k.private, err = rsa.GenerateKey(rand.Reader, RSABits)
	case HS256:
		k.secret = make([]byte, 32)
		_, err = rand.Read(k.secret)
	default:
		return Info{}, fmt.Errorf("keys: algorithm %q is not EdDSA, ES256, RS256 or HS256", alg)
	}
	if err != nil {
		return Info{}, fmt.Errorf("keys: generating a %s key: %w", alg, err)
	}
	k.setPublic()
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	k.ID = hex.EncodeToString(id)
	r.mu.Lock()
	r.keys[k.ID] = k
	r.mu.Unlock()
	return k.Info, nil
}

// Promote makes a standby (or previous) key current; the current one, if
// any, becomes previous.
func (r *Ring) Promote(kid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, err := r.getLocked(kid)
	if err != nil {
		return err
	}
	if k.State != Standby && k.State != Previous {
		return errorOf(ErrState, "keys: %s is %s; only a standby or previous key can be promoted", kid, k.State)
	}
	now := r.now().UTC()
	for _, other := range r.keys {
		if other.State == Current {
			other.State, other.Retired = Previous, &now
		}
	}
	k.State, k.Activated, k.Retired = Current, &now, nil
	return nil
}

// Retire moves the current key to previous: it stops signing and its
// tokens keep verifying until revoked. Promote another key first, or
// nothing will sign.
func (r *Ring) Retire(kid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, err := r.getLocked(kid)
	if err != nil {
		return err
	}
	if k.State != Current && k.State != Standby {
		return errorOf(ErrState, "keys: %s is %s; only a current or standby key can be retired", kid, k.State)
	}
	now := r.now().UTC()
	k.State, k.Retired = Previous, &now
	return nil
}

// Revoke stops a key verifying anything, at once and for good.
func (r *Ring) Revoke(kid string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, err := r.getLocked(kid)
	if err != nil {
		return err
	}
	if k.State == Revoked {
		return errorOf(ErrState, "keys: %s is already revoked", kid)
	}
	now := r.now().UTC()
	k.State, k.Revoked = Revoked, &now
	return nil
}

func (r *Ring) getLocked(kid string) (*key, error) {
	k := r.keys[kid]
	if k == nil {
		return nil, errorOf(ErrNotFound, "keys: no key %q", kid)
	}
	return k, nil
}

// List returns every key's Info, newest first.
func (r *Ring) List() []Info {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Info, 0, len(r.keys))
	for _, k := range r.keys {
		info := k.Info
		info.Signed = k.signed.Load()
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// VerificationKey implements jwt.KeySource: standby, current and previous
// keys verify; revoked and unknown ones do not.
func (r *Ring) VerificationKey(kid string) (jwt.Key, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k := r.keys[kid]
	if k == nil || k.State == Revoked {
		return jwt.Key{}, false
	}
	return jwt.Key{ID: k.ID, Alg: k.Alg, Material: k.public()}, true
}

// SigningKey implements jwt.KeySource: the current key. Each call counts
// as one token signed.
func (r *Ring) SigningKey() (jwt.Key, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.keys {
		if k.State == Current {
			k.signed.Add(1)
			return jwt.Key{ID: k.ID, Alg: k.Alg, Material: k.signing()}, true
		}
	}
	return jwt.Key{}, false
}

// SigningKeyByID returns key kid with its private part when it may still
// sign (standby, current or previous), for a caller that picks the key: a
// load test whose tokens come from a key being rolled out. Each call
// counts as one token signed.
func (r *Ring) SigningKeyByID(kid string) (jwt.Key, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k := r.keys[kid]
	if k == nil || k.State == Revoked {
		return jwt.Key{}, false
	}
	k.signed.Add(1)
	return jwt.Key{ID: k.ID, Alg: k.Alg, Material: k.signing()}, true
}

// JWK is one public key in a JWKS (RFC 7517).
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// Set is a JWK set (RFC 7517 section 5).
type Set struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the JWK set document of Set.
func (r *Ring) JWKS() []byte {
	b, _ := json.Marshal(r.Set()) // plain strings: cannot fail
	return b
}

// Set returns the public keys of standby, current and previous keys. HS256
// keys are symmetric and never published.
func (r *Ring) Set() Set {
	set := Set{Keys: []JWK{}}
	for _, info := range r.List() {
		if info.State == Revoked || info.Alg == HS256 {
			continue
		}
		r.mu.RLock()
		pub := r.keys[info.ID].public()
		r.mu.RUnlock()
		set.Keys = append(set.Keys, jwkOf(info, pub))
	}
	return set
}

func jwkOf(info Info, pub any) JWK {
	enc := base64.RawURLEncoding.EncodeToString
	j := JWK{Kid: info.ID, Alg: info.Alg, Use: "sig"}
	switch p := pub.(type) {
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", enc(p)
	case *ecdsa.PublicKey:
		b := make([]byte, 32)
		j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", enc(p.X.FillBytes(b)), enc(p.Y.FillBytes(make([]byte, 32)))
	case *rsa.PublicKey:
		j.Kty, j.N, j.E = "RSA", enc(p.N.Bytes()), enc(big.NewInt(int64(p.E)).Bytes())
	}
	return j
}
