package embeddedserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

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
	dbPath     string // the SQLite database file
	passphrase string
}

// OpenBackups prepares backups of the project in projectDir. Only a SQLite
// primary can be backed up for now. passphrase unlocks the key store
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
	path, ok := config.SQLitePath(conf.Database.Primary)
	if !ok {
		return nil, errors.New("backups: the project's database is not SQLite; backups of PostgreSQL and MySQL are not available yet")
	}
	if !filepath.IsAbs(path) {
		path = proj.path(path)
	}
	return &Backups{proj: proj, dbPath: path, passphrase: passphrase}, nil
}

// Database is the path of the database file that backups copy and
// restores replace.
func (b *Backups) Database() string { return b.dbPath }

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
// runs on the server's connections.
type serverBackups struct {
	dir       string // the store
	database  string // the SQLite file, relative to the project
	db        *database
	keys      *keys.Store
	notSQLite string // why backups are not available; "" when they are
	now       func() time.Time
}

var _ admin.Backups = (*serverBackups)(nil)

func (b *serverBackups) store(id string) (*backup.Store, error) {
	if b.notSQLite != "" {
		return nil, fmt.Errorf("%w: %s", errors.ErrUnsupported, b.notSQLite)
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
	o := &admin.BackupsOverview{Supported: b.notSQLite == "", Reason: b.notSQLite, Database: b.database,
		Backups: []backup.Manifest{}, Incomplete: []backup.Skipped{}}
	if !o.Supported {
		return o, nil
	}
	st, err := b.store("")
	if err != nil {
		return nil, err
	}
	inv, err := st.Scan()
	if err != nil {
		return nil, err
	}
	o.Backups = append(o.Backups, inv.Backups...)
	o.Incomplete = append(o.Incomplete, inv.Skipped...)
	if len(o.Backups) > 0 {
		last := o.Backups[0].CreatedAt
		rpo := b.now().Sub(last).Seconds()
		o.LastBackupAt, o.RPOSeconds = &last, &rpo
	}
	return o, nil
}

func (b *serverBackups) Create(ctx context.Context, encrypt bool) (*backup.Manifest, error) {
	if b.notSQLite != "" {
		return nil, fmt.Errorf("%w: %s", errors.ErrUnsupported, b.notSQLite)
	}
	var ks *keys.Store
	if encrypt {
		ks = b.keys
	}
	st, err := openBackupStore(b.dir, ks)
	if err != nil {
		return nil, err
	}
	return st.BackupSQLite(ctx, b.db.db)
}

func (b *serverBackups) Verify(ctx context.Context, id string) (*backup.Report, error) {
	st, err := b.store(id)
	if err != nil {
		return nil, err
	}
	return st.Verify(ctx, id)
}

func (b *serverBackups) Delete(id string) error {
	st, err := b.store("")
	if err != nil {
		return err
	}
	return st.Delete(id)
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

// Create backs the database up, encrypted with encrypt.
func (b *Backups) Create(ctx context.Context, encrypt bool) (*backup.Manifest, error) {
	st, err := b.Store(encrypt)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.New(ctx, sqlite.Config{Path: b.dbPath})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return st.BackupSQLite(ctx, db)
}

// Latest returns the newest backup created at or before t.
func (b *Backups) Latest(t time.Time) (*backup.Manifest, error) {
	st, err := b.Store(false)
	if err != nil {
		return nil, err
	}
	list, err := st.List()
	if err != nil {
		return nil, err
	}
	for i := range list { // newest first
		if !list[i].CreatedAt.After(t) {
			return &list[i], nil
		}
	}
	if len(list) == 0 {
		return nil, errors.New("backups: there are no backups")
	}
	return nil, fmt.Errorf("backups: no backup is as old as %s; the oldest is from %s", t.UTC().Format(time.RFC3339), list[len(list)-1].CreatedAt.UTC().Format(time.RFC3339))
}

// Restore restores backup id over the database; the project must not be
// served meanwhile.
func (b *Backups) Restore(ctx context.Context, id string, dryRun bool) (*backup.RestoreReport, error) {
	if !dryRun {
		if err := b.proj.checkNotRunning(); err != nil {
			return nil, fmt.Errorf("restoring: %w", err)
		}
	}
	st, err := b.StoreFor(id)
	if err != nil {
		return nil, err
	}
	return st.RestoreSQLite(ctx, id, b.dbPath, backup.RestoreOptions{DryRun: dryRun})
}
