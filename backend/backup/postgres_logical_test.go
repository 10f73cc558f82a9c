package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/security/crypto"
)

// The tests below use a PostgreSQL cluster of their own (startPGCluster):
// a logical backup needs no replication, but the shared test server's
// database holds other tests' schemas, and a dump takes the whole database.

// pgLogicalSchema makes a database of two tables with four btree indexes
// and a foreign key; rows is the table c.ids reads.
func pgLogicalSchema() []string {
	return []string{
		"CREATE TABLE customers(id serial PRIMARY KEY, name text NOT NULL UNIQUE)",
		"CREATE TABLE rows(id serial PRIMARY KEY, customer int NOT NULL REFERENCES customers(id), n int NOT NULL)",
		"CREATE INDEX rows_n ON rows(n)",
		"INSERT INTO customers(name) SELECT 'c' || g FROM generate_series(1, 20) g",
		"INSERT INTO rows(customer, n) SELECT 1 + g % 20, g FROM generate_series(1, 500) g",
	}
}

func newTestKeyring(t *testing.T) *crypto.Keyring {
	t.Helper()
	ring := crypto.NewKeyring(crypto.KeyringConfig{})
	key, err := crypto.NewKey("k1", crypto.XChaCha20Poly1305)
	if err != nil {
		t.Fatal(err)
	}
	ring.Add(key, true)
	return ring
}

func openTestStore(t *testing.T, ring *crypto.Keyring) *Store {
	t.Helper()
	s, err := Open(Config{Dir: t.TempDir(), Keyring: ring})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storeLeftovers lists the store's working folders (scratch folders).
func storeLeftovers(s *Store) []string {
	left, _ := filepath.Glob(filepath.Join(s.Dir(), ".*"))
	return left
}

// checkStatus returns the status of the first check named name, or "".
func checkStatus(rep *Report, name string) (Status, string) {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c.Status, c.Detail
		}
	}
	return "", ""
}

// TestPostgresLogical backs a database up with pg_dump, plain and
// encrypted, verifies it without and with a server, writes more rows, and
// restores it: a dry run changes nothing; the restore gives exactly the
// rows of the backup, and keeps the database it replaces.
func TestPostgresLogical(t *testing.T) {
	t.Parallel()
	c := startPGCluster(t)
	for _, tc := range []struct {
		name string
		db   string
		ring *crypto.Keyring
	}{
		{"plain", "shop", nil},
		{"encrypted", "vault", newTestKeyring(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c.exec(t, "postgres", "CREATE DATABASE "+tc.db)
			c.exec(t, tc.db, pgLogicalSchema()...)
			s := openTestStore(t, tc.ring)
			cfg := PostgresConfig{DSN: c.dsn(tc.db), BinDir: c.bin}

			before := time.Now()
			m, err := s.BackupPostgresLogical(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			t.Logf("BackupPostgresLogical took %v", after.Sub(before))
			atBackup := c.ids(t, tc.db)
			if len(atBackup) != 500 {
				t.Fatalf("%d rows before the backup, want 500", len(atBackup))
			}

			// The manifest and the files.
			sfx := ""
			if tc.ring != nil {
				sfx = ".enc"
			}
			var names []string
			for _, f := range m.Files {
				names = append(names, f.Name)
			}
			if want := []string{pgDumpFile + sfx, pgDumpInfoFile + sfx}; m.Kind != KindFull || m.Dialect != DialectPostgres || !slices.Equal(names, want) ||
				m.Encrypted != (tc.ring != nil) || m.Source != fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s", c.port, tc.db) {
				t.Errorf("manifest: got kind %s, dialect %s, files %v, encrypted %t, source %s; want full, postgres, %v, %t, the DSN without parameters",
					m.Kind, m.Dialect, names, m.Encrypted, m.Source, want, tc.ring != nil)
			}
			entries, _ := os.ReadDir(filepath.Join(s.Dir(), m.ID))
			if len(entries) != 3 {
				t.Errorf("the backup's folder has %d entries, want the 2 files and %s", len(entries), manifestName)
			}
			dump, err := os.ReadFile(filepath.Join(s.Dir(), m.ID, pgDumpFile+sfx))
			if err != nil {
				t.Fatal(err)
			}
			if magic := map[bool]string{false: "PGDMP", true: chunkMagic}[tc.ring != nil]; !strings.HasPrefix(string(dump), magic) {
				t.Errorf("the dump starts with %q, want %q", dump[:min(8, len(dump))], magic)
			}
			info, err := s.pgReadDumpInfo(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			wantTables := map[string]int64{"public.customers": 20, "public.rows": 500}
			if info.Database != tc.db || info.Owner != "postgres" || info.Encoding != "UTF8" || !equalCounts(info.Tables, wantTables) ||
				info.SnapshotAt.Before(before.Add(-time.Second)) || info.SnapshotAt.After(after.Add(time.Second)) {
				t.Errorf("%s: got %+v, want database %s, owner postgres, UTF8, tables %v, snapshot between %s and %s",
					pgDumpInfoFile, info, tc.db, wantTables, before, after)
			}

			// Verify has no server: the dump's table of contents is the trial.
			rep, err := s.Verify(ctx, m.ID)
			if err != nil || !rep.OK {
				t.Fatalf("Verify: %v\n%s", err, pgChecks(rep))
			}
			t.Logf("Verify:\n%s", pgChecks(rep))
			if st, detail := checkStatus(rep, CheckDumpList); st != StatusOK || !strings.Contains(detail, "no server was available for a trial load") {
				t.Errorf("Verify: %s check %s %q, want ok and saying no server was available\n%s", CheckDumpList, st, detail, pgChecks(rep))
			}
			if tc.ring != nil {
				plain, err := Open(Config{Dir: s.Dir()})
				if err != nil {
					t.Fatal(err)
				}
				if rep, err := plain.Verify(ctx, m.ID); !errors.Is(err, crypto.ErrUnknownKey) || rep.OK {
					t.Errorf("Verify without the key: %v, want crypto.ErrUnknownKey", err)
				}
			}

			// With a server: a trial load into a temporary database.
			start := time.Now()
			rep, err = s.VerifyPostgres(ctx, cfg, m.ID)
			if err != nil || !rep.OK {
				t.Fatalf("VerifyPostgres: %v\n%s", err, pgChecks(rep))
			}
			t.Logf("VerifyPostgres took %v:\n%s", time.Since(start), pgChecks(rep))
			for _, want := range []struct{ check, detail string }{
				{CheckTrialLoad, tc.db + "_verify_"},
				{CheckAmcheck, "on 4 btree indexes"},
				{CheckRowCounts, "2 tables, 520 rows, as in the dump's snapshot"},
			} {
				if st, detail := checkStatus(rep, want.check); st != StatusOK || !strings.Contains(detail, want.detail) {
					t.Errorf("VerifyPostgres: %s %s %q, want ok, saying %q", want.check, st, detail, want.detail)
				}
			}
			if got := c.databases(t, tc.db+"_"); len(got) != 0 {
				t.Errorf("after VerifyPostgres: databases %v, want the trial database dropped", got)
			}
			if v, err := s.Verifications(); err != nil || !v[m.ID].OK || v[m.ID].At.Before(start) {
				t.Errorf("Verifications after VerifyPostgres: %+v, %v; want this one, passed", v[m.ID], err)
			}
			if left := storeLeftovers(s); len(left) > 0 {
				t.Errorf("left in the store: %v", left)
			}

			// More rows after the backup.
			c.exec(t, tc.db, "INSERT INTO customers(name) VALUES ('late')",
				"INSERT INTO rows(customer, n) SELECT 1 + g % 21, g FROM generate_series(501, 600) g")
			later := c.ids(t, tc.db)

			plan, err := s.RestorePostgresBackup(ctx, cfg, m.ID, RestoreOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			words := strings.Join(plan.Plan, "\n")
			if !plan.DryRun || plan.Restored || plan.Verify != nil || plan.Backup.ID != m.ID || plan.Database != tc.db ||
				!strings.HasPrefix(plan.KeptAs, tc.db+"_before_restore_") || !plan.To.Equal(info.SnapshotAt) ||
				!strings.Contains(words, "rename "+tc.db+" to "+plan.KeptAs) || !strings.Contains(words, "never dropped") {
				t.Errorf("dry run: got %+v\nplan:\n%s", plan, words)
			}
			if got := c.ids(t, tc.db); !slices.Equal(got, later) {
				t.Errorf("after the dry run: %d rows, want %d", len(got), len(later))
			}
			if got := c.databases(t, tc.db+"_"); len(got) != 0 {
				t.Errorf("after the dry run: databases %v, want none", got)
			}

			start = time.Now()
			done, err := s.RestorePostgresBackup(ctx, cfg, m.ID, RestoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("RestorePostgresBackup took %v:\n%s", time.Since(start), pgChecks(done.Verify))
			if !done.Restored || !done.Verify.OK || done.KeptAs == "" {
				t.Errorf("restore: got %+v, want restored, verified, the old database kept", done)
			}
			if got := c.ids(t, tc.db); !slices.Equal(got, atBackup) {
				t.Errorf("restored: %d rows, want exactly the %d of the backup", len(got), len(atBackup))
			}
			if got := c.ids(t, done.KeptAs); !slices.Equal(got, later) {
				t.Errorf("the database kept, %s: %d rows, want %d", done.KeptAs, len(got), len(later))
			}
			if got := c.databases(t, tc.db+"_"); !slices.Equal(got, []string{done.KeptAs}) {
				t.Errorf("databases: got %v, want only %s", got, done.KeptAs)
			}
			conn := c.connect(t, tc.db)
			_, ferr := conn.Exec(ctx, "INSERT INTO rows(customer, n) VALUES (9999, 0)")
			closeConn(conn)
			if pgSQLState(ferr) != "23503" { // foreign_key_violation
				t.Errorf("a row for a missing customer in the restored database: %v, want a foreign key violation", ferr)
			}
			if left := storeLeftovers(s); len(left) > 0 {
				t.Errorf("left in the store: %v", left)
			}
		})
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestPostgresLogicalCorruption flips one byte of a logical backup's file:
// Verify and VerifyPostgres name the file, and RestorePostgresBackup
// refuses and leaves the live database as it was.
func TestPostgresLogicalCorruption(t *testing.T) {
	t.Parallel()
	c := startPGCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.exec(t, "postgres", "CREATE DATABASE ledger")
	c.exec(t, "ledger", pgLogicalSchema()...)
	cfg := PostgresConfig{DSN: c.dsn("ledger"), BinDir: c.bin}
	stores := map[string]*Store{"plain": openTestStore(t, nil), "encrypted": openTestStore(t, newTestKeyring(t))}
	backups := map[string]*Manifest{}
	for name, s := range stores {
		m, err := s.BackupPostgresLogical(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		backups[name] = m
	}
	want := c.ids(t, "ledger")

	for _, tc := range []struct {
		store string
		file  string
	}{
		{"plain", pgDumpFile},
		{"plain", pgDumpInfoFile},
		{"encrypted", pgDumpFile + ".enc"},
		{"encrypted", pgDumpInfoFile + ".enc"},
	} {
		t.Run(tc.store+" "+tc.file, func(t *testing.T) {
			s, m := stores[tc.store], backups[tc.store]
			path := filepath.Join(s.Dir(), m.ID, tc.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			orig := slices.Clone(data)
			data[len(data)/2] ^= 0x01
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, orig, 0o600)

			for _, v := range []struct {
				name   string
				verify func() (*Report, error)
			}{
				{"Verify", func() (*Report, error) { return s.Verify(ctx, m.ID) }},
				{"VerifyPostgres", func() (*Report, error) { return s.VerifyPostgres(ctx, cfg, m.ID) }},
			} {
				rep, err := v.verify()
				var ce *CheckError
				if !errors.As(err, &ce) || !errors.Is(err, ErrVerifyFailed) || rep == nil || rep.OK {
					t.Fatalf("%s: got %v, want a *CheckError", v.name, err)
				}
				if ce.Check.Name != CheckChecksum || ce.Check.File != tc.file {
					t.Errorf("%s: first failure is %s of %q, want %s of %q\n%s", v.name, ce.Check.Name, ce.Check.File, CheckChecksum, tc.file, pgChecks(rep))
				}
			}
			if got := c.databases(t, "ledger_"); len(got) != 0 {
				t.Errorf("after verifying: databases %v, want none", got)
			}

			_, err = s.RestorePostgresBackup(ctx, cfg, m.ID, RestoreOptions{})
			t.Logf("restore: %v", err)
			if err == nil || !strings.Contains(err.Error(), tc.file) {
				t.Errorf("restore: %v, want a refusal naming %s", err, tc.file)
			}
			if !errors.Is(err, ErrVerifyFailed) || !strings.Contains(err.Error(), "refused") {
				t.Errorf("restore: %v, want a refusal that matches ErrVerifyFailed", err)
			}
			if got := c.ids(t, "ledger"); !slices.Equal(got, want) {
				t.Errorf("after the refused restore: %d rows, want %d", len(got), len(want))
			}
			if got := c.databases(t, "ledger_"); len(got) != 0 {
				t.Errorf("after the refused restore: databases %v, want none", got)
			}
			if left := storeLeftovers(s); len(left) > 0 {
				t.Errorf("left in the store: %v", left)
			}
		})
	}

	// A plain manifest is not sealed: pgdump.json can be rewritten with
	// its checksums, so that only the trial load can tell.
	t.Run("row counts differ", func(t *testing.T) {
		s, m := stores["plain"], backups["plain"]
		dir := filepath.Join(s.Dir(), m.ID)
		info, err := s.pgReadDumpInfo(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		info.Tables["public.rows"]--
		data, err := json.Marshal(info)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		changed := *m
		changed.Files = slices.Clone(m.Files)
		changed.Files[1] = File{Name: pgDumpInfoFile, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), PlainSize: int64(len(data)), PlainSHA256: hex.EncodeToString(sum[:])}
		origInfo, _ := os.ReadFile(filepath.Join(dir, pgDumpInfoFile))
		origManifest, _ := os.ReadFile(filepath.Join(dir, manifestName))
		defer os.WriteFile(filepath.Join(dir, pgDumpInfoFile), origInfo, 0o600)
		defer os.WriteFile(filepath.Join(dir, manifestName), origManifest, 0o600)
		if err := os.WriteFile(filepath.Join(dir, pgDumpInfoFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := writeManifest(dir, &changed); err != nil {
			t.Fatal(err)
		}

		rep, err := s.VerifyPostgres(ctx, cfg, m.ID)
		var ce *CheckError
		if !errors.As(err, &ce) || ce.Check.Name != CheckRowCounts || !strings.Contains(ce.Check.Detail, "table public.rows has 500 rows, want 499") {
			t.Errorf("VerifyPostgres: %v, want the row counts to fail\n%s", err, pgChecks(rep))
		}
		if got := c.databases(t, "ledger_"); len(got) != 0 {
			t.Errorf("after the failed trial load: databases %v, want the trial database dropped", got)
		}
		_, err = s.RestorePostgresBackup(ctx, cfg, m.ID, RestoreOptions{})
		if !errors.As(err, &ce) || ce.Check.Name != CheckRowCounts || !strings.Contains(err.Error(), "refused") {
			t.Errorf("restore: %v, want a refusal for the row counts", err)
		}
		if got := c.ids(t, "ledger"); !slices.Equal(got, want) {
			t.Errorf("after the refused restore: %d rows, want %d", len(got), len(want))
		}
		if got := c.databases(t, "ledger_"); len(got) != 0 {
			t.Errorf("after the refused restore: databases %v, want none", got)
		}
		if left := storeLeftovers(s); len(left) > 0 {
			t.Errorf("left in the store: %v", left)
		}
	})
}

// TestPostgresLogicalFailures: a pg_dump that fails, or that ctx stops,
// leaves nothing, and its error names the program, says why, and never
// shows the password.
func TestPostgresLogicalFailures(t *testing.T) {
	t.Parallel()
	c := startPGCluster(t)
	c.exec(t, "postgres", "CREATE DATABASE closed", "CREATE ROLE reader LOGIN PASSWORD 's3cret'")
	c.exec(t, "closed", "CREATE TABLE secret(id int PRIMARY KEY)", "CREATE TABLE locked(id int PRIMARY KEY)")
	s := openTestStore(t, nil)

	// reader may not read table secret.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn := fmt.Sprintf("postgres://reader:s3cret@127.0.0.1:%d/closed?sslmode=disable", c.port)
	_, err := s.BackupPostgresLogical(ctx, PostgresConfig{DSN: dsn, BinDir: c.bin})
	t.Logf("without permission: %v", err)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") || !strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a dump without permission: %v, want an error naming pg_dump, saying permission denied, without the password", err)
	}
	if entries, _ := os.ReadDir(s.Dir()); len(entries) > 0 {
		t.Errorf("after the failed backup the store holds %d entries, want none", len(entries))
	}

	// A lock holds pg_dump up until ctx ends.
	lock := c.connect(t, "closed")
	defer closeConn(lock)
	if _, err := lock.Exec(ctx, "BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	start := time.Now()
	_, err = s.BackupPostgresLogical(short, PostgresConfig{DSN: c.dsn("closed"), BinDir: c.bin})
	t.Logf("stopped: %v", err)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the backup took %v after its context ended", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("a dump stopped by its context: %v, want context.DeadlineExceeded, naming pg_dump", err)
	}
	if entries, _ := os.ReadDir(s.Dir()); len(entries) > 0 {
		t.Errorf("after the stopped backup the store holds %d entries, want none", len(entries))
	}
}

// TestRestorePostgresBackupRefuses: what is not a logical PostgreSQL
// backup is refused before any server is contacted.
func TestRestorePostgresBackupRefuses(t *testing.T) {
	s := openTestStore(t, nil)
	empty := sha256.Sum256(nil)
	sum := hex.EncodeToString(empty[:])
	fake := func(kind, dialect, file string) string {
		t.Helper()
		id := newID(time.Now())
		dir := filepath.Join(s.Dir(), id)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		m := &Manifest{Format: ManifestFormat, ID: id, Kind: kind, Dialect: dialect, CreatedAt: idTime(id), Source: "x",
			Files: []File{{Name: file, SHA256: sum, PlainSHA256: sum}}}
		if err := os.WriteFile(filepath.Join(dir, file), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.finishManifest(dir, m); err != nil {
			t.Fatal(err)
		}
		return id
	}
	base := fake(KindBase, DialectPostgres, pgBaseFile)
	lite := fake(KindFull, DialectSQLite, sqliteFile)
	cfg := PostgresConfig{DSN: "postgres://app:s3cret@127.0.0.1:1/app?sslmode=disable"} // nothing listens on port 1
	for _, tc := range []struct {
		name, id string
		is       error
		want     string
	}{
		{"a base backup", base, nil, "RestorePostgres restores it, to a moment"},
		{"a sqlite backup", lite, nil, "RestoreSQLite"},
		{"no such backup", "20261203T055012.123Z-1a2b3c", ErrNotFound, "no such backup"},
		{"not an ID", "../x", ErrInvalidID, "not a backup ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.RestorePostgresBackup(context.Background(), cfg, tc.id, RestoreOptions{DryRun: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func pgDumpInfoSeed() []byte {
	data, _ := json.Marshal(PGDumpInfo{Format: 1, ServerVersion: 150010, PGDumpMajor: 15, Server: "127.0.0.1:5432", Database: "app", User: "app",
		Owner: "app", Encoding: "UTF8", Collate: "C", Ctype: "C", LocaleProvider: "c",
		SnapshotAt: time.Date(2026, 12, 3, 5, 50, 12, 0, time.UTC), Tables: map[string]int64{"public.t": 3}})
	return data
}

func TestPostgresParseDumpInfo(t *testing.T) {
	seed := string(pgDumpInfoSeed())
	for _, tc := range []struct {
		name, data, want string
	}{
		{"ok", seed, ""},
		{"unknown field", strings.Replace(seed, `"format":1`, `"format":1,"x":1`, 1), "unknown field"},
		{"newer format", strings.Replace(seed, `"format":1`, `"format":2`, 1), "format 2"},
		{"no snapshot time", strings.Replace(seed, `"2026-12-03T05:50:12Z"`, `"0001-01-01T00:00:00Z"`, 1), "snapshotAt"},
		{"no tables", strings.Replace(seed, `"tables":{"public.t":3}`, `"tables":null`, 1), "tables"},
		{"negative count", strings.Replace(seed, `"public.t":3`, `"public.t":-1`, 1), "-1 rows"},
		{"trailing data", seed + "{}", "after the JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePGDumpInfo([]byte(tc.data))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzPostgresDumpInfo(f *testing.F) {
	f.Add(pgDumpInfoSeed())
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parsePGDumpInfo(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(info)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parsePGDumpInfo(again); err != nil {
			t.Fatalf("a parsed %s does not parse again: %v\n%s", pgDumpInfoFile, err, again)
		}
	})
}

// Back a PostgreSQL database up with pg_dump, verify the backup with a
// trial load, and restore it. (Not run: it needs a server.)
func ExampleStore_BackupPostgresLogical() {
	ctx := context.Background()
	store, err := Open(Config{Dir: "covet_data/backups"})
	if err != nil {
		log.Fatal(err)
	}
	cfg := PostgresConfig{DSN: "postgres://covet@127.0.0.1:5432/covet?sslmode=disable"}
	m, err := store.BackupPostgresLogical(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.VerifyPostgres(ctx, cfg, m.ID); err != nil {
		log.Fatal(err) // a *CheckError names the failed check
	}
	// Close the application's pool first: the database is renamed.
	done, err := store.RestorePostgresBackup(ctx, cfg, m.ID, RestoreOptions{})
	if err != nil {
		log.Fatal(err) // nothing changed on the server
	}
	fmt.Println("the database before the restore is kept as", done.KeptAs)
}
