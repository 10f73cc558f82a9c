// Package report exports a stored load-test run: its per-second series as
// CSV, and the whole run as one self-contained HTML page (inline CSS and
// SVG charts, no script, nothing fetched from anywhere) that can be mailed
// or attached to a ticket.
//
//	run, err := store.Get(ctx, id) // a *runstore.Run
//	if err != nil { … }
//	f, err := os.Create("run.html")
//	if err != nil { … }
//	defer f.Close()
//	if err := report.HTML(f, run); err != nil { … }
//	err = report.CSV(csvFile, run)
//
// Every number shown is the run's own (percentiles are never recomputed);
// CSV prints them exactly as the JSON does, HTML with fixed decimals.
package report

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/loadgen/runstore"
	"github.com/covetpy/covet/backend/metrics"
)

// csvHeader names the CSV columns of a second; signalsHeader follows when
// the run has server signals. Read only.
var csvHeader = []string{
	"t", "requests", "errors", "bytes",
	"latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms", "latency_p999_ms", "latency_max_ms", "latency_mean_ms",
	"target_rate",
}

// signalsHeader names the CSV columns of a second's server signals.
// Read only.
var signalsHeader = []string{
	"server_requests", "server_errors", "rate_limited", "queries", "slow_queries", "queries_per_request",
	"heap_bytes", "gc_cycles", "gc_pause_ms", "goroutines",
}

// CSV writes run's series: a header row, then a row per measured second.
// The server signals' columns are there when the run has signals, and
// empty for a second without any. A run without a result gets the header
// only. Numbers are printed as in the run's JSON.
func CSV(w io.Writer, run *runstore.Run) error {
	if run == nil {
		return errors.New("writing csv report: no run")
	}
	withSignals := len(run.Signals) > 0
	header := csvHeader
	if withSignals {
		header = slices.Concat(csvHeader, signalsHeader)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(header) // errors stick; Error reports them below
	var series []loadgen.Second
	if run.Result != nil {
		series = run.Result.Series
	}
	row := make([]string, 0, len(header))
	for i, s := range series {
		l := s.Latency
		row = append(row[:0],
			exact(s.T), unsigned(s.Requests), unsigned(s.Errors), unsigned(s.Bytes),
			exact(l.P50), exact(l.P90), exact(l.P95), exact(l.P99), exact(l.P999), exact(l.Max), exact(l.Mean),
			exact(s.TargetRate))
		switch {
		case i < len(run.Signals):
			g := run.Signals[i]
			row = append(row,
				unsigned(g.Requests), unsigned(g.Errors), unsigned(g.RateLimited), unsigned(g.Queries),
				unsigned(g.SlowQueries), exact(g.QueriesPerRequest), unsigned(g.HeapBytes), unsigned(g.GCCycles),
				exact(g.GCPauseMs), unsigned(g.Goroutines))
		case withSignals:
			row = append(row, make([]string, len(signalsHeader))...)
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing csv report: %w", err)
	}
	return nil
}

func exact(v float64) string        { return strconv.FormatFloat(v, 'f', -1, 64) }
func unsigned(v uint64) string      { return strconv.FormatUint(v, 10) }
func fixed(v float64, d int) string { return strconv.FormatFloat(v, 'f', d, 64) }

// HTML writes run as a self-contained HTML page: spec, status, provenance,
// summary, charts over time, latency histogram and the per-second table.
// A run without a result (a failed one) gets what is known of it.
func HTML(w io.Writer, run *runstore.Run) error {
	if run == nil {
		return errors.New("writing html report: no run")
	}
	if err := reportTemplate.Execute(w, newPage(run)); err != nil {
		return fmt.Errorf("writing html report: %w", err)
	}
	return nil
}

// page is what the template shows; every string is escaped by it.
type page struct {
	Title      string
	Status     string
	Stopped    string
	Error      string
	Spec       []field
	Headers    []loadgen.Header
	Body       string
	BodyNote   string
	Ran        []field
	HasResult  bool
	Totals     []field
	Latency    []field
	Classes    []field
	ErrorKinds []field
	Charts     []chart
	ChartNote  string
	Histogram  *chart
	Table      *table
}

type field struct{ Label, Value string }

type table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// maxBodyShown bounds the request body shown.
const maxBodyShown = 4 << 10

func newPage(run *runstore.Run) *page {
	spec := run.Spec.WithDefaults()
	name := cmp.Or(run.Name, spec.Name, spec.Method+" "+spec.URL)
	p := &page{Title: "Covet load test: " + name, Status: run.Status, Error: run.Error}
	p.Spec = specFields(&spec)
	for _, h := range spec.Headers {
		if sensitiveHeader(h.Name) {
			h.Value = "(redacted)"
		}
		p.Headers = append(p.Headers, h)
	}
	if b := spec.Body; b != "" {
		if len(b) > maxBodyShown {
			cut := maxBodyShown
			for cut > 0 && !utf8.RuneStart(b[cut]) {
				cut--
			}
			p.BodyNote = fmt.Sprintf("first %s of %s bytes", count(uint64(cut)), count(uint64(len(b))))
			b = b[:cut]
		}
		p.Body = strings.ToValidUTF8(b, "\uFFFD")
	}
	ended := "—"
	if run.EndedAt != nil {
		ended = stamp(*run.EndedAt)
	}
	p.Ran = []field{
		{"Run", run.ID},
		{"Started by", run.Source},
		{"Server version", cmp.Or(run.Version, "—")},
		{"Config hash", cmp.Or(run.ConfigHash, "—")},
		{"Started", stamp(run.StartedAt)},
		{"Ended", ended},
	}
	res := run.Result
	if res == nil {
		return p
	}
	p.HasResult = true
	p.Stopped = stopReason(res.Stopped)
	p.Totals = []field{
		{"Requests", count(res.Requests)},
		{"Measured", fixed(res.DurationSeconds, 3) + " s"},
		{"Requests per second", fixed(res.RPS, 2)},
	}
	if res.TargetRate > 0 {
		p.Totals = append(p.Totals, field{"Target rate", fixed(res.TargetRate, 2) + " req/s"})
	}
	p.Totals = append(p.Totals,
		field{"Errors", count(res.Errors) + " (" + fixed(res.ErrorRate(), 3) + " %)"},
		field{"Bytes read", count(res.Bytes) + " (" + fixed(float64(res.Bytes)/(1<<20), 2) + " MiB)"},
		field{"Throughput", fixed(res.Throughput(), 2) + " KiB/s"},
	)
	l := res.Latency
	p.Latency = []field{
		{"min", ms(l.Min)}, {"mean", ms(l.Mean)}, {"p50", ms(l.P50)}, {"p90", ms(l.P90)},
		{"p95", ms(l.P95)}, {"p99", ms(l.P99)}, {"p99.9", ms(l.P999)}, {"max", ms(l.Max)},
	}
	p.Classes = counts(res.Status)
	p.ErrorKinds = counts(res.ErrorKinds)
	if len(res.Histogram) > 0 {
		h := histogramChart("Latency histogram (requests per bucket; ms, log scale)", res.Histogram)
		p.Histogram = &h
	}
	if len(res.Series) > 0 {
		p.Charts = timeCharts(res.Series, run.Signals)
		if len(res.Series) > 2*maxBuckets {
			p.ChartNote = fmt.Sprintf("The charts draw each of %d intervals' lowest and highest values; the table below has every second.", maxBuckets)
		}
		p.Table = secondsTable(res.Series, run.Signals)
	}
	return p
}

func specFields(s *loadgen.Spec) []field {
	f := []field{{"Method", s.Method}, {"URL", s.URL}}
	if s.Open() {
		model := fmt.Sprintf("open: %s req/s, at most %d requests in flight", exact(s.Rate), s.Connections)
		for _, st := range s.Ramp {
			model += fmt.Sprintf(", then to %s req/s over %v", exact(st.Rate), st.Duration.Std())
		}
		f = append(f, field{"Model", model})
	} else {
		model := fmt.Sprintf("closed: %d virtual users", s.Connections)
		if s.ThinkTime > 0 {
			model += fmt.Sprintf(", thinking %v between requests", s.ThinkTime.Std())
		}
		f = append(f, field{"Model", model})
	}
	f = append(f,
		field{"Duration", s.Duration.Std().String()},
		field{"Warm-up", s.Warmup.Std().String()},
		field{"Timeout", s.Timeout.Std().String()},
		field{"Max requests", count(s.MaxRequests)},
	)
	if s.HTTP2 {
		f = append(f, field{"Protocol", "HTTP/2"})
	}
	for _, pr := range s.Params {
		v := fmt.Sprintf("%d values in turn", len(pr.Values))
		if len(pr.Values) == 0 {
			v = fmt.Sprintf("random integer from %d to %d", pr.Min, pr.Max)
		}
		f = append(f, field{"{" + pr.Name + "}", v})
	}
	if a := s.Auth; a != nil {
		v := "bearer token per virtual user, subject " + a.Subject
		if len(a.Roles) > 0 {
			v += ", roles " + strings.Join(a.Roles, ", ")
		}
		if a.Scope != "" {
			v += ", scope " + a.Scope
		}
		if a.Kid != "" {
			v += ", key " + a.Kid
		}
		f = append(f, field{"Auth", v})
	}
	return f
}

// sensitiveHeader reports whether a header's value is a credential, kept
// out of reports.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	for _, s := range []string{"token", "secret", "password", "api-key", "apikey"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func stopReason(s string) string {
	switch s {
	case loadgen.StoppedDuration:
		return "ran for its duration"
	case loadgen.StoppedMaxRequests:
		return "reached its maximum number of requests"
	case loadgen.StoppedCancelled:
		return "cancelled"
	}
	return s
}

// counts lists a map's counts by key.
func counts(m map[string]uint64) []field {
	var f []field
	for _, k := range slices.Sorted(maps.Keys(m)) {
		f = append(f, field{k, count(m[k])})
	}
	return f
}

// timeCharts draws the series (and the signals aligned with them) over one
// time axis.
func timeCharts(series []loadgen.Second, signals []metrics.Signals) []chart {
	n := len(series)
	xs := make([]float64, n)
	reqs, errs, target := make([]float64, n), make([]float64, n), make([]float64, n)
	p50, p95, p99 := make([]float64, n), make([]float64, n), make([]float64, n)
	open := false
	prev := 0.0
	for i, s := range series {
		xs[i] = s.T
		// A second can be shorter (the last one): show its rate.
		d := s.T - prev
		if !(d > 0 && d < 1) {
			d = 1
		}
		prev = s.T
		reqs[i], errs[i] = float64(s.Requests)/d, float64(s.Errors)/d
		target[i] = s.TargetRate
		open = open || s.TargetRate > 0
		p50[i], p95[i], p99[i] = s.Latency.P50, s.Latency.P95, s.Latency.P99
	}
	xmax := slices.Max(xs)
	rate := []line{{"requests/s", blue, reqs}, {"errors/s", red, errs}}
	if open {
		rate = append(rate, line{"target/s", grey, target})
	}
	charts := []chart{
		lineChart("Requests per second", xs, xmax, rate),
		lineChart("Latency (ms)", xs, xmax, []line{{"p50", green, p50}, {"p95", orange, p95}, {"p99", red, p99}}),
	}
	m := min(len(signals), n)
	if m == 0 {
		return charts
	}
	qpr, heap, pause, gor, limited := make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m)
	for i, g := range signals[:m] {
		qpr[i], heap[i], pause[i] = g.QueriesPerRequest, float64(g.HeapBytes)/(1<<20), g.GCPauseMs
		gor[i], limited[i] = float64(g.Goroutines), float64(g.RateLimited)
	}
	return append(charts,
		lineChart("Server: queries per request", xs[:m], xmax, []line{{"queries/request", purple, qpr}}),
		lineChart("Server: heap in use (MiB)", xs[:m], xmax, []line{{"heap MiB", blue, heap}}),
		lineChart("Server: GC pause (ms per second)", xs[:m], xmax, []line{{"GC pause ms", orange, pause}}),
		lineChart("Server: goroutines", xs[:m], xmax, []line{{"goroutines", green, gor}}),
		lineChart("Server: rate-limited answers (429 per second)", xs[:m], xmax, []line{{"429/s", red, limited}}),
	)
}

// secondsTable lists every second, with its signals when there are any.
func secondsTable(series []loadgen.Second, signals []metrics.Signals) *table {
	t := &table{Head: []string{"t (s)", "requests", "errors", "bytes", "p50", "p90", "p95", "p99", "p99.9", "max", "mean", "target/s"}}
	if len(signals) > 0 {
		t.Head = append(t.Head, "server requests", "server errors", "429", "queries", "slow queries", "queries/request",
			"heap MiB", "GC cycles", "GC pause ms", "goroutines")
	}
	t.Rows = make([][]string, len(series))
	t.Caption = fmt.Sprintf("Every second: %s rows, latency in ms", count(uint64(len(series))))
	if len(series) == 1 {
		t.Caption = "Every second: 1 row, latency in ms"
	}
	for i, s := range series {
		l := s.Latency
		row := []string{exact(s.T), count(s.Requests), count(s.Errors), count(s.Bytes),
			ms(l.P50), ms(l.P90), ms(l.P95), ms(l.P99), ms(l.P999), ms(l.Max), ms(l.Mean), fixed(s.TargetRate, 0)}
		switch {
		case i < len(signals):
			g := signals[i]
			row = append(row, count(g.Requests), count(g.Errors), count(g.RateLimited), count(g.Queries), count(g.SlowQueries),
				fixed(g.QueriesPerRequest, 2), fixed(float64(g.HeapBytes)/(1<<20), 1), count(g.GCCycles), ms(g.GCPauseMs), count(g.Goroutines))
		case len(signals) > 0:
			row = append(row, make([]string, 10)...)
		}
		t.Rows[i] = row
	}
	return t
}

// stamp formats a time, or a dash for none.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format(time.RFC3339)
}

// ms formats milliseconds to the microsecond results are rounded to.
func ms(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fixed(v, 3)
}

// count formats a count with thousands separators.
func count(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// reportTemplate renders a page. Read only.
var reportTemplate = template.Must(template.New("report").Parse(pageTemplate))

const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; margin: 2rem auto; max-width: 980px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #e5e7eb; padding-bottom: .25rem; }
.status { color: #4b5563; margin: 0 0 1rem; }
.error { background: #fef2f2; border: 1px solid #fecaca; color: #991b1b; padding: .5rem .75rem; border-radius: 4px; white-space: pre-wrap; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 2rem; }
table { border-collapse: collapse; }
th, td { padding: .15rem .6rem .15rem 0; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
table.kv th { font-weight: 500; color: #4b5563; white-space: nowrap; }
table.num td, table.num th { text-align: right; padding: .15rem .5rem; font-variant-numeric: tabular-nums; }
table.seconds { font-size: 12px; }
table.seconds tr:nth-child(even) td { background: #f9fafb; }
table.seconds th { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #d1d5db; }
pre { background: #f3f4f6; padding: .5rem; overflow: auto; max-height: 20rem; white-space: pre-wrap; overflow-wrap: anywhere; }
figure { margin: 1rem 0; }
figcaption { font-weight: 600; margin-bottom: .25rem; }
svg { width: 100%; height: auto; display: block; }
svg text { font-size: 11px; fill: #4b5563; }
svg .frame { fill: none; stroke: #9ca3af; }
svg .gridline { stroke: #e5e7eb; }
.note { color: #6b7280; font-size: 12px; }
@media (max-width: 700px) { .grid { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="status">Status: <strong>{{.Status}}</strong>{{with .Stopped}} — {{.}}{{end}}</p>
{{with .Error}}<p class="error">{{.}}</p>{{end}}
<div class="grid">
<section>
<h2>Load</h2>
<table class="kv">{{range .Spec}}<tr><th>{{.Label}}</th><td>{{.Value}}</td></tr>{{end}}</table>
</section>
<section>
<h2>Run</h2>
<table class="kv">{{range .Ran}}<tr><th>{{.Label}}</th><td>{{.Value}}</td></tr>{{end}}</table>
</section>
</div>
{{with .Headers}}<h2>Request headers</h2>
<table class="kv">{{range .}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
{{with .Body}}<h2>Request body</h2>
{{with $.BodyNote}}<p class="note">{{.}}</p>{{end}}<pre>{{.}}</pre>{{end}}
{{if .HasResult}}
<h2>Summary</h2>
<div class="grid">
<table class="kv">{{range .Totals}}<tr><th>{{.Label}}</th><td>{{.Value}}</td></tr>{{end}}</table>
<div>
<table class="kv">
<tr><th>Status classes</th><td>{{range $i, $f := .Classes}}{{if $i}}, {{end}}{{$f.Label}}: {{$f.Value}}{{else}}none{{end}}</td></tr>
<tr><th>Error kinds</th><td>{{range $i, $f := .ErrorKinds}}{{if $i}}, {{end}}{{$f.Label}}: {{$f.Value}}{{else}}none{{end}}</td></tr>
</table>
</div>
</div>
<h3>Latency (ms)</h3>
<table class="num" id="latency"><tr>{{range .Latency}}<th>{{.Label}}</th>{{end}}</tr><tr>{{range .Latency}}<td>{{.Value}}</td>{{end}}</tr></table>
{{if .Charts}}<h2>Over time</h2>
{{range .Charts}}{{template "chart" .}}{{end}}
{{with .ChartNote}}<p class="note">{{.}}</p>{{end}}
{{else}}<p class="note">No second was measured.</p>{{end}}
{{with .Histogram}}<h2>Latency distribution</h2>
{{template "chart" .}}{{end}}
{{with .Table}}<details>
<summary>{{.Caption}}</summary>
<table class="num seconds"><thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>
</details>{{end}}
{{else}}<p class="note">This run has no result.</p>{{end}}
<p class="note">Generated by Covet.</p>
</body>
</html>
{{define "chart"}}<figure>
<figcaption>{{.Title}}</figcaption>
<svg viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Title}}">
{{range .YTicks}}<line class="gridline" x1="{{$.X0}}" x2="{{$.X1}}" y1="{{.Y}}" y2="{{.Y}}"/><text x="{{.X}}" y="{{.Y}}" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}{{range .XTicks}}<text x="{{.X}}" y="{{.Y}}" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="#2563eb"><title>{{.Title}}</title></rect>
{{end}}{{range .Lines}}<polyline fill="none" stroke="{{.Color}}" stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round" points="{{.Points}}"/>
{{end}}<rect class="frame" x="{{.X0}}" y="{{.Y0}}" width="{{.Width}}" height="{{.Height}}"/>
{{range .Legend}}<line x1="{{.X}}" x2="{{.TextX}}" y1="12" y2="12" stroke="{{.Color}}" stroke-width="3"/><text x="{{.TextX}}" y="16" dx="4">{{.Label}}</text>
{{end}}</svg>
</figure>
{{end}}`
