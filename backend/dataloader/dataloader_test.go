package dataloader

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// counter is a Fetch that records its batches and squares the keys.
type counter struct {
	mu      sync.Mutex
	batches [][]int
	fail    error
}

func (c *counter) fetch(_ context.Context, keys []int) (map[int]int, error) {
	c.mu.Lock()
	c.batches = append(c.batches, slices.Sorted(slices.Values(keys)))
	c.mu.Unlock()
	if c.fail != nil {
		return nil, c.fail
	}
	out := map[int]int{}
	for _, k := range keys {
		if k >= 0 {
			out[k] = k * k
		}
	}
	return out, nil
}

func TestConcurrentLoadsShareOneFetch(t *testing.T) {
	c := &counter{}
	l := New(Config[int, int]{Fetch: c.fetch, Wait: 20 * time.Millisecond})
	var wg sync.WaitGroup
	got := make([]int, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := l.Load(context.Background(), i%5) // duplicates share a slot
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	if len(c.batches) != 1 || !slices.Equal(c.batches[0], []int{0, 1, 2, 3, 4}) {
		t.Errorf("batches = %v, want one with the 5 distinct keys", c.batches)
	}
	for i, v := range got {
		if v != (i%5)*(i%5) {
			t.Errorf("Load(%d) = %d", i%5, v)
		}
	}
	// Loaded keys answer from memory; Forget fetches again.
	if v, _ := l.Load(context.Background(), 3); v != 9 || len(c.batches) != 1 {
		t.Errorf("cached Load = %d after %d batches", v, len(c.batches))
	}
	l.Forget(3)
	if v, _ := l.Load(context.Background(), 3); v != 9 || len(c.batches) != 2 {
		t.Errorf("Load after Forget = %d after %d batches, want a second batch", v, len(c.batches))
	}
}

func TestMaxBatchSplits(t *testing.T) {
	c := &counter{}
	l := New(Config[int, int]{Fetch: c.fetch, Wait: 50 * time.Millisecond, MaxBatch: 4})
	keys := make([]int, 10)
	for i := range keys {
		keys[i] = i
	}
	vals, err := l.LoadMany(context.Background(), keys)
	if err != nil || len(vals) != 10 || vals[9] != 81 {
		t.Fatalf("LoadMany = %v, %v", vals, err)
	}
	if len(c.batches) != 3 {
		t.Errorf("batches = %v, want 4 + 4 + 2", c.batches)
	}
	for _, b := range c.batches {
		if len(b) > 4 {
			t.Errorf("a batch of %d keys, over MaxBatch 4", len(b))
		}
	}
}

func TestErrorsAndMissingKeys(t *testing.T) {
	c := &counter{}
	l := New(Config[int, int]{Fetch: c.fetch})
	if _, err := l.Load(context.Background(), -1); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing key = %v, want ErrNotFound", err)
	}
	boom := errors.New("boom")
	f := &counter{fail: boom}
	lf := New(Config[int, int]{Fetch: f.fetch})
	if _, err := lf.LoadMany(context.Background(), []int{1, 2}); !errors.Is(err, boom) {
		t.Errorf("failing fetch = %v, want boom", err)
	}
}

func TestCallerContextBoundsOnlyItsWait(t *testing.T) {
	release := make(chan struct{})
	l := New(Config[int, string]{Fetch: func(ctx context.Context, keys []int) (map[int]string, error) {
		<-release
		return map[int]string{keys[0]: fmt.Sprint(keys[0])}, ctx.Err()
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Load(ctx, 7); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load past its deadline = %v", err)
	}
	close(release)
	if v, err := l.Load(context.Background(), 7); err != nil || v != "7" {
		t.Errorf("the batch still completed for others: %q, %v", v, err)
	}
}

func TestConfigPanics(t *testing.T) {
	for _, cfg := range []Config[int, int]{{}, {Fetch: (&counter{}).fetch, Wait: -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", cfg)
				}
			}()
			New(cfg)
		}()
	}
}
