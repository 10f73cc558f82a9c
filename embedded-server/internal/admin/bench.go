package admin

import (
	"net/http"
	"strconv"

	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/loadgen/runstore"
	"github.com/covetpy/covet/backend/metrics"
	"github.com/covetpy/covet/backend/problem"
)

// Bench runs load tests and keeps their results (the Benchmarks page).
// Errors it returns are *problem.Details where the status matters (404 for
// an unknown run, 409 for a run that is busy, 400 for a bad spec).
type Bench interface {
	// Start begins a run in the background and returns it as "running".
	Start(req BenchStart) (*runstore.Run, error)
	// Cancel stops a running run; it is stored as cancelled with the data
	// so far.
	Cancel(id string) (*runstore.Run, error)
	List() ([]runstore.Summary, error)
	// Get returns a run; a running one carries its series so far.
	Get(id string) (*runstore.Run, error)
	Rename(id, name string) (*runstore.Run, error)
	Delete(id string) error
	Compare(a, b string) (*BenchComparison, error)
	// Export renders a run as "json", "csv" or "html".
	Export(id, format string) (Export, error)
	// Signals returns the server's recent per-second signals, oldest first.
	Signals() []metrics.Signals
}

// BenchStart is POST /_covet/api/bench/runs.
type BenchStart struct {
	loadgen.Spec
	// Source is "studio" (default) or "route:<id>" when started from a
	// route.
	Source string `json:"source,omitempty"`
}

// BenchProgress is the data of a bench.progress event: one second of a
// running load test and the server's signals in it.
type BenchProgress struct {
	ID       string           `json:"id"`
	Progress loadgen.Progress `json:"progress"`
	Signals  metrics.Signals  `json:"signals"`
}

// BenchComparison is GET /_covet/api/bench/compare?a=…&b=….
type BenchComparison struct {
	A    runstore.Summary        `json:"a"`
	B    runstore.Summary        `json:"b"`
	Rows []loadgen.ComparisonRow `json:"rows"`
}

// Export is a rendered run.
type Export struct {
	ContentType string
	Filename    string
	Body        []byte
}

// Limits of the bench endpoints.
const maxBenchRequest = loadgen.MaxBody + 64<<10

func (a *API) mountBench(api func(string, http.HandlerFunc)) {
	api("GET /_covet/api/bench/runs", func(w http.ResponseWriter, r *http.Request) {
		list, err := a.bench.List()
		respond(w, http.StatusOK, list, err)
	})
	api("POST /_covet/api/bench/runs", func(w http.ResponseWriter, r *http.Request) {
		var in BenchStart
		if !decodeBodyLimit(w, r, &in, maxBenchRequest) {
			return
		}
		run, err := a.bench.Start(in)
		respond(w, http.StatusCreated, run, err)
	})
	api("GET /_covet/api/bench/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		run, err := a.bench.Get(r.PathValue("id"))
		respond(w, http.StatusOK, run, err)
	})
	api("PATCH /_covet/api/bench/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Name string `json:"name"`
		}
		if !decodeBody(w, r, &in) {
			return
		}
		run, err := a.bench.Rename(r.PathValue("id"), in.Name)
		respond(w, http.StatusOK, run, err)
	})
	api("DELETE /_covet/api/bench/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := a.bench.Delete(r.PathValue("id")); err != nil {
			problem.Write(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	api("POST /_covet/api/bench/runs/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		run, err := a.bench.Cancel(r.PathValue("id"))
		respond(w, http.StatusOK, run, err)
	})
	api("GET /_covet/api/bench/runs/{id}/export", func(w http.ResponseWriter, r *http.Request) {
		format := r.URL.Query().Get("format")
		ex, err := a.bench.Export(r.PathValue("id"), format)
		if err != nil {
			problem.Write(w, err)
			return
		}
		w.Header().Set("Content-Type", ex.ContentType)
		w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(ex.Filename))
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(ex.Body)
	})
	api("GET /_covet/api/bench/compare", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("a") == "" || q.Get("b") == "" {
			problem.Write(w, problem.New(http.StatusBadRequest, "compare needs two run ids: ?a=ID&b=ID"))
			return
		}
		c, err := a.bench.Compare(q.Get("a"), q.Get("b"))
		respond(w, http.StatusOK, c, err)
	})
	api("GET /_covet/api/signals", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, a.bench.Signals())
	})
}

// respond writes v with status, or err as a problem.
func respond(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		problem.Write(w, err)
		return
	}
	writeJSONStatus(w, status, v)
}
