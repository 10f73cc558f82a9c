package backup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/backup"
	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/security/crypto"
)

// write is one acknowledged insert of the drill: the time just before it
// began and the time its commit returned.
type write struct {
	id         int64
	began, ack time.Time
}

// writeRows inserts rows, each in its own transaction, every pause until
// stop closes or n rows are written, with readers running meanwhile (they
// keep old snapshots of the log alive, so that checkpoints meet readers).
func writeRows(t *testing.T, db *orm.DB, n int, pause time.Duration, stop <-chan struct{}, written *atomic.Int64) []write {
	t.Helper()
	ctx := context.Background()
	readCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for readCtx.Err() == nil {
			orm.RunNative(readCtx, db, "SELECT count(*), max(length(body)) FROM rows", nil, 0)
		}
	})
	defer func() { cancel(); wg.Wait() }()
	var out []write
	for i := range n {
		select {
		case <-stop:
			return out
		default:
		}
		w := write{began: time.Now()}
		var id int64
		err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
			r, err := orm.ExecNative(ctx, tx, "INSERT INTO rows(written_at, body) VALUES (?, ?)", w.began.UTC().Format(time.RFC3339Nano), strings.Repeat("r", 100+i%3000))
			id = r.LastInsertID
			return err
		})
		if err != nil {
			t.Errorf("insert %d: %v", i, err)
			return out
		}
		w.id, w.ack = id, time.Now()
		out = append(out, w)
		if written != nil {
			written.Add(1)
		}
		time.Sleep(pause)
	}
	return out
}

// between returns a moment after writes[k] was acknowledged and before
// writes[k+1] began.
func between(t *testing.T, writes []write, k int) time.Time {
	t.Helper()
	a, b := writes[k].ack, writes[k+1].began
	if !b.After(a) {
		t.Fatalf("writes %d and %d overlap", k, k+1)
	}
	return a.Add(b.Sub(a) / 2)
}

// newRowsDB creates a database with the drill's rows table in a new
// folder, opened with the writer hooks an archiver needs.
func newRowsDB(t *testing.T) (dir, path string, db *orm.DB, hooks *sqlite.WriterHooks) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "app.db")
	hooks = &sqlite.WriterHooks{ManualCheckpoints: true}
	db, err := sqlite.New(context.Background(), sqlite.Config{Path: path, Writer: hooks})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	exec(t, db, "CREATE TABLE rows(id INTEGER PRIMARY KEY, written_at TEXT NOT NULL, body TEXT NOT NULL)")
	return dir, path, db, hooks
}

// ids returns the ids in the rows table of the database at path, in order.
func ids(t *testing.T, path string) []int64 {
	t.Helper()
	db, err := sqlite.New(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := orm.RunNative(context.Background(), db, "SELECT id FROM rows ORDER BY id", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(rs.Rows))
	for i, r := range rs.Rows {
		out[i] = r[0].(int64)
	}
	return out
}

// TestPointInTime is the restore drill: rows are written continuously
// while the archiver copies the log (checkpointing it often, with readers
// in the way), a second base is taken half way; restoring to a moment
// between two writes gives exactly the rows acknowledged before it, for
// moments in both archives, and the restored databases pass
// integrity_check. Each base verifies.
func TestPointInTime(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%t", encrypted), func(t *testing.T) {
			var ring *crypto.Keyring
			if encrypted {
				ring = keyring(testKey(t, "k1", 7))
			}
			ctx := context.Background()
			dir, _, db, hooks := newRowsDB(t)
			exec(t, db, "INSERT INTO rows(written_at, body) VALUES ('before the base', 'x')")
			s := openStore(t, filepath.Join(dir, "backups"), ring)
			a, err := s.ArchiveSQLite(ctx, db, hooks, backup.ArchiveOptions{Interval: 20 * time.Millisecond, CheckpointBytes: 64 << 10})
			if err != nil {
				t.Fatal(err)
			}
			first := a.Base()
			if first.Kind != backup.KindBase || first.Encrypted != encrypted {
				t.Fatalf("base = %+v", first)
			}

			stop := make(chan struct{})
			var writes []write
			var written atomic.Int64
			done := make(chan struct{})
			go func() { defer close(done); writes = writeRows(t, db, 1000, 2*time.Millisecond, stop, &written) }()
			// Writes on both sides of the switch, however slowly a loaded
			// machine runs them: at least 400 ms and 60 writes each.
			waitWrites := func(n int64) {
				t.Helper()
				for deadline := time.Now().Add(400 * time.Millisecond); time.Now().Before(deadline) || written.Load() < n; {
					select {
					case <-done:
						t.Fatalf("the writer stopped after %d writes", written.Load())
					case <-time.After(10 * time.Millisecond):
					}
				}
			}
			waitWrites(60)
			second, err := a.NewBase(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			waitWrites(written.Load() + 60)
			close(stop)
			<-done
			if err := a.Close(ctx); err != nil {
				t.Fatal(err)
			}
			st := a.Status()
			if st.LastError != "" || st.Base != second.ID || st.Segments == 0 || st.Untimed != 0 {
				t.Fatalf("status = %+v", st)
			}
			if len(writes) < 50 {
				t.Fatalf("only %d writes", len(writes))
			}
			t.Logf("%d writes, %d segments in the second archive, %d commits untimed", len(writes), st.Segments, st.Untimed)

			// Moments in the first archive, at the switch, in the second.
			var ks []int
			for i := range len(writes) - 1 {
				if writes[i].ack.Before(second.CreatedAt) && !writes[i+1].began.Before(second.CreatedAt) {
					ks = append(ks, i-1, i, i+1)
				}
			}
			ks = append(ks, 0, len(writes)/4, len(writes)*3/4, len(writes)-2)
			for _, k := range ks {
				if k < 0 || k > len(writes)-2 {
					continue
				}
				to := between(t, writes, k)
				target := filepath.Join(dir, fmt.Sprintf("restored-%d.db", k))
				rep, err := s.RestoreSQLiteTo(ctx, to, target, backup.RestoreOptions{})
				if err != nil {
					t.Fatalf("restore to write %d: %v", k, err)
				}
				if !rep.Restored || !rep.Verify.OK {
					t.Fatalf("restore to write %d: %+v", k, rep)
				}
				got := ids(t, target)
				if len(got) != k+2 || got[len(got)-1] != writes[k].id {
					t.Fatalf("restored to just after write %d (id %d): %d rows, the last id %v", k, writes[k].id, len(got), got[len(got)-1:])
				}
			}
			for _, m := range []backup.Manifest{first, *second} {
				rep, err := s.Verify(ctx, m.ID)
				if err != nil {
					t.Fatalf("verify %s: %v\n%+v", m.ID, err, rep)
				}
			}
			infos, err := s.Archives(backup.DialectSQLite)
			if err != nil || len(infos) != 2 || !infos[1].Closed || !infos[1].Until.Equal(second.CreatedAt) {
				t.Fatalf("archives = %+v, %v", infos, err)
			}
		})
	}
}

// TestPointInTimeRefusals: a moment before the first base or after the
// archive's reach is refused, and so is a restore through a damaged
// segment; the current database is left as it was.
func TestPointInTimeRefusals(t *testing.T) {
	ctx := context.Background()
	dir, path, db, hooks := newRowsDB(t)
	s := openStore(t, filepath.Join(dir, "backups"), nil)
	if _, err := s.RestoreSQLiteTo(ctx, time.Now(), path, backup.RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "no sqlite base backup") {
		t.Fatalf("without a base: %v", err)
	}
	if _, err := s.ArchiveSQLite(ctx, db, &sqlite.WriterHooks{}, backup.ArchiveOptions{}); err == nil || !strings.Contains(err.Error(), "ManualCheckpoints") {
		t.Fatalf("archiving without manual checkpoints: %v", err)
	}
	a, err := s.ArchiveSQLite(ctx, db, hooks, backup.ArchiveOptions{Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	base := a.Base()
	writes := writeRows(t, db, 20, time.Millisecond, nil, nil)
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	writes = append(writes, writeRows(t, db, 20, time.Millisecond, nil, nil)...)
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "restored.db")
	if _, err := s.RestoreSQLiteTo(ctx, base.CreatedAt.Add(-time.Millisecond), target, backup.RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "nothing earlier can be restored") {
		t.Fatalf("before the base: %v", err)
	}
	if _, err := s.RestoreSQLiteTo(ctx, time.Now().Add(time.Hour), target, backup.RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "reaches only") {
		t.Fatalf("after the archive: %v", err)
	}
	plan, err := s.RestoreSQLiteTo(ctx, between(t, writes, 30), path, backup.RestoreOptions{DryRun: true})
	if err != nil || plan.Restored || plan.Current == nil || len(plan.Plan) != 3 || !strings.Contains(plan.Plan[0], "replay the commits") {
		t.Fatalf("dry run = %+v, %v", plan, err)
	}

	// One flipped byte in the second segment: verify and restore refuse.
	seg := filepath.Join(s.Dir(), base.ID, "wal", "0000000000000002.seg")
	flipByte(t, seg, 200)
	rep, err := s.Verify(ctx, base.ID)
	if !errors.Is(err, backup.ErrVerifyFailed) {
		t.Fatalf("verify of a damaged archive: %v", err)
	}
	if c := findCheck(rep, backup.StatusFailed); c == nil || c.Name != backup.CheckArchive || !strings.Contains(c.Detail, "segment 2") {
		t.Fatalf("verify of a damaged archive: %+v", rep)
	}
	before := ids(t, path)
	if _, err := s.RestoreSQLiteTo(ctx, between(t, writes, 5), path, backup.RestoreOptions{}); !errors.Is(err, backup.ErrVerifyFailed) {
		t.Fatalf("restore through a damaged archive: %v", err)
	}
	if after := ids(t, path); len(after) != len(before) || len(before) != 40 {
		t.Fatalf("the current database changed: %d rows, then %d", len(before), len(after))
	}

	// A segment removed: the chain breaks.
	flipByte(t, seg, 200)
	if _, err := s.Verify(ctx, base.ID); err != nil {
		t.Fatalf("verify once repaired: %v", err)
	}
	if err := os.Remove(seg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(ctx, base.ID); !errors.Is(err, backup.ErrVerifyFailed) {
		t.Fatalf("verify without segment 2: %v", err)
	}
}

// TestArchiveStartsNewBaseWhenTheLogIsReset: a checkpoint the archiver did
// not run (here another connection's TRUNCATE, with the writer's automatic
// checkpoints off) restarts the log; the archiver notices and starts a new
// base rather than archive a log it cannot chain.
func TestArchiveStartsNewBaseWhenTheLogIsReset(t *testing.T) {
	ctx := context.Background()
	dir, path, db, hooks := newRowsDB(t)
	s := openStore(t, filepath.Join(dir, "backups"), nil)
	a, err := s.ArchiveSQLite(ctx, db, hooks, backup.ArchiveOptions{Interval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	first := a.Base()
	writeRows(t, db, 5, 0, nil, nil)
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	lastGood := a.Status().SyncedAt
	other, err := sqlite.Open(ctx, sqlite.Config{Path: path, MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	writeRows(t, db, 5, 0, nil, nil)
	if _, err := other.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	writeRows(t, db, 5, 0, nil, nil)
	err = a.Sync(ctx)
	if err == nil || !strings.Contains(err.Error(), "no longer continues the archive") {
		t.Fatalf("sync after a foreign checkpoint: %v", err)
	}
	if got := a.Base(); got.ID == first.ID {
		t.Fatal("no new base")
	}
	// The first archive ends at its last sync: the commits after it were
	// never archived, so it must not claim to reach the new base.
	infos, err := s.Archives(backup.DialectSQLite)
	if err != nil || len(infos) != 2 || !infos[1].Closed || infos[1].Until.After(lastGood) {
		t.Fatalf("archives after the break = %+v, %v (last good sync %s)", infos, err, lastGood)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatalf("sync on the new base: %v", err)
	}
	rep, err := s.RestoreSQLite(ctx, a.Base().ID, filepath.Join(dir, "restored.db"), backup.RestoreOptions{})
	if err != nil || !rep.Restored {
		t.Fatal(err)
	}
	if n := len(ids(t, filepath.Join(dir, "restored.db"))); n != 15 {
		t.Fatalf("the new base restores %d rows, want 15", n)
	}
}

// TestRestoreLive restores the running database to a moment while it stays
// open and archived: it then holds exactly the rows acknowledged before
// the moment, the content before is kept as a backup, and the archive goes
// on through the restore: a moment after it restores the restored rows.
func TestRestoreLive(t *testing.T) {
	ctx := context.Background()
	dir, _, db, hooks := newRowsDB(t)
	s := openStore(t, filepath.Join(dir, "backups"), nil)
	a, err := s.ArchiveSQLite(ctx, db, hooks, backup.ArchiveOptions{Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	writes := writeRows(t, db, 30, time.Millisecond, nil, nil)
	to := between(t, writes, 9)
	time.Sleep(30 * time.Millisecond) // let a sync pass the moment
	plan, err := s.RestoreLive(ctx, db, a, "", &to, backup.RestoreOptions{DryRun: true})
	if err != nil || plan.Restored || len(plan.Plan) != 4 {
		t.Fatalf("dry run = %+v, %v", plan, err)
	}
	if n := scalar(t, db, "SELECT count(*) FROM rows"); n != 30 {
		t.Fatalf("the dry run changed the database: %d rows", n)
	}
	rep, err := s.RestoreLive(ctx, db, a, "", &to, backup.RestoreOptions{})
	if err != nil || !rep.Restored || rep.KeptBackup == "" {
		t.Fatalf("restore = %+v, %v", rep, err)
	}
	if n := scalar(t, db, "SELECT count(*) FROM rows"); n != 10 {
		t.Fatalf("after the restore the database has %d rows, want 10", n)
	}
	afterRestore := time.Now()
	more := writeRows(t, db, 3, time.Millisecond, nil, nil)
	if more[0].id != 11 {
		t.Fatalf("the next row got id %d", more[0].id)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "check.db")
	if _, err := s.RestoreSQLiteTo(ctx, afterRestore, target, backup.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(ids(t, target)); n != 10 {
		t.Fatalf("restoring to just after the live restore gives %d rows, want 10", n)
	}
	if _, err := s.RestoreSQLite(ctx, rep.KeptBackup, filepath.Join(dir, "kept.db"), backup.RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(ids(t, filepath.Join(dir, "kept.db"))); n != 30 {
		t.Fatalf("the kept backup holds %d rows, want 30", n)
	}
}
