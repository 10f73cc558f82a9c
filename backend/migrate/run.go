package migrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/covetpy/covet/backend/orm"
)

// locked runs fn on one connection while holding the migrators' lock:
// PostgreSQL's advisory lock or MySQL's GET_LOCK, keyed by the schema (or
// database) and the history table, so that migrators of other schemas do
// not wait for each other. SQLite has no such lock: there every step's
// IMMEDIATE transaction is the lock, and a step checks again inside it
// that nobody applied it first.
func (m *Migrator) locked(ctx context.Context, fn func(c *orm.Conn) error) error {
	return orm.WithConn(ctx, m.db, func(c *orm.Conn) error {
		var lock, unlock string
		var args []any
		switch m.dialect {
		case "postgres":
			key := "hashtextextended(current_schema() || '.' || $1, 0)"
			lock, unlock, args = "SELECT pg_advisory_lock("+key+")", "SELECT pg_advisory_unlock("+key+")", []any{m.name}
		case "mysql":
			key := "CONCAT('covet_migrate:', LEFT(SHA2(CONCAT(DATABASE(), '.', ?), 256), 40))"
			lock, unlock = "SELECT GET_LOCK("+key+", ?)", "SELECT RELEASE_LOCK("+key+")"
			args = []any{m.name, int64(math.Ceil(m.lockFor.Seconds()))}
		default:
			return fn(c)
		}
		lctx, cancel := context.WithTimeout(ctx, m.lockFor)
		rs, err := orm.RunNative(lctx, c, lock, args, 1)
		cancel()
		if err == nil && m.dialect == "mysql" && (len(rs.Rows) != 1 || fmt.Sprint(rs.Rows[0][0]) != "1") {
			err = context.DeadlineExceeded
		}
		if err != nil {
			if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || lctx.Err() != nil) {
				return fmt.Errorf("migrate: another migrator has held the lock on %s for %v", m.name, m.lockFor)
			}
			return fmt.Errorf("migrate: taking the lock: %w", err)
		}
		defer func() { _, _ = orm.RunNative(context.WithoutCancel(ctx), c, unlock, args[:1], 1) }()
		return fn(c)
	})
}

// begin starts a transaction on c; SQLite's is IMMEDIATE, which takes the
// database's write lock at once. MySQL's cannot hold DDL (each DDL
// statement commits it), so it is used only for history writes.
func (m *Migrator) begin(ctx context.Context, c *orm.Conn) error {
	q := "BEGIN"
	switch m.dialect {
	case "sqlite":
		q = "BEGIN IMMEDIATE"
	case "mysql":
		q = "START TRANSACTION"
	}
	if _, err := orm.ExecNative(ctx, c, q); err != nil {
		return fmt.Errorf("migrate: beginning a transaction: %w", err)
	}
	return nil
}

// end commits the transaction begin started, or rolls it back when err is
// not nil, and returns err or the commit's error.
func (m *Migrator) end(ctx context.Context, c *orm.Conn, err error) error {
	if err != nil {
		if _, rbErr := orm.ExecNative(context.WithoutCancel(ctx), c, "ROLLBACK"); rbErr != nil {
			return errors.Join(err, fmt.Errorf("migrate: rolling back: %w", rbErr))
		}
		return err
	}
	if _, err := orm.ExecNative(ctx, c, "COMMIT"); err != nil {
		return fmt.Errorf("migrate: committing: %w", err)
	}
	return nil
}

// apply runs one step on c and records it.
func (m *Migrator) apply(ctx context.Context, c *orm.Conn, s *Step) error {
	start := time.Now()
	mg := m.byVer[s.Version]
	var err error
	if m.dialect == "mysql" {
		err = m.applyDirty(ctx, c, mg, s, start)
	} else {
		if err = m.begin(ctx, c); err != nil {
			return err
		}
		err = m.end(ctx, c, m.applyTx(ctx, c, mg, s, start))
	}
	s.DurationMs = float64(time.Since(start).Microseconds()) / 1000
	return err
}

// applyTx runs a step inside the transaction begin started (PostgreSQL,
// SQLite): a failure rolls all of it back.
func (m *Migrator) applyTx(ctx context.Context, c *orm.Conn, mg *Migration, s *Step, start time.Time) error {
	if done, err := m.alreadyDone(ctx, c, s); done || err != nil {
		return err
	}
	if err := m.runStatements(ctx, c, mg, s); err != nil {
		return err
	}
	var err error
	if s.Direction == Up {
		err = m.insertRow(ctx, c, mg, time.Since(start), 0)
	} else {
		err = m.deleteRow(ctx, c, mg)
	}
	if err != nil {
		return err
	}
	s.Outcome = "applied"
	return nil
}

// applyDirty runs a step on MySQL, where DDL commits as it goes: the row
// says the step is under way until it ends. A failure of the first
// statement leaves nothing behind (one statement is atomic) and is undone
// in the history too; a later one leaves the migration dirty.
func (m *Migrator) applyDirty(ctx context.Context, c *orm.Conn, mg *Migration, s *Step, start time.Time) error {
	if done, err := m.alreadyDone(ctx, c, s); done || err != nil {
		return err
	}
	var err error
	if s.Direction == Up {
		err = m.insertRow(ctx, c, mg, 0, dirtyUp)
	} else {
		err = m.setDirty(ctx, c, mg.Version, dirtyDown, 0, "")
	}
	if err != nil {
		return err
	}
	if err := m.runStatements(ctx, c, mg, s); err != nil {
		var se *StepError
		if !errors.As(err, &se) {
			return err
		}
		bctx := context.WithoutCancel(ctx)
		var herr error
		switch {
		case se.Statement == 1 && s.Direction == Up:
			herr = m.deleteRow(bctx, c, mg)
		case se.Statement == 1:
			herr = m.setDirty(bctx, c, mg.Version, 0, 0, "")
		default:
			se.Dirty = true
			herr = m.setDirty(bctx, c, mg.Version, dirtyOf(s.Direction), int64(se.Statement), se.Err.Error())
		}
		if herr != nil {
			return errors.Join(se, herr)
		}
		return se
	}
	if s.Direction == Up {
		_, err = orm.Exec(ctx, c, "UPDATE "+m.table+" SET dirty = 0, applied_at = ?, duration_ms = ? WHERE version = ?",
			time.Now().UnixMilli(), time.Since(start).Milliseconds(), mg.Version)
	} else {
		err = m.deleteRow(ctx, c, mg)
	}
	if err != nil {
		return fmt.Errorf("migrate: recording %s: %w", mg.label(), err)
	}
	s.Outcome = "applied"
	return nil
}

func dirtyOf(d Action) int64 {
	if d == Down {
		return dirtyDown
	}
	return dirtyUp
}

// runStatements runs a step's SQL, or its Go function, on c.
func (m *Migrator) runStatements(ctx context.Context, c *orm.Conn, mg *Migration, s *Step) error {
	fn := mg.UpFunc
	if s.Direction == Down {
		fn = mg.DownFunc
	}
	if fn != nil {
		if err := fn(ctx, c); err != nil {
			return &StepError{Step: *s, Err: err}
		}
		return nil
	}
	for i, st := range s.Statements {
		if _, err := orm.ExecNative(ctx, c, st.SQL); err != nil {
			return &StepError{Step: *s, Statement: i + 1, Line: st.Line, Err: err}
		}
	}
	return nil
}

// alreadyDone reports, marking the step skipped, that another migrator
// applied (or rolled back) the step since it was planned.
func (m *Migrator) alreadyDone(ctx context.Context, h orm.Handle, s *Step) (bool, error) {
	recs, err := orm.Raw[record](orm.OnPrimary(ctx), h, m.selectRecords()+" WHERE version = ?", s.Version)
	if err != nil {
		return false, fmt.Errorf("migrate: reading the history table %s: %w", m.name, err)
	}
	if applied := len(recs) == 1; applied != (s.Direction == Up) {
		return false, nil
	}
	s.Outcome = "skipped"
	return true, nil
}

func (m *Migrator) deleteRow(ctx context.Context, h orm.Handle, mg *Migration) error {
	if _, err := orm.Exec(ctx, h, "DELETE FROM "+m.table+" WHERE version = ?", mg.Version); err != nil {
		return fmt.Errorf("migrate: recording the rollback of %s: %w", mg.label(), err)
	}
	return nil
}

func (m *Migrator) setDirty(ctx context.Context, h orm.Handle, version, dirty, stmt int64, msg string) error {
	_, err := orm.Exec(ctx, h, "UPDATE "+m.table+" SET dirty = ?, failed_statement = ?, error = ? WHERE version = ?",
		dirty, stmt, truncate(msg, maxErrorLen), version)
	if err != nil {
		return fmt.Errorf("migrate: recording the state of version %d: %w", version, err)
	}
	return nil
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
