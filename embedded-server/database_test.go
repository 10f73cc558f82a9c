package embeddedserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/orm/ormtest"
	"github.com/covetpy/covet/embedded-server/servertest"
)

// resourceConfig holds the resource and route verbatim, and a route
// to the built-in N+1 demo.
func resourceConfig(primary string) string {
	return `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "` + primary + `"},
	  "resources": [{"name": "users", "table": "users", "fields": [{"name": "name", "type": "string", "required": true, "maxLength": 100}, {"name": "email", "type": "string", "required": true, "unique": true}, {"name": "age", "type": "int"}]}],
	  "routes": [{"id": "users", "path": "/users", "kind": "resource", "resource": "users"},
	             {"id": "books", "method": "GET", "path": "/books", "kind": "handler", "handler": {"name": "covet.demo.nplusone"}}]}`
}

type planNode struct {
	Label    string
	FullScan bool
	Children []planNode
}

func hasFullScan(nodes []planNode) bool {
	for _, n := range nodes {
		if n.FullScan || hasFullScan(n.Children) {
			return true
		}
	}
	return false
}

type queryEvent struct {
	Fingerprint, SQL, Caller, RequestID, Route string
	Args                                       []any
	DurationMs                                 float64
	Rows                                       int64
	Slow, NPlusOne                             bool
	Verdict                                    *struct {
		Count int
		Fix   string
	}
}

func adminJSON(t *testing.T, srv *servertest.Server, method, path, body string, out any) int {
	t.Helper()
	var req *http.Request
	if body != "" {
		req = srv.Request(t, method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = srv.Request(t, method, path, nil)
	}
	resp := srv.Do(t, req)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, resp.Body)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, resp.Body)
	}
	return resp.StatusCode
}

// testDatabases are the servers the data-layer tests run on: SQLite in the
// project, and private schemas/databases of the PostgreSQL and MariaDB
// test servers.
func testDatabases() map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "sqlite:covet_data/covet.db" },
		"postgres": func(t *testing.T) string { return ormtest.PostgresDSN(t, os.Getenv) },
		"mysql":    func(t *testing.T) string { return ormtest.MySQLDSN(t, os.Getenv) },
	}
}

func TestResourceAndQueryInspector(t *testing.T) {
	for name, dsn := range testDatabases() {
		t.Run(name, func(t *testing.T) { resourceAndQueryInspector(t, name, dsn(t)) })
	}
}

func resourceAndQueryInspector(t *testing.T, dialectName, dsn string) {
	srv := servertest.Start(t, servertest.Options{Config: resourceConfig(dsn)})
	send := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp := srv.Do(t, req)
		var m map[string]any
		json.Unmarshal(resp.Body, &m)
		return resp.StatusCode, m
	}
	if code, m := send("POST", "/users", `{"name": "Ann", "email": "ann@example.com", "age": 31}`); code != 201 || m["id"] != float64(1) {
		t.Fatalf("create = %d %v", code, m)
	}
	code, m := send("GET", "/users/1", "")
	if code != 200 || m["email"] != "ann@example.com" {
		t.Fatalf("get = %d %v", code, m)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{{"PUT", "/users/1", `{"name": "Ann B", "email": "ann@example.com"}`, 200}, {"PATCH", "/users/1", `{"age": 40}`, 200},
		{"POST", "/users", `{"name": "X", "email": "ann@example.com"}`, 409}, {"DELETE", "/users/1", "", 204}, {"GET", "/users/1", "", 404}} {
		if code, m := send(c.method, c.path, c.body); code != c.want {
			t.Errorf("%s %s = %d %v, want %d", c.method, c.path, code, m, c.want)
		}
	}

	// The demo route runs an N+1; its queries carry the verdict.
	resp := srv.Do(t, srv.Request(t, "GET", "/books", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /books = %d %s", resp.StatusCode, resp.Body)
	}
	booksID := resp.Header.Get("X-Request-Id")
	var qs []queryEvent
	if code := adminJSON(t, srv, "GET", "/_covet/api/queries?limit=50", "", &qs); code != 200 || len(qs) == 0 {
		t.Fatalf("GET /queries = %d, %d queries", code, len(qs))
	}
	var flagged, ofRequest int
	for _, q := range qs {
		if q.RequestID != booksID {
			continue
		}
		ofRequest++
		if q.Route != "GET /books" || q.Fingerprint == "" || !strings.Contains(q.Caller, "demo.go:") {
			t.Errorf("query %+v: want route GET /books, a fingerprint and a caller in demo.go", q)
		}
		if q.NPlusOne {
			flagged++
			if q.Verdict == nil || q.Verdict.Fix == "" {
				t.Errorf("N+1 query without a verdict: %+v", q)
			}
		}
	}
	if ofRequest < 6 || flagged == 0 {
		t.Errorf("request %s: %d queries, %d flagged N+1; want the demo's loop flagged", booksID, ofRequest, flagged)
	}
	if qs[0].RequestID != booksID {
		t.Errorf("newest query belongs to %q, want the last request %q (newest first)", qs[0].RequestID, booksID)
	}
	resp = srv.Do(t, srv.Request(t, "GET", "/books?eager=1", nil))
	eagerID := resp.Header.Get("X-Request-Id")
	adminJSON(t, srv, "GET", "/_covet/api/queries?limit=20", "", &qs)
	for _, q := range qs {
		if q.RequestID == eagerID && q.NPlusOne {
			t.Errorf("eager-loaded request flagged: %+v", q)
		}
	}

	// EXPLAIN of a captured query, and of a full scan.
	var plan struct {
		Dialect string
		Nodes   []planNode
	}
	byEmail := map[string]string{"sqlite": `SELECT id FROM users WHERE email = ?`, "postgres": `SELECT id FROM users WHERE email = $1`, "mysql": `SELECT id FROM users WHERE email = ?`}[dialectName]
	body := fmt.Sprintf(`{"sql": %q, "args": ["x@example.com"]}`, byEmail)
	code = adminJSON(t, srv, "POST", "/_covet/api/queries/explain", body, &plan)
	if code != 200 || plan.Dialect != dialectName || len(plan.Nodes) == 0 {
		t.Errorf("explain by email = %d %+v", code, plan)
	} else if dialectName == "sqlite" && plan.Nodes[0].FullScan {
		t.Errorf("explain by unique email = %+v, want an index search", plan)
	}
	if code := adminJSON(t, srv, "POST", "/_covet/api/queries/explain", `{"sql": "SELECT * FROM users WHERE age > 3", "args": []}`, &plan); code != 200 || !hasFullScan(plan.Nodes) {
		t.Errorf("explain of a scan = %d %+v, want a full scan", code, plan)
	}

	// EXPLAIN ANALYZE really runs the statement, inside a transaction that
	// is rolled back: the row it inserts is not there afterwards.
	analyze := `{"sql": "INSERT INTO users (name, email) VALUES ('A', 'analyze@example.com')", "args": [], "analyze": true}`
	if code := adminJSON(t, srv, "POST", "/_covet/api/queries/explain", analyze, &plan); code != 200 || len(plan.Nodes) == 0 && dialectName != "sqlite" { // SQLite plans no steps for an INSERT
		t.Errorf("explain analyze of an insert = %d %+v", code, plan)
	}
	if code, m := send("GET", "/users?email=analyze@example.com", ""); code != 200 || len(m["items"].([]any)) != 0 {
		t.Errorf("after EXPLAIN ANALYZE: %d %v, want no row", code, m)
	}

	// The console reads, refuses writes unless asked, and takes one statement.
	var rs struct {
		Columns []string
		Rows    [][]any
	}
	if code := adminJSON(t, srv, "POST", "/_covet/api/sql", `{"sql": "SELECT count(*) AS n FROM covet_demo_books", "args": []}`, &rs); code != 200 || len(rs.Rows) != 1 || rs.Rows[0][0] != float64(10) {
		t.Errorf("console count = %d %+v", code, rs)
	}
	for _, sql := range []string{"DELETE FROM covet_demo_books", "WITH x AS (SELECT 1) DELETE FROM covet_demo_books", "SELECT 1; DELETE FROM covet_demo_books"} {
		if code := adminJSON(t, srv, "POST", "/_covet/api/sql", fmt.Sprintf(`{"sql": %q, "args": []}`, sql), nil); code != 422 {
			t.Errorf("read-only console ran %q: %d", sql, code)
		}
	}
	adminJSON(t, srv, "POST", "/_covet/api/sql", `{"sql": "SELECT count(*) AS n FROM covet_demo_books", "args": []}`, &rs)
	if rs.Rows[0][0] != float64(10) {
		t.Errorf("after refused writes, %v books, want 10", rs.Rows[0][0])
	}
	// A read may take a session lock; it ends with the read, not with the
	// pooled connection. (pg_locks and IS_USED_LOCK see every session.)
	if q, ok := map[string][3]string{
		"postgres": {"SELECT pg_advisory_lock(424242)", "SELECT pg_advisory_lock(424242), 1/0", "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242"},
		"mysql":    {"SELECT GET_LOCK('covet_console', 0)", "SELECT GET_LOCK('covet_console', 0), (SELECT 1 UNION SELECT 2)", "SELECT count(IS_USED_LOCK('covet_console'))"},
	}[dialectName]; ok {
		for _, lock := range q[:2] {
			adminJSON(t, srv, "POST", "/_covet/api/sql", fmt.Sprintf(`{"sql": %q, "args": []}`, lock), nil)
			if code := adminJSON(t, srv, "POST", "/_covet/api/sql", fmt.Sprintf(`{"sql": %q, "args": []}`, q[2]), &rs); code != 200 || fmt.Sprint(rs.Rows) != "[[0]]" {
				t.Errorf("after %q the lock is still held: %d %v", lock, code, rs.Rows)
			}
		}
	}
	// Nor does a MySQL user variable set by a read outlive it.
	if dialectName == "mysql" {
		adminJSON(t, srv, "POST", "/_covet/api/sql", `{"sql": "SELECT @covet_console := 7", "args": []}`, nil)
		for range 3 {
			if code := adminJSON(t, srv, "POST", "/_covet/api/sql", `{"sql": "SELECT @covet_console", "args": []}`, &rs); code != 200 || fmt.Sprint(rs.Rows) != "[[<nil>]]" {
				t.Errorf("a later read sees the variable: %d %v", code, rs.Rows)
			}
		}
	}
	if code := adminJSON(t, srv, "POST", "/_covet/api/sql", `{"sql": "DELETE FROM covet_demo_books WHERE id = 1", "args": [], "write": true}`, nil); code != 200 {
		t.Errorf("write console = %d", code)
	}

	var stats []struct {
		Fingerprint string
		Count       int64
		P95Ms       float64
	}
	if code := adminJSON(t, srv, "GET", "/_covet/api/queries/stats", "", &stats); code != 200 || len(stats) == 0 {
		t.Errorf("stats = %d %+v", code, stats)
	}
	var status struct {
		Dialect string
		Pools   []struct{ Name string }
		Error   string
	}
	if code := adminJSON(t, srv, "GET", "/_covet/api/database", "", &status); code != 200 || status.Dialect != dialectName || len(status.Pools) == 0 || status.Error != "" {
		t.Errorf("database = %d %+v", code, status)
	}
	for _, bad := range []string{"/_covet/api/queries?limit=0", "/_covet/api/queries?limit=5000"} {
		if code := adminJSON(t, srv, "GET", bad, "", nil); code != 400 {
			t.Errorf("GET %s = %d, want 400", bad, code)
		}
	}
}

// TestDatabasePool: database.pool reaches the primary's pool and each
// replica's (the status shows their maxima); changing it is accepted for
// the next start (restartRequired names database) and changes no running
// pool. SQLite refuses a pool, naming database.pool.
func TestDatabasePool(t *testing.T) {
	type status struct {
		Pools []struct {
			Name    string
			MaxOpen int
		}
	}
	maxima := func(t *testing.T, srv *servertest.Server) string {
		t.Helper()
		var st status
		if code := adminJSON(t, srv, "GET", "/_covet/api/database", "", &st); code != 200 {
			t.Fatalf("GET /database = %d", code)
		}
		var out []string
		for _, p := range st.Pools {
			out = append(out, fmt.Sprintf("%s %d", p.Name, p.MaxOpen))
		}
		return strings.Join(out, ", ")
	}
	for name, dsn := range testDatabases() {
		t.Run(name, func(t *testing.T) {
			primary := dsn(t)
			if name == "sqlite" {
				srv := servertest.Start(t, servertest.Options{Config: resourceConfig(primary)})
				r := configReq(t, srv, "PUT", "/database/pool", `{"maxConns": 4}`)
				if r.StatusCode != 400 || !strings.Contains(string(r.Body), `"path":"database.pool"`) || !strings.Contains(string(r.Body), "SQLite") {
					t.Errorf("a pool on SQLite: %d %s; want 400 at database.pool saying SQLite has none", r.StatusCode, r.Body)
				}
				return
			}
			conf := strings.Replace(resourceConfig(primary), `"database": {"primary": "`+primary+`"}`,
				`"database": {"primary": "`+primary+`", "replicas": ["`+primary+`"], "pool": {"maxConns": 5, "maxConnLifetime": "10m", "maxConnIdleTime": "1m"}}`, 1)
			srv := servertest.Start(t, servertest.Options{Config: conf})
			if got, want := maxima(t, srv), "primary 5, replica 0 5"; got != want {
				t.Errorf("pool maxima: %s, want %s", got, want)
			}
			var c change
			r := configReq(t, srv, "PUT", "/database/pool/maxConns", `6`)
			if json.Unmarshal(r.Body, &c); r.StatusCode != 200 || len(c.RestartRequired) != 1 || c.RestartRequired[0] != "database" {
				t.Errorf("changing database.pool.maxConns: %d %s; want restartRequired [database]", r.StatusCode, r.Body)
			}
			if got, want := maxima(t, srv), "primary 5, replica 0 5"; got != want {
				t.Errorf("pool maxima after the change: %s, want %s until the next start", got, want)
			}
			r = configReq(t, srv, "PUT", "/database/pool/maxConns", `5000`)
			if r.StatusCode != 400 || !strings.Contains(string(r.Body), `"path":"database.pool.maxConns"`) {
				t.Errorf("maxConns 5000: %d %s; want 400 at database.pool.maxConns", r.StatusCode, r.Body)
			}
		})
	}
}

// TestResourceFieldRetypeIsRefused: changing a field to a type its column
// cannot hold (qty, an int, to string), or to more characters than its
// column holds, is refused with the field's path, the table, the column
// and both types, and the configuration that ran keeps serving: qty stays
// an int, so a string for it is a 400, not a database error. A shorter
// maxLength needs no change to the column and applies.
func TestResourceFieldRetypeIsRefused(t *testing.T) {
	for name, dsn := range testDatabases() {
		t.Run(name, func(t *testing.T) {
			conf := `{"server": {"listen": "127.0.0.1:0"}, "database": {"primary": "` + dsn(t) + `"},
			  "resources": [{"name": "users", "table": "users", "fields": [{"name": "name", "type": "string"}]},
			                {"name": "items", "table": "items", "fields": [{"name": "title", "type": "string", "maxLength": 50}, {"name": "note", "type": "text"}, {"name": "qty", "type": "int"}]}],
			  "routes": [{"id": "items", "path": "/items", "kind": "resource", "resource": "items"}]}`
			srv := servertest.Start(t, servertest.Options{Config: conf})
			post := func(body string) int {
				t.Helper()
				req := srv.Request(t, "POST", "/items", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				return srv.Do(t, req).StatusCode
			}
			if code := post(`{"title": "a", "qty": 3}`); code != 201 {
				t.Fatalf("POST /items = %d, want 201", code)
			}
			r := configReq(t, srv, "PUT", "/resources/1/fields/2", `{"name": "qty", "type": "string"}`)
			body := string(r.Body)
			if r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Errorf("retyping qty: %d %s; want a refusal", r.StatusCode, body)
			}
			for _, part := range []string{`"path":"resources[1]"`, "fields[2].type", "table items", "column qty", "in the database", "migration"} {
				if !strings.Contains(body, part) {
					t.Errorf("retyping qty: %s does not name %s", body, part)
				}
			}
			if code := post(`{"qty": "abc"}`); code != 400 {
				t.Errorf("POST a string for qty after the refusal = %d, want 400 (qty is still an int)", code)
			}
			if code := post(`{"qty": 4}`); code != 201 {
				t.Errorf("POST an int for qty after the refusal = %d, want 201", code)
			}
			if r := configReq(t, srv, "GET", "/resources/1/fields/2/type", ""); string(r.Body) != `"int"` {
				t.Errorf("qty's type after the refusal: %s, want \"int\"", r.Body)
			}

			r = configReq(t, srv, "PUT", "/resources/1/fields/0/maxLength", `100`)
			if name == "sqlite" { // SQLite enforces no length
				if r.StatusCode != 200 {
					t.Errorf("a longer maxLength on SQLite: %d %s, want 200", r.StatusCode, r.Body)
				}
			} else if r.StatusCode < 400 || !strings.Contains(string(r.Body), "fields[0].maxLength") || !strings.Contains(string(r.Body), "column title") {
				t.Errorf("a longer maxLength: %d %s; want a refusal at fields[0].maxLength naming column title", r.StatusCode, r.Body)
			}
			if r := configReq(t, srv, "PUT", "/resources/1/fields/0/maxLength", `20`); r.StatusCode != 200 {
				t.Errorf("a shorter maxLength: %d %s, want 200", r.StatusCode, r.Body)
			}
			if code := post(`{"title": "` + strings.Repeat("x", 21) + `"}`); code != 400 {
				t.Errorf("POST a 21-character title after maxLength 20 = %d, want 400", code)
			}
		})
	}
}
