package embeddedserver_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/covetpy/covet/embedded-server/servertest"
)

// TestMigrationsAPI drives the migration endpoints on every dialect: the
// status of the files in the project's migrations folder, a dry run, up,
// a destructive down refused with the linter's findings and then forced,
// and the errors a client can cause.
func TestMigrationsAPI(t *testing.T) {
	for name, dsn := range testDatabases() {
		t.Run(name, func(t *testing.T) {
			srv := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "` + dsn(t) + `"}}`})
			dir := filepath.Join(srv.Project, "migrations")
			files := map[string]string{
				"0001_notes.up.sql":    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(200) NOT NULL);",
				"0001_notes.down.sql":  "DROP TABLE notes;",
				"0002_pinned.up.sql":   "ALTER TABLE notes ADD COLUMN pinned INTEGER;",
				"0002_pinned.down.sql": "ALTER TABLE notes DROP COLUMN pinned;",
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for n, s := range files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			type status struct {
				Dialect    string
				Current    int64
				Pending    int
				Migrations []struct {
					Version int64
					State   string
					Up      []struct{ SQL string }
				}
			}
			var st status
			if code := adminJSON(t, srv, "GET", "/_covet/api/migrations", "", &st); code != 200 || st.Dialect != name || st.Pending != 2 || st.Migrations[0].Up[0].SQL != strings.TrimSuffix(files["0001_notes.up.sql"], ";") {
				t.Fatalf("GET /migrations = %d %+v", code, st)
			}
			var rep struct {
				DryRun  bool
				Current int64
				Steps   []struct {
					Version int64
					Outcome string
				}
			}
			if code := adminJSON(t, srv, "POST", "/_covet/api/migrations/run", `{"action": "up", "dryRun": true}`, &rep); code != 200 || !rep.DryRun || len(rep.Steps) != 2 || rep.Steps[0].Outcome != "" {
				t.Errorf("dry run = %d %+v", code, rep)
			}
			if code := adminJSON(t, srv, "POST", "/_covet/api/migrations/run", `{"action": "up"}`, &rep); code != 200 || rep.Current != 2 || rep.Steps[1].Outcome != "applied" {
				t.Fatalf("up = %d %+v", code, rep)
			}
			resp := srv.Do(t, srv.Request(t, "POST", "/_covet/api/migrations/run", strings.NewReader(`{"action": "down"}`)))
			if resp.StatusCode != 409 || !strings.Contains(string(resp.Body), `"path":"0002_pinned.down.sql:1"`) || !strings.Contains(string(resp.Body), "drop-column") {
				t.Errorf("a destructive down = %d %s, want 409 naming the file, line and rule", resp.StatusCode, resp.Body)
			}
			if code := adminJSON(t, srv, "POST", "/_covet/api/migrations/run", `{"action": "down", "force": true}`, &rep); code != 200 || rep.Current != 1 {
				t.Errorf("down with force = %d %+v", code, rep)
			}
			if code := adminJSON(t, srv, "POST", "/_covet/api/migrations/force", `{"version": 2}`, &st); code != 200 || st.Current != 2 {
				t.Errorf("force 2 = %d %+v", code, st)
			}
			for _, c := range []struct {
				path, body string
				want       int
			}{
				{"/_covet/api/migrations/run", `{"action": "sideways"}`, 400},
				{"/_covet/api/migrations/run", `{"action": "to", "version": 7}`, 400},
				{"/_covet/api/migrations/run", `{"action": "up", "extra": 1}`, 400},
				{"/_covet/api/migrations/run", `{"action": "up", "steps": ` + strings.Repeat("1", 5000) + `}`, 413},
				{"/_covet/api/migrations/force", `{"version": 9}`, 400},
			} {
				resp := srv.Do(t, srv.Request(t, "POST", c.path, strings.NewReader(c.body)))
				if got := resp.StatusCode; got != c.want {
					t.Errorf("POST %s %.40s = %d %s, want %d", c.path, c.body, got, resp.Body, c.want)
				}
			}
			// Generating: the running configuration has no resources, so
			// there is nothing to write; resources in the body are compared.
			var gen struct {
				Up, Down, Notes  []string
				UpFile, DownFile string
			}
			if code := adminJSON(t, srv, "POST", "/_covet/api/migrations/generate", `{}`, &gen); code != 200 || len(gen.Up) != 0 {
				t.Errorf("generate without resources = %d %+v", code, gen)
			}
			if resp := srv.Do(t, srv.Request(t, "POST", "/_covet/api/migrations/generate", strings.NewReader(`{"write": true, "name": "x"}`))); resp.StatusCode != 400 {
				t.Errorf("writing an empty migration = %d %s, want 400", resp.StatusCode, resp.Body)
			}
			tags := `"resources": [{"name": "tags", "table": "tags", "fields": [{"name": "label", "type": "string", "required": true, "maxLength": 50}]}]`
			if code := adminJSON(t, srv, "POST", "/_covet/api/migrations/generate", `{`+tags+`, "write": true, "name": "tags"}`, &gen); code != 200 ||
				gen.UpFile != "0003_tags.up.sql" || !strings.Contains(gen.Up[0], "CREATE TABLE") || !strings.Contains(gen.Down[0], "DROP TABLE") {
				t.Fatalf("generate with resources = %d %+v", code, gen)
			}
			if code := adminJSON(t, srv, "POST", "/_covet/api/migrations/run", `{"action": "up"}`, &rep); code != 200 || rep.Current != 3 {
				t.Errorf("applying the generated migration = %d %+v", code, rep)
			}

			// A misnamed file is reported, not skipped.
			if err := os.WriteFile(filepath.Join(dir, "3_Oops.up.sql"), []byte("SELECT 1"), 0o644); err != nil {
				t.Fatal(err)
			}
			resp = srv.Do(t, srv.Request(t, "GET", "/_covet/api/migrations", nil))
			if resp.StatusCode != 409 || !strings.Contains(string(resp.Body), "3_Oops.up.sql") {
				t.Errorf("status with a misnamed file = %d %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
