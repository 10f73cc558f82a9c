package embeddedserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/covetpy/covet/backend/events"
	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/loadgen/report"
	"github.com/covetpy/covet/backend/loadgen/runstore"
	"github.com/covetpy/covet/backend/metrics"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/security/jwt"
	"github.com/covetpy/covet/backend/security/keys"
	"github.com/covetpy/covet/embedded-server/internal/admin"
	"github.com/covetpy/covet/embedded-server/internal/config"
	gojwt "github.com/golang-jwt/jwt/v5"
)

// StudioDB is the SQLite database in DataDir that holds the studio's own
// records (load-test runs), apart from the project's database.
const StudioDB = "studio.db"

// Limits of the load tests.
const (
	signalsLength = 300             // seconds of server signals kept for the Dashboard
	cancelWait    = 5 * time.Second // how long Cancel waits for the run to be stored
)

// benchService runs the studio's load tests, one at a time, and keeps
// them in covet_data/studio.db. It implements admin.Bench.
type benchService struct {
	store   *runstore.Store
	hub     *events.Hub
	log     *slog.Logger
	sources metrics.SignalSources
	ring    *keys.Ring
	routes  interface {
		Auth() (config.Auth, *jwt.Verifier)
	}
	conf func() ([]byte, string) // covet.json as applied, and its ETag

	mu      sync.Mutex // guards the fields below
	active  *activeRun // the run in progress, nil when none
	closed  bool
	signals []metrics.Signals // the last signalsLength seconds, oldest first
}

var _ admin.Bench = (*benchService)(nil)

// activeRun is the run in progress.
type activeRun struct {
	run    *runstore.Run // guarded by benchService.mu while active
	cancel context.CancelFunc
	done   chan struct{} // closed once the run is stored
}

// openBench opens the run store; runs it holds as running were cut off
// by the end of an earlier process.
func openBench(path string) (*benchService, error) {
	st, err := runstore.Open(path)
	if err != nil {
		return nil, err
	}
	if err := st.FailInterrupted(context.Background()); err != nil {
		st.Close()
		return nil, err
	}
	return &benchService{store: st}, nil
}

// tick records one second of server signals for the Dashboard.
func (b *benchService) tick(sig metrics.Signals) {
	b.mu.Lock()
	if len(b.signals) == signalsLength {
		b.signals = append(b.signals[:0], b.signals[1:]...)
	}
	b.signals = append(b.signals, sig)
	b.mu.Unlock()
	if b.hub.Active() {
		b.hub.Publish(admin.EventSignals, sig)
	}
}

// Signals implements admin.Bench.
func (b *benchService) Signals() []metrics.Signals {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]metrics.Signals{}, b.signals...)
}

// Start implements admin.Bench.
func (b *benchService) Start(req admin.BenchStart) (*runstore.Run, error) {
	spec := req.Spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, specProblem(err)
	}
	if err := runstore.ValidName(spec.Name); err != nil {
		return nil, fieldProblem(http.StatusBadRequest, "name", strings.TrimPrefix(err.Error(), "name: "))
	}
	source := req.Source
	switch {
	case source == "":
		source = "studio"
	case source == "studio", strings.HasPrefix(source, "route:") && len(source) <= 200:
	default:
		return nil, fieldProblem(http.StatusBadRequest, "source", fmt.Sprintf("%q is not \"studio\" or \"route:<id>\"", source))
	}
	doc, etag := b.conf()
	var conf config.Config
	_ = json.Unmarshal(doc, &conf) // the applied document is valid
	opts := loadgen.HTTPOptions{AllowHosts: conf.Bench.AllowHosts, Mint: b.mint(spec)}

	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return nil, problem.New(http.StatusServiceUnavailable, "the server is shutting down")
	case b.active != nil:
		return nil, problem.New(http.StatusConflict, "load test "+b.active.run.ID+" is running: wait for it to end or cancel it first")
	}
	ctx, cancel := context.WithCancel(context.Background())
	sc, err := loadgen.NewHTTP(ctx, spec, opts)
	if err != nil {
		cancel()
		if errors.Is(err, loadgen.ErrNotLoopback) {
			err = fmt.Errorf("%w (add the host to bench.allowHosts in covet.json to allow it)", err)
		}
		return nil, fieldProblem(http.StatusBadRequest, "url", strings.TrimPrefix(err.Error(), "url: "))
	}
	run := &runstore.Run{ID: runstore.NewID(), Name: spec.Name, Status: runstore.Running, Source: source, Spec: spec,
		StartedAt: time.Now().UTC(), Version: Version, ConfigHash: strings.Trim(etag, `"`), Signals: []metrics.Signals{},
		Result: &loadgen.Result{Series: []loadgen.Second{}, Status: map[string]uint64{}, ErrorKinds: map[string]uint64{}, Histogram: []loadgen.Bucket{}}}
	if err := b.store.Save(context.Background(), run); err != nil {
		cancel()
		return nil, err
	}
	a := &activeRun{run: run, cancel: cancel, done: make(chan struct{})}
	b.active = a
	go b.execute(ctx, a, spec, sc)
	return cloneRun(run), nil
}

// execute runs a load test to its end and stores it.
func (b *benchService) execute(ctx context.Context, a *activeRun, spec loadgen.Spec, sc loadgen.Scenario) {
	defer close(a.done)
	defer a.cancel()
	sampler := metrics.NewSampler(b.sources)
	res, err := loadgen.Run(ctx, spec, sc, func(p loadgen.Progress) {
		sig := sampler.Sample(time.Now())
		b.mu.Lock()
		if !p.Warmup {
			a.run.Result.Series = append(a.run.Result.Series, p.Second)
			a.run.Signals = append(a.run.Signals, sig)
			r := a.run.Result
			r.Requests, r.Errors, r.DurationSeconds = p.Requests, p.Errors, p.Second.T
			if p.Second.T > 0 {
				r.RPS = float64(int64(float64(p.Requests)/p.Second.T*100)) / 100
			}
		}
		b.mu.Unlock()
		if b.hub.Active() {
			b.hub.Publish(admin.EventBenchProgress, admin.BenchProgress{ID: a.run.ID, Progress: p, Signals: sig})
		}
	})

	b.mu.Lock()
	run := a.run
	ended := time.Now().UTC()
	run.EndedAt = &ended
	switch {
	case err != nil:
		run.Status, run.Error, run.Result = runstore.Failed, err.Error(), nil
	default:
		// The last, partial second has no progress call: sample it now.
		for len(run.Signals) < len(res.Series) {
			run.Signals = append(run.Signals, sampler.Sample(time.Now()))
		}
		run.Signals = run.Signals[:len(res.Series)]
		run.Result, run.Status = res, runstore.Completed
		if res.Stopped == loadgen.StoppedCancelled {
			run.Status = runstore.Cancelled
		}
	}
	b.active = nil
	b.mu.Unlock()

	saveCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.store.Save(saveCtx, run); err != nil {
		b.log.Error("storing a load test", "id", run.ID, "err", err)
	}
	if b.hub.Active() {
		b.hub.Publish(admin.EventBenchFinished, run.Summarize())
	}
	b.log.Info("load test ended", "id", run.ID, "status", run.Status, "target", sc.Describe())
}

// mint returns the token maker of a spec that asks for tokens.
func (b *benchService) mint(spec loadgen.Spec) func(int, loadgen.TokenSpec) (string, error) {
	ttl := spec.Warmup.Std() + spec.Duration.Std() + spec.Timeout.Std() + time.Minute
	return func(vu int, t loadgen.TokenSpec) (string, error) {
		auth, _ := b.routes.Auth()
		var src jwt.KeySource = b.ring
		if t.Kid != "" {
			src = pickedKey{b.ring, t.Kid}
		}
		claims := jwt.Claims{RegisteredClaims: gojwt.RegisteredClaims{Subject: strings.ReplaceAll(t.Subject, "{vu}", fmt.Sprint(vu))},
			Roles: t.Roles, Scope: t.Scope}
		token, _, _, err := jwt.Mint(auth.JWT(), src, jwt.Access, claims, ttl)
		if err != nil {
			return "", fmt.Errorf("auth: %w", err)
		}
		return token, nil
	}
}

// pickedKey signs with one chosen key of a ring.
type pickedKey struct {
	ring *keys.Ring
	kid  string
}

func (p pickedKey) VerificationKey(kid string) (jwt.Key, bool) { return p.ring.VerificationKey(kid) }
func (p pickedKey) SigningKey() (jwt.Key, bool)                { return p.ring.SigningKeyByID(p.kid) }

// Cancel implements admin.Bench.
func (b *benchService) Cancel(id string) (*runstore.Run, error) {
	b.mu.Lock()
	a := b.active
	b.mu.Unlock()
	if a == nil || a.run.ID != id {
		if _, err := b.Get(id); err != nil {
			return nil, err
		}
		return nil, problem.New(http.StatusConflict, "load test "+id+" is not running")
	}
	a.cancel()
	select {
	case <-a.done:
	case <-time.After(cancelWait):
	}
	return b.Get(id)
}

// Get implements admin.Bench.
func (b *benchService) Get(id string) (*runstore.Run, error) {
	b.mu.Lock()
	if a := b.active; a != nil && a.run.ID == id {
		defer b.mu.Unlock()
		return cloneRun(a.run), nil
	}
	b.mu.Unlock()
	run, err := b.store.Get(context.Background(), id)
	return run, notFound(err)
}

// List implements admin.Bench.
func (b *benchService) List() ([]runstore.Summary, error) {
	list, err := b.store.List(context.Background())
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := b.active; a != nil {
		for i := range list {
			if list[i].ID == a.run.ID {
				list[i] = a.run.Summarize()
			}
		}
	}
	return list, nil
}

// Rename implements admin.Bench.
func (b *benchService) Rename(id, name string) (*runstore.Run, error) {
	if err := runstore.ValidName(name); err != nil {
		return nil, fieldProblem(http.StatusBadRequest, "name", strings.TrimPrefix(err.Error(), "name: "))
	}
	b.mu.Lock()
	if a := b.active; a != nil && a.run.ID == id {
		defer b.mu.Unlock()
		a.run.Name = name
		return cloneRun(a.run), nil // stored with the new name when it ends
	}
	b.mu.Unlock()
	run, err := b.store.Rename(context.Background(), id, name)
	return run, notFound(err)
}

// Delete implements admin.Bench.
func (b *benchService) Delete(id string) error {
	b.mu.Lock()
	busy := b.active != nil && b.active.run.ID == id
	b.mu.Unlock()
	if busy {
		return problem.New(http.StatusConflict, "load test "+id+" is running: cancel it before deleting it")
	}
	return notFound(b.store.Delete(context.Background(), id))
}

// Compare implements admin.Bench.
func (b *benchService) Compare(idA, idB string) (*admin.BenchComparison, error) {
	var runs [2]*runstore.Run
	for i, id := range []string{idA, idB} {
		run, err := b.Get(id)
		if err != nil {
			return nil, err
		}
		if run.Status == runstore.Running || run.Result == nil {
			return nil, problem.New(http.StatusConflict, "load test "+id+" has no result to compare: it is "+run.Status)
		}
		runs[i] = run
	}
	c := loadgen.Compare(runs[0].Result, runs[1].Result)
	return &admin.BenchComparison{A: runs[0].Summarize(), B: runs[1].Summarize(), Rows: c.Rows}, nil
}

// Export implements admin.Bench.
func (b *benchService) Export(id, format string) (admin.Export, error) {
	run, err := b.Get(id)
	if err != nil {
		return admin.Export{}, err
	}
	if run.Status == runstore.Running {
		return admin.Export{}, problem.New(http.StatusConflict, "load test "+id+" is still running: export it when it ends")
	}
	ex, err := exportRun(run, format)
	if err != nil {
		return admin.Export{}, fieldProblem(http.StatusBadRequest, "format", err.Error())
	}
	return ex, nil
}

// exportRun renders a run as "json", "csv" or "html".
func exportRun(run *runstore.Run, format string) (admin.Export, error) {
	var buf bytes.Buffer
	ex := admin.Export{Filename: "covet-bench-" + run.ID + "." + format}
	switch format {
	case "json":
		ex.ContentType = "application/json"
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(run); err != nil {
			return ex, err
		}
	case "csv":
		ex.ContentType = "text/csv; charset=utf-8"
		if err := report.CSV(&buf, run); err != nil {
			return ex, err
		}
	case "html":
		ex.ContentType = "text/html; charset=utf-8"
		if err := report.HTML(&buf, run); err != nil {
			return ex, err
		}
	default:
		return ex, fmt.Errorf("%q is not an export format: use json, csv or html", format)
	}
	ex.Body = buf.Bytes()
	return ex, nil
}

// close cancels the run in progress, waits until it is stored and closes
// the store.
func (b *benchService) close() error {
	b.mu.Lock()
	b.closed = true
	a := b.active
	b.mu.Unlock()
	if a != nil {
		a.cancel()
		<-a.done
	}
	return b.store.Close()
}

// cloneRun copies a run deeply enough that the caller may encode it while
// the run goes on.
func cloneRun(r *runstore.Run) *runstore.Run {
	c := *r
	c.Signals = append([]metrics.Signals{}, r.Signals...)
	if r.Result != nil {
		res := *r.Result
		res.Series = append([]loadgen.Second{}, r.Result.Series...)
		c.Result = &res
	}
	return &c
}

// specProblem turns a spec's errors into a 400 problem naming each field.
func specProblem(err error) error {
	var errs loadgen.SpecErrors
	if !errors.As(err, &errs) {
		return err
	}
	p := problem.New(http.StatusBadRequest, err.Error())
	p.Errors = errs
	return p
}

// notFound turns runstore.ErrNotFound into a 404 problem.
func notFound(err error) error {
	if errors.Is(err, runstore.ErrNotFound) {
		return problem.New(http.StatusNotFound, err.Error())
	}
	return err
}
