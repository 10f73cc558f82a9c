package backup

// PostgreSQL logical backups: pg_dump of one database.
//
// Beside the point-in-time generations of postgres.go, a PostgreSQL
// database can be backed up alone, as SQL objects and rows rather than
// data files: it needs no replication, restores into any server of the
// same or a newer major version, and holds the database as of one moment.
//
//	m, err := store.BackupPostgresLogical(ctx, backup.PostgresConfig{DSN: dsn})
//	rep, err := store.VerifyPostgres(ctx, cfg, m.ID)   // a trial load into a temporary database
//	pool.Close()                                       // a restore renames the live database
//	plan, err := store.RestorePostgresBackup(ctx, cfg, m.ID, backup.RestoreOptions{DryRun: true})
//	done, err := store.RestorePostgresBackup(ctx, cfg, m.ID, backup.RestoreOptions{})
//	// done.KeptAs names the database as it was before the restore
//
// On disk:
//
//	backups/
//	  20261203T055012.123Z-1a2b3c/   manifest kind "full", dialect "postgres"
//	    database.pgdump[.enc]        pg_dump --format=custom of the DSN's database
//	    pgdump.json[.enc]            PGDumpInfo: versions, database, owner, encoding,
//	                                 locale, snapshotAt, each table's row count
//	    manifest.json                written last
//	    snapshot.tmp                 pg_dump's output (plaintext) while the backup runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Check names of logical PostgreSQL backups, beside those of verify.go and
// postgres.go (CheckAmcheck, CheckRowCounts).
const (
	CheckTrialLoad = "trial_load"      // pg_restore of the dump into a temporary database on the server, dropped afterwards
	CheckDumpList  = "pg_restore_list" // without a server: pg_restore --list parses the dump's whole table of contents
)

const (
	pgDumpFile        = "database.pgdump"
	pgDumpInfoFile    = "pgdump.json"
	pgDumpInfoFormat  = 1
	pgMaxDumpInfoSize = 16 << 20 // one row count per table
)

// PGDumpInfo is a logical backup's pgdump.json: what was dumped, and as of
// when.
type PGDumpInfo struct {
	Format int `json:"format"`
	// ServerVersion is the server's server_version_num (150004 is 15.4);
	// PGDumpMajor the major version of the pg_dump that wrote the dump,
	// which pg_restore must reach.
	ServerVersion int `json:"serverVersion"`
	PGDumpMajor   int `json:"pgDumpMajor"`
	// Server is the server's host:port, Database the database dumped, User
	// the DSN's user.
	Server   string `json:"server"`
	Database string `json:"database"`
	User     string `json:"user"`
	// Owner, Encoding, Collate, Ctype, LocaleProvider ("c" libc, "i" ICU,
	// "b" builtin) and Locale (ICU's or builtin's) are the database's, as
	// CREATE DATABASE takes them.
	Owner          string `json:"owner"`
	Encoding       string `json:"encoding"`
	Collate        string `json:"collate"`
	Ctype          string `json:"ctype"`
	LocaleProvider string `json:"localeProvider"`
	Locale         string `json:"locale,omitempty"`
	// SnapshotAt is the server's clock when the dump's snapshot was taken,
	// read just before pg_dump started: the dump is consistent as of one
	// moment near it (the transactions committed before that moment are in
	// it, those committed after are not).
	SnapshotAt time.Time `json:"snapshotAt"`
	// Tables are the rows of each table (schema.name, extensions' and
	// system tables left out), counted in the dump's snapshot.
	Tables map[string]int64 `json:"tables"`
}

func (i *PGDumpInfo) validate() error {
	switch {
	case i.Format != pgDumpInfoFormat:
		return fmt.Errorf("format %d is not %d", i.Format, pgDumpInfoFormat)
	case i.ServerVersion < 100000:
		return fmt.Errorf("serverVersion %d is older than PostgreSQL 10", i.ServerVersion)
	case i.PGDumpMajor < 10:
		return fmt.Errorf("pgDumpMajor %d is older than PostgreSQL 10", i.PGDumpMajor)
	case i.Database == "" || len(i.Database) > 63:
		return fmt.Errorf("database %q", i.Database)
	case i.Owner == "" || i.Encoding == "":
		return errors.New("owner or encoding is missing")
	case i.SnapshotAt.IsZero():
		return errors.New("snapshotAt is missing")
	case i.Tables == nil:
		return errors.New("tables is missing")
	}
	for t, n := range i.Tables {
		if n < 0 {
			return fmt.Errorf("table %s has %d rows", t, n)
		}
	}
	return nil
}

// parsePGDumpInfo decodes and validates pgdump.json.
func parsePGDumpInfo(data []byte) (*PGDumpInfo, error) {
	var i PGDumpInfo
	if err := decodeStrict(data, &i); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", pgDumpInfoFile, err)
	}
	if err := i.validate(); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", pgDumpInfoFile, err)
	}
	return &i, nil
}

// database describes the dumped database for CREATE DATABASE.
func (i *PGDumpInfo) database() *pgDatabase {
	return &pgDatabase{owner: i.Owner, encoding: i.Encoding, collate: i.Collate, ctype: i.Ctype, provider: i.LocaleProvider, locale: i.Locale}
}

// rows is the sum of the row counts.
func (i *PGDumpInfo) rows() int64 {
	var n int64
	for _, c := range i.Tables {
		n += c
	}
	return n
}

// BackupPostgresLogical makes a logical backup of cfg.DSN's database, and
// of that database only (not the server's roles or other databases): a
// manifest of kind KindFull, dialect DialectPostgres, whose files are the
// dump, pg_dump --format=custom, and pgdump.json (PGDumpInfo), each
// encrypted in chunks when the store has a keyring. manifest.json is
// written last; on any error nothing is left behind.
//
// The dump is consistent as of one moment: a read-only repeatable-read
// transaction exports its snapshot, and reads the server's clock
// (PGDumpInfo.SnapshotAt) just before pg_dump starts on that snapshot;
// then each table's rows are counted in the same snapshot, for the checks
// of Verify and RestorePostgresBackup (a second read of every table). The
// database stays in use meanwhile: pg_dump takes only ACCESS SHARE locks,
// which wait for, and hold off, schema changes (ALTER TABLE, DROP).
//
// ctx bounds the whole backup, pg_dump included. pg_dump gets the password
// in PGPASSWORD only; an error names the program and ends with what it
// printed, the password masked as xxxxx.
func (s *Store) BackupPostgresLogical(ctx context.Context, cfg PostgresConfig) (_ *Manifest, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dsn, _ := parsePGDSN(cfg.DSN)
	id := ""
	defer func() {
		if err != nil {
			to := ""
			if id != "" {
				to = " to " + id
			}
			err = fmt.Errorf("backing up postgres database %s with pg_dump%s: %w", dsn.source(), to, err)
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
	facts, err := pgDatabaseFacts(ctx, conn, dsn.database)
	if err != nil {
		return nil, err
	}
	if facts == nil { // cannot be: connected to it
		return nil, fmt.Errorf("database %s is not in pg_database", dsn.database)
	}
	major := srv.versionNum / 10000
	bin, err := pgBinaries(ctx, cfg, major, false, "pg_dump")
	if err != nil {
		return nil, err
	}
	dumpMajor, err := pgProgramMajor(ctx, filepath.Join(bin, "pg_dump"))
	if err != nil {
		return nil, err
	}
	if dumpMajor < major {
		return nil, fmt.Errorf("%s is PostgreSQL %d's, older than the server (%d), which it cannot dump; set PostgresConfig.BinDir", filepath.Join(bin, "pg_dump"), dumpMajor, major)
	}
	run := &pgRunner{bin: bin, password: dsn.password, secrets: dsn.secrets()}

	id = newID(s.now())
	dir := filepath.Join(s.dir, id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	info := &PGDumpInfo{
		Format: pgDumpInfoFormat, ServerVersion: srv.versionNum, PGDumpMajor: dumpMajor,
		Server: dsn.server(), Database: dsn.database, User: dsn.user,
		Owner: facts.owner, Encoding: facts.encoding, Collate: facts.collate, Ctype: facts.ctype,
		LocaleProvider: facts.provider, Locale: facts.locale,
	}
	tmp := filepath.Join(dir, snapshotFile)
	if info.Tables, info.SnapshotAt, err = pgDumpSnapshot(ctx, conn, dsn, run, tmp); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := info.validate(); err != nil {
		return nil, fmt.Errorf("the new %s is invalid: %w", pgDumpInfoFile, err)
	}
	infoTmp := filepath.Join(dir, pgDumpInfoFile+".tmp")
	if err := os.WriteFile(infoTmp, append(data, '\n'), 0o600); err != nil {
		return nil, err
	}

	m := &Manifest{
		Format: ManifestFormat, ID: id, Kind: KindFull, Dialect: DialectPostgres,
		CreatedAt: idTime(id), Source: dsn.source(),
	}
	if s.keyring != nil {
		m.Encrypted, m.ChunkSize = true, s.chunkSize
	}
	for _, part := range []struct{ src, name string }{{tmp, pgDumpFile}, {infoTmp, pgDumpInfoFile}} {
		var f File
		if m.Encrypted {
			var keyID string
			f, keyID, err = s.encryptFile(ctx, id, part.src, filepath.Join(dir, part.name+".enc"))
			if m.KeyID == "" {
				m.KeyID = keyID
			}
		} else {
			f, err = keepPlain(ctx, part.src, filepath.Join(dir, part.name))
		}
		if err != nil {
			return nil, fmt.Errorf("storing %s: %w", part.name, err)
		}
		m.Files = append(m.Files, f)
	}
	if err := s.finishManifest(dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// pgDumpSnapshot dumps conn's database into file with pg_dump on a
// snapshot exported by a read-only repeatable-read transaction of conn,
// then counts each table's rows in that snapshot. It returns the counts
// and the server's time just after the snapshot was taken.
func pgDumpSnapshot(ctx context.Context, conn *pgx.Conn, dsn *pgDSN, run *pgRunner, file string) (map[string]int64, time.Time, error) {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("starting the dump's transaction: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		tx.Rollback(rctx) // read only: nothing to keep
	}()
	var snapshot string
	var at time.Time
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot(), clock_timestamp()").Scan(&snapshot, &at); err != nil {
		return nil, time.Time{}, fmt.Errorf("exporting the dump's snapshot: %w", err)
	}
	if _, err := run.run(run.client(ctx, "pg_dump", "--format=custom", "--file="+file, "--snapshot="+snapshot, "--no-password",
		"--dbname="+dsn.toolURL(dsn.database, "application_name", "covet_pgdump"))); err != nil {
		if ctx.Err() != nil {
			return nil, time.Time{}, fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return nil, time.Time{}, err
	}
	counts, err := pgTableCounts(ctx, conn)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("counting the rows of the dump's snapshot: %w", err)
	}
	return counts, at.UTC(), nil
}

// VerifyPostgres is Verify with cfg: PostgreSQL's programs, the user and
// folder of a base's temporary PostgreSQL, and the server of a logical
// backup's trial load. Verify has no server, and checks a logical backup
// (BackupPostgresLogical) as far as pg_restore --list parses its dump;
// VerifyPostgres restores the dump into a temporary database
// <db>_verify_<time> on cfg.DSN's server (db is the DSN's database),
// checks it (amcheck, each table's row count against the dump's snapshot)
// and drops it. A base is checked as Verify does (cfg.DSN is not used); a
// SQLite backup is left to Verify. The outcome is recorded beside the
// backup, as Verify's is (Verifications).
func (s *Store) VerifyPostgres(ctx context.Context, cfg PostgresConfig, id string) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkID("verifying backup", id); err != nil {
		return nil, err
	}
	m, err := s.manifest(id)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("verifying backup %s: %w", id, ErrNotFound)
	case err != nil || m.Dialect != DialectPostgres:
		return s.Verify(ctx, id)
	}
	rep := &Report{ID: id, Checks: []Check{}}
	if err := s.verifyPostgresWith(ctx, rep, m, cfg); err != nil {
		return nil, fmt.Errorf("verifying backup %s: %w", id, err)
	}
	s.recordVerification(rep)
	return rep, rep.err()
}

// verifyPostgresLogical checks logical backup m after its manifest,
// recording the checks in rep: the manifest's seal (encrypted), every
// file's size and SHA-256, pgdump.json, and the dump decrypted (or copied)
// into a scratch folder ".verify-pg-*" of the store (or cfg.WorkDir), with
// its plain size and SHA-256; then a trial: with cfg.DSN, a load into a
// temporary database on that server, created and always dropped, checked
// with amcheck and the dump's row counts; without, pg_restore --list of the
// dump. It returns an error only when it could not go on.
func (s *Store) verifyPostgresLogical(ctx context.Context, rep *Report, m *Manifest, cfg PostgresConfig) error {
	trial := []string{CheckDumpList}
	if cfg.DSN != "" {
		trial = []string{CheckTrialLoad, CheckAmcheck, CheckRowCounts}
	}
	work := cfg.WorkDir
	if work == "" {
		work = s.dir
	}
	scratch, err := os.MkdirTemp(work, pgVerifyPrefix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	dump := filepath.Join(scratch, pgDumpFile)
	info, err := s.pgDumpCheck(ctx, rep, m, dump)
	if err != nil {
		return err
	}
	if info == nil {
		for _, name := range trial {
			rep.add(name, "", StatusSkipped, "", nil)
		}
		return nil
	}
	if cfg.DSN == "" {
		return pgDumpList(ctx, rep, cfg, info, dump)
	}
	return s.pgTrialLoad(ctx, rep, cfg, info, dump)
}

// pgDumpCheck runs the checks of logical backup m that need no server and
// records them in rep: the key, every file's size and SHA-256, pgdump.json,
// and the dump decrypted (or copied) to dest, a new file, with its plain
// size and SHA-256. It returns pgdump.json when every check passed, nil
// when one failed, and an error only when ctx ended.
func (s *Store) pgDumpCheck(ctx context.Context, rep *Report, m *Manifest, dest string) (*PGDumpInfo, error) {
	keyOK, sums, err := s.pgDumpSums(ctx, rep, m)
	if err != nil {
		return nil, err
	}
	var info *PGDumpInfo
	f, ok := pgFile(m, pgDumpInfoFile)
	switch {
	case !ok:
		rep.add(CheckRestore, pgDumpInfoFile, StatusFailed, "the backup has no "+pgDumpInfoFile, nil)
	case !keyOK || !sums[f.Name]:
		rep.add(CheckRestore, f.Name, StatusSkipped, "", nil)
	default:
		var err error
		if info, err = s.pgReadDumpInfo(ctx, m); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			rep.add(CheckRestore, f.Name, StatusFailed, err.Error(), err)
		} else {
			rep.add(CheckRestore, f.Name, StatusOK, fmt.Sprintf("pg_dump %d of database %s on %s (PostgreSQL %d.%d, owner %s, encoding %s), snapshot at %s: %d tables, %d rows",
				info.PGDumpMajor, info.Database, info.Server, info.ServerVersion/10000, info.ServerVersion%10000, info.Owner, info.Encoding,
				info.SnapshotAt.Format(time.RFC3339Nano), len(info.Tables), info.rows()), nil)
		}
	}
	f, ok = pgFile(m, pgDumpFile)
	switch {
	case !ok:
		rep.add(CheckRestore, pgDumpFile, StatusFailed, "the backup has no "+pgDumpFile, nil)
	case !keyOK || !sums[f.Name] || info == nil:
		rep.add(CheckRestore, f.Name, StatusSkipped, "", nil)
	default:
		out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			err = s.readFile(ctx, m, f, out)
			if err == nil {
				err = out.Sync()
			}
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			rep.add(CheckRestore, f.Name, StatusFailed, err.Error(), err)
		} else {
			how := "copied"
			if m.Encrypted {
				how = "decrypted"
			}
			rep.add(CheckRestore, f.Name, StatusOK, fmt.Sprintf("%d bytes, SHA-256 %s, %s into %s", f.PlainSize, f.PlainSHA256, how, filepath.Dir(dest)), nil)
		}
	}
	if rep.failed() {
		return nil, nil
	}
	return info, nil
}

// pgDumpSums records in rep the key check (encrypted) and each file's
// size and SHA-256 check; it reports whether the key opened the seal and
// which files passed, and returns an error only when ctx ended.
func (s *Store) pgDumpSums(ctx context.Context, rep *Report, m *Manifest) (keyOK bool, sums map[string]bool, err error) {
	keyOK = true
	if m.Encrypted {
		n := len(rep.Checks)
		s.checkKey(rep, m)
		keyOK = rep.Checks[n].Status != StatusFailed
	}
	if sums, err = s.checkFiles(ctx, rep, m); err != nil {
		return false, nil, err
	}
	return keyOK, sums, nil
}

// pgReadDumpInfo reads logical backup m's pgdump.json, checking the
// manifest's seal and the file's checksums.
func (s *Store) pgReadDumpInfo(ctx context.Context, m *Manifest) (*PGDumpInfo, error) {
	data, err := s.readPGSidecar(ctx, m, pgDumpInfoFile, pgMaxDumpInfoSize)
	if err != nil {
		return nil, err
	}
	return parsePGDumpInfo(data)
}

// pgDumpList is the trial of a logical backup without a server: pg_restore
// --list reads the dump's whole table of contents.
func pgDumpList(ctx context.Context, rep *Report, cfg PostgresConfig, info *PGDumpInfo, dump string) error {
	const none = "no server was available for a trial load (Verify has none; VerifyPostgres with PostgresConfig.DSN loads the dump into a temporary database)"
	bin, err := pgBinaries(ctx, cfg, max(info.PGDumpMajor, info.ServerVersion/10000), false, "pg_restore")
	if err != nil {
		rep.add(CheckDumpList, pgDumpFile, StatusFailed, err.Error()+"; "+none, err)
		return nil
	}
	run := &pgRunner{bin: bin}
	out, err := run.run(run.client(ctx, "pg_restore", "--list", dump))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		rep.add(CheckDumpList, pgDumpFile, StatusFailed, err.Error()+"; "+none, err)
		return nil
	}
	var entries, data int
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		entries++
		if strings.Contains(line, " TABLE DATA ") {
			data++
		}
	}
	rep.add(CheckDumpList, pgDumpFile, StatusOK, fmt.Sprintf("pg_restore --list parsed the dump's table of contents: %d entries, %d of them table data (%d tables in %s); %s",
		entries, data, len(info.Tables), pgDumpInfoFile, none), nil)
	return nil
}

// pgTrialLoad restores the dump into a temporary database on cfg.DSN's
// server, named from the DSN's database, checks it and drops it.
func (s *Store) pgTrialLoad(ctx context.Context, rep *Report, cfg PostgresConfig, info *PGDumpInfo, dump string) (err error) {
	fail := func(detail string, cause error) error {
		rep.add(CheckTrialLoad, pgDumpFile, StatusFailed, detail, cause)
		rep.add(CheckAmcheck, "", StatusSkipped, "", nil)
		rep.add(CheckRowCounts, "", StatusSkipped, "", nil)
		return nil
	}
	dsn, err := parsePGDSN(cfg.DSN)
	if err != nil {
		return fail("no trial load: "+err.Error(), err)
	}
	name := dsn.database + "_verify_" + s.now().UTC().Format(pgRestoreTimeLayout)
	live, err := pgMaintenance(ctx, dsn)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fail("no trial load: "+err.Error(), err)
	}
	defer closeConn(live)
	var exists, version int
	err = live.QueryRow(ctx, "SELECT (SELECT count(*) FROM pg_database WHERE datname = $1)::int, current_setting('server_version_num')::int", name).Scan(&exists, &version)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return fail("no trial load: "+err.Error(), err)
	case exists > 0:
		return fail(fmt.Sprintf("no trial load: database %s exists on %s (another verification of this second?); try again in a second", name, dsn.server()), nil)
	}
	bin, err := pgBinaries(ctx, cfg, max(info.PGDumpMajor, version/10000), false, "pg_restore")
	if err != nil {
		return fail("no trial load: "+err.Error(), err)
	}
	run := &pgRunner{bin: bin, password: dsn.password, secrets: dsn.secrets()}

	n, start := len(rep.Checks), time.Now()
	lerr := pgLoadChecked(ctx, live, dsn, run, rep, name, info.database(), dump, info.Tables, "the dump's snapshot")
	// pgLoadChecked drops the database when a step after its creation
	// fails; it is this call's unless it existed already (a concurrent
	// verification of the same second), and must be gone afterwards.
	if pgSQLState(lerr) != "42P04" { // duplicate_database
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if _, derr := live.Exec(dctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)"); derr != nil {
				err = errors.Join(err, fmt.Errorf("dropping the temporary database %s on %s (drop it by hand): %w", name, dsn.server(), derr))
			}
		}()
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case lerr != nil && len(rep.Checks) == n: // the load itself failed
		return fail(fmt.Sprintf("into temporary database %s on %s: %v", name, dsn.server(), lerr), lerr)
	}
	rep.Checks = slices.Insert(rep.Checks, n, Check{Name: CheckTrialLoad, File: pgDumpFile, Status: StatusOK,
		Detail: fmt.Sprintf("pg_restore loaded the dump into temporary database %s on %s in %v; it is dropped afterwards", name, dsn.server(), time.Since(start).Round(time.Millisecond))})
	return nil
}

// RestorePostgresBackup restores logical backup id (BackupPostgresLogical)
// over cfg.DSN's database, which it replaces as it was at the dump's
// snapshot (PGDumpInfo.SnapshotAt; To and Info.ConsistentAt in the
// report). A base backup is refused: RestorePostgres restores it to a
// moment.
//
// It checks the backup first: the manifest's seal (encrypted), every
// file's size and SHA-256, refusing on any mismatch with the file named,
// and decrypts (or copies) the dump into a temporary folder ".restore-pg-*"
// of the store (or cfg.WorkDir). Then, as RestorePostgres does, on the live
// server it creates the database <db>_restored_<time> (with the live
// database's owner, encoding and locale), restores the dump into it and
// checks it (amcheck on every btree index, each table's row count against
// the dump's snapshot); only then it disconnects the live database's
// sessions and, in one transaction, renames it <db>_before_restore_<time>
// and the restored one <db>. The database replaced is never dropped:
// KeptAs names it. Before the swap a failure changes nothing on the live
// server; the swap is atomic.
//
// The caller closes its connections to the database before and opens new
// ones after. A dry run (opts.DryRun) reads the plan (the backup's
// pgdump.json, the live database, pg_restore) and changes nothing.
func (s *Store) RestorePostgresBackup(ctx context.Context, cfg PostgresConfig, id string, opts RestoreOptions) (_ *PGRestoreReport, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkID("restoring backup", id); err != nil {
		return nil, err
	}
	dsn, _ := parsePGDSN(cfg.DSN)
	defer func() {
		if err != nil {
			err = fmt.Errorf("restoring postgres database %s from backup %s: %w", dsn.source(), id, err)
		}
	}()
	m, err := s.manifest(id)
	if err != nil {
		return nil, err
	}
	switch {
	case m.Dialect != DialectPostgres:
		return nil, fmt.Errorf("it is a %s backup; RestoreSQLite restores it", m.Dialect)
	case m.Kind != KindFull:
		return nil, fmt.Errorf("it is a %s backup (pg_basebackup and its WAL archive), not a logical one (pg_dump): RestorePostgres restores it, to a moment it is given", m.Kind)
	}
	info, err := s.pgReadDumpInfo(ctx, m)
	if err != nil {
		// A missing key or a damaged file: refuse as the checks say.
		chk := &Report{ID: m.ID, Checks: []Check{}}
		if _, _, cerr := s.pgDumpSums(ctx, chk, m); cerr == nil && chk.failed() {
			return nil, fmt.Errorf("refused: %w", chk.err())
		}
		return nil, err
	}
	db := dsn.database
	ts := s.now().UTC().Format(pgRestoreTimeLayout)
	rep := &PGRestoreReport{
		Backup: *m, To: info.SnapshotAt, DryRun: opts.DryRun, Server: dsn.server(), Database: db,
		Info: PGBaseInfo{Format: 1, ServerVersion: info.ServerVersion, Database: info.Database, Server: info.Server,
			User: info.User, ConsistentAt: info.SnapshotAt},
		RestoredAs: db + "_restored_" + ts, KeptAs: db + "_before_restore_" + ts, Plan: []string{},
	}

	live, err := pgMaintenance(ctx, dsn)
	if err != nil {
		return nil, err
	}
	var version int
	cur, err := pgDatabaseFacts(ctx, live, db)
	if err == nil {
		err = live.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version)
	}
	for _, name := range []string{rep.RestoredAs, rep.KeptAs} {
		var n int
		if err == nil {
			if err = live.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err == nil && n > 0 {
				err = fmt.Errorf("database %s exists on %s; try again in a second", name, rep.Server)
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
	bin, err := pgBinaries(ctx, cfg, max(info.PGDumpMajor, version/10000), false, "pg_restore")
	if err != nil {
		return nil, err
	}
	run := &pgRunner{bin: bin, password: dsn.password, secrets: dsn.secrets()}
	work := cfg.WorkDir
	if work == "" {
		work = s.dir
	}

	how := "not encrypted"
	if m.Encrypted {
		how = fmt.Sprintf("encrypted with key %q", m.KeyID)
	}
	other := ""
	if info.Database != db || info.Server != rep.Server {
		other = fmt.Sprintf(" (a dump of another database: restored as %s on %s)", db, rep.Server)
	}
	like := "with the server's defaults (there is no database " + db + " to take the owner, encoding and locale of)"
	if cur != nil {
		like = fmt.Sprintf("with %s's owner %s, encoding %s and locale", db, cur.owner, cur.encoding)
	}
	rep.Plan = append(rep.Plan,
		fmt.Sprintf("use logical backup %s: pg_dump of database %s on %s (PostgreSQL %d.%d) as of its snapshot at %s, %d tables, %d rows, %s%s",
			m.ID, info.Database, info.Server, info.ServerVersion/10000, info.ServerVersion%10000, info.SnapshotAt.Format(time.RFC3339Nano), len(info.Tables), info.rows(), how, other),
		fmt.Sprintf("check the size and SHA-256 of its %d files, refusing on any mismatch, and decrypt or copy the dump into a temporary folder %s",
			len(m.Files), filepath.Join(work, pgRestorePrefix+"*")),
		fmt.Sprintf("on %s: create database %s %s, pg_restore the dump into it (%s), check it (amcheck's bt_index_check on every btree index outside the system schemas; each table's row count against the dump's snapshot), and drop it if anything fails",
			rep.Server, rep.RestoredAs, like, filepath.Join(bin, "pg_restore")),
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

	scratch, err := os.MkdirTemp(work, pgRestorePrefix)
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(scratch)
	rep.Verify = &Report{ID: m.ID, Checks: []Check{}}
	defer func() { rep.Verify.OK = !rep.Verify.failed() }()
	rep.Verify.add(CheckManifest, "", StatusOK, fmt.Sprintf("format %d, %s %s backup of %s, %d file(s), encrypted: %t", m.Format, m.Dialect, m.Kind, m.Source, len(m.Files), m.Encrypted), nil)
	dump := filepath.Join(scratch, pgDumpFile)
	checked, err := s.pgDumpCheck(ctx, rep.Verify, m, dump)
	if err != nil {
		return rep, err
	}
	if checked == nil {
		return rep, fmt.Errorf("refused: %w", rep.Verify.err())
	}
	if err := s.pgLoadLive(ctx, dsn, run, rep, cur, dump, checked.Tables, "the dump's snapshot"); err != nil {
		return rep, err
	}
	return rep, nil
}
