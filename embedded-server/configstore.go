package embeddedserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/covetpy/covet/backend/events"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/embedded-server/internal/admin"
	"github.com/covetpy/covet/embedded-server/internal/assemble"
	"github.com/covetpy/covet/embedded-server/internal/config"
)

// Limits of the configuration history.
const (
	historyLength = 50
	historyDir    = "history"
	watchInterval = time.Second
)

// configStore owns the live configuration: it applies new documents
// (decode, validate, compile, save, swap), keeps the history of applied
// versions in covet_data/history/ and announces changes on the event hub.
type configStore struct {
	file   string // covet.json
	dir    string // covet_data/history
	routes *assemble.Handler
	hub    *events.Hub
	log    *slog.Logger
	boot   *config.Config // the configuration the process started with
	now    func() time.Time

	mu      sync.Mutex // serialises applies; guards the fields below
	doc     []byte     // the current document, as saved
	etag    string
	history []historyEntry // oldest first, at most historyLength
	// fileErrs are the problems of the edit covet.json holds on disk, when
	// it could not be applied; API writes wait until it is fixed or
	// reverted, since saving would overwrite it.
	fileErrs config.Errors
}

// historyEntry is one applied version as stored on disk.
type historyEntry struct {
	admin.ConfigVersion
	Doc json.RawMessage `json:"doc"`
}

var _ admin.ConfigStore = (*configStore)(nil)

func newConfigStore(file, dataDir string, boot *config.Config, routes *assemble.Handler, hub *events.Hub, log *slog.Logger) (*configStore, error) {
	doc, err := boot.Marshal()
	if err != nil {
		return nil, err
	}
	c := &configStore{
		file: file, dir: filepath.Join(dataDir, historyDir), routes: routes, hub: hub, log: log, boot: boot,
		now: time.Now, doc: doc, etag: etagOf(doc),
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the configuration history: %w", err)
	}
	c.history = c.loadHistory()
	if n := len(c.history); n == 0 || c.history[n-1].ETag != c.etag {
		source := "start"
		if n > 0 {
			source = "file" // covet.json changed while no server ran
		}
		if err := c.recordLocked(doc, source, c.parentOfNewLocked(), len(boot.Routes)); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func etagOf(doc []byte) string {
	sum := sha256.Sum256(doc)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

// Config implements admin.ConfigStore.
func (c *configStore) Config() ([]byte, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doc, c.etag
}

// ApplyConfig implements admin.ConfigStore.
func (c *configStore) ApplyConfig(doc []byte, ifMatch, source string, dryRun bool) (admin.ConfigChange, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fileErrs != nil && !dryRun {
		return admin.ConfigChange{}, &admin.FileEditedError{Errors: c.fileErrs}
	}
	return c.applyLocked(doc, ifMatch, source, dryRun, c.parentOfNewLocked())
}

// FileErrors implements admin.ConfigStore.
func (c *configStore) FileErrors() []problem.FieldError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fileErrs
}

func (c *configStore) applyLocked(doc []byte, ifMatch, source string, dryRun bool, parent int) (admin.ConfigChange, error) {
	if !etagMatches(ifMatch, c.etag) {
		return admin.ConfigChange{}, admin.ErrPreconditionFailed
	}
	cfg, err := config.Decode(doc)
	if err == nil {
		err = cfg.ValidateIn(c.routes.Env())
	}
	if err != nil {
		return admin.ConfigChange{}, err
	}
	canonical, err := cfg.Marshal()
	if err != nil {
		return admin.ConfigChange{}, err
	}
	change := admin.ConfigChange{ETag: etagOf(canonical), Source: source, DryRun: dryRun, RestartRequired: c.restartRequired(cfg)}
	if dryRun {
		return change, nil
	}
	if bytes.Equal(canonical, c.doc) { // nothing changes: no new version
		change.Version = c.history[len(c.history)-1].Version
		return change, nil
	}
	// Compile before saving and save before swapping, so that what is
	// served and what is on disk never disagree. A hand edit is on disk
	// already, and stays as its author wrote it (layout, key order); what
	// the API applies is saved in canonical form.
	tree, err := c.routes.Compile(cfg)
	if err != nil {
		return admin.ConfigChange{}, fmt.Errorf("compiling routes: %w", err) // config.Errors stay visible to errors.As
	}
	if source != "file" {
		if err := writeFileAtomic(c.file, canonical, 0o644); err != nil {
			return admin.ConfigChange{}, fmt.Errorf("saving %s: %w", c.file, err)
		}
	}
	c.routes.Swap(tree)
	c.doc, c.etag = canonical, change.ETag
	if err := c.recordLocked(canonical, source, parent, len(cfg.Routes)); err != nil {
		c.log.Warn("recording the configuration history", "err", err)
	}
	change.Version = c.history[len(c.history)-1].Version
	c.hub.Publish(admin.EventConfigChanged, change)
	c.log.Info("configuration applied", "version", change.Version, "source", source, "routes", len(cfg.Routes))
	return change, nil
}

// restartRequired names the sections that differ from what the process
// started with: the listener and the database are not swapped live.
func (c *configStore) restartRequired(cfg *config.Config) []string {
	out := []string{}
	if !reflect.DeepEqual(cfg.Server, c.boot.Server) {
		out = append(out, "server")
	}
	if !reflect.DeepEqual(cfg.Database, c.boot.Database) {
		out = append(out, "database")
	}
	return out
}

func etagMatches(ifMatch, etag string) bool {
	if ifMatch == "" || ifMatch == "*" {
		return true
	}
	for t := range strings.SplitSeq(ifMatch, ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == etag {
			return true
		}
	}
	return false
}

// ConfigHistory implements admin.ConfigStore.
func (c *configStore) ConfigHistory() []admin.ConfigVersion {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]admin.ConfigVersion, len(c.history))
	for i, h := range c.history {
		out[len(out)-1-i] = h.ConfigVersion
	}
	return out
}

// UndoConfig implements admin.ConfigStore: it applies the version the
// current one replaced, recording the restored version's own parent, so
// repeated undos walk further back.
func (c *configStore) UndoConfig(ifMatch string) (admin.ConfigChange, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fileErrs != nil {
		return admin.ConfigChange{}, &admin.FileEditedError{Errors: c.fileErrs}
	}
	cur := c.history[len(c.history)-1]
	prev := c.findLocked(cur.Parent)
	if prev == nil {
		return admin.ConfigChange{}, admin.ErrNothingToUndo
	}
	return c.applyLocked(prev.Doc, ifMatch, "undo", false, prev.Parent)
}

func (c *configStore) findLocked(version int) *historyEntry {
	for i := range c.history {
		if c.history[i].Version == version {
			return &c.history[i]
		}
	}
	return nil
}

// parentOfNewLocked is the version a new change replaces: the current one.
func (c *configStore) parentOfNewLocked() int {
	if len(c.history) == 0 {
		return 0
	}
	return c.history[len(c.history)-1].Version
}

// recordLocked appends doc to the history, on disk and in memory, and
// prunes the oldest versions beyond historyLength.
func (c *configStore) recordLocked(doc []byte, source string, parent, routes int) error {
	version := 1
	if n := len(c.history); n > 0 {
		version = c.history[n-1].Version + 1
	}
	e := historyEntry{
		ConfigVersion: admin.ConfigVersion{Version: version, Time: c.now().UTC(), ETag: etagOf(doc), Source: source, Parent: parent, Routes: routes},
		Doc:           json.RawMessage(doc),
	}
	c.history = append(c.history, e)
	for len(c.history) > historyLength {
		os.Remove(c.entryFile(c.history[0].Version))
		c.history = c.history[1:]
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return writeFileAtomic(c.entryFile(version), data, 0o600)
}

func (c *configStore) entryFile(version int) string {
	return filepath.Join(c.dir, fmt.Sprintf("v%08d.json", version))
}

// loadHistory reads the history a previous run left; unreadable entries
// are skipped with a warning.
func (c *configStore) loadHistory() []historyEntry {
	names, _ := filepath.Glob(filepath.Join(c.dir, "v*.json"))
	sort.Strings(names)
	var out []historyEntry
	for _, name := range names {
		data, err := os.ReadFile(name)
		var e historyEntry
		if err == nil {
			err = json.Unmarshal(data, &e)
		}
		if err != nil || e.Version == 0 {
			c.log.Warn("skipping an unreadable configuration history entry", "file", name, "err", err)
			continue
		}
		out = append(out, e)
	}
	if len(out) > historyLength {
		out = out[len(out)-historyLength:]
	}
	return out
}

// watch applies covet.json when it is edited on disk, until ctx ends. An
// invalid edit is reported (log and config.error event), the current
// configuration keeps serving, and API writes are refused until the file
// is fixed or reverted; then config.changed says so, even when the file
// holds what already runs.
func (c *configStore) watch(ctx context.Context) {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	seen, _ := os.ReadFile(c.file) // what the file held when we last looked
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.checkFile(&seen)
	}
}

// checkFile applies covet.json if it changed since seen.
func (c *configStore) checkFile(seen *[]byte) {
	// Read under the lock: an apply writes the file while holding it, so
	// what is read here is never older than c.doc, and a document the API
	// wrote a moment ago is not mistaken for an edit.
	c.mu.Lock()
	defer c.mu.Unlock()
	data, err := os.ReadFile(c.file)
	if err != nil || bytes.Equal(data, *seen) {
		return
	}
	*seen = data
	etag := c.etag
	if !bytes.Equal(data, c.doc) {
		if _, err := c.applyLocked(data, "", "file", false, c.parentOfNewLocked()); err != nil {
			c.log.Error("covet.json was edited but is invalid; the previous configuration keeps serving", "err", err)
			var errs config.Errors
			if !errors.As(err, &errs) {
				errs = config.Errors{{Message: err.Error()}}
			}
			c.fileErrs = errs
			c.hub.Publish(admin.EventConfigError, admin.ConfigError{Source: "file", Errors: errs})
			return
		}
	}
	if c.fileErrs != nil && c.etag == etag { // reverted to what runs: no apply announced it
		c.hub.Publish(admin.EventConfigChanged, admin.ConfigChange{ETag: c.etag, Source: "file", Version: c.history[len(c.history)-1].Version})
	}
	c.fileErrs = nil
}
