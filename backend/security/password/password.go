// Package password hashes and verifies passwords: argon2id with OWASP's
// parameters, stored as PHC strings, and verification of bcrypt hashes
// imported from elsewhere. Comparisons are constant-time.
//
//	h := password.New(password.Params{}) // OWASP's argon2id parameters
//	encoded, err := h.Hash("correct horse battery staple")
//	…
//	ok, rehash, err := h.Verify(input, encoded)
//	if ok && rehash { // weaker parameters or bcrypt: store a new hash
//		encoded, _ = h.Hash(input)
//	}
//
// Bcrypt reads only the first 72 bytes of a password, so two passwords that
// share those bytes would match the same bcrypt hash. Verify refuses to
// check a longer password against a bcrypt hash (ErrTooLongForBcrypt)
// rather than accept such a prefix; argon2id has no such limit.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id's cost parameters. Zero values take OWASP's
// recommendation (19 MiB of memory, 2 passes, 1 lane), the minimum New
// accepts; the salt is 16 bytes and the key 32.
type Params struct {
	// Memory in KiB.
	Memory uint32
	// Iterations (passes over the memory).
	Iterations uint32
	// Parallelism (lanes).
	Parallelism uint8
}

// OWASP's argon2id recommendation (Password Storage Cheat Sheet).
const (
	MinMemory      = 19 * 1024 // KiB
	MinIterations  = 2
	MinParallelism = 1
)

// Limits: what Hash accepts, and what Verify accepts from a stored hash (a
// forged hash must not make one verification take gigabytes or minutes).
const (
	MaxPasswordBytes = 4096
	MaxMemory        = 1 << 20 // KiB: 1 GiB
	MaxIterations    = 64
	MaxParallelism   = 64
	BcryptMaxBytes   = 72
	saltLen          = 16
	keyLen           = 32
)

// Errors.
var (
	// ErrTooLong: the password is over MaxPasswordBytes. Read only.
	ErrTooLong = fmt.Errorf("password: longer than %d bytes", MaxPasswordBytes)
	// ErrTooLongForBcrypt: the password is over 72 bytes and the stored
	// hash is bcrypt, which would check only its first 72. Read only.
	ErrTooLongForBcrypt = fmt.Errorf("password: longer than bcrypt's %d bytes; a bcrypt hash cannot check it", BcryptMaxBytes)
	// ErrUnknownFormat: the stored hash is neither argon2id PHC nor
	// bcrypt. Read only.
	ErrUnknownFormat = errors.New("password: the stored hash is neither $argon2id$ nor bcrypt ($2a$, $2b$, $2y$)")
)

// Validate reports the first parameter below OWASP's minimum or above the
// limits.
func (p Params) Validate() error {
	switch {
	case p.Memory < MinMemory || p.Memory > MaxMemory:
		return fmt.Errorf("password: Memory %d KiB is outside %d..%d", p.Memory, MinMemory, MaxMemory)
	case p.Iterations < MinIterations || p.Iterations > MaxIterations:
		return fmt.Errorf("password: Iterations %d is outside %d..%d", p.Iterations, MinIterations, MaxIterations)
	case p.Parallelism < MinParallelism || p.Parallelism > MaxParallelism:
		return fmt.Errorf("password: Parallelism %d is outside %d..%d", p.Parallelism, MinParallelism, MaxParallelism)
	}
	return nil
}

func (p Params) withDefaults() Params {
	if p.Memory == 0 {
		p.Memory = MinMemory
	}
	if p.Iterations == 0 {
		p.Iterations = MinIterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = MinParallelism
	}
	return p
}

// weakerThan reports whether p costs less than q in any parameter.
func (p Params) weakerThan(q Params) bool {
	return p.Memory < q.Memory || p.Iterations < q.Iterations || p.Parallelism < q.Parallelism
}

// Hasher hashes with fixed parameters. It is safe for concurrent use.
type Hasher struct{ params Params }

// New returns a Hasher; it panics when p (with defaults filled in) is
// invalid, a programming error: check configuration with Params.Validate.
func New(p Params) *Hasher {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return &Hasher{params: p}
}

// Hash returns the PHC string of password with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func (h *Hasher) Hash(password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", ErrTooLong
	}
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, and whether encoded
// should be replaced by a new Hash: it is bcrypt, or argon2id with weaker
// parameters than h's. An error means encoded could not be checked (it is
// malformed, or bcrypt with a password over 72 bytes); ok is then false.
func (h *Hasher) Verify(password, encoded string) (ok, rehash bool, err error) {
	if len(password) > MaxPasswordBytes {
		return false, false, ErrTooLong
	}
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := parsePHC(encoded)
		if err != nil {
			return false, false, err
		}
		got := argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, uint32(len(key)))
		ok := subtle.ConstantTimeCompare(got, key) == 1
		return ok, ok && p.weakerThan(h.params), nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		if len(password) > BcryptMaxBytes {
			return false, false, ErrTooLongForBcrypt
		}
		// bcrypt compares in constant time.
		switch err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)); {
		case err == nil:
			return true, true, nil // bcrypt is always upgraded to argon2id
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("password: the stored bcrypt hash is malformed: %w", err)
		}
	}
	return false, false, ErrUnknownFormat
}

// parsePHC reads $argon2id$v=19$m=…,t=…,p=…$salt$key, refusing what
// would be too costly to check.
func parsePHC(encoded string) (Params, []byte, []byte, error) {
	bad := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("password: the stored argon2id hash is malformed: "+format, args...)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want 5 $-separated fields, got %d", len(parts)-1)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version %q is not v=%d", parts[2], argon2.Version)
	}
	var p Params
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("parameter %q is not a number", kv)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Iterations = uint32(n)
		case "p":
			if n > 255 {
				return bad("p=%d is over 255", n)
			}
			p.Parallelism = uint8(n)
		default:
			return bad("unknown parameter %q", k)
		}
	}
	switch {
	case p.Memory == 0 || p.Iterations == 0 || p.Parallelism == 0:
		return bad("m, t and p are all required and positive")
	case p.Memory > MaxMemory || p.Iterations > MaxIterations || p.Parallelism > MaxParallelism:
		return bad("m=%d,t=%d,p=%d is over the limits (m ≤ %d, t ≤ %d, p ≤ %d)", p.Memory, p.Iterations, p.Parallelism, MaxMemory, MaxIterations, MaxParallelism)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return bad("the salt is not base64 of at least 8 bytes")
	}
	key, err := enc.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return bad("the key is not base64 of 16 to 128 bytes")
	}
	return p, salt, key, nil
}
