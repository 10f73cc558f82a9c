// Package embeddedserver turns a Covet project folder into a running server:
// it reads covet.json, opens the database in covet_data/, serves the
// configured routes, probes and metrics on the public listener, and mounts
// the admin API and studio UI under /_covet/.
//
// The desktop app (Wails) runs it in-process; the headless `covet serve`
// (embedded-server/cmd/covet) runs the very same server.
//
//	srv, err := embeddedserver.New(embeddedserver.Config{Project: dir, Listen: "127.0.0.1:0"})
//	if err != nil { ... }
//	if err := srv.Start(ctx); err != nil { ... }
//	fmt.Println("serving on", srv.Info().URL)
//	defer srv.Shutdown(context.Background())
package embeddedserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/covetpy/covet/backend/covet"
	"github.com/covetpy/covet/backend/events"
	"github.com/covetpy/covet/backend/httpserver"
	"github.com/covetpy/covet/backend/metrics"
	"github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/embedded-server/internal/admin"
	"github.com/covetpy/covet/embedded-server/internal/assemble"
	"github.com/covetpy/covet/embedded-server/internal/config"
	"github.com/covetpy/covet/frontend"
	"github.com/prometheus/client_golang/prometheus"
)

// Version is the version of Covet.
const Version = "0.1.0"

// seriesLength is how many per-second samples the dashboard chart gets.
const seriesLength = 300

// maxRequestEvents bounds the request events streamed per second: a load
// test must not flood the studio with its own traffic. Every request is
// still counted in the metrics and the per-second series.
const maxRequestEvents = 200

// The built-in named handler: the request echoed back as JSON.
const (
	echoHandler   = "covet.echo"
	echoBodyLimit = 1 << 20
)

// Config says which project to serve and how.
type Config struct {
	// Project is the project folder; it is created with defaults if missing.
	Project string
	// Listen overrides covet.json's server.listen when non-empty.
	Listen string
	// AdminToken is the admin API token; empty means a random 256-bit one.
	AdminToken string
	// Studio serves the studio UI at /_covet/.
	Studio bool
	// AllowedOrigins are extra origins allowed to call the admin API, such
	// as the desktop window's.
	AllowedOrigins []string
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
	// KeysPassphrase protects the signing keys in covet_data/keys.json
	// (argon2id); empty uses the OS keyring, or else a key file beside the
	// store. `covet serve` reads it from COVET_KEYS_PASSPHRASE.
	KeysPassphrase string
	// App is the Go program served beside covet.json's routes: its routes
	// are served first, and its named handlers serve routes of kind
	// "handler". The server registers its built-in handlers on it
	// ("covet.echo", "covet.demo.nplusone") unless the names are taken. Nil means a program with
	// only the built-ins.
	App *covet.App
}

// Info describes a running server to its shell.
type Info struct {
	URL        string // http://127.0.0.1:PORT, once started
	Project    string // the absolute project folder
	AdminToken string // the admin API's bearer token
	StartedAt  time.Time
	Version    string
}

// Server is one project served. Create it with New, then Start and
// Shutdown it once each.
type Server struct {
	cfg     Config
	log     *slog.Logger
	project *project
	conf    *config.Config // as the process started: covet.json
	listen  string         // conf's listen address, or the Listen override
	token   string
	store   *configStore

	db       *database
	backups  *serverBackups
	registry *prometheus.Registry
	httpm    *metrics.HTTP
	series   *metrics.Series
	hub      *events.Hub
	routes   *assemble.Handler
	keys     *keyService
	bench    *benchService

	// Request events of the current second, to cap them at
	// maxRequestEvents (a race between seconds only lets a few more by).
	eventSecond atomic.Int64
	eventCount  atomic.Int64

	mu        sync.Mutex // guards the fields below, set by Start
	started   bool
	url       string
	startedAt time.Time
	admin     *admin.API
	http      *httpserver.Server
	stop      context.CancelFunc // stops the sampler and the covet.json watcher
	done      chan struct{}      // closed when serving and sampling have ended
	serveErr  error              // why Serve returned, if not by Shutdown
	shutdown  bool
}

// New opens the project folder (creating it and its covet.json with
// defaults when missing), loads and validates the configuration and opens
// the database. It does not listen yet.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.App == nil {
		cfg.App = covet.New(covet.Config{})
	}
	if _, taken := cfg.App.Named(echoHandler); !taken {
		cfg.App.Register(echoHandler, covet.Echo(echoBodyLimit))
	}
	demo := &demo{}
	if _, taken := cfg.App.Named(nPlusOneHandler); !taken {
		cfg.App.Register(nPlusOneHandler, demo)
	}
	proj, err := openProject(cfg.Project, cfg.Logger)
	if err != nil {
		return nil, err
	}
	conf, err := proj.loadConfig(assemble.EnvOf(cfg.App))
	if err != nil {
		return nil, err
	}
	listen := conf.Server.Listen
	if cfg.Listen != "" {
		probe := *conf
		probe.Server.Listen = cfg.Listen
		if err := probe.Validate(); err != nil {
			return nil, fmt.Errorf("--listen: %w", err)
		}
		listen = cfg.Listen
	}
	token := cfg.AdminToken
	if token == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // crypto/rand.Read never fails
		token = hex.EncodeToString(b)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, project: proj, conf: conf, listen: listen, token: token}

	s.hub = events.New(events.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.db, err = openDatabase(ctx, conf.Database, proj.dir, s.hub, s.log); err != nil {
		return nil, fmt.Errorf("database.primary: %w", err)
	}
	demo.db = s.db.db

	s.registry = metrics.NewRegistry()
	s.httpm = metrics.NewHTTP()
	s.registry.MustRegister(s.httpm.Collectors()...)
	s.registry.MustRegister(newPoolCollector(s.db.db))
	s.series = metrics.NewSeries(s.httpm, seriesLength)
	s.keys = &keyService{hub: s.hub, log: s.log, rel: relPath(proj.dir, proj.path(DataDir, keysFile)), revoked: proj.path(DataDir, revokedFile),
		url: func() string { return s.Info().URL }}
	s.keys.store, s.keys.warning, err = openKeyStore(proj, cfg.KeysPassphrase, s.log)
	if err == nil {
		s.keys.deny, err = openDenylist(s.keys.revoked)
	}
	if err == nil {
		s.routes, err = assemble.New(conf, assemble.Deps{
			DB: s.db.db, Inner: s.db.middleware(), Gatherer: s.registry, Report: s.report, OnPanic: s.onPanic, Logger: s.log, Project: proj.dir, App: cfg.App,
			Keys: s.keys.store.Ring(), Denylist: s.keys.deny,
		})
	}
	if err == nil {
		s.keys.routes = s.routes
		s.store, err = newConfigStore(proj.path(config.FileName), proj.path(DataDir), conf, s.routes, s.hub, s.log)
	}
	if err == nil {
		s.bench, err = openBench(proj.path(DataDir, StudioDB))
	}
	if err != nil {
		s.db.db.Close()
		return nil, err
	}
	s.bench.hub, s.bench.log, s.bench.ring, s.bench.routes, s.bench.conf = s.hub, s.log, s.keys.store.Ring(), s.routes, s.store.Config
	s.db.config = s.store.Config
	s.backups = &serverBackups{dir: proj.path(DataDir, BackupsDir), db: s.db, keys: s.keys.store, now: time.Now,
		config: s.store.Config, hub: s.hub, log: s.log,
		unsupported: "backups of MySQL are not available yet"}
	if path, ok := config.SQLitePath(conf.Database.Primary); ok {
		s.backups.database, s.backups.unsupported = path, ""
	} else if p := conf.Database.Primary; strings.HasPrefix(p, "postgres://") || strings.HasPrefix(p, "postgresql://") {
		s.backups.database, s.backups.unsupported = redactDSN(p), ""
		s.backups.pg = postgresConfig(p)
	}
	if err := s.backups.start(ctx); err != nil {
		s.bench.close()
		s.db.db.Close()
		return nil, err
	}
	s.bench.sources = metrics.SignalSources{HTTP: s.httpm, Queries: s.db.inspector.Totals, Dropped: s.hub.Dropped}
	return s, nil
}

// report records a served request in the metrics and, when the studio
// listens, on the event stream.
func (s *Server) report(r *http.Request, rec middleware.Record) {
	s.httpm.Observe(r.Method, r.Pattern, rec.Status, rec.Duration)
	if !s.hub.Active() {
		return
	}
	if sec := rec.Start.Unix(); s.eventSecond.Load() != sec {
		s.eventSecond.Store(sec)
		s.eventCount.Store(0)
	}
	if s.eventCount.Add(1) > maxRequestEvents {
		return
	}
	s.hub.Publish(admin.EventRequest, admin.RequestEvent{
		ID:         middleware.GetRequestID(r.Context()),
		Time:       rec.Start.UTC(),
		Method:     r.Method,
		Path:       r.URL.Path,
		Route:      r.Pattern,
		Status:     rec.Status,
		DurationMs: float64(rec.Duration.Microseconds()) / 1000,
		Bytes:      rec.Bytes,
		RemoteAddr: r.RemoteAddr,
	})
}

func (s *Server) onPanic(r *http.Request, v any, stack []byte) {
	s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path,
		"request_id", middleware.GetRequestID(r.Context()), "panic", fmt.Sprint(v), "stack", string(stack))
}

// rootHandler serves the listener: most requests go straight to routes,
// and only those root must see go through its ServeMux lookup: the admin
// API and studio (/_covet), the JWKS, and paths ServeMux would redirect to
// their clean form (".." or "//" in them, or escapes it compares as
// written). root also sends "/" to routes, so the answer is the same
// either way; the shortcut spares every served request a ServeMux lookup.
func rootHandler(root *http.ServeMux, routes http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if r.URL.RawPath != "" || r.Method == http.MethodConnect || strings.HasPrefix(p, "/_covet") ||
			p == jwksPath || !cleanPath(p) {
			root.ServeHTTP(w, r)
			return
		}
		routes.ServeHTTP(w, r)
	})
}

// cleanPath says whether p is rooted and has no empty, "." or ".."
// segment before its end: what path.Clean leaves unchanged, but for a
// trailing slash (which ServeMux keeps too).
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		switch rest := p[i+1:]; {
		case strings.HasPrefix(rest, "/"), rest == ".", rest == "..", strings.HasPrefix(rest, "./"), strings.HasPrefix(rest, "../"):
			return false
		}
	}
	return true
}

// Start binds the listener, writes covet_data/runtime.json and serves in
// the background. It returns once the server accepts connections.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("embeddedserver: Start called twice")
	}
	if err := s.project.checkNotRunning(); err != nil {
		return err
	}
	root := http.NewServeMux()
	root.Handle("/", s.routes)
	root.HandleFunc("GET "+jwksPath, s.keys.serveJWKS)
	sc := s.conf.Server
	hc := httpserver.Config{
		ReadHeaderTimeout: sc.ReadHeaderTimeout.Std(), ReadTimeout: sc.ReadTimeout.Std(), WriteTimeout: sc.WriteTimeout.Std(),
		IdleTimeout: sc.IdleTimeout.Std(), MaxHeaderBytes: sc.MaxHeaderBytes, H2C: sc.H2C, Logger: s.log,
	}
	if t := sc.TLS; t != nil {
		hc.TLS = httpserver.TLS{CertFile: s.project.abs(t.CertFile), KeyFile: s.project.abs(t.KeyFile), SelfSigned: t.SelfSigned,
			Hosts: t.Hosts, Dir: s.project.path(DataDir, "tls")}
	}
	var err error
	if s.http, err = httpserver.New(hc, rootHandler(root, s.routes)); err != nil {
		return fmt.Errorf("covet.json server section: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.listen)
	if err != nil {
		return listenError(s.listen, err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	port := fmt.Sprint(addr.Port)
	s.url = s.http.Scheme() + "://" + net.JoinHostPort(urlHost(addr.IP), port)
	s.startedAt = time.Now()

	var studio fs.FS
	if s.cfg.Studio {
		studio = frontend.Dist()
	}
	s.admin, err = admin.New(admin.Config{
		Token: s.token, Port: port, Scheme: s.http.Scheme(), AllowedOrigins: s.cfg.AllowedOrigins, Studio: studio,
		Hub: s.hub, Series: s.series, Info: s.adminInfo, Config: s.store, Routes: s.routeTable, Database: s.db, Keys: s.keys, Bench: s.bench, Migrations: s.db, Backups: s.backups, Logger: s.log,
	})
	if err != nil {
		ln.Close()
		return err
	}
	root.Handle(admin.Prefix, s.admin)
	if err := s.project.writeRuntime(runtimeFile{URL: s.url, PID: os.Getpid(), AdminToken: s.token, StartedAt: s.startedAt.UTC()}); err != nil {
		ln.Close()
		return err
	}

	sampleCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.done = make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.sample(sampleCtx) })
	wg.Go(func() { s.store.watch(sampleCtx) })
	wg.Go(func() { s.keys.run(sampleCtx) })
	wg.Go(func() {
		err := s.http.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			s.mu.Lock()
			s.serveErr = err
			s.mu.Unlock()
			stop()
		}
	})
	go func() { wg.Wait(); close(s.done) }()
	s.started = true
	s.log.Info("serving", "url", s.url, "project", s.project.dir, "database", redactDSN(s.conf.Database.Primary))
	return nil
}

// sample closes one per-second request sample and one sample of server
// signals each second, on the second, until ctx ends.
func (s *Server) sample(ctx context.Context) {
	sampler := metrics.NewSampler(s.bench.sources)
	for {
		next := time.Now().Truncate(time.Second).Add(time.Second)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		smp := s.series.Tick(next.Add(-time.Second))
		if s.hub.Active() {
			s.hub.Publish(admin.EventMetricSample, smp)
		}
		s.bench.tick(sampler.Sample(next))
	}
}

// Done is closed when the server has stopped serving, by Shutdown or because
// the listener failed; Err then says which.
func (s *Server) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// Err returns why the server stopped serving on its own, or nil.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serveErr
}

// Shutdown stops accepting connections, lets in-flight requests finish
// (bounded by ctx and server.shutdownTimeout), ends event streams, closes
// the database and removes runtime.json. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return nil
	}
	s.shutdown = true
	started := s.started
	s.mu.Unlock()

	var errs []error
	// A load test may be aimed at this very server: end it first.
	if err := s.bench.close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the load-test store: %w", err))
	}
	if started {
		ctx, cancel := context.WithTimeout(ctx, s.conf.Server.ShutdownTimeout.Std())
		defer cancel()
		s.admin.Close()
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("draining requests: %w", err))
		}
		s.stop()
		<-s.done
		if err := s.project.removeRuntime(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.backups.close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("closing the archive of the write-ahead log: %w", err))
	}
	if err := s.db.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the database: %w", err))
	}
	if started {
		s.log.Info("stopped", "url", s.url)
	}
	return errors.Join(errs...)
}

// Info describes the server; URL and StartedAt are set once it started.
func (s *Server) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Info{URL: s.url, Project: s.project.dir, AdminToken: s.token, StartedAt: s.startedAt, Version: Version}
}

// LoginURL returns a one-time URL that signs a browser in to the studio.
// It is valid for 10 minutes.
func (s *Server) LoginURL() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return "", errors.New("embeddedserver: LoginURL before Start")
	}
	return s.url + s.admin.LoginPath(), nil
}

func (s *Server) adminInfo() admin.Info {
	info := s.Info()
	return admin.Info{
		Version:       info.Version,
		GoVersion:     runtime.Version(),
		Project:       info.Project,
		URL:           info.URL,
		StartedAt:     info.StartedAt.UTC(),
		UptimeSeconds: time.Since(info.StartedAt).Seconds(),
		Database:      admin.DatabaseInfo{Driver: s.db.db.Dialect().Name(), DSN: redactDSN(s.conf.Database.Primary)},
		StudioClients: s.hub.Subscribers(),
	}
}

// routeTable describes what the public listener serves, for the studio.
func (s *Server) routeTable() admin.RouteTable {
	routes := s.routes.Routes()
	app := s.routes.App()
	t := admin.RouteTable{Stack: s.routes.Stack(), Routes: make([]admin.RouteInfo, 0, len(routes)), Handlers: []admin.HandlerInfo{}}
	for _, nh := range app.Handlers() {
		t.Handlers = append(t.Handlers, admin.HandlerInfo{Name: nh.Name, Source: nh.Source})
	}
	for _, rt := range routes {
		info := admin.RouteInfo{Method: rt.Method, Path: rt.Path, Kind: "go", Source: rt.Source, Middleware: rt.Middleware}
		switch c := rt.Config; {
		case c != nil && rt.Preflight:
			info.Kind, info.ID = "preflight", c.ID
		case c != nil:
			info.Kind, info.ID = c.Kind, c.ID
			if c.Handler != nil {
				nh, _ := app.Named(c.Handler.Name)
				info.Handler, info.HandlerSource = nh.Name, nh.Source
			}
		}
		if info.Middleware == nil {
			info.Middleware = []string{}
		}
		t.Routes = append(t.Routes, info)
	}
	return t
}

// StudioAssets returns the built studio UI, for a shell that serves it
// itself (the desktop window).
func StudioAssets() fs.FS { return frontend.Dist() }

// urlHost is the host to put in the server's URL: a wildcard listener is
// reached through loopback.
func urlHost(ip net.IP) string {
	switch {
	case ip == nil || ip.IsUnspecified() && ip.To4() != nil:
		return "127.0.0.1"
	case ip.IsUnspecified():
		return "::1"
	}
	return ip.String()
}

func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("listening on %s: the address is already in use; stop the program using it or choose another address with --listen (port 0 picks a free one)", addr)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("listening on %s: permission denied; ports below 1024 need privileges, choose another with --listen", addr)
	case strings.Contains(err.Error(), "assign requested address"):
		return fmt.Errorf("listening on %s: no network interface has that address; use 127.0.0.1 for local development", addr)
	}
	return fmt.Errorf("listening on %s: %w", addr, err)
}

// Problem is one problem with a project's covet.json, at a JSON path.
type Problem struct {
	Path    string
	Message string
}

// ConfigProblems lists the problems err reports about covet.json (from New
// on an invalid project), or returns nil when err is of another kind.
func ConfigProblems(err error) []Problem {
	var errs config.Errors
	if !errors.As(err, &errs) {
		return nil
	}
	out := make([]Problem, len(errs))
	for i, e := range errs {
		out[i] = Problem{Path: e.Path, Message: e.Message}
	}
	return out
}
