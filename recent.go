package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// maxRecent bounds the recent-projects list.
const maxRecent = 10

// recentList is the persisted list of recently opened project folders,
// most recent first.
type recentList struct {
	path string // the JSON file
}

// load reads the list, dropping folders that no longer exist. A
// missing or corrupt file is an empty list (a corrupt one is reported).
func (r recentList) load() ([]string, error) {
	data, err := os.ReadFile(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var dirs []string
	if err := json.Unmarshal(data, &dirs); err != nil {
		return nil, fmt.Errorf("recent projects file %s is corrupt (starting an empty list): %w", r.path, err)
	}
	kept := dirs[:0]
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() && filepath.IsAbs(d) {
			kept = append(kept, d)
		}
	}
	return dedupe(kept), nil
}

// add puts dir first, removes other mentions of it, caps the list and saves.
func (r recentList) add(dir string) ([]string, error) {
	dirs, loadErr := r.load()
	dirs = dedupe(append([]string{dir}, dirs...))
	if err := os.MkdirAll(filepath.Dir(r.path), 0o700); err != nil {
		return dirs, err
	}
	data, _ := json.MarshalIndent(dirs, "", "  ")
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return dirs, err
	}
	if err := os.Rename(tmp, r.path); err != nil {
		return dirs, err
	}
	return dirs, loadErr
}

func dedupe(dirs []string) []string {
	seen := make(map[string]bool, len(dirs))
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		d = filepath.Clean(d)
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
		if len(out) == maxRecent {
			break
		}
	}
	return out
}
