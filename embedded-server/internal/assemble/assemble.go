// Package assemble turns a validated configuration into the http.Handler of
// the public listener. A Handler holds the current tree behind an atomic
// pointer, so a new configuration is swapped in without closing the
// listener, and in-flight requests finish on the tree they started on.
package assemble

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/ratelimit"
	"github.com/covetpy/covet/backend/router"
	"github.com/covetpy/covet/embedded-server/internal/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Deps are the server's shared pieces that every tree uses.
type Deps struct {
	// DB is the primary database, pinged by /readyz.
	DB *sql.DB
	// Gatherer is exposed at /metrics.
	Gatherer prometheus.Gatherer
	// Report receives every served route request (probes and metrics
	// excluded).
	Report middleware.ReportFunc
	// OnPanic is told about handler panics.
	OnPanic middleware.PanicFunc
	// Logger receives the access log; nil discards it.
	Logger *slog.Logger
	// Project is the project folder, which static routes serve below.
	Project string
}

// Handler serves the public listener: probes, metrics and the configured
// routes. Admin and studio paths are mounted beside it by the server.
type Handler struct {
	routes    atomic.Pointer[http.Handler]    // the current route tree, behind the stack
	system    *http.ServeMux                  // probes and metrics, fixed
	stack     func(http.Handler) http.Handler // the middleware around every tree
	project   string                          // the project folder
	transport *http.Transport                 // shared by proxy routes, so connections are pooled

	mu       sync.Mutex                   // guards limiters
	limiters map[string]*ratelimit.Memory // by route id and limit, kept across compiles
}

// New returns a Handler serving cfg.
func New(cfg *config.Config, d Deps) (*Handler, error) {
	if d.DB == nil || d.Gatherer == nil || d.Report == nil {
		return nil, errors.New("assemble: DB, Gatherer and Report are required")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	h := &Handler{system: http.NewServeMux(), limiters: map[string]*ratelimit.Memory{}, project: d.Project, transport: transport}
	h.system.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	h.system.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := d.DB.PingContext(ctx); err != nil {
			problem.Write(w, problem.New(http.StatusServiceUnavailable, "database unreachable: "+err.Error()))
			return
		}
		writeStatus(w, http.StatusOK, "ready")
	})
	h.system.Handle("GET /metrics", promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{}))

	h.stack = defaultStack(cfg.Server, d)
	if err := h.Apply(cfg); err != nil {
		return nil, err
	}
	return h, nil
}

// defaultStack is the middleware every configured route runs behind,
// outermost first: recover, request id, real IP (trusted proxies only),
// access log, security headers, instrumentation (metrics and studio events).
// It is fixed for the life of the server, like the rest of the server
// section.
func defaultStack(s config.Server, d Deps) func(http.Handler) http.Handler {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	layers := []func(http.Handler) http.Handler{
		middleware.Recoverer(d.OnPanic),
		middleware.RequestID(),
		middleware.RealIP(s.TrustedPrefixes()),
	}
	switch s.AccessLog {
	case "all":
		layers = append(layers, middleware.AccessLog(log, 1))
	case "errors":
		layers = append(layers, middleware.AccessLog(log, math.MaxInt))
	}
	layers = append(layers, middleware.SecurityHeaders(), middleware.Instrument(d.Report))
	return func(next http.Handler) http.Handler {
		for i := len(layers) - 1; i >= 0; i-- {
			next = layers[i](next)
		}
		return next
	}
}

// Tree is a compiled route table behind the middleware stack, ready to be
// swapped in.
type Tree struct{ h http.Handler }

// Compile builds cfg's routes behind the middleware stack without serving
// them.
func (h *Handler) Compile(cfg *config.Config) (Tree, error) {
	routes, err := h.compileRoutes(cfg)
	if err != nil {
		return Tree{}, err
	}
	return Tree{h.stack(routes)}, nil
}

// Swap serves t from now on. Requests already running finish on the tree
// they started on.
func (h *Handler) Swap(t Tree) { h.routes.Store(&t.h) }

// Apply compiles cfg and swaps it in. On error the current routes keep
// serving.
func (h *Handler) Apply(cfg *config.Config) error {
	t, err := h.Compile(cfg)
	if err != nil {
		return err
	}
	h.Swap(t)
	return nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.system.Handler(r); pattern != "" {
		h.system.ServeHTTP(w, r)
		return
	}
	(*h.routes.Load()).ServeHTTP(w, r)
}

// compileRoutes builds the routes of one configuration on Covet's router:
// unmatched requests get problem+json 404, or 405 with Allow when another
// method matches; GET routes answer HEAD, and every path answers OPTIONS
// (a CORS preflight when a route of the path has a CORS policy).
func (h *Handler) compileRoutes(cfg *config.Config) (http.Handler, error) {
	policy := router.RedirectSlash
	if cfg.Server.TrailingSlash == "strict" {
		policy = router.StrictSlash
	}
	b := router.New(router.Options{TrailingSlash: policy})
	used := map[string]bool{}
	preflight := map[string]bool{} // paths with an OPTIONS route already
	for _, rt := range cfg.Routes {
		if rt.Method == http.MethodOptions {
			preflight[rt.Path] = true
		}
	}
	var problems config.Errors
	for i, rt := range cfg.Routes {
		var handler http.Handler
		switch rt.Kind {
		case "mock":
			handler = mockHandler(rt.Mock)
		case "redirect":
			handler = redirectHandler(rt.Redirect)
		case "proxy":
			handler = proxyHandler(rt.Proxy, h.transport)
		case "static":
			var err error
			if handler, err = staticHandler(h.project, rt.Static, catchAllName(rt.Path)); err != nil {
				problems = append(problems, problem.FieldError{Path: fmt.Sprintf("routes[%d].static.dir", i), Message: fmt.Sprintf("cannot open %q: %v", rt.Static.Dir, errors.Unwrap(err))})
				continue
			}
		default:
			return nil, fmt.Errorf("routes[%d].kind: unknown kind %q", i, rt.Kind)
		}
		handler = h.withPolicy(rt, handler, used)
		b.Handle(rt.Method, rt.Path, handler).Source = fmt.Sprintf("routes[%d]", i)
		if rt.Policy != nil && rt.Policy.CORS != nil && !preflight[rt.Path] {
			preflight[rt.Path] = true
			b.Handle(http.MethodOptions, rt.Path, corsMiddleware(rt.Policy.CORS)(http.NotFoundHandler())).Source = fmt.Sprintf("routes[%d].policy.cors", i)
		}
	}
	if len(problems) > 0 {
		return nil, problems // the filesystem disagrees with the configuration
	}
	r, err := b.Build()
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	for k := range h.limiters {
		if !used[k] {
			delete(h.limiters, k)
		}
	}
	h.mu.Unlock()
	return r, nil
}

// withPolicy wraps a route's handler in its policy, outermost first: CORS,
// rate limit, body limit, timeout, cache headers.
func (h *Handler) withPolicy(rt config.Route, next http.Handler, used map[string]bool) http.Handler {
	p := rt.Policy
	if p == nil {
		return next
	}
	if p.Cache != nil {
		next = middleware.CacheControl(p.Cache.CacheControl())(next)
	}
	if p.Timeout > 0 {
		next = middleware.Timeout(p.Timeout.Std())(next)
	}
	if p.BodyLimit > 0 {
		next = middleware.BodyLimit(p.BodyLimit)(next)
	}
	if rl := p.RateLimit; rl != nil {
		key := fmt.Sprintf("%s|%d|%v|%d|%s", rt.ID, rl.Rate, rl.Per, rl.Burst, rl.Key)
		used[key] = true
		h.mu.Lock()
		lim := h.limiters[key]
		if lim == nil {
			lim = ratelimit.NewMemory(ratelimit.Config{Rate: rl.Rate, Per: rl.Per.Std(), Burst: rl.Burst})
			h.limiters[key] = lim
		}
		h.mu.Unlock()
		keyFn := middleware.KeyByIP
		switch header, isHeader := strings.CutPrefix(rl.Key, "header:"); {
		case rl.Key == "route":
			keyFn = middleware.KeyGlobal
		case isHeader:
			keyFn = middleware.KeyByHeader(header)
		}
		next = middleware.RateLimit(lim, keyFn)(next)
	}
	if p.CORS != nil {
		next = corsMiddleware(p.CORS)(next)
	}
	return next
}

func corsMiddleware(c *config.CORS) func(http.Handler) http.Handler {
	return middleware.CORS(middleware.CORSOptions{
		AllowOrigins: c.AllowOrigins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
		ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials, MaxAge: c.MaxAge.Std(),
	})
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
}
