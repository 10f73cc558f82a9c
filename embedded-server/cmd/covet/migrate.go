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
	ms, err := embeddedserver.OpenMigrations(ctx, *project)
	if err != nil {
		return err
	}
	defer ms.Close()
	switch cmd {
	case "status":
		st, err := ms.Status(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, st)
		}
		printStatus(stdout, st, ms.Dir)
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

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printStatus(w io.Writer, st *migrate.Status, dir string) {
	fmt.Fprintf(w, "Database: %s, history in %s; migrations in %s\n", st.Dialect, st.Table, dir)
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
func generateMigration(ctx context.Context, ms *embeddedserver.Migrations, name string, dryRun bool, stdout io.Writer) error {
	d, err := ms.Generate(ctx)
	if err != nil {
		return err
	}
	for _, n := range d.Notes {
		fmt.Fprintf(stdout, "-- note: %s\n", n)
	}
	if d.Empty() {
		fmt.Fprintln(stdout, "The database already has every table and column of covet.json's resources: nothing to generate.")
		return nil
	}
	if dryRun {
		fmt.Fprintf(stdout, "-- up\n%s;\n-- down\n%s;\n", strings.Join(d.Up, ";\n"), strings.Join(d.Down, ";\n"))
		return nil
	}
	up, down, err := d.Write(ms.Dir, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n%s\nReview them, then apply with covet migrate up.\n", up, down)
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
