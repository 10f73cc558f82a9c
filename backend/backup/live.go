package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/covetpy/covet/backend/orm"
	msqlite "modernc.org/sqlite"
)

// RestoreLive replaces the content of db, a SQLite database in use, with
// backup id's, or (with to, id empty) with its state at the moment to,
// while db stays open:
//
//  1. the restored database is prepared in a scratch folder of the store and
//     checked as RestoreSQLite checks it (refused if any check fails);
//  2. db's current content is backed up into the store (KeptBackup), so
//     that the restore can itself be undone;
//  3. SQLite's online backup API copies the restored pages into db on its
//     writer connection, in one transaction: readers see the old content
//     or the new, never a mix, and writes wait;
//  4. integrity_check runs on db.
//
// With a (the archiver of db, or nil), the restore is archived like any
// commit, so the archive goes on without a new base.
func (s *Store) RestoreLive(ctx context.Context, db *orm.DB, a *SQLiteArchiver, id string, to *time.Time, opts RestoreOptions) (_ *RestoreReport, err error) {
	what := "backup " + id
	if to != nil {
		what = "the moment " + to.UTC().Format(time.RFC3339Nano)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("restoring %s into the running database: %w", what, err)
		}
	}()
	if name := db.Dialect().Name(); name != DialectSQLite {
		return nil, fmt.Errorf("the database is %s", name)
	}
	if a != nil && to != nil {
		// The archive reaches now, though head.json may say so only
		// every half minute on an idle database: make it say so.
		if err := a.Sync(ctx); err != nil {
			return nil, err
		}
	}
	var m *Manifest
	switch {
	case (to == nil) == (id == ""):
		return nil, errors.New("give either a backup ID or a moment")
	case to != nil:
		info, err := s.archiveFor(DialectSQLite, *to)
		if err != nil {
			return nil, err
		}
		m = &info.Base
	default:
		if err := checkID("restoring backup", id); err != nil {
			return nil, err
		}
		if m, err = s.manifest(id); err != nil {
			return nil, err
		}
		if m.Dialect != DialectSQLite {
			return nil, fmt.Errorf("it is a %s backup", m.Dialect)
		}
	}
	source, err := sqliteSource(ctx, db)
	if err != nil {
		return nil, err
	}
	rep := &RestoreReport{Backup: *m, Target: source, DryRun: opts.DryRun, To: to}
	replay := ""
	switch {
	case to != nil:
		replay = fmt.Sprintf(", replay the commits its archive holds up to %s onto it", to.UTC().Format(time.RFC3339Nano))
	case m.Kind == KindBase:
		replay = ", replay its whole archive onto it"
	}
	rep.Plan = []string{
		fmt.Sprintf("verify backup %s (%s backup made %s): check its files' checksums, restore %s to a scratch file in the store%s, run integrity_check and foreign_key_check on it",
			m.ID, m.Kind, m.CreatedAt.Format(time.RFC3339Nano), m.Files[0].Name, replay),
		fmt.Sprintf("back up the current content of %s into the store, so that this restore can be undone", source),
		fmt.Sprintf("copy the restored database into %s while it stays open (SQLite's online backup API, one transaction: reads go on, writes wait)", source),
		"run integrity_check on the running database",
	}
	if opts.DryRun {
		return rep, nil
	}
	scratch, err := os.MkdirTemp(s.dir, ".restore-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(scratch)
	restored := filepath.Join(scratch, "restored.db")
	rep.Verify = &Report{ID: m.ID, Checks: []Check{}}
	if err := s.verify(ctx, rep.Verify, m, restored, to); err != nil {
		return rep, err
	}
	if err := rep.Verify.err(); err != nil {
		return rep, fmt.Errorf("refused: %w", err)
	}
	kept, err := s.BackupSQLite(ctx, db)
	if err != nil {
		return rep, fmt.Errorf("backing up the current content first: %w", err)
	}
	rep.KeptBackup = kept.ID
	apply := func(c *orm.Conn) error {
		if err := copyInto(c, restored); err != nil {
			return err
		}
		rs, err := orm.RunNative(ctx, c, "PRAGMA integrity_check", nil, 10)
		if err != nil {
			return fmt.Errorf("integrity_check after the restore: %w", err)
		}
		if len(rs.Rows) != 1 || fmt.Sprint(rs.Rows[0]...) != "ok" {
			return fmt.Errorf("integrity_check after the restore: %v (backup %s holds the content before)", rs.Rows, kept.ID)
		}
		return nil
	}
	if a != nil {
		err = a.around(ctx, apply)
	} else {
		err = orm.WithConn(ctx, db, apply)
	}
	if err != nil {
		return rep, err
	}
	rep.Restored = true
	return rep, nil
}

// copyInto copies the database file at path over c's main database with
// the online backup API, in one step.
func copyInto(c *orm.Conn, path string) error {
	return c.Raw(func(dc any) error {
		r, ok := dc.(interface {
			NewRestore(string) (*msqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("the sqlite driver's connection (%T) has no online backup", dc)
		}
		b, err := r.NewRestore("file:" + path + "?mode=ro")
		if err != nil {
			return fmt.Errorf("starting the online restore: %w", err)
		}
		_, err = b.Step(-1)
		if ferr := b.Finish(); err == nil {
			err = ferr
		}
		if err != nil {
			return fmt.Errorf("copying the restored database in: %w", err)
		}
		return nil
	})
}

// around runs fn on the writer connection between two syncs, so that the
// archive holds every commit before fn, and what fn commits (the online
// backup API bypasses the commit hook) is archived with the time it ended.
func (a *SQLiteArchiver) around(ctx context.Context, fn func(*orm.Conn) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return ErrArchiverClosed
	}
	err := orm.WithConn(ctx, a.db, func(c *orm.Conn) error {
		if err := a.sync(ctx, c, false); err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
		a.clock.hook()
		return a.sync(ctx, c, true)
	})
	a.setError(err)
	return err
}
