package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/security/crypto"
	"github.com/jackc/pgx/v5"
)

// pgRestoreTimeLayout is the time in the names of a restore's databases.
const pgRestoreTimeLayout = "20060102T150405"

// PGRestoreReport says what RestorePostgres did, or on a dry run would do.
type PGRestoreReport struct {
	// Backup is the manifest of the base restored, Info its postgres.json.
	Backup Manifest   `json:"backup"`
	Info   PGBaseInfo `json:"info"`
	// To is the moment restored (UTC): every transaction committed at or
	// before it, none after.
	To     time.Time `json:"to"`
	DryRun bool      `json:"dryRun"`
	// WAL is the range of archived WAL the recovery reads.
	WAL PGWALRange `json:"wal"`
	// Server (host:port) and Database: the live database replaced.
	Server   string `json:"server"`
	Database string `json:"database"`
	// RestoredAs is the name the restored database has until the swap.
	RestoredAs string `json:"restoredAs"`
	// KeptAs is the name the database replaced is kept under (never
	// dropped); empty when there was no such database.
	KeptAs string `json:"keptAs,omitempty"`
	// Plan lists the steps, in words.
	Plan []string `json:"plan"`
	// Verify holds the checks before the swap; nil on a dry run.
	Verify *Report `json:"verify,omitempty"`
	// Recovery is what the temporary PostgreSQL logged about the end of
	// its recovery (where it stopped, the last transaction replayed).
	Recovery []string `json:"recovery,omitempty"`
	// Restored reports that the restored database has the live name.
	Restored bool `json:"restored"`
}

// PGWALRange is a range of archived WAL.
type PGWALRange struct {
	First         string    `json:"first"`
	Last          string    `json:"last"`
	Files         int       `json:"files"`
	Bytes         int64     `json:"bytes"`
	ArchivedUntil time.Time `json:"archivedUntil"`
}

// RestorePostgres restores the database of cfg.DSN as it was at to (the
// server's clock): every transaction committed at or before to, none
// after.
//
// It chooses the newest PostgreSQL base of that database consistent by to
// whose archive reaches to (none: ErrNotRestorable). It checks the
// checksums of the base's files and of every archived WAL file it uses
// (and decrypts them) into a temporary folder ".restore-pg-*" of the store (or cfg.WorkDir), refusing
// on any mismatch, and recovers there a temporary PostgreSQL (as
// cfg.RunAs when running as root) on a free port of 127.0.0.1 with
// recovery_target_time = to; it dumps the database from it (pg_dump -Fc)
// and stops it. Then, on the live server, it creates the database
// <db>_restored_<time>, restores the dump into it and checks it (amcheck
// on every btree index, each table's row count against the temporary
// instance's); only then it disconnects the live database's sessions and,
// in one transaction, renames it <db>_before_restore_<time> and the
// restored one <db>. The database replaced is never dropped: KeptAs names
// it. Before the swap a failure changes nothing on the live server (the
// restored database is dropped); the swap is atomic.
//
// The caller closes its connections to the database before and opens
// new ones after. A dry run (opts.DryRun) checks the plan (the base, the
// archive's reach, the live database, PostgreSQL's programs) and changes
// nothing.
func (s *Store) RestorePostgres(ctx context.Context, cfg PostgresConfig, to time.Time, opts RestoreOptions) (_ *PGRestoreReport, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dsn, _ := parsePGDSN(cfg.DSN)
	defer func() {
		if err != nil {
			err = fmt.Errorf("restoring postgres database %s to %s: %w", dsn.source(), to.UTC().Format(time.RFC3339Nano), err)
		}
	}()
	if to.IsZero() {
		return nil, errors.New("the time to restore to is zero")
	}
	to = to.UTC()
	db := dsn.database
	m, info, idx, err := s.pgChooseBase(ctx, db, to)
	if err != nil {
		return nil, err
	}
	ts := s.now().UTC().Format(pgRestoreTimeLayout)
	rep := &PGRestoreReport{
		Backup: *m, Info: *info, To: to, DryRun: opts.DryRun, Server: dsn.server(), Database: db,
		RestoredAs: db + "_restored_" + ts, KeptAs: db + "_before_restore_" + ts, Plan: []string{},
		WAL: pgRange(idx, info.startSegment()),
	}

	live, err := pgMaintenance(ctx, dsn)
	if err != nil {
		return nil, err
	}
	cur, err := pgDatabaseFacts(ctx, live, db)
	if err == nil {
		for _, name := range []string{rep.RestoredAs, rep.KeptAs} {
			var n int
			if err = live.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err == nil && n > 0 {
				err = fmt.Errorf("database %s exists on %s; try again in a second", name, rep.Server)
			}
			if err != nil {
				break
			}
		}
	}
	closeConn(live)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		rep.KeptAs = ""
	}

	major := info.ServerVersion / 10000
	bin, err := pgBinaries(ctx, cfg, major, true, "postgres", "pg_dump", "pg_restore", "pg_verifybackup", "pg_waldump")
	if err != nil {
		return nil, err
	}
	user, err := pgServerUser(cfg.runAs())
	if err != nil {
		return nil, err
	}
	work := cfg.WorkDir
	if work == "" {
		work = s.dir
	}
	if err := checkEnter(work, user); err != nil {
		return nil, err
	}
	run := &pgRunner{bin: bin, password: dsn.password, secrets: dsn.secrets(), server: user}

	how := "not encrypted"
	if m.Encrypted {
		how = fmt.Sprintf("encrypted with key %q", m.KeyID)
	}
	as := ""
	if user != nil {
		as = " as user " + user.name
	}
	rep.Plan = append(rep.Plan,
		fmt.Sprintf("use base backup %s of database %s on %s (PostgreSQL %d.%d, started %s, consistent at %s, %s)",
			m.ID, info.Database, info.Server, major, info.ServerVersion%10000, m.CreatedAt.Format(time.RFC3339), info.ConsistentAt.Format(time.RFC3339Nano), how),
		fmt.Sprintf("replay its archived WAL from %s through %s (%d files, %d bytes, archived until %s) up to %s (recovery_target_time, inclusive): every transaction committed at or before it, none after",
			rep.WAL.First, rep.WAL.Last, rep.WAL.Files, rep.WAL.Bytes, rep.WAL.ArchivedUntil.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano)),
		fmt.Sprintf("check the SHA-256 of the base's %d files and of those WAL files, refusing on any mismatch, decrypt or copy them into a temporary folder %s, recover there a temporary PostgreSQL (%s%s, on 127.0.0.1 and a socket in that folder), pg_dump database %s from it and stop it",
			len(m.Files), filepath.Join(work, pgRestorePrefix+"*"), filepath.Join(bin, "postgres"), as, db),
		fmt.Sprintf("on %s: create database %s, pg_restore the dump into it, check it (amcheck's bt_index_check on every btree index outside the system schemas; each table's row count against the temporary instance's), and drop it if anything fails", rep.Server, rep.RestoredAs),
	)
	if cur != nil {
		rep.Plan = append(rep.Plan, fmt.Sprintf("swap: refuse new connections to %s (%d bytes, %d sessions now), disconnect its sessions, and in one transaction rename %s to %s and %s to %s; %s is kept, never dropped",
			db, cur.size, cur.sessions, db, rep.KeptAs, rep.RestoredAs, db, rep.KeptAs))
	} else {
		rep.Plan = append(rep.Plan, fmt.Sprintf("no database %s on %s now: rename %s to %s", db, rep.Server, rep.RestoredAs, db))
	}
	if opts.DryRun {
		return rep, nil
	}

	sc, err := newPGScratch(work, pgRestorePrefix)
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(sc.root)
	rep.Verify = &Report{ID: m.ID, Checks: []Check{}}
	defer func() { rep.Verify.OK = !rep.Verify.failed() }()
	checked, err := s.pgCheck(ctx, rep.Verify, m, sc)
	if err != nil {
		return rep, err
	}
	if checked == nil || !s.pgExtract(ctx, rep.Verify, m, sc, run) {
		return rep, fmt.Errorf("refused: %w", rep.Verify.err())
	}
	if checked.idx.ArchivedUntil.Before(to) { // cannot happen: the index only grows
		return rep, fmt.Errorf("the archive of %s reaches only %s", m.ID, checked.idx.ArchivedUntil.Format(time.RFC3339Nano))
	}

	in := &pgInstance{run: run, sc: sc, users: []string{dsn.user, info.User, DefaultPGRunAs}}
	defer in.stop()
	if err := in.recover(ctx, &to); errors.Is(err, errPGTargetNotReached) {
		// No commit after to in the archive, which reaches to: the end of
		// the WAL is the state at to. Recover on to its end.
		rep.Recovery = append(rep.Recovery, fmt.Sprintf("no transaction committed after %s in the archive, which reaches %s: recovered to the end of the archive", to.Format(time.RFC3339Nano), checked.idx.ArchivedUntil.Format(time.RFC3339Nano)))
		if err := in.recover(ctx, nil); err != nil {
			return rep, err
		}
	} else if err != nil {
		return rep, err
	}
	rep.Recovery = append(rep.Recovery, in.summary()...)
	tconn, err := in.connect(ctx, db)
	if err != nil {
		return rep, fmt.Errorf("connecting to database %s of the recovered instance: %w", db, err)
	}
	want, err := pgTableCounts(ctx, tconn)
	closeConn(tconn)
	if err != nil {
		return rep, fmt.Errorf("counting the recovered instance's rows: %w", err)
	}
	if _, err := run.run(run.client(ctx, "pg_dump", "--format=custom", "--file="+sc.dump, "--no-password",
		"--dbname="+kvConn("host", sc.sock, "port", strconv.Itoa(in.port), "user", in.user, "dbname", db, "sslmode", "disable"))); err != nil {
		return rep, err
	}
	in.stop()

	if err := s.pgLoadLive(ctx, dsn, run, rep, cur, sc.dump, want, "the recovered instance"); err != nil {
		return rep, err
	}
	return rep, nil
}

// pgLoadLive creates the restored database on the live server, fills and
// checks it (pgLoadChecked; want are the row counts of source), and swaps
// it in.
func (s *Store) pgLoadLive(ctx context.Context, dsn *pgDSN, run *pgRunner, rep *PGRestoreReport, cur *pgDatabase, dump string, want map[string]int64, source string) (err error) {
	live, err := pgMaintenance(ctx, dsn)
	if err != nil {
		return err
	}
	defer closeConn(live)
	if err := pgLoadChecked(ctx, live, dsn, run, rep.Verify, rep.RestoredAs, cur, dump, want, source); err != nil {
		return err
	}
	created := true
	defer func() {
		if err != nil && created {
			err = pgDropFailed(ctx, live, rep.RestoredAs, err)
		}
	}()

	// The swap.
	db := rep.Database
	if cur == nil {
		if _, err := live.Exec(ctx, "ALTER DATABASE "+quoteIdent(rep.RestoredAs)+" RENAME TO "+quoteIdent(db)); err != nil {
			return fmt.Errorf("renaming %s to %s: %w", rep.RestoredAs, db, err)
		}
		created, rep.Restored = false, true
		return nil
	}
	if _, err := live.Exec(ctx, "ALTER DATABASE "+quoteIdent(db)+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("refusing new connections to %s: %w", db, err)
	}
	allow := func() {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		live.Exec(actx, "ALTER DATABASE "+quoteIdent(db)+" WITH ALLOW_CONNECTIONS "+strconv.FormatBool(cur.allowConn))
	}
	if err := pgDisconnect(ctx, live, db); err != nil {
		allow()
		return err
	}
	err = pgx.BeginFunc(ctx, live, func(tx pgx.Tx) error {
		for _, stmt := range []string{
			"ALTER DATABASE " + quoteIdent(db) + " RENAME TO " + quoteIdent(rep.KeptAs),
			"ALTER DATABASE " + quoteIdent(rep.RestoredAs) + " RENAME TO " + quoteIdent(db),
			"ALTER DATABASE " + quoteIdent(rep.KeptAs) + " WITH ALLOW_CONNECTIONS " + strconv.FormatBool(cur.allowConn),
		} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
	if err != nil {
		allow()
		return fmt.Errorf("swapping the databases (nothing was renamed): %w", err)
	}
	created, rep.Restored = false, true
	return nil
}

// pgLoadChecked creates database name on live's server (with like's
// owner, encoding and locale when like is set), pg_restores dump into it
// and checks it, recording in v amcheck and each table's row count against
// want, the counts of source. On any failure, a failed check too, it drops
// the database again; on success the caller owns it.
func pgLoadChecked(ctx context.Context, live *pgx.Conn, dsn *pgDSN, run *pgRunner, v *Report, name string, like *pgDatabase, dump string, want map[string]int64, source string) (err error) {
	create := "CREATE DATABASE " + quoteIdent(name)
	if like != nil {
		create += like.createOptions()
	}
	if _, err := live.Exec(ctx, create); err != nil {
		return fmt.Errorf("%s: %w", create, err)
	}
	defer func() {
		if err != nil {
			err = pgDropFailed(ctx, live, name, err)
		}
	}()
	if _, err := run.run(run.client(ctx, "pg_restore", "--exit-on-error", "--single-transaction", "--no-password",
		"--dbname="+dsn.toolURL(name), dump)); err != nil {
		return err
	}
	rconn, err := dsn.connect(ctx, name)
	if err != nil {
		return err
	}
	n, aerr := pgAmcheck(ctx, rconn)
	var got map[string]int64
	var cerr error
	if aerr == nil {
		got, cerr = pgTableCounts(ctx, rconn)
	}
	closeConn(rconn)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case aerr != nil:
		v.add(CheckAmcheck, "", StatusFailed, fmt.Sprintf("database %s: %v", name, aerr), aerr)
		v.add(CheckRowCounts, "", StatusSkipped, "", nil)
	default:
		v.add(CheckAmcheck, "", StatusOK, fmt.Sprintf("database %s: bt_index_check passed on %d btree indexes", name, n), nil)
		if cerr != nil {
			v.add(CheckRowCounts, "", StatusFailed, cerr.Error(), cerr)
		} else if diff := pgCountDiff(want, got); diff != "" {
			v.add(CheckRowCounts, "", StatusFailed, fmt.Sprintf("database %s differs from %s: %s", name, source, diff), nil)
		} else {
			var rows int64
			for _, c := range got {
				rows += c
			}
			v.add(CheckRowCounts, "", StatusOK, fmt.Sprintf("%d tables, %d rows, as in %s", len(got), rows, source), nil)
		}
	}
	if v.failed() {
		return fmt.Errorf("refused: %w", v.err())
	}
	return nil
}

// pgDropFailed drops database name, made by a step that failed with err,
// even once ctx has ended; a failure to drop it joins err.
func pgDropFailed(ctx context.Context, live *pgx.Conn, name string, err error) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if _, derr := live.Exec(dctx, "DROP DATABASE "+quoteIdent(name)); derr != nil {
		return errors.Join(err, fmt.Errorf("dropping %s, which failed: %w", name, derr))
	}
	return err
}

// pgDisconnect terminates the sessions of database db but this one, and
// waits (up to 10 s) for them to end.
func pgDisconnect(ctx context.Context, conn *pgx.Conn, db string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := conn.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db).Scan(&n)
		if err != nil {
			return fmt.Errorf("disconnecting the sessions of %s: %w", db, err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("disconnecting the sessions of %s: %d still there after 10s", db, n)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// pgMaintenance connects to the maintenance database of the DSN's server
// (postgres, or template1 when that is the database restored or missing).
func pgMaintenance(ctx context.Context, dsn *pgDSN) (*pgx.Conn, error) {
	if dsn.database != "postgres" {
		conn, err := dsn.connect(ctx, "postgres")
		if err == nil || pgSQLState(err) != "3D000" { // invalid_catalog_name
			return conn, err
		}
	}
	return dsn.connect(ctx, "template1")
}

// pgDatabase is what a restore keeps of the database it replaces.
type pgDatabase struct {
	owner, encoding, collate, ctype, provider, locale string
	allowConn                                         bool
	size                                              int64
	sessions                                          int
}

// pgDatabaseFacts describes database db on conn's server; nil when there
// is no such database.
func pgDatabaseFacts(ctx context.Context, conn *pgx.Conn, db string) (*pgDatabase, error) {
	var version int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return nil, err
	}
	locale := "daticulocale"
	if version >= 170000 {
		locale = "datlocale"
	}
	d := &pgDatabase{}
	var loc *string
	err := conn.QueryRow(ctx, `SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype,
		datlocprovider::text, `+locale+`, datallowconn, pg_database_size(oid),
		(SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname AND pid <> pg_backend_pid())
		FROM pg_database d WHERE datname = $1`, db).
		Scan(&d.owner, &d.encoding, &d.collate, &d.ctype, &d.provider, &loc, &d.allowConn, &d.size, &d.sessions)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading database %s's owner, encoding and locale: %w", db, err)
	}
	if loc != nil {
		d.locale = *loc
	}
	return d, nil
}

// createOptions are CREATE DATABASE's options giving a database d's owner,
// encoding and locale.
func (d *pgDatabase) createOptions() string {
	o := fmt.Sprintf(" WITH TEMPLATE template0 OWNER %s ENCODING %s LC_COLLATE %s LC_CTYPE %s",
		quoteIdent(d.owner), quoteLiteral(d.encoding), quoteLiteral(d.collate), quoteLiteral(d.ctype))
	switch d.provider {
	case "i":
		o += " LOCALE_PROVIDER icu ICU_LOCALE " + quoteLiteral(d.locale)
	case "b":
		o += " LOCALE_PROVIDER builtin BUILTIN_LOCALE " + quoteLiteral(d.locale)
	}
	return o
}

// pgChooseBase returns the newest base of database db consistent by to
// whose archive reaches to.
func (s *Store) pgChooseBase(ctx context.Context, db string, to time.Time) (*Manifest, *PGBaseInfo, *pgWALIndex, error) {
	list, err := s.List()
	if err != nil {
		return nil, nil, nil, err
	}
	var notes []string
	for i := range list {
		m := &list[i]
		if m.Dialect != DialectPostgres || m.Kind != KindBase {
			continue
		}
		info, err := s.pgReadInfo(ctx, m)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, nil, ctx.Err()
			}
			notes = append(notes, fmt.Sprintf("%s: %v", m.ID, err))
			continue
		}
		if info.Database != db {
			continue
		}
		if info.ConsistentAt.After(to) {
			notes = append(notes, fmt.Sprintf("%s became consistent at %s", m.ID, info.ConsistentAt.Format(time.RFC3339Nano)))
			continue
		}
		idx, err := s.pgLoadIndex(m)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", m.ID, err))
			continue
		}
		if idx.ArchivedUntil.Before(to) {
			notes = append(notes, fmt.Sprintf("%s's archive reaches only %s", m.ID, idx.ArchivedUntil.Format(time.RFC3339Nano)))
			continue
		}
		return m, info, idx, nil
	}
	if len(notes) == 0 {
		return nil, nil, nil, fmt.Errorf("%w: the store has no postgres base backup of database %s", ErrNotRestorable, db)
	}
	if len(notes) > 5 {
		notes = append(notes[:5], fmt.Sprintf("and %d more", len(notes)-5))
	}
	return nil, nil, nil, fmt.Errorf("%w: no postgres base backup of database %s restores to that time: %s", ErrNotRestorable, db, strings.Join(notes, "; "))
}

// pgArchiveInfo describes PostgreSQL base m and how far its archive
// reaches, for Archives: From is when the base became consistent, Until
// the archive's ArchivedUntil, Segments the archived WAL files; Commits
// and LastCommit are not known (PostgreSQL's WAL is not read).
func (s *Store) pgArchiveInfo(ctx context.Context, m Manifest) ArchiveInfo {
	a := ArchiveInfo{Base: m, From: m.CreatedAt, Until: m.CreatedAt}
	info, err := s.pgReadInfo(ctx, &m)
	if err != nil {
		a.Problem = err.Error()
		return a
	}
	a.From, a.Until = info.ConsistentAt, info.ConsistentAt
	idx, err := s.pgLoadIndex(&m)
	if err != nil {
		a.Problem = err.Error()
		return a
	}
	a.Segments, a.Closed = uint64(len(idx.Files)), idx.Closed
	if idx.ArchivedUntil.After(a.Until) {
		a.Until = idx.ArchivedUntil
	}
	return a
}

// pgFile returns the manifest's entry for a base file, plain or encrypted.
func pgFile(m *Manifest, name string) (File, bool) {
	for _, f := range m.Files {
		if f.Name == name || f.Name == name+".enc" {
			return f, true
		}
	}
	return File{}, false
}

// pgReadInfo reads base m's postgres.json, checking the manifest's seal
// and the file's checksums.
func (s *Store) pgReadInfo(ctx context.Context, m *Manifest) (*PGBaseInfo, error) {
	data, err := s.readPGSidecar(ctx, m, pgInfoFile, pgMaxInfoSize)
	if err != nil {
		return nil, err
	}
	return parsePGBaseInfo(data)
}

// readPGSidecar reads m's small JSON file name (at most max bytes),
// checking the manifest's seal and the file's checksums.
func (s *Store) readPGSidecar(ctx context.Context, m *Manifest, name string, max int64) ([]byte, error) {
	if m.Encrypted {
		if s.keyring == nil {
			return nil, fmt.Errorf("the backup is encrypted with key %q and the store has no keyring: %w", m.KeyID, crypto.ErrUnknownKey)
		}
		if err := m.checkSeal(s.keyring); err != nil {
			return nil, fmt.Errorf("the manifest's seal does not open: %w", err)
		}
	}
	f, ok := pgFile(m, name)
	if !ok {
		return nil, fmt.Errorf("the backup has no %s", name)
	}
	if f.PlainSize > max {
		return nil, fmt.Errorf("%s is %d bytes, more than %d", f.Name, f.PlainSize, max)
	}
	var buf bytes.Buffer
	if err := s.readFile(ctx, m, f, &buf); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

// pgLoadIndex reads base m's WAL index, checking its seal.
func (s *Store) pgLoadIndex(m *Manifest) (*pgWALIndex, error) {
	idx, err := readPGWALIndex(filepath.Join(s.dir, m.ID))
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", pgWALDir, pgWALIndexName, err)
	}
	switch {
	case idx.BaseID != m.ID:
		return nil, fmt.Errorf("%s/%s is the WAL index of base %s", pgWALDir, pgWALIndexName, idx.BaseID)
	case idx.Encrypted != m.Encrypted:
		return nil, fmt.Errorf("%s/%s says encrypted: %t, the manifest %t", pgWALDir, pgWALIndexName, idx.Encrypted, m.Encrypted)
	}
	if idx.Encrypted {
		if err := idx.checkSeal(s.keyring); err != nil {
			return nil, err
		}
	}
	return idx, nil
}

// pgRange describes the WAL of idx from segment start on.
func pgRange(idx *pgWALIndex, start uint64) PGWALRange {
	r := PGWALRange{ArchivedUntil: idx.ArchivedUntil}
	for _, f := range idx.Files {
		_, n, ok := parseWALSegment(f.WAL, idx.SegmentSize)
		if ok && n < start {
			continue
		}
		if ok {
			if r.First == "" || f.WAL < r.First {
				r.First = f.WAL
			}
			if f.WAL > r.Last {
				r.Last = f.WAL
			}
		}
		r.Files++
		r.Bytes += f.Size
	}
	return r
}

// pgScratch is the folder of a temporary PostgreSQL.
type pgScratch struct {
	root     string
	data     string // the data folder
	wal      string // the WAL restore_command copies from
	sock     string // the socket's folder
	log      string // the server's output
	dump     string // pg_dump's output
	manifest string // PostgreSQL's backup_manifest
}

func newPGScratch(work, prefix string) (*pgScratch, error) {
	root, err := os.MkdirTemp(work, prefix)
	if err != nil {
		return nil, err
	}
	sc := &pgScratch{
		root: root, data: filepath.Join(root, "data"), wal: filepath.Join(root, "wal"), sock: filepath.Join(root, "s"),
		log: filepath.Join(root, "postgres.log"), dump: filepath.Join(root, "dump.pgc"), manifest: filepath.Join(root, pgManifestFile),
	}
	// A socket's path is at most 107 bytes: sock/.s.PGSQL.65535.lock.
	if n := len(sc.sock) + len("/.s.PGSQL.65535.lock"); n > 107 {
		os.RemoveAll(root)
		return nil, fmt.Errorf("the temporary folder %s is too deep for a Unix socket in it (%d bytes, at most 107): set PostgresConfig.WorkDir to a shorter path", root, n)
	}
	for _, d := range []string{sc.data, sc.wal, sc.sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
	}
	return sc, nil
}

// pgChecked is what pgCheck found.
type pgChecked struct {
	info   *PGBaseInfo
	idx    *pgWALIndex
	copied map[uint64]bool // the segments copied into the scratch folder
}

// lastCopied is the highest segment copied.
func (c *pgChecked) lastCopied() uint64 {
	var last uint64
	for n := range c.copied {
		last = max(last, n)
	}
	return last
}

// pgCheck runs the checks of base m that need no PostgreSQL and records
// them in rep: the key, the base files' checksums, postgres.json, the WAL
// index, the WAL files' checksums (copying the WAL from the base's start
// on into sc.wal, decrypted) and the WAL files' completeness. It returns
// nil when a check failed, and an error only when it could not go on.
func (s *Store) pgCheck(ctx context.Context, rep *Report, m *Manifest, sc *pgScratch) (*pgChecked, error) {
	copied := map[uint64]bool{}
	keyOK := true
	if m.Encrypted {
		n := len(rep.Checks)
		s.checkKey(rep, m)
		keyOK = rep.Checks[n].Status != StatusFailed
	}
	sums, err := s.checkFiles(ctx, rep, m)
	if err != nil {
		return nil, err
	}
	var info *PGBaseInfo
	if f, ok := pgFile(m, pgInfoFile); !ok {
		rep.add(CheckRestore, pgInfoFile, StatusFailed, "the base has no "+pgInfoFile, nil)
	} else if keyOK && sums[f.Name] {
		var err error
		if info, err = s.pgReadInfo(ctx, m); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.add(CheckRestore, f.Name, StatusFailed, err.Error(), err)
		} else {
			rep.add(CheckRestore, f.Name, StatusOK, fmt.Sprintf("PostgreSQL %d.%d, database %s, WAL %s..%s on timeline %d, consistent at %s",
				info.ServerVersion/10000, info.ServerVersion%10000, info.Database, info.StartLSN, info.EndLSN, info.Timeline, info.ConsistentAt.Format(time.RFC3339Nano)), nil)
		}
	}
	dir := filepath.Join(s.dir, m.ID)
	idx, err := s.pgLoadIndex(m)
	switch {
	case err != nil:
		rep.add(CheckWALIndex, pgWALDir+"/"+pgWALIndexName, StatusFailed, err.Error(), err)
		return nil, nil
	case info != nil && idx.SegmentSize != info.WALSegmentSize:
		rep.add(CheckWALIndex, pgWALDir+"/"+pgWALIndexName, StatusFailed, fmt.Sprintf("segmentSize %d, the base's %d", idx.SegmentSize, info.WALSegmentSize), nil)
		return nil, nil
	default:
		closed := "the archiver runs or did not close"
		if idx.Closed {
			closed = "closed"
		}
		rep.add(CheckWALIndex, pgWALDir+"/"+pgWALIndexName, StatusOK, fmt.Sprintf("%d files, archived until %s (%s), %s", len(idx.Files), idx.ArchivedUntil.Format(time.RFC3339Nano), idx.ArchivedUntilLSN, closed), nil)
	}

	// The WAL files, with the copies of the segments being written that a
	// running archiver replaces meanwhile.
	start := uint64(0)
	if info != nil {
		start = info.startSegment()
	}
	copyWAL := keyOK && info != nil && sc != nil
	files := append([]pgWALFile(nil), idx.Files...)
	var okFiles int
	var okBytes int64
	for i, retries := 0, 0; i < len(files); i++ {
		f := files[i]
		_, n, isSeg := parseWALSegment(f.WAL, idx.SegmentSize)
		dest := ""
		if copyWAL && (!isSeg || n >= start) {
			dest = filepath.Join(sc.wal, f.WAL)
		}
		size, sum, rerr, err := s.pgReadWAL(ctx, idx, filepath.Join(dir, pgWALDir, f.Name), f, dest)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, fs.ErrNotExist) && retries < 3 {
			if fresh, ferr := s.pgLoadIndex(m); ferr == nil {
				if j := fresh.find(f.WAL); j >= 0 && fresh.Files[j].Name != f.Name {
					files[i], idx = fresh.Files[j], fresh
					i--
					retries++
					continue
				}
			}
		}
		name := pgWALDir + "/" + f.Name
		if err == nil && rerr == nil && dest != "" && isSeg {
			copied[n] = true
		}
		switch {
		case err != nil:
			rep.add(CheckWALChecksum, name, StatusFailed, "reading the file: "+err.Error(), err)
		case size != f.Size:
			rep.add(CheckWALChecksum, name, StatusFailed, fmt.Sprintf("the file is %d bytes, the index says %d", size, f.Size), nil)
		case sum != f.SHA256:
			rep.add(CheckWALChecksum, name, StatusFailed, fmt.Sprintf("SHA-256 is %s, the index says %s", sum, f.SHA256), nil)
		case rerr != nil:
			rep.add(CheckRestore, name, StatusFailed, rerr.Error(), rerr)
		default:
			okFiles++
			okBytes += size
		}
	}
	if okFiles > 0 || len(files) == 0 {
		what := "checked"
		if copyWAL {
			what = "checked and copied (decrypted) into a scratch folder"
		}
		rep.add(CheckWALChecksum, pgWALDir, StatusOK, fmt.Sprintf("%d WAL files, %d bytes: sizes and SHA-256 as in the index; %s", okFiles, okBytes, what), nil)
	}

	// Extra files (a running archiver stores a file a moment before the
	// index names it: what is extra must stay so), and segments missing
	// from the sequence.
	var problems []string
	for attempt := 0; ; attempt++ {
		extra, err := s.pgExtraWAL(m, files)
		if err != nil {
			problems = append(problems, err.Error())
			break
		}
		if len(extra) == 0 || attempt == 2 {
			for _, name := range extra {
				problems = append(problems, fmt.Sprintf("%s/%s is not in the index", pgWALDir, name))
			}
			break
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	if info != nil {
		first, haveFirst := uint64(0), false
		for n := range idx.segments() {
			if !haveFirst || n < first {
				first, haveFirst = n, true
			}
		}
		last, haveLast := idx.lastSegment()
		upto, _ := parseLSN(idx.ArchivedUntilLSN)
		switch {
		case !haveFirst:
			problems = append(problems, "the archive has no segment")
		case first > start:
			problems = append(problems, fmt.Sprintf("the archive starts at segment %s, after the base's start %s", walSegmentName(1, first, idx.SegmentSize), walSegmentName(uint32(info.Timeline), start, idx.SegmentSize)))
		case haveLast && upto > 0 && upto/uint64(idx.SegmentSize) > last && upto%uint64(idx.SegmentSize) != 0:
			problems = append(problems, fmt.Sprintf("the index says archived until %s, beyond its last segment %s", idx.ArchivedUntilLSN, walSegmentName(1, last, idx.SegmentSize)))
		}
		if haveFirst {
			if n, gap := idx.gap(max(first, start), last); gap {
				problems = append(problems, fmt.Sprintf("segment %s is missing: the WAL stops before it and resumes after", walSegmentName(uint32(info.Timeline), n, idx.SegmentSize)))
			}
		}
	}
	if len(problems) > 0 {
		rep.add(CheckWALFiles, pgWALDir, StatusFailed, strings.Join(problems, "; "), nil)
	} else if info != nil {
		last, _ := idx.lastSegment()
		rep.add(CheckWALFiles, pgWALDir, StatusOK, fmt.Sprintf("no extra file; segments follow each other from the base's start %s through %s",
			walSegmentName(uint32(info.Timeline), start, idx.SegmentSize), walSegmentName(uint32(info.Timeline), last, idx.SegmentSize)), nil)
	}
	if rep.failed() || info == nil {
		return nil, nil
	}
	return &pgChecked{info: info, idx: idx, copied: copied}, nil
}

// pgExtraWAL lists the files of m's wal/ that neither files nor the
// current index name (dot files are the archiver's temporary files).
func (s *Store) pgExtraWAL(m *Manifest, files []pgWALFile) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, m.ID, pgWALDir))
	if err != nil {
		return nil, err
	}
	known := map[string]bool{pgWALIndexName: true}
	for _, f := range files {
		known[f.Name] = true
	}
	if fresh, err := s.pgLoadIndex(m); err == nil {
		for _, f := range fresh.Files {
			known[f.Name] = true
		}
	}
	var extra []string
	for _, e := range entries {
		if !known[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
			extra = append(extra, e.Name())
		}
	}
	return extra, nil
}

// pgReadWAL reads archived WAL file f at path, returning its stored size
// and SHA-256 (err: it could not be read); with dest, it decrypts (or
// copies) it there, checks its plain size and SHA-256 and pads a partial
// segment with zeros (rerr: that failed).
func (s *Store) pgReadWAL(ctx context.Context, idx *pgWALIndex, path string, f pgWALFile, dest string) (size int64, sum string, rerr, err error) {
	src, err := os.Open(path)
	if err != nil {
		return 0, "", nil, err
	}
	defer src.Close()
	sh := sha256.New()
	stored := &countWriter{w: sh}
	tee := io.TeeReader(ctxReader{ctx, src}, stored)
	if dest != "" {
		out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return 0, "", nil, err
		}
		ph := sha256.New()
		plain := &countWriter{w: io.MultiWriter(out, ph)}
		if idx.Encrypted {
			rerr = decryptStream(ctx, s.keyring, plain, tee, idx.BaseID, pgWALAD(f.Name), idx.ChunkSize)
		} else {
			_, rerr = io.Copy(plain, tee)
		}
		switch psum := hex.EncodeToString(ph.Sum(nil)); {
		case rerr != nil:
		case plain.n != f.PlainSize:
			rerr = fmt.Errorf("the restored file is %d bytes, the index says %d", plain.n, f.PlainSize)
		case psum != f.PlainSHA256:
			rerr = fmt.Errorf("the restored file's SHA-256 is %s, the index says %s", psum, f.PlainSHA256)
		case f.Partial:
			rerr = out.Truncate(idx.SegmentSize)
		}
		if cerr := out.Close(); rerr == nil {
			rerr = cerr
		}
	}
	if _, err := io.Copy(io.Discard, tee); err != nil { // the rest, for the stored checksum
		return 0, "", rerr, err
	}
	return stored.n, hex.EncodeToString(sh.Sum(nil)), rerr, nil
}

// pgExtract decrypts the base into sc.data, runs pg_verifybackup on it and
// records both in rep; it reports whether they passed.
func (s *Store) pgExtract(ctx context.Context, rep *Report, m *Manifest, sc *pgScratch, run *pgRunner) bool {
	for _, part := range []struct{ name, dest string }{{pgBaseFile, sc.data}, {pgWALTarFile, filepath.Join(sc.data, "pg_wal")}} {
		f, ok := pgFile(m, part.name)
		if !ok {
			if part.name == pgBaseFile {
				rep.add(CheckRestore, part.name, StatusFailed, "the base has no "+part.name, nil)
				return false
			}
			continue
		}
		if err := s.pgUntar(ctx, m, f, part.dest); err != nil {
			rep.add(CheckRestore, f.Name, StatusFailed, fmt.Sprintf("extracting into %s: %v", part.dest, err), err)
			return false
		}
		rep.add(CheckRestore, f.Name, StatusOK, fmt.Sprintf("%d bytes, SHA-256 %s, extracted into %s", f.PlainSize, f.PlainSHA256, part.dest), nil)
	}
	f, ok := pgFile(m, pgManifestFile)
	if !ok {
		rep.add(CheckVerifyBackup, "", StatusFailed, "the base has no "+pgManifestFile, nil)
		return false
	}
	out, err := os.OpenFile(sc.manifest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = s.readFile(ctx, m, f, out)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		rep.add(CheckRestore, f.Name, StatusFailed, err.Error(), err)
		return false
	}
	stdout, err := run.run(run.client(ctx, "pg_verifybackup", "--manifest-path="+sc.manifest, "--wal-directory="+filepath.Join(sc.data, "pg_wal"), sc.data))
	if err != nil {
		rep.add(CheckVerifyBackup, f.Name, StatusFailed, err.Error(), err)
		return false
	}
	rep.add(CheckVerifyBackup, f.Name, StatusOK, strings.TrimSpace(string(stdout)), nil)
	return true
}

// pgUntar extracts tar file f of m into dest, streaming the decryption.
func (s *Store) pgUntar(ctx context.Context, m *Manifest, f File, dest string) error {
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := extractTar(pr, dest)
		pr.CloseWithError(err)
		done <- err
	}()
	err := s.readFile(ctx, m, f, pw)
	pw.CloseWithError(err)
	terr := <-done
	if terr != nil && (err == nil || errors.Is(err, terr)) {
		return terr
	}
	return err
}

// extractTar writes the directories and regular files of a tar stream
// under dest, refusing names that leave it and any other kind of entry,
// then reads r to its end.
func extractTar(r io.Reader, dest string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		if name == "." && h.Typeflag == tar.TypeDir {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") || name == "." {
			return fmt.Errorf("the tar entry %q is outside the folder", h.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			return fmt.Errorf("the tar entry %s is a symbolic link (to %s): tablespaces are not supported", h.Name, h.Linkname)
		default:
			return fmt.Errorf("the tar entry %s has type %q, not a file or a folder", h.Name, h.Typeflag)
		}
	}
	_, err := io.Copy(io.Discard, r)
	return err
}

// errPGTargetNotReached: the WAL ended before a commit after the recovery
// target. Read only.
var errPGTargetNotReached = errors.New("recovery ended before the target time: the WAL has no transaction committed after it")

// pgInstance is a temporary PostgreSQL on a scratch folder.
type pgInstance struct {
	run   *pgRunner
	sc    *pgScratch
	users []string // roles to try first (trust, over the socket only)
	user  string   // the role connections use: the bootstrap superuser once ready
	port  int

	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has ended
	logStart int64         // where the log of the latest start begins
}

// writeConf writes the instance's configuration: recovery from sc.wal,
// to target when set (else to the end of the WAL), then promotion.
func (in *pgInstance) writeConf(target *time.Time) error {
	d := in.sc.data
	restore := "cp " + quoteShell(strings.ReplaceAll(in.sc.wal, "%", "%%")+string(filepath.Separator)) + "%f %p"
	conf := []string{
		"# written by covet's backup package for a temporary recovery",
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("port = %d", in.port),
		"unix_socket_directories = " + quoteConf(in.sc.sock),
		"unix_socket_permissions = 0700",
		"max_connections = 20",
		"max_prepared_transactions = 64", // the WAL may hold two-phase transactions
		"hot_standby = off",              // no connections before the end, and no checks of the primary's settings
		"fsync = off",                    // a throwaway instance
		"synchronous_commit = off",
		"autovacuum = off",
		"archive_mode = off",
		"max_wal_senders = 0",
		"shared_preload_libraries = ''",
		"ssl = off",
		"logging_collector = off",
		"log_destination = 'stderr'",
		"lc_messages = 'C'",
		"timezone = 'UTC'",
		"log_timezone = 'UTC'",
		"restore_command = " + quoteConf(restore),
		"recovery_target_timeline = 'latest'",
		"recovery_target_action = 'promote'",
	}
	if target != nil {
		conf = append(conf,
			"recovery_target_time = "+quoteConf(target.UTC().Format("2006-01-02 15:04:05.999999-07:00")),
			"recovery_target_inclusive = on")
	}
	files := map[string]string{
		"postgresql.conf":      strings.Join(conf, "\n") + "\n",
		"postgresql.auto.conf": "# empty: the base's ALTER SYSTEM settings do not apply here\n",
		"pg_hba.conf":          "local all all trust\n",
		"pg_ident.conf":        "",
		"recovery.signal":      "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	if err := os.Remove(filepath.Join(d, "standby.signal")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return chownTree(in.sc.root, in.run.server)
}

// recover configures and starts the instance and waits for it to end its
// recovery and accept connections. errPGTargetNotReached: the WAL ended
// before a commit after target; the instance has stopped and can recover
// again.
func (in *pgInstance) recover(ctx context.Context, target *time.Time) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if in.port, err = freeLoopbackPort(); err != nil {
			return err
		}
		if err = in.writeConf(target); err != nil {
			return fmt.Errorf("configuring the temporary PostgreSQL: %w", err)
		}
		if err = in.start(); err != nil {
			return err
		}
		err = in.waitReady(ctx)
		if err == nil {
			return in.useSuperuser(ctx)
		}
		if !strings.Contains(err.Error(), "could not bind") && !strings.Contains(err.Error(), "already in use") {
			return err
		}
		in.stop() // the port was taken meanwhile: another one
	}
	return err
}

func (in *pgInstance) start() error {
	logf, err := os.OpenFile(in.sc.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	if st, err := logf.Stat(); err == nil {
		in.logStart = st.Size()
	}
	// Not CommandContext: stop ends it, in order, whatever ctx does.
	cmd := in.run.serverCmd(context.Background(), "postgres", "-D", in.sc.data)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return in.run.cmdError(cmd, err, "")
	}
	in.cmd, in.exited = cmd, make(chan struct{})
	go func() {
		cmd.Wait()
		close(in.exited)
	}()
	return nil
}

// waitReady waits (up to PGRecoveryTimeout) for the instance to accept
// connections out of recovery.
func (in *pgInstance) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(PGRecoveryTimeout)
	for {
		select {
		case <-in.exited:
			log := in.logTail()
			if strings.Contains(log, "recovery ended before configured recovery target was reached") {
				return errPGTargetNotReached
			}
			return fmt.Errorf("the temporary PostgreSQL stopped during recovery (%s): %s", in.cmd.ProcessState, log)
		default:
		}
		if in.user == "" {
			in.user = in.users[0]
		}
		conn, err := in.connect(ctx, "template1")
		if pgSQLState(err) == "28000" { // invalid_authorization_specification: no such role
			if i := slices.Index(in.users, in.user); i >= 0 && i+1 < len(in.users) {
				in.user = in.users[i+1]
				continue
			}
		}
		if err == nil {
			var recovering bool
			err = conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering)
			closeConn(conn)
			if err == nil && !recovering {
				return nil
			}
		}
		if state := pgSQLState(err); state != "" && state != "57P03" { // cannot_connect_now: still recovering
			return fmt.Errorf("connecting to the temporary PostgreSQL: %w", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the temporary PostgreSQL did not end its recovery within %v: %s", PGRecoveryTimeout, in.logTail())
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// useSuperuser makes the instance's connections use its bootstrap
// superuser (OID 10), who reads every table and can run amcheck.
func (in *pgInstance) useSuperuser(ctx context.Context) error {
	conn, err := in.connect(ctx, "template1")
	if err != nil {
		return fmt.Errorf("connecting to the temporary PostgreSQL as %s: %w", in.user, err)
	}
	defer closeConn(conn)
	if err := conn.QueryRow(ctx, "SELECT rolname::text FROM pg_roles WHERE oid = 10").Scan(&in.user); err != nil {
		return fmt.Errorf("finding the temporary PostgreSQL's superuser: %w", err)
	}
	return nil
}

// connect connects to database db of the instance over its socket.
func (in *pgInstance) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cc, err := pgx.ParseConfig(kvConn("host", in.sc.sock, "port", strconv.Itoa(in.port), "user", in.user, "dbname", db, "sslmode", "disable"))
	if err != nil {
		return nil, err
	}
	cc.ConnectTimeout = 5 * time.Second
	return pgx.ConnectConfig(ctx, cc)
}

// stop shuts the instance down: fast, then immediate, then killed.
func (in *pgInstance) stop() {
	if in.cmd == nil {
		return
	}
	defer func() { in.cmd = nil }()
	for _, step := range []struct {
		signal func() error
		wait   time.Duration
	}{
		{func() error { return in.cmd.Process.Signal(os.Interrupt) }, PGStopTimeout},
		{in.cmd.Process.Kill, 10 * time.Second},
	} {
		select {
		case <-in.exited:
			return
		default:
		}
		if step.signal() != nil {
			continue
		}
		t := time.NewTimer(step.wait)
		select {
		case <-in.exited:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// logTail is the end of the instance's log.
func (in *pgInstance) logTail() string {
	data, _ := os.ReadFile(in.sc.log)
	if len(data) > pgToolTail {
		data = data[len(data)-pgToolTail:]
	}
	return strings.TrimSpace(string(data))
}

// pgLogLines are the log lines a report quotes. Read only.
var pgLogLines = regexp.MustCompile(`(?m)(?:LOG|FATAL):\s+((?:recovery stopping|consistent recovery state reached|redo done at|last completed transaction was at|archive recovery complete|selected new timeline|recovery ended)[^\n]*)$`)

// summary quotes what the log of the latest start says about the end of
// the recovery.
func (in *pgInstance) summary() []string {
	data, _ := os.ReadFile(in.sc.log)
	data = data[min(in.logStart, int64(len(data))):]
	var out []string
	for _, m := range pgLogLines.FindAllSubmatch(data, 20) {
		line, _, _ := strings.Cut(string(m[1]), " system usage:")
		out = append(out, line)
	}
	return out
}

// pgRestoredRe matches the log line of a WAL file restore_command gave.
// Read only.
var pgRestoredRe = regexp.MustCompile(`restored log file "([0-9A-F]{24})" from archive`)

// restoredSegments are the segments restore_command gave the instance.
func (in *pgInstance) restoredSegments(segSize int64) map[uint64]bool {
	data, _ := os.ReadFile(in.sc.log)
	got := map[uint64]bool{}
	for _, m := range pgRestoredRe.FindAllSubmatch(data, -1) {
		if _, n, ok := parseWALSegment(string(m[1]), segSize); ok {
			got[n] = true
		}
	}
	return got
}

// pgUserTables lists the ordinary tables outside the system schemas and
// extensions.
const pgUserTables = `SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
	AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
	ORDER BY 1, 2`

// pgTableCounts counts the rows of every user table.
func pgTableCounts(ctx context.Context, conn *pgx.Conn) (map[string]int64, error) {
	rows, err := conn.Query(ctx, pgUserTables)
	if err != nil {
		return nil, err
	}
	type table struct{ schema, name string }
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		return t, r.Scan(&t.schema, &t.name)
	})
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(tables))
	for _, t := range tables {
		id := pgx.Identifier{t.schema, t.name}.Sanitize()
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+id).Scan(&n); err != nil {
			return nil, fmt.Errorf("counting %s: %w", id, err)
		}
		counts[t.schema+"."+t.name] = n
	}
	return counts, nil
}

// pgCountDiff describes how got differs from want, or "".
func pgCountDiff(want, got map[string]int64) string {
	var diffs []string
	for t, n := range want {
		if g, ok := got[t]; !ok {
			diffs = append(diffs, fmt.Sprintf("table %s is missing", t))
		} else if g != n {
			diffs = append(diffs, fmt.Sprintf("table %s has %d rows, want %d", t, g, n))
		}
	}
	for t := range got {
		if _, ok := want[t]; !ok {
			diffs = append(diffs, fmt.Sprintf("table %s is extra", t))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("and %d more", len(diffs)-10))
	}
	return strings.Join(diffs, "; ")
}

// pgAmcheck runs bt_index_check on every valid btree index outside the
// system schemas, creating the amcheck extension for the time of the
// check when the database lacks it. It returns the indexes checked.
func pgAmcheck(ctx context.Context, conn *pgx.Conn) (_ int, err error) {
	var schema string
	err = conn.QueryRow(ctx, "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'").Scan(&schema)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS amcheck"); err != nil {
			return 0, fmt.Errorf("CREATE EXTENSION amcheck: %w", err)
		}
		defer func() {
			if _, derr := conn.Exec(context.WithoutCancel(ctx), "DROP EXTENSION IF EXISTS amcheck"); derr != nil && err == nil {
				err = fmt.Errorf("DROP EXTENSION amcheck, created for the check: %w", derr)
			}
		}()
		err = conn.QueryRow(ctx, "SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'").Scan(&schema)
	}
	if err != nil {
		return 0, fmt.Errorf("finding amcheck's schema: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT c.oid, c.oid::regclass::text FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE a.amname = 'btree' AND c.relkind = 'i' AND c.relpersistence <> 't' AND i.indisvalid AND i.indisready
		AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		ORDER BY 2`)
	if err != nil {
		return 0, fmt.Errorf("listing btree indexes: %w", err)
	}
	type index struct {
		oid  uint32
		name string
	}
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var x index
		return x, r.Scan(&x.oid, &x.name)
	})
	if err != nil {
		return 0, fmt.Errorf("listing btree indexes: %w", err)
	}
	check := "SELECT " + quoteIdent(schema) + ".bt_index_check($1::oid::regclass)"
	for _, x := range indexes {
		if _, err := conn.Exec(ctx, check, x.oid); err != nil {
			return 0, fmt.Errorf("bt_index_check(%s): %w", x.name, err)
		}
	}
	return len(indexes), nil
}

// verifyPostgres checks PostgreSQL base m and its WAL archive, recording
// the checks in rep: the manifest's seal (encrypted), the base files'
// checksums, postgres.json, the WAL index (and its seal), every archived
// WAL file's checksum, that wal/ holds no extra file and the segments
// follow each other from the base's start; then a trial restore into a
// ".verify-pg-*" folder of the store: pg_verifybackup on the decrypted
// base, a temporary PostgreSQL that recovers it with all the WAL to the
// end, reaches consistency and promotes (having read every segment), and
// amcheck on the database. It returns an error only when it could not go
// on (the context ended, no scratch folder). PostgreSQL's programs are
// found and run as PostgresConfig's defaults say. A logical backup
// (KindFull) is checked by verifyPostgresLogical, without a server.
func (s *Store) verifyPostgres(ctx context.Context, rep *Report, m *Manifest) error {
	return s.verifyPostgresWith(ctx, rep, m, PostgresConfig{})
}

// verifyPostgresWith is verifyPostgres with the programs, user and folder
// of cfg. A logical backup (pg_dump, KindFull) is checked by
// verifyPostgresLogical, whose trial load uses cfg's DSN; a base does not.
func (s *Store) verifyPostgresWith(ctx context.Context, rep *Report, m *Manifest, cfg PostgresConfig) error {
	rep.add(CheckManifest, "", StatusOK, fmt.Sprintf("format %d, %s %s backup of %s, %d file(s), encrypted: %t", m.Format, m.Dialect, m.Kind, m.Source, len(m.Files), m.Encrypted), nil)
	defer func() { rep.OK = !rep.failed() }()
	if m.Kind == KindFull {
		return s.verifyPostgresLogical(ctx, rep, m, cfg)
	}
	skip := func(names ...string) {
		for _, n := range names {
			rep.add(n, "", StatusSkipped, "", nil)
		}
	}
	work := cfg.WorkDir
	if work == "" {
		work = s.dir
	}
	sc, err := newPGScratch(work, pgVerifyPrefix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(sc.root)
	checked, err := s.pgCheck(ctx, rep, m, sc)
	if err != nil {
		return err
	}
	if checked == nil {
		skip(CheckVerifyBackup, CheckRecovery, CheckAmcheck)
		return nil
	}
	info := checked.info
	bin, err := pgBinaries(ctx, cfg, info.ServerVersion/10000, true, "postgres", "pg_verifybackup", "pg_waldump")
	var user *pgOSUser
	if err == nil {
		user, err = pgServerUser(cfg.runAs())
	}
	if err == nil {
		err = checkEnter(work, user)
	}
	if err != nil {
		rep.add(CheckRecovery, "", StatusFailed, "no trial restore: "+err.Error(), err)
		skip(CheckAmcheck)
		return nil
	}
	run := &pgRunner{bin: bin, server: user}
	if !s.pgExtract(ctx, rep, m, sc, run) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		skip(CheckRecovery, CheckAmcheck)
		return nil
	}
	in := &pgInstance{run: run, sc: sc, users: []string{info.User, DefaultPGRunAs}}
	defer in.stop()
	if err := in.recover(ctx, nil); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rep.add(CheckRecovery, "", StatusFailed, err.Error(), err)
		skip(CheckAmcheck)
		return nil
	}
	got := in.restoredSegments(checked.idx.SegmentSize)
	last := checked.lastCopied()
	for n := info.startSegment(); n <= last; n++ {
		if !got[n] {
			err := fmt.Errorf("recovery ended without reading segment %s, which the archive has: a damaged record ended the WAL early", walSegmentName(uint32(info.Timeline), n, checked.idx.SegmentSize))
			rep.add(CheckRecovery, "", StatusFailed, err.Error()+"; "+strings.Join(in.summary(), "; "), err)
			skip(CheckAmcheck)
			return nil
		}
	}
	rep.add(CheckRecovery, "", StatusOK, fmt.Sprintf("PostgreSQL recovered the base with %d segments through %s and promoted: %s",
		last-info.startSegment()+1, walSegmentName(uint32(info.Timeline), last, checked.idx.SegmentSize), strings.Join(in.summary(), "; ")), nil)
	conn, err := in.connect(ctx, info.Database)
	if err != nil {
		rep.add(CheckAmcheck, "", StatusFailed, fmt.Sprintf("connecting to database %s: %v", info.Database, err), err)
		return nil
	}
	n, err := pgAmcheck(ctx, conn)
	closeConn(conn)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		rep.add(CheckAmcheck, "", StatusFailed, fmt.Sprintf("database %s: %v", info.Database, err), err)
	default:
		rep.add(CheckAmcheck, "", StatusOK, fmt.Sprintf("database %s: bt_index_check passed on %d btree indexes", info.Database, n), nil)
	}
	return nil
}
