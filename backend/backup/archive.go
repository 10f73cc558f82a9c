package backup

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
)

// Archiving limits and defaults.
const (
	// DefaultArchiveInterval is how often the archiver copies new commits.
	DefaultArchiveInterval = time.Second
	// DefaultCheckpointBytes is the WAL size above which the archiver,
	// after copying it, checkpoints and truncates it.
	DefaultCheckpointBytes = 4 << 20
	// maxTxBytes bounds the pages of one transaction the archiver holds in
	// memory; a larger transaction stops archiving with an error.
	maxTxBytes = 1 << 30
	// maxPendingCommits bounds the commit times remembered between syncs;
	// older ones are forgotten and their commits get the sync's time.
	maxPendingCommits = 1 << 16
	// headRefresh is how often an idle archiver rewrites head.json to
	// move its SyncedAt on.
	headRefresh = 30 * time.Second
)

// ErrArchiverClosed: the archiver was closed. Read only.
var ErrArchiverClosed = errors.New("backup: the archiver is closed")

// ArchiveOptions tune ArchiveSQLite.
type ArchiveOptions struct {
	// Interval between syncs. Default DefaultArchiveInterval; negative:
	// no background syncs (the caller calls Sync).
	Interval time.Duration
	// CheckpointBytes: default DefaultCheckpointBytes.
	CheckpointBytes int64
	// OnError, when set, hears each failed background sync.
	OnError func(error)
}

// ArchiveStatus is what an archiver has done.
type ArchiveStatus struct {
	// Base is the base backup the archive extends.
	Base     string `json:"base"`
	Segments uint64 `json:"segments"`
	Commits  int64  `json:"commits"`
	// SyncedAt is when every commit before it was archived: restores reach
	// up to it.
	SyncedAt time.Time `json:"syncedAt"`
	// Unarchived is the time of the oldest commit made since SyncedAt, nil
	// when there is none: losing the disk now would lose the commits since.
	Unarchived *time.Time `json:"unarchived,omitempty"`
	// Untimed counts commits whose time was not recorded (the writer's
	// connection was replaced, or too many commits between syncs); they
	// are archived with the time of the sync that found them.
	Untimed   int64      `json:"untimed,omitempty"`
	LastError string     `json:"lastError,omitempty"`
	ErrorAt   *time.Time `json:"errorAt,omitempty"`
}

// SQLiteArchiver copies the commits of a SQLite database's write-ahead log
// into the wal/ folder of a base backup, continuously, so that the
// database can be restored to any moment since the base (see RestoreTo).
//
// It relies on the database's single writer (sqlite.New's) and its hooks: a
// sync holds the writer connection, so no transaction is half-written while
// it reads the log; only the archiver checkpoints (the hooks turn SQLite's
// automatic checkpoints off), so a checkpoint that restarts the log runs
// only after the frames it drops were archived; and the commit hook records
// each commit's time. If the log changed behind its back anyway (another
// process wrote to the file and checkpointed it), the archiver cannot prove
// the chain and starts a new base.
type SQLiteArchiver struct {
	s     *Store
	db    *orm.DB
	path  string // the database file
	opts  ArchiveOptions
	hooks *sqlite.WriterHooks
	clock *commitClock

	mu       sync.Mutex // one sync, base or close at a time; guards the fields below
	closed   bool
	base     *Manifest
	head     archiveHead
	pageSize int
	pos      walPos // archived up to here in the log's current cycle
	posValid bool   // false: the log was truncated, a new cycle comes
	// restartOK: a checkpoint copied every frame, so SQLite may start a
	// new cycle of the log in place.
	restartOK bool

	statusMu sync.Mutex
	status   ArchiveStatus

	stop chan struct{}
	done chan struct{}
}

// ArchiveSQLite takes a base backup of db (KindBase: a consistent copy of
// the database file) and starts archiving every commit after it, syncing
// every opts.Interval until Close. db must be a SQLite database opened with
// sqlite.New and hooks as its Config.Writer, with ManualCheckpoints, and no
// other process may write to it. The archiver takes hooks' OnCommit.
func (s *Store) ArchiveSQLite(ctx context.Context, db *orm.DB, hooks *sqlite.WriterHooks, opts ArchiveOptions) (*SQLiteArchiver, error) {
	if name := db.Dialect().Name(); name != DialectSQLite {
		return nil, fmt.Errorf("archiving a sqlite database: the database is %s", name)
	}
	if hooks == nil || !hooks.ManualCheckpoints {
		return nil, errors.New("archiving a sqlite database: open it with sqlite.Config.Writer set to hooks with ManualCheckpoints, so that only the archiver checkpoints")
	}
	if opts.CheckpointBytes < 0 {
		return nil, fmt.Errorf("archiving a sqlite database: CheckpointBytes %d is negative", opts.CheckpointBytes)
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultArchiveInterval
	}
	if opts.CheckpointBytes == 0 {
		opts.CheckpointBytes = DefaultCheckpointBytes
	}
	path, err := sqliteSource(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("archiving a sqlite database: finding its file: %w", err)
	}
	if path == "" {
		return nil, errors.New("archiving a sqlite database: it is in memory")
	}
	a := &SQLiteArchiver{s: s, db: db, path: path, opts: opts, hooks: hooks, clock: newCommitClock(path + "-shm"),
		stop: make(chan struct{}), done: make(chan struct{})}
	hooks.OnCommit(a.clock.hook)
	a.mu.Lock()
	_, err = a.newBase(ctx, nil)
	a.mu.Unlock()
	if err != nil {
		hooks.OnCommit(nil)
		a.clock.close()
		return nil, err
	}
	if opts.Interval > 0 {
		go a.loop()
	} else {
		close(a.done)
	}
	return a, nil
}

func (a *SQLiteArchiver) loop() {
	defer close(a.done)
	t := time.NewTicker(a.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), max(a.opts.Interval, 30*time.Second))
			if err := a.syncNow(ctx, false); err != nil && !errors.Is(err, ErrArchiverClosed) && a.opts.OnError != nil {
				a.opts.OnError(err)
			}
			cancel()
		}
	}
}

// Status reports what the archiver has done.
func (a *SQLiteArchiver) Status() ArchiveStatus {
	a.statusMu.Lock()
	st := a.status
	a.statusMu.Unlock()
	if t, ok := a.clock.oldest(); ok && t.After(st.SyncedAt) {
		st.Unarchived = &t
	}
	return st
}

// Base returns the manifest of the base backup being extended.
func (a *SQLiteArchiver) Base() Manifest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return *a.base
}

// Sync archives the commits made since the last sync now, and records in
// head.json that the archive reaches this moment.
func (a *SQLiteArchiver) Sync(ctx context.Context) error { return a.syncNow(ctx, true) }

// syncNow syncs; with force head.json records it even when idle.
func (a *SQLiteArchiver) syncNow(ctx context.Context, force bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrArchiverClosed
	}
	err := orm.WithConn(ctx, a.db, func(c *orm.Conn) error { return a.sync(ctx, c, force) })
	var broken *brokenChainError
	if errors.As(err, &broken) {
		// The log changed behind the archiver's back: what it holds cannot
		// be chained to the archive, so a new base starts a new one.
		if _, berr := a.newBase(ctx, nil); berr != nil {
			err = fmt.Errorf("%w; starting a new base: %w", err, berr)
		}
	}
	a.setError(err)
	return err
}

// NewBase closes the current archive at this moment and starts a new one
// from a new base backup, which it returns: what a schedule of backups does
// so that old archives can be pruned. With store (nil: the archiver's), the
// new base and its archive go there: the same folder opened with another
// keyring, to start or stop encrypting.
func (a *SQLiteArchiver) NewBase(ctx context.Context, store *Store) (*Manifest, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrArchiverClosed
	}
	if store != nil && store.dir != a.s.dir {
		return nil, fmt.Errorf("backup: a new base must go to the archiver's store %s, not %s", a.s.dir, store.dir)
	}
	old := a.s
	m, err := a.newBase(ctx, func(c *orm.Conn) error {
		err := a.sync(ctx, c, false)
		if store != nil {
			a.s = store
		}
		return err
	})
	if err != nil {
		a.s = old
	}
	a.setError(err)
	return m, err
}

// Close archives what is left, marks the archive closed and stops. It does
// not close the database.
func (a *SQLiteArchiver) Close(ctx context.Context) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	err := orm.WithConn(ctx, a.db, func(c *orm.Conn) error {
		err := a.sync(ctx, c, false)
		if err == nil {
			a.head.Closed = true
			err = writeHead(filepath.Join(a.s.dir, a.base.ID), &a.head)
		}
		return err
	})
	a.mu.Unlock()
	close(a.stop)
	<-a.done
	a.hooks.OnCommit(nil)
	a.clock.close()
	return err
}

func (a *SQLiteArchiver) setError(err error) {
	a.statusMu.Lock()
	defer a.statusMu.Unlock()
	if err == nil {
		a.status.LastError, a.status.ErrorAt = "", nil
		return
	}
	now := time.Now()
	a.status.LastError, a.status.ErrorAt = err.Error(), &now
}

func (a *SQLiteArchiver) publish() {
	a.statusMu.Lock()
	defer a.statusMu.Unlock()
	a.status.Base, a.status.Segments, a.status.Commits, a.status.SyncedAt = a.base.ID, a.head.Seq, a.head.Commits, a.head.SyncedAt
	a.status.Untimed = a.clock.untimedCount()
}

// brokenChainError: the log is not the one the archive continues.
type brokenChainError struct{ why string }

func (e *brokenChainError) Error() string {
	return "the write-ahead log no longer continues the archive: " + e.why
}

// sync archives the log's new commits; c holds the writer connection.
// With force, head.json records the sync even when nothing was new.
func (a *SQLiteArchiver) sync(ctx context.Context, c *orm.Conn, force bool) error {
	now := time.Now().UTC()
	a.clock.resolve()
	wal, err := os.Open(a.path + "-wal")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var h walHeader
	ok := false
	if wal != nil {
		defer wal.Close()
		if h, ok, err = readWALHeader(wal); err != nil {
			return fmt.Errorf("reading %s: %w", a.path+"-wal", err)
		}
	}
	var from walPos
	switch {
	case !ok && a.posValid && a.pos.frames > 0:
		return &brokenChainError{"the log was emptied without the archiver's checkpoint"}
	case !ok:
		return a.finishSync(now, nil, force)
	case a.posValid && h.salt == a.pos.salt:
		from = a.pos
	case !a.posValid || a.restartOK:
		from = walPos{salt: h.salt, cksum: h.cksum}
	default:
		return &brokenChainError{"the log started a new cycle the archiver did not allow"}
	}
	if h.pageSize != a.pageSize {
		return &brokenChainError{fmt.Sprintf("the log's page size is %d, the base's %d", h.pageSize, a.pageSize)}
	}
	var seg *pendingSegment
	defer func() {
		if seg != nil {
			seg.abort()
		}
	}()
	last := a.head.LastCommit
	end, err := readWALTxs(wal, h, from, maxTxBytes, func(tx walTx) error {
		if seg == nil {
			var err error
			if seg, err = a.beginSegment(); err != nil {
				return err
			}
		}
		at, timed := a.clock.take(walKey{h.salt, tx.commitFrame})
		if !timed {
			at = now
			a.clock.countUntimed()
		}
		if last != nil && at.Before(*last) { // keep the archive in order
			at = *last
		}
		last = &at
		seg.w.tx(at, tx.dbPages, tx.pages)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading %s: %w", a.path+"-wal", err)
	}
	a.pos, a.posValid, a.restartOK = end, true, false
	if seg != nil {
		if err := seg.commit(ctx); err != nil {
			return err
		}
		a.head.LastCommit = last
	}
	if err := a.finishSync(now, seg, force); err != nil {
		return err
	}
	return a.checkpoint(ctx, c, wal)
}

// finishSync records a sync in head.json: always after a new segment or
// with force, and otherwise when SyncedAt is older than headRefresh.
func (a *SQLiteArchiver) finishSync(now time.Time, seg *pendingSegment, force bool) error {
	a.clock.forget()
	if seg == nil && !force && now.Sub(a.head.SyncedAt) < headRefresh {
		a.publishSynced(now)
		return nil
	}
	a.head.SyncedAt = now
	if err := writeHead(filepath.Join(a.s.dir, a.base.ID), &a.head); err != nil {
		return fmt.Errorf("writing %s: %w", headName, err)
	}
	a.publish()
	return nil
}

// publishSynced moves the status's SyncedAt on without rewriting head.json:
// the archive does reach now, and head.json says so within headRefresh.
func (a *SQLiteArchiver) publishSynced(now time.Time) {
	a.publish()
	a.statusMu.Lock()
	a.status.SyncedAt = now
	a.statusMu.Unlock()
}

// checkpoint folds the log into the database once it is large, truncating
// it, so it does not grow without end; everything in it is archived.
func (a *SQLiteArchiver) checkpoint(ctx context.Context, c *orm.Conn, wal *os.File) error {
	st, err := wal.Stat()
	if err != nil || st.Size() < a.opts.CheckpointBytes {
		return err
	}
	rs, err := orm.RunNative(ctx, c, "PRAGMA wal_checkpoint(TRUNCATE)", nil, 1)
	if err != nil {
		return fmt.Errorf("checkpointing: %w", err)
	}
	if len(rs.Rows) != 1 || len(rs.Rows[0]) != 3 {
		return errors.New("checkpointing: PRAGMA wal_checkpoint answered no row")
	}
	busy, logFrames, copied := fmt.Sprint(rs.Rows[0][0]), fmt.Sprint(rs.Rows[0][1]), fmt.Sprint(rs.Rows[0][2])
	switch {
	case busy == "0":
		a.posValid = false // truncated: the next commit starts a new cycle
	case logFrames == copied:
		a.restartOK = true // readers kept the log, but it is all in the database
	}
	return nil
}

// pendingSegment is a segment being written, as a temporary file.
type pendingSegment struct {
	a    *SQLiteArchiver
	seq  uint64
	tmp  *os.File
	w    *segmentWriter
	done bool
}

func (a *SQLiteArchiver) beginSegment() (*pendingSegment, error) {
	dir := filepath.Join(a.s.dir, a.base.ID, walDir)
	tmp, err := os.CreateTemp(dir, ".segment-*.tmp")
	if err != nil {
		return nil, err
	}
	var prev [32]byte
	if a.head.Seq > 0 {
		b, _ := hex.DecodeString(a.head.SHA256)
		copy(prev[:], b)
	}
	seq := a.head.Seq + 1
	return &pendingSegment{a: a, seq: seq, tmp: tmp, w: newSegmentWriter(tmp, seq, a.pageSize, prev)}, nil
}

func (p *pendingSegment) abort() {
	if !p.done {
		p.tmp.Close()
		os.Remove(p.tmp.Name())
	}
}

// commit stores the segment under its name (encrypting it with the
// store's keyring when the base is encrypted) and makes it the head.
func (p *pendingSegment) commit(ctx context.Context) error {
	a := p.a
	if err := p.w.close(); err != nil {
		return err
	}
	dir := filepath.Join(a.s.dir, a.base.ID, walDir)
	name := segmentName(p.seq, a.base.Encrypted)
	// A crash between storing a segment and writing head.json leaves it
	// behind, unlisted: this one replaces it.
	if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var f File
	var err error
	if a.base.Encrypted {
		p.tmp.Close()
		f, _, err = a.s.encryptFile(ctx, a.base.ID, p.tmp.Name(), filepath.Join(dir, name))
	} else {
		p.tmp.Close()
		f, err = keepPlain(ctx, p.tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		return fmt.Errorf("storing segment %d: %w", p.seq, err)
	}
	p.done = true
	if err := syncDir(dir); err != nil {
		return err
	}
	a.head.Seq, a.head.SHA256 = p.seq, f.SHA256
	a.head.Commits += int64(p.w.count)
	return nil
}

// newBase takes a base backup and makes it the archive's; before (when not
// nil) runs first on the writer connection, to end the current archive.
// The archiver's mutex is held.
func (a *SQLiteArchiver) newBase(ctx context.Context, before func(*orm.Conn) error) (_ *Manifest, err error) {
	var m *Manifest
	var dir, snapshot string
	var start archiveHead
	err = orm.WithConn(ctx, a.db, func(c *orm.Conn) error {
		// The old archive reaches the new base only when before archived
		// everything; a broken chain ends it at its last sync.
		extended := false
		if before != nil {
			var broken *brokenChainError
			if err := before(c); err == nil {
				extended = true
			} else if !errors.As(err, &broken) {
				return err
			}
		}
		a.clock.resolve()
		// The base holds every commit before created, and the archive every
		// one after: hold the writer until that millisecond has begun.
		created := a.s.now().UTC().Truncate(time.Millisecond).Add(time.Millisecond)
		if d := time.Until(created); d > 0 && d <= 2*time.Millisecond {
			time.Sleep(d)
		}
		id := newID(created)
		dir = filepath.Join(a.s.dir, id)
		if err := os.MkdirAll(filepath.Join(dir, walDir), 0o700); err != nil {
			return err
		}
		m = &Manifest{Format: ManifestFormat, ID: id, Kind: KindBase, Dialect: DialectSQLite, CreatedAt: idTime(id), Source: a.path}
		snapshot = filepath.Join(dir, snapshotFile)
		pageSize, pos, posValid, err := copyCheckpointed(a.path, snapshot)
		if err != nil {
			return err
		}
		if a.base != nil && !a.closed {
			if extended { // the old archive ends where this base begins
				a.head.SyncedAt = m.CreatedAt
			}
			a.head.Closed = true
			if err := writeHead(filepath.Join(a.s.dir, a.base.ID), &a.head); err != nil {
				return fmt.Errorf("closing the archive of base %s: %w", a.base.ID, err)
			}
		}
		a.clock.forget()
		a.pageSize, a.pos, a.posValid, a.restartOK = pageSize, pos, posValid, false
		start = archiveHead{Format: headFormat, Base: id, SyncedAt: m.CreatedAt}
		return nil
	})
	if dir != "" && err != nil {
		os.RemoveAll(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("taking a base backup of %s: %w", a.path, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
			err = fmt.Errorf("taking base backup %s of %s: %w", m.ID, a.path, err)
		}
	}()
	// The archive is now this base's: syncs must not go on into the old one.
	if err := writeHead(dir, &start); err != nil {
		return nil, err
	}
	var f File
	if a.s.keyring == nil {
		f, err = keepPlain(ctx, snapshot, filepath.Join(dir, sqliteFile))
	} else {
		m.Encrypted, m.ChunkSize = true, a.s.chunkSize
		f, m.KeyID, err = a.s.encryptFile(ctx, m.ID, snapshot, filepath.Join(dir, sqliteEncFile))
	}
	if err != nil {
		return nil, err
	}
	m.Files = []File{f}
	if err := a.s.finishManifest(dir, m); err != nil {
		return nil, err
	}
	a.base, a.head = m, start
	a.publish()
	return m, nil
}

// copyCheckpointed copies the database file at path to dest and applies
// the committed transactions of its log, as a checkpoint would: dest is
// the database as of now, in one file, page for page. The caller holds the
// writer connection, so neither file changes meanwhile. It returns the page
// size and the position in the log after the copy (posValid false when the
// log is empty).
func copyCheckpointed(path, dest string) (pageSize int, pos walPos, posValid bool, err error) {
	if err := copyFile(path, dest); err != nil {
		return 0, pos, false, err
	}
	out, err := os.OpenFile(dest, os.O_RDWR, 0)
	if err != nil {
		return 0, pos, false, err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	var hdr [100]byte
	if n, _ := out.ReadAt(hdr[:], 0); n == len(hdr) {
		pageSize = int(binary.BigEndian.Uint16(hdr[16:]))
		if pageSize == 1 {
			pageSize = maxPageSize
		}
	}
	wal, err := os.Open(path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		if pageSize == 0 {
			return 0, pos, false, errors.New("the database file has no header and no log")
		}
		return pageSize, pos, false, nil
	} else if err != nil {
		return 0, pos, false, err
	}
	defer wal.Close()
	h, ok, err := readWALHeader(wal)
	if err != nil || !ok {
		if pageSize == 0 && err == nil {
			err = errors.New("the database file has no header and no log")
		}
		return pageSize, pos, false, err
	}
	if pageSize != 0 && pageSize != h.pageSize {
		return 0, pos, false, fmt.Errorf("the database's page size is %d, its log's %d", pageSize, h.pageSize)
	}
	pageSize = h.pageSize
	pos, err = readWALTxs(wal, h, walPos{salt: h.salt, cksum: h.cksum}, maxTxBytes, func(tx walTx) error {
		return applyTx(out, pageSize, tx.dbPages, tx.pages)
	})
	if err == nil {
		err = out.Sync()
	}
	return pageSize, pos, err == nil, err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// walKey names a commit: the log's cycle and its commit frame.
type walKey struct {
	salt  [8]byte
	frame uint32
}

// commitClock remembers when each commit happened. SQLite calls the commit
// hook as a commit begins, before its frames are written; the hook of the
// next commit (or the next sync, which holds the writer) then reads the
// wal-index to learn which frame the commit ended at. A commit that wrote
// nothing ends where the one before did, and keeps the earlier time.
type commitClock struct {
	mu      sync.Mutex
	shm     *os.File // nil until the -shm file can be opened
	shmPath string
	last    time.Time // the commit whose end is not known yet; zero: none
	times   map[walKey]time.Time
	order   []walKey // oldest first, to forget past maxPendingCommits
	untimed int64
}

func newCommitClock(shmPath string) *commitClock {
	return &commitClock{shmPath: shmPath, times: map[walKey]time.Time{}}
}

// hook is the commit hook.
func (c *commitClock) hook() {
	now := time.Now().UTC()
	c.mu.Lock()
	c.resolveLocked()
	c.last = now
	c.mu.Unlock()
}

// resolve records where the last commit ended; no commit may be running.
func (c *commitClock) resolve() {
	c.mu.Lock()
	c.resolveLocked()
	c.mu.Unlock()
}

func (c *commitClock) resolveLocked() {
	if c.last.IsZero() {
		return
	}
	at := c.last
	c.last = time.Time{}
	if c.shm == nil {
		f, err := os.Open(c.shmPath)
		if err != nil {
			return
		}
		c.shm = f
	}
	salt, frames, ok := readWALIndex(c.shm)
	if !ok {
		return
	}
	k := walKey{salt, frames}
	if frames <= 3 {
	}
	if _, seen := c.times[k]; seen {
		return
	}
	if len(c.order) >= maxPendingCommits {
		delete(c.times, c.order[0])
		c.order = c.order[1:]
	}
	c.times[k] = at
	c.order = append(c.order, k)
}

// take returns the time of the commit ending at k.
func (c *commitClock) take(k walKey) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.times[k]
	return t, ok
}

// oldest returns the time of the oldest commit remembered.
func (c *commitClock) oldest() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.last.IsZero() && len(c.order) == 0 {
		return c.last, true
	}
	if len(c.order) == 0 {
		return time.Time{}, false
	}
	return c.times[c.order[0]], true
}

// forget drops the remembered times: after a sync, every commit is
// archived.
func (c *commitClock) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.times)
	c.order = c.order[:0]
}

func (c *commitClock) countUntimed() {
	c.mu.Lock()
	c.untimed++
	c.mu.Unlock()
}

func (c *commitClock) untimedCount() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.untimed
}

func (c *commitClock) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shm != nil {
		c.shm.Close()
		c.shm = nil
	}
}
