package config

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/router"
	"github.com/robfig/cron/v3"
)

var (
	routeIDPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	headerNamePattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	hostnamePattern   = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
)

// routeKinds lists the route kinds this version serves. Read only.
var routeKinds = []string{"handler", "mock", "redirect", "static", "proxy", "resource"}

// ResourceMethods are what a resource route serves at its path ([0]) and at
// path/{id} ([1]). Read only.
var ResourceMethods = [2][]string{{http.MethodGet, http.MethodPost}, {http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete}}

// Env is what a configuration is checked against beyond itself: the Go
// program serving it.
type Env struct {
	// Handlers are the names registered for routes of kind "handler"; nil
	// leaves names unchecked.
	Handlers []string
	// Routes are the program's own Go routes, which configured routes must
	// not conflict with; nil means none.
	Routes *router.Builder
}

// Validate checks every value and returns all problems as Errors, each
// naming its JSON path, or nil. Handler names are not checked; ValidateIn
// checks them.
func (c *Config) Validate() error { return c.ValidateIn(Env{}) }

// ValidateIn is Validate against the program in env: handler names must be
// registered, and routes must not conflict with the program's Go routes.
func (c *Config) ValidateIn(env Env) error {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, problem.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}

	s := c.Server
	if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		add("server.listen", "%q is not host:port (example: \"127.0.0.1:8080\")", s.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		add("server.listen", "port %q is not a number from 0 to 65535", port)
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{
		{"readHeaderTimeout", s.ReadHeaderTimeout}, {"readTimeout", s.ReadTimeout},
		{"writeTimeout", s.WriteTimeout}, {"idleTimeout", s.IdleTimeout}, {"shutdownTimeout", s.ShutdownTimeout},
	} {
		if d.v <= 0 || d.v.Std() > MaxTimeout {
			add("server."+d.name, "%v is out of range: must be more than 0 and at most %v", d.v.Std(), MaxTimeout)
		}
	}
	if s.MaxHeaderBytes < MinHeaderBytes || s.MaxHeaderBytes > MaxHeaderBytes {
		add("server.maxHeaderBytes", "%d is out of range: must be from %d to %d", s.MaxHeaderBytes, MinHeaderBytes, MaxHeaderBytes)
	}
	for i, p := range s.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			add(fmt.Sprintf("server.trustedProxies[%d]", i), "%q is not an IP address or CIDR prefix (examples: \"10.0.0.0/8\", \"192.0.2.7\")", p)
		}
	}
	if s.AccessLog != "errors" && s.AccessLog != "off" && s.AccessLogSample() == 0 {
		add("server.accessLog", "%q is not a mode: use \"all\", \"errors\", \"1/N\" (one success in N, N from 1 to %d) or \"off\"", s.AccessLog, MaxAccessLogSample)
	}
	if s.SecurityHeaders != "on" && s.SecurityHeaders != "off" {
		add("server.securityHeaders", "%q is not a mode: use \"on\" or \"off\"", s.SecurityHeaders)
	}
	if s.TrailingSlash != "redirect" && s.TrailingSlash != "strict" {
		add("server.trailingSlash", "%q is not a policy: use \"redirect\" or \"strict\"", s.TrailingSlash)
	}
	if t := s.TLS; t != nil {
		switch {
		case t.SelfSigned && (t.CertFile != "" || t.KeyFile != ""):
			add("server.tls.selfSigned", "cannot be combined with certFile and keyFile; choose one")
		case !t.SelfSigned && t.CertFile == "" && t.KeyFile == "":
			add("server.tls", "needs certFile and keyFile, or selfSigned: true")
		case !t.SelfSigned && t.CertFile == "":
			add("server.tls.certFile", "is required with keyFile")
		case !t.SelfSigned && t.KeyFile == "":
			add("server.tls.keyFile", "is required with certFile")
		}
		if len(t.Hosts) > 0 && !t.SelfSigned {
			add("server.tls.hosts", "only applies to a self-signed certificate")
		}
		for i, h := range t.Hosts {
			if net.ParseIP(h) == nil && !hostnamePattern.MatchString(h) {
				add(fmt.Sprintf("server.tls.hosts[%d]", i), "%q is not a host name or IP address", h)
			}
		}
		if s.H2C {
			add("server.h2c", "HTTP/2 without TLS cannot be combined with tls (HTTPS gets HTTP/2 anyway)")
		}
	}

	validateDatabase(c.Database, add)
	validateAuth(c.Auth, add)
	validateBench(c.Bench, add)
	validateBackups(c.Backups, add)
	resources := map[string]int{}
	tables := map[string]int{}
	for i, r := range c.Resources {
		p := fmt.Sprintf("resources[%d]", i)
		for _, prob := range r.Validate() {
			add(p+"."+prob.Path, "%s", prob.Message)
		}
		if j, dup := resources[r.Name]; dup && r.Name != "" {
			add(p+".name", "duplicate resource %q (also resources[%d])", r.Name, j)
		}
		if j, dup := tables[r.Table]; dup && r.Table != "" {
			add(p+".table", "table %q is already used by resources[%d]", r.Table, j)
		}
		resources[r.Name], tables[r.Table] = i, i
	}

	if len(c.Routes) > MaxRoutes {
		add("routes", "%d routes is more than the limit of %d", len(c.Routes), MaxRoutes)
	}
	ids := make(map[string]int)
	table := router.New(router.Options{})
	if env.Routes != nil {
		table.Include(env.Routes)
	}
	index := map[*router.Route]int{}
	for i, r := range c.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		switch {
		case r.ID == "":
			add(p+".id", "is required")
		case !routeIDPattern.MatchString(r.ID):
			add(p+".id", "%q must be 1–64 characters of a–z, 0–9, '.', '_' or '-', starting with a letter or digit", r.ID)
		default:
			if j, dup := ids[r.ID]; dup {
				add(p+".id", "duplicate id %q (also routes[%d])", r.ID, j)
			}
			ids[r.ID] = i
		}
		if r.Kind == "resource" {
			if r.Method != "" {
				add(p+".method", "a resource route serves GET and POST at its path and GET, PUT, PATCH and DELETE at path/{id}; leave method out")
			}
			if validatePath(r.Path, p+".path", add) {
				if strings.Contains(r.Path, "{") || strings.HasSuffix(r.Path, "/") {
					add(p+".path", "%q: a resource path is a plain prefix such as \"/users\", without parameters or a trailing slash", r.Path)
				} else {
					for k, methods := range ResourceMethods {
						path := r.Path
						if k == 1 {
							path += "/{id}"
						}
						for _, m := range methods {
							rt := table.Handle(m, path, http.NotFoundHandler())
							rt.Source = p
							index[rt] = i
						}
					}
				}
			}
		} else {
			methodOK := validMethod(r.Method)
			if !methodOK {
				add(p+".method", "%q is not an HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)", r.Method)
			}
			switch {
			case !validatePath(r.Path, p+".path", add):
			case methodOK:
				rt := table.Handle(r.Method, r.Path, http.NotFoundHandler())
				rt.Source = p
				index[rt] = i
			default: // the route cannot join the table; its path alone can still be wrong
				if err := router.CheckPath(r.Path); err != nil {
					add(p+".path", "%v", err)
				}
			}
		}
		if r.Policy != nil {
			validatePolicy(r.Policy, c.Server.WriteTimeout, p+".policy", add)
		}
		for kind, set := range map[string]bool{"handler": r.Handler != nil, "mock": r.Mock != nil, "redirect": r.Redirect != nil, "static": r.Static != nil, "proxy": r.Proxy != nil, "resource": r.Resource != ""} {
			if set && kind != r.Kind {
				add(p+"."+kind, "is set, but the route's kind is %q; remove it or change the kind", r.Kind)
			}
		}
		switch r.Kind {
		case "handler":
			validateHandler(r.Handler, env.Handlers, p+".handler", add)
		case "mock":
			validateMock(r.Mock, c.Server.WriteTimeout, p+".mock", add)
		case "redirect":
			validateRedirect(r.Redirect, r.Path, p+".redirect", add)
		case "static":
			validateStatic(r.Static, r.Path, p, add)
		case "proxy":
			validateProxy(r.Proxy, r.Path, c.Server.WriteTimeout, p+".proxy", add)
		case "resource":
			if _, ok := resources[r.Resource]; !ok {
				names := make([]string, len(c.Resources))
				for j, res := range c.Resources {
					names[j] = res.Name
				}
				add(p+".resource", "no resource named %q (declared: %s)", r.Resource, strings.Join(names, ", "))
			}
		case "":
			add(p+".kind", "is required (one of: %s)", strings.Join(routeKinds, ", "))
		default:
			add(p+".kind", "unknown kind %q (this version serves: %s)", r.Kind, strings.Join(routeKinds, ", "))
		}
	}
	// The router's own build finds parameter syntax errors and routes that
	// would match the same requests.
	if _, err := table.Build(); err != nil {
		var be *router.BuildError
		if !errors.As(err, &be) {
			return append(errs, problem.FieldError{Path: "routes", Message: err.Error()})
		}
		for _, prob := range be.Problems {
			if i, ok := index[prob.Route]; ok {
				add(fmt.Sprintf("routes[%d].path", i), "%v", prob.Err)
			} else { // among the program's own routes
				add("routes", "Go route %s (%s): %v", prob.Route.Pattern, prob.Route.Source, prob.Err)
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// validateDatabase checks the DSNs' form; whether the server answers is
// found when the server opens them.
func validateDatabase(d Database, add func(string, string, ...any)) {
	kind := DatabaseKind(d.Primary)
	switch kind {
	case "sqlite":
		if path, _ := SQLitePath(d.Primary); path == "" {
			add("database.primary", "the sqlite: DSN has no path (example: \"sqlite:covet_data/covet.db\")")
		}
	case "postgres", "mysql":
		if _, err := url.Parse(d.Primary); err != nil {
			add("database.primary", "is not a URL such as %s://user@127.0.0.1/db", kind)
		}
	case "":
		scheme, _, _ := strings.Cut(d.Primary, ":")
		add("database.primary", "unsupported database %q: use \"sqlite:<path>\", \"postgres://…\" or \"mysql://…\"", scheme)
	}
	for i, r := range d.Replicas {
		at := fmt.Sprintf("database.replicas[%d]", i)
		switch {
		case kind == "sqlite":
			add(at, "SQLite has no replicas; replicas need PostgreSQL or MySQL")
		case DatabaseKind(r) != kind:
			add(at, "a replica must be the same kind of database as the primary (%s)", kind)
		default:
			if _, err := url.Parse(r); err != nil {
				add(at, "is not a URL such as %s://user@127.0.0.1/db", kind)
			}
		}
	}
	if d.SlowQuery < 0 || d.SlowQuery.Std() > MaxTimeout {
		add("database.slowQuery", "%v is out of range: must be from 0 to %v", d.SlowQuery.Std(), MaxTimeout)
	}
	if d.NPlusOneThreshold < 0 || d.NPlusOneThreshold == 1 || d.NPlusOneThreshold > 1000 {
		add("database.nPlusOneThreshold", "%d is out of range: must be from 2 to 1000", d.NPlusOneThreshold)
	}
	validatePool(d.Pool, kind, add)
}

// validatePool checks database.pool against the primary's kind.
func validatePool(p Pool, kind string, add func(string, string, ...any)) {
	if p == (Pool{}) {
		return
	}
	if kind == "sqlite" {
		add("database.pool", "SQLite has no pool to size: one connection takes every write and the server sizes the readers; pool applies to PostgreSQL and MySQL")
		return
	}
	if p.MaxConns < 0 || p.MaxConns > MaxPoolConns {
		add("database.pool.maxConns", "%d is out of range: must be from 1 to %d (leave it out for the default)", p.MaxConns, MaxPoolConns)
	}
	switch {
	case p.MinConns < 0 || p.MinConns > MaxPoolConns:
		add("database.pool.minConns", "%d is out of range: must be from 0 to maxConns", p.MinConns)
	case p.MinConns > 0 && kind == "mysql":
		add("database.pool.minConns", "MySQL's pools keep no minimum of open connections (they open them on demand); leave minConns out")
	case p.MinConns > 0 && p.MaxConns == 0:
		add("database.pool.minConns", "needs maxConns as well: minConns %d cannot be checked against the default maximum, which depends on the machine", p.MinConns)
	case p.MinConns > p.MaxConns && p.MaxConns > 0:
		add("database.pool.minConns", "%d is more than maxConns (%d)", p.MinConns, p.MaxConns)
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"maxConnLifetime", p.MaxConnLifetime}, {"maxConnIdleTime", p.MaxConnIdleTime}} {
		if d.v != 0 && (d.v.Std() < MinPoolDuration || d.v.Std() > MaxPoolDuration) {
			add("database.pool."+d.name, "%v is out of range: must be from %v to %v (leave it out for the default)", d.v.Std(), MinPoolDuration, MaxPoolDuration)
		}
	}
}

func validMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// validatePath checks what the router does not: presence, length, reserved
// paths, and static segments free of dot segments, spaces, '?', '#' and '%'.
// Parameters ({name}, {name:regexp}, {name...}) are checked by the router.
func validatePath(path, at string, add func(string, string, ...any)) bool {
	switch {
	case path == "":
		add(at, "is required")
		return false
	case !strings.HasPrefix(path, "/"):
		add(at, "%q must start with '/'", path)
		return false
	case len(path) > 1024:
		add(at, "is longer than 1024 characters")
		return false
	case path == "/_covet" || strings.HasPrefix(path, "/_covet/") || path == "/healthz" || path == "/readyz" || path == "/metrics":
		add(at, "%q is reserved for the server's own endpoints (/_covet/, /healthz, /readyz, /metrics)", path)
		return false
	}
	ok := true
	for seg := range strings.SplitSeq(path[1:], "/") {
		if strings.HasPrefix(seg, "{") {
			continue
		}
		if seg == "." || seg == ".." {
			add(at, "%q contains a %q segment", path, seg)
			ok = false
		}
		if strings.ContainsAny(seg, " \t\r\n?#%") {
			add(at, "%q contains a space, '?', '#' or '%%'; query strings and escapes do not belong in a route path", path)
			return false
		}
	}
	return ok
}

// Limits of the auth section.
const (
	MaxTokenTTL      = 90 * 24 * time.Hour
	MinRotationEvery = time.Hour
	maxRoles         = 64
)

func validateBench(b Bench, add func(string, string, ...any)) {
	if len(b.AllowHosts) > MaxAllowHosts {
		add("bench.allowHosts", "%d hosts; at most %d", len(b.AllowHosts), MaxAllowHosts)
	}
	for i, h := range b.AllowHosts {
		if h == "" || len(h) > 253 || strings.ContainsAny(h, "/:@ \t\r\n") && net.ParseIP(h) == nil {
			add(fmt.Sprintf("bench.allowHosts[%d]", i), "%q is not a host name or IP address (no scheme, port or path; example: \"staging.internal\")", h)
		}
	}
}

func validateBackups(b Backups, add func(string, string, ...any)) {
	if b.Schedule != "" && b.Schedule != BackupsOff {
		if _, err := cron.ParseStandard(b.Schedule); err != nil {
			add("backups.schedule", "%q is not a cron schedule (five fields \"0 3 * * *\", @hourly, @daily, @every 30m, or \"off\"): %v", b.Schedule, err)
		}
	}
	if b.Keep < 0 || b.Keep > MaxBackupKeep {
		add("backups.keep", "%d is out of range: must be from 1 to %d (0 for the default, %d)", b.Keep, MaxBackupKeep, DefaultBackupKeep)
	}
	if b.MaxAge < 0 {
		add("backups.maxAge", "%v is negative", b.MaxAge.Std())
	}
}

func validateAuth(a Auth, add func(string, string, ...any)) {
	for field, v := range map[string]string{"issuer": a.Issuer, "audience": a.Audience} {
		if strings.TrimSpace(v) == "" || len(v) > 256 {
			add("auth."+field, "%q must be 1 to 256 characters, not blank", v)
		}
	}
	if a.Leeway < 0 || a.Leeway.Std() > 5*time.Minute {
		add("auth.leeway", "%v is out of range: must be from 0 to 5m", a.Leeway.Std())
	}
	if a.AccessTTL <= 0 || a.AccessTTL.Std() > MaxTokenTTL {
		add("auth.accessTTL", "%v is out of range: must be more than 0 and at most %v", a.AccessTTL.Std(), MaxTokenTTL)
	}
	if a.RefreshTTL <= a.AccessTTL || a.RefreshTTL.Std() > MaxTokenTTL {
		add("auth.refreshTTL", "%v is out of range: must be longer than accessTTL (%v) and at most %v", a.RefreshTTL.Std(), a.AccessTTL.Std(), MaxTokenTTL)
	}
	if r := a.Rotation; r != nil {
		if r.Every.Std() < MinRotationEvery {
			add("auth.rotation.every", "%v is too short: rotate at most once every %v", r.Every.Std(), MinRotationEvery)
		}
		switch r.Alg {
		case "EdDSA", "ES256", "RS256", "HS256":
		default:
			add("auth.rotation.alg", "%q is not an algorithm: use \"EdDSA\", \"ES256\", \"RS256\" or \"HS256\"", r.Alg)
		}
	}
}

func validateAuthPolicy(p *AuthPolicy, at string, add func(string, string, ...any)) {
	if len(p.Roles) > maxRoles || len(p.Scopes) > maxRoles {
		add(at, "lists more than %d roles or scopes", maxRoles)
	}
	for field, names := range map[string][]string{"roles": p.Roles, "scopes": p.Scopes} {
		for i, n := range names {
			if n == "" || len(n) > 128 || strings.ContainsAny(n, " \t\r\n\"") {
				add(fmt.Sprintf("%s.%s[%d]", at, field, i), "%q must be 1 to 128 characters without spaces or quotes", n)
			}
		}
	}
	if (len(p.Roles) > 0 || len(p.Scopes) > 0) && !p.Required {
		add(at+".required", "must be true when roles or scopes are listed")
	}
	switch p.Source {
	case "", "header":
		if p.Cookie != "" {
			add(at+".cookie", "only applies when source is \"cookie\"")
		}
	case "cookie":
		if p.Cookie != "" && !headerNamePattern.MatchString(p.Cookie) {
			add(at+".cookie", "%q is not a cookie name", p.Cookie)
		}
	default:
		add(at+".source", "%q is not a token source: use \"header\" or \"cookie\"", p.Source)
	}
}

func validatePolicy(pol *Policy, writeTimeout Duration, at string, add func(string, string, ...any)) {
	if p := pol.Auth; p != nil {
		validateAuthPolicy(p, at+".auth", add)
	}
	if c := pol.Compress; c != nil {
		if _, ok := CompressLevels()[c.Level]; !ok {
			add(at+".compress.level", "%q is not a level: use \"fastest\", \"default\", \"better\" or \"best\"", c.Level)
		} else if err := c.Middleware().Validate(); err != nil {
			addMiddlewareError(at+".compress", err, add)
		}
	}
	if c := pol.CSRF; c != nil {
		if err := (middleware.CSRFConfig{TrustedOrigins: c.TrustedOrigins}).Validate(); err != nil {
			addMiddlewareError(at+".csrf", err, add)
		}
	}
	if pol.Timeout < 0 || pol.Timeout > writeTimeout {
		add(at+".timeout", "%v is out of range: must be from 0 to server.writeTimeout (%v)", pol.Timeout.Std(), writeTimeout.Std())
	}
	if rl := pol.RateLimit; rl != nil {
		if rl.Rate <= 0 || rl.Rate > MaxRatePerPeriod {
			add(at+".rateLimit.rate", "%d is out of range: must be from 1 to %d", rl.Rate, MaxRatePerPeriod)
		}
		if rl.Per <= 0 || rl.Per.Std() > 24*time.Hour {
			add(at+".rateLimit.per", "%v is out of range: must be more than 0 and at most 24h", rl.Per.Std())
		}
		if rl.Burst < 0 || rl.Burst > MaxRatePerPeriod {
			add(at+".rateLimit.burst", "%d is out of range: must be from 0 to %d", rl.Burst, MaxRatePerPeriod)
		}
		header, isHeader := strings.CutPrefix(rl.Key, "header:")
		switch {
		case rl.Key == "subject" && pol.Auth == nil:
			add(at+".rateLimit.key", "\"subject\" counts per token subject, so the route needs an auth policy")
		case rl.Key == "" || rl.Key == "ip" || rl.Key == "route" || rl.Key == "subject":
		case isHeader && headerNamePattern.MatchString(header):
		default:
			add(at+".rateLimit.key", "%q is not a key: use \"ip\", \"route\", \"subject\" (with auth) or \"header:<Name>\"", rl.Key)
		}
	}
	if pol.BodyLimit < 0 || pol.BodyLimit > MaxBodyLimit {
		add(at+".bodyLimit", "%d is out of range: must be from 0 to %d bytes", pol.BodyLimit, MaxBodyLimit)
	}
	if c := pol.CORS; c != nil {
		if len(c.AllowOrigins) == 0 {
			add(at+".cors.allowOrigins", "is required: list the origins, or \"*\"")
		}
		for i, o := range c.AllowOrigins {
			if o == "*" {
				if c.AllowCredentials {
					add(fmt.Sprintf("%s.cors.allowOrigins[%d]", at, i), "\"*\" cannot be combined with allowCredentials")
				}
				continue
			}
			if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
				add(fmt.Sprintf("%s.cors.allowOrigins[%d]", at, i), "%q is not an origin (scheme://host[:port])", o)
			}
		}
		for i, m := range c.AllowMethods {
			if !validMethod(m) {
				add(fmt.Sprintf("%s.cors.allowMethods[%d]", at, i), "%q is not an HTTP method", m)
			}
		}
		for field, names := range map[string][]string{"allowHeaders": c.AllowHeaders, "exposeHeaders": c.ExposeHeaders} {
			for i, h := range names {
				if !headerNamePattern.MatchString(h) {
					add(fmt.Sprintf("%s.cors.%s[%d]", at, field, i), "%q is not a header name", h)
				}
			}
		}
		if c.MaxAge < 0 || c.MaxAge.Std() > 24*time.Hour {
			add(at+".cors.maxAge", "%v is out of range: must be from 0 to 24h", c.MaxAge.Std())
		}
	}
	if c := pol.Cache; c != nil && (c.MaxAge < 0 || c.MaxAge.Std() > 365*24*time.Hour) {
		add(at+".cache.maxAge", "%v is out of range: must be from 0 to 8760h", c.MaxAge.Std())
	}
}

// paramRef matches a {name} reference to a route parameter. Read only.
var paramRef = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// ExpandParams replaces each {name} in s by value(name): how a redirect's
// target takes the route's parameters.
func ExpandParams(s string, value func(name string) string) string {
	return paramRef.ReplaceAllStringFunc(s, func(m string) string { return value(m[1 : len(m)-1]) })
}

// SplitParams cuts s at each {name} reference for which param is true:
// s is literals[0] + {names[0]} + literals[1] + … + literals[len(names)].
// Other text in braces stays in the literals, as written. It is how a mock
// body is turned into a template once, when the route is built.
func SplitParams(s string, param func(name string) bool) (literals, names []string) {
	last := 0
	for _, m := range paramRef.FindAllStringSubmatchIndex(s, -1) {
		if name := s[m[2]:m[3]]; param(name) {
			literals, names = append(literals, s[last:m[0]]), append(names, name)
			last = m[1]
		}
	}
	return append(literals, s[last:]), names
}

func validateRedirect(rd *Redirect, path, at string, add func(string, string, ...any)) {
	if rd == nil {
		add(at, "is required for a route of kind \"redirect\"")
		return
	}
	switch rd.Status {
	case 301, 302, 303, 307, 308:
	default:
		add(at+".status", "%d is not a redirect status (301, 302, 303, 307 or 308)", rd.Status)
	}
	u, err := url.Parse(rd.To)
	switch {
	case rd.To == "":
		add(at+".to", "is required (a URL or a path such as /new/{id})")
		return
	case err != nil || (u.Scheme == "" && !strings.HasPrefix(rd.To, "/")) || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") || strings.HasPrefix(rd.To, "//"):
		add(at+".to", "%q is not an http(s) URL or a path starting with a single '/'", rd.To)
	}
	checkParamRefs(rd.To, path, at+".to", add)
}

// catchAllRef matches a {name...} reference, written as in a path.
// Read only.
var catchAllRef = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\.\.\.\}`)

// checkParamRefs reports each {name} in s that is not a parameter of the
// route's path, and each {name...}, which would stay as it is written.
func checkParamRefs(s, path, at string, add func(string, string, ...any)) {
	for _, m := range catchAllRef.FindAllStringSubmatch(s, -1) {
		add(at, "refers to {%s...}: write {%s}; the dots belong to the route's path only", m[1], m[1])
	}
	for _, m := range paramRef.FindAllStringSubmatch(s, -1) {
		if !slices.Contains(router.ParamNames(path), m[1]) {
			add(at, "refers to {%s}, which the route's path does not have", m[1])
		}
	}
}

func validateStatic(st *Static, path, at string, add func(string, string, ...any)) {
	if st == nil {
		add(at+".static", "is required for a route of kind \"static\"")
		return
	}
	if !strings.HasSuffix(path, "...}") {
		add(at+".path", "a static route's path must end with a catch-all such as /assets/{file...}")
	}
	switch {
	case st.Dir == "":
		add(at+".static.dir", "is required (a folder inside the project, such as \"public\")")
	case filepath.IsAbs(st.Dir) || strings.HasPrefix(filepath.Clean(st.Dir), ".."):
		add(at+".static.dir", "%q must be a folder inside the project, given relative to it", st.Dir)
	}
	if st.Index == "" || strings.ContainsAny(st.Index, "/\\") {
		add(at+".static.index", "%q must be a file name", st.Index)
	}
}

func validateProxy(px *Proxy, path string, writeTimeout Duration, at string, add func(string, string, ...any)) {
	if px == nil {
		add(at, "is required for a route of kind \"proxy\"")
		return
	}
	u, err := url.Parse(px.Upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		add(at+".upstream", "%q is not an http(s) base URL such as \"http://127.0.0.1:9000\"", px.Upstream)
	}
	if px.StripPrefix != "" && !strings.HasPrefix(px.StripPrefix, "/") {
		add(at+".stripPrefix", "%q must start with '/'", px.StripPrefix)
	}
	if px.Rewrite != "" {
		switch {
		case px.StripPrefix != "":
			add(at+".rewrite", "replaces the whole path, so stripPrefix has nothing to strip; set one of them")
		case !strings.HasPrefix(px.Rewrite, "/") || strings.ContainsAny(px.Rewrite, "?# \t\r\n"):
			add(at+".rewrite", "%q must be a path starting with '/', without a query or fragment", px.Rewrite)
		}
		checkParamRefs(px.Rewrite, path, at+".rewrite", add)
	}
	if px.Timeout <= 0 || px.Timeout > writeTimeout {
		add(at+".timeout", "%v is out of range: must be more than 0 and at most server.writeTimeout (%v)", px.Timeout.Std(), writeTimeout.Std())
	}
	validateHeaders(px.SetHeaders, at+".setHeaders", add)
	validateHeaders(px.ResponseHeaders, at+".responseHeaders", add)
}

// validateHeaders checks header names and values given in the
// configuration.
func validateHeaders(headers map[string]string, at string, add func(string, string, ...any)) {
	for name, value := range headers {
		if !headerNamePattern.MatchString(name) {
			add(at, "%q is not a valid header name", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			add(at+"."+name, "value contains a line break or NUL")
		}
	}
}

// addMiddlewareError reports a middleware configuration's error
// ("validating … config: field[i]: message") at its JSON path below at.
func addMiddlewareError(at string, err error, add func(string, string, ...any)) {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, " config: "); ok {
		msg = rest
	}
	if field, detail, ok := strings.Cut(msg, ": "); ok && !strings.ContainsAny(field, " \"") {
		add(at+"."+field, "%s", detail)
		return
	}
	add(at, "%s", msg)
}

func validateHandler(h *Handler, names []string, at string, add func(string, string, ...any)) {
	switch {
	case h == nil:
		add(at, "is required for a route of kind \"handler\" (example: {\"name\": \"users.show\"})")
	case h.Name == "":
		add(at+".name", "is required: the name a Go handler was registered under")
	case names != nil && !slices.Contains(names, h.Name):
		if len(names) == 0 {
			add(at+".name", "no handler named %q: this program registers none (covet.App.Register)", h.Name)
		} else {
			add(at+".name", "no handler named %q (registered: %s)", h.Name, strings.Join(names, ", "))
		}
	}
}

func validateMock(m *Mock, writeTimeout Duration, at string, add func(string, string, ...any)) {
	if m == nil {
		add(at, "is required for a route of kind \"mock\"")
		return
	}
	if m.Status < 100 || m.Status > 599 {
		add(at+".status", "%d is not an HTTP status code (100–599)", m.Status)
	}
	validateHeaders(m.Headers, at+".headers", add)
	if m.Delay < 0 || m.Delay.Std() > MaxMockDelay {
		add(at+".delay", "%v is out of range: must be from 0 to %v", m.Delay.Std(), MaxMockDelay)
	} else if m.Delay > 0 && m.Delay >= writeTimeout {
		add(at+".delay", "%v is not less than server.writeTimeout (%v): the response could never be written", m.Delay.Std(), writeTimeout.Std())
	}
	if len(m.Body) > MaxMockBodyBytes {
		add(at+".body", "is %d bytes, more than the limit of %d", len(m.Body), MaxMockBodyBytes)
	}
}
