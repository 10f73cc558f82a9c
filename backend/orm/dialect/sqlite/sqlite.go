// Package sqlite opens SQLite databases through modernc.org/sqlite (pure Go,
// no cgo) configured the way Covet relies on: WAL journal, a busy timeout,
// foreign keys enforced and immediate write transactions.
//
//	db, err := sqlite.Open(ctx, sqlite.Config{Path: "covet_data/covet.db"})
//	if err != nil { ... }
//	defer db.Close()
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Config says which database to open and how.
type Config struct {
	// Path of the database file; it is created when missing.
	Path string
	// BusyTimeout is how long a statement waits for a lock. Default 5s.
	BusyTimeout time.Duration
	// MaxOpenConns bounds the pool. Default 8.
	MaxOpenConns int

	readOnly bool // connections refuse writes (query_only), for New's readers
}

// Validate reports the first problem with c, naming the field.
func (c Config) Validate() error {
	switch {
	case c.Path == "":
		return errors.New("sqlite: Path is empty")
	case strings.ContainsAny(c.Path, "?#"):
		return fmt.Errorf("sqlite: Path %q contains '?' or '#'", c.Path)
	case c.BusyTimeout < 0:
		return fmt.Errorf("sqlite: BusyTimeout %v is negative", c.BusyTimeout)
	case c.MaxOpenConns < 0:
		return fmt.Errorf("sqlite: MaxOpenConns %d is negative", c.MaxOpenConns)
	}
	return nil
}

// DSN returns the modernc.org/sqlite data source name for c.
func (c Config) DSN() string {
	busy := c.BusyTimeout
	if busy == 0 {
		busy = 5 * time.Second
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	if c.readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + c.Path + "?" + q.Encode()
}

// Open opens the database described by cfg and checks that it answers and
// runs in WAL mode.
func Open(ctx context.Context, cfg Config) (*sql.DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", cfg.DSN())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite database %s: %w", cfg.Path, err)
	}
	maxOpen := cfg.MaxOpenConns
	if maxOpen == 0 {
		maxOpen = 8
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening sqlite database %s: %w", cfg.Path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("opening sqlite database %s: journal mode is %q, want wal (is the file on a filesystem without shared memory?)", cfg.Path, mode)
	}
	return db, nil
}
