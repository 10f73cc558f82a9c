package backup

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/security/crypto"
)

// Errors the Store returns; test with errors.Is.
var (
	// ErrInvalidID: an ID is not of the form 20261203T055012.123Z-1a2b3c.
	// Read only.
	ErrInvalidID = errors.New("not a backup ID")
	// ErrNotFound: the store has no backup with the ID. Read only.
	ErrNotFound = errors.New("no such backup")
	// ErrIncomplete: the backup's folder has no manifest: the backup was
	// interrupted, or is still being written. Read only.
	ErrIncomplete = errors.New("the backup is incomplete (no manifest.json)")
	// ErrVerifyFailed: a backup failed a check of Verify. Read only.
	ErrVerifyFailed = errors.New("the backup failed verification")
	// ErrInUse: the backup is the base an archiver is extending. Read only.
	ErrInUse = errors.New("the backup is in use")
	// ErrNotRestorable: no backup reaches the moment asked for. Read only.
	ErrNotRestorable = errors.New("the moment cannot be restored")
)

// Config says where a Store keeps its backups and how.
type Config struct {
	// Dir is the store's folder; it is created (mode 0700) when missing.
	Dir string
	// Keyring, when set, encrypts new backups with its current key, and
	// opens encrypted ones with the key they name.
	Keyring *crypto.Keyring
	// ChunkSize is the plaintext bytes per encrypted chunk, between
	// MinChunkSize and MaxChunkSize. Default DefaultChunkSize.
	ChunkSize int
	// Now tells the time, for tests. Default time.Now.
	Now func() time.Time
}

// Validate reports the first problem with c, naming the field.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("backup: Config.Dir is empty")
	case strings.ContainsAny(c.Dir, "?#"):
		return fmt.Errorf("backup: Config.Dir %q contains '?' or '#', which SQLite file names cannot", c.Dir)
	case c.ChunkSize != 0 && (c.ChunkSize < MinChunkSize || c.ChunkSize > MaxChunkSize):
		return fmt.Errorf("backup: Config.ChunkSize %d is outside %d..%d", c.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	return nil
}

// Store is a folder of backups: one sub-folder per backup, named by its ID,
// holding its files and manifest.json. It is safe for concurrent use, also
// by several processes: a backup is listed only once its manifest exists.
type Store struct {
	dir       string // absolute
	keyring   *crypto.Keyring
	chunkSize int
	now       func() time.Time
}

// Open opens the store in cfg.Dir, creating the folder when missing.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("opening backup store %s: %w", cfg.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening backup store %s: %w", dir, err)
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("opening backup store %s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("opening backup store %s: not a folder", dir)
	}
	s := &Store{dir: dir, keyring: cfg.Keyring, chunkSize: cfg.ChunkSize, now: cfg.Now}
	if s.chunkSize == 0 {
		s.chunkSize = DefaultChunkSize
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Dir returns the store's folder, as an absolute path.
func (s *Store) Dir() string { return s.dir }

// idLayout is the time part of a backup ID; the rest is "-" and 6 hex digits.
const idLayout = "20060102T150405.000Z"

func newID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return t.UTC().Format(idLayout) + "-" + hex.EncodeToString(b[:])
}

// ValidID reports whether id is a backup ID, 20261203T055012.123Z-1a2b3c:
// the only names the store accepts from callers, so none can reach outside
// its folder.
func ValidID(id string) bool {
	if len(id) != len(idLayout)+7 || id[len(idLayout)] != '-' {
		return false
	}
	for i, c := range []byte(id) {
		var ok bool
		switch {
		case i == 8:
			ok = c == 'T'
		case i == 15:
			ok = c == '.'
		case i == 19:
			ok = c == 'Z'
		case i == 20:
			ok = c == '-'
		case i > 20:
			ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
		default:
			ok = c >= '0' && c <= '9'
		}
		if !ok {
			return false
		}
	}
	_, err := time.Parse(idLayout, id[:len(idLayout)])
	return err == nil
}

// idTime is the time in a valid ID.
func idTime(id string) time.Time {
	t, _ := time.Parse(idLayout, id[:len(idLayout)])
	return t
}

func checkID(op, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%s %q: %w", op, id, ErrInvalidID)
	}
	return nil
}

// Get returns the manifest of backup id: ErrNotFound when there is no such
// backup, ErrIncomplete when its folder has no manifest.
func (s *Store) Get(id string) (*Manifest, error) {
	if err := checkID("getting backup", id); err != nil {
		return nil, err
	}
	m, err := s.manifest(id)
	if err != nil {
		return nil, fmt.Errorf("getting backup %s: %w", id, err)
	}
	return m, nil
}

// manifest reads the manifest of backup id, a valid ID.
func (s *Store) manifest(id string) (*Manifest, error) {
	dir := filepath.Join(s.dir, id)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	m, err := readManifest(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, ErrIncomplete
	case err != nil:
		return nil, fmt.Errorf("%s: %w", manifestName, err)
	case m.ID != id:
		return nil, fmt.Errorf("%s is the manifest of backup %s", manifestName, m.ID)
	}
	return m, nil
}

// Inventory is what Scan finds in a store.
type Inventory struct {
	// Backups are the complete backups, newest first.
	Backups []Manifest `json:"backups"`
	// Skipped are the store's other entries, each with the reason.
	Skipped []Skipped `json:"skipped"`
}

// Skipped is an entry of the store that is not a complete backup.
type Skipped struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Scan reads every backup's manifest. A folder without a valid manifest (a
// backup that was interrupted or is still being written, a damaged
// manifest) is never taken for a backup: it is listed in Skipped with the
// reason. Names starting with a dot are the store's working folders and are
// left out.
func (s *Store) Scan() (*Inventory, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("listing backups in %s: %w", s.dir, err)
	}
	inv := &Inventory{Backups: []Manifest{}, Skipped: []Skipped{}}
	// ReadDir sorts by name, and IDs sort by time: walk backwards.
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		name := e.Name()
		switch {
		case strings.HasPrefix(name, "."):
			continue
		case !e.IsDir():
			inv.Skipped = append(inv.Skipped, Skipped{name, "not a folder"})
			continue
		case !ValidID(name):
			inv.Skipped = append(inv.Skipped, Skipped{name, "the name is not a backup ID"})
			continue
		}
		m, err := s.manifest(name)
		switch {
		case errors.Is(err, ErrIncomplete):
			inv.Skipped = append(inv.Skipped, Skipped{name, "no manifest.json: the backup was interrupted, or is still being written"})
		case err != nil:
			inv.Skipped = append(inv.Skipped, Skipped{name, err.Error()})
		default:
			inv.Backups = append(inv.Backups, *m)
		}
	}
	return inv, nil
}

// List returns the complete backups, newest first; see Scan for the
// folders it skips and why.
func (s *Store) List() ([]Manifest, error) {
	inv, err := s.Scan()
	if err != nil {
		return nil, err
	}
	return inv.Backups, nil
}

// Delete removes backup id, complete or not (a backup still being written
// is removed too: do not delete one that is running). The manifest goes
// first, so a deletion cut short leaves an incomplete backup, never one
// that looks complete.
func (s *Store) Delete(id string) error {
	if err := checkID("deleting backup", id); err != nil {
		return err
	}
	dir := filepath.Join(s.dir, id)
	st, err := os.Lstat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("deleting backup %s: %w", id, ErrNotFound)
		}
		return fmt.Errorf("deleting backup %s: %w", id, err)
	}
	if st.IsDir() { // not a symbolic link: never reach through one
		if err := os.Remove(filepath.Join(dir, manifestName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("deleting backup %s: %w", id, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("deleting backup %s: %w", id, err)
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("deleting backup %s: %w", id, err)
	}
	return nil
}

// Retention says which backups Prune keeps: a backup is kept when any rule
// keeps it, and the newest is always kept.
type Retention struct {
	// Keep keeps the newest Keep backups.
	Keep int
	// MaxAge keeps the backups made within MaxAge of now.
	MaxAge time.Duration
	// Pinned are never deleted: the base an archiver is extending.
	Pinned []string
}

// Validate reports the first problem with r, naming the field.
func (r Retention) Validate() error {
	switch {
	case r.Keep < 0:
		return fmt.Errorf("backup: Retention.Keep %d is negative", r.Keep)
	case r.MaxAge < 0:
		return fmt.Errorf("backup: Retention.MaxAge %v is negative", r.MaxAge)
	case r.Keep == 0 && r.MaxAge == 0:
		return errors.New("backup: Retention keeps nothing but the newest backup; set Keep or MaxAge")
	}
	return nil
}

// Prune deletes the complete backups that r does not keep, oldest first,
// and returns their IDs. It never deletes the newest backup. It also
// removes what crashes left, once older than LeftoverAge: backups without
// a manifest (interrupted) and Verify's scratch folders; their names come
// first in the result. Other folders that Scan skips stay.
func (s *Store) Prune(r Retention) ([]string, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	deleted, err := s.removeLeftovers()
	if err != nil {
		return deleted, err
	}
	list, err := s.List()
	if err != nil {
		return nil, fmt.Errorf("pruning backups: %w", err)
	}
	now := s.now()
	for i := len(list) - 1; i > 0; i-- { // oldest first; index 0, the newest, stays
		m := list[i]
		if i < r.Keep || (r.MaxAge > 0 && now.Sub(m.CreatedAt) <= r.MaxAge) || slices.Contains(r.Pinned, m.ID) {
			continue
		}
		if err := s.Delete(m.ID); err != nil {
			return deleted, fmt.Errorf("pruning backups: %w", err)
		}
		deleted = append(deleted, m.ID)
	}
	return deleted, nil
}

// LeftoverAge is how old an interrupted backup or a Verify's scratch
// folder must be before Prune removes it, so that one still running is
// left alone.
const LeftoverAge = time.Hour

// removeLeftovers deletes what crashes leave behind: backup folders
// without a manifest whose ID is older than LeftoverAge, and the scratch
// folders of Verify and RestoreLive not changed for as long. It returns their names.
func (s *Store) removeLeftovers() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("pruning backups: %w", err)
	}
	cutoff := s.now().Add(-LeftoverAge)
	removed := []string{}
	for _, e := range entries {
		name, old := e.Name(), false
		switch {
		case !e.IsDir():
			continue
		case strings.HasPrefix(name, ".verify-"), strings.HasPrefix(name, ".restore-"):
			info, err := e.Info()
			old = err == nil && info.ModTime().Before(cutoff)
		case ValidID(name):
			t, err := time.Parse(idLayout, name[:len(idLayout)])
			_, merr := s.manifest(name)
			// A PostgreSQL base still running rewrites its WAL index
			// every sync: it is not a leftover, however long it takes.
			st, serr := os.Stat(filepath.Join(s.dir, name, walDir, pgWALIndexName))
			active := serr == nil && st.ModTime().After(cutoff)
			old = err == nil && t.Before(cutoff) && errors.Is(merr, ErrIncomplete) && !active
		}
		if !old {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.dir, name)); err != nil {
			return removed, fmt.Errorf("pruning backups: removing %s: %w", name, err)
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// syncDir makes a folder's entries (a rename, a new file) durable. Windows
// cannot open a folder for syncing, and does not need to.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
