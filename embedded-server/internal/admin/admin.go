// Package admin is the admin API under /_covet/api/ — the only application
// API of Covet Studio — plus the one-time login and the studio UI at
// /_covet/. docs/admin-api.md is its contract.
package admin

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/covetpy/covet/backend/events"
	"github.com/covetpy/covet/backend/metrics"
	"github.com/covetpy/covet/backend/problem"
)

// Prefix is where everything of the admin API and studio lives.
const Prefix = "/_covet/"

// Config is what the admin API needs from the server that mounts it.
type Config struct {
	// Token is the admin bearer token. Required.
	Token string
	// Port is the public listener's port, for the Host and Origin checks.
	Port string
	// Scheme is the public listener's, "http" (default) or "https".
	Scheme string
	// AllowedOrigins are foreign origins allowed to call the API (the
	// desktop window's origin). Everything else is refused.
	AllowedOrigins []string
	// Studio is the built studio UI; nil serves no UI.
	Studio fs.FS
	// Hub is the event hub the stream reads. Required.
	Hub *events.Hub
	// Series is the per-second request series. Required.
	Series *metrics.Series
	// Info describes the server. Required.
	Info func() Info
	// Config reads and applies the configuration; nil serves no config
	// endpoints.
	Config ConfigStore
	// Routes describes what is served; nil serves no route table.
	Routes func() RouteTable
	// Database is the data layer; nil serves no database endpoints.
	Database Database
	// Keys are the signing keys and token tools; nil serves no keys
	// endpoints.
	Keys Keys
	// Bench runs load tests; nil serves no bench or signals endpoints.
	Bench Bench
	// Migrations applies schema migrations; nil serves no migration
	// endpoints.
	Migrations Migrations
	// Backups makes and checks database backups; nil serves no backup
	// endpoints.
	Backups Backups
	// Logger receives the API's own log lines; nil discards them.
	Logger *slog.Logger
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// Validate reports the first missing or wrong field.
func (c Config) Validate() error {
	switch {
	case c.Token == "":
		return errors.New("admin: Token is empty")
	case c.Port == "":
		return errors.New("admin: Port is empty")
	case c.Hub == nil:
		return errors.New("admin: Hub is nil")
	case c.Series == nil:
		return errors.New("admin: Series is nil")
	case c.Info == nil:
		return errors.New("admin: Info is nil")
	}
	return nil
}

// API serves everything under Prefix.
type API struct {
	token          string
	port           string
	scheme         string
	allowedOrigins map[string]bool
	hub            *events.Hub
	series         *metrics.Series
	info           func() Info
	config         ConfigStore
	routes         func() RouteTable
	database       Database
	keys           Keys
	bench          Bench
	migrations     Migrations
	backups        Backups
	log            *slog.Logger

	codes    *secrets // one-time login codes
	sessions *secrets // browser sessions set by a login

	ctx    context.Context // cancelled by Close; ends event streams
	cancel context.CancelFunc
	mux    *http.ServeMux
}

// New returns the admin API for cfg.
func New(cfg Config) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{
		token: cfg.Token, port: cfg.Port, scheme: cmp.Or(cfg.Scheme, "http"), hub: cfg.Hub, series: cfg.Series, info: cfg.Info, config: cfg.Config, routes: cfg.Routes, database: cfg.Database, keys: cfg.Keys, bench: cfg.Bench, migrations: cfg.Migrations, backups: cfg.Backups, log: cfg.Logger,
		allowedOrigins: make(map[string]bool),
		codes:          newSecrets(loginCodeTTL, maxLoginCodes, true, cfg.Now),
		sessions:       newSecrets(sessionTTL, maxSessions, false, cfg.Now),
		mux:            http.NewServeMux(),
	}
	for _, o := range cfg.AllowedOrigins {
		a.allowedOrigins[o] = true
	}
	a.ctx, a.cancel = context.WithCancel(context.Background())

	api := func(pattern string, h http.HandlerFunc) { a.mux.Handle(pattern, a.guard(true, h)) }
	api("GET /_covet/api/info", a.handleInfo)
	api("GET /_covet/api/requests", a.handleRequests)
	api("GET /_covet/api/metrics/series", a.handleSeries)
	api("GET /_covet/api/events", a.handleEvents)
	api("POST /_covet/api/try", a.handleTry)
	if a.routes != nil {
		api("GET /_covet/api/routes", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, a.routes()) })
	}
	if a.database != nil {
		api("GET /_covet/api/database", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, a.database.Status(r.Context())) })
		api("GET /_covet/api/queries", a.handleQueries)
		api("GET /_covet/api/queries/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, a.database.QueryStats()) })
		api("DELETE /_covet/api/queries/stats", func(w http.ResponseWriter, r *http.Request) {
			a.database.ResetQueryStats()
			w.WriteHeader(http.StatusNoContent)
		})
		api("POST /_covet/api/queries/explain", a.handleExplain)
		api("POST /_covet/api/sql", a.handleConsole)
	}
	if a.keys != nil {
		a.mountKeys(api)
	}
	if a.bench != nil {
		a.mountBench(api)
	}
	if a.migrations != nil {
		a.mountMigrations(api)
	}
	if a.backups != nil {
		a.mountBackups(api)
	}
	if a.config != nil {
		for _, m := range []string{"GET", "PUT", "PATCH", "DELETE", "POST"} {
			api(m+" /_covet/api/config", a.handleConfig)
			api(m+" /_covet/api/config/{path...}", a.handleConfig)
		}
		api("POST /_covet/api/config/validate", a.handleValidate)
		api("GET /_covet/api/config/history", a.handleHistory)
		api("GET /_covet/api/config/file", a.handleConfigFile)
		api("POST /_covet/api/config/undo", a.handleUndo)
	}
	api("/_covet/api/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, problem.New(http.StatusNotFound, "no admin API endpoint "+r.Method+" "+r.URL.Path))
	})
	a.mux.Handle("GET /_covet/login", a.guard(false, http.HandlerFunc(a.handleLogin)))
	a.mux.Handle("/_covet/", a.guard(false, studioHandler(cfg.Studio)))
	return a, nil
}

// ServeHTTP serves a request under Prefix.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Close ends every open event stream.
func (a *API) Close() { a.cancel() }

// LoginPath returns a new one-time login path with its code
// ("/_covet/login?code=…"); prefix it with the server's URL.
func (a *API) LoginPath() string {
	return "/_covet/login?code=" + a.codes.issue()
}

func (a *API) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !a.codes.valid(r.URL.Query().Get("code")) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(loginFailedPage))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: a.sessions.issue(), Path: "/_covet",
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, "/_covet/", http.StatusSeeOther)
}

const loginFailedPage = `<!doctype html><meta charset="utf-8"><title>Covet Studio: sign-in link not valid</title>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>This sign-in link is not valid</h1>
<p>Studio sign-in links work once and expire after 10 minutes. Restart <code>covet serve --studio</code>
to print a fresh link, or call the admin API with the token from <code>covet_data/runtime.json</code>.</p>`

func (a *API) handleInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, a.info())
}

func (a *API) handleRequests(w http.ResponseWriter, r *http.Request) {
	limit := 200
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			problem.Write(w, problem.New(http.StatusBadRequest, "limit: "+strconv.Quote(s)+" is not a positive integer"))
			return
		}
		limit = n
	}
	recent := a.hub.Recent(EventRequest, limit)
	out := make([]RequestEvent, 0, len(recent))
	for _, ev := range recent {
		if re, ok := ev.Data.(RequestEvent); ok {
			out = append(out, re)
		}
	}
	writeJSON(w, out)
}

func (a *API) handleSeries(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, a.series.Samples())
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v) // on error the client sees a truncated body
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeBody reads a small JSON body strictly into v, or writes a problem
// and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeBodyLimit(w, r, v, maxKeysRequest)
}

// decodeBodyLimit is decodeBody for a body of at most limit bytes.
func decodeBodyLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	body, err := readLimited(w, r, limit)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if derr := dec.Decode(v); derr != nil {
			err = problem.New(http.StatusBadRequest, "the body is not the expected JSON object: "+derr.Error())
		}
	}
	if err != nil {
		problem.Write(w, err)
		return false
	}
	return true
}
