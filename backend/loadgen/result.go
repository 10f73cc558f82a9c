package loadgen

import (
	"encoding/base64"
	"fmt"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is a finished (or cancelled) run. Latencies are in milliseconds;
// the JSON form is what `covet bench --json` prints and runs are stored as.
type Result struct {
	// Requests is how many requests completed (with or without error)
	// after the warm-up.
	Requests uint64 `json:"requests"`
	// RPS is Requests per measured second.
	RPS float64 `json:"rps"`
	// Errors is how many requests got no 1xx–3xx answer: a 4xx or 5xx
	// status, or a transport error (ErrorKinds says which).
	Errors uint64 `json:"errors"`
	// Bytes is how much response was read, headers included.
	Bytes uint64 `json:"bytes"`
	// DurationSeconds is how long results were measured.
	DurationSeconds float64 `json:"durationSeconds"`
	Latency         Latency `json:"latencyMs"`
	// LatencyCorrected is, for the closed model only, Latency corrected
	// for coordinated omission the way wrk corrects its own figures: each
	// latency of at least twice the expected interval between two requests
	// of one virtual user (measured time ÷ requests per user) also counts
	// the requests that user would have sent meanwhile, at that latency
	// less one interval, less two, and so on. It is what to compare with
	// wrk; Latency is what the requests sent took. The open model needs no
	// correction: its latencies run from each request's intended time.
	LatencyCorrected *Latency `json:"latencyCorrectedMs,omitempty"`
	// Status counts responses by class ("2xx", "4xx", …).
	Status map[string]uint64 `json:"status"`
	// ErrorKinds counts errors by kind: "4xx", "5xx", "timeout",
	// "refused", "reset", "closed", "protocol", "other".
	ErrorKinds map[string]uint64 `json:"errorKinds"`
	// TargetRate is the open model's mean intended rate over the measured
	// time; 0 for the closed model.
	TargetRate float64 `json:"targetRate,omitempty"`
	// Stopped says why the run ended: "duration", "maxRequests" or
	// "cancelled".
	Stopped string `json:"stopped"`
	// Series has one entry per measured second.
	Series []Second `json:"series"`
	// Histogram is the latency distribution in log-spaced buckets, for
	// plotting; HDR holds it exactly.
	Histogram []Bucket `json:"histogram"`
	// HDR is the whole latency histogram in microseconds, in the
	// HdrHistogram V2 compressed encoding, base64.
	HDR string `json:"hdr"`
}

// Stop reasons.
const (
	StoppedDuration    = "duration"
	StoppedMaxRequests = "maxRequests"
	StoppedCancelled   = "cancelled"
)

// Latency summarises latencies, in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Second is one second of a run.
type Second struct {
	// T is the second's end, in seconds since the measurement began.
	T        float64 `json:"t"`
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	Bytes    uint64  `json:"bytes"`
	Latency  Latency `json:"latencyMs"`
	// TargetRate is how many requests the open model scheduled in this
	// second; 0 for the closed model.
	TargetRate float64 `json:"targetRate,omitempty"`
}

// Bucket is one bar of a latency histogram: Count requests took more than
// the previous bucket's UpToMs and at most UpToMs.
type Bucket struct {
	UpToMs float64 `json:"upToMs"`
	Count  uint64  `json:"count"`
}

// Histogram bounds, in microseconds: latencies above the highest are
// recorded as the highest.
const (
	lowestLatency  = 1
	highestLatency = int64(time.Hour / time.Microsecond)
	latencyDigits  = 3
)

func newHistogram() *hdr.Histogram { return hdr.New(lowestLatency, highestLatency, latencyDigits) }

// maxCorrections bounds the samples correctedForOmission adds.
const maxCorrections = 50_000_000

// correctedForOmission returns a copy of h (latencies in µs) in which every
// latency v ≥ 2·interval also records v−interval, v−2·interval, … down to
// more than interval, as wrk's stats_correct and HdrHistogram's
// RecordCorrectedValue do; at most maxCorrections samples are added.
func correctedForOmission(h *hdr.Histogram, interval int64) *hdr.Histogram {
	out := newHistogram()
	out.Merge(h)
	if interval <= 0 {
		return out
	}
	added := int64(0)
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		for v := (bar.From+bar.To)/2 - interval; v > interval && added < maxCorrections; v -= interval {
			_ = out.RecordValues(v, bar.Count)
			added++
		}
	}
	return out
}

// summarize returns h's latency summary in milliseconds.
func summarize(h *hdr.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	q := h.ValueAtPercentilesSlice([]float64{50, 90, 95, 99, 99.9})
	return Latency{
		Min: ms(h.Min()), Mean: round3(h.Mean() / 1000), Max: ms(h.Max()),
		P50: ms(q[0]), P90: ms(q[1]), P95: ms(q[2]), P99: ms(q[3]), P999: ms(q[4]),
	}
}

func ms(us int64) float64 { return round3(float64(us) / 1000) }

// round3 rounds to a microsecond, so that every presentation of a result
// shows the same digits.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// bucketsPerDecade is the resolution of Result.Histogram.
const bucketsPerDecade = 10

// buckets bins h into log-spaced buckets from its minimum to its maximum.
func buckets(h *hdr.Histogram) []Bucket {
	if h.TotalCount() == 0 {
		return []Bucket{}
	}
	bound := func(i int) float64 { return math.Pow(10, float64(i)/bucketsPerDecade) } // µs
	index := func(us int64) int { return int(math.Ceil(math.Log10(float64(max(us, 1))) * bucketsPerDecade)) }
	lo, hi := index(h.Min()), index(h.Max())
	out := make([]Bucket, hi-lo+1)
	for i := range out {
		out[i].UpToMs = round3(bound(lo+i) / 1000)
	}
	for _, bar := range h.Distribution() {
		if bar.Count > 0 {
			i := min(max(index(bar.To)-lo, 0), len(out)-1)
			out[i].Count += uint64(bar.Count)
		}
	}
	return out
}

// encodeHDR returns h in the V2 compressed encoding, base64.
func encodeHDR(h *hdr.Histogram) string {
	b, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil { // only a failing compressor could cause this
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

// DecodeHDR returns the latency histogram (microseconds) of a result.
func (r *Result) DecodeHDR() (*hdr.Histogram, error) {
	b, err := base64.StdEncoding.DecodeString(r.HDR)
	if err != nil {
		return nil, fmt.Errorf("decoding the result's histogram: %w", err)
	}
	h, err := hdr.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("decoding the result's histogram: %w", err)
	}
	return h, nil
}
