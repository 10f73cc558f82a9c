package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestEdit(t *testing.T) {
	doc := `{"server":{"listen":"127.0.0.1:1","readTimeout":"1s"},"routes":[{"id":"a","path":"/a","mock":{"status":200}},{"id":"b","path":"/b"}],"list":[1,2,3]}`
	tests := []struct {
		name     string
		op       string
		path     string
		value    string
		want     string // the whole document after the edit, or the value for GET
		notFound bool
		wantErr  bool
	}{
		{"get root", OpGet, "", "", doc, false, false},
		{"get key", OpGet, "server/listen", "", `"127.0.0.1:1"`, false, false},
		{"get route by id", OpGet, "routes/b", "", `{"id":"b","path":"/b"}`, false, false},
		{"get inside route", OpGet, "routes/a/mock/status", "", `200`, false, false},
		{"get array index", OpGet, "list/1", "", `2`, false, false},
		{"get missing key", OpGet, "server/nope", "", "", true, true},
		{"get missing route", OpGet, "routes/zzz", "", "", true, true},
		{"get bad index", OpGet, "list/9", "", "", true, true},
		{"put key", OpPut, "server/listen", `"127.0.0.1:2"`, `{"server":{"listen":"127.0.0.1:2","readTimeout":"1s"},"routes":[{"id":"a","path":"/a","mock":{"status":200}},{"id":"b","path":"/b"}],"list":[1,2,3]}`, false, false},
		{"put new key", OpPut, "server/writeTimeout", `"2s"`, `{"server":{"listen":"127.0.0.1:1","readTimeout":"1s","writeTimeout":"2s"},"routes":[{"id":"a","path":"/a","mock":{"status":200}},{"id":"b","path":"/b"}],"list":[1,2,3]}`, false, false},
		{"put route by id", OpPut, "routes/b", `{"id":"b","path":"/bb"}`, `{"server":{"listen":"127.0.0.1:1","readTimeout":"1s"},"routes":[{"id":"a","path":"/a","mock":{"status":200}},{"id":"b","path":"/bb"}],"list":[1,2,3]}`, false, false},
		{"put new route by id", OpPut, "routes/c", `{"path":"/c"}`, `{"server":{"listen":"127.0.0.1:1","readTimeout":"1s"},"routes":[{"id":"a","path":"/a","mock":{"status":200}},{"id":"b","path":"/b"},{"id":"c","path":"/c"}],"list":[1,2,3]}`, false, false},
		{"put new route, same id", OpPut, "routes/c", `{"id":"c","path":"/c"}`, `{"server":{"listen":"127.0.0.1:1","readTimeout":"1s"},"routes":[{"id":"a","path":"/a","mock":{"status":200}},{"id":"b","path":"/b"},{"id":"c","path":"/c"}],"list":[1,2,3]}`, false, false},
		{"put new route, other id", OpPut, "routes/c", `{"id":"d"}`, "", false, true},
		{"put new route, not an object", OpPut, "routes/c", `[]`, "", false, true},
		{"put inside a missing route", OpPut, "routes/c/path", `"/c"`, "", true, true},
		{"patch missing route", OpPatch, "routes/c", `{"path":"/c"}`, "", true, true},
		{"patch route merges", OpPatch, "routes/a", `{"path":"/z","mock":{"body":"x"}}`, `{"server":{"listen":"127.0.0.1:1","readTimeout":"1s"},"routes":[{"id":"a","path":"/z","mock":{"status":200,"body":"x"}},{"id":"b","path":"/b"}],"list":[1,2,3]}`, false, false},
		{"patch null removes", OpPatch, "server", `{"readTimeout":null}`, `{"server":{"listen":"127.0.0.1:1"},"routes":[{"id":"a","path":"/a","mock":{"status":200}},{"id":"b","path":"/b"}],"list":[1,2,3]}`, false, false},
		{"delete route by id", OpDelete, "routes/a", "", `{"server":{"listen":"127.0.0.1:1","readTimeout":"1s"},"routes":[{"id":"b","path":"/b"}],"list":[1,2,3]}`, false, false},
		{"delete key", OpDelete, "list", "", `{"server":{"listen":"127.0.0.1:1","readTimeout":"1s"},"routes":[{"id":"a","path":"/a","mock":{"status":200}},{"id":"b","path":"/b"}]}`, false, false},
		{"delete missing", OpDelete, "routes/zzz", "", "", true, true},
		{"delete root", OpDelete, "", "", "", false, true},
		{"post appends", OpPost, "routes", `{"id":"c"}`, `{"server":{"listen":"127.0.0.1:1","readTimeout":"1s"},"routes":[{"id":"a","path":"/a","mock":{"status":200}},{"id":"b","path":"/b"},{"id":"c"}],"list":[1,2,3]}`, false, false},
		{"post to non-array", OpPost, "server", `1`, "", false, true},
		{"invalid body", OpPut, "server", `{`, "", false, true},
		{"trailing data in body", OpPut, "server", `{} {}`, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Edit([]byte(doc), tt.op, SplitPath(tt.path), []byte(tt.value))
			if tt.wantErr {
				var pe *PathError
				if err == nil || !errors.As(err, &pe) || pe.NotFound != tt.notFound {
					t.Fatalf("Edit = %s, %v; want a PathError with NotFound=%v", got, err, tt.notFound)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			json.Unmarshal(got, &g)
			json.Unmarshal([]byte(tt.want), &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
