// Package assemble turns a validated configuration into the http.Handler of
// the public listener. A Handler holds the current tree behind an atomic
// pointer, so a new configuration is swapped in without closing the
// listener, and in-flight requests finish on the tree they started on.
package assemble

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/covetpy/covet/backend/covet"
	"github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/ratelimit"
	"github.com/covetpy/covet/backend/resource"
	"github.com/covetpy/covet/backend/router"
	"github.com/covetpy/covet/backend/security/jwt"
	"github.com/covetpy/covet/embedded-server/internal/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Deps are the server's shared pieces that every tree uses.
type Deps struct {
	// DB is the database, pinged by /readyz and served by resource routes.
	DB *orm.DB
	// Inner, when set, wraps the router inside the middleware stack, where
	// it sees r.Pattern once the router has matched (the query inspector).
	Inner func(http.Handler) http.Handler
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
	// App is the Go program's routes and named handlers; nil means none.
	App *covet.App
	// Keys verify tokens on routes with an auth policy, under the
	// configuration's auth section; Denylist, if set, refuses revoked
	// tokens. Keys are required when a route has an auth policy.
	Keys     jwt.KeySource
	Denylist jwt.Denylist
}

// Handler serves the public listener: probes, metrics and the configured
// routes. Admin and studio paths are mounted beside it by the server.
type Handler struct {
	current   atomic.Pointer[Tree] // the tree being served
	system    *http.ServeMux       // probes and metrics, fixed
	stack     middleware.Stack     // the middleware around every tree
	project   string               // the project folder
	app       *covet.App           // Go routes and named handlers, or nil
	transport *http.Transport      // shared by proxy routes, so connections are pooled
	db        *orm.DB              // served by resource routes
	inner     func(http.Handler) http.Handler
	keys      jwt.KeySource
	denylist  jwt.Denylist

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
	h := &Handler{system: http.NewServeMux(), limiters: map[string]*ratelimit.Memory{}, project: d.Project, transport: transport, app: d.App,
		db: d.DB, inner: d.Inner, keys: d.Keys, denylist: d.Denylist}
	h.system.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	h.system.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := d.DB.Ping(ctx); err != nil {
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

// defaultStack is the middleware every configured route runs behind:
// middleware.Default configured by the server section. It is fixed for the
// life of the server, like the rest of the server section.
func defaultStack(s config.Server, d Deps) middleware.Stack {
	cfg := middleware.DefaultConfig{
		OnPanic:           d.OnPanic,
		TrustedProxies:    s.TrustedPrefixes(),
		AccessLog:         d.Logger,
		Report:            d.Report,
		NoSecurityHeaders: s.SecurityHeaders == "off",
	}
	switch s.AccessLog {
	case "errors":
		cfg.LogSampleEvery = middleware.ErrorsOnly
	case "off":
		cfg.AccessLog = nil
	default:
		cfg.LogSampleEvery = s.AccessLogSample()
	}
	return middleware.Default(cfg)
}

// Tree is a compiled route table behind the middleware stack, ready to be
// swapped in.
type Tree struct {
	h        http.Handler
	table    *router.Router
	routes   []Served
	auth     config.Auth
	verifier *jwt.Verifier // nil without Deps.Keys
}

// Served is one route being served, with what it came from.
type Served struct {
	*router.Route
	// Config is the configured route it serves; nil for the Go
	// program's own routes.
	Config *config.Route
	// Preflight marks the OPTIONS route added for Config's CORS policy.
	Preflight bool
}

// Compile builds cfg's routes behind the middleware stack without serving
// them.
func (h *Handler) Compile(cfg *config.Config) (*Tree, error) {
	var verifier *jwt.Verifier
	if h.keys != nil {
		jc := cfg.Auth.JWT()
		jc.Denylist = h.denylist
		verifier = jwt.NewVerifier(jc, h.keys)
	}
	r, from, err := h.compileRoutes(cfg, verifier)
	if err != nil {
		return nil, err
	}
	var inner http.Handler = r
	if h.inner != nil {
		inner = h.inner(r)
	}
	t := &Tree{h: h.stack.Then(inner), table: r, auth: cfg.Auth, verifier: verifier}
	for _, rt := range r.Routes() {
		t.routes = append(t.routes, Served{Route: rt, Config: from[rt].Config, Preflight: from[rt].Preflight})
	}
	return t, nil
}

// Swap serves t from now on. Requests already running finish on the tree
// they started on. The Go program's URL reads t's table from now on.
func (h *Handler) Swap(t *Tree) {
	h.current.Store(t)
	if h.app != nil {
		h.app.ServedBy(t.table)
	}
}

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

// Routes describes the routes being served, in registration order: the Go
// program's first (Source is their file:line), then the configured ones
// (Source is "routes[i]", or "routes[i].policy.cors" for a preflight added
// for a CORS policy).
func (h *Handler) Routes() []Served { return h.current.Load().routes }

// Auth returns the auth section being served and the verifier its auth
// policies use (nil when the server has no keys).
func (h *Handler) Auth() (config.Auth, *jwt.Verifier) {
	t := h.current.Load()
	return t.auth, t.verifier
}

// App returns the Go program, or nil.
func (h *Handler) App() *covet.App { return h.app }

// Stack names the middleware every route runs behind, outermost first.
func (h *Handler) Stack() []string { return h.stack.Names() }

// Env is what configurations are validated against: the program's named
// handlers and Go routes.
func (h *Handler) Env() config.Env { return EnvOf(h.app) }

// EnvOf is the validation environment of a program: app's named handlers
// and Go routes (none when app is nil).
func EnvOf(app *covet.App) config.Env {
	if app == nil {
		return config.Env{Handlers: []string{}}
	}
	names := []string{}
	for _, nh := range app.Handlers() {
		names = append(names, nh.Name)
	}
	return config.Env{Handlers: names, Routes: app.Builder}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics": // config routes cannot take these paths
		h.system.ServeHTTP(w, r)
		return
	}
	h.current.Load().h.ServeHTTP(w, r)
}

// compileRoutes builds the routes of one configuration on Covet's router:
// unmatched requests get problem+json 404, or 405 with Allow when another
// method matches; GET routes answer HEAD, and every path answers OPTIONS
// (a CORS preflight when a route of the path has a CORS policy).
// It also says which configured route each compiled one serves.
func (h *Handler) compileRoutes(cfg *config.Config, verifier *jwt.Verifier) (*router.Router, map[*router.Route]Served, error) {
	policy := router.RedirectSlash
	if cfg.Server.TrailingSlash == "strict" {
		policy = router.StrictSlash
	}
	b := router.New(router.Options{TrailingSlash: policy})
	if h.app != nil {
		b.Include(h.app.Builder)
	}
	for i, rt := range cfg.Routes {
		if rt.Policy != nil && rt.Policy.Auth != nil && verifier == nil {
			return nil, nil, config.Errors{{Path: fmt.Sprintf("routes[%d].policy.auth", i), Message: "this server has no signing keys to verify tokens with"}}
		}
	}
	used := map[string]bool{}
	from := map[*router.Route]Served{}
	preflight := map[string]bool{} // paths with an OPTIONS route already
	for _, rt := range cfg.Routes {
		if rt.Method == http.MethodOptions {
			preflight[rt.Path] = true
		}
	}
	var problems config.Errors
	resources, err := h.resources(cfg)
	if err != nil {
		return nil, nil, err
	}
	for i, rt := range cfg.Routes {
		var handler http.Handler
		switch rt.Kind {
		case "resource":
			res := resources[rt.Resource]
			for k, methods := range config.ResourceMethods {
				path, handler := rt.Path, res.Collection()
				if k == 1 {
					path, handler = rt.Path+"/{id}", res.Item()
				}
				handler, names := h.withPolicy(rt, handler, used, verifier)
				for _, m := range methods {
					r := b.Handle(m, path, handler)
					r.Source, r.Middleware = fmt.Sprintf("routes[%d]", i), names
					from[r] = Served{Config: &cfg.Routes[i]}
				}
			}
			continue
		case "handler":
			nh, ok := h.named(rt.Handler.Name)
			if !ok {
				problems = append(problems, problem.FieldError{Path: fmt.Sprintf("routes[%d].handler.name", i), Message: fmt.Sprintf("no handler named %q", rt.Handler.Name)})
				continue
			}
			handler = nh
		case "mock":
			handler = mockHandler(rt.Mock, rt.Path)
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
			return nil, nil, fmt.Errorf("routes[%d].kind: unknown kind %q", i, rt.Kind)
		}
		handler, names := h.withPolicy(rt, handler, used, verifier)
		r := b.Handle(rt.Method, rt.Path, handler)
		r.Source, r.Middleware = fmt.Sprintf("routes[%d]", i), names
		from[r] = Served{Config: &cfg.Routes[i]}
		if rt.Policy != nil && rt.Policy.CORS != nil && !preflight[rt.Path] {
			preflight[rt.Path] = true
			r := b.Handle(http.MethodOptions, rt.Path, corsMiddleware(rt.Policy.CORS)(http.NotFoundHandler()))
			r.Source, r.Middleware = fmt.Sprintf("routes[%d].policy.cors", i), []string{"cors"}
			from[r] = Served{Config: &cfg.Routes[i], Preflight: true}
		}
	}
	if len(problems) > 0 {
		return nil, nil, problems // the filesystem disagrees with the configuration
	}
	r, err := b.Build()
	if err != nil {
		return nil, nil, err
	}
	h.mu.Lock()
	for k := range h.limiters {
		if !used[k] {
			delete(h.limiters, k)
		}
	}
	h.mu.Unlock()
	return r, from, nil
}

// named returns the program's handler registered as name.
func (h *Handler) named(name string) (http.Handler, bool) {
	if h.app == nil {
		return nil, false
	}
	nh, ok := h.app.Named(name)
	return nh.Handler, ok
}

// resources builds the resources that routes serve, creating their tables
// when missing (and adding missing columns when that is safe). Errors name
// the resource.
func (h *Handler) resources(cfg *config.Config) (map[string]*resource.Resource, error) {
	served := map[string]bool{}
	for _, rt := range cfg.Routes {
		if rt.Kind == "resource" {
			served[rt.Resource] = true
		}
	}
	out := map[string]*resource.Resource{}
	var problems config.Errors
	for i, def := range cfg.Resources {
		if !served[def.Name] {
			continue
		}
		res, err := resource.New(h.db, def)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err = res.Ensure(ctx)
			cancel()
		}
		if err != nil {
			problems = append(problems, problem.FieldError{Path: fmt.Sprintf("resources[%d]", i), Message: err.Error()})
			continue
		}
		out[def.Name] = res
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return out, nil
}

// withPolicy wraps a route's handler in its policy, outermost first: CORS,
// CSRF (also for tokens in cookies), rate limit, auth (a rate limit by
// token subject comes after it), body limit, timeout, compression, cache
// headers. It returns the wrapped handler and the names of the layers,
// outermost first.
func (h *Handler) withPolicy(rt config.Route, next http.Handler, used map[string]bool, verifier *jwt.Verifier) (http.Handler, []string) {
	p := rt.Policy
	if p == nil {
		return next, nil
	}
	var names []string // innermost first, reversed at the end
	if p.Cache != nil {
		next = middleware.CacheControl(p.Cache.CacheControl())(next)
		names = append(names, "cache")
	}
	if p.Compress != nil {
		next = middleware.Compress(p.Compress.Middleware())(next)
		names = append(names, "compress")
	}
	if p.Timeout > 0 {
		next = middleware.Timeout(p.Timeout.Std())(next)
		names = append(names, "timeout "+p.Timeout.Std().String())
	}
	if p.BodyLimit > 0 {
		next = middleware.BodyLimit(p.BodyLimit)(next)
		names = append(names, fmt.Sprintf("bodyLimit %d B", p.BodyLimit))
	}
	rateLimit := func() {
		rl := p.RateLimit
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
		case rl.Key == "subject":
			keyFn = middleware.KeyBySubject
		case isHeader:
			keyFn = middleware.KeyByHeader(header)
		}
		next = middleware.RateLimit(lim, keyFn)(next)
		names = append(names, fmt.Sprintf("rateLimit %d/%v burst %d by %s", rl.Rate, rl.Per.Std(), rl.Burst, cmp.Or(rl.Key, "ip")))
	}
	// A limit per token subject needs the token verified first; any other
	// limit comes first, so floods are refused before verifying anything.
	bySubject := p.RateLimit != nil && p.RateLimit.Key == "subject"
	if bySubject {
		rateLimit()
	}
	if a := p.Auth; a != nil {
		cookie := ""
		if a.Source == "cookie" {
			cookie = cmp.Or(a.Cookie, "access_token")
		}
		auth, err := middleware.Auth(middleware.AuthConfig{Verifier: verifier, Required: a.Required, Roles: a.Roles, Scopes: a.Scopes, Cookie: cookie})
		if err != nil { // Validate checked it
			panic("assemble: " + err.Error())
		}
		next = auth(next)
		names = append(names, authName(a, cookie))
	}
	if p.RateLimit != nil && !bySubject {
		rateLimit()
	}
	if p.CSRF != nil || p.Auth != nil && p.Auth.Source == "cookie" {
		var trusted []string
		if p.CSRF != nil {
			trusted = p.CSRF.TrustedOrigins
		}
		csrf, err := middleware.CSRF(middleware.CSRFConfig{TrustedOrigins: trusted})
		if err != nil { // Validate checked it
			panic("assemble: " + err.Error())
		}
		next = csrf(next)
		names = append(names, "csrf")
	}
	if p.CORS != nil {
		next = corsMiddleware(p.CORS)(next)
		names = append(names, "cors")
	}
	slices.Reverse(names)
	return next, names
}

func authName(a *config.AuthPolicy, cookie string) string {
	name := "auth"
	if !a.Required {
		name += " optional"
	}
	if len(a.Roles) > 0 {
		name += " roles " + strings.Join(a.Roles, "|")
	}
	if len(a.Scopes) > 0 {
		name += " scopes " + strings.Join(a.Scopes, " ")
	}
	if cookie != "" {
		name += " from cookie " + cookie
	}
	return name
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
