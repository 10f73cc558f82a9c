package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/covetpy/covet/backend/backup"
	embeddedserver "github.com/covetpy/covet/embedded-server"
	"github.com/covetpy/covet/embedded-server/internal/config"
)

const backupUsage = `Usage:
  covet backup create [--encrypt] [--logical] [--json]
                                                back the database up now; prints the backup's id
  covet backup list [--json]                    the backups, newest first
  covet backup verify ID [--json]               check the checksums and restore a trial copy
  covet backup restore (ID | --to TIME) [--dry-run] [--yes] [--json]
                                                put a backup, or the database as it was at TIME
                                                (RFC 3339), in place of the database
  covet backup delete ID
  covet backup prune [--keep N] [--max-age DURATION]
                                                delete backups beyond both limits (the newest stays)
  covet backup schedule [--cron EXPR] [--keep N] [--max-age DURATION] [--encrypt=BOOL]
                        [--archive-postgres=BOOL] [--json]
                                                show or change covet.json's backups section

Every command takes --project DIR (default "."). Backups are in
DIR/covet_data/backups, of a SQLite or PostgreSQL database (not MySQL yet).
For PostgreSQL, create takes a base backup (pg_basebackup, with the WAL
pg_receivewal streams meanwhile: the server must allow replication
connections), and restore --to recovers it in a temporary instance, then
swaps the restored database in under the live name, keeping the old one;
create --logical makes a pg_dump of the database instead, which restore ID
loads the same way, and verify loads into a temporary database.
A running server archives a PostgreSQL database's WAL continuously, unless
--archive-postgres=false.
For SQLite, while the server runs it archives the database's write-ahead log
continuously into the newest base backup (one at start, then on the schedule,
"@hourly" by default), so --to reaches any moment from the oldest base to
about a second ago.
--encrypt uses the project's backup key from its key store (COVET_KEYS_PASSPHRASE
unlocks a store sealed with a passphrase).

A restore verifies what it restores first and keeps what it replaces: through
a running server it replaces the database's content in place and keeps the
content before as a new backup; otherwise it keeps the database file beside
the restored one (DB.before-restore-TIME). Without --yes it only says what it
would do. A schedule is a cron expression ("0 3 * * *", @hourly, @daily,
"@every 30m") or "off"; a running server applies a change within seconds.
`

// backupCmd runs covet backup SUBCOMMAND.
func backupCmd(args []string, stdout, stderr io.Writer) error {
	cmd, fs, project, asJSON, err := subcommand("backup", backupUsage, args, stderr)
	if cmd == "" {
		return err
	}
	encrypt := fs.Bool("encrypt", false, "encrypt with the project's backup key")
	logical := fs.Bool("logical", false, "create: a pg_dump of a PostgreSQL database rather than a base backup")
	to := fs.String("to", "", "restore the newest backup at or before this RFC 3339 time")
	dryRun := fs.Bool("dry-run", false, "say what a restore would do, change nothing")
	yes := fs.Bool("yes", false, "restore without asking")
	keep := fs.Int("keep", 0, "prune, schedule: keep the newest N")
	maxAge := fs.Duration("max-age", 0, "prune, schedule: keep those younger than this")
	cronExpr := fs.String("cron", "", "schedule: when to make new base backups")
	archivePG := fs.Bool("archive-postgres", false, "schedule: archive a PostgreSQL primary's WAL continuously while the server runs")
	pos, err := parseAround(fs, args[1:])
	if err != nil {
		return ignoreHelp(err)
	}
	bad := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "covet backup %s: %s\n\n%s", cmd, fmt.Sprintf(format, a...), backupUsage)
		return errUsage
	}
	wantArgs := map[string]int{"create": 0, "list": 0, "verify": 1, "delete": 1, "prune": 0, "restore": -1, "schedule": 0}
	n, known := wantArgs[cmd]
	switch {
	case !known:
		return bad("unknown subcommand")
	case n >= 0 && len(pos) != n:
		return bad("want %d argument(s), got %d", n, len(pos))
	case cmd == "restore" && (len(pos) == 1) == (*to != ""):
		return bad("name a backup ID or --to TIME, one of them")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var at *time.Time
	if *to != "" {
		t, err := time.Parse(time.RFC3339Nano, *to)
		if err != nil {
			return bad("--to %q: want an RFC 3339 time such as 2026-12-03T10:15:00Z", *to)
		}
		at = &t
	}
	b, err := embeddedserver.OpenBackups(*project, os.Getenv("COVET_KEYS_PASSPHRASE"))
	if err != nil {
		return err
	}
	// A PostgreSQL database is backed up from here, whether served or not.
	if url, token, ok := embeddedserver.RunningServer(*project); ok && !b.Postgres() && cmd != "prune" && cmd != "schedule" {
		// The server's key store is the one that writes keys.json, and the
		// backup runs on the server's own connections.
		fmt.Fprintf(stderr, "(through the server that runs this project, at %s)\n", url)
		c := newAdminClient(url, token)
		if cmd == "restore" {
			return restoreViaServer(ctx, c, pos, at, *dryRun || !*yes, *dryRun, *asJSON, stdout)
		}
		return backupViaServer(ctx, c, cmd, pos, *encrypt, *asJSON, stdout)
	}
	if cmd == "schedule" {
		return schedule(b, fs, *cronExpr, *keep, *maxAge, *encrypt, *archivePG, *asJSON, stdout)
	}
	switch cmd {
	case "create":
		m, err := b.Create(ctx, *encrypt, *logical)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, m)
		}
		fmt.Fprintln(stdout, m.ID)
		return nil
	case "list":
		st, err := b.Store(false)
		if err != nil {
			return err
		}
		inv, err := st.Scan()
		if err != nil {
			return err
		}
		return printBackups(stdout, inv.Backups, inv.Skipped, *asJSON)
	case "verify":
		rep, err := b.Verify(ctx, pos[0])
		return printVerify(stdout, rep, err, *asJSON)
	case "delete":
		st, err := b.Store(false)
		if err != nil {
			return err
		}
		return st.Delete(pos[0])
	case "prune":
		st, err := b.Store(false)
		if err != nil {
			return err
		}
		deleted, err := st.Prune(backup.Retention{Keep: *keep, MaxAge: *maxAge})
		for _, id := range deleted {
			fmt.Fprintf(stdout, "deleted %s\n", id)
		}
		return err
	}
	// restore
	if b.Postgres() {
		var rep *backup.PGRestoreReport
		if at != nil {
			rep, err = b.RestorePostgres(ctx, *at, *dryRun || !*yes)
		} else {
			rep, err = b.RestorePostgresBackup(ctx, pos[0], *dryRun || !*yes)
		}
		return printPGRestore(stdout, rep, err, *dryRun, *asJSON)
	}
	id := ""
	if len(pos) == 1 {
		id = pos[0]
	}
	rep, err := b.Restore(ctx, id, at, *dryRun || !*yes)
	return printRestore(stdout, rep, err, *dryRun, *asJSON)
}

// printRestore prints a SQLite restore's report and returns err.
func printRestore(w io.Writer, rep *backup.RestoreReport, err error, dryRun, asJSON bool) error {
	if rep == nil {
		return err
	}
	done := ""
	switch {
	case rep.Restored && rep.KeptBackup != "":
		done = fmt.Sprintf("Restored %s; the content before is backup %s.", rep.Target, rep.KeptBackup)
	case rep.Restored:
		done = fmt.Sprintf("Restored %s; the previous database is in %s.", rep.Target, rep.KeptAs)
	}
	return printRestoreReport(w, rep, rep.Plan, rep.Verify, done, err, dryRun, asJSON)
}

// printPGRestore prints a PostgreSQL restore's report and returns err.
func printPGRestore(w io.Writer, rep *backup.PGRestoreReport, err error, dryRun, asJSON bool) error {
	if rep == nil {
		return err
	}
	done := ""
	if rep.Restored {
		done = fmt.Sprintf("Restored database %s on %s as of %s; the one it replaced is kept as %s.", rep.Database, rep.Server, rep.To.Format(time.RFC3339Nano), rep.KeptAs)
	}
	return printRestoreReport(w, rep, rep.Plan, rep.Verify, done, err, dryRun, asJSON)
}

// printRestoreReport prints a restore's report rep: as JSON, or its plan, a
// failed verification and what it did (done, empty when it restored
// nothing); it returns err.
func printRestoreReport(w io.Writer, rep any, plan []string, verify *backup.Report, done string, err error, dryRun, asJSON bool) error {
	if asJSON {
		return errors.Join(err, writeJSON(w, rep))
	}
	for i, step := range plan {
		fmt.Fprintf(w, "%d. %s\n", i+1, step)
	}
	if verify != nil && !verify.OK {
		printVerify(w, verify, nil, false)
	}
	switch {
	case err != nil:
		return err
	case done != "":
		fmt.Fprintln(w, done)
	case !dryRun:
		fmt.Fprintln(w, "Nothing was changed: add --yes to restore.")
	}
	return nil
}

// restoreViaServer restores into the running server's database.
func restoreViaServer(ctx context.Context, c *adminClient, pos []string, to *time.Time, preview, dryRun, asJSON bool, stdout io.Writer) error {
	req := map[string]any{"dryRun": preview}
	if to != nil {
		req["to"] = to.UTC().Format(time.RFC3339Nano)
	} else {
		req["id"] = pos[0]
	}
	var rep backup.RestoreReport
	err := c.call(ctx, "POST", "/_covet/api/backups/restore", req, &rep)
	if err != nil && len(rep.Plan) == 0 {
		return err
	}
	return printRestore(stdout, &rep, err, dryRun, asJSON)
}

// schedule shows covet.json's backups section, changed first by the flags
// given.
func schedule(b *embeddedserver.Backups, fs *flag.FlagSet, cronExpr string, keep int, maxAge time.Duration, encrypt, archivePG, asJSON bool, stdout io.Writer) error {
	patch := map[string]any{}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "cron":
			patch["schedule"] = cronExpr
		case "keep":
			patch["keep"] = keep
		case "max-age":
			patch["maxAge"] = maxAge.String()
		case "encrypt":
			patch["encrypt"] = encrypt
		case "archive-postgres":
			patch["archivePostgres"] = archivePG
		}
	})
	var set config.Backups
	var err error
	if len(patch) == 0 {
		set, err = b.Schedule()
	} else {
		body, _ := json.Marshal(patch)
		set, err = b.SetSchedule(body)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, set)
	}
	fmt.Fprintf(stdout, "schedule          %s\nkeep              %d newest\nmax age           %s\nencrypt           %t\narchive postgres  %t\n", set.Schedule, set.Keep, set.MaxAge.Std(), set.Encrypt, set.PostgresArchived())
	return nil
}

// backupViaServer runs create, list, verify and delete through the admin
// API of the server that runs the project.
func backupViaServer(ctx context.Context, c *adminClient, cmd string, pos []string, encrypt, asJSON bool, stdout io.Writer) error {
	switch cmd {
	case "create":
		var m backup.Manifest
		if err := c.call(ctx, "POST", "/_covet/api/backups", map[string]bool{"encrypt": encrypt}, &m); err != nil {
			return err
		}
		if asJSON {
			return writeJSON(stdout, m)
		}
		fmt.Fprintln(stdout, m.ID)
		return nil
	case "list":
		var o struct {
			Backups    []backup.Manifest
			Incomplete []backup.Skipped
		}
		if err := c.call(ctx, "GET", "/_covet/api/backups", nil, &o); err != nil {
			return err
		}
		return printBackups(stdout, o.Backups, o.Incomplete, asJSON)
	case "verify":
		var rep backup.Report
		err := c.call(ctx, "POST", "/_covet/api/backups/"+url.PathEscape(pos[0])+"/verify", nil, &rep)
		if err != nil && rep.ID == "" {
			return err
		}
		if err != nil {
			err = fmt.Errorf("backup %s failed verification", pos[0])
		}
		return printVerify(stdout, &rep, err, asJSON)
	default: // delete
		return c.call(ctx, "DELETE", "/_covet/api/backups/"+url.PathEscape(pos[0]), nil, nil)
	}
}

func printBackups(w io.Writer, list []backup.Manifest, skipped []backup.Skipped, asJSON bool) error {
	if asJSON {
		return writeJSON(w, list)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tCREATED\tSIZE\tENCRYPTED")
	for _, m := range list {
		var size int64
		for _, f := range m.Files {
			size += f.Size
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%v\n", m.ID, m.Kind, m.CreatedAt.Local().Format("2006-01-02 15:04:05"), size, m.Encrypted)
	}
	tw.Flush()
	for _, s := range skipped {
		fmt.Fprintf(w, "not a complete backup: %s: %s\n", s.Name, s.Reason)
	}
	return nil
}

// printVerify prints a verification's checks and returns err.
func printVerify(w io.Writer, rep *backup.Report, err error, asJSON bool) error {
	if rep == nil {
		return err
	}
	if asJSON {
		return errors.Join(err, writeJSON(w, rep))
	}
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "%-8s %s %s %s\n", c.Status, c.Name, c.File, c.Detail)
	}
	return err
}
