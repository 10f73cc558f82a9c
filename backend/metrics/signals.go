package metrics

import (
	"math"
	"runtime/metrics"
	"time"
)

// Signals is one second of what a server itself did: the numbers a load
// test's results are read beside.
type Signals struct {
	Time time.Time `json:"time"`
	// Requests served, 5xx answers and 429 (rate limited) answers.
	Requests    uint64 `json:"requests"`
	Errors      uint64 `json:"errors"`
	RateLimited uint64 `json:"rateLimited"`
	// Queries run, of which slow, and their number per request served.
	Queries           uint64  `json:"queries"`
	SlowQueries       uint64  `json:"slowQueries"`
	QueriesPerRequest float64 `json:"queriesPerRequest"`
	// The Go runtime: heap in use, GC cycles and their stop-the-world
	// pauses (summed) in this second, goroutines.
	HeapBytes  uint64  `json:"heapBytes"`
	GCCycles   uint64  `json:"gcCycles"`
	GCPauseMs  float64 `json:"gcPauseMs"`
	Goroutines uint64  `json:"goroutines"`
	// DroppedEvents is how many studio events subscribers missed.
	DroppedEvents uint64 `json:"droppedEvents"`
}

// SignalSources are where a Sampler reads counters. Nil ones read as zero.
type SignalSources struct {
	HTTP *HTTP
	// Queries returns the statements run and the slow ones, since start.
	Queries func() (total, slow uint64)
	// Dropped returns the events dropped, since start.
	Dropped func() uint64
}

// Sampler turns running totals into per-second Signals. Each consumer owns
// one: Sample returns what happened since that consumer's previous call.
// It is not safe for concurrent use.
type Sampler struct {
	src     SignalSources
	rt      []metrics.Sample
	prev    signalTotals
	pauses  []uint64 // the GC pause histogram's counts at the previous Sample
	buckets []float64
}

type signalTotals struct {
	requests, errors, limited, queries, slow, dropped, cycles uint64
}

// runtime/metrics names read by a Sampler. Read only.
var runtimeMetrics = [...]string{
	"/memory/classes/heap/objects:bytes",
	"/gc/cycles/total:gc-cycles",
	"/sched/goroutines:goroutines",
	"/sched/pauses/total/gc:seconds",
}

// NewSampler returns a sampler whose first Sample covers the time since
// now.
func NewSampler(src SignalSources) *Sampler {
	s := &Sampler{src: src, rt: make([]metrics.Sample, len(runtimeMetrics))}
	for i, name := range runtimeMetrics {
		s.rt[i].Name = name
	}
	s.prev, _ = s.read()
	return s
}

// read returns the running totals and the runtime's pause histogram.
func (s *Sampler) read() (signalTotals, *metrics.Float64Histogram) {
	var t signalTotals
	if s.src.HTTP != nil {
		all := &s.src.HTTP.all
		t.requests, t.errors, t.limited = all.total.Load(), all.errors.Load(), all.limited.Load()
	}
	if s.src.Queries != nil {
		t.queries, t.slow = s.src.Queries()
	}
	if s.src.Dropped != nil {
		t.dropped = s.src.Dropped()
	}
	metrics.Read(s.rt)
	t.cycles = s.rt[1].Value.Uint64()
	pauses := s.rt[3].Value.Float64Histogram()
	if s.pauses == nil {
		s.pauses = append([]uint64(nil), pauses.Counts...)
		s.buckets = pauses.Buckets
	}
	return t, pauses
}

// Sample returns the signals of the time since the previous Sample (or
// NewSampler), stamped at now.
func (s *Sampler) Sample(now time.Time) Signals {
	cur, pauses := s.read()
	p := s.prev
	sig := Signals{
		Time:          now.UTC().Truncate(time.Millisecond),
		Requests:      cur.requests - p.requests,
		Errors:        cur.errors - p.errors,
		RateLimited:   cur.limited - p.limited,
		Queries:       cur.queries - p.queries,
		SlowQueries:   cur.slow - p.slow,
		DroppedEvents: cur.dropped - p.dropped,
		GCCycles:      cur.cycles - p.cycles,
		HeapBytes:     s.rt[0].Value.Uint64(),
		Goroutines:    s.rt[2].Value.Uint64(),
	}
	if sig.Requests > 0 {
		sig.QueriesPerRequest = math.Round(float64(sig.Queries)/float64(sig.Requests)*100) / 100
	}
	// The pauses of this second: the histogram's new counts, each at its
	// bucket's midpoint (or its finite edge).
	var pause float64
	for i, c := range pauses.Counts {
		d := c - s.pauses[i]
		if d == 0 {
			continue
		}
		lo, hi := s.buckets[i], s.buckets[i+1]
		switch {
		case math.IsInf(lo, -1):
			lo = hi
		case math.IsInf(hi, 1):
			hi = lo
		}
		pause += float64(d) * (lo + hi) / 2
	}
	sig.GCPauseMs = math.Round(pause*1e6) / 1e3
	copy(s.pauses, pauses.Counts)
	s.prev = cur
	return sig
}
