package metrics

import (
	"runtime"
	"testing"
	"time"
)

func TestSamplerCountsPerInterval(t *testing.T) {
	h := NewHTTP()
	var queries, slow uint64
	s := NewSampler(SignalSources{HTTP: h, Queries: func() (uint64, uint64) { return queries, slow }, Dropped: func() uint64 { return 7 }})
	for _, status := range []int{200, 200, 429, 500} {
		h.Observe("GET", "/x", status, time.Millisecond)
	}
	queries, slow = 8, 1
	runtime.GC()
	got := s.Sample(time.Unix(100, 0))
	want := Signals{Time: time.Unix(100, 0).UTC(), Requests: 4, Errors: 1, RateLimited: 1, Queries: 8, SlowQueries: 1, QueriesPerRequest: 2}
	if got.Requests != want.Requests || got.Errors != want.Errors || got.RateLimited != want.RateLimited || got.Queries != want.Queries ||
		got.SlowQueries != want.SlowQueries || got.QueriesPerRequest != want.QueriesPerRequest || !got.Time.Equal(want.Time) {
		t.Errorf("Sample = %+v, want %+v", got, want)
	}
	if got.GCCycles < 1 || got.HeapBytes == 0 || got.Goroutines == 0 || got.DroppedEvents != 0 {
		t.Errorf("runtime signals %+v: want a GC cycle, a heap and goroutines, no new drops", got)
	}
	// The next sample holds only what happened since.
	h.Observe("GET", "/x", 200, time.Millisecond)
	got = s.Sample(time.Unix(101, 0))
	if got.Requests != 1 || got.Queries != 0 || got.RateLimited != 0 || got.QueriesPerRequest != 0 {
		t.Errorf("second Sample = %+v, want one request only", got)
	}
}
