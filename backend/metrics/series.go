package metrics

import (
	"sync"
	"time"
)

// Sample is one second of served requests.
type Sample struct {
	Time time.Time `json:"time"`
	RouteSample
	// Routes holds the routes that served requests in this second, by
	// route pattern ("unmatched" for requests no route matched).
	Routes map[string]RouteSample `json:"routes,omitempty"`
}

// RouteSample is one second of one route's requests (or all of them).
type RouteSample struct {
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	P50Ms    float64 `json:"p50Ms"`
	P99Ms    float64 `json:"p99Ms"`
}

// since returns the sample of what was counted between prev and t.
func (t totals) since(prev totals) RouteSample {
	var delta [len(t.buckets)]uint64
	for i := range delta {
		delta[i] = t.buckets[i] - prev.buckets[i]
	}
	return RouteSample{
		Requests: t.requests - prev.requests,
		Errors:   t.errors - prev.errors,
		P50Ms:    quantile(0.50, delta[:]) * 1000,
		P99Ms:    quantile(0.99, delta[:]) * 1000,
	}
}

// Series turns an HTTP's running totals into a bounded series of
// per-second samples. Its owner calls Tick once per second.
type Series struct {
	src *HTTP

	mu         sync.Mutex        // guards the fields below
	last       totals            // totals at the previous Tick
	lastRoutes map[string]totals // per route, at the previous Tick
	samples    []Sample          // oldest first, at most cap(samples)
}

// NewSeries returns a series of at most size samples over src.
func NewSeries(src *HTTP, size int) *Series {
	all, routes := src.snapshot()
	return &Series{src: src, last: all, lastRoutes: routes, samples: make([]Sample, 0, size)}
}

// Tick closes the sample for the second ending at now, stores it and
// returns it.
func (s *Series) Tick(now time.Time) Sample {
	cur, routes := s.src.snapshot()
	s.mu.Lock()
	defer s.mu.Unlock()
	smp := Sample{Time: now.UTC().Truncate(time.Second), RouteSample: cur.since(s.last)}
	for k, t := range routes {
		if t.requests != s.lastRoutes[k].requests {
			if smp.Routes == nil {
				smp.Routes = map[string]RouteSample{}
			}
			smp.Routes[k] = t.since(s.lastRoutes[k])
		}
	}
	s.last, s.lastRoutes = cur, routes
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
