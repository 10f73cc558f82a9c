package loadgen

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Progress is one second of a running load test, for a live display.
type Progress struct {
	// Warmup is true for the seconds of the warm-up, whose results are
	// discarded.
	Warmup bool `json:"warmup"`
	// Elapsed is the time since the run started, warm-up included, in
	// seconds.
	Elapsed float64 `json:"elapsed"`
	// Second is the second that just ended; its T is 0 or below during
	// the warm-up.
	Second Second `json:"second"`
	// Requests and Errors are the measured totals so far.
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	// Backlog is how many requests of the open model are due but not yet
	// sent because every connection is busy.
	Backlog int `json:"backlog"`
}

// maxShards bounds the recorder's shards (about 150 KiB each).
const maxShards = 16

// Run sends the load that spec describes through sc and returns its
// result. It ends after the warm-up and the duration, once MaxRequests
// requests were measured, or when ctx ends: then the result holds the data
// so far and Stopped is "cancelled". Requests still in flight at the end
// are abandoned, not counted. Run returns an error only when the spec is
// invalid or a virtual user cannot be prepared; failures of the target are
// results.
//
// progress, when not nil, is called once per second (warm-up included)
// from the run's clock goroutine; it must be quick.
func Run(ctx context.Context, spec Spec, sc Scenario, progress func(Progress)) (*Result, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	users := make([]User, 0, spec.Connections)
	defer func() {
		for _, u := range users {
			u.Close()
		}
	}()
	for i := range spec.Connections {
		u, err := sc.NewUser(i)
		if err != nil {
			return nil, fmt.Errorf("preparing virtual user %d: %w", i, err)
		}
		users = append(users, u)
	}
	r := &run{
		spec:        spec,
		warmup:      spec.Warmup.Std(),
		end:         spec.Warmup.Std() + spec.Duration.Std(),
		maxRequests: spec.MaxRequests,
		rec:         newRecorder(min(len(users), maxShards)),
		progress:    progress,
	}
	if spec.Open() {
		r.sched = newSchedule(spec.Rate, r.warmup, spec.Ramp)
	}
	return r.run(ctx, users), nil
}

// run is the state of one Run.
type run struct {
	spec        Spec
	warmup      time.Duration // the measurement starts this long after start
	end         time.Duration // and ends this long after start
	maxRequests uint64
	sched       *schedule // nil for the closed model
	rec         *recorder
	progress    func(Progress)

	start    time.Time
	measured atomic.Uint64 // requests recorded after the warm-up
	stopOnce sync.Once
	stopped  string // why the run ended early; set once through stopOnce
	cancel   context.CancelFunc
	queue    chan time.Duration // open model: due times of requests to send
}

// stop ends the run early for reason, unless it has ended already.
func (r *run) stop(reason string) {
	r.stopOnce.Do(func() {
		r.stopped = reason
		r.cancel()
	})
}

func (r *run) run(parent context.Context, users []User) *Result {
	r.start = time.Now()
	ctx, cancel := context.WithDeadline(parent, r.start.Add(r.end))
	r.cancel = cancel
	defer cancel()
	context.AfterFunc(parent, func() { r.stop(StoppedCancelled) })

	var wg sync.WaitGroup
	if r.sched != nil {
		r.queue = make(chan time.Duration, max(len(users), 1024))
		wg.Go(func() { r.dispatch(ctx) })
		for i, u := range users {
			wg.Go(func() { r.openUser(ctx, i, u) })
		}
	} else {
		for i, u := range users {
			wg.Go(func() { r.closedUser(ctx, i, u) })
		}
	}

	total, sec := newWindow(), newWindow()
	var series []Second
	last := time.Duration(0) // the previous tick
	// Ticks fall on whole seconds before and after the measurement's start.
	k := -int(math.Ceil(r.warmup.Seconds())) + 1
	timer := time.NewTimer(time.Until(r.start.Add(r.tick(k))))
	defer timer.Stop()
	for done := false; !done; k++ {
		at := r.tick(k)
		select {
		case <-ctx.Done():
			done = true
			wg.Wait() // users have given up their requests
			at = min(time.Since(r.start), r.end)
		case <-timer.C:
			if at >= r.end { // the last tick: let the deadline end the run
				<-ctx.Done()
				done = true
				wg.Wait()
				break
			}
			timer.Reset(time.Until(r.start.Add(r.tick(k + 1))))
		}
		r.rec.drain(sec)
		warm := at <= r.warmup
		t := (at - r.warmup).Seconds()
		smp := sec.second(t)
		if !warm {
			if !done || sec.requests > 0 || at-last > 50*time.Millisecond { // not an empty sliver at the end
				if r.sched != nil {
					smp.TargetRate = math.Round(r.sched.count(at) - r.sched.count(max(at-time.Second, r.warmup)))
				}
				series = append(series, smp)
			}
			total.add(sec)
		}
		sec.reset()
		last = at
		if r.progress != nil && !done {
			p := Progress{Warmup: warm, Elapsed: round3(at.Seconds()), Second: smp, Requests: total.requests, Errors: total.errors()}
			if r.queue != nil {
				p.Backlog = len(r.queue)
			}
			r.progress(p)
		}
	}

	measured := max(min(time.Since(r.start), r.end)-r.warmup, 0)
	res := &Result{
		Requests: total.requests, Errors: total.errors(), Bytes: total.bytes,
		DurationSeconds: round3(measured.Seconds()),
		Latency:         summarize(total.h),
		Status:          map[string]uint64{},
		ErrorKinds:      map[string]uint64{},
		Stopped:         StoppedDuration,
		Series:          series,
		Histogram:       buckets(total.h),
		HDR:             encodeHDR(total.h),
	}
	if series == nil {
		res.Series = []Second{}
	}
	r.stopOnce.Do(func() {}) // no stop after this point
	if r.stopped != "" {
		res.Stopped = r.stopped
	}
	if r.sched == nil && total.requests >= uint64(r.spec.Connections) && r.spec.Connections > 0 {
		interval := measured.Microseconds() / int64(total.requests/uint64(r.spec.Connections))
		l := summarize(correctedForOmission(total.h, interval))
		res.LatencyCorrected = &l
	}
	if measured > 0 {
		res.RPS = math.Round(float64(total.requests)/measured.Seconds()*100) / 100
		if r.sched != nil {
			res.TargetRate = math.Round((r.sched.count(r.warmup+measured)-r.sched.count(r.warmup))/measured.Seconds()*100) / 100
		}
	}
	for c := 1; c <= 5; c++ {
		if n := total.status[c]; n > 0 {
			res.Status[fmt.Sprintf("%dxx", c)] = n
		}
	}
	for _, c := range []int{4, 5} {
		if n := total.status[c]; n > 0 {
			res.ErrorKinds[fmt.Sprintf("%dxx", c)] = n
		}
	}
	for k, n := range total.kinds {
		if n > 0 {
			res.ErrorKinds[ErrorKind(k).String()] = n
		}
	}
	return res
}

// tick returns the offset from the start of tick k: tick 0 is the end of
// the warm-up, and a tick's window is the second before it (the first one
// may be shorter).
func (r *run) tick(k int) time.Duration {
	return max(r.warmup+time.Duration(k)*time.Second, 0)
}

// observe records one outcome of user, sent (or due) at sent and answered
// at done, both offsets from the start.
func (r *run) observe(user int, sent, done time.Duration, o Outcome) {
	if sent < r.warmup {
		if done < r.warmup { // a warm-up request, shown live but not kept
			r.rec.record(user, done-sent, o)
		}
		return
	}
	n := r.measured.Add(1)
	if n > r.maxRequests {
		return
	}
	r.rec.record(user, done-sent, o)
	if n == r.maxRequests {
		r.stop(StoppedMaxRequests)
	}
}

// closedUser repeats requests back to back (with the think time between
// them) until the run ends.
func (r *run) closedUser(ctx context.Context, i int, u User) {
	think := r.spec.ThinkTime.Std()
	var pause *time.Timer
	if think > 0 {
		pause = time.NewTimer(think)
		defer pause.Stop()
	}
	for ctx.Err() == nil {
		sent := time.Since(r.start)
		o := u.Do(ctx)
		if ctx.Err() != nil {
			return
		}
		r.observe(i, sent, time.Since(r.start), o)
		if pause != nil {
			pause.Reset(think)
			select {
			case <-ctx.Done():
				return
			case <-pause.C:
			}
		}
	}
}

// openUser sends the requests the dispatcher schedules, timing each from
// when it was due: a request that waited for a free connection counts the
// wait (coordinated omission corrected).
func (r *run) openUser(ctx context.Context, i int, u User) {
	for {
		var due time.Duration
		select {
		case <-ctx.Done():
			return
		case due = <-r.queue:
		}
		o := u.Do(ctx)
		if ctx.Err() != nil {
			return
		}
		r.observe(i, due, time.Since(r.start), o)
	}
}

// dispatch queues each request of the open model when it is due.
func (r *run) dispatch(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for k := 0.0; ; k++ {
		due := r.sched.at(k)
		if due >= r.end {
			return
		}
		if wait := due - time.Since(r.start); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		select {
		case <-ctx.Done():
			return
		case r.queue <- due:
		}
	}
}

// schedule is the open model's arrival curve: a rate that is constant or
// changes linearly, piece by piece.
type schedule struct {
	pieces []piece
}

// piece is a stretch of the schedule from start to end (end 0: for ever)
// whose rate moves linearly from r0 to r1; n0 requests are due before it.
type piece struct {
	start, end time.Duration
	r0, r1     float64
	n0         float64
}

func newSchedule(rate float64, warmup time.Duration, ramp []Stage) *schedule {
	s := &schedule{}
	at, n := time.Duration(0), 0.0
	add := func(d time.Duration, r0, r1 float64) {
		p := piece{start: at, r0: r0, r1: r1, n0: n}
		if d > 0 {
			p.end = at + d
			n += (r0 + r1) / 2 * d.Seconds()
			at += d
		}
		s.pieces = append(s.pieces, p)
	}
	if warmup > 0 {
		add(warmup, rate, rate)
	}
	for _, st := range ramp {
		add(st.Duration.Std(), rate, st.Rate)
		rate = st.Rate
	}
	add(0, rate, rate)
	return s
}

// count returns how many requests are due before offset t.
func (s *schedule) count(t time.Duration) float64 {
	p := s.pieces[len(s.pieces)-1]
	for _, q := range s.pieces {
		if t < q.end {
			p = q
			break
		}
	}
	x := (t - p.start).Seconds()
	return p.n0 + p.r0*x + p.slope()*x*x/2
}

// at returns the offset at which request k (from 0) is due.
func (s *schedule) at(k float64) time.Duration {
	p := s.pieces[len(s.pieces)-1]
	for _, q := range s.pieces[:len(s.pieces)-1] {
		if k < q.n0+(q.r0+q.r1)/2*(q.end-q.start).Seconds() {
			p = q
			break
		}
	}
	m := k - p.n0
	x := m / p.r0
	if slope := p.slope(); slope != 0 { // solve r0·x + slope·x²/2 = m
		x = (-p.r0 + math.Sqrt(p.r0*p.r0+2*slope*m)) / slope
	}
	return p.start + time.Duration(x*float64(time.Second))
}

// slope is how fast the piece's rate changes, per second.
func (p piece) slope() float64 {
	if p.end == 0 {
		return 0
	}
	return (p.r1 - p.r0) / (p.end - p.start).Seconds()
}
