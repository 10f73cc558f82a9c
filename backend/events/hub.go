// Package events is a bounded, in-process publish/subscribe hub for typed
// events such as served requests and executed queries.
//
// The hub is built for a hot path that usually has nobody listening: callers
// check Active (one atomic load) before they build an event, so a server
// without subscribers pays nothing else. Every subscriber has its own ring
// buffer; when a subscriber falls behind, its oldest events are dropped and
// counted, and the publisher never blocks.
//
//	hub := events.New(events.Config{})
//	sub := hub.Subscribe()
//	defer sub.Close()
//	if hub.Active() {
//		hub.Publish("request", RequestEvent{...})
//	}
//	<-sub.Ready()
//	batch, dropped := sub.Drain(nil)
package events

import (
	"sync"
	"sync/atomic"
	"time"
)

// Event is one published event. Seq increases by one per published event and
// lets a consumer notice gaps.
type Event struct {
	Type string    `json:"type"`
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Data any       `json:"data"`
}

// Config sizes a Hub. Zero values take the defaults.
type Config struct {
	// SubscriberBuffer is how many events each subscriber holds before the
	// oldest are dropped. Default 1024.
	SubscriberBuffer int
	// History is how many recent events of each type the hub keeps for
	// Recent. Default 1000.
	History int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Hub fans events out to subscribers. The zero value is not usable; call New.
type Hub struct {
	subBuffer int
	history   int
	now       func() time.Time

	active  atomic.Int32  // number of open subscriptions
	dropped atomic.Uint64 // events dropped across all subscribers

	mu     sync.Mutex                 // guards seq, subs and recent
	seq    uint64                     // last sequence number handed out
	subs   map[*Subscription]struct{} // open subscriptions
	recent map[string]*ring           // per-type history
}

// New returns a Hub sized by cfg.
func New(cfg Config) *Hub {
	if cfg.SubscriberBuffer <= 0 {
		cfg.SubscriberBuffer = 1024
	}
	if cfg.History <= 0 {
		cfg.History = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Hub{
		subBuffer: cfg.SubscriberBuffer,
		history:   cfg.History,
		now:       cfg.Now,
		subs:      make(map[*Subscription]struct{}),
		recent:    make(map[string]*ring),
	}
}

// Active reports whether anybody subscribes. Publishers check it before
// building an event; it costs one atomic load.
func (h *Hub) Active() bool { return h.active.Load() > 0 }

// Subscribers returns the number of open subscriptions.
func (h *Hub) Subscribers() int { return int(h.active.Load()) }

// Dropped returns how many events were dropped across all subscribers
// because they fell behind.
func (h *Hub) Dropped() uint64 { return h.dropped.Load() }

// Publish stamps data with a type, sequence number and time, keeps it in the
// type's history and hands it to every subscriber. It never blocks on a slow
// subscriber. data must not be modified after it is published.
func (h *Hub) Publish(typ string, data any) {
	h.mu.Lock()
	h.seq++
	ev := Event{Type: typ, Seq: h.seq, Time: h.now().UTC(), Data: data}
	r := h.recent[typ]
	if r == nil {
		r = newRing(h.history)
		h.recent[typ] = r
	}
	r.push(ev)
	for s := range h.subs {
		if s.push(ev) {
			h.dropped.Add(1)
		}
	}
	h.mu.Unlock()
}

// Recent returns up to n of the most recent events of type typ, newest first.
func (h *Hub) Recent(typ string, n int) []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.recent[typ]
	if r == nil {
		return []Event{}
	}
	return r.newestFirst(n)
}

// Subscribe opens a subscription. The caller must Close it.
func (h *Hub) Subscribe() *Subscription {
	s := &Subscription{hub: h, buf: newRing(h.subBuffer), ready: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	h.active.Add(1)
	return s
}

// Subscription receives the events published after it was opened.
type Subscription struct {
	hub   *Hub
	ready chan struct{} // holds a token while events are waiting

	mu      sync.Mutex // guards buf, dropped and closed
	buf     *ring
	dropped uint64 // dropped since the last Drain
	closed  bool
}

// Ready is signalled when events are waiting to be drained.
func (s *Subscription) Ready() <-chan struct{} { return s.ready }

// Drain appends the waiting events to dst, oldest first, and returns it with
// the number of events dropped since the previous Drain.
func (s *Subscription) Drain(dst []Event) ([]Event, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst = s.buf.drainInto(dst)
	d := s.dropped
	s.dropped = 0
	return dst, d
}

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	_, open := s.hub.subs[s]
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
	if open {
		s.hub.active.Add(-1)
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// push adds ev and reports whether an older event had to be dropped.
func (s *Subscription) push(ev Event) (dropped bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	dropped = s.buf.push(ev)
	if dropped {
		s.dropped++
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
	return dropped
}

// ring is a fixed-size drop-oldest buffer of events. It is not safe for
// concurrent use; its owner locks.
type ring struct {
	items []Event
	start int // index of the oldest item
	n     int // number of items held
}

func newRing(size int) *ring { return &ring{items: make([]Event, size)} }

// push adds ev, overwriting the oldest item when full, and reports whether
// it did.
func (r *ring) push(ev Event) (overwrote bool) {
	if r.n == len(r.items) {
		r.items[r.start] = ev
		r.start = (r.start + 1) % len(r.items)
		return true
	}
	r.items[(r.start+r.n)%len(r.items)] = ev
	r.n++
	return false
}

func (r *ring) drainInto(dst []Event) []Event {
	for i := 0; i < r.n; i++ {
		j := (r.start + i) % len(r.items)
		dst = append(dst, r.items[j])
		r.items[j] = Event{}
	}
	r.start, r.n = 0, 0
	return dst
}

func (r *ring) newestFirst(limit int) []Event {
	if limit <= 0 || limit > r.n {
		limit = r.n
	}
	out := make([]Event, 0, limit)
	for i := 0; i < limit; i++ {
		out = append(out, r.items[(r.start+r.n-1-i)%len(r.items)])
	}
	return out
}
