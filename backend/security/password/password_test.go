package password

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

func TestHashAndVerify(t *testing.T) {
	h := New(Params{})
	enc, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("Hash = %q, want OWASP's parameters in PHC form", enc)
	}
	again, _ := h.Hash("correct horse")
	if again == enc {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	cases := []struct {
		name, password string
		ok, rehash     bool
	}{
		{"right", "correct horse", true, false},
		{"wrong", "correct horsE", false, false},
		{"empty", "", false, false},
		{"prefix", "correct hors", false, false},
	}
	for _, c := range cases {
		ok, rehash, err := h.Verify(c.password, enc)
		if err != nil || ok != c.ok || rehash != c.rehash {
			t.Errorf("%s: Verify = %v, %v, %v; want %v, %v", c.name, ok, rehash, err, c.ok, c.rehash)
		}
	}
}

// TestRehashOnWeakerParameters: a hash made with weaker parameters still
// verifies, and asks to be replaced; one made with stronger ones does not.
func TestRehashOnWeakerParameters(t *testing.T) {
	strong := New(Params{Memory: 32 * 1024, Iterations: 3})
	weak := New(Params{})
	weakHash, _ := weak.Hash("pw")
	strongHash, _ := strong.Hash("pw")
	if ok, rehash, err := strong.Verify("pw", weakHash); !ok || !rehash || err != nil {
		t.Errorf("weak hash under strong params: %v, %v, %v; want ok and rehash", ok, rehash, err)
	}
	if ok, rehash, err := weak.Verify("pw", strongHash); !ok || rehash || err != nil {
		t.Errorf("strong hash under weak params: %v, %v, %v; want ok, no rehash", ok, rehash, err)
	}
	if ok, rehash, _ := strong.Verify("nope", weakHash); ok || rehash {
		t.Error("a wrong password asked for a rehash")
	}
	// A legacy hash below OWASP's minimum (m=4096) still verifies.
	legacy := "$argon2id$v=19$m=4096,t=1,p=1$" + b64([]byte("0123456789abcdef")) + "$" +
		b64(argon2.IDKey([]byte("pw"), []byte("0123456789abcdef"), 1, 4096, 1, 32))
	if ok, rehash, err := weak.Verify("pw", legacy); !ok || !rehash || err != nil {
		t.Errorf("legacy hash: %v, %v, %v; want ok and rehash", ok, rehash, err)
	}
}

// TestBcryptBoundaries: imported bcrypt hashes verify and are upgraded; a
// password over 72 bytes, which bcrypt would cut, is refused rather than
// matched by its prefix. Multibyte input counts bytes, not characters.
func TestBcryptBoundaries(t *testing.T) {
	h := New(Params{})
	p72 := strings.Repeat("é", 36)       // 72 bytes, 36 characters
	p73 := p72 + "x"                     // 73 bytes
	p71 := strings.Repeat("é", 35) + "x" // 71 bytes
	for _, pw := range []string{p71, p72, "short", ""} {
		enc, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		ok, rehash, err := h.Verify(pw, string(enc))
		if !ok || !rehash || err != nil {
			t.Errorf("bcrypt of %d bytes: %v, %v, %v; want ok and rehash", len(pw), ok, rehash, err)
		}
		if ok, _, _ := h.Verify(pw+"!", string(enc)); ok && len(pw) < BcryptMaxBytes {
			t.Errorf("bcrypt of %d bytes accepted a different password", len(pw))
		}
	}
	enc72, _ := bcrypt.GenerateFromPassword([]byte(p72), bcrypt.MinCost)
	if ok, _, err := h.Verify(p73, string(enc72)); ok || !errors.Is(err, ErrTooLongForBcrypt) {
		t.Errorf("73 bytes against a bcrypt hash of its 72-byte prefix: %v, %v; want ErrTooLongForBcrypt", ok, err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		enc := prefix + string(enc72)[4:]
		if ok, _, err := h.Verify(p72, enc); !ok || err != nil {
			t.Errorf("%s form: %v, %v", prefix, ok, err)
		}
	}
	// argon2id has no such limit: 73 bytes and their 72-byte prefix differ.
	a73, _ := h.Hash(p73)
	if ok, _, _ := h.Verify(p72, a73); ok {
		t.Error("argon2id matched a 72-byte prefix of a 73-byte password")
	}
	if ok, _, err := h.Verify(p73, a73); !ok || err != nil {
		t.Errorf("argon2id of 73 bytes: %v, %v", ok, err)
	}
}

func TestMalformedAndCostlyHashes(t *testing.T) {
	h := New(Params{})
	salt, key := b64([]byte("0123456789abcdef")), b64(make([]byte, 32))
	cases := []struct{ name, enc, want string }{
		{"unknown", "$pbkdf2$x", "neither"},
		{"plain text", "hunter2", "neither"},
		{"fields", "$argon2id$v=19$m=19456,t=2,p=1$" + salt, "5 $-separated fields"},
		{"version", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key, "version"},
		{"param", "$argon2id$v=19$m=19456,t=2,x=1$" + salt + "$" + key, "unknown parameter"},
		{"number", "$argon2id$v=19$m=lots,t=2,p=1$" + salt + "$" + key, "not a number"},
		{"missing", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key, "all required"},
		{"memory bomb", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key, "over the limits"},
		{"time bomb", "$argon2id$v=19$m=19456,t=100000,p=1$" + salt + "$" + key, "over the limits"},
		{"salt", "$argon2id$v=19$m=19456,t=2,p=1$!!$" + key, "salt"},
		{"short key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + b64([]byte("short")), "key"},
		{"bcrypt", "$2b$04$tooshort", "bcrypt hash is malformed"},
	}
	for _, c := range cases {
		ok, _, err := h.Verify("pw", c.enc)
		if ok || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, %v; want an error with %q", c.name, ok, err, c.want)
		}
	}
	long := strings.Repeat("a", MaxPasswordBytes+1)
	if _, err := h.Hash(long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash of %d bytes = %v", len(long), err)
	}
	if _, _, err := h.Verify(long, "$argon2id$"); !errors.Is(err, ErrTooLong) {
		t.Errorf("Verify of %d bytes = %v", len(long), err)
	}
}

func TestParamsValidate(t *testing.T) {
	for _, p := range []Params{{Memory: 1024, Iterations: 2, Parallelism: 1}, {Memory: MinMemory, Iterations: 1, Parallelism: 1}, {Memory: MaxMemory + 1, Iterations: 2, Parallelism: 1}} {
		if p.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", p)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("New with weak parameters did not panic")
		}
	}()
	New(Params{Memory: 1024})
}

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }
