package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"

	"github.com/covetpy/covet/backend/orm"
)

// Migration is one step of a schema's history: SQL (Up, Down) read from
// files by Load, or Go functions (UpFunc, DownFunc).
type Migration struct {
	Version int64
	Name    string
	// UpFile and DownFile name the files the SQL came from ("" for a Go
	// migration, and DownFile "" when there is no down path).
	UpFile, DownFile string
	Up, Down         []Statement
	// UpFunc and DownFunc are a Go migration's steps; h is the transaction
	// (PostgreSQL, SQLite) or the migrator's connection (MySQL).
	UpFunc, DownFunc func(ctx context.Context, h orm.Handle) error
	// Checksum is the hex SHA-256 of the up file, or "go:" and the name for
	// a Go migration.
	Checksum string
}

// HasDown reports whether the migration can be rolled back.
func (m *Migration) HasDown() bool { return m.DownFunc != nil || m.DownFile != "" }

// label names the migration in messages: its up file, or version and name.
func (m *Migration) label() string {
	if m.UpFile != "" {
		return m.UpFile
	}
	return fmt.Sprintf("%d_%s (Go)", m.Version, m.Name)
}

// fileName is the pattern of migration files: 0001_create_users.up.sql.
// Read only.
var fileName = regexp.MustCompile(`^([0-9]+)_([a-z0-9_]+)\.(up|down)\.sql$`)

// namePattern is what a migration's name may contain. Read only.
var namePattern = regexp.MustCompile(`^[a-z0-9_]+$`)

// MaxFileSize bounds one migration file.
const MaxFileSize = 8 << 20

// Load reads the migrations in the root of fsys: NNNN_name.up.sql, and
// optionally NNNN_name.down.sql with the same version and name. Other
// files are ignored, except names that look like migrations but do not
// follow the pattern, which are errors (a typo must not skip a migration).
// The result is sorted by version.
func Load(fsys fs.FS) ([]*Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: reading migrations: %w", err)
	}
	byVersion := map[int64]*Migration{}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !hasSQLSuffix(name) {
			continue
		}
		parts := fileName.FindStringSubmatch(name)
		if parts == nil {
			errs = append(errs, fmt.Errorf("%s: want NNNN_name.up.sql or NNNN_name.down.sql (name in a-z, 0-9 and _)", name))
			continue
		}
		version, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil || version <= 0 {
			errs = append(errs, fmt.Errorf("%s: the version must be a positive number", name))
			continue
		}
		text, err := readFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		stmts, err := Split(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		m := byVersion[version]
		if m == nil {
			m = &Migration{Version: version, Name: parts[2]}
			byVersion[version] = m
		} else if m.Name != parts[2] {
			errs = append(errs, fmt.Errorf("%s: version %d is also %s", name, version, firstFile(m)))
			continue
		}
		if parts[3] == "up" {
			m.UpFile, m.Up = name, stmts
			sum := sha256.Sum256([]byte(text))
			m.Checksum = hex.EncodeToString(sum[:])
		} else {
			m.DownFile, m.Down = name, stmts
		}
	}
	out := make([]*Migration, 0, len(byVersion))
	for _, m := range byVersion {
		if m.UpFile == "" {
			errs = append(errs, fmt.Errorf("%s: there is no %0*d_%s.up.sql", m.DownFile, digits(m.DownFile), m.Version, m.Name))
			continue
		}
		out = append(out, m)
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return nil, &LoadError{Problems: errs}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// LoadError lists what is wrong with the migration files, each naming its
// file.
type LoadError struct {
	Problems []error
}

func (e *LoadError) Error() string {
	return "migrate: loading migrations: " + errors.Join(e.Problems...).Error()
}

func (e *LoadError) Unwrap() []error { return e.Problems }

func hasSQLSuffix(name string) bool { return len(name) > 4 && name[len(name)-4:] == ".sql" }

func readFile(fsys fs.FS, name string) (string, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return "", err
	}
	if info.Size() > MaxFileSize {
		return "", fmt.Errorf("%s: %d bytes, more than the %d a migration file may have", name, info.Size(), MaxFileSize)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func firstFile(m *Migration) string {
	if m.UpFile != "" {
		return m.UpFile
	}
	return m.DownFile
}

// digits is how many digits the version of a file name has, so that a
// message names the up file with the same zero padding.
func digits(file string) int {
	for i, c := range file {
		if c < '0' || c > '9' {
			return i
		}
	}
	return len(file)
}

// Func returns a Go migration; down may be nil when it cannot be rolled
// back. Pass it in Config.Migrations beside the loaded files.
func Func(version int64, name string, up, down func(ctx context.Context, h orm.Handle) error) *Migration {
	return &Migration{Version: version, Name: name, UpFunc: up, DownFunc: down, Checksum: "go:" + name}
}
