package metrics

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestQuantile(t *testing.T) {
	n := len(latencyBounds) + 1
	at := func(pairs ...int) []uint64 { // bucket index, count, ...
		b := make([]uint64, n)
		for i := 0; i < len(pairs); i += 2 {
			b[pairs[i]] = uint64(pairs[i+1])
		}
		return b
	}
	tests := []struct {
		name    string
		q       float64
		buckets []uint64
		want    float64
	}{
		{"empty", 0.5, at(), 0},
		{"all in first bucket, median", 0.5, at(0, 10), 0.00005},
		{"interpolates inside bucket 3", 0.5, at(3, 4), 0.0005 + 0.0005*0.5},
		{"p99 lands in the slow bucket", 0.99, at(0, 98, 9, 2), 0.05 + 0.05*0.5},
		{"overflow bucket returns the last bound", 0.99, at(n-1, 5), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(tt.q, tt.buckets); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestSeriesTicksDeltas(t *testing.T) {
	m := NewHTTP()
	s := NewSeries(m, 3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 10 {
		m.Observe("GET", "GET /a", 200, 300*time.Microsecond)
	}
	m.Observe("GET", "GET /a", 503, 2*time.Second)
	m.Observe("GET", "GET /b", 200, time.Millisecond)
	got := s.Tick(t0)
	if got.Requests != 12 || got.Errors != 1 {
		t.Errorf("first tick: requests %d errors %d, want 12 and 1", got.Requests, got.Errors)
	}
	if a, b := got.Routes["GET /a"], got.Routes["GET /b"]; len(got.Routes) != 2 || a.Requests != 11 || a.Errors != 1 || b.Requests != 1 || b.P99Ms == 0 {
		t.Errorf("first tick per route: %+v", got.Routes)
	}
	if got.P50Ms <= 0.25 || got.P50Ms > 0.5 {
		t.Errorf("first tick p50 = %vms, want within (0.25, 0.5]", got.P50Ms)
	}
	if got.P99Ms < 1000 {
		t.Errorf("first tick p99 = %vms, want >= 1000 (the 2 s request)", got.P99Ms)
	}
	if got := s.Tick(t0.Add(time.Second)); got.Requests != 0 || got.P99Ms != 0 || got.Routes != nil {
		t.Errorf("idle tick = %+v, want zero", got)
	}
	for i := 2; i < 5; i++ {
		s.Tick(t0.Add(time.Duration(i) * time.Second))
	}
	all := s.Samples()
	if len(all) != 3 || !all[0].Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("kept %d samples starting %v, want 3 starting %v", len(all), all[0].Time, t0.Add(2*time.Second))
	}
}

func TestRouteSeriesAreBounded(t *testing.T) {
	m := NewHTTP()
	s := NewSeries(m, 1)
	for i := range MaxSeriesRoutes + 5 {
		m.Observe("GET", fmt.Sprintf("GET /r%d", i), 200, time.Millisecond)
	}
	got := s.Tick(time.Now())
	if len(got.Routes) != MaxSeriesRoutes+1 || got.Routes[OtherRoutes].Requests != 5 {
		t.Errorf("%d route series, %d requests under %q; want %d and 5", len(got.Routes), got.Routes[OtherRoutes].Requests, OtherRoutes, MaxSeriesRoutes+1)
	}
}

func TestHTTPCollectors(t *testing.T) {
	m := NewHTTP()
	reg := NewRegistry()
	reg.MustRegister(m.Collectors()...)
	m.Observe("BREW", "", 418, time.Millisecond)
	m.Observe("MKCOFFEE", "", 418, time.Millisecond)
	m.Observe("GET", "GET /odd", 700, time.Millisecond)
	want := `
# HELP covet_http_requests_total HTTP requests served, by method, route pattern and status code.
# TYPE covet_http_requests_total counter
covet_http_requests_total{code="418",method="OTHER",route="unmatched"} 2
covet_http_requests_total{code="other",method="GET",route="GET /odd"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "covet_http_requests_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "go_goroutines", "process_open_fds"); err != nil || n != 2 {
		t.Errorf("runtime and process collectors: got %d series (%v), want 2", n, err)
	}
	n := 0
	m.series.Range(func(any, any) bool { n++; return true })
	if all := m.all.snapshot(); n != 2 || all.requests != 3 || all.errors != 1 {
		t.Errorf("%d cached series, %d requests, %d errors; want 2 (any unknown method is OTHER), 3 and 1 (status 700)", n, all.requests, all.errors)
	}
}

func BenchmarkObserve(b *testing.B) {
	m := NewHTTP()
	b.ReportAllocs()
	for b.Loop() {
		m.Observe("GET", "GET /users/{id}", 200, 250*time.Microsecond)
	}
}
