package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/covetpy/covet/backend/security/crypto"
	"golang.org/x/crypto/argon2"
)

// A Store keeps a Ring in a file, sealed with XChaCha20-Poly1305 under a
// key-encryption key (KEK). Every change is written before it is
// reported done; a change that cannot be written is undone in memory.
//
//	st, err := keys.OpenStore("covet_data/keys.json", keys.Passphrase(pass))
//	k, err := st.Generate(keys.EdDSA)
//	err = st.Promote(k.ID)
//	token, err := jwt.Issue(cfg, st.Ring(), jwt.Access, claims, ttl)
//
// The file holds which KEK source sealed it and that source's public
// parameters (an argon2id salt, a keyring entry's name), never the KEK.
type Store struct {
	path   string
	ring   *Ring
	source KEKSource
	params json.RawMessage
	kek    *crypto.Keyring

	mu     sync.Mutex // serialises changes and writes; guards backup
	backup []byte     // the backup encryption key; nil until BackupKey makes it
}

// KEKSource provides the key-encryption key of a Store.
type KEKSource interface {
	// Name is what the store file records: "passphrase", "os-keyring",
	// "key-file".
	Name() string
	// KEK returns the 32-byte key. params are what an earlier call
	// returned for this store (nil for a new store); the returned params
	// are recorded in the file. They must not be secret.
	KEK(params json.RawMessage) (kek []byte, newParams json.RawMessage, err error)
}

// storeFile is the file's format.
type storeFile struct {
	Format string          `json:"format"`
	KEK    string          `json:"kek"`
	Params json.RawMessage `json:"params"`
	Sealed []byte          `json:"sealed"`
	// Backup is the backup encryption key, sealed apart from the signing
	// keys; absent until a backup first needs it.
	Backup []byte `json:"backup,omitempty"`
}

const (
	storeFormat = "covet-keys/1"
	// MaxStoreBytes caps the file read at open.
	MaxStoreBytes = 16 << 20
)

// storeAD binds the sealed keys to their purpose and format.
func storeAD(source string) []byte { return []byte(storeFormat + "|" + source) }

// backupAD binds the sealed backup key to its purpose.
func backupAD(source string) []byte { return []byte(storeFormat + "|backup|" + source) }

// BackupKeyID names the backup encryption key in what it seals.
const BackupKeyID = "backup-1"

// OpenStore opens the key store at path, creating it when missing. An
// existing file is opened with the source it names, which must be among
// sources; a new one is sealed with the first source that gives a key.
func OpenStore(path string, ring *Ring, sources ...KEKSource) (*Store, error) {
	if len(sources) == 0 {
		return nil, errors.New("keys: OpenStore needs at least one KEK source")
	}
	st := &Store{path: path, ring: ring}
	b, err := readCapped(path, MaxStoreBytes)
	if errors.Is(err, os.ErrNotExist) {
		return st, st.create(sources)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: reading %s: %w", path, err)
	}
	var f storeFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.Format != storeFormat {
		return nil, fmt.Errorf("keys: %s is not a %s key store (%v)", path, storeFormat, err)
	}
	for _, s := range sources {
		if s.Name() == f.KEK {
			st.source = s
		}
	}
	if st.source == nil {
		names := make([]string, len(sources))
		for i, s := range sources {
			names[i] = s.Name()
		}
		return nil, fmt.Errorf("keys: %s is sealed with a key from the %s, which is not available here (available: %s)", path, f.KEK, strings.Join(names, ", "))
	}
	kek, params, err := st.source.KEK(f.Params)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: getting the key-encryption key from the %s: %w", path, f.KEK, err)
	}
	if err := st.setKEK(kek); err != nil {
		return nil, err
	}
	st.params = params
	plain, err := st.kek.Open(f.Sealed, storeAD(f.KEK))
	if err != nil {
		return nil, fmt.Errorf("keys: %s does not open with the key from the %s (wrong passphrase, or the file was altered): %w", path, f.KEK, err)
	}
	if err := ring.LoadPrivate(plain); err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	if f.Backup != nil {
		if st.backup, err = st.kek.Open(f.Backup, backupAD(f.KEK)); err != nil {
			return nil, fmt.Errorf("keys: %s: the backup key does not open (the file was altered): %w", path, err)
		}
	}
	return st, nil
}

// BackupKey returns the key that encrypts the project's backups
// (XChaCha20-Poly1305, id BackupKeyID), generating and saving it on first
// use. It lives in the store beside the signing keys, under the same
// key-encryption key; losing the store loses the encrypted backups.
func (st *Store) BackupKey() (*crypto.Key, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.backup == nil {
		st.backup = make([]byte, crypto.KeySize)
		rand.Read(st.backup)
		if err := st.write(); err != nil {
			st.backup = nil
			return nil, err
		}
	}
	return crypto.KeyFromBytes(BackupKeyID, crypto.XChaCha20Poly1305, st.backup)
}

func (st *Store) create(sources []KEKSource) error {
	var errs []error
	for _, s := range sources {
		kek, params, err := s.KEK(nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
			continue
		}
		st.source, st.params = s, params
		if err := st.setKEK(kek); err != nil {
			return err
		}
		return st.write()
	}
	return fmt.Errorf("keys: creating %s: no key-encryption key: %w", st.path, errors.Join(errs...))
}

func (st *Store) setKEK(kek []byte) error {
	k, err := crypto.KeyFromBytes("kek", crypto.XChaCha20Poly1305, kek)
	if err != nil {
		return fmt.Errorf("keys: the key-encryption key from the %s: %w", st.source.Name(), err)
	}
	st.kek = crypto.NewKeyring(crypto.KeyringConfig{})
	st.kek.Add(k, true)
	return nil
}

// Ring returns the store's ring, for verifying and signing (it is a
// jwt.KeySource). Change keys through the Store so changes are kept.
func (st *Store) Ring() *Ring { return st.ring }

// Source names the KEK source that protects the file.
func (st *Store) Source() string { return st.source.Name() }

// Path is the store file's path.
func (st *Store) Path() string { return st.path }

// Generate makes a new standby key and keeps it.
func (st *Store) Generate(alg string) (Info, error) {
	var info Info
	err := st.change(func() (err error) {
		info, err = st.ring.Generate(alg)
		return err
	})
	return info, err
}

// Promote, Retire and Revoke move a key and keep the change.
func (st *Store) Promote(kid string) error {
	return st.change(func() error { return st.ring.Promote(kid) })
}
func (st *Store) Retire(kid string) error {
	return st.change(func() error { return st.ring.Retire(kid) })
}
func (st *Store) Revoke(kid string) error {
	return st.change(func() error { return st.ring.Revoke(kid) })
}

// Rotate applies a schedule (Ring.Rotate) and keeps the result.
func (st *Store) Rotate(s Rotation) (changed bool, err error) {
	err = st.change(func() (err error) {
		changed, err = st.ring.Rotate(s)
		return err
	})
	return changed, err
}

// change applies fn to the ring and writes the result; when fn fails
// part way or the write fails, the ring is put back as it was.
func (st *Store) change(fn func() error) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	before, err := st.ring.MarshalPrivate()
	if err != nil {
		return err
	}
	err = fn()
	if err == nil {
		err = st.write()
	}
	if err != nil {
		if rerr := st.ring.LoadPrivate(before); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// write seals the ring into a temporary file, syncs it and renames it
// over the store, so the file is always either the old or the new one.
func (st *Store) write() error {
	plain, err := st.ring.MarshalPrivate()
	if err != nil {
		return err
	}
	sealed, err := st.kek.Seal(plain, storeAD(st.source.Name()))
	if err != nil {
		return fmt.Errorf("keys: sealing the key store: %w", err)
	}
	f := storeFile{Format: storeFormat, KEK: st.source.Name(), Params: st.params, Sealed: sealed}
	if st.backup != nil {
		if f.Backup, err = st.kek.Seal(st.backup, backupAD(st.source.Name())); err != nil {
			return fmt.Errorf("keys: sealing the backup key: %w", err)
		}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(st.path, append(b, '\n'))
}

func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	f, err := os.CreateTemp(dir, ".keys-*.tmp")
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("keys: writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable where the platform allows
		_ = d.Close()
	}
	return nil
}

func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > limit {
		return nil, fmt.Errorf("the file is %d bytes, over the limit of %d", fi.Size(), limit)
	}
	return os.ReadFile(path)
}

// Passphrase derives the KEK from a passphrase with argon2id (64 MiB,
// 3 passes, 4 lanes), for servers without an OS keyring.
func Passphrase(p string) KEKSource { return passphrase(p) }

type passphrase string

// MinPassphraseLen is the shortest passphrase accepted.
const MinPassphraseLen = 12

type argonParams struct {
	Salt    []byte `json:"salt"`
	Memory  uint32 `json:"m"`
	Time    uint32 `json:"t"`
	Threads uint8  `json:"p"`
}

func (p passphrase) Name() string { return "passphrase" }

func (p passphrase) KEK(params json.RawMessage) ([]byte, json.RawMessage, error) {
	if len(p) < MinPassphraseLen {
		return nil, nil, fmt.Errorf("the passphrase is %d characters; use at least %d", len(p), MinPassphraseLen)
	}
	a := argonParams{Memory: 64 << 10, Time: 3, Threads: 4}
	if params == nil {
		a.Salt = make([]byte, 16)
		_, _ = rand.Read(a.Salt)
	} else if err := json.Unmarshal(params, &a); err != nil || len(a.Salt) < 16 || a.Memory > 1<<20 || a.Time > 16 || a.Threads == 0 {
		return nil, nil, fmt.Errorf("the stored argon2id parameters are not valid (salt of 16+ bytes, at most 1 GiB and 16 passes)")
	}
	kek := argon2.IDKey([]byte(p), a.Salt, a.Time, a.Memory, a.Threads, 32)
	out, err := json.Marshal(a)
	return kek, out, err
}

// KeyFile keeps a random KEK in a file (mode 0600) beside the store: the
// keys are encrypted, but anyone who can read the folder can read them.
// It is the fallback for development machines without an OS keyring and
// without a passphrase.
func KeyFile(path string) KEKSource { return keyFile(path) }

type keyFile string

func (k keyFile) Name() string { return "key-file" }

func (k keyFile) KEK(params json.RawMessage) ([]byte, json.RawMessage, error) {
	b, err := readCapped(string(k), 1<<10)
	if errors.Is(err, os.ErrNotExist) && params == nil {
		kek := make([]byte, 32)
		_, _ = rand.Read(kek)
		if err := os.MkdirAll(filepath.Dir(string(k)), 0o700); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(string(k), []byte(hex.EncodeToString(kek)+"\n"), 0o600); err != nil {
			return nil, nil, err
		}
		return kek, json.RawMessage(`{}`), nil
	}
	if err != nil {
		return nil, nil, err
	}
	kek, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(kek) != 32 {
		return nil, nil, fmt.Errorf("%s does not hold 64 hex digits", string(k))
	}
	return kek, json.RawMessage(`{}`), nil
}
