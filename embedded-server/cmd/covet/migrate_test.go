package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// covetRun runs the command in process and returns its exit code and output.
func covetRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestMigrateCLI drives covet migrate on a new SQLite project: new, status,
// a dry run, up, a refused destructive down, down --force, and the JSON
// that scripts read.
func TestMigrateCLI(t *testing.T) {
	dir := t.TempDir()
	if code, out, errOut := covetRun(t, "migrate", "new", "users", "--project", dir); code != 0 || !strings.Contains(out, "0001_users.up.sql") {
		t.Fatalf("new: %d %q %q", code, out, errOut)
	}
	mdir := filepath.Join(dir, "migrations")
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(mdir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("0001_users.up.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n")
	write("0001_users.down.sql", "DROP TABLE users;\n")

	code, out, _ := covetRun(t, "migrate", "status", "--project", dir, "--json")
	var st struct {
		Dialect    string
		Current    int64
		Pending    int
		Migrations []struct {
			Version int64
			State   string
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Dialect != "sqlite" || st.Pending != 1 || st.Migrations[0].State != "pending" {
		t.Fatalf("status --json: %d %s", code, out)
	}
	if code, out, _ := covetRun(t, "migrate", "up", "--dry-run", "--project", dir); code != 0 || !strings.Contains(out, "CREATE TABLE users") || !strings.Contains(out, "nothing was changed") {
		t.Errorf("up --dry-run: %d %s", code, out)
	}
	if code, out, errOut := covetRun(t, "migrate", "up", "--project", dir); code != 0 || !strings.Contains(out, "applied 0001_users.up.sql") {
		t.Fatalf("up: %d %s %s", code, out, errOut)
	}
	code, _, errOut := covetRun(t, "migrate", "down", "--project", dir)
	if code != 1 || !strings.Contains(errOut, "0001_users.down.sql:1: drop-table") || !strings.Contains(errOut, "force") {
		t.Errorf("down of a DROP TABLE: %d %s, want it refused with the reason", code, errOut)
	}
	if code, out, errOut := covetRun(t, "migrate", "down", "1", "--force", "--project", dir); code != 0 || !strings.Contains(out, "rolled back 0001_users.down.sql") {
		t.Errorf("down --force: %d %s %s", code, out, errOut)
	}
	for _, bad := range [][]string{{"migrate"}, {"migrate", "down", "x"}, {"migrate", "to"}, {"migrate", "sideways"}, {"migrate", "new", "Bad Name"}} {
		if code, _, errOut := covetRun(t, append(bad, "--project", dir)...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, %q; want a failure that says why", bad, code, errOut)
		}
	}
}

// TestMigrateGenerate: covet migrate generate writes the migration that
// creates covet.json's resource tables; once applied there is nothing left
// to generate.
func TestMigrateGenerate(t *testing.T) {
	dir := t.TempDir()
	conf := `{"resources": [{"name": "books", "table": "books", "fields": [{"name": "title", "type": "string", "required": true, "maxLength": 200}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "covet.json"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := covetRun(t, "migrate", "generate", "books", "--dry-run", "--project", dir); code != 0 || !strings.Contains(out, "CREATE TABLE \"books\"") || !strings.Contains(out, "DROP TABLE \"books\"") {
		t.Fatalf("generate --dry-run: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := covetRun(t, "migrate", "generate", "books", "--project", dir); code != 0 || !strings.Contains(out, "0001_books.up.sql") {
		t.Fatalf("generate: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := covetRun(t, "migrate", "up", "--project", dir); code != 0 || !strings.Contains(out, "applied 0001_books.up.sql") {
		t.Fatalf("up: %d %s %s", code, out, errOut)
	}
	if code, out, _ := covetRun(t, "migrate", "generate", "more", "--project", dir); code != 0 || !strings.Contains(out, "nothing to generate") {
		t.Errorf("generate after up: %d %s", code, out)
	}
}
