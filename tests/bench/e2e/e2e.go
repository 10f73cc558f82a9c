// Package e2e builds the contenders of the end-to-end HTTP benchmark
// (scripts/bench http): the same two handlers behind net/http's ServeMux,
// covet without and with its default stack, and gin and chi with the
// equivalent middleware; and the two contenders of the resource workload
// (scripts/bench resource, resource.go): GET /users/{id} from PostgreSQL by
// a covet resource and by raw pgx + net/http. cmd/e2eserver serves one of
// them; the tests of ../ check that every contender answers alike.
package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/covetpy/covet/backend/covet"
	"github.com/covetpy/covet/backend/metrics"
	covetmw "github.com/covetpy/covet/backend/middleware"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// Contender is one server under test.
type Contender struct {
	Name string // the -impl flag of cmd/e2eserver
	Desc string // what it runs, for docs/BENCHMARKS.md
	// Build returns the handler; every call builds a fresh one (its own
	// Prometheus registry).
	Build func() (http.Handler, error)
}

// Contenders in the order the benchmark runs them.
//
// covet-default is (c) of issue #3: covet's default stack as the issue names
// it (recover, request id, access log, metrics), and gin and chi get the
// equivalent middleware. covet-secure is the stack covet.New ships, which
// adds the security headers (about 200 bytes per response); it is measured
// beside the goals, not judged by them.
var Contenders = []Contender{
	{"servemux", "net/http ServeMux, plain handlers", buildServeMux},
	{"covet-bare", "covet.New(covet.Config{Bare: true}): the router, no middleware", buildCovetBare},
	{"covet-default", "covet default stack as issue #3 names it: recover, request id, real IP, access log (slog JSON to io.Discard, every request), Prometheus metrics (NoSecurityHeaders)", buildCovetDefault},
	{"covet-secure", "covet-default with the security headers, as covet.New ships it", buildCovetSecure},
	{"gin", "gin.New() + gin.Recovery(), request id, gin.LoggerWithWriter(io.Discard), Prometheus counter+histogram", buildGin},
	{"chi", "chi + middleware.Recoverer, middleware.RequestID (echoed), middleware.RequestLogger (to io.Discard), Prometheus counter+histogram", buildChi},
}

// Lookup returns the contender called name.
func Lookup(name string) (Contender, bool) {
	for _, c := range Contenders {
		if c.Name == name {
			return c, true
		}
	}
	return Contender{}, false
}

// The work every contender's handlers do.

// HelloBody is the body of GET /hello: 13 bytes.
var HelloBody = []byte("Hello, World!")

// Hello writes HelloBody as text/plain.
func Hello(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(HelloBody)
}

type user struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// User writes {"id":ID,"name":"user ID"} as application/json, encoded by
// encoding/json in every contender.
func User(w http.ResponseWriter, id string) {
	b, err := json.Marshal(user{ID: id, Name: "user " + id})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func buildServeMux() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { Hello(w) })
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { User(w, r.PathValue("id")) })
	return mux, nil
}

func covetRoutes(app *covet.App) (http.Handler, error) {
	app.Get("/hello", func(w http.ResponseWriter, r *http.Request) { Hello(w) })
	app.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) { User(w, r.PathValue("id")) })
	return app.Handler()
}

func buildCovetBare() (http.Handler, error) {
	return covetRoutes(covet.New(covet.Config{Bare: true}))
}

// defaultConfig is covet-default's App configuration: the default stack
// with an access line per request (slog JSON to io.Discard) and metrics,
// with or without the security headers.
func defaultConfig(secure bool) covet.Config {
	return covet.Config{
		Stack: covetmw.DefaultConfig{
			AccessLog:         slog.New(slog.NewJSONHandler(io.Discard, nil)),
			NoSecurityHeaders: !secure,
		},
		Metrics: prometheus.NewRegistry(),
	}
}

func buildCovetDefault() (http.Handler, error) { return covetRoutes(covet.New(defaultConfig(false))) }
func buildCovetSecure() (http.Handler, error)  { return covetRoutes(covet.New(defaultConfig(true))) }

// promHTTP is the peers' equivalent of covet's request metrics: a counter
// by method, route and code and a latency histogram by method and route,
// with covet's buckets, registered with a fresh registry.
type promHTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	codes    [600]string
}

func newPromHTTP() *promHTTP {
	m := &promHTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by method, route and code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: metrics.LatencyBuckets(),
		}, []string{"method", "route"}),
	}
	for c := range m.codes {
		m.codes[c] = strconv.Itoa(c)
	}
	prometheus.NewRegistry().MustRegister(m.requests, m.duration)
	return m
}

func (m *promHTTP) observe(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	code := "other"
	if status > 0 && status < len(m.codes) {
		code = m.codes[status]
	}
	m.requests.WithLabelValues(method, route, code).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// SecurityHeaders are the headers covet's default stack sets on plain HTTP
// unless told not to, with their values.
var SecurityHeaders = map[string]string{
	"Content-Security-Policy": covetmw.DefaultCSP,
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "strict-origin-when-cross-origin",
}

// requestIDs make ids the way covet's and chi's middleware do: a random
// prefix per process and a counter.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func (ids *requestIDs) next() string {
	return ids.prefix + strconv.FormatUint(ids.n.Add(1), 10)
}

func buildGin() (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	ids := &requestIDs{prefix: fmt.Sprintf("%x-", time.Now().UnixNano())}
	m := newPromHTTP()
	e.Use(
		gin.Recovery(),
		func(c *gin.Context) { // request id, as gin-contrib/requestid does
			id := c.GetHeader("X-Request-Id")
			if id == "" {
				id = ids.next()
			}
			c.Header("X-Request-Id", id)
			c.Set("requestID", id)
			c.Next()
		},
		gin.LoggerWithWriter(io.Discard),
		func(c *gin.Context) { // metrics
			start := time.Now()
			c.Next()
			m.observe(c.Request.Method, c.FullPath(), c.Writer.Status(), time.Since(start))
		},
	)
	e.GET("/hello", func(c *gin.Context) { Hello(c.Writer) })
	e.GET("/users/:id", func(c *gin.Context) { User(c.Writer, c.Param("id")) })
	return e, nil
}

func buildChi() (http.Handler, error) {
	r := chi.NewRouter()
	m := newPromHTTP()
	r.Use(
		chimw.Recoverer,
		chimw.RequestID,
		func(next http.Handler) http.Handler { // chi's RequestID keeps the id in the context only
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(chimw.RequestIDHeader, chimw.GetReqID(r.Context()))
				next.ServeHTTP(w, r)
			})
		},
		chimw.RequestLogger(&chimw.DefaultLogFormatter{Logger: log.New(io.Discard, "", log.LstdFlags), NoColor: true}),
		func(next http.Handler) http.Handler { // metrics
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ww := chimw.NewWrapResponseWriter(w, r.ProtoMajor)
				start := time.Now()
				next.ServeHTTP(ww, r)
				status := ww.Status()
				if status == 0 {
					status = http.StatusOK
				}
				m.observe(r.Method, chi.RouteContext(r.Context()).RoutePattern(), status, time.Since(start))
			})
		},
	)
	r.Get("/hello", func(w http.ResponseWriter, r *http.Request) { Hello(w) })
	r.Get("/users/{id}", func(w http.ResponseWriter, r *http.Request) { User(w, chi.URLParam(r, "id")) })
	return r, nil
}
