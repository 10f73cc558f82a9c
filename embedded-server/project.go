package embeddedserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/covetpy/covet/embedded-server/internal/config"
)

// DataDir is the folder inside a project that holds the database, key store,
// backups, history and runtime.json.
const DataDir = "covet_data"

// RuntimeFileName is written in DataDir while a server runs.
const RuntimeFileName = "runtime.json"

// project is an opened project folder.
type project struct {
	dir string // absolute
	log *slog.Logger
}

// openProject resolves dir, creates it and its data folder when missing,
// and checks that both are writable.
func openProject(dir string, log *slog.Logger) (*project, error) {
	if dir == "" {
		return nil, errors.New("project folder: no folder given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("project folder %s: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("project folder %s: it is a file, not a folder", abs)
	}
	data := filepath.Join(abs, DataDir)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("project folder %s: cannot create %s: %w", abs, DataDir, errors.Unwrap(err))
	}
	probe, err := os.CreateTemp(data, ".write-check-*")
	if err != nil {
		return nil, fmt.Errorf("project folder %s: %s is not writable: %w", abs, DataDir, errors.Unwrap(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return &project{dir: abs, log: log}, nil
}

func (p *project) path(elem ...string) string {
	return filepath.Join(append([]string{p.dir}, elem...)...)
}

// abs resolves a path from covet.json against the project folder; empty
// stays empty.
func (p *project) abs(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(p.dir, name)
}

// loadConfig reads covet.json, writing the defaults first when the file
// does not exist.
func (p *project) loadConfig(env config.Env) (*config.Config, error) {
	path := p.path(config.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		data, err := config.Default().Marshal()
		if err != nil {
			return nil, err
		}
		if err := writeFileAtomic(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("creating %s: %w", path, err)
		}
		p.log.Info("created a new project with default settings", "config", path)
	}
	return config.Load(path, env)
}

// runtimeFile is the content of covet_data/runtime.json.
type runtimeFile struct {
	URL        string    `json:"url"`
	PID        int       `json:"pid"`
	AdminToken string    `json:"adminToken"`
	StartedAt  time.Time `json:"startedAt"`
}

// checkNotRunning fails when a live server serves this project: the
// process in runtime.json exists and its URL still answers /healthz. A
// runtime.json left by a crash is stale and gets overwritten.
func (p *project) checkNotRunning() error {
	data, err := os.ReadFile(p.path(DataDir, RuntimeFileName))
	if err != nil {
		return nil // no runtime file: nobody serves it
	}
	var rt runtimeFile
	if json.Unmarshal(data, &rt) == nil && processAlive(rt.PID) && answers(rt.URL) {
		return fmt.Errorf("project %s is already served by process %d at %s; stop it first or open another project", p.dir, rt.PID, rt.URL)
	}
	p.log.Warn("replacing a stale runtime.json left by a server that did not shut down cleanly", "pid", rt.PID)
	return nil
}

// answers reports whether a server at url answers its liveness probe.
func answers(url string) bool {
	if !strings.HasPrefix(url, "http://127.") && !strings.HasPrefix(url, "http://[::1]") {
		return false // probe only loopback URLs, whatever the file says
	}
	client := http.Client{Timeout: time.Second}
	resp, err := client.Get(url + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (p *project) writeRuntime(rt runtimeFile) error {
	data, err := json.MarshalIndent(rt, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(p.path(DataDir, RuntimeFileName), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", RuntimeFileName, err)
	}
	return nil
}

func (p *project) removeRuntime() error {
	err := os.Remove(p.path(DataDir, RuntimeFileName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", RuntimeFileName, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path, so readers never see a half-written file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// DefaultProjectDir is the project the desktop app opens on first launch:
// Covet/default-project in the user's data folder.
func DefaultProjectDir() (string, error) {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = os.Getenv("LocalAppData")
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, "Library", "Application Support")
	default:
		base = os.Getenv("XDG_DATA_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			base = filepath.Join(home, ".local", "share")
		}
	}
	if base == "" {
		return "", errors.New("cannot find the user's data folder")
	}
	return filepath.Join(base, "Covet", "default-project"), nil
}

// RunningServer returns the base URL and admin token of the server that
// serves the project in projectDir, read from its runtime.json, when that
// server is alive and answers; ok is false otherwise.
func RunningServer(projectDir string) (url, token string, ok bool) {
	data, err := os.ReadFile(filepath.Join(projectDir, DataDir, RuntimeFileName))
	if err != nil {
		return "", "", false
	}
	var rt runtimeFile
	if json.Unmarshal(data, &rt) != nil || !processAlive(rt.PID) || !answers(rt.URL) {
		return "", "", false
	}
	return rt.URL, rt.AdminToken, true
}
