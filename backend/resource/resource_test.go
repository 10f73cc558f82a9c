package resource_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect"
	"github.com/covetpy/covet/backend/orm/ormtest"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/resource"
)

// usersDef is the resource of the interface, verbatim.
const usersDef = `{"name": "users", "table": "users", "fields": [{"name": "name", "type": "string", "required": true, "maxLength": 100}, {"name": "email", "type": "string", "required": true, "unique": true}, {"name": "age", "type": "int"}]}`

func serve(t *testing.T, db *orm.DB, defJSON string) *httptest.Server {
	t.Helper()
	var def resource.Definition
	if err := json.Unmarshal([]byte(defJSON), &def); err != nil {
		t.Fatal(err)
	}
	res, err := resource.New(db, def)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/"+def.Name, res.Collection())
	mux.Handle("/"+def.Name+"/{id}", res.Item())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// open opens the database at dsn for the test (orm/dialect, as the
// server does) and closes it after.
func open(t *testing.T, dsn string) *orm.DB {
	t.Helper()
	db, err := dialect.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openSQLite(t *testing.T) *orm.DB {
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "r.db"))
}

// dialects opens a fresh database of each dialect, by name, for the
// behaviour that must not depend on the database.
func dialects() map[string]func(*testing.T) *orm.DB {
	return map[string]func(*testing.T) *orm.DB{
		"sqlite":   openSQLite,
		"postgres": func(t *testing.T) *orm.DB { return open(t, ormtest.PostgresDSN(t, os.Getenv)) },
		"mysql":    func(t *testing.T) *orm.DB { return open(t, ormtest.MySQLDSN(t, os.Getenv)) },
	}
}

type step struct {
	name, method, path, body string
	status                   int
	contains                 []string
}

func run(t *testing.T, srv *httptest.Server, steps []step) {
	t.Helper()
	for _, s := range steps {
		req, err := http.NewRequest(s.method, srv.URL+s.path, strings.NewReader(s.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != s.status {
			t.Errorf("%s: %s %s: status %d, want %d; body %s", s.name, s.method, s.path, resp.StatusCode, s.status, b)
			continue
		}
		for _, c := range s.contains {
			if !strings.Contains(string(b), c) {
				t.Errorf("%s: body %s does not contain %s", s.name, b, c)
			}
		}
	}
}

// Scenarios returns the CRUD scenario every dialect must pass.
func scenario() []step {
	return []step{
		{"create", "POST", "/users", `{"name": "Ann", "email": "ann@example.com", "age": 31}`, 201, []string{`"id":1`, `"name":"Ann"`, `"age":31`}},
		{"create without optional", "POST", "/users", `{"name": "Bob", "email": "bob@example.com"}`, 201, []string{`"id":2`, `"age":null`}},
		{"duplicate email", "POST", "/users", `{"name": "Eve", "email": "ann@example.com"}`, 409, []string{`"path":"email"`}},
		{"missing required", "POST", "/users", `{"email": "x@example.com"}`, 400, []string{`"path":"name"`, `is required`}},
		{"wrong types", "POST", "/users", `{"name": 5, "email": "y@example.com", "age": "old"}`, 400, []string{`"path":"age"`, `"path":"name"`, `want a string`}},
		{"too long", "POST", "/users", `{"name": "` + strings.Repeat("a", 101) + `", "email": "z@example.com"}`, 400, []string{`maxLength 100`}},
		{"unknown field", "POST", "/users", `{"name": "C", "email": "c@example.com", "role": "admin"}`, 400, []string{`"path":"role"`}},
		{"id is server's", "POST", "/users", `{"id": 7, "name": "C", "email": "c@example.com"}`, 400, []string{`"path":"id"`}},
		{"not an object", "POST", "/users", `[1]`, 400, []string{`JSON object`}},
		{"get", "GET", "/users/1", ``, 200, []string{`"email":"ann@example.com"`}},
		{"get missing", "GET", "/users/99", ``, 404, []string{`no record 99`}},
		{"get non-numeric", "GET", "/users/abc", ``, 404, nil},
		{"patch", "PATCH", "/users/1", `{"age": 32}`, 200, []string{`"age":32`, `"name":"Ann"`}},
		{"patch null required", "PATCH", "/users/1", `{"name": null}`, 400, []string{`cannot be null`}},
		{"put replaces", "PUT", "/users/2", `{"name": "Robert", "email": "bob@example.com"}`, 200, []string{`"name":"Robert"`, `"age":null`}},
		{"put missing required", "PUT", "/users/2", `{"name": "Robert"}`, 400, []string{`"path":"email"`}},
		{"put unchanged", "PUT", "/users/2", `{"name": "Robert", "email": "bob@example.com"}`, 200, []string{`"name":"Robert"`}},
		{"put missing", "PUT", "/users/99", `{"name": "N", "email": "n@example.com"}`, 404, nil},
		{"list", "GET", "/users", ``, 200, []string{`"items":[`, `"Ann"`, `"Robert"`}},
		{"filter", "GET", "/users?age[gte]=30", ``, 200, []string{`"Ann"`}},
		{"like tells cases apart", "GET", "/users?name[like]=rob%25", ``, 200, []string{`"items":[]`}},
		{"like", "GET", "/users?name[like]=Rob%25", ``, 200, []string{`"Robert"`}},
		{"ilike", "GET", "/users?name[ilike]=rob%25", ``, 200, []string{`"Robert"`}},
		{"like dangling escape", "GET", "/users?name[like]=Rob%5C", ``, 400, []string{`"path":"name[like]"`, `escapes nothing`}},
		{"ilike of a number", "GET", "/users?age[ilike]=3%25", ``, 400, []string{`ilike applies only to string`}},
		{"filter unknown", "GET", "/users?role=admin", ``, 400, []string{`"path":"role"`}},
		{"filter bad value", "GET", "/users?age=old", ``, 400, []string{`"path":"age"`}},
		{"sort and fields", "GET", "/users?sort=-name&fields=name", ``, 200, []string{`[{"id":2,"name":"Robert"},{"id":1,"name":"Ann"}]`}},
		{"page 1", "GET", "/users?limit=1&sort=name", ``, 200, []string{`"Ann"`, `"next":"`}},
		{"limit too big", "GET", "/users?limit=100000", ``, 400, []string{`"path":"limit"`}},
		{"offset", "GET", "/users?offset=1&sort=name", ``, 200, []string{`"Robert"`}},
		{"delete", "DELETE", "/users/1", ``, 204, nil},
		{"delete again", "DELETE", "/users/1", ``, 404, nil},
		{"method", "TRACE", "/users", ``, 405, nil},
	}
}

func TestResource(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) { run(t, serve(t, open(t), usersDef), scenario()) })
	}
}

func TestKeysetPagination(t *testing.T) {
	srv := serve(t, openSQLite(t), usersDef)
	for i := range 7 {
		run(t, srv, []step{{"seed", "POST", "/users", `{"name": "n` + string(rune('a'+i%3)) + `", "email": "` + string(rune('a'+i)) + `@x"}`, 201, nil}})
	}
	seen := map[float64]bool{}
	next := ""
	for page := 0; page < 10; page++ {
		url := srv.URL + "/users?limit=3&sort=-name"
		if next != "" {
			url += "&after=" + next
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Items []map[string]any
			Next  string
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		for _, it := range body.Items {
			id := it["id"].(float64)
			if seen[id] {
				t.Fatalf("id %v on two pages", id)
			}
			seen[id] = true
		}
		if next = body.Next; next == "" {
			break
		}
	}
	if len(seen) != 7 {
		t.Errorf("pages held %d records, want 7", len(seen))
	}
	run(t, srv, []step{{"bad cursor", "GET", "/users?after=xyz", ``, 400, []string{`"path":"after"`}}})
}

// TestPagesThroughNulls: following next through a sort on a nullable field,
// or on a field that fields= leaves out, visits every record once and in
// the order of one big page, which is the same on every dialect: nulls
// last ascending, first descending, then by id. Items hold only the fields
// asked for.
func TestPagesThroughNulls(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, open(t), usersDef)
			names := map[float64]string{} // by id
			for _, body := range []string{
				`{"name": "ann", "email": "ann@x"}`,
				`{"name": "bob", "email": "bob@x", "age": 30}`,
				`{"name": "cy", "email": "cy@x"}`,
				`{"name": "di", "email": "di@x", "age": 20}`,
				`{"name": "ed", "email": "ed@x", "age": 30}`,
			} {
				var rec map[string]any
				if status := getJSON(t, "POST", srv.URL+"/users", body, &rec); status != http.StatusCreated {
					t.Fatalf("creating %s: status %d", body, status)
				}
				names[rec["id"].(float64)] = rec["name"].(string)
			}
			cases := []struct {
				query, want string
				keys        []string // of every item
			}{
				{"sort=age", "di,bob,ed,ann,cy", []string{"age", "email", "id", "name"}},
				{"sort=-age", "ann,cy,bob,ed,di", []string{"age", "email", "id", "name"}},
				{"sort=age,-name", "di,ed,bob,cy,ann", []string{"age", "email", "id", "name"}},
				{"sort=-name&fields=email", "ed,di,cy,bob,ann", []string{"email", "id"}},
				{"sort=age&fields=name", "di,bob,ed,ann,cy", []string{"id", "name"}},
				{"sort=-age,name&fields=id", "ann,cy,bob,ed,di", []string{"id"}},
			}
			for _, c := range cases {
				t.Run(c.query, func(t *testing.T) {
					for _, limit := range []int{2, resource.MaxLimit} {
						var seen []string
						url := fmt.Sprintf("%s/users?%s&limit=%d", srv.URL, c.query, limit)
						for page := url; page != ""; {
							var body struct {
								Items []map[string]any
								Next  string
							}
							if status := getJSON(t, "GET", page, "", &body); status != http.StatusOK {
								t.Fatalf("GET %s: status %d after %v", page, status, seen)
							}
							for _, it := range body.Items {
								seen = append(seen, names[it["id"].(float64)])
								if keys := slices.Sorted(maps.Keys(it)); !slices.Equal(keys, c.keys) {
									t.Errorf("item %v has fields %v, want %v", it, keys, c.keys)
								}
							}
							page = ""
							if body.Next != "" {
								page = url + "&after=" + body.Next
							}
							if len(seen) > len(names) {
								t.Fatalf("pages of %d hold %v, more records than there are", limit, seen)
							}
						}
						if got := strings.Join(seen, ","); got != c.want {
							t.Errorf("pages of %d: got %s, want %s", limit, got, c.want)
						}
					}
				})
			}
		})
	}
}

// getJSON sends a request and decodes the JSON response into out.
func getJSON(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("%s %s: decoding the response: %v", method, url, err)
	}
	return resp.StatusCode
}

// TestRejectsNUL: a NUL character in a string is a 400 naming the field on
// every dialect (PostgreSQL cannot store one in text; the others could),
// in a body and in a filter.
func TestRejectsNUL(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, open(t), usersDef)
			run(t, srv, []step{{"seed", "POST", "/users", `{"name": "Ann", "email": "ann@x"}`, 201, nil}})
			cases := []struct{ name, method, path, body, field string }{
				{"create", "POST", "/users", `{"name": "nul\u0000x", "email": "nul@x"}`, "name"},
				{"replace", "PUT", "/users/1", `{"name": "Ann", "email": "\u0000"}`, "email"},
				{"patch", "PATCH", "/users/1", `{"name": "a\u0000"}`, "name"},
				{"filter", "GET", "/users?name=a%00b", ``, "name"},
				{"like", "GET", "/users?name[like]=%25%00", ``, "name[like]"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
					if err != nil {
						t.Fatal(err)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != problem.ContentType {
						t.Fatalf("got %d %s %s, want 400 %s", resp.StatusCode, resp.Header.Get("Content-Type"), b, problem.ContentType)
					}
					if want := `"path":"` + c.field + `"`; !strings.Contains(string(b), want) || !strings.Contains(string(b), "NUL") {
						t.Errorf("got %s, want a problem at %s that names NUL", b, want)
					}
				})
			}
			run(t, srv, []step{{"unchanged", "GET", "/users/1", ``, 200, []string{`"name":"Ann"`, `"email":"ann@x"`}}})
		})
	}
}

// TestRejectsInvalidUTF8: bytes that are not UTF-8 in a list request's
// parameters (a filter's value or name, a sort, a cursor's strings) are a
// 400 naming the parameter on every dialect, rather than a database error
// on PostgreSQL and MariaDB and a silent miss on SQLite.
func TestRejectsInvalidUTF8(t *testing.T) {
	badCursor := base64.RawURLEncoding.EncodeToString([]byte("[\"\xff\", 1]"))
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, open(t), usersDef)
			run(t, srv, []step{{"seed", "POST", "/users", `{"name": "Ann", "email": "ann@x"}`, 201, nil}})
			cases := []struct{ name, query, param string }{
				{"filter", "name=%FF", "name"},
				{"filter in", "name=Ann&name=b%C3", "name"},
				{"operator", "email[ne]=%E2%82", "email[ne]"},
				{"like", "name[like]=%25%FF%25", "name[like]"},
				{"parameter name", "na%FFme=x", "na\ufffdme"},
				{"sort", "sort=-%FF", "sort"},
				{"fields", "fields=name,%FF", "fields"},
				{"cursor", "sort=name&after=" + badCursor, "after"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					var p struct {
						Status int
						Errors []struct{ Path, Message string }
					}
					if status := getJSON(t, "GET", srv.URL+"/users?"+c.query, "", &p); status != http.StatusBadRequest {
						t.Fatalf("got %d %+v, want 400", status, p)
					}
					if len(p.Errors) != 1 || p.Errors[0].Path != c.param || !strings.Contains(p.Errors[0].Message, "UTF-8") {
						t.Errorf("got problems %+v, want one at %s that names UTF-8", p.Errors, c.param)
					}
				})
			}
		})
	}
}

// TestEnsureNamesTheField: a field whose column cannot take it is refused
// with the field's path in the definition, and the ORM's error inside.
func TestEnsureNamesTheField(t *testing.T) {
	for name, open := range dialects() {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			serve(t, db, usersDef)
			for _, c := range []struct{ change, want string }{
				{`{"name": "age", "type": "string"}`, "fields[2].type: "},
				{`{"name": "age", "type": "int"}, {"name": "nick", "type": "string", "required": true}`, "fields[3]: "},
			} {
				var def resource.Definition
				changed := strings.Replace(usersDef, `{"name": "age", "type": "int"}`, c.change, 1)
				if err := json.Unmarshal([]byte(changed), &def); err != nil {
					t.Fatal(err)
				}
				res, err := resource.New(db, def)
				if err != nil {
					t.Fatal(err)
				}
				_, err = res.Ensure(context.Background())
				var ce *orm.ColumnError
				if err == nil || !strings.HasPrefix(err.Error(), c.want) || !errors.As(err, &ce) {
					t.Errorf("%s: got %v, want an *orm.ColumnError starting %q", c.change, err, c.want)
				}
			}
		})
	}
}

func TestDefinitionValidate(t *testing.T) {
	cases := []struct {
		name string
		def  string
		want []string
	}{
		{"valid", usersDef, nil},
		{"bad names", `{"name": "Users!", "table": "", "fields": [{"name": "id", "type": "int"}]}`, []string{"name:", "table:", "fields[0].name:"}},
		{"types", `{"name": "a", "table": "a", "fields": [{"name": "x", "type": "uuid"}, {"name": "y"}, {"name": "z", "type": "int", "maxLength": 3}]}`, []string{"fields[0].type: unknown type", "fields[1].type: type is required", "fields[2].maxLength"}},
		{"duplicate", `{"name": "a", "table": "a", "fields": [{"name": "x", "type": "int"}, {"name": "x", "type": "int"}]}`, []string{"fields[1].name: field \"x\" is already declared at fields[0]"}},
		{"defaults and enums", `{"name": "a", "table": "a", "fields": [{"name": "x", "type": "int", "default": "no"}, {"name": "y", "type": "string", "enum": ["a", 3]}, {"name": "z", "type": "string", "default": "it's\\"}]}`, []string{"fields[0].default", "fields[1].enum[1]", "fields[2].default"}},
		{"unique text", `{"name": "a", "table": "a", "fields": [{"name": "x", "type": "text", "unique": true}]}`, []string{"fields[0].unique"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var def resource.Definition
			if err := json.Unmarshal([]byte(c.def), &def); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range def.Validate() {
				got = append(got, p.Path+": "+p.Message)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %q, want %d problems like %q", got, len(c.want), c.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestDefaultsAndEnums(t *testing.T) {
	srv := serve(t, openSQLite(t), `{"name": "tasks", "table": "tasks", "fields": [
		{"name": "title", "type": "string", "required": true},
		{"name": "state", "type": "string", "default": "open", "enum": ["open", "done"]},
		{"name": "done", "type": "bool", "default": false},
		{"name": "due", "type": "time"},
		{"name": "score", "type": "float"}]}`)
	run(t, srv, []step{
		{"defaults", "POST", "/tasks", `{"title": "a"}`, 201, []string{`"state":"open"`, `"done":false`, `"due":null`}},
		{"enum", "POST", "/tasks", `{"title": "b", "state": "lost"}`, 400, []string{`"path":"state"`, `is not one of`}},
		{"time", "POST", "/tasks", `{"title": "c", "due": "2026-12-01T10:00:00+02:00", "score": 1.5}`, 201, []string{`"due":"2026-12-01T08:00:00Z"`, `"score":1.5`}},
		{"bad time", "POST", "/tasks", `{"title": "d", "due": "tomorrow"}`, 400, []string{`RFC 3339`}},
		{"filter bool", "GET", "/tasks?done=false&sort=title", ``, 200, []string{`"title":"a"`}},
		{"filter null", "GET", "/tasks?due[null]=false", ``, 200, []string{`"title":"c"`}},
	})
}

// argsTracer keeps the arguments of every statement.
type argsTracer struct {
	mu   sync.Mutex
	args [][]any
}

func (a *argsTracer) TraceQuery(_ context.Context, e *orm.QueryEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.args = append(a.args, e.Args)
}

func TestSensitiveFieldsAreRedacted(t *testing.T) {
	db := openSQLite(t)
	tr := &argsTracer{}
	db.SetTracer(tr)
	srv := serve(t, db, `{"name": "accounts", "table": "accounts", "fields": [{"name": "login", "type": "string", "required": true}, {"name": "secret", "type": "string", "sensitive": true}]}`)
	resp, err := http.Post(srv.URL+"/accounts", "application/json", strings.NewReader(`{"login": "ann", "secret": "hunter2"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	all := fmt.Sprint(tr.args)
	if resp.StatusCode != 201 || strings.Contains(all, "hunter2") || !strings.Contains(all, "ann") || !strings.Contains(all, orm.Redacted) {
		t.Errorf("POST = %d; traced args %s: want ann in clear and the secret redacted", resp.StatusCode, all)
	}
}
