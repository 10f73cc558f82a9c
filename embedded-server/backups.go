package embeddedserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/covetpy/covet/backend/events"
	"github.com/robfig/cron/v3"

	"github.com/covetpy/covet/backend/backup"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/security/crypto"
	"github.com/covetpy/covet/backend/security/keys"
	"github.com/covetpy/covet/embedded-server/internal/admin"
	"github.com/covetpy/covet/embedded-server/internal/config"
)

// BackupsDir is the folder of a project's backups, in its data folder.
const BackupsDir = "backups"

// Backups is a project's backup store and database, for the CLI.
type Backups struct {
	proj       *project
	dbPath     string                 // a SQLite database's file
	pg         *backup.PostgresConfig // or a PostgreSQL database
	passphrase string
}

// OpenBackups prepares backups of the project in projectDir, whose primary
// is SQLite or PostgreSQL (not MySQL yet). passphrase unlocks the key store
// (COVET_KEYS_PASSPHRASE) when a backup is encrypted; it may be empty when
// the store uses the OS keyring or a key file.
func OpenBackups(projectDir, passphrase string) (*Backups, error) {
	proj, err := openProject(projectDir, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	conf, err := proj.loadConfig(config.Env{})
	if err != nil {
		return nil, err
	}
	b := &Backups{proj: proj, passphrase: passphrase}
	primary := conf.Database.Primary
	if path, ok := config.SQLitePath(primary); ok {
		if !filepath.IsAbs(path) {
			path = proj.path(path)
		}
		b.dbPath = path
		return b, nil
	}
	if strings.HasPrefix(primary, "postgres://") || strings.HasPrefix(primary, "postgresql://") {
		b.pg = postgresConfig(primary)
		return b, b.pg.Validate()
	}
	return nil, errors.New("backups: the project's database is MySQL; backups of MySQL are not available yet")
}

// postgresConfig is how the project's PostgreSQL database at dsn is backed
// up and restored. As root, the temporary PostgreSQL of a restore runs as
// the postgres user, who cannot enter the store (mode 0700, root's): its
// scratch folder goes in the system's temporary folder then.
func postgresConfig(dsn string) *backup.PostgresConfig {
	cfg := &backup.PostgresConfig{DSN: dsn}
	if os.Geteuid() == 0 {
		cfg.WorkDir = os.TempDir()
	}
	return cfg
}

// Postgres reports whether the project's database is PostgreSQL.
func (b *Backups) Postgres() bool { return b.pg != nil }

// Store opens the backup store; with key, backups are encrypted with the
// project's backup key from the key store (and encrypted ones open).
func (b *Backups) Store(key bool) (*backup.Store, error) {
	var ks *keys.Store
	if key {
		var err error
		if ks, _, err = openKeyStore(b.proj, b.passphrase, slog.New(slog.DiscardHandler)); err != nil {
			return nil, err
		}
	}
	return openBackupStore(b.proj.path(DataDir, BackupsDir), ks)
}

// openBackupStore opens the store in dir, with ks's backup key when ks is
// not nil.
func openBackupStore(dir string, ks *keys.Store) (*backup.Store, error) {
	cfg := backup.Config{Dir: dir}
	if ks != nil {
		k, err := ks.BackupKey()
		if err != nil {
			return nil, err
		}
		cfg.Keyring = crypto.NewKeyring(crypto.KeyringConfig{})
		cfg.Keyring.Add(k, true)
	}
	return backup.Open(cfg)
}

// serverBackups serves the admin API's backups with the server's own
// database and key store: one process writes keys.json, and the backup
// runs on the server's connections. For a SQLite database it archives the
// write-ahead log continuously and runs the backups section's schedule;
// for PostgreSQL too, unless backups.archivePostgres is false.
type serverBackups struct {
	dir         string // the store
	database    string // the SQLite file, relative to the project, or the redacted DSN
	db          *database
	keys        *keys.Store
	pg          *backup.PostgresConfig // a PostgreSQL primary; nil otherwise
	unsupported string                 // why backups are not available; "" when they are
	now         func() time.Time
	config      func() ([]byte, string) // the running covet.json
	hub         *events.Hub
	log         *slog.Logger

	archiver *backup.SQLiteArchiver // nil when not archiving
	stop     chan struct{}          // ends the scheduler
	done     chan struct{}
	pgCtx    context.Context // ends PostgreSQL archivers still starting
	pgCancel context.CancelFunc
	pgStarts sync.WaitGroup

	mu      sync.Mutex         // guards the fields below
	pgArch  *backup.PGArchiver // PostgreSQL's running archiver, once its base is taken
	pgErr   string             // why it is not running
	from    time.Time          // the schedule counts from here: the start or the last run
	lastRun *time.Time
	lastErr string
	pruned  []string
}

var _ admin.Backups = (*serverBackups)(nil)

// settings returns the running configuration's backups section, defaults
// filled.
func (b *serverBackups) settings() config.Backups {
	var conf struct {
		Backups config.Backups `json:"backups"`
	}
	doc, _ := b.config()
	_ = json.Unmarshal(doc, &conf) // the store holds only valid configurations
	return conf.Backups.WithDefaults()
}

// open returns the store, with the backup key when encrypt.
func (b *serverBackups) open(encrypt bool) (*backup.Store, error) {
	var ks *keys.Store
	if encrypt {
		ks = b.keys
	}
	return openBackupStore(b.dir, ks)
}

// start begins archiving the SQLite database (a new base) and the
// schedule; for PostgreSQL it starts the archiver in the background (its
// base copies the whole cluster), unless backups.archivePostgres is false.
func (b *serverBackups) start(ctx context.Context) error {
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	b.from = b.now()
	if b.pg != nil {
		b.pgCtx, b.pgCancel = context.WithCancel(context.Background())
		if b.settings().PostgresArchived() {
			// A base of the whole cluster takes a while: serve meanwhile.
			b.pgStarts.Go(func() { _ = b.newPGArchive() }) // its error shows in the overview
		}
		go b.schedule()
		return nil
	}
	if b.unsupported != "" || b.db.writer == nil {
		close(b.done)
		return nil
	}
	st, err := b.open(b.settings().Encrypt)
	if err != nil {
		close(b.done)
		return err
	}
	b.archiver, err = st.ArchiveSQLite(ctx, b.db.db, b.db.writer, backup.ArchiveOptions{
		OnError: func(err error) { b.log.Error("archiving the write-ahead log", "err", err) },
	})
	if err != nil {
		close(b.done)
		return fmt.Errorf("backups: starting the archive of the write-ahead log: %w", err)
	}
	// Each start takes a base: prune now too, so restarts do not pile up.
	set := b.settings()
	if _, err := st.Prune(backup.Retention{Keep: set.Keep, MaxAge: set.MaxAge.Std(), Pinned: []string{b.archiver.Base().ID}}); err != nil {
		b.log.Error("pruning backups", "err", err)
	}
	go b.schedule()
	return nil
}

// newPGArchive starts a PostgreSQL archiver (a new generation: base and
// WAL) and, once it runs, closes the one before.
func (b *serverBackups) newPGArchive() error {
	ctx, cancel := context.WithTimeout(b.pgCtx, time.Hour)
	defer cancel()
	set := b.settings()
	st, err := b.open(set.Encrypt)
	var arch *backup.PGArchiver
	if err == nil {
		arch, err = st.ArchivePostgres(ctx, *b.pg, backup.PGArchiveOptions{
			OnError: func(err error) { b.log.Error("archiving the PostgreSQL WAL", "err", err) },
		})
	}
	b.mu.Lock()
	old := b.pgArch
	if err != nil {
		b.pgErr = err.Error()
	} else {
		b.pgArch, b.pgErr = arch, ""
	}
	b.mu.Unlock()
	if err != nil {
		b.log.Error("starting the PostgreSQL archive", "err", err)
		return err
	}
	if old != nil {
		if err := old.Close(ctx); err != nil {
			b.log.Error("closing the previous PostgreSQL archive", "err", err)
		}
	}
	b.hub.Publish(admin.EventBackupsChanged, nil)
	return nil
}

// pgArchiver returns PostgreSQL's running archiver, or nil.
func (b *serverBackups) pgArchiver() *backup.PGArchiver {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pgArch
}

// inUse returns the ID of the base being archived into, or "".
func (b *serverBackups) inUse() string {
	if b.archiver != nil {
		return b.archiver.Base().ID
	}
	if a := b.pgArchiver(); a != nil {
		return a.ID()
	}
	return ""
}

// close stops the schedule and the archive, which archives what is left.
func (b *serverBackups) close(ctx context.Context) error {
	if b.stop == nil {
		return nil
	}
	close(b.stop)
	<-b.done
	if b.pgCancel != nil {
		b.pgCancel()
		b.pgStarts.Wait()
	}
	if a := b.pgArchiver(); a != nil {
		return a.Close(ctx)
	}
	if b.archiver == nil {
		return nil
	}
	return b.archiver.Close(ctx)
}

// schedulePoll bounds how long the scheduler sleeps, so that a schedule
// edited in covet.json applies within it.
const schedulePoll = 5 * time.Second

// next returns when the schedule in set runs next after t; ok is false
// when it is off.
func next(set config.Backups, t time.Time) (time.Time, bool) {
	if set.Schedule == config.BackupsOff {
		return time.Time{}, false
	}
	sched, err := cron.ParseStandard(set.Schedule)
	if err != nil {
		return time.Time{}, false
	}
	return sched.Next(t), true
}

func (b *serverBackups) schedule() {
	defer close(b.done)
	for {
		b.mu.Lock()
		from := b.from
		b.mu.Unlock()
		due, on := next(b.settings(), from)
		wait := schedulePoll
		if on {
			wait = min(max(due.Sub(b.now()), 0), schedulePoll)
		}
		select {
		case <-b.stop:
			return
		case <-time.After(wait):
		}
		if now := b.now(); on && !now.Before(due) || !on {
			if on {
				b.scheduled(now)
			}
			b.mu.Lock()
			b.from = now
			b.mu.Unlock()
		}
	}
}

// scheduled starts a new base and prunes by the retention.
func (b *serverBackups) scheduled(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	set := b.settings()
	var pruned []string
	st, err := b.open(set.Encrypt)
	switch {
	case err != nil:
	case b.pg != nil && set.PostgresArchived():
		err = b.newPGArchive()
	case b.pg != nil:
		_, err = st.BackupPostgres(ctx, *b.pg)
	default:
		_, err = b.archiver.NewBase(ctx, st)
	}
	if err == nil {
		pruned, err = st.Prune(backup.Retention{Keep: set.Keep, MaxAge: set.MaxAge.Std(), Pinned: []string{b.inUse()}})
	}
	b.mu.Lock()
	b.lastRun, b.lastErr, b.pruned = &now, "", pruned
	if err != nil {
		b.lastErr = err.Error()
		b.log.Error("scheduled backup", "err", err)
	}
	b.mu.Unlock()
	b.hub.Publish(admin.EventBackupsChanged, nil)
}

func (b *serverBackups) store(id string) (*backup.Store, error) {
	if b.unsupported != "" {
		return nil, fmt.Errorf("%w: %s", errors.ErrUnsupported, b.unsupported)
	}
	plain, err := openBackupStore(b.dir, nil)
	if err != nil || id == "" {
		return plain, err
	}
	m, err := plain.Get(id)
	if err != nil || !m.Encrypted {
		return plain, err
	}
	return openBackupStore(b.dir, b.keys)
}

func (b *serverBackups) Overview() (*admin.BackupsOverview, error) {
	set := b.settings()
	o := &admin.BackupsOverview{Supported: b.unsupported == "", Reason: b.unsupported, Database: b.database,
		Backups: []backup.Manifest{}, Incomplete: []backup.Skipped{}, Archives: []backup.ArchiveInfo{}, Verifications: map[string]backup.Verification{},
		Schedule: admin.BackupSchedule{Cron: set.Schedule, Keep: set.Keep, MaxAge: set.MaxAge.Std().String(), Encrypt: set.Encrypt}}
	b.mu.Lock()
	o.Schedule.LastRun, o.Schedule.LastError, o.Schedule.LastPruned = b.lastRun, b.lastErr, b.pruned
	from := b.from
	b.mu.Unlock()
	if !o.Supported {
		return o, nil
	}
	now := b.now()
	if t, on := next(set, from); on {
		o.Schedule.Next = &t
	}
	dialect, st, err := backup.DialectSQLite, (*backup.Store)(nil), error(nil)
	if b.pg != nil {
		// postgres.json of an encrypted base is sealed: read it with the key.
		dialect = backup.DialectPostgres
		st, err = b.open(true)
	} else {
		st, err = b.store("")
	}
	if err != nil {
		return nil, err
	}
	inv, err := st.Scan()
	if err != nil {
		return nil, err
	}
	o.Backups = append(o.Backups, inv.Backups...)
	o.Incomplete = append(o.Incomplete, inv.Skipped...)
	if o.Verifications, err = st.Verifications(); err != nil {
		return nil, err
	}
	if o.Archives, err = st.Archives(dialect); err != nil {
		return nil, err
	}
	if len(o.Backups) > 0 {
		last := o.Backups[0].CreatedAt
		rpo := now.Sub(last).Seconds()
		o.LastBackupAt, o.RPOSeconds = &last, &rpo
	}
	if b.archiver != nil {
		as := b.archiver.Status()
		o.Archive = &as
		rpo := 0.0
		if as.Unarchived != nil {
			rpo = now.Sub(*as.Unarchived).Seconds()
		}
		o.RPOSeconds = &rpo
		// The live archive reaches further than its head.json says.
		for i := range o.Archives {
			if o.Archives[i].Base.ID == as.Base && as.SyncedAt.After(o.Archives[i].Until) {
				o.Archives[i].Until = as.SyncedAt
			}
		}
	}
	if b.pg != nil {
		b.pgOverview(o, set, now)
	}
	if n := len(o.Archives); n > 0 {
		w := &admin.RestoreWindow{From: o.Archives[n-1].From, Until: o.Archives[0].Until}
		o.Window = w
	}
	return o, nil
}

// pgOverview adds PostgreSQL's archive to o: the running archiver's
// status, or why it does not run.
func (b *serverBackups) pgOverview(o *admin.BackupsOverview, set config.Backups, now time.Time) {
	b.mu.Lock()
	arch, why := b.pgArch, b.pgErr
	b.mu.Unlock()
	if arch == nil {
		if why == "" && !set.PostgresArchived() {
			why = "continuous archiving is off (backups.archivePostgres is false): restores reach only the moments each base covers"
		} else if why == "" {
			why = "the first base backup is being taken"
		}
		o.Archive = &backup.ArchiveStatus{LastError: why}
		return
	}
	ps := arch.Status()
	as := backup.ArchiveStatus{Base: ps.BaseID, SyncedAt: ps.ArchivedUntil, LastError: ps.LastError}
	if ps.LastError != "" {
		as.ErrorAt = &ps.LastErrorAt
	}
	o.Archive = &as
	rpo := now.Sub(ps.ArchivedUntil).Seconds()
	o.RPOSeconds = &rpo
}

func (b *serverBackups) Create(ctx context.Context, encrypt bool) (*backup.Manifest, error) {
	if b.unsupported != "" {
		return nil, fmt.Errorf("%w: %s", errors.ErrUnsupported, b.unsupported)
	}
	st, err := b.open(encrypt)
	if err != nil {
		return nil, err
	}
	if b.pg != nil { // the project's database alone, at once; the archive makes bases
		return st.BackupPostgresLogical(ctx, *b.pg)
	}
	return st.BackupSQLite(ctx, b.db.db)
}

func (b *serverBackups) Verify(ctx context.Context, id string) (*backup.Report, error) {
	st, err := b.store(id)
	if err != nil {
		return nil, err
	}
	if b.pg != nil { // with a trial load on the project's server
		return st.VerifyPostgres(ctx, *b.pg, id)
	}
	return st.Verify(ctx, id)
}

func (b *serverBackups) Delete(id string) error {
	st, err := b.store("")
	if err != nil {
		return err
	}
	if id != "" && b.inUse() == id {
		return fmt.Errorf("%w: backup %s is the base the write-ahead log is being archived into; back up now to start a new one, then delete it", backup.ErrInUse, id)
	}
	return st.Delete(id)
}

// Restore restores into the running database; the store opens with the
// backup key, so that encrypted backups and archives can be read.
func (b *serverBackups) Restore(ctx context.Context, req admin.RestoreRequest) (*backup.RestoreReport, error) {
	if b.unsupported != "" {
		return nil, fmt.Errorf("%w: %s", errors.ErrUnsupported, b.unsupported)
	}
	st, err := b.open(true)
	if err != nil {
		return nil, err
	}
	if b.pg == nil {
		return st.RestoreLive(ctx, b.db.db, b.archiver, req.ID, req.To, backup.RestoreOptions{DryRun: req.DryRun})
	}
	// The restored database takes the live one's name; the pool's sessions
	// on the old one are cut, and it reconnects to the new one.
	opts := backup.RestoreOptions{DryRun: req.DryRun}
	var pr *backup.PGRestoreReport
	if req.To != nil {
		pr, err = st.RestorePostgres(ctx, *b.pg, *req.To, opts)
	} else {
		pr, err = st.RestorePostgresBackup(ctx, *b.pg, req.ID, opts)
	}
	if pr == nil {
		return nil, err
	}
	rep := &backup.RestoreReport{Backup: pr.Backup, Target: pr.Server + "/" + pr.Database, DryRun: pr.DryRun,
		KeptAs: pr.KeptAs, Plan: pr.Plan, Verify: pr.Verify, Restored: pr.Restored}
	if req.To != nil {
		rep.To = &pr.To
	}
	return rep, err
}

// StoreFor opens the store with the key when backup id is encrypted.
func (b *Backups) StoreFor(id string) (*backup.Store, error) {
	plain, err := b.Store(false)
	if err != nil {
		return nil, err
	}
	m, err := plain.Get(id)
	if err != nil {
		return nil, err
	}
	if !m.Encrypted {
		return plain, nil
	}
	return b.Store(true)
}

// Create backs the database up, encrypted with encrypt. For PostgreSQL,
// logical makes a pg_dump of the database; otherwise a base backup of the
// cluster with the WAL written while it was taken, which restores to any
// moment from its consistency to its end (continuous archiving needs a
// process that stays: the server).
func (b *Backups) Create(ctx context.Context, encrypt, logical bool) (*backup.Manifest, error) {
	if logical && b.pg == nil {
		return nil, errors.New("backups: a logical backup (pg_dump) is for a PostgreSQL database")
	}
	st, err := b.Store(encrypt)
	if err != nil {
		return nil, err
	}
	switch {
	case logical:
		return st.BackupPostgresLogical(ctx, *b.pg)
	case b.pg != nil:
		return st.BackupPostgres(ctx, *b.pg)
	}
	db, err := sqlite.New(ctx, sqlite.Config{Path: b.dbPath})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return st.BackupSQLite(ctx, db)
}

// Restore restores backup id, or with to the database's state at that
// moment (through the archive of its write-ahead log), over the database
// file; the project must not be served meanwhile.
func (b *Backups) Restore(ctx context.Context, id string, to *time.Time, dryRun bool) (*backup.RestoreReport, error) {
	if b.pg != nil {
		return nil, errors.New("restoring: the database is PostgreSQL: use RestorePostgres")
	}
	if !dryRun {
		if err := b.proj.checkNotRunning(); err != nil {
			return nil, fmt.Errorf("restoring: %w", err)
		}
	}
	if to != nil {
		st, err := b.storeForMoment(backup.DialectSQLite, *to)
		if err != nil {
			return nil, err
		}
		return st.RestoreSQLiteTo(ctx, *to, b.dbPath, backup.RestoreOptions{DryRun: dryRun})
	}
	st, err := b.StoreFor(id)
	if err != nil {
		return nil, err
	}
	return st.RestoreSQLite(ctx, id, b.dbPath, backup.RestoreOptions{DryRun: dryRun})
}

// Verify verifies backup id; a PostgreSQL one with a trial load into a
// temporary database on the project's server.
func (b *Backups) Verify(ctx context.Context, id string) (*backup.Report, error) {
	st, err := b.StoreFor(id)
	if err != nil {
		return nil, err
	}
	if b.pg != nil {
		return st.VerifyPostgres(ctx, *b.pg, id)
	}
	return st.Verify(ctx, id)
}

// RestorePostgresBackup restores logical backup id over the PostgreSQL
// database, which is kept under another name (the report says which).
func (b *Backups) RestorePostgresBackup(ctx context.Context, id string, dryRun bool) (*backup.PGRestoreReport, error) {
	if b.pg == nil {
		return nil, errors.New("restoring: the database is not PostgreSQL")
	}
	st, err := b.StoreFor(id)
	if err != nil {
		return nil, err
	}
	return st.RestorePostgresBackup(ctx, *b.pg, id, backup.RestoreOptions{DryRun: dryRun})
}

// RestorePostgres restores the PostgreSQL database to its state at to:
// the database is replaced by a restored copy under its name, and kept
// under another (the report says which). Sessions on it are cut.
func (b *Backups) RestorePostgres(ctx context.Context, to time.Time, dryRun bool) (*backup.PGRestoreReport, error) {
	if b.pg == nil {
		return nil, errors.New("restoring: the database is not PostgreSQL")
	}
	st, err := b.storeForMoment(backup.DialectPostgres, to)
	if err != nil {
		return nil, err
	}
	return st.RestorePostgres(ctx, *b.pg, to, backup.RestoreOptions{DryRun: dryRun})
}

// storeForMoment opens the store, with the key only when the base that
// restores dialect's database to the moment to is encrypted.
func (b *Backups) storeForMoment(dialect string, to time.Time) (*backup.Store, error) {
	st, err := b.Store(false)
	if err != nil {
		return nil, err
	}
	list, err := st.Archives(dialect)
	if err != nil {
		return nil, err
	}
	for _, a := range list { // newest first
		if !a.From.After(to) {
			if a.Base.Encrypted {
				return b.Store(true)
			}
			break
		}
	}
	return st, nil
}

// Schedule returns covet.json's backups section, defaults filled.
func (b *Backups) Schedule() (config.Backups, error) {
	conf, err := b.proj.loadConfig(config.Env{})
	if err != nil {
		return config.Backups{}, err
	}
	return conf.Backups.WithDefaults(), nil
}

// SetSchedule merges patch (fields of the backups section, as JSON) into
// covet.json, validated first and written atomically; a running server
// picks the change up from the file.
func (b *Backups) SetSchedule(patch []byte) (config.Backups, error) {
	path := b.proj.path(config.FileName)
	doc, err := os.ReadFile(path)
	if err != nil {
		return config.Backups{}, err
	}
	op := config.OpPatch
	if _, err := config.Edit(doc, config.OpGet, []string{"backups"}, nil); err != nil {
		op = config.OpPut // no backups section yet
	}
	edited, err := config.Edit(doc, op, []string{"backups"}, patch)
	if err != nil {
		return config.Backups{}, err
	}
	conf, err := config.Decode(edited)
	if err == nil {
		err = conf.Validate()
	}
	if err != nil {
		return config.Backups{}, fmt.Errorf("%s: %w", path, err)
	}
	out, err := conf.Marshal()
	if err != nil {
		return config.Backups{}, err
	}
	if err := writeFileAtomic(path, out, 0o644); err != nil {
		return config.Backups{}, err
	}
	return conf.Backups.WithDefaults(), nil
}
