package loadgen

import "math"

// Comparison sets two results side by side, metric by metric. The studio,
// the exports and `covet bench compare` all show these numbers, computed
// here once.
type Comparison struct {
	Rows []ComparisonRow `json:"rows"`
}

// ComparisonRow is one metric of two results.
type ComparisonRow struct {
	// Metric is a stable key ("rps", "p99", …); Label is for people.
	Metric string  `json:"metric"`
	Label  string  `json:"label"`
	Unit   string  `json:"unit"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	// Ratio is B ÷ A, rounded to three decimals; null when A is zero.
	Ratio *float64 `json:"ratio"`
	// Better is "higher" or "lower": which way of the ratio is an
	// improvement of B over A.
	Better string `json:"better"`
}

// Compare compares result b against result a.
func Compare(a, b *Result) Comparison {
	type metric struct {
		key, label, unit, better string
		get                      func(*Result) float64
	}
	metrics := []metric{
		{"rps", "Requests per second", "req/s", "higher", func(r *Result) float64 { return r.RPS }},
		{"requests", "Requests", "", "higher", func(r *Result) float64 { return float64(r.Requests) }},
		{"errors", "Errors", "", "lower", func(r *Result) float64 { return float64(r.Errors) }},
		{"errorRate", "Error rate", "%", "lower", func(r *Result) float64 { return r.ErrorRate() }},
		{"p50", "Latency p50", "ms", "lower", func(r *Result) float64 { return r.Latency.P50 }},
		{"p90", "Latency p90", "ms", "lower", func(r *Result) float64 { return r.Latency.P90 }},
		{"p95", "Latency p95", "ms", "lower", func(r *Result) float64 { return r.Latency.P95 }},
		{"p99", "Latency p99", "ms", "lower", func(r *Result) float64 { return r.Latency.P99 }},
		{"p999", "Latency p99.9", "ms", "lower", func(r *Result) float64 { return r.Latency.P999 }},
		{"max", "Latency max", "ms", "lower", func(r *Result) float64 { return r.Latency.Max }},
		{"mean", "Latency mean", "ms", "lower", func(r *Result) float64 { return r.Latency.Mean }},
		{"throughput", "Transfer", "KiB/s", "higher", func(r *Result) float64 { return r.Throughput() }},
	}
	c := Comparison{Rows: make([]ComparisonRow, len(metrics))}
	for i, m := range metrics {
		row := ComparisonRow{Metric: m.key, Label: m.label, Unit: m.unit, A: m.get(a), B: m.get(b), Better: m.better}
		if row.A != 0 {
			ratio := math.Round(row.B/row.A*1000) / 1000
			row.Ratio = &ratio
		}
		c.Rows[i] = row
	}
	return c
}

// ErrorRate is the share of requests that were errors, in percent, to
// three decimals.
func (r *Result) ErrorRate() float64 {
	if r.Requests == 0 {
		return 0
	}
	return round3(float64(r.Errors) / float64(r.Requests) * 100)
}

// Throughput is the response bytes read per measured second, in KiB.
func (r *Result) Throughput() float64 {
	if r.DurationSeconds == 0 {
		return 0
	}
	return math.Round(float64(r.Bytes)/1024/r.DurationSeconds*100) / 100
}
