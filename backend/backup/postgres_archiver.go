package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Archiver limits and defaults.
const (
	// DefaultPGSyncInterval is the time between the archiver's own syncs:
	// what a crash of this process can lose, at most, with SyncTimeout.
	DefaultPGSyncInterval = 10 * time.Second
	// MinPGSyncInterval and MaxPGSyncInterval bound PGArchiveOptions.Interval.
	MinPGSyncInterval = 100 * time.Millisecond
	MaxPGSyncInterval = time.Hour
	// DefaultPGSyncTimeout bounds how long a sync waits for pg_receivewal
	// to have flushed what the server has.
	DefaultPGSyncTimeout = 30 * time.Second
	// MaxPGSyncTimeout bounds PGArchiveOptions.SyncTimeout.
	MaxPGSyncTimeout = 10 * time.Minute
	// PGReceiverStartTimeout bounds how long ArchivePostgres waits for
	// pg_receivewal to stream.
	PGReceiverStartTimeout = 30 * time.Second
	// PGStaleSlotAge: a replication slot of this store that is inactive,
	// and whose generation's WAL index was not written for as long (or is
	// closed, or gone), is a leftover of an archiver that did not close;
	// ArchivePostgres drops it, since it makes the server keep WAL forever.
	PGStaleSlotAge = 15 * time.Minute

	pgBackoffMin   = 500 * time.Millisecond // first wait before restarting pg_receivewal
	pgBackoffMax   = 30 * time.Second       // longest wait before restarting it
	pgBackoffReset = time.Minute            // a run this long resets the wait to pgBackoffMin
	pgPoll         = 20 * time.Millisecond
	pgSlotDropTime = 15 * time.Second // how long Close retries dropping a slot still in use
	pgSlotPrefix   = "covet_"
)

// PGArchiveOptions tune ArchivePostgres.
type PGArchiveOptions struct {
	// Interval is the time between the archiver's own syncs, from
	// MinPGSyncInterval to MaxPGSyncInterval. Default DefaultPGSyncInterval.
	Interval time.Duration
	// SyncTimeout bounds how long a sync waits for pg_receivewal to have
	// received and flushed the WAL the server had flushed when the sync
	// began, up to MaxPGSyncTimeout. Default DefaultPGSyncTimeout.
	SyncTimeout time.Duration
	// OnError, when set, is called with each error of the archiver's own
	// work (a periodic sync, pg_receivewal exiting), from its goroutines.
	// It must return quickly. The latest error is also in Status.
	OnError func(error)
}

// Validate reports the first problem with o, naming the field.
func (o PGArchiveOptions) Validate() error {
	switch {
	case o.Interval != 0 && (o.Interval < MinPGSyncInterval || o.Interval > MaxPGSyncInterval):
		return fmt.Errorf("backup: PGArchiveOptions.Interval %v is outside %v..%v", o.Interval, MinPGSyncInterval, MaxPGSyncInterval)
	case o.SyncTimeout < 0 || o.SyncTimeout > MaxPGSyncTimeout:
		return fmt.Errorf("backup: PGArchiveOptions.SyncTimeout %v is outside 0..%v", o.SyncTimeout, MaxPGSyncTimeout)
	}
	return nil
}

func (o PGArchiveOptions) withDefaults() PGArchiveOptions {
	if o.Interval == 0 {
		o.Interval = DefaultPGSyncInterval
	}
	if o.SyncTimeout == 0 {
		o.SyncTimeout = DefaultPGSyncTimeout
	}
	return o
}

// PGBaseInfo is a base backup's postgres.json: what a restore needs to
// know before opening the base.
type PGBaseInfo struct {
	Format int `json:"format"`
	// ServerVersion is server_version_num (150004 is 15.4).
	ServerVersion    int    `json:"serverVersion"`
	SystemIdentifier string `json:"systemIdentifier,omitempty"`
	// Timeline, StartLSN and EndLSN are the base's WAL range: recovery is
	// consistent once it has replayed through EndLSN.
	Timeline int    `json:"timeline"`
	StartLSN string `json:"startLsn"`
	EndLSN   string `json:"endLsn"`
	// WALSegmentSize is the server's wal_segment_size, in bytes.
	WALSegmentSize int64 `json:"walSegmentSize"`
	// Database is the database of the archiver's DSN, the one a restore
	// replaces; Server is its host:port; User the DSN's user.
	Database string `json:"database"`
	Server   string `json:"server"`
	User     string `json:"user"`
	// ConsistentAt is the server's time once the base backup had ended:
	// the base restores to any moment from then on.
	ConsistentAt time.Time `json:"consistentAt"`
	// Slot is the replication slot of the generation's pg_receivewal.
	Slot string `json:"slot"`
}

func (i *PGBaseInfo) validate() error {
	switch {
	case i.Format != 1:
		return fmt.Errorf("format %d is not 1", i.Format)
	case i.ServerVersion < 100000:
		return fmt.Errorf("serverVersion %d is older than PostgreSQL 10", i.ServerVersion)
	case i.Timeline < 1:
		return fmt.Errorf("timeline %d", i.Timeline)
	case i.Database == "" || len(i.Database) > 63:
		return fmt.Errorf("database %q", i.Database)
	case i.User == "":
		return errors.New("user is missing")
	case i.WALSegmentSize < pgMinSegSize || i.WALSegmentSize > pgMaxSegSize || i.WALSegmentSize&(i.WALSegmentSize-1) != 0:
		return fmt.Errorf("walSegmentSize %d", i.WALSegmentSize)
	case i.ConsistentAt.IsZero():
		return errors.New("consistentAt is missing")
	}
	start, err := parseLSN(i.StartLSN)
	if err != nil {
		return fmt.Errorf("startLsn: %w", err)
	}
	end, err := parseLSN(i.EndLSN)
	if err != nil {
		return fmt.Errorf("endLsn: %w", err)
	}
	if end < start {
		return fmt.Errorf("endLsn %s is before startLsn %s", i.EndLSN, i.StartLSN)
	}
	return nil
}

func (i *PGBaseInfo) startSegment() uint64 {
	lsn, _ := parseLSN(i.StartLSN)
	return lsn / uint64(i.WALSegmentSize)
}

// parsePGBaseInfo decodes and validates postgres.json.
func parsePGBaseInfo(data []byte) (*PGBaseInfo, error) {
	var i PGBaseInfo
	if err := decodeStrict(data, &i); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", pgInfoFile, err)
	}
	if err := i.validate(); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", pgInfoFile, err)
	}
	return &i, nil
}

// PGArchiveStatus is what an archiver has done.
type PGArchiveStatus struct {
	// BaseID is the generation's ID.
	BaseID string `json:"baseId"`
	Slot   string `json:"slot"`
	// ConsistentAt is when the base became consistent (server time); zero
	// while the base backup runs.
	ConsistentAt time.Time `json:"consistentAt"`
	// ArchivedUntil is the server time through which every acknowledged
	// commit is archived (see pgWALIndex); ArchivedUntilLSN its WAL position.
	ArchivedUntil    time.Time `json:"archivedUntil"`
	ArchivedUntilLSN string    `json:"archivedUntilLsn,omitempty"`
	// Files counts the archived WAL files.
	Files int `json:"files"`
	// Receiving reports that pg_receivewal runs; Restarts counts its restarts.
	Receiving bool `json:"receiving"`
	Restarts  int  `json:"restarts"`
	// LastSync is when the latest sync ended (this process's clock), and
	// Healthy that it succeeded while pg_receivewal runs.
	LastSync time.Time `json:"lastSync"`
	Healthy  bool      `json:"healthy"`
	// LastError is the latest error of any kind, kept after recovery.
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt"`
	Closed      bool      `json:"closed"`
}

// PGArchiver archives the WAL of a PostgreSQL server after a base backup,
// until Close. It is safe for concurrent use.
type PGArchiver struct {
	store *Store
	dsn   *pgDSN
	run   *pgRunner
	opts  PGArchiveOptions
	id    string
	dir   string // the generation's folder
	wal   string // dir/wal
	work  string // pg_receivewal's folder
	slot  string

	stopLoop context.CancelFunc // stops loop; loopDone closes when it has
	loopDone chan struct{}
	stopRecv context.CancelFunc // stops receive; recvDone closes when it has
	recvDone chan struct{}

	closeMu  sync.Mutex // serializes Close; guards closeErr and closeDone
	closeDon bool
	closeErr error

	syncMu     sync.Mutex // serializes syncs; guards idx, partialSeq, manifest, closed
	idx        *pgWALIndex
	partialSeq int
	manifest   *Manifest
	closed     bool

	mu     sync.Mutex // guards status
	status PGArchiveStatus
}

// pgSlotName names the slots of the store in dir: covet_<12 hex digits of
// the SHA-256 of dir>_<the 6 random hex digits of the generation's ID>.
func pgSlotName(dir, id string) string {
	sum := sha256.Sum256([]byte(dir))
	return pgSlotPrefix + hex.EncodeToString(sum[:6]) + "_" + id[len(id)-6:]
}

// ArchivePostgres starts the continuous archive of the database server of
// cfg.DSN in a new generation of s: it creates a physical replication
// slot, starts pg_receivewal on it (before the base, so that no WAL after
// the base's start is missing), takes a base backup with pg_basebackup
// (-Ft, -X stream, fast checkpoint), stores its files (encrypted with the
// store's keyring, if any) and postgres.json, writes manifest.json last,
// syncs once and returns the running archiver. The archiver then syncs
// every opts.Interval and restarts pg_receivewal when it stops (waiting
// 0.5 s, doubling to 30 s); Close ends it.
//
// ctx bounds the start (the base backup), not the archiver. On an error
// nothing is left: no folder, no slot.
func (s *Store) ArchivePostgres(ctx context.Context, cfg PostgresConfig, opts PGArchiveOptions) (_ *PGArchiver, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	dsn, _ := parsePGDSN(cfg.DSN)
	defer func() {
		if err != nil {
			err = fmt.Errorf("archiving postgres database %s: %w", dsn.source(), err)
		}
	}()
	conn, err := dsn.connect(ctx, dsn.database)
	if err != nil {
		return nil, err
	}
	defer closeConn(conn)
	srv, err := pgServerFacts(ctx, conn)
	if err != nil {
		return nil, err
	}
	if srv.inRecovery {
		return nil, errors.New("the server is a standby (in recovery); archive its primary")
	}
	bin, err := pgBinaries(ctx, cfg, srv.versionNum/10000, false, "pg_basebackup", "pg_receivewal")
	if err != nil {
		return nil, err
	}
	id := newID(s.now())
	a := &PGArchiver{
		store: s,
		dsn:   dsn,
		run:   &pgRunner{bin: bin, password: dsn.password, secrets: dsn.secrets()},
		opts:  opts.withDefaults(),
		id:    id,
		dir:   filepath.Join(s.dir, id),
		slot:  pgSlotName(s.dir, id),
	}
	a.wal = filepath.Join(a.dir, pgWALDir)
	a.work = filepath.Join(a.dir, pgReceiveWork)
	a.status = PGArchiveStatus{BaseID: id, Slot: a.slot}
	for _, d := range []string{a.dir, a.wal, a.work} {
		if err := os.Mkdir(d, 0o700); err != nil {
			os.RemoveAll(a.dir)
			return nil, err
		}
	}
	a.idx = &pgWALIndex{Format: PGWALIndexFormat, BaseID: id, SegmentSize: srv.segSize, Files: []pgWALFile{}}
	if s.keyring != nil {
		a.idx.Encrypted, a.idx.ChunkSize = true, s.chunkSize
	}
	slotMade := false
	defer func() {
		if err != nil {
			a.abort(slotMade)
		}
	}()
	if err := a.idx.write(a.dir, s.keyring); err != nil {
		return nil, fmt.Errorf("writing the WAL index: %w", err)
	}
	if err := a.dropStaleSlots(ctx, conn); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_create_physical_replication_slot($1, false)", a.slot); err != nil {
		return nil, fmt.Errorf("creating replication slot %s: %w", a.slot, err)
	}
	slotMade = true

	life := context.WithoutCancel(ctx)
	recvCtx, stopRecv := context.WithCancel(life)
	a.stopRecv, a.recvDone = stopRecv, make(chan struct{})
	go a.receive(recvCtx)
	if err := a.waitStreaming(ctx, conn); err != nil {
		return nil, err
	}
	loopCtx, stopLoop := context.WithCancel(life)
	a.stopLoop, a.loopDone = stopLoop, make(chan struct{})
	go a.loop(loopCtx)

	m, info, err := a.takeBase(ctx, conn, srv)
	if err != nil {
		return nil, err
	}
	a.syncMu.Lock()
	a.manifest = m
	a.syncMu.Unlock()
	a.mu.Lock()
	a.status.ConsistentAt = info.ConsistentAt
	a.mu.Unlock()
	if err := a.Sync(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// BackupPostgres takes a base backup of cfg.DSN's server with the WAL
// needed to restore it: ArchivePostgres, then Close. The generation
// restores to any moment from its base's consistency to the Close.
func (s *Store) BackupPostgres(ctx context.Context, cfg PostgresConfig) (*Manifest, error) {
	a, err := s.ArchivePostgres(ctx, cfg, PGArchiveOptions{})
	if err != nil {
		return nil, err
	}
	if err := a.Close(ctx); err != nil {
		return nil, err
	}
	return a.Manifest(), nil
}

// ID returns the generation's ID.
func (a *PGArchiver) ID() string { return a.id }

// Manifest returns the base's manifest.
func (a *PGArchiver) Manifest() *Manifest {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	if a.manifest == nil {
		return nil
	}
	m := *a.manifest
	return &m
}

// Status returns what the archiver has done.
func (a *PGArchiver) Status() PGArchiveStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

// noteError records err in the status and passes it to OnError.
func (a *PGArchiver) noteError(err error) {
	a.mu.Lock()
	a.status.LastError, a.status.LastErrorAt = err.Error(), a.store.now()
	a.status.Healthy = false
	a.mu.Unlock()
	if a.opts.OnError != nil {
		a.opts.OnError(err)
	}
}

type pgServer struct {
	versionNum int
	segSize    int64
	inRecovery bool
	systemID   string
}

func pgServerFacts(ctx context.Context, conn *pgx.Conn) (*pgServer, error) {
	srv := &pgServer{}
	err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int,
		(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'), pg_is_in_recovery()`).
		Scan(&srv.versionNum, &srv.segSize, &srv.inRecovery)
	if err != nil {
		return nil, fmt.Errorf("reading the server's version and wal_segment_size: %w", err)
	}
	if srv.versionNum < 150000 {
		return nil, fmt.Errorf("the server is PostgreSQL %d.%d; this needs 15 or newer", srv.versionNum/10000, srv.versionNum%10000)
	}
	// Informational: pg_control_system() may be denied to the user.
	_ = conn.QueryRow(ctx, "SELECT system_identifier::text FROM pg_control_system()").Scan(&srv.systemID)
	return srv, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn.Close(ctx)
}

// dropStaleSlots drops this store's slots that an archiver left behind.
func (a *PGArchiver) dropStaleSlots(ctx context.Context, conn *pgx.Conn) error {
	prefix := a.slot[:len(a.slot)-6]
	rows, err := conn.Query(ctx, "SELECT slot_name::text FROM pg_replication_slots WHERE NOT active AND slot_type = 'physical' AND starts_with(slot_name::text, $1)", prefix)
	if err != nil {
		return fmt.Errorf("listing replication slots: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("listing replication slots: %w", err)
	}
	for _, name := range names {
		if !a.staleSlot(name[len(prefix):]) {
			continue
		}
		if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", name); err != nil && pgSQLState(err) != "42704" && pgSQLState(err) != "55006" {
			return fmt.Errorf("dropping replication slot %s, left by an archiver that did not close: %w", name, err)
		}
	}
	return nil
}

// staleSlot reports whether the generation whose ID ends in suffix has no
// running archiver: its folder is gone, its WAL index is closed, or it was
// not written for PGStaleSlotAge.
func (a *PGArchiver) staleSlot(suffix string) bool {
	entries, err := os.ReadDir(a.store.dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !ValidID(e.Name()) || !strings.HasSuffix(e.Name(), suffix) {
			continue
		}
		dir := filepath.Join(a.store.dir, e.Name())
		st, err := os.Stat(filepath.Join(dir, pgWALDir, pgWALIndexName))
		if err != nil {
			return errors.Is(err, fs.ErrNotExist)
		}
		if idx, err := readPGWALIndex(dir); err == nil && idx.Closed {
			return true
		}
		return time.Since(st.ModTime()) > PGStaleSlotAge
	}
	return true // no generation of this store has it
}

// abort undoes a start that failed.
func (a *PGArchiver) abort(slotMade bool) {
	if a.stopLoop != nil {
		a.stopLoop()
		<-a.loopDone
	}
	if a.stopRecv != nil {
		a.stopRecv()
		<-a.recvDone
	}
	if slotMade {
		ctx, cancel := context.WithTimeout(context.Background(), pgSlotDropTime)
		_ = a.dropSlot(ctx)
		cancel()
	}
	os.RemoveAll(a.dir)
}

// receive runs pg_receivewal until ctx ends, restarting it when it stops.
func (a *PGArchiver) receive(ctx context.Context) {
	defer close(a.recvDone)
	backoff := pgBackoffMin
	for {
		started := time.Now()
		err := a.receiveOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) >= pgBackoffReset {
			backoff = pgBackoffMin
		}
		a.mu.Lock()
		a.status.Restarts++
		a.mu.Unlock()
		a.noteError(fmt.Errorf("archive %s: pg_receivewal stopped, restarting it in %v: %w", a.id, backoff, err))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, pgBackoffMax)
	}
}

func (a *PGArchiver) receiveOnce(ctx context.Context) error {
	cmd := a.run.client(ctx, "pg_receivewal", "-D", a.work, "-S", a.slot, "--synchronous", "--status-interval=1", "--no-loop", "--no-password",
		"-d", a.dsn.toolURL(a.dsn.database, "application_name", a.slot))
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // it exits cleanly on SIGINT
	cmd.WaitDelay = PGStopTimeout
	stderr := &tailBuffer{max: pgToolTail}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return a.run.cmdError(cmd, err, "")
	}
	a.setReceiving(true)
	err := cmd.Wait()
	a.setReceiving(false)
	if err == nil {
		err = errors.New("exited")
	}
	return a.run.cmdError(cmd, err, stderr.String())
}

func (a *PGArchiver) setReceiving(on bool) {
	a.mu.Lock()
	a.status.Receiving = on
	a.mu.Unlock()
}

// waitStreaming waits for pg_receivewal to use the slot.
func (a *PGArchiver) waitStreaming(ctx context.Context, conn *pgx.Conn) error {
	deadline := time.Now().Add(PGReceiverStartTimeout)
	for {
		var active bool
		err := conn.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", a.slot).Scan(&active)
		if err != nil {
			return fmt.Errorf("waiting for pg_receivewal to stream: %w", err)
		}
		if active {
			return nil
		}
		if st := a.Status(); st.Restarts > 0 {
			return fmt.Errorf("pg_receivewal did not start streaming: %s", st.LastError)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pg_receivewal did not stream from slot %s within %v: %s", a.slot, PGReceiverStartTimeout, a.Status().LastError)
		}
		if err := sleepCtx(ctx, pgPoll); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// loop syncs every Interval until ctx ends.
func (a *PGArchiver) loop(ctx context.Context) {
	defer close(a.loopDone)
	t := time.NewTicker(a.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.sync(ctx); err != nil && ctx.Err() == nil {
			a.noteError(err)
		}
	}
}

// takeBase runs pg_basebackup and stores the base's files and manifest.
func (a *PGArchiver) takeBase(ctx context.Context, conn *pgx.Conn, srv *pgServer) (*Manifest, *PGBaseInfo, error) {
	s := a.store
	work := filepath.Join(a.dir, pgBaseWork)
	_, err := a.run.run(a.run.client(ctx, "pg_basebackup", "-D", work, "--format=tar", "--wal-method=stream",
		"--checkpoint=fast", "--no-password", "--label=covet "+a.id,
		"-d", a.dsn.toolURL(a.dsn.database, "application_name", "covet_basebackup")))
	if err != nil {
		return nil, nil, err
	}
	info := &PGBaseInfo{
		Format: 1, ServerVersion: srv.versionNum, SystemIdentifier: srv.systemID,
		WALSegmentSize: srv.segSize, Database: a.dsn.database, Server: a.dsn.server(), User: a.dsn.user, Slot: a.slot,
	}
	if err := conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&info.ConsistentAt); err != nil {
		return nil, nil, fmt.Errorf("reading the server's time after the base backup: %w", err)
	}
	info.ConsistentAt = info.ConsistentAt.UTC()
	if err := readBackupManifest(filepath.Join(work, pgManifestFile), info); err != nil {
		return nil, nil, err
	}
	if err := info.validate(); err != nil {
		return nil, nil, fmt.Errorf("the base's %s is invalid: %w", pgInfoFile, err)
	}
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(work, pgInfoFile), append(data, '\n'), 0o600); err != nil {
		return nil, nil, err
	}
	entries, err := os.ReadDir(work)
	if err != nil {
		return nil, nil, err
	}
	known := map[string]bool{pgBaseFile: true, pgWALTarFile: true, pgManifestFile: true, pgInfoFile: true}
	for _, e := range entries {
		if !known[e.Name()] {
			return nil, nil, fmt.Errorf("pg_basebackup wrote %s: the server has tablespaces outside its data folder, which this does not back up", e.Name())
		}
	}
	m := &Manifest{
		Format: ManifestFormat, ID: a.id, Kind: KindBase, Dialect: DialectPostgres,
		CreatedAt: idTime(a.id), Source: a.dsn.source(),
	}
	if s.keyring != nil {
		m.Encrypted, m.ChunkSize = true, s.chunkSize
	}
	for _, name := range []string{pgBaseFile, pgWALTarFile, pgManifestFile, pgInfoFile} {
		src := filepath.Join(work, name)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) && name == pgWALTarFile {
			continue
		}
		var f File
		if m.Encrypted {
			var keyID string
			f, keyID, err = s.encryptFile(ctx, a.id, src, filepath.Join(a.dir, name+".enc"))
			if m.KeyID == "" {
				m.KeyID = keyID
			}
		} else {
			f, err = keepPlain(ctx, src, filepath.Join(a.dir, name))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("storing %s: %w", name, err)
		}
		m.Files = append(m.Files, f)
	}
	if err := os.Remove(work); err != nil {
		return nil, nil, err
	}
	if m.Encrypted {
		if err := m.seal(s.keyring); err != nil {
			return nil, nil, err
		}
	}
	if err := m.validate(); err != nil {
		return nil, nil, fmt.Errorf("the new manifest is invalid: %w", err)
	}
	if err := writeManifest(a.dir, m); err != nil {
		return nil, nil, fmt.Errorf("writing the manifest: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		return nil, nil, err
	}
	return m, info, nil
}

// readBackupManifest reads the WAL range of PostgreSQL's backup_manifest.
func readBackupManifest(path string, info *PGBaseInfo) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading pg_basebackup's %s: %w", pgManifestFile, err)
	}
	defer f.Close()
	var bm struct {
		WALRanges []struct {
			Timeline int    `json:"Timeline"`
			StartLSN string `json:"Start-LSN"`
			EndLSN   string `json:"End-LSN"`
		} `json:"WAL-Ranges"`
	}
	if err := json.NewDecoder(io.LimitReader(f, pgMaxBackupManifst)).Decode(&bm); err != nil {
		return fmt.Errorf("parsing pg_basebackup's %s: %w", pgManifestFile, err)
	}
	if len(bm.WALRanges) == 0 {
		return fmt.Errorf("pg_basebackup's %s has no WAL-Ranges", pgManifestFile)
	}
	first, last := bm.WALRanges[0], bm.WALRanges[len(bm.WALRanges)-1]
	info.StartLSN, info.EndLSN, info.Timeline = first.StartLSN, last.EndLSN, last.Timeline
	return nil
}

// Sync archives what pg_receivewal has received: it reads the server's
// flushed WAL position and time, waits (up to SyncTimeout) for
// pg_receivewal to have flushed as much, archives the completed segments
// and a copy of the segment being written through that position, and
// rewrites the index with that time as ArchivedUntil: every commit
// acknowledged before Sync began (synchronous_commit on) is then in the
// archive.
func (a *PGArchiver) Sync(ctx context.Context) error { return a.sync(ctx) }

func (a *PGArchiver) sync(ctx context.Context) error {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	if a.closed {
		return fmt.Errorf("syncing archive %s: the archiver is closed", a.id)
	}
	err := a.syncLocked(ctx)
	a.mu.Lock()
	a.status.LastSync = a.store.now()
	a.status.Healthy = err == nil && a.status.Receiving
	a.status.Files = len(a.idx.Files)
	a.status.ArchivedUntil, a.status.ArchivedUntilLSN = a.idx.ArchivedUntil, a.idx.ArchivedUntilLSN
	if err != nil {
		a.status.LastError, a.status.LastErrorAt = err.Error(), a.store.now()
	}
	a.mu.Unlock()
	return err
}

func (a *PGArchiver) syncLocked(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("syncing archive %s: %w", a.id, err)
		}
	}()
	conn, err := a.dsn.connect(ctx, a.dsn.database)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	var lsnText string
	var at time.Time
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_flush_lsn()::text, clock_timestamp()").Scan(&lsnText, &at); err != nil {
		return fmt.Errorf("reading the server's WAL position: %w", err)
	}
	upto, err := parseLSN(lsnText)
	if err != nil {
		return err
	}
	if err := a.waitFlushed(ctx, conn, upto); err != nil {
		return err
	}
	return a.archiveLocked(ctx, upto, at.UTC())
}

// waitFlushed waits until the slot's restart_lsn, which pg_receivewal
// --synchronous moves to what it has flushed, reaches upto.
func (a *PGArchiver) waitFlushed(ctx context.Context, conn *pgx.Conn, upto uint64) error {
	deadline := time.Now().Add(a.opts.SyncTimeout)
	for {
		var got *string
		err := conn.QueryRow(ctx, "SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = $1", a.slot).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("replication slot %s is gone (dropped by hand?)", a.slot)
		} else if err != nil {
			return fmt.Errorf("reading replication slot %s: %w", a.slot, err)
		}
		if got != nil {
			if lsn, err := parseLSN(*got); err == nil && lsn >= upto {
				return nil
			}
		}
		if a.completedThrough(upto) {
			return nil
		}
		if time.Now().After(deadline) {
			have := "nothing"
			if got != nil {
				have = *got
			}
			return fmt.Errorf("pg_receivewal had flushed %s after %v, the server %s (pg_receivewal: %s)", have, a.opts.SyncTimeout, formatLSN(upto), a.Status().LastError)
		}
		if err := sleepCtx(ctx, pgPoll); err != nil {
			return err
		}
	}
}

// completedThrough reports whether a segment ending at or after upto is
// complete (pg_receivewal syncs a segment before naming it complete): at
// a segment's end pg_receivewal has no open file and sends its position
// only every status interval.
func (a *PGArchiver) completedThrough(upto uint64) bool {
	if upto == 0 {
		return true
	}
	seg := uint64(a.idx.SegmentSize)
	need := (upto - 1) / seg
	if f, ok := a.idx.segments()[need]; ok && !f.Partial {
		return true
	}
	entries, err := os.ReadDir(a.work)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if _, n, ok := parseWALSegment(e.Name(), a.idx.SegmentSize); ok && n >= need {
			return true
		}
	}
	return false
}

// errPGRaced: pg_receivewal completed a segment while it was being
// listed or read; the archiving starts over. Read only.
var errPGRaced = errors.New("pg_receivewal completed a segment while it was being read")

// archiveLocked moves pg_receivewal's completed segments and history
// files into the archive and, when upto > 0, a copy of the segment being
// written through upto; then, if the archive has every segment through
// upto, it records upto and at as ArchivedUntil. The index is rewritten
// whenever it changed, even on an error, so that no archived file is left
// out of it.
func (a *PGArchiver) archiveLocked(ctx context.Context, upto uint64, at time.Time) error {
	var superseded []string
	changed := false
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = a.archiveScan(ctx, upto, at, &superseded, &changed)
		if !errors.Is(err, errPGRaced) {
			break
		}
	}
	if changed {
		if werr := a.idx.write(a.dir, a.store.keyring); werr != nil {
			return errors.Join(err, fmt.Errorf("writing the WAL index: %w", werr))
		}
		for _, name := range superseded {
			os.Remove(filepath.Join(a.wal, name))
		}
		a.pruneWork()
	}
	return err
}

func (a *PGArchiver) archiveScan(ctx context.Context, upto uint64, at time.Time, superseded *[]string, changed *bool) error {
	idx, seg := a.idx, a.idx.SegmentSize
	entries, err := os.ReadDir(a.work)
	if err != nil {
		return err
	}
	type segFile struct {
		name  string
		tli   uint32
		segno uint64
	}
	var complete []segFile
	partials := map[uint64]segFile{}
	for _, e := range entries {
		name := e.Name()
		if isHistoryName(name) {
			if idx.find(name) < 0 {
				f, err := a.storeWAL(ctx, filepath.Join(a.work, name), name, false, 0)
				if err != nil {
					return fmt.Errorf("archiving %s: %w", name, err)
				}
				idx.Files = append(idx.Files, f)
				*changed = true
			}
			continue
		}
		if tli, segno, ok := parseWALSegment(name, seg); ok {
			complete = append(complete, segFile{name, tli, segno})
		} else if base, ok := strings.CutSuffix(name, pgPartialSuffix); ok {
			if tli, segno, ok := parseWALSegment(base, seg); ok && tli >= partials[segno].tli {
				partials[segno] = segFile{base, tli, segno}
			}
		}
	}
	sort.Slice(complete, func(i, j int) bool {
		if complete[i].segno != complete[j].segno {
			return complete[i].segno < complete[j].segno
		}
		return complete[i].tli < complete[j].tli
	})
	for _, c := range complete {
		i := idx.find(c.name)
		if i >= 0 && !idx.Files[i].Partial {
			continue
		}
		f, err := a.storeWAL(ctx, filepath.Join(a.work, c.name), c.name, false, 0)
		if err != nil {
			return fmt.Errorf("archiving segment %s: %w", c.name, err)
		}
		a.put(f, superseded)
		*changed = true
	}
	if upto == 0 {
		return nil
	}
	segno, off := upto/uint64(seg), int64(upto%uint64(seg))
	last := segno - 1 // the last segment that must be archived whole
	if off > 0 {
		last = segno
		if cur, ok := idx.segments()[segno]; !ok || cur.Partial {
			need := min((off+pgWALPageSize-1)/pgWALPageSize*pgWALPageSize, seg)
			if !ok || cur.PlainSize < need {
				p, ok := partials[segno]
				if !ok { // a listing can miss a file renamed meanwhile: list again
					return fmt.Errorf("%w: pg_receivewal's folder has no file for segment %s, which it reported flushed through %s", errPGRaced, walSegmentName(1, segno, seg), formatLSN(upto))
				}
				f, err := a.storeWAL(ctx, filepath.Join(a.work, p.name+pgPartialSuffix), p.name, true, need)
				if errors.Is(err, fs.ErrNotExist) {
					return errPGRaced
				} else if err != nil {
					return fmt.Errorf("archiving a copy of segment %s being written: %w", p.name, err)
				}
				a.put(f, superseded)
				*changed = true
			}
		}
	}
	// A partial copy of a segment that is no longer the last is superseded.
	if lastSeg, ok := idx.lastSegment(); ok {
		kept := idx.Files[:0]
		for _, f := range idx.Files {
			if _, n, _ := parseWALSegment(f.WAL, seg); f.Partial && n < lastSeg {
				*superseded = append(*superseded, f.Name)
				*changed = true
				continue
			}
			kept = append(kept, f)
		}
		idx.Files = kept
	}
	first, ok := a.firstSegment()
	if !ok {
		return fmt.Errorf("the archive has no segment, and the server's WAL is at %s", formatLSN(upto))
	}
	if missing, gap := idx.gap(first, last); gap {
		return fmt.Errorf("segment %s is missing from the archive (pg_receivewal skipped it?); the archive stays at %s", walSegmentName(1, missing, seg), idx.ArchivedUntilLSN)
	}
	idx.ArchivedUntil, idx.ArchivedUntilLSN = at, formatLSN(upto)
	*changed = true
	return nil
}

// firstSegment is the lowest archived segment number.
func (a *PGArchiver) firstSegment() (uint64, bool) {
	var first uint64
	found := false
	for n := range a.idx.segments() {
		if !found || n < first {
			first, found = n, true
		}
	}
	return first, found
}

// put adds f to the index, replacing the entry of the same WAL file or a
// partial copy of the same segment on another timeline.
func (a *PGArchiver) put(f pgWALFile, superseded *[]string) {
	if i := a.idx.find(f.WAL); i >= 0 {
		*superseded = append(*superseded, a.idx.Files[i].Name)
		a.idx.Files[i] = f
		return
	}
	a.idx.Files = append(a.idx.Files, f)
}

// storeWAL copies (or encrypts) the first limit bytes (all when 0) of src
// into wal/ for WAL file wal, checksumming both sides.
func (a *PGArchiver) storeWAL(ctx context.Context, src, wal string, partial bool, limit int64) (pgWALFile, error) {
	name := wal
	if partial {
		a.partialSeq++
		name = fmt.Sprintf("%s%s-%d", wal, pgPartialSuffix, a.partialSeq)
	}
	if a.idx.Encrypted {
		name += ".enc"
	}
	in, err := os.Open(src)
	if err != nil {
		return pgWALFile{}, err
	}
	defer in.Close()
	var r io.Reader = in
	if limit > 0 {
		r = io.LimitReader(in, limit)
	}
	tmp := filepath.Join(a.wal, "."+name+".tmp")
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return pgWALFile{}, err
	}
	plainHash, storedHash := sha256.New(), sha256.New()
	plain := &countWriter{w: plainHash}
	stored := &countWriter{w: io.MultiWriter(out, storedHash)}
	body := io.TeeReader(ctxReader{ctx, r}, plain)
	if a.idx.Encrypted {
		_, err = encryptStream(ctx, a.store.keyring, stored, body, a.id, pgWALAD(name), a.idx.ChunkSize)
	} else {
		_, err = io.Copy(stored, body)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
	case limit > 0 && plain.n != limit:
		err = fmt.Errorf("%s has %d bytes, want at least %d", src, plain.n, limit)
	case !partial && !isHistoryName(wal) && plain.n != a.idx.SegmentSize:
		err = fmt.Errorf("%s has %d bytes, not a segment's %d", src, plain.n, a.idx.SegmentSize)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(a.wal, name))
	}
	if err != nil {
		os.Remove(tmp)
		return pgWALFile{}, err
	}
	return pgWALFile{
		WAL: wal, Partial: partial, ArchivedAt: a.store.now().UTC(),
		File: File{
			Name: name, Size: stored.n, SHA256: hex.EncodeToString(storedHash.Sum(nil)),
			PlainSize: plain.n, PlainSHA256: hex.EncodeToString(plainHash.Sum(nil)),
		},
	}, nil
}

// pruneWork removes the archived segments from pg_receivewal's folder but
// the newest, from which a restarted pg_receivewal goes on.
func (a *PGArchiver) pruneWork() {
	entries, err := os.ReadDir(a.work)
	if err != nil {
		return
	}
	var done []string
	for _, e := range entries {
		if _, _, ok := parseWALSegment(e.Name(), a.idx.SegmentSize); ok {
			if i := a.idx.find(e.Name()); i >= 0 && !a.idx.Files[i].Partial {
				done = append(done, e.Name())
			}
		}
	}
	sort.Strings(done)
	for i := 0; i+1 < len(done); i++ {
		os.Remove(filepath.Join(a.work, done[i]))
	}
}

// Close ends the archive: a final sync, then it stops pg_receivewal,
// archives what it completed meanwhile, marks the index closed, drops the
// replication slot and removes pg_receivewal's folder (kept when anything
// failed, since it may hold WAL the archive lacks). The generation then
// restores to any moment up to Status().ArchivedUntil. Calling Close again
// returns the first call's result.
func (a *PGArchiver) Close(ctx context.Context) error {
	a.closeMu.Lock()
	defer a.closeMu.Unlock()
	if a.closeDon {
		return a.closeErr
	}
	a.closeDon = true
	a.stopLoop()
	<-a.loopDone

	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	var errs []error
	if err := a.syncLocked(ctx); err != nil {
		errs = append(errs, fmt.Errorf("final sync: %w", err))
	}
	a.stopRecv()
	<-a.recvDone
	if err := a.archiveLocked(ctx, 0, time.Time{}); err != nil {
		errs = append(errs, err)
	}
	a.idx.Closed = true
	if err := a.idx.write(a.dir, a.store.keyring); err != nil {
		errs = append(errs, fmt.Errorf("writing the WAL index: %w", err))
	}
	if err := a.dropSlot(ctx); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := os.RemoveAll(a.work); err != nil {
			errs = append(errs, err)
		}
	}
	a.closed = true
	a.mu.Lock()
	a.status.Closed, a.status.Receiving, a.status.Healthy = true, false, false
	a.status.Files = len(a.idx.Files)
	a.status.ArchivedUntil, a.status.ArchivedUntilLSN = a.idx.ArchivedUntil, a.idx.ArchivedUntilLSN
	a.mu.Unlock()
	if len(errs) > 0 {
		a.closeErr = fmt.Errorf("closing archive %s: %w", a.id, errors.Join(errs...))
		a.mu.Lock()
		a.status.LastError, a.status.LastErrorAt = a.closeErr.Error(), a.store.now()
		a.mu.Unlock()
	}
	return a.closeErr
}

// dropSlot drops the generation's slot, waiting (up to pgSlotDropTime) for
// the server to notice that pg_receivewal left it.
func (a *PGArchiver) dropSlot(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pgSlotDropTime)
	defer cancel()
	conn, err := a.dsn.connect(ctx, a.dsn.database)
	if err != nil {
		return fmt.Errorf("dropping replication slot %s: %w", a.slot, err)
	}
	defer closeConn(conn)
	for {
		_, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", a.slot)
		switch pgSQLState(err) {
		case "":
			if err != nil {
				return fmt.Errorf("dropping replication slot %s: %w", a.slot, err)
			}
			return nil
		case "42704": // undefined_object: already gone
			return nil
		case "55006": // object_in_use: the walsender has not exited yet
			if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
				return fmt.Errorf("dropping replication slot %s: still in use after %v", a.slot, pgSlotDropTime)
			}
		default:
			return fmt.Errorf("dropping replication slot %s: %w", a.slot, err)
		}
	}
}
