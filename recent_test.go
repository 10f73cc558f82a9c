package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRecentList(t *testing.T) {
	base := t.TempDir()
	dir := func(name string) string {
		d := filepath.Join(base, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b, c := dir("a"), dir("b"), dir("c")
	file := filepath.Join(base, "a-file")
	os.WriteFile(file, nil, 0o644)
	list := func(dirs ...string) string {
		q := make([]string, len(dirs))
		for i, d := range dirs {
			q[i] = fmt.Sprintf("%q", d)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	many := make([]string, maxRecent+3)
	for i := range many {
		many[i] = dir(fmt.Sprint("p", i))
	}

	const noFile = "\x00" // the recent file does not exist
	tests := []struct {
		name    string
		file    string // the file's content before, or noFile
		add     string // the project opened; "" only loads
		want    []string
		wantErr string // part of the error; "" for none
	}{
		{"no file yet", noFile, "", nil, ""},
		{"first project", noFile, a, []string{a}, ""},
		{"most recent first", list(a, b), c, []string{c, a, b}, ""},
		{"reopening moves it to the front", list(a, b, c), c, []string{c, a, b}, ""},
		{"duplicates in the file are merged", list(a, b, a), "", []string{a, b}, ""},
		{"unclean spellings are the same folder", list(a+"/", b), a, []string{a, b}, ""},
		{"missing folders are pruned", list(filepath.Join(base, "gone"), b), "", []string{b}, ""},
		{"files are pruned", list(file, b), "", []string{b}, ""},
		{"relative paths are pruned", `["relative/dir"]`, a, []string{a}, ""},
		{"capped when loading", list(many...), "", many[:maxRecent], ""},
		{"capped when adding", list(many[:maxRecent]...), c, append([]string{c}, many[:maxRecent-1]...), ""},
		{"empty list", `[]`, "", []string{}, ""},
		{"null", `null`, "", nil, ""},
		{"corrupt file is reported", `{not json`, "", nil, "corrupt"},
		{"corrupt file is reported and replaced", `{not json`, a, []string{a}, "corrupt"},
		{"an object is not a list", `{"a": 1}`, a, []string{a}, "corrupt"},
		{"empty file", ``, a, []string{a}, "corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recentList{path: filepath.Join(t.TempDir(), "covet-studio", "recent.json")}
			if tt.file != noFile {
				os.MkdirAll(filepath.Dir(r.path), 0o700)
				if err := os.WriteFile(r.path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			var err error
			if tt.add == "" {
				got, err = r.load()
			} else {
				got, err = r.add(tt.add)
			}
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if len(got) != 0 || len(tt.want) != 0 {
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("list = %v, want %v", got, tt.want)
				}
			}
			if tt.add == "" {
				return
			}
			// What add saved is what the next launch loads.
			if again, err := r.load(); err != nil || !reflect.DeepEqual(again, tt.want) {
				t.Errorf("load after add = %v (%v), want %v", again, err, tt.want)
			}
			if fi, err := os.Stat(r.path); err != nil {
				t.Error(err)
			} else if fi.Mode().Perm() != 0o600 {
				t.Errorf("recent file mode %v, want 0600 (it names the user's folders)", fi.Mode().Perm())
			}
		})
	}
}

// TestRecentListParentIsAFile: saving into a path whose folder is a file
// fails with an error instead of panicking or losing the list.
func TestRecentListParentIsAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "not-a-folder")
	os.WriteFile(f, nil, 0o600)
	r := recentList{path: filepath.Join(f, "recent.json")}
	d := t.TempDir()
	got, err := r.add(d)
	if err == nil || !reflect.DeepEqual(got, []string{d}) {
		t.Errorf("add = %v, %v; want [%s] and an error", got, err, d)
	}
}
