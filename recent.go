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
// most recent first: a JSON array of absolute paths in
// <user config dir>/covet-studio/recent.json.
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
		return nil, fmt.Errorf("reading recent projects: %w", err)
	}
	var dirs []string
	if err := json.Unmarshal(data, &dirs); err != nil {
		return nil, fmt.Errorf("reading recent projects: %s is corrupt (starting an empty list): %w", r.path, err)
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
		return dirs, fmt.Errorf("saving recent projects: %w", err)
	}
	data, _ := json.MarshalIndent(dirs, "", "  ") // a []string always marshals
	if err := writeAtomic(r.path, append(data, '\n')); err != nil {
		return dirs, fmt.Errorf("saving recent projects: %w", err)
	}
	return dirs, loadErr
}

// writeAtomic replaces path with data (mode 0600) through a temporary file
// and a rename, so a crash or a second app instance never leaves half a
// file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
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
