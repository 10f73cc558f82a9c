package embeddedserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/orm/ormtest"
	"github.com/covetpy/covet/embedded-server/servertest"
	"github.com/jackc/pgx/v5"
)

// TestBackupsAPI: backups of the server's own SQLite database, plain and
// encrypted with the key store's backup key, verified, a corrupted one
// refused with the failing check, deleted; PostgreSQL says it is not
// available yet.
func TestBackupsAPI(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:covet_data/covet.db"}}`})
	type manifest struct {
		ID        string
		Kind      string
		Encrypted bool
		Files     []struct{ Name string }
	}
	var o struct {
		Supported  bool
		Database   string
		Backups    []manifest
		RPOSeconds *float64
		Archive    *struct{ Base string }
		Window     *struct{ From, Until time.Time }
		Schedule   struct {
			Cron   string
			Keep   int
			MaxAge string
			Next   *time.Time
		}
	}
	// The server archives its write-ahead log from a base it takes as it
	// starts; the schedule has its defaults.
	if code := adminJSON(t, srv, "GET", "/_covet/api/backups", "", &o); code != 200 || !o.Supported || o.Database != "covet_data/covet.db" ||
		len(o.Backups) != 1 || o.Backups[0].Kind != "base" || o.Archive == nil || o.Archive.Base != o.Backups[0].ID || o.Window == nil ||
		o.RPOSeconds == nil || *o.RPOSeconds > 5 || o.Schedule.Cron != "@hourly" || o.Schedule.Keep != 24 || o.Schedule.MaxAge != "24h0m0s" || o.Schedule.Next == nil {
		t.Fatalf("GET /backups = %d %+v", code, o)
	}
	base := o.Backups[0].ID
	if resp := srv.Do(t, srv.Request(t, "DELETE", "/_covet/api/backups/"+base, nil)); resp.StatusCode != 409 {
		t.Errorf("DELETE of the base being archived into = %d %s, want 409", resp.StatusCode, resp.Body)
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
	if code := adminJSON(t, srv, "GET", "/_covet/api/backups", "", &o); code != 200 || len(o.Backups) != 3 || o.Backups[0].ID != sealed.ID || o.RPOSeconds == nil {
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

	// PostgreSQL: supported (TestPostgresBackupsThroughServer backs one up,
	// on a cluster of its own).
	pg := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "` + ormtest.PostgresDSN(t, os.Getenv) + `"}}`})
	var po struct {
		Supported bool
		Database  string
		Archive   struct{ LastError string }
	}
	// The archive starts by default; the test server refuses replication,
	// and the overview says why there is no archive.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code := adminJSON(t, pg, "GET", "/_covet/api/backups", "", &po)
		if code != 200 || !po.Supported || !strings.HasPrefix(po.Database, "postgres://") {
			t.Fatalf("GET /backups on PostgreSQL = %d %+v", code, po)
		}
		if strings.Contains(po.Archive.LastError, "replication") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no word of the refused replication within 15 s: %+v", po)
		}
	}
	mysql := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "` + ormtest.MySQLDSN(t, os.Getenv) + `"}}`})
	if code := adminJSON(t, mysql, "GET", "/_covet/api/backups", "", &o); code != 200 || o.Supported {
		t.Errorf("GET /backups on MySQL = %d %+v, want supported false", code, o)
	}
	if resp := mysql.Do(t, mysql.Request(t, "POST", "/_covet/api/backups", nil)); resp.StatusCode != 501 {
		t.Errorf("POST /backups on MySQL = %d %s, want 501", resp.StatusCode, resp.Body)
	}
}

// sqlWrite runs a statement through the admin SQL console with writes
// allowed.
func sqlWrite(t *testing.T, srv *servertest.Server, stmt string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"sql": stmt, "write": true})
	if resp := srv.Do(t, srv.Request(t, "POST", "/_covet/api/sql", strings.NewReader(string(body)))); resp.StatusCode != 200 {
		t.Fatalf("%s = %d %s", stmt, resp.StatusCode, resp.Body)
	}
}

func countRows(t *testing.T, srv *servertest.Server) int {
	t.Helper()
	var rs struct{ Rows [][]any }
	if code := adminJSON(t, srv, "POST", "/_covet/api/sql", `{"sql": "SELECT count(*) FROM notes"}`, &rs); code != 200 || len(rs.Rows) != 1 {
		t.Fatalf("count = %d %+v", code, rs)
	}
	return int(rs.Rows[0][0].(float64))
}

// TestRestoreThroughAPI: the running server restores its own database to
// a moment between two writes, in place: the rows after the moment are
// gone, the content before is kept as a backup, a moment outside the
// archive is refused with 409 and a dry run changes nothing.
func TestRestoreThroughAPI(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:covet_data/covet.db"}}`})
	sqlWrite(t, srv, "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
	sqlWrite(t, srv, "INSERT INTO notes(body) VALUES ('a')")
	time.Sleep(20 * time.Millisecond)
	to := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	sqlWrite(t, srv, "INSERT INTO notes(body) VALUES ('b')")
	time.Sleep(1500 * time.Millisecond) // the archiver syncs every second

	var rep struct {
		Plan       []string
		Restored   bool
		KeptBackup string
		Verify     struct{ OK bool }
	}
	// The window's end is restorable though the database is idle.
	var o struct{ Window struct{ Until time.Time } }
	if code := adminJSON(t, srv, "GET", "/_covet/api/backups", "", &o); code != 200 || time.Since(o.Window.Until) > 1500*time.Millisecond {
		t.Fatalf("window = %d %+v", code, o)
	}
	body := `{"to": "` + o.Window.Until.Format(time.RFC3339Nano) + `", "dryRun": true}`
	if code := adminJSON(t, srv, "POST", "/_covet/api/backups/restore", body, &rep); code != 200 {
		t.Fatalf("dry run to the window's end = %d %+v", code, rep)
	}
	body = `{"to": "` + to.Format(time.RFC3339Nano) + `", "dryRun": true}`
	if code := adminJSON(t, srv, "POST", "/_covet/api/backups/restore", body, &rep); code != 200 || rep.Restored || len(rep.Plan) != 4 || countRows(t, srv) != 2 {
		t.Fatalf("dry run = %d %+v", code, rep)
	}
	body = `{"to": "` + to.Format(time.RFC3339Nano) + `"}`
	if code := adminJSON(t, srv, "POST", "/_covet/api/backups/restore", body, &rep); code != 200 || !rep.Restored || !rep.Verify.OK || rep.KeptBackup == "" {
		t.Fatalf("restore = %d %+v", code, rep)
	}
	if n := countRows(t, srv); n != 1 {
		t.Fatalf("after restoring to between the writes: %d rows, want 1", n)
	}
	for _, c := range []struct{ body, want string }{
		{`{"to": "2001-01-01T00:00:00Z"}`, "nothing earlier can be restored"},
		{`{"to": "2999-01-01T00:00:00Z"}`, "reaches only"},
	} {
		resp := srv.Do(t, srv.Request(t, "POST", "/_covet/api/backups/restore", strings.NewReader(c.body)))
		if resp.StatusCode != 409 || !strings.Contains(string(resp.Body), c.want) {
			t.Errorf("%s = %d %s, want 409 with %q", c.body, resp.StatusCode, resp.Body, c.want)
		}
	}
	for _, b := range []string{`{}`, `{"id": "x", "to": "2001-01-01T00:00:00Z"}`, `{"to": "yesterday"}`} {
		if resp := srv.Do(t, srv.Request(t, "POST", "/_covet/api/backups/restore", strings.NewReader(b))); resp.StatusCode != 400 {
			t.Errorf("%s = %d %s, want 400", b, resp.StatusCode, resp.Body)
		}
	}
	// The kept backup restores the content before.
	if code := adminJSON(t, srv, "POST", "/_covet/api/backups/restore", `{"id": "`+rep.KeptBackup+`"}`, &rep); code != 200 || !rep.Restored {
		t.Fatalf("restoring the kept backup = %d %+v", code, rep)
	}
	if n := countRows(t, srv); n != 2 {
		t.Fatalf("after restoring the kept backup: %d rows, want 2", n)
	}
}

// TestBackupSchedule: the schedule in covet.json starts new bases, the
// retention prunes the old ones (never the base in use), and the overview
// reports the runs.
func TestBackupSchedule(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "sqlite:covet_data/covet.db"},
		"backups": {"schedule": "@every 1s", "keep": 2, "maxAge": "1ns"}}`})
	var o struct {
		Backups  []struct{ ID, Kind string }
		Archive  struct{ Base string }
		Schedule struct {
			Cron       string
			LastRun    *time.Time
			LastError  string
			LastPruned []string
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if code := adminJSON(t, srv, "GET", "/_covet/api/backups", "", &o); code != 200 {
			t.Fatalf("GET /backups = %d", code)
		}
		if len(o.Schedule.LastPruned) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled run pruned anything within 15 s: %+v", o)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if o.Schedule.Cron != "@every 1s" || o.Schedule.LastRun == nil || o.Schedule.LastError != "" || len(o.Backups) > 3 {
		t.Fatalf("overview = %+v", o)
	}
	found := false
	for _, b := range o.Backups {
		found = found || b.ID == o.Archive.Base
	}
	if !found {
		t.Fatalf("the base in use %s was pruned: %+v", o.Archive.Base, o.Backups)
	}
}

// TestPostgresBackupsThroughServer: a server on PostgreSQL archives the
// WAL continuously (a cluster of the
// test's own: the shared server refuses replication) and restores the
// database to a moment between two writes through the API; the pool
// reconnects to the restored database and the old one is kept.
func TestPostgresBackupsThroughServer(t *testing.T) {
	c := ormtest.PostgresCluster(t, os.Getenv)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE app"); err != nil {
		t.Fatal(err)
	}
	srv := servertest.Start(t, servertest.Options{Config: `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "` + c.DSN("app") + `"}}`})
	var o struct {
		Supported bool
		Archive   struct {
			Base      string
			SyncedAt  time.Time
			LastError string
		}
		Window *struct{ From, Until time.Time }
	}
	overview := func() {
		t.Helper()
		if code := adminJSON(t, srv, "GET", "/_covet/api/backups", "", &o); code != 200 || !o.Supported {
			t.Fatalf("GET /backups = %d %+v", code, o)
		}
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if overview(); o.Archive.Base != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no base within 90 s: %+v", o)
		}
	}
	sqlWrite(t, srv, "CREATE TABLE notes(id serial PRIMARY KEY, body text NOT NULL)")
	sqlWrite(t, srv, "INSERT INTO notes(body) VALUES ('a')")
	time.Sleep(50 * time.Millisecond)
	to := time.Now().UTC()
	time.Sleep(50 * time.Millisecond)
	sqlWrite(t, srv, "INSERT INTO notes(body) VALUES ('b')")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) { // the archiver syncs every 10 s
		if overview(); o.Archive.SyncedAt.After(to.Add(time.Second)) && o.Window != nil && o.Window.Until.After(to) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the archive did not reach %s within 60 s: %+v", to, o)
		}
	}
	var rep struct {
		Restored bool
		KeptAs   string
		Plan     []string
	}
	if code := adminJSON(t, srv, "POST", "/_covet/api/backups/restore", `{"to": "`+to.Format(time.RFC3339Nano)+`"}`, &rep); code != 200 || !rep.Restored || rep.KeptAs == "" {
		t.Fatalf("restore = %d %+v", code, rep)
	}
	// The first statements may meet sessions the swap cut; the pool
	// replaces them.
	var n int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var rs struct{ Rows [][]any }
		if code := adminJSON(t, srv, "POST", "/_covet/api/sql", `{"sql": "SELECT count(*) FROM notes"}`, &rs); code == 200 && len(rs.Rows) == 1 {
			n = int(rs.Rows[0][0].(float64))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server does not query the restored database")
		}
	}
	if n != 1 {
		t.Fatalf("after restoring to between the writes: %d rows, want 1", n)
	}
	var kept int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", rep.KeptAs).Scan(&kept); err != nil || kept != 1 {
		t.Fatalf("the replaced database %s: %d, %v", rep.KeptAs, kept, err)
	}

	// "Back up now" makes a logical backup (pg_dump) of the database; its
	// verification loads it into a temporary database; restoring it after
	// another write brings the rows back as they were.
	var m struct{ ID, Kind string }
	if code := adminJSON(t, srv, "POST", "/_covet/api/backups", "", &m); code != 201 || m.Kind != "full" {
		t.Fatalf("POST /backups = %d %+v", code, m)
	}
	var vrep struct {
		OK     bool
		Checks []struct{ Name, Status string }
	}
	if code := adminJSON(t, srv, "POST", "/_covet/api/backups/"+m.ID+"/verify", "", &vrep); code != 200 || !vrep.OK || !strings.Contains(fmt.Sprint(vrep.Checks), "trial_load ok") {
		t.Fatalf("verify = %d %+v", code, vrep)
	}
	sqlWrite(t, srv, "INSERT INTO notes(body) VALUES ('c')")
	if code := adminJSON(t, srv, "POST", "/_covet/api/backups/restore", `{"id": "`+m.ID+`"}`, &rep); code != 200 || !rep.Restored {
		t.Fatalf("restore of the logical backup = %d %+v", code, rep)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var rs struct{ Rows [][]any }
		if code := adminJSON(t, srv, "POST", "/_covet/api/sql", `{"sql": "SELECT count(*) FROM notes"}`, &rs); code == 200 && len(rs.Rows) == 1 {
			if n := int(rs.Rows[0][0].(float64)); n != 1 {
				t.Fatalf("after restoring the logical backup: %d rows, want 1", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server does not query the restored database")
		}
	}
	conn.Close(ctx)
}
