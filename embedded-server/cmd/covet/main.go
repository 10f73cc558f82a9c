// Command covet is Covet's headless server and tool: it serves a project
// without the desktop app, and serves the studio UI to a browser.
//
//	covet serve [--project DIR] [--listen ADDR] [--studio]
//	covet bench --url URL [--connections N | --rate R] [--duration D] [--json]
//	covet bench list|compare|rename|delete …
//	covet version
//
// Later commands (migrate, backup, keys) live here too.
//
// The admin token is random per launch unless COVET_ADMIN_TOKEN is set; it
// is written to DIR/covet_data/runtime.json (mode 0600) while serving.
// Signing keys in DIR/covet_data/keys.json are sealed under a key from
// COVET_KEYS_PASSPHRASE when it is set, else from the OS keyring, else from
// a key file beside them (docs/security.md).
// Logs go to standard error: text on a terminal, JSON otherwise. Exit codes:
// 0 success, 1 failure, 2 wrong usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	embeddedserver "github.com/covetpy/covet/embedded-server"
	"golang.org/x/term"
)

// errUsage marks wrong usage; its message has been printed already.
var errUsage = errors.New("usage")

// subcommand starts "covet NAME SUB …": without SUB, or for help, it
// prints usage and returns "" (and errUsage without SUB); otherwise SUB and
// a flag set with --project and --json.
func subcommand(name, usage string, args []string, stderr io.Writer) (sub string, fs *flag.FlagSet, project *string, asJSON *bool, err error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return "", nil, nil, nil, errUsage
		}
		return "", nil, nil, nil, nil
	}
	fs = flag.NewFlagSet("covet "+name+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	project = fs.String("project", ".", "project `folder`")
	asJSON = fs.Bool("json", false, "print JSON")
	return args[0], fs, project, asJSON, nil
}

// parseAround parses fs's flags wherever they stand among the positional
// arguments, which it returns in order. The error is flag.ErrHelp for -h,
// else errUsage (fs has printed why).
func parseAround(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// ignoreHelp turns -h, whose usage is printed already, into success.
func ignoreHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Covet: a Go web framework with a desktop studio.

Usage:
  covet serve [--project DIR] [--listen ADDR] [--studio]   serve a project
  covet bench --url URL [flags]                           run a load test (loopback only)
  covet bench list|compare|rename|delete …                stored load tests
  covet migrate status|up|down|to|redo|force|new …         schema migrations
  covet backup create|list|verify|restore|delete|prune …  backups of the database
  covet version                                           print the version

Run "covet serve -h", "covet bench -h", "covet migrate -h" or "covet backup -h" for their flags.
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stdout, stderr)
	case "bench":
		err = bench(args[1:], stdout, stderr)
	case "migrate":
		err = migrateCmd(args[1:], stdout, stderr)
	case "backup":
		err = backupCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "covet %s %s %s/%s\n", embeddedserver.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "covet: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "covet: %v\n", err)
		return 1
	}
}

// insistAfter is how long after the first SIGINT or SIGTERM another one
// kills the server at once. A signal sooner is the same request again:
// make, sent SIGTERM with its process group, sends its children another.
const insistAfter = time.Second

// stopOnSignal returns a context that ends at the first SIGINT or SIGTERM;
// one more, insistAfter or later, exits at once (status 1). stop releases
// the signals.
func stopOnSignal(log *slog.Logger) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first time.Time
		for {
			select {
			case <-done:
				return
			case s := <-sig:
				switch {
				case first.IsZero():
					first = time.Now()
					cancel()
				case time.Since(first) >= insistAfter:
					log.Warn("a second signal: stopping at once", "signal", s.String())
					os.Exit(1)
				}
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(done)
		cancel()
	}
}

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("covet serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	project := fs.String("project", ".", "project `folder` (created with defaults when missing)")
	listen := fs.String("listen", "", "listen `address` host:port, overriding covet.json (port 0 picks a free one)")
	studio := fs.Bool("studio", false, "serve the studio UI at /_covet/ and print a one-time login URL")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: covet serve [flags]\n\nServes a Covet project until interrupted (SIGINT or SIGTERM).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "covet serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}

	log, closeLog := newLogger(stderr)
	defer closeLog()
	token := os.Getenv("COVET_ADMIN_TOKEN")
	if token != "" && len(token) < 32 {
		log.Warn("COVET_ADMIN_TOKEN is shorter than 32 characters; use a long random token outside tests")
	}
	srv, err := embeddedserver.New(embeddedserver.Config{
		Project: *project, Listen: *listen, AdminToken: token, Studio: *studio, Logger: log,
		KeysPassphrase: os.Getenv("COVET_KEYS_PASSPHRASE"),
	})
	if err != nil {
		return err
	}
	ctx, stop := stopOnSignal(log)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	info := srv.Info()
	fmt.Fprintf(stdout, "Covet %s serving %s\n  project: %s\n", info.Version, info.URL, info.Project)
	if *studio {
		login, err := srv.LoginURL()
		if err != nil {
			srv.Shutdown(context.Background())
			return err
		}
		fmt.Fprintf(stdout, "  studio:  %s\n           (a one-time sign-in link, valid for 10 minutes)\n", login)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight requests")
	case <-srv.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := errors.Join(srv.Err(), srv.Shutdown(shutdownCtx)); err != nil {
		return err
	}
	return nil
}

// newLogger logs text to a terminal, line by line, and JSON anywhere
// else, batched: an access line per request would otherwise cost a
// write(2) per request (docs/BENCHMARKS.md, logbuf). Warnings and errors
// are written at once; close writes what is held.
func newLogger(w io.Writer) (log *slog.Logger, close func()) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(w, nil)), func() {}
	}
	return embeddedserver.BatchedLogger(w, true)
}
