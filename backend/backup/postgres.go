package backup

// PostgreSQL point-in-time recovery.
//
// A PostgreSQL backup is a generation: a base backup (pg_basebackup) and
// the write-ahead log (WAL) that pg_receivewal streams from the server
// after it, so that the database restores to any moment from the base's
// consistency to the newest archived commit:
//
//	arch, err := store.ArchivePostgres(ctx, backup.PostgresConfig{DSN: dsn}, backup.PGArchiveOptions{})
//	…                                  // the archiver syncs every 10 s
//	err = arch.Sync(ctx)               // archive everything committed until now
//	err = arch.Close(ctx)              // final sync, stop pg_receivewal, drop the slot
//
//	pool.Close()                       // a restore renames the live database
//	plan, err := store.RestorePostgres(ctx, cfg, when, backup.RestoreOptions{DryRun: true})
//	done, err := store.RestorePostgres(ctx, cfg, when, backup.RestoreOptions{})
//	// done.KeptAs names the database as it was before the restore
//
// # On disk
//
//	backups/
//	  20261203T055012.123Z-1a2b3c/       a generation (manifest kind "base", dialect "postgres")
//	    base.tar[.enc]                   pg_basebackup -Ft: the data folder
//	    pg_wal.tar[.enc]                 the WAL written during the base backup
//	    backup_manifest[.enc]            PostgreSQL's own manifest (pg_verifybackup)
//	    postgres.json[.enc]              PGBaseInfo: version, system id, timeline,
//	                                     start and end LSN, database, consistentAt
//	    manifest.json                    written last, once the base is complete
//	    wal/
//	      index.json                     the archived WAL: name, file, partial, sizes,
//	                                     SHA-256s; archivedUntil; sealed when encrypted;
//	                                     rewritten atomically on every sync
//	      000000010000000000000003[.enc] a complete segment
//	      000000010000000000000004.partial-7[.enc]
//	                                     the segment being written, as of the last sync:
//	                                     its first bytes (through the archived LSN,
//	                                     rounded up to a WAL page); zeros follow
//	      00000002.history[.enc]         a timeline history file
//	    .receiving/                      pg_receivewal's folder while the archiver runs
//	                                     (plaintext WAL; removed by Close)
//	    .base/                           pg_basebackup's output while the base is taken
//
// A WAL file is encrypted like a backup file (see doc.go), with the base's
// ID and the name "wal/" + its file name in the associated data. The
// index, the only record of which segments exist, is sealed like a
// manifest with the associated data "covet-backup-wal-index-v1" 0x00
// baseID; a missing, extra, reordered or changed segment fails Verify and
// RestorePostgres before PostgreSQL sees it (PostgreSQL takes a damaged
// record for the end of the WAL, and would stop recovering early without
// a word).
//
// Times (consistentAt, archivedUntil, the target of a restore) are the
// server's clock, the clock of its commit records.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Check names of PostgreSQL backups, beside those of verify.go.
const (
	CheckWALIndex      = "wal_index"       // wal/index.json parses, belongs to the base and (encrypted) its seal is authentic
	CheckWALChecksum   = "wal_checksum"    // an archived WAL file's size and SHA-256 against the index
	CheckWALFiles      = "wal_files"       // wal/ holds exactly the index's files, and the segments follow each other from the base's start
	CheckVerifyBackup  = "pg_verifybackup" // PostgreSQL's pg_verifybackup on the decrypted base
	CheckRecovery      = "recovery"        // a temporary PostgreSQL recovers the base with the WAL, reaches consistency and promotes
	CheckAmcheck       = "amcheck"         // bt_index_check on every btree index of the database
	CheckRowCounts     = "row_counts"      // restore: the restored database's tables have the recovered instance's row counts
	pgBaseFile         = "base.tar"
	pgWALTarFile       = "pg_wal.tar"
	pgManifestFile     = "backup_manifest"
	pgInfoFile         = "postgres.json"
	pgBaseWork         = ".base"
	pgReceiveWork      = ".receiving"
	pgRestorePrefix    = ".restore-pg-" // a ".restore-" folder: Prune removes it when left over
	pgVerifyPrefix     = ".verify-pg-"  // a ".verify-" folder: likewise
	pgMaxInfoSize      = 64 << 10
	pgMaxBackupManifst = 1 << 30
	pgToolTail         = 4 << 10 // bytes of a program's stderr kept for errors
)

// Limits and defaults of PostgreSQL backups.
const (
	// DefaultPGRunAs is the OS user of the temporary PostgreSQL of
	// RestorePostgres and Verify when this process runs as root.
	DefaultPGRunAs = "postgres"
	// PGRecoveryTimeout bounds how long a temporary PostgreSQL may take to
	// recover a base and its WAL.
	PGRecoveryTimeout = 2 * time.Hour
	// PGStopTimeout bounds the fast shutdown of a temporary PostgreSQL and
	// of pg_receivewal; after it they are killed.
	PGStopTimeout = 60 * time.Second
	// PGConnectTimeout bounds each connection to a server.
	PGConnectTimeout = 10 * time.Second
	// PGMaxDatabaseName is the longest database name RestorePostgres
	// handles: the name with "_before_restore_20261203T055012" must fit in
	// PostgreSQL's 63 bytes, which it would otherwise cut silently.
	PGMaxDatabaseName = 63 - len("_before_restore_20060102T150405")
)

// PostgresConfig says which PostgreSQL database to archive or restore, and
// where PostgreSQL's programs are.
type PostgresConfig struct {
	// DSN is the live database, as a URL:
	// postgres://user[:password]@host:port/dbname?sslmode=disable. The
	// database it names is the one RestorePostgres replaces. The user
	// needs the REPLICATION attribute to archive, and to restore it must
	// create, rename and fill databases and run amcheck: a superuser, in
	// practice. The password is never printed or stored; programs get it
	// in PGPASSWORD.
	DSN string
	// BinDir holds pg_basebackup, pg_receivewal, postgres, pg_dump,
	// pg_restore and pg_verifybackup. Empty: the folder of the major
	// version needed, /usr/lib/postgresql/<major>/bin, when it exists,
	// else `pg_config --bindir`, else the newest
	// /usr/lib/postgresql/*/bin, else the folder of pg_ctl in PATH.
	BinDir string
	// RunAs is the OS user that runs the temporary PostgreSQL of
	// RestorePostgres and Verify when this process runs as root, which
	// PostgreSQL refuses. Default DefaultPGRunAs.
	RunAs string
	// WorkDir is the folder of the temporary PostgreSQL (a ".restore-pg-*"
	// or ".verify-pg-*" folder, removed afterwards), which holds the
	// decrypted base and WAL. Default: the store's folder. When running as
	// root, RunAs must be able to enter it (search permission on it and on
	// every folder above it).
	WorkDir string
}

// pgNameRe matches OS user names RunAs accepts.
const pgUserPattern = `^[a-z_][a-z0-9_.-]{0,31}$`

// Validate reports the first problem with c, naming the field. It never
// shows the DSN's password.
func (c PostgresConfig) Validate() error {
	if _, err := parsePGDSN(c.DSN); err != nil {
		return err
	}
	if c.BinDir != "" {
		if !filepath.IsAbs(c.BinDir) {
			return fmt.Errorf("backup: PostgresConfig.BinDir %q is not an absolute path", c.BinDir)
		}
		if st, err := os.Stat(c.BinDir); err != nil {
			return fmt.Errorf("backup: PostgresConfig.BinDir: %w", err)
		} else if !st.IsDir() {
			return fmt.Errorf("backup: PostgresConfig.BinDir %s is not a folder", c.BinDir)
		}
	}
	if c.RunAs != "" && !regexp.MustCompile(pgUserPattern).MatchString(c.RunAs) {
		return fmt.Errorf("backup: PostgresConfig.RunAs %q is not a user name", c.RunAs)
	}
	if c.WorkDir != "" && !filepath.IsAbs(c.WorkDir) {
		return fmt.Errorf("backup: PostgresConfig.WorkDir %q is not an absolute path", c.WorkDir)
	}
	return nil
}

func (c PostgresConfig) runAs() string {
	if c.RunAs == "" {
		return DefaultPGRunAs
	}
	return c.RunAs
}

// pgDSN is a parsed PostgresConfig.DSN.
type pgDSN struct {
	u        *url.URL // without the password
	password string
	user     string
	database string
}

// parsePGDSN parses a DSN URL; its errors never show the password.
func parsePGDSN(dsn string) (*pgDSN, error) {
	if dsn == "" {
		return nil, errors.New("backup: PostgresConfig.DSN is empty")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// url's error quotes the input: say what is wrong without it.
		return nil, errors.New("backup: PostgresConfig.DSN is not a URL (postgres://user@host:port/dbname)")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("backup: PostgresConfig.DSN has scheme %q, want postgres:// or postgresql://", u.Scheme)
	}
	d := &pgDSN{}
	if u.User != nil {
		d.user = u.User.Username()
		d.password, _ = u.User.Password()
		u.User = url.User(d.user)
	}
	q := u.Query()
	if pw := q.Get("password"); pw != "" {
		d.password = pw
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	if u.Host == "" && q.Get("host") == "" {
		return nil, fmt.Errorf("backup: PostgresConfig.DSN %s names no host", redactURL(u))
	}
	if q.Get("user") != "" && d.user == "" {
		d.user = q.Get("user")
	}
	if d.user == "" {
		return nil, fmt.Errorf("backup: PostgresConfig.DSN %s names no user", redactURL(u))
	}
	d.database = strings.TrimPrefix(u.Path, "/")
	switch {
	case d.database == "":
		return nil, fmt.Errorf("backup: PostgresConfig.DSN %s names no database", redactURL(u))
	case strings.ContainsAny(d.database, "/\x00"):
		return nil, fmt.Errorf("backup: PostgresConfig.DSN %s: the database name %q contains '/' or NUL", redactURL(u), d.database)
	case len(d.database) > PGMaxDatabaseName:
		return nil, fmt.Errorf("backup: PostgresConfig.DSN %s: the database name %q is %d bytes, more than %d: a restore could not name the database it keeps", redactURL(u), d.database, len(d.database), PGMaxDatabaseName)
	}
	d.u = u
	return d, nil
}

// redactURL shows u with its password, if any, as xxxxx.
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	q := c.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// String is the DSN with its password masked, for messages.
func (d *pgDSN) String() string {
	if d.password == "" {
		return d.u.String()
	}
	c := *d.u
	c.User = url.UserPassword(d.user, "xxxxx")
	return c.String()
}

// source is what a manifest records: user, server and database, no
// password and no parameters.
func (d *pgDSN) source() string {
	c := url.URL{Scheme: "postgres", User: url.User(d.user), Host: d.u.Host, Path: "/" + d.database}
	return c.String()
}

// server is host:port, for messages.
func (d *pgDSN) server() string {
	if d.u.Host != "" {
		return d.u.Host
	}
	return d.u.Query().Get("host")
}

// libpqParams are the URI parameters libpq programs accept. Read only.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "passfile": true,
	"channel_binding": true, "connect_timeout": true, "client_encoding": true, "options": true,
	"application_name": true, "fallback_application_name": true, "keepalives": true,
	"keepalives_idle": true, "keepalives_interval": true, "keepalives_count": true,
	"tcp_user_timeout": true, "gssencmode": true, "sslmode": true, "sslcompression": true,
	"sslcert": true, "sslkey": true, "sslpassword": true, "sslrootcert": true, "sslcrl": true,
	"sslcrldir": true, "sslsni": true, "requirepeer": true, "ssl_min_protocol_version": true,
	"ssl_max_protocol_version": true, "krbsrvname": true, "gsslib": true, "service": true,
	"target_session_attrs": true, "load_balance_hosts": true, "sslcertmode": true,
}

// pgxOnlyParams are parameters pgx reads itself; it sends the other
// unknown ones to the server as run-time settings. Read only.
var pgxOnlyParams = []string{"pool_", "statement_cache_capacity", "description_cache_capacity", "default_query_exec_mode", "min_read_buffer_size", "servicefile"}

// toolURL is the DSN for libpq programs, with database db and extra
// parameters; never with the password (it goes in PGPASSWORD). Run-time
// settings that pgx takes as parameters (search_path=…) become libpq's
// options=-c name=value; pgx's own parameters are left out.
func (d *pgDSN) toolURL(db string, params ...string) string {
	c := *d.u
	c.Path = "/" + db
	c.RawPath = ""
	q := c.Query()
	var settings []string
	for name, vals := range q {
		if libpqParams[name] {
			continue
		}
		q.Del(name)
		if slices.ContainsFunc(pgxOnlyParams, func(p string) bool { return strings.HasPrefix(name, p) }) || len(vals) == 0 {
			continue
		}
		esc := strings.NewReplacer(`\`, `\\`, " ", `\ `).Replace
		settings = append(settings, "-c "+esc(name)+"="+esc(vals[0]))
	}
	if len(settings) > 0 {
		slices.Sort(settings)
		if o := q.Get("options"); o != "" {
			settings = append([]string{o}, settings...)
		}
		q.Set("options", strings.Join(settings, " "))
	}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// connect opens a pgx connection to database db of the DSN's server.
func (d *pgDSN) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	full := *d.u
	if d.password != "" {
		full.User = url.UserPassword(d.user, d.password)
	}
	cc, err := pgx.ParseConfig(full.String())
	if err != nil {
		return nil, fmt.Errorf("parsing the DSN %s: %s", d, d.redact(err.Error()))
	}
	cc.Database = db
	if cc.ConnectTimeout == 0 || cc.ConnectTimeout > PGConnectTimeout {
		cc.ConnectTimeout = PGConnectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("connecting to database %s on %s: %w", db, d.server(), &pgRedactedError{err, d.secrets()})
	}
	return conn, nil
}

func (d *pgDSN) secrets() []string {
	if d.password == "" {
		return nil
	}
	return []string{d.password, url.QueryEscape(d.password), url.PathEscape(d.password)}
}

// redact masks the DSN's password in s.
func (d *pgDSN) redact(s string) string { return redactSecrets(s, d.secrets()) }

func redactSecrets(s string, secrets []string) string {
	sorted := append([]string(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, sec := range sorted {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}

// pgRedactedError is an error whose message has the password masked; it
// unwraps to the original, for errors.Is and errors.As.
type pgRedactedError struct {
	err     error
	secrets []string
}

func (e *pgRedactedError) Error() string { return redactSecrets(e.err.Error(), e.secrets) }
func (e *pgRedactedError) Unwrap() error { return e.err }

// pgBinaries finds the folder of PostgreSQL's programs need, preferring
// that of major when major > 0; with strict, its postgres must be of that
// major version.
func pgBinaries(ctx context.Context, cfg PostgresConfig, major int, strict bool, need ...string) (string, error) {
	var candidates []string
	if cfg.BinDir != "" {
		candidates = []string{cfg.BinDir}
	} else {
		if major > 0 {
			candidates = append(candidates, filepath.Join("/usr/lib/postgresql", strconv.Itoa(major), "bin"))
		}
		if pgc, err := exec.LookPath("pg_config"); err == nil {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			out, err := exec.CommandContext(cctx, pgc, "--bindir").Output()
			cancel()
			if err == nil {
				candidates = append(candidates, strings.TrimSpace(string(out)))
			}
		}
		if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
			sort.Slice(dirs, func(i, j int) bool { return pgDirVersion(dirs[i]) > pgDirVersion(dirs[j]) })
			candidates = append(candidates, dirs[0])
		}
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			candidates = append(candidates, filepath.Dir(p))
		}
	}
	var tried []string
	for _, dir := range candidates {
		missing := ""
		for _, prog := range need {
			if st, err := os.Stat(filepath.Join(dir, prog)); err != nil || st.IsDir() {
				missing = prog
				break
			}
		}
		if missing != "" {
			tried = append(tried, fmt.Sprintf("%s has no %s", dir, missing))
			continue
		}
		if strict && major > 0 {
			v, err := pgProgramMajor(ctx, filepath.Join(dir, "postgres"))
			if err != nil {
				tried = append(tried, err.Error())
				continue
			}
			if v != major {
				tried = append(tried, fmt.Sprintf("%s is PostgreSQL %d", filepath.Join(dir, "postgres"), v))
				continue
			}
		}
		return dir, nil
	}
	what := "PostgreSQL's programs"
	if strict && major > 0 {
		what = fmt.Sprintf("PostgreSQL %d's programs", major)
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("finding %s (%s): none found; set PostgresConfig.BinDir", what, strings.Join(need, ", "))
	}
	return "", fmt.Errorf("finding %s (%s): %s; set PostgresConfig.BinDir", what, strings.Join(need, ", "), strings.Join(tried, "; "))
}

func pgDirVersion(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// pgProgramMajor runs `prog --version` ("postgres (PostgreSQL) 15.10 …").
func pgProgramMajor(ctx context.Context, prog string) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, prog, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", prog, err)
	}
	m := regexp.MustCompile(`\(PostgreSQL\) (\d+)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%s --version printed %q, not a PostgreSQL version", prog, bytes.TrimSpace(out))
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v, nil
}

// pgRunner runs PostgreSQL's programs from one folder with an environment
// built from the configuration only.
type pgRunner struct {
	bin      string
	password string   // PGPASSWORD of client programs
	secrets  []string // masked in errors
	server   *pgOSUser
}

// env is the environment of a program: no variable of this process.
func (r *pgRunner) env(client bool) []string {
	env := []string{
		"PATH=" + r.bin + string(os.PathListSeparator) + "/usr/local/bin" + string(os.PathListSeparator) + "/usr/bin" + string(os.PathListSeparator) + "/bin",
		"LC_ALL=C", "LANG=C", "TZ=UTC", "PGTZ=UTC",
	}
	if client && r.password != "" {
		env = append(env, "PGPASSWORD="+r.password)
	}
	return env
}

// client returns the command of a client program (pg_basebackup,
// pg_receivewal, pg_dump, pg_restore, pg_verifybackup).
func (r *pgRunner) client(ctx context.Context, prog string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(r.bin, prog), args...)
	cmd.Env = r.env(true)
	cmd.SysProcAttr = pgSysProcAttr(nil)
	return cmd
}

// serverCmd returns the command of a server program (postgres, initdb,
// pg_ctl), run as r.server when set.
func (r *pgRunner) serverCmd(ctx context.Context, prog string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(r.bin, prog), args...)
	cmd.Env = r.env(false)
	cmd.SysProcAttr = pgSysProcAttr(r.server)
	return cmd
}

// run runs cmd and returns its standard output; the error names the
// program, its arguments and the end of its standard error.
func (r *pgRunner) run(cmd *exec.Cmd) ([]byte, error) {
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: pgToolTail}
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), r.cmdError(cmd, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

func (r *pgRunner) cmdError(cmd *exec.Cmd, err error, stderr string) error {
	line := filepath.Base(cmd.Path) + " " + strings.Join(cmd.Args[1:], " ")
	msg := fmt.Sprintf("%s: %v", line, err)
	if s := strings.TrimSpace(stderr); s != "" {
		msg += ": " + s
	}
	return &pgRedactedError{errors.New(redactSecrets(msg, r.secrets)), r.secrets}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex // guards b
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// freeLoopbackPort returns a TCP port free on 127.0.0.1 a moment ago.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// quoteConf quotes s as a postgresql.conf string.
func quoteConf(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
}

// quoteShell quotes s for /bin/sh.
func quoteShell(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteIdent quotes s as an SQL identifier.
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// kvConn is a libpq keyword/value connection string.
func kvConn(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[i])
		b.WriteString("='")
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(kv[i+1], `\`, `\\`), "'", `\'`))
		b.WriteByte('\'')
	}
	return b.String()
}

// pgSQLState is the SQLSTATE of err, or "".
func pgSQLState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
