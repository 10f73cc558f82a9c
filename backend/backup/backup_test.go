package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/backup"
	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/security/crypto"
)

// testKey is a fixed secret, so that a test can make "the same key id with
// another secret".
func testKey(t *testing.T, id string, fill byte) *crypto.Key {
	t.Helper()
	k, err := crypto.KeyFromBytes(id, crypto.XChaCha20Poly1305, bytes.Repeat([]byte{fill}, crypto.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keyring(keys ...*crypto.Key) *crypto.Keyring {
	r := crypto.NewKeyring(crypto.KeyringConfig{})
	for _, k := range keys {
		r.Add(k, true)
	}
	return r
}

// openStore opens a store in dir; with a keyring it encrypts, in chunks of
// 1 KiB so that a test database makes many.
func openStore(t *testing.T, dir string, ring *crypto.Keyring) *backup.Store {
	t.Helper()
	s, err := backup.Open(backup.Config{Dir: dir, Keyring: ring, ChunkSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openDB(t *testing.T, path string) *orm.DB {
	t.Helper()
	db, err := sqlite.New(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, h orm.Handle, sql string, args ...any) {
	t.Helper()
	if _, err := orm.ExecNative(context.Background(), h, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// createSchema makes parents, items (referring to parents) and counter,
// whose one row counts the items: a backup taken at one moment has
// count(items) = counter.n.
func createSchema(t *testing.T, db *orm.DB) {
	t.Helper()
	exec(t, db, "CREATE TABLE parents(id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
	exec(t, db, "CREATE TABLE items(id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parents(id), body TEXT NOT NULL)")
	exec(t, db, "CREATE TABLE counter(n INTEGER NOT NULL)")
	exec(t, db, "INSERT INTO parents(id, name) VALUES (1, 'first')")
	exec(t, db, "INSERT INTO counter(n) VALUES (0)")
}

// addItems inserts n items and counts them in one transaction.
func addItems(ctx context.Context, db *orm.DB, n int) error {
	return orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		for range n {
			if _, err := orm.ExecNative(ctx, tx, "INSERT INTO items(parent, body) VALUES (1, ?)", strings.Repeat("x", 200)); err != nil {
				return err
			}
		}
		_, err := orm.ExecNative(ctx, tx, "UPDATE counter SET n = n + ?", n)
		return err
	})
}

func scalar(t *testing.T, db *orm.DB, sql string) int64 {
	t.Helper()
	rs, err := orm.RunNative(context.Background(), db, sql, nil, 0)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return rs.Rows[0][0].(int64)
}

// counts opens the database at path and returns count(items) and counter.n.
func counts(t *testing.T, path string) (items, counter int64) {
	t.Helper()
	db, err := sqlite.New(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return scalar(t, db, "SELECT count(*) FROM items"), scalar(t, db, "SELECT n FROM counter")
}

// newDatabase creates a database with rows items and returns its path and
// the open DB.
func newDatabase(t *testing.T, rows int) (string, *orm.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db := openDB(t, path)
	createSchema(t, db)
	if err := addItems(context.Background(), db, rows); err != nil {
		t.Fatal(err)
	}
	return path, db
}

func mustBackup(t *testing.T, s *backup.Store, db *orm.DB) *backup.Manifest {
	t.Helper()
	m, err := s.BackupSQLite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func dataPath(s *backup.Store, m *backup.Manifest) string {
	return filepath.Join(s.Dir(), m.ID, m.Files[0].Name)
}

func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// editManifest changes manifest.json of backup id as raw JSON, the way
// someone with access to the folder could.
func editManifest(t *testing.T, s *backup.Store, id string, edit func(m map[string]any)) {
	t.Helper()
	path := filepath.Join(s.Dir(), id, "manifest.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// setChecksums records the data file's current size and SHA-256 in the
// manifest (plain backups: stored and plain alike), as someone covering
// their tracks would.
func setChecksums(t *testing.T, s *backup.Store, m *backup.Manifest) {
	t.Helper()
	b, err := os.ReadFile(dataPath(s, m))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	editManifest(t, s, m.ID, func(raw map[string]any) {
		f := raw["files"].([]any)[0].(map[string]any)
		f["size"], f["sha256"] = len(b), hex.EncodeToString(sum[:])
		if !m.Encrypted {
			f["plainSize"], f["plainSha256"] = len(b), hex.EncodeToString(sum[:])
		}
	})
}

func findCheck(r *backup.Report, status backup.Status) *backup.Check {
	for i := range r.Checks {
		if r.Checks[i].Status == status {
			return &r.Checks[i]
		}
	}
	return nil
}

// TestBackupWhileWriting backs up while another goroutine keeps adding
// items: the backup holds the database as of one moment (count(items) =
// counter.n), verifies and restores.
func TestBackupWhileWriting(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		name := "plain"
		if encrypted {
			name = "encrypted"
		}
		t.Run(name, func(t *testing.T) {
			path, db := newDatabase(t, 10)
			var ring *crypto.Keyring
			if encrypted {
				ring = keyring(testKey(t, "k1", 1))
			}
			s := openStore(t, filepath.Join(t.TempDir(), "backups"), ring)

			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			writes := make(chan int, 1)
			go func() { // owned by this test; stopped through ctx
				defer wg.Done()
				n := 0
				for ctx.Err() == nil {
					if err := addItems(ctx, db, 3); err != nil {
						if ctx.Err() == nil {
							t.Errorf("writer: %v", err)
						}
						break
					}
					n++
					if n == 20 {
						writes <- n // enough rows: back up now
					}
				}
			}()
			<-writes
			m, err := s.BackupSQLite(context.Background(), db)
			stop()
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if m.Encrypted != encrypted || m.Kind != backup.KindFull || m.Dialect != backup.DialectSQLite || m.Source != path {
				t.Errorf("manifest = %+v", m)
			}
			if encrypted && (m.KeyID != "k1" || m.Files[0].Name != "database.sqlite.enc") {
				t.Errorf("encrypted manifest: key %q, file %q", m.KeyID, m.Files[0].Name)
			}
			final := scalar(t, db, "SELECT count(*) FROM items")

			report, err := s.Verify(context.Background(), m.ID)
			if err != nil || !report.OK {
				t.Fatalf("Verify = %+v, %v", report, err)
			}
			restored := filepath.Join(t.TempDir(), "restored.db")
			if _, err := s.RestoreSQLite(context.Background(), m.ID, restored, backup.RestoreOptions{}); err != nil {
				t.Fatal(err)
			}
			items, counter := counts(t, restored)
			if items != counter || items < 10+60 || items > final {
				t.Errorf("restored %d items with counter %d; want equal, between 70 and %d", items, counter, final)
			}
			if entries, _ := os.ReadDir(filepath.Join(s.Dir(), m.ID)); len(entries) != 3 {
				t.Errorf("the backup folder holds %d entries, want the data file, manifest.json and verified.json", len(entries))
			}
		})
	}
}

func TestBackupFailureLeavesNothing(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ring *crypto.Keyring
		ctx  context.Context
		want string
	}{
		{"canceled context", nil, canceled, "context canceled"},
		{"keyring without a current key", crypto.NewKeyring(crypto.KeyringConfig{}), context.Background(), "no current key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, db := newDatabase(t, 5)
			s := openStore(t, t.TempDir(), tt.ring)
			m, err := s.BackupSQLite(tt.ctx, db)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("BackupSQLite = %v, %v; want an error containing %q", m, err, tt.want)
			}
			if entries, _ := os.ReadDir(s.Dir()); len(entries) != 0 {
				t.Errorf("the store holds %v after a failed backup, want nothing", entries)
			}
		})
	}
}

// TestVerify damages backups in the ways that matter and expects the first
// failed check to name what is wrong.
func TestVerify(t *testing.T) {
	k1 := testKey(t, "k1", 1)
	tests := []struct {
		name      string
		encrypted bool
		setup     func(t *testing.T, db *orm.DB) // before the backup
		damage    func(t *testing.T, s *backup.Store, m *backup.Manifest)
		open      *crypto.Keyring // the keyring to verify with; default the one that made it
		noKeyring bool
		wantCheck string // the first failed check; "" when the backup is fine
		wantFile  string
		wantErr   string
		wantIs    error
	}{
		{name: "plain ok"},
		{name: "encrypted ok", encrypted: true},
		{
			name:      "plain, one byte flipped",
			damage:    func(t *testing.T, s *backup.Store, m *backup.Manifest) { flipByte(t, dataPath(s, m), 5000) },
			wantCheck: backup.CheckChecksum, wantFile: "database.sqlite", wantErr: "SHA-256 is",
		},
		{
			name: "encrypted, one byte flipped", encrypted: true,
			damage:    func(t *testing.T, s *backup.Store, m *backup.Manifest) { flipByte(t, dataPath(s, m), 3000) },
			wantCheck: backup.CheckChecksum, wantFile: "database.sqlite.enc", wantErr: "SHA-256 is",
		},
		{
			name: "data file cut short",
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				if err := os.Truncate(dataPath(s, m), 4096); err != nil {
					t.Fatal(err)
				}
			},
			wantCheck: backup.CheckChecksum, wantFile: "database.sqlite", wantErr: "the file is 4096 bytes",
		},
		{
			name: "data file missing",
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				if err := os.Remove(dataPath(s, m)); err != nil {
					t.Fatal(err)
				}
			},
			wantCheck: backup.CheckChecksum, wantFile: "database.sqlite", wantErr: "reading the file", wantIs: fs.ErrNotExist,
		},
		{
			name: "manifest checksum edited",
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				editManifest(t, s, m.ID, func(raw map[string]any) {
					f := raw["files"].([]any)[0].(map[string]any)
					f["sha256"], f["plainSha256"] = strings.Repeat("0", 64), strings.Repeat("0", 64)
				})
			},
			wantCheck: backup.CheckChecksum, wantFile: "database.sqlite", wantErr: "the manifest says 0000",
		},
		{
			name: "manifest not JSON",
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				if err := os.WriteFile(filepath.Join(s.Dir(), m.ID, "manifest.json"), []byte("{\"format\": 1, "), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			wantCheck: backup.CheckManifest, wantErr: "manifest.json: parsing manifest",
		},
		{
			name: "manifest of a newer format",
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				editManifest(t, s, m.ID, func(raw map[string]any) { raw["format"] = 2 })
			},
			wantCheck: backup.CheckManifest, wantErr: "format 2 is not 1",
		},
		{
			name: "manifest names a file outside the folder",
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				editManifest(t, s, m.ID, func(raw map[string]any) { raw["files"].([]any)[0].(map[string]any)["name"] = "../../app.db" })
			},
			wantCheck: backup.CheckManifest, wantErr: "not a plain file name",
		},
		{
			name: "encrypted, manifest source edited", encrypted: true,
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				editManifest(t, s, m.ID, func(raw map[string]any) { raw["source"] = "/elsewhere.db" })
			},
			wantCheck: backup.CheckKey, wantErr: "the manifest was changed", wantIs: crypto.ErrOpen,
		},
		{
			name: "encrypted, data and checksums replaced", encrypted: true,
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				flipByte(t, dataPath(s, m), 3000)
				setChecksums(t, s, m)
			},
			wantCheck: backup.CheckKey, wantErr: "the manifest was changed",
		},
		{
			name: "encrypted, keyring without the key", encrypted: true,
			open:      keyring(testKey(t, "k2", 2)),
			wantCheck: backup.CheckKey, wantErr: `the keyring has no key "k1"`, wantIs: crypto.ErrUnknownKey,
		},
		{
			name: "encrypted, the same key id with another secret", encrypted: true,
			open:      keyring(testKey(t, "k1", 9)),
			wantCheck: backup.CheckKey, wantErr: `key "k1" in the keyring is not the key`, wantIs: crypto.ErrOpen,
		},
		{
			name: "encrypted, store without a keyring", encrypted: true, noKeyring: true,
			wantCheck: backup.CheckKey, wantErr: "the store has no keyring",
		},
		{
			name: "plain, a damaged page with matching checksums",
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				// Page 2 onwards holds the tables: scribble over a b-tree page header.
				path := dataPath(s, m)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				copy(b[4096:4096+64], bytes.Repeat([]byte{0xff}, 64))
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				setChecksums(t, s, m)
			},
			wantCheck: backup.CheckIntegrity,
		},
		{
			name: "a dangling foreign key",
			setup: func(t *testing.T, db *orm.DB) {
				// The writer is one connection: the pragma holds for the insert.
				exec(t, db, "PRAGMA foreign_keys = OFF")
				exec(t, db, "INSERT INTO items(parent, body) VALUES (42, 'orphan')")
				exec(t, db, "PRAGMA foreign_keys = ON")
			},
			wantCheck: backup.CheckForeignKeyCheck, wantErr: "items row 11 refers to a missing row of parents",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, db := newDatabase(t, 10)
			if tt.setup != nil {
				tt.setup(t, db)
			}
			dir := t.TempDir()
			var ring *crypto.Keyring
			if tt.encrypted {
				ring = keyring(k1)
			}
			m := mustBackup(t, openStore(t, dir, ring), db)
			if tt.open != nil {
				ring = tt.open
			}
			if tt.noKeyring {
				ring = nil
			}
			s := openStore(t, dir, ring)
			if tt.damage != nil {
				tt.damage(t, s, m)
			}

			report, err := s.Verify(context.Background(), m.ID)
			if report == nil {
				t.Fatalf("Verify returned no report: %v", err)
			}
			if tt.wantCheck == "" {
				if err != nil || !report.OK {
					t.Fatalf("Verify = %+v, %v; want ok", report, err)
				}
				want := []string{backup.CheckManifest, backup.CheckChecksum, backup.CheckRestore, backup.CheckIntegrity, backup.CheckForeignKeyCheck}
				if tt.encrypted {
					want = slices.Insert(want, 1, backup.CheckKey)
				}
				var got []string
				for _, c := range report.Checks {
					got = append(got, c.Name)
				}
				if !slices.Equal(got, want) {
					t.Errorf("checks = %v, want %v", got, want)
				}
				return
			}
			if err == nil || report.OK {
				t.Fatalf("Verify = %+v, nil; want %s to fail", report, tt.wantCheck)
			}
			failed := findCheck(report, backup.StatusFailed)
			if failed.Name != tt.wantCheck || (tt.wantFile != "" && failed.File != tt.wantFile) {
				t.Errorf("first failed check = %s of %q (%s), want %s of %q", failed.Name, failed.File, failed.Detail, tt.wantCheck, tt.wantFile)
			}
			if !errors.Is(err, backup.ErrVerifyFailed) {
				t.Errorf("error %v is not ErrVerifyFailed", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, m.ID) || !strings.Contains(msg, tt.wantFile) {
				t.Errorf("error = %q, want it to name the backup, the file %q and %q", msg, tt.wantFile, tt.wantErr)
			}
			if entries, _ := os.ReadDir(s.Dir()); len(entries) != 1 {
				t.Errorf("Verify left %v in the store", entries)
			}
		})
	}
}

// dirState is every file of a folder with its size, modification time and
// SHA-256, to tell that nothing changed.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	state := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		sum := sha256.Sum256(b)
		state[e.Name()] = info.ModTime().String() + " " + hex.EncodeToString(sum[:])
	}
	return state
}

func TestRestore(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		name := "plain"
		if encrypted {
			name = "encrypted"
		}
		t.Run(name, func(t *testing.T) {
			path, db := newDatabase(t, 10)
			var ring *crypto.Keyring
			if encrypted {
				ring = keyring(testKey(t, "k1", 1))
			}
			now := time.Date(2026, 12, 3, 5, 50, 12, 0, time.UTC)
			s, err := backup.Open(backup.Config{Dir: filepath.Join(t.TempDir(), "b"), Keyring: ring, ChunkSize: 4096, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			m := mustBackup(t, s, db)
			if err := addItems(context.Background(), db, 5); err != nil { // after the backup
				t.Fatal(err)
			}
			db.Close()
			// A stale shared-memory file must go with the database it belongs to.
			if err := os.WriteFile(path+"-shm", []byte("stale"), 0o600); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Hour)

			rep, err := s.RestoreSQLite(context.Background(), m.ID, path, backup.RestoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			kept := path + ".before-restore-20261203T065012.000Z"
			if !rep.Restored || rep.KeptAs != kept || rep.Current == nil || rep.Target != path || rep.Verify == nil || !rep.Verify.OK {
				t.Errorf("report = %+v", rep)
			}
			if _, err := os.Stat(path + "-shm"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the old -shm is still beside the restored database: %v", err)
			}
			if b, _ := os.ReadFile(kept + "-shm"); string(b) != "stale" {
				t.Errorf("kept -shm = %q, want the old one", b)
			}
			os.Remove(kept + "-shm")
			if items, counter := counts(t, path); items != 10 || counter != 10 {
				t.Errorf("restored database: %d items, counter %d; want 10, 10", items, counter)
			}
			if items, _ := counts(t, kept); items != 15 {
				t.Errorf("kept database: %d items, want 15", items)
			}
			var left []string
			entries, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range entries {
				if strings.Contains(e.Name(), ".restore-") {
					left = append(left, e.Name())
				}
			}
			if len(left) > 0 {
				t.Errorf("temporary files left beside the target: %v", left)
			}
		})
	}
}

func TestRestoreWithoutCurrentDatabase(t *testing.T) {
	_, db := newDatabase(t, 3)
	s := openStore(t, t.TempDir(), nil)
	m := mustBackup(t, s, db)
	target := filepath.Join(t.TempDir(), "new.db")
	rep, err := s.RestoreSQLite(context.Background(), m.ID, target, backup.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Current != nil || rep.KeptAs != "" || !rep.Restored {
		t.Errorf("report = %+v, want nothing kept", rep)
	}
	if items, _ := counts(t, target); items != 3 {
		t.Errorf("%d items, want 3", items)
	}
}

func TestRestoreDryRunChangesNothing(t *testing.T) {
	path, db := newDatabase(t, 10)
	s := openStore(t, filepath.Join(t.TempDir(), "b"), keyring(testKey(t, "k1", 1)))
	m := mustBackup(t, s, db)
	if err := addItems(context.Background(), db, 5); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, storeBefore := dirState(t, filepath.Dir(path)), dirState(t, filepath.Join(s.Dir(), m.ID))
	info, _ := os.Stat(path)

	rep, err := s.RestoreSQLite(context.Background(), m.ID, path, backup.RestoreOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := dirState(t, filepath.Dir(path)); !mapsEqual(got, before) {
		t.Errorf("the dry run changed the target's folder:\n got %v\nwant %v", got, before)
	}
	if got := dirState(t, filepath.Join(s.Dir(), m.ID)); !mapsEqual(got, storeBefore) {
		t.Errorf("the dry run changed the backup")
	}
	switch {
	case !rep.DryRun || rep.Restored || rep.Verify != nil:
		t.Errorf("report = %+v, want a dry run that restored and verified nothing", rep)
	case rep.Backup.ID != m.ID || rep.Target != path:
		t.Errorf("report names backup %s and target %s, want %s and %s", rep.Backup.ID, rep.Target, m.ID, path)
	case rep.Current == nil || rep.Current.Size != info.Size() || !rep.Current.ModTime.Equal(info.ModTime()):
		t.Errorf("current = %+v, want size %d, modified %v", rep.Current, info.Size(), info.ModTime())
	case !strings.HasPrefix(rep.KeptAs, path+".before-restore-"):
		t.Errorf("KeptAs = %q", rep.KeptAs)
	case len(rep.Plan) != 3 || !strings.Contains(rep.Plan[1], rep.KeptAs):
		t.Errorf("plan = %q", rep.Plan)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRestoreRefusesDamagedBackup: a backup that fails a check is not
// restored, and the current database stays byte for byte.
func TestRestoreRefusesDamagedBackup(t *testing.T) {
	tests := []struct {
		name      string
		encrypted bool
		damage    func(t *testing.T, s *backup.Store, m *backup.Manifest)
		open      *crypto.Keyring
		wantErr   string
	}{
		{
			name:    "plain, one byte flipped",
			damage:  func(t *testing.T, s *backup.Store, m *backup.Manifest) { flipByte(t, dataPath(s, m), 100) },
			wantErr: "checksum of database.sqlite failed",
		},
		{
			name: "encrypted, one byte flipped", encrypted: true,
			damage:  func(t *testing.T, s *backup.Store, m *backup.Manifest) { flipByte(t, dataPath(s, m), 100) },
			wantErr: "checksum of database.sqlite.enc failed",
		},
		{
			name: "manifest size edited",
			damage: func(t *testing.T, s *backup.Store, m *backup.Manifest) {
				editManifest(t, s, m.ID, func(raw map[string]any) {
					f := raw["files"].([]any)[0].(map[string]any)
					f["size"], f["plainSize"] = 1, 1
				})
			},
			wantErr: "the manifest says 1",
		},
		{
			name: "wrong key", encrypted: true,
			open:    keyring(testKey(t, "k2", 2)),
			wantErr: `the keyring has no key "k1"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, db := newDatabase(t, 10)
			dir := filepath.Join(t.TempDir(), "b")
			var ring *crypto.Keyring
			if tt.encrypted {
				ring = keyring(testKey(t, "k1", 1))
			}
			m := mustBackup(t, openStore(t, dir, ring), db)
			if tt.open != nil {
				ring = tt.open
			}
			s := openStore(t, dir, ring)
			if err := addItems(context.Background(), db, 5); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if tt.damage != nil {
				tt.damage(t, s, m)
			}
			before := dirState(t, filepath.Dir(path))

			rep, err := s.RestoreSQLite(context.Background(), m.ID, path, backup.RestoreOptions{})
			if err == nil || !errors.Is(err, backup.ErrVerifyFailed) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("RestoreSQLite = %v; want a refusal containing %q", err, tt.wantErr)
			}
			if rep == nil || rep.Restored || rep.Verify == nil || rep.Verify.OK {
				t.Errorf("report = %+v", rep)
			}
			if got := dirState(t, filepath.Dir(path)); !mapsEqual(got, before) {
				t.Errorf("a refused restore changed the target's folder:\n got %v\nwant %v", got, before)
			}
		})
	}
}

func TestScanAndList(t *testing.T) {
	_, db := newDatabase(t, 3)
	clock := time.Date(2026, 12, 3, 5, 50, 12, 0, time.UTC)
	s, err := backup.Open(backup.Config{Dir: t.TempDir(), Now: func() time.Time { clock = clock.Add(time.Minute); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	older, newer := mustBackup(t, s, db), mustBackup(t, s, db)

	// A backup that crashed before its manifest, one whose manifest is
	// damaged, a folder that is not a backup and the store's scratch space.
	crashed := "20261203T060000.000Z-abcdef"
	mkdir := func(name string) string {
		t.Helper()
		p := filepath.Join(s.Dir(), name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	os.WriteFile(filepath.Join(mkdir(crashed), "snapshot.tmp"), []byte("partial"), 0o600)
	damaged := "20261203T060100.000Z-abcdef"
	os.WriteFile(filepath.Join(mkdir(damaged), "manifest.json"), []byte(`{"format":1,"id":"nope"}`), 0o600)
	mkdir("photos")
	mkdir(".verify-123")

	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	if want := []string{newer.ID, older.ID}; !slices.Equal(ids, want) {
		t.Errorf("List = %v, want %v (newest first, complete backups only)", ids, want)
	}
	inv, err := s.Scan()
	if err != nil {
		t.Fatal(err)
	}
	wantSkipped := map[string]string{
		crashed:  "the backup was interrupted",
		damaged:  "is not a backup ID",
		"photos": "the name is not a backup ID",
	}
	if len(inv.Skipped) != len(wantSkipped) {
		t.Errorf("skipped = %+v, want %d entries", inv.Skipped, len(wantSkipped))
	}
	for _, sk := range inv.Skipped {
		if want := wantSkipped[sk.Name]; want == "" || !strings.Contains(sk.Reason, want) {
			t.Errorf("skipped %s because %q, want a reason containing %q", sk.Name, sk.Reason, want)
		}
	}
	if _, err := s.Get(crashed); !errors.Is(err, backup.ErrIncomplete) {
		t.Errorf("Get(crashed) = %v, want ErrIncomplete", err)
	}
	if _, err := s.Verify(context.Background(), crashed); !errors.Is(err, backup.ErrVerifyFailed) || !errors.Is(err, backup.ErrIncomplete) {
		t.Errorf("Verify(crashed) = %v, want ErrVerifyFailed and ErrIncomplete", err)
	}
	if err := s.Delete(crashed); err != nil {
		t.Errorf("Delete(crashed) = %v", err)
	}
	if _, err := s.Get("20261203T060000.000Z-000000"); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	if err := s.Delete(older.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(older.ID); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("deleting twice = %v, want ErrNotFound", err)
	}
}

func TestPrune(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name    string
		r       backup.Retention
		deleted []int // indexes of the backups deleted, oldest is 0
		wantErr string
	}{
		{name: "keep 2", r: backup.Retention{Keep: 2}, deleted: []int{0, 1, 2}},
		{name: "keep 1", r: backup.Retention{Keep: 1}, deleted: []int{0, 1, 2, 3}},
		{name: "keep more than there are", r: backup.Retention{Keep: 10}, deleted: []int{}},
		{name: "max age 36h", r: backup.Retention{MaxAge: 36 * time.Hour}, deleted: []int{0, 1, 2}},
		{name: "max age shorter than the newest's", r: backup.Retention{MaxAge: time.Minute}, deleted: []int{0, 1, 2, 3}},
		{name: "either rule keeps", r: backup.Retention{Keep: 3, MaxAge: 36 * time.Hour}, deleted: []int{0, 1}},
		{name: "negative keep", r: backup.Retention{Keep: -1}, wantErr: "Keep -1 is negative"},
		{name: "no rule", r: backup.Retention{}, wantErr: "set Keep or MaxAge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, db := newDatabase(t, 1)
			now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			s, err := backup.Open(backup.Config{Dir: t.TempDir(), Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for range 5 {
				ids = append(ids, mustBackup(t, s, db).ID)
				now = now.Add(day)
			}
			now = now.Add(-day + time.Hour) // an hour after the newest
			// What crashes leave: an old interrupted backup and an old
			// Verify scratch folder go; a backup begun 10 minutes ago (it
			// may still be running) and a non-ID folder stay.
			interrupted := filepath.Join(s.Dir(), "20261101T000000.000Z-000000")
			running := filepath.Join(s.Dir(), now.Add(-10*time.Minute).Format("20060102T150405.000Z")+"-000000")
			scratch := filepath.Join(s.Dir(), ".verify-123")
			stranger := filepath.Join(s.Dir(), "not-a-backup")
			for _, d := range []string{interrupted, running, scratch, stranger} {
				os.Mkdir(d, 0o700)
			}
			os.Chtimes(scratch, now.Add(-2*time.Hour), now.Add(-2*time.Hour))

			deleted, err := s.Prune(tt.r)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Prune = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []string{filepath.Base(scratch), filepath.Base(interrupted)} // in name order, first
			for _, i := range tt.deleted {
				want = append(want, ids[i])
			}
			if !slices.Equal(deleted, want) {
				t.Errorf("deleted %v, want %v", deleted, want)
			}
			list, _ := s.List()
			if len(list) != 5-len(tt.deleted) || list[0].ID != ids[4] {
				t.Errorf("%d backups left, newest %s; want %d, newest %s", len(list), list[0].ID, 5-len(tt.deleted), ids[4])
			}
			for _, d := range []string{running, stranger} {
				if _, err := os.Stat(d); err != nil {
					t.Errorf("Prune removed %s: %v", filepath.Base(d), err)
				}
			}
		})
	}
}

func TestIDsFromCallersAreValidated(t *testing.T) {
	path, db := newDatabase(t, 1)
	s := openStore(t, filepath.Join(t.TempDir(), "b"), nil)
	good := mustBackup(t, s, db).ID
	db.Close()
	bad := []string{
		"",
		"..",
		"../b",
		"../../etc/passwd",
		good + "/../" + good,
		good + "/manifest.json",
		"/" + good,
		good[:len(good)-1],
		good + "0",
		good[:len(good)-6] + "ABCDEF", // upper case (good's own may be all digits)
		strings.Replace(good, "-", "/", 1),
		"20261303T055012.123Z-1a2b3c", // month 13
		good[:len(good)-1] + "\x00",
	}
	for _, id := range bad {
		t.Run(id, func(t *testing.T) {
			if backup.ValidID(id) {
				t.Errorf("ValidID(%q) = true", id)
			}
			ctx := context.Background()
			_, errGet := s.Get(id)
			_, errVerify := s.Verify(ctx, id)
			_, errRestore := s.RestoreSQLite(ctx, id, path, backup.RestoreOptions{})
			errDelete := s.Delete(id)
			for op, err := range map[string]error{"Get": errGet, "Verify": errVerify, "RestoreSQLite": errRestore, "Delete": errDelete} {
				if !errors.Is(err, backup.ErrInvalidID) {
					t.Errorf("%s(%q) = %v, want ErrInvalidID", op, id, err)
				}
			}
		})
	}
	if !backup.ValidID(good) {
		t.Errorf("ValidID(%q) = false", good)
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Errorf("%d backups after the attempts, want 1", len(list))
	}
}

func TestOpenValidates(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	tests := []struct {
		name string
		cfg  backup.Config
		want string
	}{
		{"no dir", backup.Config{}, "Config.Dir is empty"},
		{"dir with ?", backup.Config{Dir: "a?b"}, "contains '?'"},
		{"chunk too small", backup.Config{Dir: t.TempDir(), ChunkSize: 100}, "Config.ChunkSize 100"},
		{"dir is a file", backup.Config{Dir: file}, file},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := backup.Open(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	dir := filepath.Join(t.TempDir(), "new", "backups")
	if _, err := backup.Open(backup.Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("store folder: %v, %v; want mode 0700", info.Mode(), err)
	}
}

// TestVerificationsAreRecorded: Verify leaves its outcome beside the backup
// for the list, a failure with the check that failed.
func TestVerificationsAreRecorded(t *testing.T) {
	_, db := newDatabase(t, 3)
	s := openStore(t, t.TempDir(), nil)
	good, bad := mustBackup(t, s, db), mustBackup(t, s, db)
	if v, err := s.Verifications(); err != nil || len(v) != 0 {
		t.Fatalf("before any verification: %v, %v", v, err)
	}
	flipByte(t, dataPath(s, bad), 100)
	ctx := context.Background()
	if _, err := s.Verify(ctx, good.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(ctx, bad.ID); !errors.Is(err, backup.ErrVerifyFailed) {
		t.Fatal(err)
	}
	v, err := s.Verifications()
	if err != nil || !v[good.ID].OK || v[bad.ID].OK || !strings.HasPrefix(v[bad.ID].Failed, "checksum (database.sqlite)") || v[good.ID].At.IsZero() {
		t.Fatalf("verifications = %+v, %v", v, err)
	}
	if list, _ := s.List(); len(list) != 2 {
		t.Fatalf("verified.json made the list %d long", len(list))
	}
	if rep, err := s.Verify(ctx, good.ID); err != nil || !rep.OK {
		t.Fatalf("verified.json beside the files fails the next verification: %v %+v", err, rep)
	}
}
