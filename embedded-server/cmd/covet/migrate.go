package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/covetpy/covet/backend/migrate"
	embeddedserver "github.com/covetpy/covet/embedded-server"
)

const migrateUsage = `Usage:
  covet migrate status [--json]                 applied, pending and dirty migrations
  covet migrate up [N] [--dry-run] [--force]    apply the pending migrations (N: only that many)
  covet migrate down [N] [--dry-run] [--force]  roll back the latest N migrations (default 1)
  covet migrate to VERSION [--dry-run] [--force]
                                                apply or roll back until VERSION is the latest (0: none)
  covet migrate redo [--dry-run] [--force]      roll back the latest migration and apply it again
  covet migrate force VERSION                   record that exactly the migrations up to VERSION are
                                                applied and clear a dirty state (runs no SQL)
  covet migrate new NAME                        create the next NNNN_NAME.up.sql and .down.sql
  covet migrate generate NAME [--dry-run]       write the migration that creates the tables and
                                                columns covet.json's resources lack, down path included

Every command takes --project DIR (default "."): the database is covet.json's,
the migrations are the files in DIR/migrations. --json prints the result as
JSON. Destructive statements (dropping a table or column, changing a type …)
are refused unless --force; --dry-run prints the SQL and the warnings and
changes nothing.
`

// migrateCmd runs covet migrate SUBCOMMAND.
func migrateCmd(args []string, stdout, stderr io.Writer) error {
	cmd, fs, project, asJSON, err := subcommand("migrate", migrateUsage, args, stderr)
	if cmd == "" {
		return err
	}
	dryRun := fs.Bool("dry-run", false, "print the SQL and the warnings, change nothing")
	force := fs.Bool("force", false, "apply destructive statements")
	pos, err := parseAround(fs, args[1:])
	if err != nil {
		return ignoreHelp(err)
	}
	bad := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "covet migrate %s: %s\n\n%s", cmd, fmt.Sprintf(format, a...), migrateUsage)
		return errUsage
	}
	var req migrate.Request
	switch cmd {
	case "status", "redo":
		if len(pos) > 0 {
			return bad("unexpected argument %q", pos[0])
		}
		req.Action = migrate.Action(cmd) // status runs no Request
	case "up", "down":
		req.Action = migrate.Action(cmd)
		if len(pos) > 1 {
			return bad("unexpected argument %q", pos[1])
		}
		if len(pos) == 1 {
			n, err := strconv.Atoi(pos[0])
			if err != nil || n < 1 {
				return bad("N %q: want a number of migrations, 1 or more", pos[0])
			}
			req.Steps = n
		}
	case "to", "force":
		if len(pos) != 1 {
			return bad("want one VERSION, got %d arguments", len(pos))
		}
		v, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || v < 0 {
			return bad("VERSION %q: want a migration's version number, or 0", pos[0])
		}
		req.Action, req.Version = migrate.To, v
	case "new", "generate":
		if len(pos) != 1 {
			return bad("want one NAME")
		}
		if cmd == "new" {
			return newMigration(*project, pos[0], stdout)
		}
	default:
		return bad("unknown subcommand")
	}
	req.DryRun, req.Force = *dryRun, *force

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var ms migrations
	if url, token, ok := embeddedserver.RunningServer(*project); ok {
		// The server runs it: the studio shows it and hears of it.
		fmt.Fprintf(stderr, "(through the server that runs this project, at %s)\n", url)
		ms = remoteMigrations{newAdminClient(url, token)}
	} else {
		local, err := embeddedserver.OpenMigrations(ctx, *project)
		if err != nil {
			return err
		}
		defer local.Close()
		ms = localMigrations{local}
	}
	switch cmd {
	case "status":
		st, err := ms.Status(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, st)
		}
		printStatus(stdout, st)
		return nil
	case "generate":
		return generateMigration(ctx, ms, pos[0], *dryRun, stdout)
	case "force":
		if err := ms.Force(ctx, req.Version); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Recorded version %d as the latest applied; no SQL was run.\n", req.Version)
		return nil
	}
	rep, err := ms.Run(ctx, req)
	if rep != nil {
		if *asJSON {
			if jerr := writeJSON(stdout, rep); jerr != nil {
				return errors.Join(err, jerr)
			}
		} else {
			printReport(stdout, rep)
		}
	}
	return err
}

// migrations is where covet migrate runs: in this process, or in the
// server that runs the project.
type migrations interface {
	Status(ctx context.Context) (*migrate.Status, error)
	Run(ctx context.Context, req migrate.Request) (*migrate.Report, error)
	Force(ctx context.Context, version int64) error
	// Generate proposes the migration for covet.json's resources and,
	// with write, saves it; it returns the files written.
	Generate(ctx context.Context, name string, write bool) (d *migrate.Draft, files []string, err error)
}

type localMigrations struct{ *embeddedserver.Migrations }

func (l localMigrations) Generate(ctx context.Context, name string, write bool) (*migrate.Draft, []string, error) {
	d, err := l.Migrations.Generate(ctx)
	if err != nil || !write || d.Empty() {
		return d, nil, err
	}
	up, down, err := d.Write(l.Dir, name)
	return d, []string{up, down}, err
}

type remoteMigrations struct{ c *adminClient }

func (r remoteMigrations) Status(ctx context.Context) (*migrate.Status, error) {
	var st migrate.Status
	return &st, r.c.call(ctx, "GET", "/_covet/api/migrations", nil, &st)
}

// Run returns the error of a failed run without a report: the server
// answers a failure with its problem only.
func (r remoteMigrations) Run(ctx context.Context, req migrate.Request) (*migrate.Report, error) {
	var rep migrate.Report
	if err := r.c.call(ctx, "POST", "/_covet/api/migrations/run", req, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

func (r remoteMigrations) Force(ctx context.Context, version int64) error {
	var st migrate.Status
	return r.c.call(ctx, "POST", "/_covet/api/migrations/force", map[string]int64{"version": version}, &st)
}

func (r remoteMigrations) Generate(ctx context.Context, name string, write bool) (*migrate.Draft, []string, error) {
	var out struct {
		migrate.Draft
		UpFile, DownFile string
	}
	// An empty draft is not written (the server would refuse it).
	if err := r.c.call(ctx, "POST", "/_covet/api/migrations/generate", map[string]any{}, &out); err != nil || !write || out.Empty() {
		return &out.Draft, nil, err
	}
	if err := r.c.call(ctx, "POST", "/_covet/api/migrations/generate", map[string]any{"write": true, "name": name}, &out); err != nil {
		return nil, nil, err
	}
	return &out.Draft, []string{out.UpFile, out.DownFile}, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(w io.Writer, st *migrate.Status) {
	fmt.Fprintf(w, "Database: %s, history in %s\n", st.Dialect, st.Table)
	fmt.Fprintf(w, "Current version: %d; %d pending\n\n", st.Current, st.Pending)
	if len(st.Migrations) == 0 {
		fmt.Fprintln(w, "No migrations yet: covet migrate new NAME creates one.")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED\tDOWN\tWARNINGS")
		for _, m := range st.Migrations {
			at, down := "", "no"
			if m.AppliedAt != nil {
				at = m.AppliedAt.Local().Format("2006-01-02 15:04:05")
			}
			if m.DownFile != "" || m.Go {
				down = "yes"
			}
			state := m.State
			if m.Edited {
				state += " (edited)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", m.Version, m.Name, state, at, down, len(m.UpWarnings))
		}
		tw.Flush()
	}
	for _, p := range st.Problems {
		fmt.Fprintf(w, "\nProblem: %s\n", p)
	}
}

func printReport(w io.Writer, rep *migrate.Report) {
	if len(rep.Steps) == 0 {
		fmt.Fprintf(w, "Nothing to do: the latest applied version is %d.\n", rep.Current)
		return
	}
	for _, s := range rep.Steps {
		name := s.File
		if name == "" {
			name = fmt.Sprintf("%d_%s (Go)", s.Version, s.Name)
		}
		if rep.DryRun {
			fmt.Fprintf(w, "-- %s %s\n", s.Direction, name)
			for _, st := range s.Statements {
				fmt.Fprintf(w, "%s;\n", st.SQL)
			}
			for _, x := range s.Warnings {
				fmt.Fprintf(w, "-- warning, line %d: %s: %s\n", x.Line, x.Rule, x.Message)
			}
			fmt.Fprintln(w)
			continue
		}
		verb := "applied"
		if s.Direction == migrate.Down {
			verb = "rolled back"
		}
		if s.Outcome == "skipped" {
			verb = "skipped (another migrator did it first)"
		}
		fmt.Fprintf(w, "%s %s (%d statements, %.1f ms)\n", verb, name, len(s.Statements), s.DurationMs)
	}
	if rep.DryRun {
		fmt.Fprintf(w, "Dry run: nothing was changed. The latest applied version is %d.\n", rep.Current)
	} else {
		fmt.Fprintf(w, "The latest applied version is now %d.\n", rep.Current)
	}
}

// generateMigration writes (or with dryRun prints) the migration that
// brings the database to covet.json's resources.
func generateMigration(ctx context.Context, ms migrations, name string, dryRun bool, stdout io.Writer) error {
	if !dryRun && !migrationName.MatchString(name) {
		return fmt.Errorf("migration name %q: want a-z, 0-9 and _ (at most 100)", name)
	}
	d, files, err := ms.Generate(ctx, name, !dryRun)
	if err != nil {
		return err
	}
	for _, n := range d.Notes {
		fmt.Fprintf(stdout, "-- note: %s\n", n)
	}
	switch {
	case d.Empty():
		fmt.Fprintln(stdout, "The database already has every table and column of covet.json's resources: nothing to generate.")
	case dryRun:
		fmt.Fprintf(stdout, "-- up\n%s;\n-- down\n%s;\n", strings.Join(d.Up, ";\n"), strings.Join(d.Down, ";\n"))
	default:
		fmt.Fprintf(stdout, "%s\nReview them, then apply with covet migrate up.\n", strings.Join(files, "\n"))
	}
	return nil
}

// migrationName is what NAME in covet migrate new may be. Read only.
var migrationName = regexp.MustCompile(`^[a-z0-9_]{1,100}$`)

// newMigration creates the next pair of empty migration files.
func newMigration(project, name string, stdout io.Writer) error {
	if !migrationName.MatchString(name) {
		return fmt.Errorf("migration name %q: want a-z, 0-9 and _ (at most 100)", name)
	}
	dir := filepath.Join(project, embeddedserver.MigrationsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	next, err := migrate.NextVersion(dir)
	if err != nil {
		return err
	}
	for _, dir2 := range []string{"up", "down"} {
		path := filepath.Join(dir, fmt.Sprintf("%04d_%s.%s.sql", next, name, dir2))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		fmt.Fprintf(f, "-- %s migration %04d_%s\n", dir2, next, name)
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, path)
	}
	return nil
}
