package embeddedserver_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/orm/ormtest"
	"github.com/covetpy/covet/embedded-server/servertest"
)

// TestBackupsAPI: backups of the server's own SQLite database, plain and
// encrypted with the key store's backup key, verified, a corrupted one
// refused with the failing check, deleted; PostgreSQL says it is not
// available yet.
func TestBackupsAPI(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:covet_data/covet.db"}}`})
	type manifest struct {
		ID        string
		Encrypted bool
		Files     []struct{ Name string }
	}
	var o struct {
		Supported  bool
		Database   string
		Backups    []manifest
		RPOSeconds *float64
	}
	if code := adminJSON(t, srv, "GET", "/_covet/api/backups", "", &o); code != 200 || !o.Supported || o.Database != "covet_data/covet.db" || len(o.Backups) != 0 || o.RPOSeconds != nil {
		t.Fatalf("GET /backups = %d %+v", code, o)
	}
	var plain, sealed manifest
	resp := srv.Do(t, srv.Request(t, "POST", "/_covet/api/backups", nil))
	if resp.StatusCode != 201 || json.Unmarshal(resp.Body, &plain) != nil || plain.ID == "" || plain.Encrypted {
		t.Fatalf("POST /backups = %d %s", resp.StatusCode, resp.Body)
	}
	if code := adminJSON(t, srv, "POST", "/_covet/api/backups", `{"encrypt": true}`, &sealed); code != 201 || !sealed.Encrypted {
		t.Fatalf("POST /backups encrypted = %d %+v", code, sealed)
	}
	keysFile, _ := os.ReadFile(filepath.Join(srv.Project, "covet_data", "keys.json"))
	if !strings.Contains(string(keysFile), `"backup"`) {
		t.Error("keys.json holds no sealed backup key after an encrypted backup")
	}
	if code := adminJSON(t, srv, "GET", "/_covet/api/backups", "", &o); code != 200 || len(o.Backups) != 2 || o.Backups[0].ID != sealed.ID || o.RPOSeconds == nil {
		t.Fatalf("GET /backups after two = %d %+v", code, o)
	}
	var rep struct {
		OK     bool
		Checks []struct{ Name, File, Status string }
	}
	for _, id := range []string{plain.ID, sealed.ID} {
		if code := adminJSON(t, srv, "POST", "/_covet/api/backups/"+id+"/verify", "", &rep); code != 200 || !rep.OK {
			t.Errorf("verify %s = %d %+v", id, code, rep)
		}
	}
	data := filepath.Join(srv.Project, "covet_data", "backups", plain.ID, plain.Files[0].Name)
	b, _ := os.ReadFile(data)
	b[len(b)/2] ^= 0xff
	os.WriteFile(data, b, 0o600)
	resp = srv.Do(t, srv.Request(t, "POST", "/_covet/api/backups/"+plain.ID+"/verify", nil))
	if resp.StatusCode != 422 || json.Unmarshal(resp.Body, &rep) != nil || rep.OK || !strings.Contains(string(resp.Body), `"failed"`) {
		t.Errorf("verify of a corrupted backup = %d %s, want 422 with the failed check", resp.StatusCode, resp.Body)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"DELETE", "/_covet/api/backups/" + plain.ID, 204},
		{"DELETE", "/_covet/api/backups/" + plain.ID, 404},
		{"POST", "/_covet/api/backups/..%2Fkeys/verify", 400},
		{"POST", "/_covet/api/backups/20990101T000000.000Z-abcdef/verify", 404},
	} {
		if resp := srv.Do(t, srv.Request(t, c.method, c.path, nil)); resp.StatusCode != c.want {
			t.Errorf("%s %s = %d %s, want %d", c.method, c.path, resp.StatusCode, resp.Body, c.want)
		}
	}
	if resp := srv.Do(t, srv.Request(t, "POST", "/_covet/api/backups", strings.NewReader(`{"encrypt": 1}`))); resp.StatusCode != 400 {
		t.Errorf("a bad body = %d, want 400", resp.StatusCode)
	}

	pg := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "` + ormtest.PostgresDSN(t, os.Getenv) + `"}}`})
	if code := adminJSON(t, pg, "GET", "/_covet/api/backups", "", &o); code != 200 || o.Supported {
		t.Errorf("GET /backups on PostgreSQL = %d %+v, want supported false", code, o)
	}
	if resp := pg.Do(t, pg.Request(t, "POST", "/_covet/api/backups", nil)); resp.StatusCode != 501 {
		t.Errorf("POST /backups on PostgreSQL = %d %s, want 501", resp.StatusCode, resp.Body)
	}
}
