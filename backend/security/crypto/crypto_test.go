package crypto

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func ring(t *testing.T, alg Algorithm) (*Keyring, *Key) {
	t.Helper()
	k, err := NewKey("k1", alg)
	if err != nil {
		t.Fatal(err)
	}
	r := NewKeyring(KeyringConfig{})
	r.Add(k, true)
	return r, k
}

var algorithms = []Algorithm{AES256GCM, XChaCha20Poly1305}

func TestSealOpen(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg.String(), func(t *testing.T) {
			r, _ := ring(t, alg)
			for _, msg := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("abc"), 1000)} {
				sealed, err := r.Seal(msg, []byte("ad"))
				if err != nil {
					t.Fatal(err)
				}
				got, err := r.Open(sealed, []byte("ad"))
				if err != nil || !bytes.Equal(got, msg) {
					t.Errorf("Open = %q, %v", got, err)
				}
				again, _ := r.Seal(msg, []byte("ad"))
				if bytes.Equal(again, sealed) {
					t.Error("two seals are identical: the nonce is not random")
				}
			}
		})
	}
}

// TestEveryBitFlipFails flips each bit of a sealed 1 KiB message — header,
// key id, nonce, ciphertext and tag — and each bit of the associated data:
// every one must make Open fail.
func TestEveryBitFlipFails(t *testing.T) {
	msg := bytes.Repeat([]byte{0xA5}, 1024)
	ad := []byte("user:42|field:ssn")
	for _, alg := range algorithms {
		t.Run(alg.String(), func(t *testing.T) {
			r, _ := ring(t, alg)
			sealed, err := r.Seal(msg, ad)
			if err != nil {
				t.Fatal(err)
			}
			for i := range len(sealed) * 8 {
				bad := bytes.Clone(sealed)
				bad[i/8] ^= 1 << (i % 8)
				if got, err := r.Open(bad, ad); err == nil {
					t.Fatalf("flipping bit %d of the message opened it (%d bytes)", i, len(got))
				}
			}
			for i := range len(ad) * 8 {
				badAD := bytes.Clone(ad)
				badAD[i/8] ^= 1 << (i % 8)
				if _, err := r.Open(sealed, badAD); err == nil {
					t.Fatalf("flipping bit %d of the associated data opened the message", i)
				}
			}
			for n := range sealed {
				if _, err := r.Open(sealed[:n], ad); err == nil {
					t.Fatalf("a message truncated to %d bytes opened", n)
				}
			}
		})
	}
}

func TestRotation(t *testing.T) {
	r, old := ring(t, AES256GCM)
	sealedOld, _ := r.Seal([]byte("old"), nil)
	fresh, _ := NewKey("k2", XChaCha20Poly1305)
	r.Add(fresh, true)
	sealedNew, _ := r.Seal([]byte("new"), nil)
	if !bytes.Contains(sealedNew[:8], []byte("k2")) {
		t.Error("the new current key did not seal")
	}
	for _, s := range [][]byte{sealedOld, sealedNew} {
		if _, err := r.Open(s, nil); err != nil {
			t.Errorf("after rotation: %v", err)
		}
	}
	r.Remove(old.ID())
	if _, err := r.Open(sealedOld, nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("a message of a removed key: %v, want ErrUnknownKey", err)
	}
	// The algorithm byte is pinned to the key's: k2 is XChaCha.
	forged := bytes.Clone(sealedNew)
	forged[1] = byte(AES256GCM)
	if _, err := r.Open(forged, nil); !errors.Is(err, ErrOpen) {
		t.Errorf("algorithm switched: %v", err)
	}
}

func TestMessageLimit(t *testing.T) {
	k, _ := NewKey("k", AES256GCM)
	r := NewKeyring(KeyringConfig{MaxMessages: 3})
	if _, err := r.Seal(nil, nil); !errors.Is(err, ErrNoCurrentKey) {
		t.Errorf("no current key: %v", err)
	}
	r.Add(k, true)
	for i := range 3 {
		if _, err := r.Seal([]byte("m"), nil); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	if _, err := r.Seal([]byte("m"), nil); !errors.Is(err, ErrKeyExhausted) {
		t.Errorf("message 4 of 3: %v, want ErrKeyExhausted", err)
	}
	next, _ := NewKey("k-next", AES256GCM)
	r.Add(next, true)
	if _, err := r.Seal([]byte("m"), nil); err != nil {
		t.Errorf("after adding a new current key: %v", err)
	}
	if AES256GCM.MaxMessages() != 1<<32 || XChaCha20Poly1305.MaxMessages() != 1<<48 {
		t.Error("default limits changed")
	}
}

func TestKeyErrors(t *testing.T) {
	for _, c := range []struct {
		id     string
		alg    Algorithm
		secret []byte
		want   string
	}{
		{"", AES256GCM, make([]byte, 32), "key id"},
		{strings.Repeat("x", 65), AES256GCM, make([]byte, 32), "key id"},
		{"k", AES256GCM, make([]byte, 16), "want 32"},
		{"k", Algorithm(9), make([]byte, 32), "unknown"},
	} {
		if _, err := KeyFromBytes(c.id, c.alg, c.secret); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("KeyFromBytes(%q, %v, %d bytes) = %v, want %q", c.id, c.alg, len(c.secret), err, c.want)
		}
	}
}

func TestSignAndToken(t *testing.T) {
	key := []byte("k")
	mac := Sign(key, []byte("msg"))
	if !Verify(key, []byte("msg"), mac) || Verify(key, []byte("msh"), mac) || Verify([]byte("j"), []byte("msg"), mac) {
		t.Error("HMAC verification is wrong")
	}
	mac[0] ^= 1
	if Verify(key, []byte("msg"), mac) {
		t.Error("a flipped MAC verified")
	}
	a, err := Token(32)
	b, _ := Token(32)
	if err != nil || len(a) != 43 || a == b {
		t.Errorf("Token = %q, %q, %v", a, b, err)
	}
	for _, n := range []int{0, 15, MaxTokenSize + 1} {
		if _, err := Token(n); err == nil {
			t.Errorf("Token(%d) succeeded", n)
		}
	}
}
