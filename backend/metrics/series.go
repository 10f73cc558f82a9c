package metrics

import (
	"sync"
	"time"
)

// Sample is one second of served requests.
type Sample struct {
	Time     time.Time `json:"time"`
	Requests uint64    `json:"requests"`
	Errors   uint64    `json:"errors"`
	P50Ms    float64   `json:"p50Ms"`
	P99Ms    float64   `json:"p99Ms"`
}

// Series turns an HTTP's running totals into a bounded series of
// per-second samples. Its owner calls Tick once per second.
type Series struct {
	src *HTTP

	mu      sync.Mutex // guards last and samples
	last    totals     // totals at the previous Tick
	samples []Sample   // oldest first, at most cap(samples)
}

// NewSeries returns a series of at most size samples over src.
func NewSeries(src *HTTP, size int) *Series {
	return &Series{src: src, last: src.snapshot(), samples: make([]Sample, 0, size)}
}

// Tick closes the sample for the second ending at now, stores it and
// returns it.
func (s *Series) Tick(now time.Time) Sample {
	cur := s.src.snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	var delta [len(cur.buckets)]uint64
	for i := range delta {
		delta[i] = cur.buckets[i] - s.last.buckets[i]
	}
	smp := Sample{
		Time:     now.UTC().Truncate(time.Second),
		Requests: cur.requests - s.last.requests,
		Errors:   cur.errors - s.last.errors,
		P50Ms:    quantile(0.50, delta[:]) * 1000,
		P99Ms:    quantile(0.99, delta[:]) * 1000,
	}
	s.last = cur
	if len(s.samples) == cap(s.samples) {
		copy(s.samples, s.samples[1:])
		s.samples = s.samples[:len(s.samples)-1]
	}
	s.samples = append(s.samples, smp)
	return smp
}

// Samples returns a copy of the stored samples, oldest first.
func (s *Series) Samples() []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sample(nil), s.samples...)
}
