package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// TestMigrateThroughRunningServer: with a server running the project,
// covet migrate asks it to run the migrations, so the statements run in
// the server (its Query Inspector lists them) and the studio hears of it.
func TestMigrateThroughRunningServer(t *testing.T) {
	bin := buildCovet(t)
	project := t.TempDir()
	os.WriteFile(filepath.Join(project, "covet.json"), []byte(`{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:covet_data/covet.db"}}`), 0o644)
	os.MkdirAll(filepath.Join(project, "migrations"), 0o755)
	os.WriteFile(filepath.Join(project, "migrations", "0001_notes.up.sql"), []byte("CREATE TABLE notes_via_server (id INTEGER PRIMARY KEY);"), 0o644)
	cmd := exec.Command(bin, "serve", "--project", project)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var rt struct{ URL, AdminToken string }
	for deadline := time.Now().Add(30 * time.Second); rt.URL == ""; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no runtime.json within 30 s")
		}
		if data, err := os.ReadFile(filepath.Join(project, "covet_data", "runtime.json")); err == nil {
			json.Unmarshal(data, &rt)
		}
	}
	code, out, errOut := covetRun(t, "migrate", "up", "--project", project)
	if code != 0 || !strings.Contains(out, "applied 0001_notes.up.sql") || !strings.Contains(errOut, "through the server that runs this project") {
		t.Fatalf("up through the server: %d %q %q", code, out, errOut)
	}
	req, _ := http.NewRequest("GET", rt.URL+"/_covet/api/queries?limit=100", nil)
	req.Header.Set("Authorization", "Bearer "+rt.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "CREATE TABLE notes_via_server") {
		t.Errorf("the server's queries do not include the migration: %.300s", body)
	}
	// A refused run comes back with the server's reasons.
	os.WriteFile(filepath.Join(project, "migrations", "0002_drop.up.sql"), []byte("DROP TABLE notes_via_server;"), 0o644)
	if code, _, errOut := covetRun(t, "migrate", "up", "--project", project); code != 1 || !strings.Contains(errOut, "0002_drop.up.sql:1: drop-table") {
		t.Errorf("a destructive run through the server: %d %q", code, errOut)
	}
	if code, out, _ := covetRun(t, "migrate", "status", "--json", "--project", project); code != 0 || !strings.Contains(out, `"current": 1`) {
		t.Errorf("status through the server: %d %s", code, out)
	}
}
