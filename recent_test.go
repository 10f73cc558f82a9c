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
		os.MkdirAll(d, 0o755)
		return d
	}
	a, b, c := dir("a"), dir("b"), dir("c")
	tests := []struct {
		name    string
		file    string // initial content; "" means no file
		add     string
		want    []string
		wantErr string
	}{
		{"first project", "", a, []string{a}, ""},
		{"newest first", fmt.Sprintf("[%q, %q]", a, b), c, []string{c, a, b}, ""},
		{"re-adding moves to front", fmt.Sprintf("[%q, %q, %q]", a, b, c), c, []string{c, a, b}, ""},
		{"unclean duplicate", fmt.Sprintf("[%q]", a+"/"), a, []string{a}, ""},
		{"missing folders pruned", fmt.Sprintf("[%q, %q]", filepath.Join(base, "gone"), b), a, []string{a, b}, ""},
		{"relative paths pruned", `["relative/dir"]`, a, []string{a}, ""},
		{"corrupt file reported and replaced", `{not json`, a, []string{a}, "corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recentList{path: filepath.Join(t.TempDir(), "covet-studio", "recent.json")}
			if tt.file != "" {
				os.MkdirAll(filepath.Dir(r.path), 0o700)
				os.WriteFile(r.path, []byte(tt.file), 0o600)
			}
			got, err := r.add(tt.add)
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("add error = %v, want %q", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("add = %v, want %v", got, tt.want)
			}
			if again, err := r.load(); err != nil || !reflect.DeepEqual(again, tt.want) {
				t.Errorf("load after add = %v (%v), want %v", again, err, tt.want)
			}
		})
	}
}

func TestRecentListIsCapped(t *testing.T) {
	r := recentList{path: filepath.Join(t.TempDir(), "recent.json")}
	var dirs []string
	for i := range maxRecent + 5 {
		d := filepath.Join(t.TempDir(), fmt.Sprint(i))
		os.MkdirAll(d, 0o755)
		dirs = append(dirs, d)
		r.add(d)
	}
	got, _ := r.load()
	if len(got) != maxRecent || got[0] != dirs[len(dirs)-1] {
		t.Errorf("kept %d (first %s), want %d with the newest first", len(got), got[0], maxRecent)
	}
}
