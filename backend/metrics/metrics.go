// Package metrics provides Prometheus collectors for a Covet server: HTTP
// request counters and latency histograms, and a per-second request series
// that the studio graphs.
//
//	reg := metrics.NewRegistry()
//	httpm := metrics.NewHTTP()
//	reg.MustRegister(httpm.Collectors()...)
//	reg.MustRegister(collectors.NewDBStatsCollector(db, "primary"))
//	handler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
//
// Values reach Prometheus through prometheus/client_golang and are exposed
// in the text format of prometheus/common.
package metrics

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// latencyBounds are the upper bounds, in seconds, of the request latency
// histogram. They are finer than Prometheus' defaults below a millisecond,
// where most API requests of a fast server fall. Read only.
var latencyBounds = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// LatencyBuckets returns the bounds of the request latency histogram.
func LatencyBuckets() []float64 { return append([]float64(nil), latencyBounds[:]...) }

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// HTTP records served requests: covet_http_requests_total{method,route,code}
// and covet_http_request_duration_seconds{method,route}. It also keeps
// unlabelled totals that Series reads once per second.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	codes [600]string // status code -> label, precomputed to avoid allocation

	all counters // every request

	mu     sync.RWMutex         // guards routes (the map; the counters are atomic)
	routes map[string]*counters // per route pattern, at most MaxSeriesRoutes

	series sync.Map // seriesKey -> *series
}

// MaxSeriesRoutes bounds how many routes get their own per-second series;
// requests of further routes are counted under OtherRoutes.
const MaxSeriesRoutes = 1000

// OtherRoutes is the series key of routes beyond MaxSeriesRoutes.
const OtherRoutes = "other"

// counters are the unlabelled running totals Series reads.
type counters struct {
	total   atomic.Uint64                         // requests
	errors  atomic.Uint64                         // 5xx responses
	limited atomic.Uint64                         // 429 responses
	buckets [len(latencyBounds) + 1]atomic.Uint64 // per latency bound, plus +Inf
}

func (c *counters) observe(status int, bucket int) {
	c.total.Add(1)
	if status >= 500 {
		c.errors.Add(1)
	} else if status == http.StatusTooManyRequests {
		c.limited.Add(1)
	}
	c.buckets[bucket].Add(1)
}

func (c *counters) snapshot() totals {
	var t totals
	t.requests = c.total.Load()
	t.errors = c.errors.Load()
	for i := range c.buckets {
		t.buckets[i] = c.buckets[i].Load()
	}
	return t
}

// NewHTTP returns HTTP metrics; register Collectors with a registry.
func NewHTTP() *HTTP {
	m := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "covet_http_requests_total",
			Help: "HTTP requests served, by method, route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "covet_http_request_duration_seconds",
			Help:    "Time from reading the request to the handler's return, by method and route pattern.",
			Buckets: LatencyBuckets(),
		}, []string{"method", "route"}),
		routes: map[string]*counters{},
	}
	for c := range m.codes {
		m.codes[c] = strconv.Itoa(c)
	}
	return m
}

// Collectors returns the collectors to register.
func (m *HTTP) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration}
}

// Observe records a served request. route is the matched route pattern, or
// "" for a request that matched none.
func (m *HTTP) Observe(method, route string, status int, d time.Duration) {
	k := seriesKey{normalizeMethod(method), route, status}
	if status < 0 || status >= len(m.codes) {
		k.status = 0 // labelled "other"
	}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, m.resolve(k))
	}
	s := v.(*series)
	s.requests.Inc()
	sec := d.Seconds()
	s.duration.Observe(sec)
	i := 0
	for i < len(latencyBounds) && sec > latencyBounds[i] {
		i++
	}
	m.all.observe(status, i)
	s.route.observe(status, i)
}

// seriesKey is what a request's series depend on: a known method (or
// OTHER), a route pattern and a status (0 for one out of range). Every part
// is bounded, and so is the cache.
type seriesKey struct {
	method, route string
	status        int
}

// series are a request's counter, histogram and per-route totals, looked
// up once per seriesKey rather than hashed out of three maps per request.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
	route    *counters
}

func (m *HTTP) resolve(k seriesKey) *series {
	route := k.route
	if route == "" {
		route = "unmatched"
	}
	code := "other"
	if k.status > 0 {
		code = m.codes[k.status]
	}
	return &series{
		requests: m.requests.WithLabelValues(k.method, route, code),
		duration: m.duration.WithLabelValues(k.method, route),
		route:    m.route(route),
	}
}

// route returns the counters of a route, adding them on its first request.
func (m *HTTP) route(route string) *counters {
	m.mu.RLock()
	c := m.routes[route]
	m.mu.RUnlock()
	if c != nil {
		return c
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c = m.routes[route]; c == nil {
		if len(m.routes) >= MaxSeriesRoutes {
			route = OtherRoutes
		}
		if c = m.routes[route]; c == nil {
			c = new(counters)
			m.routes[route] = c
		}
	}
	return c
}

// totals is a snapshot of counters.
type totals struct {
	requests, errors uint64
	buckets          [len(latencyBounds) + 1]uint64
}

// snapshot reads every counter: all requests, and per route.
func (m *HTTP) snapshot() (totals, map[string]totals) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	routes := make(map[string]totals, len(m.routes))
	for k, c := range m.routes {
		routes[k] = c.snapshot()
	}
	return m.all.snapshot(), routes
}

// normalizeMethod bounds the method label's cardinality.
func normalizeMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// quantile estimates the q-quantile (0 < q < 1) of the observations counted
// in buckets (per latency bound, then +Inf), interpolating linearly
// inside the bucket that holds it, as Prometheus' histogram_quantile does.
// It returns seconds, and 0 when there are no observations.
func quantile(q float64, buckets []uint64) float64 {
	var n uint64
	for _, c := range buckets {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := q * float64(n)
	var seen float64
	for i, c := range buckets {
		if c == 0 {
			continue
		}
		if seen+float64(c) >= rank {
			if i == len(latencyBounds) {
				return latencyBounds[len(latencyBounds)-1]
			}
			lower := 0.0
			if i > 0 {
				lower = latencyBounds[i-1]
			}
			upper := latencyBounds[i]
			return lower + (upper-lower)*math.Max(0, rank-seen)/float64(c)
		}
		seen += float64(c)
	}
	return latencyBounds[len(latencyBounds)-1]
}
