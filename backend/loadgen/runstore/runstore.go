// Package runstore keeps load-test runs in a SQLite database: their spec,
// per-second series, final histogram and the server signals sampled beside
// them, with the version and configuration of the server that ran them.
//
//	st, err := runstore.Open("covet_data/studio.db")
//	if err != nil { … }
//	defer st.Close()
//	run := runstore.Run{ID: runstore.NewID(), Spec: spec, Status: runstore.Running, StartedAt: time.Now()}
//	err = st.Save(ctx, &run)
//	list, err := st.List(ctx)
package runstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/metrics"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// Run statuses.
const (
	Running   = "running"
	Completed = "completed"
	Cancelled = "cancelled"
	Failed    = "failed"
)

// MaxName bounds a run's name.
const MaxName = 200

// ErrNotFound is returned for an unknown run id. Read only.
var ErrNotFound = errors.New("no such run")

// Run is one load test, running or ended.
type Run struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// Source says who started it: "studio", "cli", or "route:<id>".
	Source    string       `json:"source"`
	Spec      loadgen.Spec `json:"spec"`
	StartedAt time.Time    `json:"startedAt"`
	EndedAt   *time.Time   `json:"endedAt"`
	// Version and ConfigHash identify the server that ran it (the config
	// hash is covet.json's ETag); empty for a CLI run against another
	// server.
	Version    string `json:"version"`
	ConfigHash string `json:"configHash"`
	// Error says why a failed run failed.
	Error  string          `json:"error,omitempty"`
	Result *loadgen.Result `json:"result"`
	// Signals are the server's, one per measured second, aligned with
	// Result.Series.
	Signals []metrics.Signals `json:"signals"`
}

// Summary is a run in a list: everything but the series and histogram.
type Summary struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Status      string     `json:"status"`
	Source      string     `json:"source"`
	Method      string     `json:"method"`
	URL         string     `json:"url"`
	Model       string     `json:"model"` // "closed" or "open"
	Connections int        `json:"connections"`
	Rate        float64    `json:"rate"`
	StartedAt   time.Time  `json:"startedAt"`
	EndedAt     *time.Time `json:"endedAt"`
	Requests    uint64     `json:"requests"`
	RPS         float64    `json:"rps"`
	Errors      uint64     `json:"errors"`
	P50         float64    `json:"p50"`
	P99         float64    `json:"p99"`
}

// Summarize returns r's summary.
func (r *Run) Summarize() Summary {
	s := Summary{ID: r.ID, Name: r.Name, Status: r.Status, Source: r.Source, Method: r.Spec.Method, URL: r.Spec.URL,
		Model: "closed", Connections: r.Spec.Connections, Rate: r.Spec.Rate, StartedAt: r.StartedAt, EndedAt: r.EndedAt}
	if r.Spec.Open() {
		s.Model = "open"
	}
	if res := r.Result; res != nil {
		s.Requests, s.RPS, s.Errors, s.P50, s.P99 = res.Requests, res.RPS, res.Errors, res.Latency.P50, res.Latency.P99
	}
	return s
}

// NewID returns a new random run id.
func NewID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// Store is a SQLite database of runs. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS covet_bench_runs (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	status      TEXT NOT NULL,
	source      TEXT NOT NULL,
	started_at  TEXT NOT NULL,
	summary     TEXT NOT NULL,
	run         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS covet_bench_runs_started ON covet_bench_runs (started_at);`

// Open opens (creating when missing) the database at path. Runs that were
// still "running" there belong to a process that has ended: they become
// failed.
func Open(path string) (*Store, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("opening the run store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises writes anyway
	st := &Store{db: db}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the run store %s: %w", path, err)
	}
	return st, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Save inserts or replaces run.
func (s *Store) Save(ctx context.Context, run *Run) error {
	if run.ID == "" {
		return errors.New("saving a run: it has no id")
	}
	body, err := json.Marshal(run)
	if err != nil {
		return fmt.Errorf("saving run %s: %w", run.ID, err)
	}
	sum, _ := json.Marshal(run.Summarize()) // plain fields only
	_, err = s.db.ExecContext(ctx, `INSERT INTO covet_bench_runs (id, name, status, source, started_at, summary, run)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status, summary = excluded.summary, run = excluded.run`,
		run.ID, run.Name, run.Status, run.Source, run.StartedAt.UTC().Format(time.RFC3339Nano), sum, body)
	if err != nil {
		return fmt.Errorf("saving run %s: %w", run.ID, err)
	}
	return nil
}

// Get returns one run.
func (s *Store) Get(ctx context.Context, id string) (*Run, error) {
	var body []byte
	err := s.db.QueryRowContext(ctx, `SELECT run FROM covet_bench_runs WHERE id = ?`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading run %s: %w", id, err)
	}
	var run Run
	if err := json.Unmarshal(body, &run); err != nil {
		return nil, fmt.Errorf("reading run %s: %w", id, err)
	}
	return &run, nil
}

// List returns every run's summary, newest first.
func (s *Store) List(ctx context.Context) ([]Summary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT summary FROM covet_bench_runs ORDER BY started_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var body []byte
		var sum Summary
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("listing runs: %w", err)
		}
		if err := json.Unmarshal(body, &sum); err != nil {
			return nil, fmt.Errorf("listing runs: %w", err)
		}
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	return out, nil
}

// Rename gives a run a new name.
func (s *Store) Rename(ctx context.Context, id, name string) (*Run, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	run, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	run.Name = name
	return run, s.Save(ctx, run)
}

// Delete removes a run.
func (s *Store) Delete(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM covet_bench_runs WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("deleting run %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("run %q: %w", id, ErrNotFound)
	}
	return nil
}

// FailInterrupted marks runs still "running" as failed: call it when no
// run of this store can be in progress (at start).
func (s *Store) FailInterrupted(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM covet_bench_runs WHERE status = ?`, Running)
	if err != nil {
		return fmt.Errorf("recovering interrupted runs: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	for _, id := range ids {
		run, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		run.Status, run.Error = Failed, "the server stopped while the run was in progress"
		if err := s.Save(ctx, run); err != nil {
			return err
		}
	}
	return nil
}

// ValidName checks a run name.
func ValidName(name string) error {
	switch {
	case len(name) > MaxName:
		return fmt.Errorf("name: %d bytes; at most %d", len(name), MaxName)
	case strings.ContainsAny(name, "\r\n\x00"):
		return errors.New("name: contains a line break or NUL")
	}
	return nil
}
