package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
)

// Names of a SQLite backup's files in its folder.
const (
	sqliteFile    = "database.sqlite"
	sqliteEncFile = sqliteFile + ".enc"
	snapshotFile  = "snapshot.tmp" // VACUUM INTO's output, while a backup runs
)

// sqliteSidecars are the files SQLite keeps beside a database, which belong
// to it: a restore moves them aside with it, and never leaves one beside
// the restored database. Read only.
var sqliteSidecars = []string{"-wal", "-shm", "-journal"}

// BackupSQLite makes a full backup of db, a SQLite database, while it is in
// use: VACUUM INTO writes a consistent snapshot (the database as of one
// moment, compacted) to a temporary file in the backup's folder, which is
// then checksummed (and, with a keyring, encrypted in chunks, the
// plaintext removed); manifest.json is written last, atomically, so a
// backup that did not finish never looks complete. On any error nothing is
// left behind.
//
// The snapshot runs on db's writer connection: reads go on meanwhile, and
// writes wait until it ends.
func (s *Store) BackupSQLite(ctx context.Context, db *orm.DB) (_ *Manifest, err error) {
	if name := db.Dialect().Name(); name != DialectSQLite {
		return nil, fmt.Errorf("backing up a sqlite database: the database is %s", name)
	}
	source, err := sqliteSource(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("backing up a sqlite database: finding its file: %w", err)
	}
	id := newID(s.now())
	dir := filepath.Join(s.dir, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backing up sqlite database %s: %w", source, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
			err = fmt.Errorf("backing up sqlite database %s to %s: %w", source, id, err)
		}
	}()
	m := &Manifest{
		Format:    ManifestFormat,
		ID:        id,
		Kind:      KindFull,
		Dialect:   DialectSQLite,
		CreatedAt: idTime(id),
		Source:    source,
	}
	snapshot := filepath.Join(dir, snapshotFile)
	if _, err := orm.ExecNative(ctx, db, "VACUUM INTO ?", snapshot); err != nil {
		return nil, fmt.Errorf("VACUUM INTO: %w", err)
	}
	var f File
	if s.keyring == nil {
		f, err = keepPlain(ctx, snapshot, filepath.Join(dir, sqliteFile))
	} else {
		m.Encrypted, m.ChunkSize = true, s.chunkSize
		f, m.KeyID, err = s.encryptFile(ctx, id, snapshot, filepath.Join(dir, sqliteEncFile))
	}
	if err != nil {
		return nil, err
	}
	m.Files = []File{f}
	if err := s.finishManifest(dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// finishManifest seals m when encrypted, validates it and writes it into
// dir, the backup's folder: the last step of a backup.
func (s *Store) finishManifest(dir string, m *Manifest) error {
	if m.Encrypted {
		if err := m.seal(s.keyring); err != nil {
			return err
		}
	}
	if err := m.validate(); err != nil {
		return fmt.Errorf("the new manifest is invalid: %w", err)
	}
	if err := writeManifest(dir, m); err != nil {
		return fmt.Errorf("writing the manifest: %w", err)
	}
	return syncDir(s.dir)
}

// sqliteSource returns the path of db's main database file ("" in memory).
func sqliteSource(ctx context.Context, db *orm.DB) (string, error) {
	rs, err := orm.RunNative(ctx, db, "PRAGMA database_list", nil, 0)
	if err != nil {
		return "", err
	}
	for _, row := range rs.Rows { // seq, name, file
		if len(row) == 3 && row[1] == "main" {
			file, _ := row[2].(string)
			return file, nil
		}
	}
	return "", errors.New("PRAGMA database_list has no main database")
}

// keepPlain syncs the snapshot, checksums it and renames it to dest.
func keepPlain(ctx context.Context, snapshot, dest string) (File, error) {
	f, err := os.OpenFile(snapshot, os.O_RDWR, 0)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, fmt.Errorf("checksumming the snapshot: %w", err)
	}
	if err := os.Rename(snapshot, dest); err != nil {
		return File{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return File{Name: filepath.Base(dest), Size: n, SHA256: sum, PlainSize: n, PlainSHA256: sum}, nil
}

// encryptFile seals the snapshot into dest in chunks, checksumming both
// sides, and removes the snapshot.
func (s *Store) encryptFile(ctx context.Context, id, snapshot, dest string) (File, string, error) {
	name := filepath.Base(dest)
	in, err := os.Open(snapshot)
	if err != nil {
		return File{}, "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, "", err
	}
	plainHash, storedHash := sha256.New(), sha256.New()
	plain := &countWriter{w: plainHash}
	stored := &countWriter{w: io.MultiWriter(out, storedHash)}
	keyID, err := encryptStream(ctx, s.keyring, stored, io.TeeReader(in, plain), id, name, s.chunkSize)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, "", fmt.Errorf("encrypting the snapshot: %w", err)
	}
	in.Close()
	if err := os.Remove(snapshot); err != nil {
		return File{}, "", err
	}
	return File{
		Name:        name,
		Size:        stored.n,
		SHA256:      hex.EncodeToString(storedHash.Sum(nil)),
		PlainSize:   plain.n,
		PlainSHA256: hex.EncodeToString(plainHash.Sum(nil)),
	}, keyID, nil
}

// RestoreOptions tune RestoreSQLite.
type RestoreOptions struct {
	// DryRun reports what the restore would do and changes nothing. It
	// does not verify the backup: Verify does.
	DryRun bool
}

// RestoreReport says what a restore did, or on a dry run would do.
type RestoreReport struct {
	// Backup is the manifest of the backup restored.
	Backup Manifest `json:"backup"`
	// To is the moment restored to (RestoreSQLiteTo), nil for a backup
	// restored as it was made.
	To *time.Time `json:"to,omitempty"`
	// Target is the database file replaced, as an absolute path.
	Target string `json:"target"`
	DryRun bool   `json:"dryRun"`
	// Current is the database that was at Target; nil when there was none.
	Current *FileState `json:"current,omitempty"`
	// KeptAs is where the current database and its -wal, -shm and
	// -journal files were moved (on a dry run: would be, give or take the
	// time in the name); empty when there was nothing to keep.
	KeptAs string `json:"keptAs,omitempty"`
	// KeptBackup is the backup of the current content that a restore into
	// the running database (RestoreLive) made first.
	KeptBackup string `json:"keptBackup,omitempty"`
	// Plan lists the steps, in words.
	Plan []string `json:"plan"`
	// Verify is the verification of the restored database before the swap;
	// nil on a dry run.
	Verify *Report `json:"verify,omitempty"`
	// Restored reports that the restored database is in place.
	Restored bool `json:"restored"`
}

// FileState describes a database file.
type FileState struct {
	Size    int64     `json:"size"`
	ModTime time.Time `json:"modTime"`
	// Sidecars are the -wal, -shm and -journal files beside it.
	Sidecars []string `json:"sidecars,omitempty"`
}

// RestoreSQLite replaces the SQLite database at target with backup id.
//
// The caller must have closed every connection to target (every orm.DB
// opened on it) and open a new one afterwards: a connection left open goes
// on using the database moved aside.
//
// The backup is checked as Verify does while it is written next to target
// as a temporary file (its files' checksums, decryption, the restored
// file's checksum, integrity_check and foreign_key_check); the restore is
// refused if any check fails. Only then is the current database, with its
// -wal, -shm and -journal files, moved aside to
// target+".before-restore-<time>", and the restored one renamed into
// place. Before that swap, a failure leaves the current database
// untouched; if the final rename fails, the current files are moved back.
func (s *Store) RestoreSQLite(ctx context.Context, id, target string, opts RestoreOptions) (_ *RestoreReport, err error) {
	if err := checkID("restoring backup", id); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("restoring backup %s to %s: %w", id, target, err)
		}
	}()
	m, err := s.manifest(id)
	if err != nil {
		return nil, err
	}
	if m.Dialect != DialectSQLite {
		return nil, fmt.Errorf("it is a %s backup; RestoreSQLite restores %s backups", m.Dialect, DialectSQLite)
	}
	return s.restoreSQLite(ctx, m, target, nil, opts)
}

// RestoreSQLiteTo replaces the SQLite database at target with its state at
// the moment to: the newest base backup made at or before to, with the
// commits its archive holds up to and including to replayed onto it. The
// archive must reach to (ArchiveInfo.Until). Everything else is as
// RestoreSQLite: checked before the swap, the current database kept.
func (s *Store) RestoreSQLiteTo(ctx context.Context, to time.Time, target string, opts RestoreOptions) (_ *RestoreReport, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("restoring %s to %s: %w", target, to.UTC().Format(time.RFC3339Nano), err)
		}
	}()
	a, err := s.archiveFor(DialectSQLite, to)
	if err != nil {
		return nil, err
	}
	return s.restoreSQLite(ctx, &a.Base, target, &to, opts)
}

// restoreSQLite restores m to target; with to, m is a base and its archive
// is replayed up to to.
func (s *Store) restoreSQLite(ctx context.Context, m *Manifest, target string, to *time.Time, opts RestoreOptions) (_ *RestoreReport, err error) {
	id := m.ID
	if target == "" {
		return nil, errors.New("the target path is empty")
	}
	if target, err = filepath.Abs(target); err != nil {
		return nil, err
	}
	if err := (sqlite.Config{Path: target}).Validate(); err != nil {
		return nil, err
	}
	dir := filepath.Dir(target)
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}

	rep := &RestoreReport{Backup: *m, Target: target, DryRun: opts.DryRun, Plan: []string{}}
	var present []string // suffixes of the files to move aside: "" is the database
	for _, sfx := range append([]string{""}, sqliteSidecars...) {
		st, err := os.Lstat(target + sfx)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file (%v)", target+sfx, st.Mode().Type())
		}
		present = append(present, sfx)
		if sfx == "" {
			rep.Current = &FileState{Size: st.Size(), ModTime: st.ModTime()}
		} else if rep.Current != nil {
			rep.Current.Sidecars = append(rep.Current.Sidecars, target+sfx)
		}
	}
	kept := ""
	if len(present) > 0 {
		kept = target + ".before-restore-" + s.now().UTC().Format("20060102T150405.000Z")
		for _, sfx := range present {
			if _, err := os.Lstat(kept + sfx); !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s, where the current database would be kept, exists", kept+sfx)
			}
		}
		rep.KeptAs = kept
	}

	how := "copy"
	if m.Encrypted {
		how = fmt.Sprintf("decrypt (key %q)", m.KeyID)
	}
	replay := ""
	if to != nil {
		rep.To = to
		replay = fmt.Sprintf(", replay the commits its archive holds up to %s onto it", to.UTC().Format(time.RFC3339Nano))
	} else if m.Kind == KindBase {
		replay = ", replay its whole archive onto it"
	}
	rep.Plan = append(rep.Plan,
		fmt.Sprintf("verify backup %s (%s backup of %s made %s): check its files' sizes and SHA-256, %s %s to a temporary file in %s, check its size and SHA-256%s, run integrity_check and foreign_key_check on it",
			m.ID, m.Kind, m.Source, m.CreatedAt.Format(time.RFC3339Nano), how, m.Files[0].Name, dir, replay))
	switch {
	case rep.Current != nil:
		with := ""
		if n := len(rep.Current.Sidecars); n > 0 {
			with = fmt.Sprintf(" with its %d -wal/-shm/-journal file(s)", n)
		}
		rep.Plan = append(rep.Plan, fmt.Sprintf("move the current database %s (%d bytes, modified %s)%s to %s",
			target, rep.Current.Size, rep.Current.ModTime.Format(time.RFC3339), with, kept))
	case kept != "":
		rep.Plan = append(rep.Plan, fmt.Sprintf("no database at %s, but stray -wal/-shm/-journal files: move them to %s", target, kept))
	default:
		rep.Plan = append(rep.Plan, fmt.Sprintf("no database at %s: nothing to keep", target))
	}
	rep.Plan = append(rep.Plan, fmt.Sprintf("rename the restored database to %s", target))
	if opts.DryRun {
		return rep, nil
	}

	tmpFile, err := os.CreateTemp(dir, "."+filepath.Base(target)+".restore-*")
	if err != nil {
		return rep, err
	}
	tmp := tmpFile.Name()
	tmpFile.Close()
	defer func() {
		if !rep.Restored {
			os.Remove(tmp)
		}
		for _, sfx := range sqliteSidecars {
			os.Remove(tmp + sfx) // SQLite removes them on close; this is for a failure
		}
	}()
	rep.Verify = &Report{ID: id, Checks: []Check{}}
	if err := s.verify(ctx, rep.Verify, m, tmp, to); err != nil {
		return rep, err
	}
	if err := rep.Verify.err(); err != nil {
		return rep, fmt.Errorf("refused: %w", err)
	}
	if st, err := os.Stat(tmp + "-wal"); err == nil && st.Size() > 0 {
		return rep, fmt.Errorf("the restored database kept a write-ahead log %s after closing", tmp+"-wal")
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if rep.Current != nil {
		if st, err := os.Stat(target); err == nil {
			_ = os.Chmod(tmp, st.Mode().Perm()) // best effort: keep the old file's mode
		}
	}

	// The swap: move the current files aside, the database first, then put
	// the restored one in place; on failure, move them back.
	var moved []string
	undo := func() {
		for i := len(moved) - 1; i >= 0; i-- {
			os.Rename(kept+moved[i], target+moved[i])
		}
	}
	for _, sfx := range present {
		if err := os.Rename(target+sfx, kept+sfx); err != nil {
			undo()
			return rep, fmt.Errorf("moving the current database aside: %w", err)
		}
		moved = append(moved, sfx)
	}
	if err := os.Rename(tmp, target); err != nil {
		undo()
		return rep, fmt.Errorf("renaming the restored database into place: %w", err)
	}
	rep.Restored = true
	if err := syncDir(dir); err != nil {
		return rep, err
	}
	return rep, nil
}
