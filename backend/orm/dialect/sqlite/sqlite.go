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
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite" // also registers the "sqlite" database/sql driver
)

// Config says which database to open and how.
type Config struct {
	// Path of the database file; it is created when missing.
	Path string
	// BusyTimeout is how long a statement waits for a lock. Default 5s.
	BusyTimeout time.Duration
	// MaxOpenConns bounds the pool. Default 8.
	MaxOpenConns int
	// Writer, when set, is applied to every connection of New's writer.
	Writer *WriterHooks

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

// WriterHooks reach every connection of a database's writer (New's
// single-connection pool), including the ones database/sql opens later to
// replace one it dropped (after an interrupted statement, say). Package
// backup's WAL archiver relies on them. Set Config.Writer before New.
type WriterHooks struct {
	// ManualCheckpoints turns SQLite's automatic checkpoints off on the
	// writer: the log grows until someone checkpoints it (the archiver
	// does, after copying it).
	ManualCheckpoints bool

	commit atomic.Pointer[func()]
}

// OnCommit sets the function called on the writer as each transaction
// begins to commit (SQLite's commit hook, which here never vetoes the
// commit); nil removes it. fn runs inside SQLite and must be quick.
func (h *WriterHooks) OnCommit(fn func()) {
	if fn == nil {
		h.commit.Store(nil)
		return
	}
	h.commit.Store(&fn)
}

// install sets the hooks on a new connection.
func (h *WriterHooks) install(c msqlite.ExecQuerierContext, _ string) error {
	if h.ManualCheckpoints {
		if _, err := c.ExecContext(context.Background(), "PRAGMA wal_autocheckpoint = 0", nil); err != nil {
			return err
		}
	}
	hr, ok := c.(msqlite.HookRegisterer)
	if !ok {
		return fmt.Errorf("the sqlite driver's connection (%T) has no commit hook", c)
	}
	hr.RegisterCommitHook(func() int32 {
		if fn := h.commit.Load(); fn != nil {
			(*fn)()
		}
		return 0
	})
	return nil
}

// connector opens connections through a driver of its own.
type connector struct {
	d   *msqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.d }

// Open opens the database described by cfg and checks that it answers and
// runs in WAL mode.
func Open(ctx context.Context, cfg Config) (*sql.DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var db *sql.DB
	var err error
	if cfg.Writer != nil {
		d := &msqlite.Driver{}
		d.RegisterConnectionHook(cfg.Writer.install)
		db = sql.OpenDB(connector{d: d, dsn: cfg.DSN()})
	} else {
		db, err = sql.Open("sqlite", cfg.DSN())
	}
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
