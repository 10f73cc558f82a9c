// Package covet is Covet's framework as a Go library: the router, the
// default middleware stack, problem+json errors and the HTTP server in one
// value, with an API in the spirit of chi's.
//
//	app := covet.New(covet.Config{})
//	app.Use(authenticate)
//	app.Get("/users/{id}", showUser).Name("user")
//	app.Route("/admin", func(r *router.Builder) {
//		r.Post("/reindex", reindex)
//	})
//	app.Register("users.export", exportUsers) // config routes can name it
//	err := app.Run(ctx, httpserver.Config{Addr: ":8080"})
//
// Handlers are plain http.HandlerFuncs reading r.PathValue; handlers that
// return an error are written as problem.HandlerFunc. Everything an App
// registers is also what the config-driven server serves when it is given
// the App (embeddedserver.Config.App): its routes beside the configured
// ones, and its named handlers for routes of kind "handler".
package covet

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/covetpy/covet/backend/httpserver"
	"github.com/covetpy/covet/backend/metrics"
	"github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/backend/router"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures an App. The zero value is ready to use: the default
// stack without access log or metrics, and redirects for trailing slashes.
type Config struct {
	// TrailingSlash is the router's trailing-slash policy.
	TrailingSlash router.TrailingSlash
	// NotFound answers requests that match no route; nil means a
	// problem+json 404.
	NotFound http.Handler
	// Stack configures the default middleware stack (recover, request id,
	// real IP, access log, security headers, instrumentation).
	Stack middleware.DefaultConfig
	// Bare leaves the default stack out: the routes run behind their own
	// middleware only.
	Bare bool
	// Metrics, when set, gets covet_http_requests_total and
	// covet_http_request_duration_seconds, recorded for every request.
	Metrics prometheus.Registerer
}

// App is an application: routes, middleware and named handlers. Register
// everything before calling Handler or Run; an App is not safe for
// concurrent registration.
//
// The routing methods (Get, Post, Put, Patch, Delete, Handle, Group, Use,
// Include) are the router.Builder's.
type App struct {
	*router.Builder
	stack middleware.Stack
	named map[string]NamedHandler
	built atomic.Pointer[router.Router] // the table serving the routes, for URL
}

// NamedHandler is a handler registered by name, which configured routes of
// kind "handler" refer to.
type NamedHandler struct {
	Name    string
	Handler http.Handler
	Source  string // file:line of the registration
}

// New returns an empty App. It panics when Config.Metrics refuses the
// metrics (a registry that has them already).
func New(cfg Config) *App {
	a := &App{
		Builder: router.New(router.Options{TrailingSlash: cfg.TrailingSlash, NotFound: cfg.NotFound}),
		named:   map[string]NamedHandler{},
	}
	if cfg.Bare {
		return a
	}
	sc := cfg.Stack
	if cfg.Metrics != nil {
		m := metrics.NewHTTP()
		cfg.Metrics.MustRegister(m.Collectors()...)
		report := sc.Report
		sc.Report = func(r *http.Request, rec middleware.Record) {
			m.Observe(r.Method, r.Pattern, rec.Status, rec.Duration)
			if report != nil {
				report(r, rec)
			}
		}
	}
	a.stack = middleware.Default(sc)
	return a
}

// Route registers the routes fn adds below prefix, sharing mw; it returns
// the group for further use.
func (a *App) Route(prefix string, fn func(r *router.Builder), mw ...router.Middleware) *router.Builder {
	g := a.Group(prefix, mw...)
	fn(g)
	return g
}

// Register names h so that configured routes can serve it
// (`"kind": "handler", "handler": {"name": name}`); the studio lists the
// names with the file:line of their registration. It panics on an empty or
// duplicate name, a mistake in the program.
func (a *App) Register(name string, h http.Handler) {
	if name == "" || strings.TrimSpace(name) != name || h == nil {
		panic(fmt.Sprintf("covet: Register(%q): the name must be non-empty without surrounding spaces, and the handler non-nil", name))
	}
	if prev, dup := a.named[name]; dup {
		panic(fmt.Sprintf("covet: Register(%q): already registered at %s", name, prev.Source))
	}
	_, file, line, _ := runtime.Caller(1)
	a.named[name] = NamedHandler{Name: name, Handler: h, Source: fmt.Sprintf("%s:%d", file, line)}
}

// Handlers returns the named handlers, sorted by name.
func (a *App) Handlers() []NamedHandler {
	out := make([]NamedHandler, 0, len(a.named))
	for _, h := range a.named {
		out = append(out, h)
	}
	slices.SortFunc(out, func(x, y NamedHandler) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// Named returns the handler registered as name.
func (a *App) Named(name string) (NamedHandler, bool) {
	h, ok := a.named[name]
	return h, ok
}

// Stack returns the middleware every request passes before routing: the
// default stack as configured, or nothing for a Bare App.
func (a *App) Stack() middleware.Stack { return slices.Clone(a.stack) }

// Handler builds the routing table behind the stack. The error is a
// *router.BuildError naming every bad or conflicting route with the
// file:line of its registration.
func (a *App) Handler() (http.Handler, error) {
	r, err := a.Build()
	if err != nil {
		return nil, fmt.Errorf("covet: building routes: %w", err)
	}
	a.ServedBy(r)
	return a.stack.Then(r), nil
}

// ServedBy tells the App that r, a table that includes its routes (built
// from a Builder that Included app.Builder), now serves them: URL reads r
// from then on. Handler does this itself; a server that builds its own
// table around the App, as the embedded server does, calls it whenever it
// swaps one in.
func (a *App) ServedBy(r *router.Router) { a.built.Store(r) }

// URL builds the path of the route named name (Route.Name) with its
// parameters given as name, value pairs, escaped: app.URL("user", "id",
// "42") is "/users/42". It reads the table Handler (or Run) built, or the
// one ServedBy named, so handlers can link to other routes; before that
// it is an error.
func (a *App) URL(name string, pairs ...string) (string, error) {
	r := a.built.Load()
	if r == nil {
		return "", fmt.Errorf("covet: URL(%q): the routes are not built yet (call Handler or Run first, or serve it)", name)
	}
	return r.URL(name, pairs...)
}

// Run serves the App as configured by cfg until ctx ends, then shuts down
// gracefully (in-flight requests finish within cfg.ShutdownTimeout).
func (a *App) Run(ctx context.Context, cfg httpserver.Config) error {
	h, err := a.Handler()
	if err != nil {
		return err
	}
	srv, err := httpserver.New(cfg, h)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
