// Package ratelimit limits request rates with the generic cell rate
// algorithm (GCRA): each key has a theoretical arrival time (TAT); a request
// is allowed when it arrives no earlier than TAT minus the burst tolerance.
// One int64 per key, no timers, exact under concurrency.
//
//	lim := ratelimit.NewMemory(ratelimit.Config{Rate: 100, Per: time.Second, Burst: 20})
//	res := lim.Allow("203.0.113.7", time.Now())
//	if !res.Allowed { /* 429, Retry-After: res.RetryAfter */ }
//
// The in-memory store is bounded (MaxKeys); keys whose state has fully
// decayed are dropped first. A distributed store (Redis) comes with
// scale-out.
package ratelimit

import (
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// Config describes one limit: Rate requests per Per, with bursts of up to
// Burst requests above the steady rate.
type Config struct {
	Rate  int
	Per   time.Duration
	Burst int
	// MaxKeys bounds the number of keys tracked; default 100,000.
	MaxKeys int
}

// Validate reports the first problem, naming the field.
func (c Config) Validate() error {
	switch {
	case c.Rate <= 0:
		return fmt.Errorf("ratelimit: Rate %d must be positive", c.Rate)
	case c.Per <= 0:
		return fmt.Errorf("ratelimit: Per %v must be positive", c.Per)
	case c.Burst < 0:
		return fmt.Errorf("ratelimit: Burst %d must not be negative", c.Burst)
	case c.MaxKeys < 0:
		return errors.New("ratelimit: MaxKeys must not be negative")
	}
	return nil
}

// Result is the decision for one request.
type Result struct {
	Allowed bool
	// Limit is the number of requests a client may make at once (Burst+1).
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is how long to wait before a retry can succeed (0 when
	// Allowed).
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to its full allowance.
	ResetAfter time.Duration
}

const shards = 32

// Memory is an in-process GCRA limiter, safe for concurrent use.
type Memory struct {
	interval  time.Duration // time between requests at the steady rate
	tolerance time.Duration // how far ahead of TAT a request may come
	limit     int
	maxKeys   int // per shard
	seed      maphash.Seed
	shards    [shards]shard
}

type shard struct {
	mu  sync.Mutex       // guards tat
	tat map[string]int64 // key -> theoretical arrival time, Unix ns
}

// NewMemory returns a limiter for cfg. It panics on an invalid cfg
// (programmer misuse; validate configuration first).
func NewMemory(cfg Config) *Memory {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = 100_000
	}
	interval := cfg.Per / time.Duration(cfg.Rate)
	m := &Memory{
		interval:  interval,
		tolerance: interval * time.Duration(cfg.Burst),
		limit:     cfg.Burst + 1,
		maxKeys:   max(1, cfg.MaxKeys/shards),
		seed:      maphash.MakeSeed(),
	}
	for i := range m.shards {
		m.shards[i].tat = make(map[string]int64)
	}
	return m
}

// Allow decides one request for key at time now.
func (m *Memory) Allow(key string, now time.Time) Result {
	s := &m.shards[maphash.String(m.seed, key)%shards]
	t := now.UnixNano()
	s.mu.Lock()
	tat, ok := s.tat[key]
	if !ok || tat < t {
		tat = t
	}
	newTAT := tat + int64(m.interval)
	allowAt := newTAT - int64(m.interval) - int64(m.tolerance)
	if t < allowAt {
		s.mu.Unlock()
		return Result{
			Limit: m.limit, RetryAfter: time.Duration(allowAt - t), ResetAfter: time.Duration(tat - t),
		}
	}
	if !ok && len(s.tat) >= m.maxKeys {
		m.evictLocked(s, t)
	}
	s.tat[key] = newTAT
	s.mu.Unlock()
	remaining := int((int64(m.tolerance) - (newTAT - t) + int64(m.interval)) / int64(m.interval))
	return Result{Allowed: true, Limit: m.limit, Remaining: max(0, remaining), ResetAfter: time.Duration(newTAT - t)}
}

// evictLocked makes room in a full shard: first every key whose allowance
// is back to full, else an arbitrary one.
func (m *Memory) evictLocked(s *shard, now int64) {
	for k, tat := range s.tat {
		if tat <= now {
			delete(s.tat, k)
		}
	}
	for k := range s.tat {
		if len(s.tat) < m.maxKeys {
			break
		}
		delete(s.tat, k)
	}
}

// Keys returns the number of keys tracked.
func (m *Memory) Keys() int {
	n := 0
	for i := range m.shards {
		m.shards[i].mu.Lock()
		n += len(m.shards[i].tat)
		m.shards[i].mu.Unlock()
	}
	return n
}
