package backup

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/security/crypto"
)

// This test is internal: it takes the encrypted stream apart, which the
// manifest's checksums and seal would otherwise catch first.

func testRing(t *testing.T, id string) *crypto.Keyring {
	t.Helper()
	k, err := crypto.NewKey(id, crypto.AES256GCM)
	if err != nil {
		t.Fatal(err)
	}
	r := crypto.NewKeyring(crypto.KeyringConfig{})
	r.Add(k, true)
	return r
}

type testFrame struct {
	flags  byte
	sealed []byte
}

func splitFrames(t *testing.T, stream []byte) []testFrame {
	t.Helper()
	var frames []testFrame
	rest := stream[len(chunkMagic):]
	for len(rest) > 0 {
		n := binary.BigEndian.Uint32(rest[1:5])
		frames = append(frames, testFrame{rest[0], rest[5 : 5+n]})
		rest = rest[5+n:]
	}
	return frames
}

func joinFrames(frames ...testFrame) []byte {
	out := []byte(chunkMagic)
	for _, f := range frames {
		out = append(out, f.flags)
		out = binary.BigEndian.AppendUint32(out, uint32(len(f.sealed)))
		out = append(out, f.sealed...)
	}
	return out
}

func TestChunkRoundTrip(t *testing.T) {
	const size = 512
	ring := testRing(t, "k")
	for _, n := range []int{0, 1, size - 1, size, size + 1, 3*size + 7, 4 * size} {
		plain := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		var enc bytes.Buffer
		keyID, err := encryptStream(context.Background(), ring, &enc, bytes.NewReader(plain), "id", "f", size)
		if err != nil || keyID != "k" {
			t.Fatalf("%d bytes: encrypt = %q, %v", n, keyID, err)
		}
		frames := splitFrames(t, enc.Bytes())
		if want := max(1, (n+size-1)/size); len(frames) != want {
			t.Errorf("%d bytes: %d chunks, want %d", n, len(frames), want)
		}
		var dec bytes.Buffer
		if err := decryptStream(context.Background(), ring, &dec, &enc, "id", "f", size); err != nil || !bytes.Equal(dec.Bytes(), plain) {
			t.Errorf("%d bytes: decrypt = %d bytes, %v", n, dec.Len(), err)
		}
	}
}

func TestChunkTampering(t *testing.T) {
	const size = 512
	ring := testRing(t, "k")
	plain := bytes.Repeat([]byte("covet"), 400) // 2000 bytes: 4 chunks
	var enc bytes.Buffer
	if _, err := encryptStream(context.Background(), ring, &enc, bytes.NewReader(plain), "id", "f", size); err != nil {
		t.Fatal(err)
	}
	f := splitFrames(t, enc.Bytes())
	if len(f) != 4 {
		t.Fatalf("%d chunks, want 4", len(f))
	}
	notLast := f[3]
	notLast.flags = 0
	lastFirst := f[0]
	lastFirst.flags = lastChunk
	big := testFrame{0, make([]byte, size+sealOverhead+1)}
	tests := []struct {
		name     string
		stream   []byte
		id, file string
		ring     *crypto.Keyring
		want     string
	}{
		{"chunks swapped", joinFrames(f[0], f[2], f[1], f[3]), "id", "f", ring, "chunk 1: authentication failed"},
		{"last chunk dropped", joinFrames(f[0], f[1], f[2]), "id", "f", ring, "without its last chunk"},
		{"middle chunk dropped", joinFrames(f[0], f[1], f[3]), "id", "f", ring, "chunk 2: authentication failed"},
		{"chunk repeated", joinFrames(f[0], f[0], f[1], f[2], f[3]), "id", "f", ring, "chunk 1: authentication failed"},
		{"last flag cleared", joinFrames(f[0], f[1], f[2], notLast), "id", "f", ring, "chunk 3: authentication failed"},
		{"first chunk claims to be last", joinFrames(lastFirst), "id", "f", ring, "chunk 0: authentication failed"},
		{"data after the last chunk", append(joinFrames(f...), 0), "id", "f", ring, "data after the last chunk"},
		{"cut inside a chunk", joinFrames(f...)[:len(enc.Bytes())-10], "id", "f", ring, "chunk 3: the file ends inside it"},
		{"oversized chunk", joinFrames(big), "id", "f", ring, "more than a chunk"},
		{"unknown flags", joinFrames(testFrame{4, f[0].sealed}), "id", "f", ring, "unknown flags"},
		{"no header", []byte("SQLite format 3\x00"), "id", "f", ring, "header"},
		{"another backup", enc.Bytes(), "other", "f", ring, "chunk 0: authentication failed"},
		{"another file", enc.Bytes(), "id", "g", ring, "chunk 0: authentication failed"},
		{"another key with the same id", enc.Bytes(), "id", "f", testRing(t, "k"), "chunk 0: authentication failed"},
		{"a key the keyring lacks", enc.Bytes(), "id", "f", testRing(t, "k2"), "does not have"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := decryptStream(context.Background(), tt.ring, &out, bytes.NewReader(tt.stream), tt.id, tt.file, size)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("decrypt = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
