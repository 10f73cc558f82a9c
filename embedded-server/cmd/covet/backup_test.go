package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/orm/ormtest"
	embeddedserver "github.com/covetpy/covet/embedded-server"
)

// TestBackupCLI: create (plain and encrypted), list, verify, a corrupted
// backup refused by verify and restore, and a restore to a time that
// brings the data back as it was.
func TestBackupCLI(t *testing.T) {
	t.Setenv("COVET_KEYS_PASSPHRASE", "correct horse battery staple")
	dir := t.TempDir()
	if code, _, errOut := covetRun(t, "migrate", "status", "--project", dir); code != 0 { // creates the project
		t.Fatal(errOut)
	}
	ctx := context.Background()
	dbPath := filepath.Join(dir, "covet_data", "covet.db")
	exec := func(sql string) {
		t.Helper()
		db, err := sqlite.New(ctx, sqlite.Config{Path: dbPath})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := orm.ExecNative(ctx, db, sql); err != nil {
			t.Fatal(err)
		}
	}
	count := func() string {
		t.Helper()
		db, err := sqlite.New(ctx, sqlite.Config{Path: dbPath})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rs, err := orm.RunNative(ctx, db, "SELECT count(*) FROM notes", nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rs.Rows[0][0])
	}
	exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
	exec("INSERT INTO notes (body) VALUES ('one'), ('two')")

	create := func(args ...string) string {
		t.Helper()
		code, out, errOut := covetRun(t, append([]string{"backup", "create", "--project", dir}, args...)...)
		if code != 0 {
			t.Fatalf("backup create %v: %d %s", args, code, errOut)
		}
		return strings.TrimSpace(out)
	}
	plain := create()
	time.Sleep(20 * time.Millisecond)
	between := time.Now().UTC()
	exec("INSERT INTO notes (body) VALUES ('three')")
	sealed := create("--encrypt")

	code, out, _ := covetRun(t, "backup", "list", "--json", "--project", dir)
	var list []struct {
		ID        string
		Encrypted bool
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].ID != sealed || !list[0].Encrypted || list[1].ID != plain {
		t.Fatalf("list: %d %s", code, out)
	}
	for _, id := range []string{plain, sealed} {
		if code, out, errOut := covetRun(t, "backup", "verify", id, "--project", dir); code != 0 || !strings.Contains(out, "integrity_check") {
			t.Errorf("verify %s: %d %s %s", id, code, out, errOut)
		}
	}

	// Without --yes nothing changes; with it the data is as it was.
	if code, out, errOut := covetRun(t, "backup", "restore", plain, "--project", dir); code != 0 || !strings.Contains(out, plain) || !strings.Contains(out, "Nothing was changed") || count() != "3" {
		t.Fatalf("restore without --yes: %d %s %s (rows %s)", code, out, errOut, count())
	}
	if code, out, errOut := covetRun(t, "backup", "restore", plain, "--yes", "--project", dir); code != 0 || !strings.Contains(out, "Restored ") || count() != "2" {
		t.Fatalf("restore --yes: %d %s %s (rows %s)", code, out, errOut, count())
	}
	// No server ever archived this database: no moment can be restored.
	to := between.Format(time.RFC3339Nano)
	if code, _, errOut := covetRun(t, "backup", "restore", "--to", to, "--yes", "--project", dir); code != 1 || !strings.Contains(errOut, "no sqlite base backup") {
		t.Fatalf("restore --to without an archive: %d %s", code, errOut)
	}
	if code, _, errOut := covetRun(t, "backup", "restore", sealed, "--yes", "--project", dir); code != 0 || count() != "3" {
		t.Fatalf("restore of the encrypted backup: %d %s (rows %s)", code, errOut, count())
	}

	// One corrupted byte: verify and restore refuse, the database stays.
	data := filepath.Join(dir, "covet_data", "backups", plain, "database.sqlite")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	os.WriteFile(data, b, 0o600)
	if code, _, errOut := covetRun(t, "backup", "verify", plain, "--project", dir); code != 1 || !strings.Contains(errOut, "database.sqlite") {
		t.Errorf("verify of a corrupted backup: %d %s", code, errOut)
	}
	before, _ := os.ReadFile(dbPath)
	if code, _, errOut := covetRun(t, "backup", "restore", plain, "--yes", "--project", dir); code != 1 || errOut == "" {
		t.Errorf("restore of a corrupted backup: %d %s", code, errOut)
	}
	if after, _ := os.ReadFile(dbPath); string(after) != string(before) || count() != "3" {
		t.Error("a refused restore changed the database")
	}
	// The schedule: shown with its defaults, changed in covet.json,
	// validated.
	if code, out, errOut := covetRun(t, "backup", "schedule", "--project", dir); code != 0 || !strings.Contains(out, "@hourly") || !strings.Contains(out, "24 newest") {
		t.Errorf("schedule: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := covetRun(t, "backup", "schedule", "--cron", "0 3 * * *", "--keep", "7", "--max-age", "168h", "--project", dir); code != 0 || !strings.Contains(out, "0 3 * * *") || !strings.Contains(out, "7 newest") {
		t.Errorf("schedule change: %d %s %s", code, out, errOut)
	}
	if conf, _ := os.ReadFile(filepath.Join(dir, "covet.json")); !strings.Contains(string(conf), `"schedule": "0 3 * * *"`) || !strings.Contains(string(conf), `"maxAge": "168h0m0s"`) {
		t.Errorf("covet.json after the change:\n%s", conf)
	}
	before, _ = os.ReadFile(filepath.Join(dir, "covet.json"))
	if code, _, errOut := covetRun(t, "backup", "schedule", "--cron", "every night", "--project", dir); code != 1 || !strings.Contains(errOut, "backups.schedule") {
		t.Errorf("a bad schedule: %d %s", code, errOut)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "covet.json")); string(after) != string(before) {
		t.Error("a refused schedule changed covet.json")
	}
	for _, bad := range [][]string{{"backup"}, {"backup", "verify"}, {"backup", "restore"}, {"backup", "restore", plain, "--to", to}, {"backup", "restore", "--to", "yesterday"}, {"backup", "verify", "../x"}} {
		if code, _, errOut := covetRun(t, append(bad, "--project", dir)...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, %q; want a failure that says why", bad, code, errOut)
		}
	}
}

// TestBackupThroughRunningServer: with a server running the project, covet
// backup asks it (its key store is the one that writes keys.json); restore
// --to brings the running database back to a moment between two writes, in
// place; and once the server stopped, the archive it left restores the file
// to a moment too.
func TestBackupThroughRunningServer(t *testing.T) {
	bin := buildCovet(t)
	project := t.TempDir()
	os.WriteFile(filepath.Join(project, "covet.json"), []byte(`{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:covet_data/covet.db"}}`), 0o644)
	cmd := exec.Command(bin, "serve", "--project", project)
	cmd.Env = append(os.Environ(), "COVET_KEYS_PASSPHRASE=correct horse battery staple")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(project, "covet_data", "runtime.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no runtime.json within 30 s")
		}
	}
	url, token, ok := embeddedserver.RunningServer(project)
	if !ok {
		t.Fatal("the server does not answer")
	}
	ctx := context.Background()
	admin := newAdminClient(url, token)
	sql := func(stmt string) int {
		t.Helper()
		var rs struct{ Rows [][]any }
		if err := admin.call(ctx, "POST", "/_covet/api/sql", map[string]any{"sql": stmt, "write": true}, &rs); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		if len(rs.Rows) == 1 && len(rs.Rows[0]) == 1 {
			n, _ := rs.Rows[0][0].(float64)
			return int(n)
		}
		return -1
	}

	code, out, errOut := covetRun(t, "backup", "create", "--encrypt", "--project", project)
	id := strings.TrimSpace(out)
	if code != 0 || id == "" || !strings.Contains(errOut, "through the server that runs this project") {
		t.Fatalf("create through the server: %d %q %q", code, out, errOut)
	}
	if code, out, _ := covetRun(t, "backup", "list", "--project", project); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "base") {
		t.Errorf("list through the server: %d %s", code, out)
	}
	if code, out, errOut := covetRun(t, "backup", "verify", id, "--project", project); code != 0 || !strings.Contains(out, "integrity_check") {
		t.Errorf("verify through the server: %d %s %s", code, out, errOut)
	}

	sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
	sql("INSERT INTO notes (body) VALUES ('one')")
	time.Sleep(20 * time.Millisecond)
	first := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	sql("INSERT INTO notes (body) VALUES ('two')")
	time.Sleep(20 * time.Millisecond)
	second := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	sql("INSERT INTO notes (body) VALUES ('three')")
	time.Sleep(1500 * time.Millisecond) // the archiver syncs every second

	to := first.Format(time.RFC3339Nano)
	if code, out, errOut := covetRun(t, "backup", "restore", "--to", to, "--project", project); code != 0 || !strings.Contains(out, "Nothing was changed") || sql("SELECT count(*) FROM notes") != 3 {
		t.Fatalf("restore --to without --yes through the server: %d %s %s", code, out, errOut)
	}
	code, out, errOut = covetRun(t, "backup", "restore", "--to", to, "--yes", "--project", project)
	if code != 0 || !strings.Contains(out, "the content before is backup") || sql("SELECT count(*) FROM notes") != 1 {
		t.Fatalf("restore --to --yes through the server: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := covetRun(t, "backup", "delete", id, "--project", project); code != 0 {
		t.Errorf("delete through the server: %d %s", code, errOut)
	}

	// Stopped, the server leaves a closed archive: restore the file to the
	// moment after the second write (before the live restore).
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	code, out, errOut = covetRun(t, "backup", "restore", "--to", second.Format(time.RFC3339Nano), "--yes", "--project", project)
	if code != 0 || !strings.Contains(out, "the previous database is in") {
		t.Fatalf("restore --to of the stopped project: %d %s %s", code, out, errOut)
	}
	db, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(project, "covet_data", "covet.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := orm.RunNative(ctx, db, "SELECT count(*) FROM notes", nil, 0)
	if err != nil || fmt.Sprint(rs.Rows[0][0]) != "2" {
		t.Fatalf("after restoring the file to after the second write: %v %v", rs, err)
	}
}

// TestBackupPostgresCLI: a PostgreSQL project is backed up from the CLI;
// a server that does not allow replication connections (the test server
// does not) gets an error that says so; a logical backup is for
// PostgreSQL only.
func TestBackupPostgresCLI(t *testing.T) {
	dir := t.TempDir()
	dsn := ormtest.PostgresDSN(t, os.Getenv)
	os.WriteFile(filepath.Join(dir, "covet.json"), []byte(`{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "`+dsn+`"}}`), 0o644)
	code, _, errOut := covetRun(t, "backup", "create", "--project", dir)
	if code != 1 || !strings.Contains(errOut, "replication") {
		t.Errorf("create against a server without replication access: %d %s", code, errOut)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "covet_data", "backups")); len(left) != 0 {
		t.Errorf("a failed create left %v", left)
	}
	if code, _, errOut := covetRun(t, "backup", "restore", "20261203T081329.634Z-24752d", "--project", dir); code != 1 || !strings.Contains(errOut, "no such backup") {
		t.Errorf("restore of an unknown PostgreSQL backup: %d %s", code, errOut)
	}
	if code, _, errOut := covetRun(t, "backup", "create", "--logical", "--project", t.TempDir()); code != 1 || !strings.Contains(errOut, "for a PostgreSQL database") {
		t.Errorf("a logical backup of SQLite: %d %s", code, errOut)
	}
	if code, out, errOut := covetRun(t, "backup", "list", "--project", dir); code != 0 || !strings.Contains(out, "ID") {
		t.Errorf("list: %d %s %s", code, out, errOut)
	}
}
