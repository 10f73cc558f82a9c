package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/security/crypto"
)

// Status is a check's outcome.
type Status string

// Outcomes of a check.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped" // an earlier check failed
)

// Names of the checks, in the order they run.
const (
	CheckManifest        = "manifest"          // manifest.json parses and is valid
	CheckKey             = "key"               // the keyring has the key and the manifest's seal is authentic (encrypted only)
	CheckChecksum        = "checksum"          // a stored file's size and SHA-256
	CheckRestore         = "restore"           // decrypting or copying a file to a scratch database, and its plain size and SHA-256
	CheckArchive         = "archive"           // a base backup's archive: every segment authentic and chained to head.json, replayed onto the scratch database
	CheckIntegrity       = "integrity_check"   // PRAGMA integrity_check on the scratch database
	CheckForeignKeyCheck = "foreign_key_check" // PRAGMA foreign_key_check on the scratch database
)

// Check is one check of a backup.
type Check struct {
	Name   string `json:"name"`
	File   string `json:"file,omitempty"` // the backup file checked, if one
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"` // what was found; why it failed

	cause error // the error behind a failure, for errors.Is
}

// Report is the result of verifying a backup.
type Report struct {
	ID     string  `json:"id"`
	OK     bool    `json:"ok"` // every check passed
	Checks []Check `json:"checks"`
}

func (r *Report) add(name, file string, status Status, detail string, cause error) {
	r.Checks = append(r.Checks, Check{Name: name, File: file, Status: status, Detail: detail, cause: cause})
}

// failed reports whether a check has failed.
func (r *Report) failed() bool {
	for _, c := range r.Checks {
		if c.Status == StatusFailed {
			return true
		}
	}
	return false
}

// err is nil when every check passed, else a *CheckError for the first
// failed check.
func (r *Report) err() error {
	for _, c := range r.Checks {
		if c.Status == StatusFailed {
			return &CheckError{ID: r.ID, Check: c}
		}
	}
	return nil
}

// CheckError is a failed check of backup ID. It matches ErrVerifyFailed,
// and the cause when there is one (crypto.ErrUnknownKey, for instance).
type CheckError struct {
	ID    string
	Check Check
}

func (e *CheckError) Error() string {
	what := e.Check.Name
	if e.Check.File != "" {
		what += " of " + e.Check.File
	}
	return fmt.Sprintf("verifying backup %s: %s failed: %s", e.ID, what, e.Check.Detail)
}

func (e *CheckError) Unwrap() []error {
	if e.Check.cause == nil {
		return []error{ErrVerifyFailed}
	}
	return []error{ErrVerifyFailed, e.Check.cause}
}

// Verify checks backup id without touching it: each file's size and SHA-256
// against the manifest, then (with the keyring for an encrypted backup) a
// trial restore into a scratch folder inside the store, which SQLite opens
// to run PRAGMA integrity_check and PRAGMA foreign_key_check. The report
// lists every check; when one fails, the error is a *CheckError naming it
// (errors.Is(err, ErrVerifyFailed)). A backup that cannot be found returns
// only an error. The outcome is recorded beside the backup (Verifications).
func (s *Store) Verify(ctx context.Context, id string) (_ *Report, err error) {
	if err := checkID("verifying backup", id); err != nil {
		return nil, err
	}
	rep := &Report{ID: id, Checks: []Check{}}
	defer func() { // the list shows the outcome (Verifications)
		if err == nil || errors.Is(err, ErrVerifyFailed) {
			s.recordVerification(rep)
		}
	}()
	m, err := s.manifest(id)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("verifying backup %s: %w", id, ErrNotFound)
	} else if err != nil {
		rep.add(CheckManifest, "", StatusFailed, err.Error(), err)
		return rep, rep.err()
	}
	if m.Dialect == DialectPostgres {
		if err := s.verifyPostgres(ctx, rep, m); err != nil {
			return nil, fmt.Errorf("verifying backup %s: %w", id, err)
		}
		return rep, rep.err()
	}
	scratch, err := os.MkdirTemp(s.dir, ".verify-")
	if err != nil {
		return nil, fmt.Errorf("verifying backup %s: %w", id, err)
	}
	defer os.RemoveAll(scratch)
	if err := s.verify(ctx, rep, m, filepath.Join(scratch, "restored.db"), nil); err != nil {
		return nil, fmt.Errorf("verifying backup %s: %w", id, err)
	}
	return rep, rep.err()
}

// verify runs the checks of backup m after its manifest's, restoring its
// database to dest, and records them in rep. It returns an error only when
// it could not go on (the context ended); a failed check is in rep. The
// caller removes dest.
//
// A base backup's archive is replayed onto dest after the restore: all of
// it, or with to only the commits made at or before to.
func (s *Store) verify(ctx context.Context, rep *Report, m *Manifest, dest string, to *time.Time) error {
	rep.add(CheckManifest, "", StatusOK, fmt.Sprintf("format %d, %s %s backup of %s, %d file(s), encrypted: %t", m.Format, m.Dialect, m.Kind, m.Source, len(m.Files), m.Encrypted), nil)
	defer func() { rep.OK = !rep.failed() }()
	if m.Encrypted {
		s.checkKey(rep, m)
	}
	if _, err := s.checkFiles(ctx, rep, m); err != nil { // these need no key: run them even when it is missing
		return err
	}
	f := m.Files[0] // a full SQLite backup has one file (validate)
	if rep.failed() {
		rep.add(CheckRestore, f.Name, StatusSkipped, "", nil)
		rep.add(CheckIntegrity, "", StatusSkipped, "", nil)
		rep.add(CheckForeignKeyCheck, "", StatusSkipped, "", nil)
		return nil
	}
	if err := s.restoreFile(ctx, m, f, dest); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rep.add(CheckRestore, f.Name, StatusFailed, err.Error(), err)
		rep.add(CheckIntegrity, "", StatusSkipped, "", nil)
		rep.add(CheckForeignKeyCheck, "", StatusSkipped, "", nil)
		return nil
	}
	rep.add(CheckRestore, f.Name, StatusOK, fmt.Sprintf("%d bytes, SHA-256 %s", f.PlainSize, f.PlainSHA256), nil)
	if m.Kind == KindBase {
		detail, err := s.replayArchive(ctx, m, dest, to)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			rep.add(CheckArchive, walDir, StatusFailed, err.Error(), err)
			rep.add(CheckIntegrity, "", StatusSkipped, "", nil)
			rep.add(CheckForeignKeyCheck, "", StatusSkipped, "", nil)
			return nil
		}
		rep.add(CheckArchive, walDir, StatusOK, detail, nil)
	}
	return checkSQLite(ctx, rep, dest)
}

// checkKey records whether s's keyring opens m's seal.
func (s *Store) checkKey(rep *Report, m *Manifest) {
	if s.keyring == nil {
		rep.add(CheckKey, "", StatusFailed, fmt.Sprintf("the backup is encrypted with key %q and the store has no keyring", m.KeyID), crypto.ErrUnknownKey)
		return
	}
	switch err := m.checkSeal(s.keyring); {
	case errors.Is(err, crypto.ErrUnknownKey):
		rep.add(CheckKey, "", StatusFailed, fmt.Sprintf("the keyring has no key %q, which encrypted the backup", m.KeyID), err)
	case err != nil:
		rep.add(CheckKey, "", StatusFailed, fmt.Sprintf("the manifest's seal does not open: the manifest was changed after the backup, or key %q in the keyring is not the key that encrypted it", m.KeyID), err)
	default:
		rep.add(CheckKey, "", StatusOK, fmt.Sprintf("key %q opens the manifest's seal", m.KeyID), nil)
	}
}

// restoreFile decrypts (or copies) backup file f to dest, a new file, and
// checks its plain size and SHA-256.
func (s *Store) restoreFile(ctx context.Context, m *Manifest, f File, dest string) error {
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = s.readFile(ctx, m, f, out)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// readFile decrypts (or copies) backup file f of m into w, checking its
// plain size and SHA-256.
func (s *Store) readFile(ctx context.Context, m *Manifest, f File, w io.Writer) error {
	src, err := os.Open(filepath.Join(s.dir, m.ID, f.Name))
	if err != nil {
		return err
	}
	defer src.Close()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	if m.Encrypted {
		if s.keyring == nil {
			return fmt.Errorf("the backup is encrypted and the store has no keyring: %w", crypto.ErrUnknownKey)
		}
		err = decryptStream(ctx, s.keyring, cw, src, m.ID, f.Name, m.ChunkSize)
	} else {
		_, err = io.Copy(cw, ctxReader{ctx, src})
	}
	switch sum := hex.EncodeToString(h.Sum(nil)); {
	case err != nil:
		return err
	case cw.n != f.PlainSize:
		return fmt.Errorf("the restored file is %d bytes, the manifest says %d", cw.n, f.PlainSize)
	case sum != f.PlainSHA256:
		return fmt.Errorf("the restored file's SHA-256 is %s, the manifest says %s", sum, f.PlainSHA256)
	}
	return nil
}

// checkFiles records in rep the size and SHA-256 of each of m's files as
// stored (no key needed), and returns the names of those that match; an
// error only when ctx ended.
func (s *Store) checkFiles(ctx context.Context, rep *Report, m *Manifest) (map[string]bool, error) {
	ok := map[string]bool{}
	for _, f := range m.Files {
		size, sum, err := hashFile(ctx, filepath.Join(s.dir, m.ID, f.Name))
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			rep.add(CheckChecksum, f.Name, StatusFailed, "reading the file: "+err.Error(), err)
		case size != f.Size:
			rep.add(CheckChecksum, f.Name, StatusFailed, fmt.Sprintf("the file is %d bytes, the manifest says %d", size, f.Size), nil)
		case sum != f.SHA256:
			rep.add(CheckChecksum, f.Name, StatusFailed, fmt.Sprintf("SHA-256 is %s, the manifest says %s", sum, f.SHA256), nil)
		default:
			rep.add(CheckChecksum, f.Name, StatusOK, fmt.Sprintf("%d bytes, SHA-256 %s", size, sum), nil)
			ok[f.Name] = true
		}
	}
	return ok, nil
}

// checkSQLite opens the database at path and records integrity_check and
// foreign_key_check in rep. Opening sets WAL mode, as Covet runs it; on
// close SQLite folds the WAL back in and removes it.
func checkSQLite(ctx context.Context, rep *Report, path string) error {
	db, err := sqlite.New(ctx, sqlite.Config{Path: path, MaxOpenConns: 1})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rep.add(CheckIntegrity, "", StatusFailed, "opening the restored database: "+err.Error(), err)
		rep.add(CheckForeignKeyCheck, "", StatusSkipped, "", nil)
		return nil
	}
	defer db.Close()
	const show = 10 // problems quoted in the detail
	rs, err := orm.RunNative(ctx, db, "PRAGMA integrity_check", nil, show)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		rep.add(CheckIntegrity, "", StatusFailed, err.Error(), err)
	case len(rs.Rows) == 1 && fmt.Sprint(rs.Rows[0]...) == "ok":
		rep.add(CheckIntegrity, "", StatusOK, "ok", nil)
	default:
		lines := make([]string, len(rs.Rows))
		for i, row := range rs.Rows {
			lines[i] = fmt.Sprint(row...)
		}
		rep.add(CheckIntegrity, "", StatusFailed, strings.Join(lines, "; "), nil)
	}
	rs, err = orm.RunNative(ctx, db, "PRAGMA foreign_key_check", nil, show)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		rep.add(CheckForeignKeyCheck, "", StatusFailed, err.Error(), err)
	case len(rs.Rows) == 0:
		rep.add(CheckForeignKeyCheck, "", StatusOK, "no violations", nil)
	default:
		lines := make([]string, len(rs.Rows))
		for i, row := range rs.Rows { // table, rowid, parent, fkid
			lines[i] = fmt.Sprintf("%v row %v refers to a missing row of %v", row[0], row[1], row[2])
		}
		more := ""
		if rs.Truncated {
			more = "; and more"
		}
		rep.add(CheckForeignKeyCheck, "", StatusFailed, strings.Join(lines, "; ")+more, nil)
	}
	return nil
}

// hashFile returns the size and hex SHA-256 of the file at path.
func hashFile(ctx context.Context, path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// ctxReader stops reading when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// countWriter counts what it passes on.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
