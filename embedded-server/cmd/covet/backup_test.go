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
	time.Sleep(1100 * time.Millisecond) // --to has whole seconds
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
	to := between.Add(time.Second).Truncate(time.Second).Format(time.RFC3339)
	if code, out, errOut := covetRun(t, "backup", "restore", "--to", to, "--project", dir); code != 0 || !strings.Contains(out, plain) || !strings.Contains(out, "Nothing was changed") || count() != "3" {
		t.Fatalf("restore without --yes: %d %s %s (rows %s)", code, out, errOut, count())
	}
	if code, out, errOut := covetRun(t, "backup", "restore", "--to", to, "--yes", "--project", dir); code != 0 || !strings.Contains(out, "Restored "+plain) || count() != "2" {
		t.Fatalf("restore --yes: %d %s %s (rows %s)", code, out, errOut, count())
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
	for _, bad := range [][]string{{"backup"}, {"backup", "verify"}, {"backup", "restore"}, {"backup", "restore", plain, "--to", to}, {"backup", "restore", "--to", "yesterday"}, {"backup", "verify", "../x"}} {
		if code, _, errOut := covetRun(t, append(bad, "--project", dir)...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, %q; want a failure that says why", bad, code, errOut)
		}
	}
}

// TestBackupThroughRunningServer: with a server running the project, covet
// backup asks it (its key store is the one that writes keys.json), and a
// restore is refused until it stops.
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
	code, out, errOut := covetRun(t, "backup", "create", "--encrypt", "--project", project)
	id := strings.TrimSpace(out)
	if code != 0 || id == "" || !strings.Contains(errOut, "through the server that runs this project") {
		t.Fatalf("create through the server: %d %q %q", code, out, errOut)
	}
	if code, out, _ := covetRun(t, "backup", "list", "--project", project); code != 0 || !strings.Contains(out, id) {
		t.Errorf("list through the server: %d %s", code, out)
	}
	if code, out, errOut := covetRun(t, "backup", "verify", id, "--project", project); code != 0 || !strings.Contains(out, "integrity_check") {
		t.Errorf("verify through the server: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := covetRun(t, "backup", "restore", id, "--yes", "--project", project); code != 1 || !strings.Contains(errOut, "already served") {
		t.Errorf("restore while served: %d %s, want it refused", code, errOut)
	}
	if code, _, errOut := covetRun(t, "backup", "delete", id, "--project", project); code != 0 {
		t.Errorf("delete through the server: %d %s", code, errOut)
	}
}
