// Package dataloader batches lookups by key: concurrent Load calls made
// within a short window become one call of the batch function, so code that
// resolves each item on its own (a GraphQL resolver, a handler fanning out
// per row) runs one IN query instead of one query per item — the fix the
// query inspector suggests for an N+1.
//
//	authors := dataloader.New(dataloader.Config[int64, User]{
//		Fetch: func(ctx context.Context, ids []int64) (map[int64]User, error) {
//			users, err := orm.From[User](db).Where(orm.In("id", anySlice(ids)...)).All(ctx)
//			…
//		},
//	})
//	u, err := authors.Load(ctx, post.AuthorID) // from many goroutines
//
// A Loader also remembers what it loaded; make one per request so that
// nothing is shared between users or kept stale.
package dataloader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Config shapes a Loader. Zero values take the defaults.
type Config[K comparable, V any] struct {
	// Fetch loads a batch of distinct keys; a key missing from the map
	// gets ErrNotFound. Required.
	Fetch func(ctx context.Context, keys []K) (map[K]V, error)
	// Wait is how long a batch collects keys after its first. Default 1ms.
	Wait time.Duration
	// MaxBatch caps the keys per Fetch; a full batch is sent at once.
	// Default 500 (under every dialect's parameter limit).
	MaxBatch int
}

// ErrNotFound is returned by Load for a key Fetch did not return. Read only.
var ErrNotFound = errors.New("dataloader: not found")

// Loader batches and caches Load calls. It is safe for concurrent use.
type Loader[K comparable, V any] struct {
	fetch    func(ctx context.Context, keys []K) (map[K]V, error)
	wait     time.Duration
	maxBatch int

	mu      sync.Mutex       // guards pending and done
	pending *batch[K, V]     // the batch collecting keys, if any
	done    map[K]*result[V] // every key asked for, loaded or in flight
}

type result[V any] struct {
	ready chan struct{} // closed when v and err are set
	v     V
	err   error
}

type batch[K comparable, V any] struct {
	keys    []K
	results []*result[V]
	timer   *time.Timer
}

// New returns a Loader; it panics when Fetch is nil or a limit is
// negative (a programming error).
func New[K comparable, V any](cfg Config[K, V]) *Loader[K, V] {
	switch {
	case cfg.Fetch == nil:
		panic("dataloader: Config.Fetch is nil")
	case cfg.Wait < 0 || cfg.MaxBatch < 0:
		panic(fmt.Sprintf("dataloader: Wait %v and MaxBatch %d must not be negative", cfg.Wait, cfg.MaxBatch))
	}
	if cfg.Wait == 0 {
		cfg.Wait = time.Millisecond
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = 500
	}
	return &Loader[K, V]{fetch: cfg.Fetch, wait: cfg.Wait, maxBatch: cfg.MaxBatch, done: map[K]*result[V]{}}
}

// Load returns the value for key, batched with the other keys asked for
// within the wait window. A key already loaded (or failed) answers from
// memory. ctx bounds only this caller's wait; the batch is fetched with
// the context of the Load that started it.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	l.mu.Lock()
	r, ok := l.done[key]
	if !ok {
		r = &result[V]{ready: make(chan struct{})}
		l.done[key] = r
		l.addLocked(ctx, key, r)
	}
	l.mu.Unlock()
	select {
	case <-r.ready:
		return r.v, r.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// LoadMany loads several keys, in one batch when they fit, and returns the
// values in the same order; the first error stops it.
func (l *Loader[K, V]) LoadMany(ctx context.Context, keys []K) ([]V, error) {
	out := make([]V, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = l.Load(ctx, k)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("dataloader: key %v: %w", keys[i], err)
		}
	}
	return out, nil
}

// addLocked puts key into the collecting batch, starting one when needed,
// and sends the batch when it is full.
func (l *Loader[K, V]) addLocked(ctx context.Context, key K, r *result[V]) {
	b := l.pending
	if b == nil {
		b = &batch[K, V]{}
		l.pending = b
		b.timer = time.AfterFunc(l.wait, func() { l.send(ctx, b) })
	}
	b.keys = append(b.keys, key)
	b.results = append(b.results, r)
	if len(b.keys) >= l.maxBatch {
		b.timer.Stop()
		l.pending = nil
		go l.run(ctx, b)
	}
}

// send is the timer's: it detaches the batch if it is still collecting.
func (l *Loader[K, V]) send(ctx context.Context, b *batch[K, V]) {
	l.mu.Lock()
	if l.pending != b {
		l.mu.Unlock()
		return // sent when it filled up
	}
	l.pending = nil
	l.mu.Unlock()
	l.run(ctx, b)
}

func (l *Loader[K, V]) run(ctx context.Context, b *batch[K, V]) {
	vals, err := l.fetch(context.WithoutCancel(ctx), b.keys)
	for i, k := range b.keys {
		r := b.results[i]
		switch v, ok := vals[k]; {
		case err != nil:
			r.err = err
		case !ok:
			r.err = ErrNotFound
		default:
			r.v = v
		}
		close(r.ready)
	}
}

// Forget drops key from memory, so that the next Load fetches it again.
func (l *Loader[K, V]) Forget(key K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.done[key]; ok {
		select {
		case <-r.ready:
			delete(l.done, key)
		default: // in flight: leave it to finish
		}
	}
}
