// Package crypto seals and opens messages with authenticated encryption
// (AES-256-GCM or XChaCha20-Poly1305, with associated data) under a keyring
// whose keys have identifiers, so that keys rotate without losing what the
// old ones sealed. It also signs with HMAC-SHA256 and makes random tokens.
//
//	ring := crypto.NewKeyring(crypto.KeyringConfig{})
//	key, _ := crypto.NewKey("2026-11", crypto.XChaCha20Poly1305)
//	ring.Add(key, true) // the current key seals; every key opens
//	sealed, err := ring.Seal([]byte("secret"), []byte("user:42"))
//	plain, err := ring.Open(sealed, []byte("user:42"))
//
// A sealed message is: version (1 byte), algorithm (1), key id length (1),
// key id, nonce, ciphertext and tag. The associated data is not stored; it
// must be given again to open, and any change to it, or to any bit of the
// message, makes Open fail.
//
// Messages per key: nonces are random, so a key must not seal too many
// messages. For AES-256-GCM (96-bit nonces) NIST SP 800-38D allows 2^32;
// XChaCha20-Poly1305 (192-bit nonces) has no practical limit, and Covet
// caps it at 2^48. The keyring counts what each key seals in this process
// and refuses past KeyringConfig.MaxMessages (default: the limit above)
// with ErrKeyExhausted: add a new current key. Counts are per process;
// rotate on a schedule well before the limit when many processes share a
// key.
package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/chacha20poly1305"
)

// Algorithm is an AEAD.
type Algorithm byte

const (
	// AES256GCM is AES-256 in GCM mode with 96-bit random nonces.
	AES256GCM Algorithm = 1
	// XChaCha20Poly1305 has 192-bit random nonces.
	XChaCha20Poly1305 Algorithm = 2
)

func (a Algorithm) String() string {
	switch a {
	case AES256GCM:
		return "AES-256-GCM"
	case XChaCha20Poly1305:
		return "XChaCha20-Poly1305"
	}
	return fmt.Sprintf("algorithm(%d)", byte(a))
}

// MaxMessages is the default number of messages one key may seal.
func (a Algorithm) MaxMessages() uint64 {
	if a == AES256GCM {
		return 1 << 32
	}
	return 1 << 48
}

// Limits.
const (
	KeySize      = 32
	MaxKeyIDLen  = 64
	version      = 1
	MaxTokenSize = 1024 // bytes of randomness Token makes at most
)

// Errors Open and Seal return.
var (
	// ErrOpen: the message is not authentic (or not for this associated
	// data); nothing else is said, by design. Read only.
	ErrOpen = errors.New("crypto: message authentication failed")
	// ErrUnknownKey: the message names a key the keyring does not have.
	// Read only.
	ErrUnknownKey = errors.New("crypto: the message was sealed with a key this keyring does not have")
	// ErrKeyExhausted: the current key has sealed its limit. Read only.
	ErrKeyExhausted = errors.New("crypto: the current key has sealed its limit of messages; add a new current key")
	// ErrNoCurrentKey: Seal with no current key. Read only.
	ErrNoCurrentKey = errors.New("crypto: the keyring has no current key")
)

// Key is one secret key with its identifier and algorithm.
type Key struct {
	id     string
	alg    Algorithm
	aead   cipher.AEAD
	sealed atomic.Uint64 // messages sealed in this process
}

// NewKey makes a key of 32 random bytes.
func NewKey(id string, alg Algorithm) (*Key, error) {
	secret := make([]byte, KeySize)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails
	return KeyFromBytes(id, alg, secret)
}

// KeyFromBytes makes a key from stored secret bytes (32).
func KeyFromBytes(id string, alg Algorithm, secret []byte) (*Key, error) {
	if id == "" || len(id) > MaxKeyIDLen {
		return nil, fmt.Errorf("crypto: key id %q must be 1 to %d bytes", id, MaxKeyIDLen)
	}
	if len(secret) != KeySize {
		return nil, fmt.Errorf("crypto: key %s: the secret is %d bytes, want %d", id, len(secret), KeySize)
	}
	var aead cipher.AEAD
	var err error
	switch alg {
	case AES256GCM:
		var block cipher.Block
		if block, err = aes.NewCipher(secret); err == nil {
			aead, err = cipher.NewGCM(block)
		}
	case XChaCha20Poly1305:
		aead, err = chacha20poly1305.NewX(secret)
	default:
		return nil, fmt.Errorf("crypto: key %s: unknown %v", id, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("crypto: key %s: %w", id, err)
	}
	return &Key{id: id, alg: alg, aead: aead}, nil
}

// ID is the key's identifier; Algorithm its AEAD.
func (k *Key) ID() string           { return k.id }
func (k *Key) Algorithm() Algorithm { return k.alg }

// KeyringConfig sets the per-key message limit; zero takes each
// algorithm's MaxMessages.
type KeyringConfig struct {
	MaxMessages uint64
}

// Keyring holds keys by id; the current one seals. Safe for concurrent use.
type Keyring struct {
	maxMessages uint64

	mu      sync.RWMutex    // guards keys and current
	keys    map[string]*Key // every key that may open
	current *Key
}

// NewKeyring returns an empty keyring.
func NewKeyring(cfg KeyringConfig) *Keyring {
	return &Keyring{maxMessages: cfg.MaxMessages, keys: map[string]*Key{}}
}

// Add puts key in the ring (replacing one with the same id) and, with
// current, makes it the key that seals.
func (r *Keyring) Add(key *Key, current bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[key.id] = key
	if current {
		r.current = key
	}
}

// Remove drops a key: what it sealed can no longer be opened.
func (r *Keyring) Remove(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.keys, id)
	if r.current != nil && r.current.id == id {
		r.current = nil
	}
}

// Seal encrypts and authenticates plaintext, binding ad, with the current
// key.
func (r *Keyring) Seal(plaintext, ad []byte) ([]byte, error) {
	r.mu.RLock()
	k := r.current
	r.mu.RUnlock()
	if k == nil {
		return nil, ErrNoCurrentKey
	}
	limit := r.maxMessages
	if limit == 0 {
		limit = k.alg.MaxMessages()
	}
	if k.sealed.Add(1) > limit {
		return nil, ErrKeyExhausted
	}
	ns := k.aead.NonceSize()
	out := make([]byte, 0, 3+len(k.id)+ns+len(plaintext)+k.aead.Overhead())
	out = append(out, version, byte(k.alg), byte(len(k.id)))
	out = append(out, k.id...)
	nonce := out[len(out) : len(out)+ns]
	_, _ = rand.Read(nonce)
	out = out[:len(out)+ns]
	return k.aead.Seal(out, nonce, plaintext, ad), nil
}

// Open checks and decrypts a message from Seal with the key it names; the
// algorithm is pinned to that key's.
func (r *Keyring) Open(sealed, ad []byte) ([]byte, error) {
	if len(sealed) < 3 || sealed[0] != version {
		return nil, ErrOpen
	}
	idLen := int(sealed[2])
	if idLen == 0 || len(sealed) < 3+idLen {
		return nil, ErrOpen
	}
	id := string(sealed[3 : 3+idLen])
	r.mu.RLock()
	k := r.keys[id]
	r.mu.RUnlock()
	if k == nil {
		return nil, ErrUnknownKey
	}
	if Algorithm(sealed[1]) != k.alg {
		return nil, ErrOpen
	}
	rest := sealed[3+idLen:]
	ns := k.aead.NonceSize()
	if len(rest) < ns+k.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := k.aead.Open(nil, rest[:ns], rest[ns:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// Sign returns the HMAC-SHA256 of msg under key.
func Sign(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// Verify reports, in constant time, whether mac is msg's HMAC-SHA256.
func Verify(key, msg, mac []byte) bool {
	return hmac.Equal(Sign(key, msg), mac)
}

// Token returns n random bytes as unpadded base64url, for session ids,
// reset links and the like: 32 bytes (256 bits) unless you need more.
func Token(n int) (string, error) {
	if n < 16 || n > MaxTokenSize {
		return "", fmt.Errorf("crypto: a token of %d bytes is outside 16..%d", n, MaxTokenSize)
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b), nil
}
