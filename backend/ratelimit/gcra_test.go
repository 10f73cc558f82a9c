package ratelimit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestBurstThenSteadyRate(t *testing.T) {
	m := NewMemory(Config{Rate: 10, Per: time.Second, Burst: 4})
	// At one instant: burst+1 requests pass, the next is refused.
	for i := range 5 {
		r := m.Allow("k", t0)
		if !r.Allowed || r.Remaining != 4-i || r.Limit != 5 {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", i, r, 4-i)
		}
	}
	r := m.Allow("k", t0)
	if r.Allowed || r.RetryAfter != 100*time.Millisecond {
		t.Fatalf("6th request: %+v, want refused with RetryAfter 100ms", r)
	}
	// One interval later exactly one more passes.
	if r := m.Allow("k", t0.Add(100*time.Millisecond)); !r.Allowed {
		t.Fatalf("after one interval: %+v, want allowed", r)
	}
	if r := m.Allow("k", t0.Add(100*time.Millisecond)); r.Allowed {
		t.Fatalf("second request after one interval: %+v, want refused", r)
	}
	// After the whole window the full allowance is back.
	if r := m.Allow("k", t0.Add(2*time.Second)); !r.Allowed || r.Remaining != 4 {
		t.Fatalf("after 2 s: %+v, want allowed with 4 remaining", r)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	m := NewMemory(Config{Rate: 1, Per: time.Second})
	if !m.Allow("a", t0).Allowed || m.Allow("a", t0).Allowed {
		t.Fatal("key a: want one allowed then refused")
	}
	if !m.Allow("b", t0).Allowed {
		t.Fatal("key b shares a's bucket")
	}
}

// TestConcurrentBurstAdmitsNoMoreThanLimit: 1,000 simultaneous requests
// from one client admit exactly burst+1 at one instant.
func TestConcurrentBurstAdmitsNoMoreThanLimit(t *testing.T) {
	m := NewMemory(Config{Rate: 100, Per: time.Second, Burst: 20})
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 100 {
				if m.Allow("client", t0).Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 21 {
		t.Errorf("allowed %d of 1,000 simultaneous requests, want 21 (burst 20 + 1)", got)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	m := NewMemory(Config{Rate: 1, Per: time.Hour, MaxKeys: 64})
	for i := range 10_000 {
		m.Allow(fmt.Sprint("key-", i), t0)
	}
	if n := m.Keys(); n > 64 {
		t.Errorf("tracking %d keys, want at most MaxKeys 64", n)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Rate: 0, Per: time.Second}, {Rate: 1}, {Rate: 1, Per: time.Second, Burst: -1}} {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
}

func BenchmarkAllow(b *testing.B) {
	m := NewMemory(Config{Rate: 1_000_000, Per: time.Second, Burst: 1000})
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		m.Allow("203.0.113.7", now)
	}
}
