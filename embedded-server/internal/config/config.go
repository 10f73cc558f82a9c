// Package config is the schema of covet.json: strict decoding that names the
// JSON path of every problem, defaults for a new project, and Validate.
//
//	cfg, err := config.Load("covet.json", config.Env{}) // Decode + ValidateIn
//	var errs config.Errors
//	if errors.As(err, &errs) {
//		for _, p := range errs { fmt.Println(p.Path, p.Message) }
//	}
package config

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/backend/resource"
	"github.com/covetpy/covet/backend/security/jwt"
)

// FileName is the name of the configuration file in a project folder.
const FileName = "covet.json"

// Config is the whole of covet.json.
type Config struct {
	Server    Server                `json:"server"`
	Database  Database              `json:"database"`
	Auth      Auth                  `json:"auth"`
	Bench     Bench                 `json:"bench,omitzero"`
	Backups   Backups               `json:"backups,omitzero"`
	Resources []resource.Definition `json:"resources,omitempty"`
	Routes    []Route               `json:"routes"`
}

// Bench configures the built-in load generator.
type Bench struct {
	// AllowHosts are hosts that load tests may target although they are
	// not loopback addresses ("staging.internal"). Empty: only this
	// machine.
	AllowHosts []string `json:"allowHosts,omitempty"`
}

// Backups configures the database's backups. A SQLite database's
// write-ahead log is archived continuously (restores reach any moment, RPO
// about a second); the schedule starts new base backups, after which the
// retention prunes old ones.
type Backups struct {
	// Schedule is a cron expression (five fields, or @hourly, @daily,
	// @every 30m…) for new base backups; "off" makes none. Default
	// DefaultBackupSchedule.
	Schedule string `json:"schedule,omitempty"`
	// Keep keeps the newest Keep backups (default DefaultBackupKeep).
	Keep int `json:"keep,omitzero"`
	// MaxAge also keeps the backups made within it (default
	// DefaultBackupMaxAge).
	MaxAge Duration `json:"maxAge,omitzero"`
	// Encrypt encrypts new backups with the key store's backup key.
	Encrypt bool `json:"encrypt,omitzero"`
	// ArchivePostgres, on unless false, archives a PostgreSQL primary's WAL
	// continuously (pg_receivewal), so that restores reach any moment: the
	// server must allow replication connections, and each base copies the
	// whole cluster. Off, the schedule takes bases that restore only to
	// the moments each one covers.
	ArchivePostgres *bool `json:"archivePostgres,omitempty"`
}

// PostgresArchived reports whether a PostgreSQL primary's WAL is archived
// continuously (ArchivePostgres, default on).
func (b Backups) PostgresArchived() bool { return b.ArchivePostgres == nil || *b.ArchivePostgres }

// Backup defaults and limits.
const (
	DefaultBackupSchedule = "@hourly"
	DefaultBackupKeep     = 24
	DefaultBackupMaxAge   = Duration(24 * time.Hour)
	MaxBackupKeep         = 10000
	// BackupsOff is the schedule that makes no scheduled backups.
	BackupsOff = "off"
)

// WithDefaults returns b with its defaults filled.
func (b Backups) WithDefaults() Backups {
	if b.Schedule == "" {
		b.Schedule = DefaultBackupSchedule
	}
	if b.Keep == 0 {
		b.Keep = DefaultBackupKeep
	}
	if b.MaxAge == 0 {
		b.MaxAge = DefaultBackupMaxAge
	}
	return b
}

// MaxAllowHosts bounds bench.allowHosts.
const MaxAllowHosts = 100

// Server configures the public listener.
type Server struct {
	// Listen is the address to listen on, host:port. Port 0 picks a free one.
	Listen string `json:"listen"`
	// ReadHeaderTimeout bounds reading a request's headers (slowloris).
	ReadHeaderTimeout Duration `json:"readHeaderTimeout,omitzero"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout Duration `json:"readTimeout,omitzero"`
	// WriteTimeout bounds writing a response.
	WriteTimeout Duration `json:"writeTimeout,omitzero"`
	// IdleTimeout bounds how long a keep-alive connection waits for the next
	// request.
	IdleTimeout Duration `json:"idleTimeout,omitzero"`
	// ShutdownTimeout bounds how long a shutdown waits for in-flight requests.
	ShutdownTimeout Duration `json:"shutdownTimeout,omitzero"`
	// MaxHeaderBytes bounds the size of a request's headers.
	MaxHeaderBytes int `json:"maxHeaderBytes,omitzero"`
	// TrailingSlash is "redirect" (default: /a/ and /a redirect to the form
	// a route has) or "strict" (they are different paths).
	TrailingSlash string `json:"trailingSlash,omitempty"`
	// TrustedProxies are the addresses (CIDR or single IP) of proxies whose
	// X-Forwarded-For is believed; empty means none.
	TrustedProxies []string `json:"trustedProxies,omitempty"`
	// AccessLog is "all" (default), "errors" (4xx and 5xx only), "1/N"
	// (every 4xx and 5xx, and one in N of the others) or "off".
	AccessLog string `json:"accessLog,omitempty"`
	// SecurityHeaders is "on" (default: the default stack sets CSP, nosniff,
	// Referrer-Policy, HSTS on TLS) or "off", for a proxy in front that
	// sets its own.
	SecurityHeaders string `json:"securityHeaders,omitempty"`
	// TLS serves HTTPS (and HTTP/2) when set.
	TLS *TLS `json:"tls,omitempty"`
	// H2C also accepts HTTP/2 without TLS, for a proxy in front that
	// speaks it.
	H2C bool `json:"h2c,omitempty"`
}

// TLS says where the server's certificate comes from: files (relative to
// the project folder) or a self-signed development certificate kept in
// covet_data/tls/.
type TLS struct {
	CertFile   string   `json:"certFile,omitempty"`
	KeyFile    string   `json:"keyFile,omitempty"`
	SelfSigned bool     `json:"selfSigned,omitempty"`
	Hosts      []string `json:"hosts,omitempty"` // what a self-signed certificate covers (default localhost, 127.0.0.1, ::1)
}

// TrustedPrefixes parses TrustedProxies (valid after Validate).
func (s Server) TrustedPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(s.TrustedProxies))
	for _, p := range s.TrustedProxies {
		if pre, err := parsePrefix(p); err == nil {
			out = append(out, pre)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Database says where data lives.
type Database struct {
	// Primary is the DSN of the primary database: "sqlite:<path>" with a
	// path relative to the project folder, "postgres://…" or "mysql://…".
	Primary string `json:"primary"`
	// Replicas are DSNs of read replicas of the primary (PostgreSQL and
	// MySQL only): reads outside transactions go to them in turn.
	Replicas []string `json:"replicas,omitempty"`
	// SlowQuery marks queries at least this long as slow (default 100ms).
	SlowQuery Duration `json:"slowQuery,omitzero"`
	// NPlusOneThreshold is how many identical queries from one call site
	// in one request make an N+1 (default 3).
	NPlusOneThreshold int `json:"nPlusOneThreshold,omitzero"`
	// Pool sizes the connection pools of a PostgreSQL or MySQL database;
	// SQLite refuses it.
	Pool Pool `json:"pool,omitzero"`
}

// Pool is database.pool: the limits of each connection pool, the
// primary's and each replica's. A value left out (zero) keeps the
// dialect's default, given with each field.
type Pool struct {
	// MaxConns bounds each pool (PostgreSQL: the larger of 4 and the
	// number of CPUs; MySQL: 16).
	MaxConns int `json:"maxConns,omitzero"`
	// MinConns keeps that many connections of each pool open (default 0).
	// PostgreSQL only: MySQL's pools open connections on demand.
	MinConns int `json:"minConns,omitzero"`
	// MaxConnLifetime closes a connection that has been open this long
	// (PostgreSQL: 1h; MySQL: 30m).
	MaxConnLifetime Duration `json:"maxConnLifetime,omitzero"`
	// MaxConnIdleTime closes a connection that has been idle this long
	// (PostgreSQL: 30m; MySQL: 5m).
	MaxConnIdleTime Duration `json:"maxConnIdleTime,omitzero"`
}

// Limits of database.pool.
const (
	MaxPoolConns    = 1000
	MinPoolDuration = time.Second
	MaxPoolDuration = 24 * time.Hour
)

// Auth is how the server issues and checks JWTs. Signing keys live in
// covet_data/keys.json, encrypted; the studio's Keys page manages them.
type Auth struct {
	// Issuer is the iss of issued tokens and the only one accepted
	// (default "covet").
	Issuer string `json:"issuer"`
	// Audience is the aud of issued tokens; accepted tokens must list it
	// (default "covet-api").
	Audience string `json:"audience"`
	// Leeway tolerates clock skew on exp, nbf and iat (default 30s, at
	// most 5m).
	Leeway Duration `json:"leeway,omitzero"`
	// AccessTTL is the lifetime of access tokens (default 15m).
	AccessTTL Duration `json:"accessTTL,omitzero"`
	// RefreshTTL is the lifetime of refresh tokens (default 720h).
	RefreshTTL Duration `json:"refreshTTL,omitzero"`
	// Rotation rotates signing keys on a schedule; nil rotates only by
	// hand.
	Rotation *Rotation `json:"rotation,omitempty"`
}

// VerifiedTokenCache is how many verified tokens the server's verifier
// remembers (jwt.Config.CacheSize), so a client that sends the same token
// again skips the signature check.
const VerifiedTokenCache = 10_000

// JWT is the token configuration of a (validated) Auth.
func (a Auth) JWT() jwt.Config {
	return jwt.Config{Issuer: a.Issuer, Audience: a.Audience, Leeway: a.Leeway.Std(), CacheSize: VerifiedTokenCache}
}

// Rotation is a key rotation schedule: every Every a new key of Alg is
// generated and becomes current; the old one stays previous until
// every token it signed has expired (the longest TTL plus leeway), then is
// revoked.
type Rotation struct {
	Every Duration `json:"every"`
	Alg   string   `json:"alg,omitempty"` // default EdDSA
}

// AuthPolicy requires a valid access token on a route.
type AuthPolicy struct {
	// Required refuses requests without a valid token (401); otherwise a
	// valid token is read when present and its absence is allowed.
	Required bool `json:"required"`
	// Roles: the token must carry at least one of them (403 otherwise).
	Roles []string `json:"roles,omitempty"`
	// Scopes: the token's scope must include all of them (403 otherwise).
	Scopes []string `json:"scopes,omitempty"`
	// Source is "header" (default: Authorization: Bearer) or "cookie".
	// Cookie-borne tokens also get CSRF protection.
	Source string `json:"source,omitempty"`
	// Cookie is the cookie's name when Source is "cookie" (default
	// "access_token").
	Cookie string `json:"cookie,omitempty"`
}

// Route is one route of the public listener.
type Route struct {
	ID       string    `json:"id"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Kind     string    `json:"kind"`
	Handler  *Handler  `json:"handler,omitempty"`
	Mock     *Mock     `json:"mock,omitempty"`
	Redirect *Redirect `json:"redirect,omitempty"`
	Static   *Static   `json:"static,omitempty"`
	Proxy    *Proxy    `json:"proxy,omitempty"`
	// Resource names the resource a route of kind "resource" serves: the
	// collection at Path and each record at Path/{id}. Such a route has
	// no method; it serves GET, POST, PUT, PATCH and DELETE.
	Resource string  `json:"resource,omitempty"`
	Policy   *Policy `json:"policy,omitempty"`
}

// Handler is a route served by a Go handler that the program registered by
// name (covet.App.Register).
type Handler struct {
	Name string `json:"name"`
}

// Proxy is a route that forwards requests to an upstream server.
type Proxy struct {
	// Upstream is the server's base URL, http or https; its path, if any,
	// is put before the request's path.
	Upstream string `json:"upstream"`
	// StripPrefix is removed from the request's path before forwarding.
	StripPrefix string `json:"stripPrefix,omitempty"`
	// Rewrite, when set, is the path forwarded instead of the request's:
	// {name} is replaced by the route's parameter, escaped
	// ("/v2/people/{id}"). It excludes StripPrefix.
	Rewrite string `json:"rewrite,omitempty"`
	// Timeout bounds the wait for the upstream's answer (default 30s): 504
	// problem+json after it.
	Timeout Duration `json:"timeout,omitzero"`
	// SetHeaders are set on the forwarded request; an empty value removes
	// the header.
	SetHeaders map[string]string `json:"setHeaders,omitempty"`
	// ResponseHeaders are set on the upstream's answer; an empty value
	// removes the header.
	ResponseHeaders map[string]string `json:"responseHeaders,omitempty"`
}

// Redirect is a route that sends clients elsewhere.
type Redirect struct {
	// To is the target URL or path; {name} is replaced by the value of the
	// route's parameter name, escaped. The query string is kept unless To
	// has one.
	To string `json:"to"`
	// Status is 301, 302, 303, 307 or 308 (default: 308, which keeps the
	// method and body).
	Status int `json:"status,omitzero"`
}

// Static is a route that serves files from a folder. Its path ends with a
// catch-all ({path...}) that names the file.
type Static struct {
	// Dir is the folder, relative to the project folder. Nothing outside
	// it is ever served, symbolic links included.
	Dir string `json:"dir"`
	// Index is the file served for a folder (default index.html); folders
	// without one get 404, never a listing.
	Index string `json:"index,omitempty"`
}

// Policy is what a route enforces around its handler, in this order:
// CORS, rate limit, body limit, timeout, cache headers.
type Policy struct {
	// Timeout bounds the handler: 503 problem+json at the deadline.
	Timeout Duration `json:"timeout,omitzero"`
	// RateLimit admits Rate requests per Per (plus Burst) per key.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// BodyLimit refuses request bodies over this many bytes with 413.
	BodyLimit int64 `json:"bodyLimit,omitzero"`
	// CORS allows cross-origin requests.
	CORS *CORS `json:"cors,omitempty"`
	// Cache sets Cache-Control on answers.
	Cache *Cache `json:"cache,omitempty"`
	// Compress compresses answers with zstd or gzip, as the client accepts.
	Compress *Compress `json:"compress,omitempty"`
	// CSRF refuses cross-origin state-changing requests from browsers
	// (for routes that trust cookies).
	CSRF *CSRF `json:"csrf,omitempty"`
	// Auth requires an access token.
	Auth *AuthPolicy `json:"auth,omitempty"`
}

// Compress configures response compression; the zero value compresses
// text, JSON, JavaScript, XML and SVG bodies of 1 KiB or more.
type Compress struct {
	// MinSize is the smallest body compressed, in bytes (default 1024).
	MinSize int `json:"minSize,omitzero"`
	// ContentTypes are the media types compressed ("text/*" for a whole
	// type); empty means the defaults.
	ContentTypes []string `json:"contentTypes,omitempty"`
	// Level is "fastest", "default" (or empty), "better" or "best".
	Level string `json:"level,omitempty"`
}

// CompressLevels maps Compress.Level to the middleware's levels.
func CompressLevels() map[string]middleware.CompressLevel {
	return map[string]middleware.CompressLevel{
		"": middleware.CompressLevelDefault, "default": middleware.CompressLevelDefault,
		"fastest": middleware.CompressLevelFastest, "better": middleware.CompressLevelBetter, "best": middleware.CompressLevelBest,
	}
}

// Middleware returns the middleware's configuration (valid after Validate).
func (c *Compress) Middleware() middleware.CompressConfig {
	return middleware.CompressConfig{MinSize: c.MinSize, ContentTypes: c.ContentTypes, Level: CompressLevels()[c.Level]}
}

// CSRF configures cross-origin request protection.
type CSRF struct {
	// TrustedOrigins may send state-changing requests
	// ("https://app.example.com").
	TrustedOrigins []string `json:"trustedOrigins,omitempty"`
}

// RateLimit is a GCRA limit.
type RateLimit struct {
	Rate  int      `json:"rate"`
	Per   Duration `json:"per"`
	Burst int      `json:"burst,omitzero"`
	// Key is "ip" (default), "route" (one bucket for the route),
	// "subject" (per token subject, with an auth policy) or
	// "header:<Name>".
	Key string `json:"key,omitempty"`
}

// CORS is a route's cross-origin policy.
type CORS struct {
	AllowOrigins     []string `json:"allowOrigins"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
	ExposeHeaders    []string `json:"exposeHeaders,omitempty"`
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	MaxAge           Duration `json:"maxAge,omitzero"`
}

// Cache says how clients may cache a route's answers.
type Cache struct {
	MaxAge  Duration `json:"maxAge,omitzero"`
	Public  bool     `json:"public,omitempty"`
	NoStore bool     `json:"noStore,omitempty"`
}

// CacheControl renders c as a Cache-Control value.
func (c *Cache) CacheControl() string {
	if c.NoStore {
		return "no-store"
	}
	scope := "private"
	if c.Public {
		scope = "public"
	}
	return fmt.Sprintf("%s, max-age=%d", scope, int(c.MaxAge.Std()/time.Second))
}

// Mock is a route that answers with a fixed response.
type Mock struct {
	Status  int               `json:"status,omitzero"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// Delay holds the response back, to simulate a slow endpoint. It is at
	// most MaxMockDelay and less than server.writeTimeout.
	Delay Duration `json:"delay,omitzero"`
}

// MaxAccessLogSample is the largest N of server.accessLog "1/N".
const MaxAccessLogSample = 1_000_000

// AccessLogSample returns N of an access log mode "1/N", 1 for "all" and
// 0 for every other mode, or for a malformed one.
func (s Server) AccessLogSample() int {
	if s.AccessLog == "all" {
		return 1
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s.AccessLog, "1/"))
	if !strings.HasPrefix(s.AccessLog, "1/") || err != nil || n < 1 || n > MaxAccessLogSample {
		return 0
	}
	return n
}

// Limits of the values Validate accepts.
const (
	MaxRoutes        = 10000
	MaxMockBodyBytes = 1 << 20
	MaxMockDelay     = time.Minute
	MaxBodyLimit     = 1 << 30
	MaxRatePerPeriod = 1_000_000
	MaxTimeout       = time.Hour
	MinHeaderBytes   = 1 << 10
	MaxHeaderBytes   = 16 << 20
)

// Default returns the configuration of a new project: SQLite in
// covet_data/, a listener on 127.0.0.1:8080 and a sample route.
func Default() *Config {
	cfg := &Config{
		Server:   Server{Listen: "127.0.0.1:8080"},
		Database: Database{Primary: "sqlite:covet_data/covet.db"},
		Routes: []Route{{
			ID: "hello", Method: "GET", Path: "/hello", Kind: "mock",
			Mock: &Mock{Status: 200, Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, Body: "Hello, World!"},
		}},
	}
	cfg.fillDefaults()
	return cfg
}

// fillDefaults sets every omitted optional value.
func (c *Config) fillDefaults() {
	s := &c.Server
	setDuration := func(d *Duration, def time.Duration) {
		if *d == 0 {
			*d = Duration(def)
		}
	}
	setDuration(&s.ReadHeaderTimeout, 5*time.Second)
	setDuration(&s.ReadTimeout, 30*time.Second)
	setDuration(&s.WriteTimeout, 30*time.Second)
	setDuration(&s.IdleTimeout, 120*time.Second)
	setDuration(&s.ShutdownTimeout, 15*time.Second)
	if s.MaxHeaderBytes == 0 {
		s.MaxHeaderBytes = 1 << 20
	}
	if s.TrailingSlash == "" {
		s.TrailingSlash = "redirect"
	}
	if s.AccessLog == "" {
		s.AccessLog = "all"
	}
	if s.SecurityHeaders == "" {
		s.SecurityHeaders = "on"
	}
	setDuration(&c.Database.SlowQuery, 100*time.Millisecond)
	a := &c.Auth
	if a.Issuer == "" {
		a.Issuer = "covet"
	}
	if a.Audience == "" {
		a.Audience = "covet-api"
	}
	setDuration(&a.Leeway, 30*time.Second)
	setDuration(&a.AccessTTL, 15*time.Minute)
	setDuration(&a.RefreshTTL, 720*time.Hour)
	if a.Rotation != nil && a.Rotation.Alg == "" {
		a.Rotation.Alg = "EdDSA"
	}
	if c.Database.NPlusOneThreshold == 0 {
		c.Database.NPlusOneThreshold = 3
	}
	for i := range c.Routes {
		if m := c.Routes[i].Mock; m != nil && m.Status == 0 {
			m.Status = 200
		}
		if r := c.Routes[i].Redirect; r != nil && r.Status == 0 {
			r.Status = 308
		}
		if st := c.Routes[i].Static; st != nil && st.Index == "" {
			st.Index = "index.html"
		}
		if px := c.Routes[i].Proxy; px != nil && px.Timeout == 0 {
			px.Timeout = Duration(30 * time.Second)
		}
	}
	if c.Routes == nil {
		c.Routes = []Route{}
	}
}

// Load reads, decodes and validates a covet.json file against env. Problems
// come back as Errors wrapped with the file's path.
func Load(path string, env Env) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Decode(data)
	if err == nil {
		err = cfg.ValidateIn(env)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Marshal renders c as indented JSON, the form covet.json is saved in.
func (c *Config) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("250ms", "5s", "1m30s").
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := parseDuration(s)
	*d = Duration(v)
	return err
}

func (*Duration) validateJSON(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf(`expected a duration string such as "5s", got %s`, jsonKind(v))
	}
	_, err := parseDuration(s)
	return err
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`%q is not a duration (examples: "250ms", "5s", "1m30s")`, s)
	}
	return d, nil
}

// DatabaseKind returns "sqlite", "postgres" or "mysql" for a DSN, or "".
func DatabaseKind(dsn string) string {
	scheme, _, _ := strings.Cut(dsn, ":")
	switch scheme {
	case "sqlite":
		return "sqlite"
	case "postgres", "postgresql":
		return "postgres"
	case "mysql":
		return "mysql"
	}
	return ""
}

// SQLitePath returns the database path of a "sqlite:" DSN, and whether dsn
// is one.
func SQLitePath(dsn string) (string, bool) {
	return strings.CutPrefix(dsn, "sqlite:")
}
