package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/covetpy/covet/backend/security/crypto"
)

// Kinds of backup.
const (
	// KindFull is a complete, self-contained copy of a database.
	KindFull = "full"
	// KindBase is the base of a continuous archive: a complete copy of the
	// database too, and the start of the write-ahead log archived after it
	// in the backup's wal/ folder, so that it restores to any moment from
	// its creation to the newest archived commit.
	KindBase = "base"
)

// Dialects in Manifest.Dialect, as orm.Dialect.Name names them.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Manifest limits.
const (
	// ManifestFormat is the manifest format this package writes and reads;
	// a manifest with a higher format is refused rather than misread.
	ManifestFormat = 1
	// MaxManifestSize bounds manifest.json: a larger one is refused unread.
	MaxManifestSize = 1 << 20
	// MaxFiles bounds the files of one backup.
	MaxFiles = 10000

	manifestName = "manifest.json"
	maxNameLen   = 128
	maxSourceLen = 4096
)

// Manifest describes one backup: what it is and the files that make it, with
// their checksums. It is the last thing a backup writes, so a folder without
// one is a backup that did not finish.
type Manifest struct {
	// Format is ManifestFormat.
	Format int `json:"format"`
	// ID names the backup's folder and sorts by time:
	// 20261203T055012.123Z-1a2b3c (UTC, milliseconds, 24 random bits).
	ID string `json:"id"`
	// Kind is KindFull or KindBase.
	Kind string `json:"kind"`
	// Dialect is the database's: DialectSQLite or DialectPostgres.
	Dialect string `json:"dialect"`
	// CreatedAt is when the backup started, the time in its ID.
	CreatedAt time.Time `json:"createdAt"`
	// Source is what was backed up: the database file's path.
	Source string `json:"source"`
	// Files are the backup's data files, in the backup's folder.
	Files []File `json:"files"`
	// Encrypted reports that the files are sealed in chunks (see doc.go).
	Encrypted bool `json:"encrypted"`
	// KeyID names the keyring key that sealed the backup (each chunk names
	// its own key too, so a rotation during a backup does no harm).
	KeyID string `json:"keyId,omitempty"`
	// ChunkSize is the plaintext bytes per sealed chunk.
	ChunkSize int `json:"chunkSize,omitempty"`
	// Seal authenticates an encrypted backup's manifest: base64 of the
	// keyring's seal of the SHA-256 of this manifest's JSON with Seal empty.
	// With it, changing any field (a checksum, the time, the source) makes
	// verification fail, and the data's checksums authenticate the data.
	Seal string `json:"seal,omitempty"`
}

// File is one file of a backup.
type File struct {
	// Name is the file's name in the backup's folder.
	Name string `json:"name"`
	// Size and SHA256 (hex) are of the bytes stored.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// PlainSize and PlainSHA256 are of the file once decrypted; without
	// encryption they equal Size and SHA256.
	PlainSize   int64  `json:"plainSize"`
	PlainSHA256 string `json:"plainSha256"`
}

// ParseManifest decodes and validates a manifest: at most MaxManifestSize
// bytes of one JSON object with no unknown fields, of a format this package
// reads, with a valid ID, kind, dialect and files.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("parsing manifest: %d bytes is more than the limit of %d", len(data), MaxManifestSize)
	}
	// The format first, so that a newer manifest is reported as such rather
	// than as one with unknown fields.
	var head struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	if head.Format != ManifestFormat {
		return nil, fmt.Errorf("parsing manifest: format %d is not %d, the format this program reads", head.Format, ManifestFormat)
	}
	var m Manifest
	if err := decodeStrict(data, &m); err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	return &m, nil
}

// decodeStrict decodes data into v: one JSON object, with no field v lacks
// and nothing after it.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// validate checks m's fields, naming the first that is wrong.
func (m *Manifest) validate() error {
	if m.Format != ManifestFormat {
		return fmt.Errorf("format %d is not %d", m.Format, ManifestFormat)
	}
	if !ValidID(m.ID) {
		return fmt.Errorf("id %q is not a backup ID", m.ID)
	}
	if t := idTime(m.ID); !m.CreatedAt.Equal(t) {
		return fmt.Errorf("createdAt %s is not the time of id %s", m.CreatedAt.Format(time.RFC3339Nano), m.ID)
	}
	if m.Kind != KindFull && m.Kind != KindBase {
		return fmt.Errorf("kind %q is not one this program knows (%q, %q)", m.Kind, KindFull, KindBase)
	}
	if m.Dialect != DialectSQLite && m.Dialect != DialectPostgres {
		return fmt.Errorf("dialect %q is not one this program knows (%q, %q)", m.Dialect, DialectSQLite, DialectPostgres)
	}
	if len(m.Source) > maxSourceLen || !utf8.ValidString(m.Source) || strings.IndexByte(m.Source, 0) >= 0 {
		return fmt.Errorf("source is not a path of at most %d bytes of UTF-8", maxSourceLen)
	}
	if len(m.Files) == 0 || len(m.Files) > MaxFiles {
		return fmt.Errorf("%d files, want 1 to %d", len(m.Files), MaxFiles)
	}
	if m.Dialect == DialectSQLite && len(m.Files) != 1 {
		return fmt.Errorf("a %s sqlite backup has %d files, want 1", m.Kind, len(m.Files))
	}
	seen := make(map[string]bool, len(m.Files))
	for i, f := range m.Files {
		switch {
		case !validFileName(f.Name):
			return fmt.Errorf("files[%d]: name %q is not a plain file name", i, f.Name)
		case seen[f.Name]:
			return fmt.Errorf("files[%d]: name %q appears twice", i, f.Name)
		case f.Size < 0 || f.PlainSize < 0:
			return fmt.Errorf("files[%d] (%s): a size is negative", i, f.Name)
		case !validSHA256(f.SHA256):
			return fmt.Errorf("files[%d] (%s): sha256 %q is not 64 lowercase hex digits", i, f.Name, f.SHA256)
		case !validSHA256(f.PlainSHA256):
			return fmt.Errorf("files[%d] (%s): plainSha256 %q is not 64 lowercase hex digits", i, f.Name, f.PlainSHA256)
		case !m.Encrypted && (f.Size != f.PlainSize || f.SHA256 != f.PlainSHA256):
			return fmt.Errorf("files[%d] (%s): the backup is not encrypted, but the plain size or checksum differs from the stored one", i, f.Name)
		}
		seen[f.Name] = true
	}
	if m.Encrypted {
		switch {
		case m.KeyID == "" || len(m.KeyID) > crypto.MaxKeyIDLen:
			return fmt.Errorf("keyId %q must be 1 to %d bytes", m.KeyID, crypto.MaxKeyIDLen)
		case m.ChunkSize < MinChunkSize || m.ChunkSize > MaxChunkSize:
			return fmt.Errorf("chunkSize %d is outside %d..%d", m.ChunkSize, MinChunkSize, MaxChunkSize)
		case m.Seal == "":
			return errors.New("the backup is encrypted but the manifest has no seal")
		}
		if _, err := base64.StdEncoding.DecodeString(m.Seal); err != nil {
			return fmt.Errorf("seal is not base64: %w", err)
		}
	} else if m.KeyID != "" || m.ChunkSize != 0 || m.Seal != "" {
		return errors.New("the backup is not encrypted, but keyId, chunkSize or seal is set")
	}
	return nil
}

// validFileName accepts names of letters, digits, '.', '_' and '-' that do
// not start with a dot and are not the manifest's: never a path.
func validFileName(name string) bool {
	if name == "" || len(name) > maxNameLen || name[0] == '.' || name == manifestName {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// digest is the SHA-256 of m's JSON with Seal empty: what Seal authenticates.
func (m *Manifest) digest() []byte {
	c := *m
	c.Seal = ""
	data, err := json.Marshal(&c)
	if err != nil {
		panic("backup: marshaling a manifest: " + err.Error()) // plain data never fails
	}
	sum := sha256.Sum256(data)
	return sum[:]
}

func manifestAD(id string) []byte { return []byte("covet-backup-manifest-v1\x00" + id) }

// seal sets m.Seal with ring's current key.
func (m *Manifest) seal(ring *crypto.Keyring) (err error) {
	if m.Seal, err = sealDigest(ring, m.digest(), manifestAD(m.ID)); err != nil {
		return fmt.Errorf("sealing the manifest: %w", err)
	}
	return nil
}

// checkSeal reports whether m.Seal authenticates m under ring.
func (m *Manifest) checkSeal(ring *crypto.Keyring) error {
	return openSeal(ring, m.Seal, m.digest(), manifestAD(m.ID))
}

// sealDigest seals digest with ring's current key, bound to ad, in base64:
// the seal of a manifest or a WAL index.
func sealDigest(ring *crypto.Keyring, digest, ad []byte) (string, error) {
	sealed, err := ring.Seal(digest, ad)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sealed), nil
}

// openSeal reports whether seal, made by sealDigest, authenticates digest
// bound to ad under ring: ring.Open's error when it does not open,
// crypto.ErrOpen when it opens to another digest.
func openSeal(ring *crypto.Keyring, seal string, digest, ad []byte) error {
	sealed, err := base64.StdEncoding.DecodeString(seal)
	if err != nil {
		return fmt.Errorf("seal is not base64: %w", err)
	}
	sum, err := ring.Open(sealed, ad)
	if err != nil {
		return err
	}
	if !bytes.Equal(sum, digest) {
		return crypto.ErrOpen
	}
	return nil
}

// readLimited reads the file at path, at most limit+1 bytes of it, so that
// its parser can tell a file over its limit without reading all of it.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// readManifest reads and parses dir/manifest.json.
func readManifest(dir string) (*Manifest, error) {
	data, err := readLimited(filepath.Join(dir, manifestName), MaxManifestSize)
	if err != nil {
		return nil, err
	}
	return ParseManifest(data)
}

// writeManifest writes dir/manifest.json atomically.
func writeManifest(dir string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return replaceFile(dir, manifestName, append(data, '\n'))
}
