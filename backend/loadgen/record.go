package loadgen

import (
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// window is what was recorded over some time: a latency histogram and
// counts by outcome.
type window struct {
	h        *hdr.Histogram // microseconds
	requests uint64
	bytes    uint64
	status   [6]uint64             // by status class; [0] unused
	kinds    [numErrorKinds]uint64 // transport errors by kind
}

func newWindow() *window { return &window{h: newHistogram()} }

func (w *window) record(latency time.Duration, o Outcome) {
	us := max(int64(latency/time.Microsecond), lowestLatency)
	_ = w.h.RecordValue(min(us, highestLatency)) // in range by construction
	w.requests++
	w.bytes += uint64(o.Bytes)
	if o.Err != ErrNone {
		w.kinds[o.Err]++
	} else if c := o.Status / 100; c >= 1 && c <= 5 {
		w.status[c]++
	}
}

// errors counts requests without a 1xx–3xx answer.
func (w *window) errors() uint64 {
	n := w.status[4] + w.status[5]
	for _, k := range w.kinds {
		n += k
	}
	return n
}

// add adds o's counts to w.
func (w *window) add(o *window) {
	w.h.Merge(o.h)
	w.requests += o.requests
	w.bytes += o.bytes
	for i := range w.status {
		w.status[i] += o.status[i]
	}
	for i := range w.kinds {
		w.kinds[i] += o.kinds[i]
	}
}

func (w *window) reset() {
	w.h.Reset()
	h := w.h
	*w = window{h: h}
}

// second summarises w as one second ending t seconds into the
// measurement.
func (w *window) second(t float64) Second {
	return Second{T: round3(t), Requests: w.requests, Errors: w.errors(), Bytes: w.bytes, Latency: summarize(w.h)}
}

// recorder collects outcomes from every virtual user: each records into
// one of a few shards (so that users rarely wait on each other), and the
// run's clock drains them once per second.
type recorder struct {
	shards []shard
}

type shard struct {
	mu    sync.Mutex // guards w
	w     *window
	spare *window  // the drained window, owned by drain
	_     [64]byte // keeps shards on separate cache lines
}

func newRecorder(n int) *recorder {
	r := &recorder{shards: make([]shard, n)}
	for i := range r.shards {
		r.shards[i].w, r.shards[i].spare = newWindow(), newWindow()
	}
	return r
}

func (r *recorder) record(user int, latency time.Duration, o Outcome) {
	s := &r.shards[user%len(r.shards)]
	s.mu.Lock()
	s.w.record(latency, o)
	s.mu.Unlock()
}

// drain moves everything recorded since the last drain into dst. Users
// wait only for a pointer swap, never for the merge.
func (r *recorder) drain(dst *window) {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		s.w, s.spare = s.spare, s.w
		s.mu.Unlock()
		if s.spare.requests > 0 {
			dst.add(s.spare)
			s.spare.reset()
		}
	}
}
