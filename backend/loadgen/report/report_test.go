package report_test

import (
	"bytes"
	"encoding/csv"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/loadgen/report"
	"github.com/covetpy/covet/backend/loadgen/runstore"
	"github.com/covetpy/covet/backend/metrics"
)

var update = flag.Bool("update", false, "rewrite testdata/run.csv from this run")

// testRun is a completed open-model run of three seconds, the last one
// short, with server signals for the first two.
func testRun() *runstore.Run {
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	end := start.Add(13 * time.Second)
	lat := func(base float64) loadgen.Latency { // rounded to the microsecond, as a run's are
		r := func(v float64) float64 { return math.Round(v*1000) / 1000 }
		return loadgen.Latency{Min: r(base / 4), Mean: r(base + 0.5), P50: base, P90: r(base * 2), P95: r(base * 3), P99: r(base * 4), P999: r(base * 5), Max: r(base * 6)}
	}
	return &runstore.Run{
		ID: "0123456789abcdef", Name: "checkout under load", Status: runstore.Completed, Source: "studio",
		Spec: loadgen.Spec{
			Method: "POST", URL: "https://shop.test/api/orders/{id}",
			Headers: []loadgen.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "Authorization", Value: "Bearer s3cret-token"}},
			Body:    `{"sku":"A-1","qty":2}`,
			Params:  []loadgen.Param{{Name: "id", Min: 1, Max: 1000}},
			Rate:    100, Ramp: []loadgen.Stage{{Rate: 200, Duration: loadgen.Duration(time.Second)}},
			Duration: loadgen.Duration(2500 * time.Millisecond), Warmup: loadgen.Duration(10 * time.Second),
		},
		StartedAt: start, EndedAt: &end, Version: "1.4.0", ConfigHash: `W/"c0ffee"`,
		Result: &loadgen.Result{
			Requests: 420, RPS: 168, Errors: 3, Bytes: 123456, DurationSeconds: 2.5,
			Latency:    loadgen.Latency{Min: 0.812, Mean: 14.25, P50: 11.5, P90: 30.125, P95: 41.9, P99: 87.654, P999: 120.001, Max: 130.5},
			Status:     map[string]uint64{"2xx": 417, "5xx": 2},
			ErrorKinds: map[string]uint64{"5xx": 2, "timeout": 1},
			TargetRate: 150.4, Stopped: loadgen.StoppedDuration,
			Series: []loadgen.Second{
				{T: 1, Requests: 100, Errors: 0, Bytes: 30000, Latency: lat(10), TargetRate: 100},
				{T: 2, Requests: 200, Errors: 1, Bytes: 60000, Latency: lat(12.125), TargetRate: 200},
				{T: 2.5, Requests: 120, Errors: 2, Bytes: 33456, Latency: lat(0.1), TargetRate: 100},
			},
			Histogram: []loadgen.Bucket{{UpToMs: 1, Count: 5}, {UpToMs: 1.259, Count: 40}, {UpToMs: 1.585, Count: 300}, {UpToMs: 1.995, Count: 70}, {UpToMs: 2.512, Count: 5}},
		},
		Signals: []metrics.Signals{
			{Time: start.Add(11 * time.Second), Requests: 100, RateLimited: 0, Queries: 250, SlowQueries: 1, QueriesPerRequest: 2.5, HeapBytes: 12 << 20, GCCycles: 1, GCPauseMs: 0.125, Goroutines: 64},
			{Time: start.Add(12 * time.Second), Requests: 201, Errors: 1, RateLimited: 7, Queries: 402, QueriesPerRequest: 2, HeapBytes: 14 << 20, GCCycles: 2, GCPauseMs: 0.3, Goroutines: 80},
		},
	}
}

func TestCSVGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := report.CSV(&buf, testRun()); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("testdata", "run.csv")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("CSV differs from %s (go test -update rewrites it):\n got:\n%s\nwant:\n%s", file, got, want)
	}
}

func TestCSV(t *testing.T) {
	noSignals := testRun()
	noSignals.Signals = nil
	failed := testRun()
	failed.Status, failed.Error, failed.Result, failed.Signals = runstore.Failed, "preparing virtual user 0: dial refused", nil, nil
	tests := []struct {
		name    string
		run     *runstore.Run
		rows    int // after the header
		columns int
	}{
		{"with signals", testRun(), 3, 22},
		{"without signals", noSignals, 3, 12},
		{"without result", failed, 0, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.CSV(&buf, tt.run); err != nil {
				t.Fatal(err)
			}
			records, err := csv.NewReader(&buf).ReadAll() // also checks every row has the header's width
			if err != nil {
				t.Fatal(err)
			}
			if got := len(records) - 1; got != tt.rows {
				t.Errorf("rows: got %d, want %d", got, tt.rows)
			}
			if got := len(records[0]); got != tt.columns {
				t.Errorf("columns: got %d, want %d", got, tt.columns)
			}
			col := map[string]int{}
			for i, h := range records[0] {
				col[h] = i
			}
			// The numbers are the result's, to the last digit.
			for i, rec := range records[1:] {
				s := tt.run.Result.Series[i]
				for name, want := range map[string]float64{"t": s.T, "latency_p99_ms": s.Latency.P99, "latency_mean_ms": s.Latency.Mean, "target_rate": s.TargetRate} {
					if got, err := strconv.ParseFloat(rec[col[name]], 64); err != nil || got != want {
						t.Errorf("row %d %s: got %q, want %v", i+1, name, rec[col[name]], want)
					}
				}
			}
		})
	}
	t.Run("nil run", func(t *testing.T) {
		if err := report.CSV(&bytes.Buffer{}, nil); err == nil {
			t.Error("got no error, want one")
		}
	})
}

func TestHTML(t *testing.T) {
	hostile := testRun()
	hostile.Name = `<script>alert(1)</script>`
	hostile.Spec.URL = `https://evil.test/"><img src=x onerror=alert(2)>{id}`
	hostile.Spec.Headers = []loadgen.Header{{Name: "X-Note", Value: `"><svg onload=alert(3)>`}}
	hostile.Spec.Body = `</pre><script src="https://evil.test/x.js"></script>`

	failed := testRun()
	failed.Status, failed.Error, failed.Result, failed.Signals = runstore.Failed, "preparing virtual user 0: <dial refused>", nil, nil

	empty := testRun()
	empty.Status = runstore.Cancelled // with signals but no second
	empty.Result.Series, empty.Result.Histogram, empty.Result.Stopped = []loadgen.Second{}, []loadgen.Bucket{}, loadgen.StoppedCancelled

	single := testRun() // one second, more signals than seconds
	single.Result.Series = single.Result.Series[:1]

	unnamed := testRun()
	unnamed.Name = ""

	hour := testRun()
	hour.Result.Series, hour.Signals = nil, nil
	for i := range 3600 {
		hour.Result.Series = append(hour.Result.Series, loadgen.Second{T: float64(i + 1), Requests: uint64(1000 + i%7), Latency: loadgen.Latency{P50: 1, P95: 2, P99: float64(3 + i%5)}})
		hour.Signals = append(hour.Signals, metrics.Signals{Goroutines: uint64(50 + i%3)})
	}

	tests := []struct {
		name     string
		run      *runstore.Run
		title    string   // the h1's text
		texts    []string // in the page's text
		notTexts []string // nowhere in the raw output
		charts   int      // SVG charts
		rows     int      // rows of the per-second table
	}{
		{
			name:  "completed run",
			run:   testRun(),
			title: "Covet load test: checkout under load",
			texts: []string{"87.654", "120.001", "168.00", "3 (0.714 %)", "2xx: 417", "timeout: 1", "POST", "https://shop.test/api/orders/{id}",
				"open: 100 req/s", "then to 200 req/s over 1s", "ran for its duration", "1.4.0", `W/"c0ffee"`, "2025-03-01T10:00:13Z", `{"sku":"A-1","qty":2}`, "(redacted)"},
			notTexts: []string{"s3cret"},
			charts:   8, // rate, latency, five signals, histogram
			rows:     3,
		},
		{
			name:     "hostile name, URL, header and body",
			run:      hostile,
			title:    "Covet load test: <script>alert(1)</script>",
			texts:    []string{`https://evil.test/"><img src=x onerror=alert(2)>{id}`, `"><svg onload=alert(3)>`, `</pre><script src="https://evil.test/x.js"></script>`},
			notTexts: []string{"<script>alert", "<img src=x", "<svg onload", `<script src=`},
			charts:   8,
			rows:     3,
		},
		{
			name:  "failed run without result",
			run:   failed,
			title: "Covet load test: checkout under load",
			texts: []string{"failed", "preparing virtual user 0: <dial refused>", "This run has no result."},
		},
		{
			name:   "empty series",
			run:    empty,
			title:  "Covet load test: checkout under load",
			texts:  []string{"cancelled", "No second was measured.", "87.654"},
			charts: 0,
		},
		{
			name:   "one second",
			run:    single,
			title:  "Covet load test: checkout under load",
			texts:  []string{"Every second: 1 row,"},
			charts: 8,
			rows:   1,
		},
		{
			name:   "unnamed run",
			run:    unnamed,
			title:  "Covet load test: POST https://shop.test/api/orders/{id}",
			charts: 8,
			rows:   3,
		},
		{
			name:   "one-hour run",
			run:    hour,
			title:  "Covet load test: checkout under load",
			texts:  []string{"intervals' lowest and highest values", "Every second: 3,600 rows"},
			charts: 8,
			rows:   3600,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.HTML(&buf, tt.run); err != nil {
				t.Fatal(err)
			}
			raw := buf.String()
			doc, err := html.Parse(strings.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			checkSelfContained(t, doc)
			if got := text(find(doc, "h1")[0]); got != tt.title {
				t.Errorf("title: got %q, want %q", got, tt.title)
			}
			if got := text(find(doc, "title")[0]); got != tt.title {
				t.Errorf("<title>: got %q, want %q", got, tt.title)
			}
			all := text(doc)
			for _, s := range tt.texts {
				if !strings.Contains(all, s) {
					t.Errorf("the page's text lacks %q", s)
				}
			}
			for _, s := range tt.notTexts {
				if strings.Contains(raw, s) {
					t.Errorf("the page has %q", s)
				}
			}
			if got := len(find(doc, "svg")); got != tt.charts {
				t.Errorf("charts: got %d, want %d", got, tt.charts)
			}
			for _, pl := range find(doc, "polyline") {
				if got := len(strings.Fields(attr(pl, "points"))); got > 900 {
					t.Errorf("a line has %d points, want at most 900", got)
				}
			}
			rows := 0
			for _, tb := range find(doc, "details") {
				rows += len(find(tb, "tr")) - 1 // the header
			}
			if rows != tt.rows {
				t.Errorf("per-second rows: got %d, want %d", rows, tt.rows)
			}
		})
	}
	t.Run("p99 in the latency table", func(t *testing.T) {
		var buf bytes.Buffer
		if err := report.HTML(&buf, testRun()); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(&buf)
		if err != nil {
			t.Fatal(err)
		}
		var lat *html.Node
		for _, tb := range find(doc, "table") {
			if attr(tb, "id") == "latency" {
				lat = tb
			}
		}
		if lat == nil {
			t.Fatal("no latency table")
		}
		heads, cells := find(lat, "th"), find(lat, "td")
		got := map[string]string{}
		for i := range min(len(heads), len(cells)) {
			got[text(heads[i])] = text(cells[i])
		}
		for k, want := range map[string]string{"p50": "11.500", "p99": "87.654", "p99.9": "120.001", "max": "130.500"} {
			if got[k] != want {
				t.Errorf("%s: got %q, want %q", k, got[k], want)
			}
		}
	})
	t.Run("nil run", func(t *testing.T) {
		if err := report.HTML(&bytes.Buffer{}, nil); err == nil {
			t.Error("got no error, want one")
		}
	})
}

// checkSelfContained fails when the page could load anything or run a
// script: a script, link, img, iframe, object or embed element, a URL in
// an attribute, an event handler attribute, or url() in CSS.
func checkSelfContained(t *testing.T, doc *html.Node) {
	t.Helper()
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignObject":
				t.Errorf("the page has a <%s> element", n.Data)
			case "style":
				if css := strings.ToLower(text(n)); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
					t.Errorf("the page's CSS loads something: %q", css)
				}
			}
			for _, a := range n.Attr {
				v := strings.ToLower(a.Val)
				switch {
				case a.Key == "src" || a.Key == "href" || strings.HasSuffix(a.Key, ":href"):
					t.Errorf("<%s> has %s=%q", n.Data, a.Key, a.Val)
				case strings.Contains(v, "http://") || strings.Contains(v, "https://") || strings.Contains(v, "url("):
					t.Errorf("<%s %s=%q> holds a URL", n.Data, a.Key, a.Val)
				case strings.HasPrefix(a.Key, "on"):
					t.Errorf("<%s> has an event handler %s", n.Data, a.Key)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

// find returns n's descendants with the tag name.
func find(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

// text returns n's text content.
func text(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
