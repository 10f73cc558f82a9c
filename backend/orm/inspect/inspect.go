// Package inspect watches what an ORM DB does: it is an orm.Tracer that
// turns every statement into a Query record with a fingerprint, flags slow
// queries, detects N+1 patterns per request, and keeps bounded statistics
// per fingerprint.
//
//	ins := inspect.New(inspect.Config{Publish: func(q *inspect.Query) { … }})
//	db.SetTracer(ins)
//	handler = ins.Middleware(func(r *http.Request) inspect.RequestInfo {
//		return inspect.RequestInfo{ID: middleware.GetRequestID(r.Context()), Route: "users"}
//	})(handler)
//
// A request's queries are counted by fingerprint and call site; the third
// (by default) identical query from the same line of code in one request is
// an N+1, and it and every later one carry a Verdict with the fix.
package inspect

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/covetpy/covet/backend/orm"
)

// Config tunes an Inspector. Zero values take the defaults.
type Config struct {
	// SlowThreshold marks a query slow. Default 100ms.
	SlowThreshold time.Duration
	// NPlusOneThreshold is how many times the same fingerprint from the
	// same call site within one request makes an N+1. Default 3.
	NPlusOneThreshold int
	// MaxFingerprints bounds the statistics: fingerprints beyond it are
	// counted under OtherFingerprint. Default 256 (about 25 KiB each).
	MaxFingerprints int
	// Publish, when set, receives every Query (from the tracing goroutine;
	// it must be quick and must not keep the pointer past the call unless
	// it owns it: each Query is a new value).
	Publish func(*Query)
	// Logger receives the slow-query log (Warn level); nil logs nothing.
	Logger *slog.Logger
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.SlowThreshold < 0:
		return fmt.Errorf("inspect: SlowThreshold %v is negative", c.SlowThreshold)
	case c.NPlusOneThreshold < 0 || c.NPlusOneThreshold == 1:
		return fmt.Errorf("inspect: NPlusOneThreshold %d must be at least 2", c.NPlusOneThreshold)
	case c.MaxFingerprints < 0:
		return fmt.Errorf("inspect: MaxFingerprints %d is negative", c.MaxFingerprints)
	}
	return nil
}

// OtherFingerprint collects the statistics of fingerprints past the cap.
const OtherFingerprint = "(other)"

// Query is one executed statement as the studio sees it.
type Query struct {
	Fingerprint string    `json:"fingerprint"`
	SQL         string    `json:"sql"`
	Args        []any     `json:"args"`
	Time        time.Time `json:"time"`
	DurationMs  float64   `json:"durationMs"`
	Rows        int64     `json:"rows"`
	Error       string    `json:"error,omitempty"`
	Caller      string    `json:"caller"`
	Dialect     string    `json:"dialect"`
	TxID        uint64    `json:"txId,omitempty"`
	Replica     bool      `json:"replica,omitempty"`
	RequestID   string    `json:"requestId"`
	Route       string    `json:"route"`
	Slow        bool      `json:"slow"`
	NPlusOne    bool      `json:"nPlusOne"`
	// Verdict explains the N+1 when NPlusOne is set.
	Verdict *Verdict `json:"verdict,omitempty"`
}

// Verdict is an N+1 finding: one call site ran the same statement Count
// times in one request.
type Verdict struct {
	Fingerprint string  `json:"fingerprint"`
	Caller      string  `json:"caller"`
	Count       int     `json:"count"`
	TotalMs     float64 `json:"totalMs"`
	Fix         string  `json:"fix"`
}

// RequestInfo names the request that queries run for.
type RequestInfo struct {
	ID    string
	Route string
}

// Inspector is an orm.Tracer. It is safe for concurrent use.
type Inspector struct {
	slow     time.Duration
	nPlusOne int
	maxFP    int
	publish  func(*Query)
	log      *slog.Logger
	queries  atomic.Uint64     // statements traced
	slowOnes atomic.Uint64     // of which slow
	statsMu  sync.Mutex        // guards stats
	stats    map[string]*stats // by fingerprint, at most maxFP+1 entries

	fpMu    sync.Mutex        // guards fpCache
	fpCache map[string]string // SQL → fingerprint, at most maxCachedSQL entries
}

// maxCachedSQL bounds the fingerprint cache; when full it starts over.
// Programs run a small set of statement texts over and over, so the cache
// saves normalising each time.
const maxCachedSQL = 4096

// fingerprint returns Fingerprint(sql), from the cache when it can.
func (ins *Inspector) fingerprint(sql string) string {
	ins.fpMu.Lock()
	fp, ok := ins.fpCache[sql]
	ins.fpMu.Unlock()
	if ok {
		return fp
	}
	fp = Fingerprint(sql)
	ins.fpMu.Lock()
	if len(ins.fpCache) >= maxCachedSQL {
		clear(ins.fpCache)
	}
	ins.fpCache[sql] = fp
	ins.fpMu.Unlock()
	return fp
}

var _ orm.Tracer = (*Inspector)(nil)

// New returns an Inspector; it panics on an invalid Config (a programming
// error), so validate configuration that comes from users first.
func New(cfg Config) *Inspector {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.SlowThreshold == 0 {
		cfg.SlowThreshold = 100 * time.Millisecond
	}
	if cfg.NPlusOneThreshold == 0 {
		cfg.NPlusOneThreshold = 3
	}
	if cfg.MaxFingerprints == 0 {
		cfg.MaxFingerprints = 256
	}
	return &Inspector{slow: cfg.SlowThreshold, nPlusOne: cfg.NPlusOneThreshold, maxFP: cfg.MaxFingerprints,
		publish: cfg.Publish, log: cfg.Logger, stats: map[string]*stats{}, fpCache: map[string]string{}}
}

// request is the per-request state the middleware puts in the context.
type request struct {
	infoOnce sync.Once
	infoOf   func(*http.Request) RequestInfo // with r, resolves info at the first query
	r        *http.Request
	info     RequestInfo

	mu   sync.Mutex // guards seen; a handler may query from several goroutines
	seen map[siteKey]*site
}

func (r *request) requestInfo() RequestInfo {
	r.infoOnce.Do(func() {
		if r.infoOf != nil {
			r.info = r.infoOf(r.r)
		}
	})
	return r.info
}

type siteKey struct{ fingerprint, caller string }

type site struct {
	count int
	total time.Duration
}

type requestKey struct{}

// requestContext is the context Middleware hands on: the request's context
// and the record of its queries in one allocation, where context.WithValue
// and the record would be two.
type requestContext struct {
	context.Context
	req request
}

// Value answers requestKey{} with the record and asks the parent for every
// other key.
func (c *requestContext) Value(key any) any {
	if key == (requestKey{}) {
		return &c.req
	}
	return c.Context.Value(key)
}

// WithRequest returns a context whose queries are attributed to info and
// checked together for N+1 patterns.
func (ins *Inspector) WithRequest(ctx context.Context, info RequestInfo) context.Context {
	return context.WithValue(ctx, requestKey{}, &request{info: info})
}

// Middleware attributes each request's queries to the RequestInfo that
// info returns. info is called at the request's first query, not before,
// so it sees what the handlers below set on the same request: placed just
// outside a router, info can read r.Pattern. A request without queries
// costs two allocations: its context and the request that carries it.
func (ins *Inspector) Middleware(info func(*http.Request) RequestInfo) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := &requestContext{Context: r.Context()}
			inner := r.WithContext(c)
			c.req.infoOf, c.req.r = info, inner
			next.ServeHTTP(w, inner)
			// A router below sets the matched pattern on the request it got;
			// pass it out, so middleware outside sees it as if this one
			// were not there.
			r.Pattern = inner.Pattern
		})
	}
}

// TraceQuery records one statement.
func (ins *Inspector) TraceQuery(ctx context.Context, e *orm.QueryEvent) {
	fp := ins.fingerprint(e.SQL)
	q := &Query{
		Fingerprint: fp, SQL: e.SQL, Args: e.Args, Time: e.Start, DurationMs: ms(e.Duration), Rows: e.Rows,
		Caller: e.Caller, Dialect: e.Dialect, TxID: e.TxID, Replica: e.Replica, Slow: e.Duration >= ins.slow,
	}
	if e.Err != nil {
		q.Error = e.Err.Error()
	}
	if req, _ := ctx.Value(requestKey{}).(*request); req != nil {
		info := req.requestInfo()
		q.RequestID, q.Route = info.ID, info.Route
		q.Verdict = req.observe(fp, e.Caller, e.Duration, ins.nPlusOne)
		q.NPlusOne = q.Verdict != nil
	}
	ins.record(fp, e.Duration, e.Rows, e.Err != nil)
	ins.queries.Add(1)
	if q.Slow {
		ins.slowOnes.Add(1)
	}
	if q.Slow && ins.log != nil {
		ins.log.LogAttrs(ctx, slog.LevelWarn, "slow query", slog.String("sql", e.SQL),
			slog.Float64("durationMs", q.DurationMs), slog.Int64("rows", e.Rows), slog.String("caller", e.Caller),
			slog.String("requestId", q.RequestID), slog.String("route", q.Route))
	}
	if ins.publish != nil {
		ins.publish(q)
	}
}

// observe counts a query at its call site and returns a verdict once the
// site has run the same statement threshold times in this request. Only
// reads and inserts count: a loop of those has a batched form (eager
// loading or a DataLoader, InsertMany).
func (r *request) observe(fp, caller string, d time.Duration, threshold int) *Verdict {
	fix := fixFor(fp)
	if fix == "" || caller == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[siteKey]*site{}
	}
	k := siteKey{fp, caller}
	s := r.seen[k]
	if s == nil {
		s = &site{}
		r.seen[k] = s
	}
	s.count++
	s.total += d
	if s.count < threshold {
		return nil
	}
	return &Verdict{Fingerprint: fp, Caller: caller, Count: s.count, TotalMs: ms(s.total), Fix: fix}
}

func fixFor(fp string) string {
	switch {
	case strings.HasPrefix(fp, "select"):
		return "load these rows in one query: eager-load the relation with Query.With, or batch the lookups with a DataLoader (one IN query per batch)"
	case strings.HasPrefix(fp, "insert"):
		return "insert the rows together with orm.InsertMany or orm.CopyFrom instead of one Insert per row"
	}
	return ""
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// stats accumulates one fingerprint's executions.
type stats struct {
	count, errors, rows int64
	total               time.Duration
	hist                *hdr.Histogram // microseconds
}

// maxRecordedMicros is the histogram's top; longer queries are clamped.
const maxRecordedMicros = 60_000_000

func (ins *Inspector) record(fp string, d time.Duration, rows int64, failed bool) {
	ins.statsMu.Lock()
	defer ins.statsMu.Unlock()
	s := ins.stats[fp]
	if s == nil {
		if len(ins.stats) >= ins.maxFP {
			fp = OtherFingerprint
			s = ins.stats[fp]
		}
		if s == nil {
			s = &stats{hist: hdr.New(1, maxRecordedMicros, 2)}
			ins.stats[fp] = s
		}
	}
	s.count++
	s.rows += rows
	s.total += d
	if failed {
		s.errors++
	}
	_ = s.hist.RecordValue(min(max(d.Microseconds(), 1), maxRecordedMicros))
}

// Stat is the summary of one fingerprint.
type Stat struct {
	Fingerprint string  `json:"fingerprint"`
	Count       int64   `json:"count"`
	Errors      int64   `json:"errors"`
	Rows        int64   `json:"rows"`
	TotalMs     float64 `json:"totalMs"`
	MeanMs      float64 `json:"meanMs"`
	P50Ms       float64 `json:"p50Ms"`
	P95Ms       float64 `json:"p95Ms"`
	P99Ms       float64 `json:"p99Ms"`
	MaxMs       float64 `json:"maxMs"`
}

// Stats returns every fingerprint's summary, by total time, largest first.
func (ins *Inspector) Stats() []Stat {
	ins.statsMu.Lock()
	defer ins.statsMu.Unlock()
	out := make([]Stat, 0, len(ins.stats))
	for fp, s := range ins.stats {
		q := func(p float64) float64 { return float64(s.hist.ValueAtQuantile(p)) / 1000 }
		out = append(out, Stat{Fingerprint: fp, Count: s.count, Errors: s.errors, Rows: s.rows,
			TotalMs: ms(s.total), MeanMs: ms(s.total / time.Duration(s.count)),
			P50Ms: q(50), P95Ms: q(95), P99Ms: q(99), MaxMs: float64(s.hist.Max()) / 1000})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].TotalMs != out[j].TotalMs {
			return out[i].TotalMs > out[j].TotalMs
		}
		return out[i].Fingerprint < out[j].Fingerprint
	})
	return out
}

// Totals returns how many statements were traced, and how many of them
// were slow, since the Inspector was made (ResetStats keeps them).
func (ins *Inspector) Totals() (queries, slow uint64) {
	return ins.queries.Load(), ins.slowOnes.Load()
}

// ResetStats forgets the statistics.
func (ins *Inspector) ResetStats() {
	ins.statsMu.Lock()
	ins.stats = map[string]*stats{}
	ins.statsMu.Unlock()
}
