package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/loadgen/report"
	"github.com/covetpy/covet/backend/loadgen/runstore"
	embeddedserver "github.com/covetpy/covet/embedded-server"
	"golang.org/x/term"
)

const benchUsage = `Usage:
  covet bench --url URL [flags]               run a load test
  covet bench list [--project DIR] [--json]   list stored runs
  covet bench compare A B [--project DIR] [--json]
                                              compare two stored runs (B against A)
  covet bench rename ID NAME [--project DIR]
  covet bench delete ID [--project DIR]

Run "covet bench -h" for the flags of a load test.
`

// bench runs `covet bench …`.
func bench(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "list", "compare", "rename", "delete":
			return benchRuns(args[0], args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("covet bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var spec loadgen.Spec
	var headers, params, allow multiFlag
	fs.StringVar(&spec.URL, "url", "", "target `URL`; {name} segments are filled from --param (required)")
	fs.StringVar(&spec.Method, "method", "GET", "HTTP `method`")
	fs.Var(&headers, "header", "request header `'Name: value'` (repeatable)")
	fs.StringVar(&spec.Body, "body", "", "request `body`")
	bodyFile := fs.String("body-file", "", "read the request body from `FILE`")
	fs.Var(&params, "param", "fill {name}: `name=v1,v2,…` in turn, or name=MIN..MAX at random (repeatable)")
	fs.IntVar(&spec.Connections, "connections", loadgen.DefaultConnections, "closed model: `N` virtual users, each with its own connection; open model: most requests in flight")
	fs.Float64Var(&spec.Rate, "rate", 0, "open model: send `R` requests per second whatever the latency (coordinated omission corrected)")
	ramp := fs.String("ramp", "", "open model: rate stages after the warm-up, `RATE:DURATION,…` (e.g. 1000:10s,5000:30s)")
	think := fs.Duration("think", 0, "closed model: pause between a user's requests")
	duration := fs.Duration("duration", 10*time.Second, "how long to measure")
	warmup := fs.Duration("warmup", 2*time.Second, "load sent first and left out of the results")
	timeout := fs.Duration("timeout", loadgen.DefaultTimeout, "bound on one request")
	fs.Uint64Var(&spec.MaxRequests, "max-requests", loadgen.DefaultMaxRequests, "stop after `N` measured requests")
	fs.BoolVar(&spec.HTTP2, "http2", false, "speak HTTP/2 (h2c for http:// URLs)")
	fs.Var(&allow, "allow-host", "let the test target `HOST` although it is not this machine (repeatable)")
	fs.StringVar(&spec.Name, "name", "", "a `name` for the stored run")
	asJSON := fs.Bool("json", false, "print the result as one JSON object instead of the summary")
	csvFile := fs.String("csv", "", "also write the per-second series to `FILE` as CSV")
	htmlFile := fs.String("html", "", "also write a self-contained HTML report to `FILE`")
	save := fs.Bool("save", false, "store the run in the project's covet_data/studio.db (the studio's Benchmarks page lists it)")
	project := fs.String("project", ".", "project `folder` for --save")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: covet bench --url URL [flags]\n\nSends HTTP load to URL and reports throughput and latency (HDR histograms).\nOnly loopback addresses are targeted unless --allow-host names the host.\nA progress line is printed to standard error every second.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, "\n"+benchUsage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "covet bench: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if spec.URL == "" {
		fmt.Fprintln(stderr, "covet bench: --url is required (example: --url http://127.0.0.1:8080/hello)")
		return errUsage
	}
	spec.Duration, spec.Warmup, spec.Timeout, spec.ThinkTime = loadgen.Duration(*duration), loadgen.Duration(*warmup), loadgen.Duration(*timeout), loadgen.Duration(*think)
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("--header %q: want 'Name: value'", h)
		}
		spec.Headers = append(spec.Headers, loadgen.Header{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	for _, p := range params {
		param, err := parseParam(p)
		if err != nil {
			return err
		}
		spec.Params = append(spec.Params, param)
	}
	if *ramp != "" {
		stages, err := parseRamp(*ramp)
		if err != nil {
			return err
		}
		spec.Ramp = stages
	}
	if *bodyFile != "" {
		if spec.Body != "" {
			return errors.New("--body and --body-file: give one")
		}
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			return fmt.Errorf("--body-file: %w", err)
		}
		spec.Body = string(b)
	}
	var store *runstore.Store
	if *save {
		if err := os.MkdirAll(filepath.Join(*project, embeddedserver.DataDir), 0o700); err != nil {
			return fmt.Errorf("--save: %w", err)
		}
		st, err := runstore.Open(filepath.Join(*project, embeddedserver.DataDir, embeddedserver.StudioDB))
		if err != nil {
			return fmt.Errorf("--save: %w", err)
		}
		defer st.Close()
		store = st
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	spec = spec.WithDefaults()
	sc, err := loadgen.NewHTTP(ctx, spec, loadgen.HTTPOptions{AllowHosts: allow})
	if err != nil {
		if errors.Is(err, loadgen.ErrNotLoopback) {
			err = fmt.Errorf("%w (pass --allow-host to allow it)", err)
		}
		return err
	}
	started := time.Now().UTC()
	res, err := loadgen.Run(ctx, spec, sc, progressPrinter(stderr, spec))
	if err != nil {
		return err
	}
	ended := time.Now().UTC()
	run := &runstore.Run{ID: runstore.NewID(), Name: spec.Name, Status: runstore.Completed, Source: "cli", Spec: spec,
		StartedAt: started, EndedAt: &ended, Version: embeddedserver.Version, Result: res}
	if res.Stopped == loadgen.StoppedCancelled {
		run.Status = runstore.Cancelled
	}
	if store != nil {
		if err := store.Save(context.Background(), run); err != nil {
			return err
		}
	}
	for _, out := range []struct {
		file  string
		write func(io.Writer, *runstore.Run) error
	}{{*csvFile, report.CSV}, {*htmlFile, report.HTML}} {
		if out.file != "" {
			if err := writeFile(out.file, run, out.write); err != nil {
				return err
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	printSummary(stdout, sc.Describe(), spec, res)
	if store != nil {
		fmt.Fprintf(stdout, "Stored as run %s in %s\n", run.ID, filepath.Join(*project, embeddedserver.DataDir, embeddedserver.StudioDB))
	}
	return nil
}

// progressPrinter prints one line per second: rewritten in place on a
// terminal, appended otherwise.
func progressPrinter(w io.Writer, spec loadgen.Spec) func(loadgen.Progress) {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return func(p loadgen.Progress) {
		phase := fmt.Sprintf("%5.0fs", p.Second.T)
		if p.Warmup {
			phase = "warm-up"
		}
		line := fmt.Sprintf("  %s  %8d req/s  p50 %s  p99 %s  errors %d", phase, p.Second.Requests,
			fmtMs(p.Second.Latency.P50), fmtMs(p.Second.Latency.P99), p.Second.Errors)
		if spec.Open() && p.Backlog > 0 {
			line += fmt.Sprintf("  backlog %d", p.Backlog)
		}
		if tty {
			fmt.Fprintf(w, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(w, line)
		}
	}
}

// printSummary prints a result the way wrk's summary reads.
func printSummary(w io.Writer, target string, spec loadgen.Spec, r *loadgen.Result) {
	model := fmt.Sprintf("closed model, %d connections", spec.Connections)
	if spec.Open() {
		model = fmt.Sprintf("open model, %g req/s target (achieved %.2f), at most %d in flight", spec.Rate, r.RPS, spec.Connections)
	}
	fmt.Fprintf(w, "\nRunning %s test @ %s\n  %s, %s warm-up\n", spec.Duration.Std(), target, model, spec.Warmup.Std())
	l := r.Latency
	fmt.Fprintf(w, "  Latency  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s)\n",
		fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P99), fmtMs(l.P999), fmtMs(l.Max), fmtMs(l.Mean))
	if c := r.LatencyCorrected; c != nil {
		fmt.Fprintf(w, "  Corrected for coordinated omission, as wrk reports it:  p50 %s  p90 %s  p99 %s  p99.9 %s\n",
			fmtMs(c.P50), fmtMs(c.P90), fmtMs(c.P99), fmtMs(c.P999))
	}
	fmt.Fprintf(w, "  %d requests in %.2fs, %s read\n", r.Requests, r.DurationSeconds, fmtBytes(r.Bytes))
	if r.Errors > 0 {
		fmt.Fprintf(w, "  Errors: %d (%.3f%%)", r.Errors, r.ErrorRate())
		for _, k := range []string{"4xx", "5xx", "timeout", "refused", "reset", "closed", "protocol", "other"} {
			if n := r.ErrorKinds[k]; n > 0 {
				fmt.Fprintf(w, " %s %d", k, n)
			}
		}
		fmt.Fprintln(w)
	}
	if r.Stopped != loadgen.StoppedDuration {
		fmt.Fprintf(w, "  Stopped early: %s\n", r.Stopped)
	}
	fmt.Fprintf(w, "Requests/sec: %.2f\nTransfer/sec: %s\n", r.RPS, fmtBytes(uint64(r.Throughput()*1024)))
}

func fmtMs(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) + "ms" }

func fmtBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fGB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fMB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fKB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// writeFile writes a report atomically enough for a CLI: to a temporary
// file renamed into place.
func writeFile(path string, run *runstore.Run, write func(io.Writer, *runstore.Run) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".covet-report-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := write(f, run); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// parseParam reads --param name=v1,v2 or name=MIN..MAX.
func parseParam(s string) (loadgen.Param, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" || value == "" {
		return loadgen.Param{}, fmt.Errorf("--param %q: want name=v1,v2,… or name=MIN..MAX", s)
	}
	if lo, hi, ok := strings.Cut(value, ".."); ok {
		min, err1 := strconv.ParseInt(lo, 10, 64)
		max, err2 := strconv.ParseInt(hi, 10, 64)
		if err1 != nil || err2 != nil {
			return loadgen.Param{}, fmt.Errorf("--param %q: MIN..MAX must be integers", s)
		}
		return loadgen.Param{Name: name, Min: min, Max: max}, nil
	}
	return loadgen.Param{Name: name, Values: strings.Split(value, ",")}, nil
}

// parseRamp reads --ramp RATE:DURATION,….
func parseRamp(s string) ([]loadgen.Stage, error) {
	var out []loadgen.Stage
	for _, part := range strings.Split(s, ",") {
		r, d, ok := strings.Cut(part, ":")
		rate, err1 := strconv.ParseFloat(r, 64)
		dur, err2 := time.ParseDuration(d)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("--ramp %q: stage %q is not RATE:DURATION (e.g. 1000:10s)", s, part)
		}
		out = append(out, loadgen.Stage{Rate: rate, Duration: loadgen.Duration(dur)})
	}
	return out, nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// benchRuns runs list, compare, rename and delete on a project's runs.
func benchRuns(cmd string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("covet bench "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	project := fs.String("project", ".", "project `folder`")
	asJSON := fs.Bool("json", false, "print JSON")
	want := map[string]int{"list": 0, "compare": 2, "rename": 2, "delete": 1}[cmd]
	pos, err := parseAround(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, benchUsage)
		return nil
	} else if err != nil {
		return errUsage
	}
	if len(pos) != want {
		fmt.Fprintf(stderr, "covet bench %s: want %d argument(s), got %d\n\n%s", cmd, want, len(pos), benchUsage)
		return errUsage
	}
	path := filepath.Join(*project, embeddedserver.DataDir, embeddedserver.StudioDB)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no stored runs in %s: %w", *project, err)
	}
	st, err := runstore.Open(path)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	switch cmd {
	case "list":
		list, err := st.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(list)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTARTED\tSTATUS\tTARGET\tREQ/S\tP99\tERRORS\tNAME")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%.2f\t%s\t%d\t%s\n", s.ID, s.StartedAt.Local().Format("2006-01-02 15:04:05"),
				s.Status, s.Method, s.URL, s.RPS, fmtMs(s.P99), s.Errors, s.Name)
		}
		return tw.Flush()
	case "rename":
		_, err := st.Rename(ctx, pos[0], pos[1])
		return err
	case "delete":
		return st.Delete(ctx, pos[0])
	}
	var runs [2]*runstore.Run
	for i, id := range pos {
		if runs[i], err = st.Get(ctx, id); err != nil {
			return err
		}
		if runs[i].Result == nil {
			return fmt.Errorf("run %s has no result to compare: it is %s", id, runs[i].Status)
		}
	}
	c := loadgen.Compare(runs[0].Result, runs[1].Result)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			A    runstore.Summary        `json:"a"`
			B    runstore.Summary        `json:"b"`
			Rows []loadgen.ComparisonRow `json:"rows"`
		}{runs[0].Summarize(), runs[1].Summarize(), c.Rows})
	}
	fmt.Fprintf(stdout, "A: %s %s %s\nB: %s %s %s\n\n", runs[0].ID, runs[0].Spec.URL, runs[0].Name, runs[1].ID, runs[1].Spec.URL, runs[1].Name)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "METRIC\tA\tB\tB÷A\t")
	for _, r := range c.Rows {
		ratio := "—"
		if r.Ratio != nil {
			ratio = strconv.FormatFloat(*r.Ratio, 'f', 3, 64) + "×"
		}
		unit := ""
		if r.Unit != "" {
			unit = " " + r.Unit
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t\n", r.Label, unit, strconv.FormatFloat(r.A, 'f', -1, 64), strconv.FormatFloat(r.B, 'f', -1, 64), ratio)
	}
	return tw.Flush()
}
