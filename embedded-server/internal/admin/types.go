package admin

import (
	"time"

	"github.com/covetpy/covet/backend/backup"
	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/loadgen/runstore"
	"github.com/covetpy/covet/backend/metrics"
	"github.com/covetpy/covet/backend/migrate"
	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/explain"
	"github.com/covetpy/covet/backend/orm/inspect"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/resource"
	"github.com/covetpy/covet/backend/security/keys"
	"github.com/covetpy/covet/embedded-server/internal/config"
)

// Event types on the stream (docs/admin-api.md).
const (
	EventRequest       = "request"
	EventQuery         = "query" // data: *inspect.Query
	EventMetricSample  = "metric.sample"
	EventDropped       = "dropped"
	EventConfigChanged = "config.changed"
	EventConfigError   = "config.error"
	EventKeysChanged   = "keys.changed"   // data: {"by": what changed them}
	EventBenchProgress = "bench.progress" // data: BenchProgress, once per second of a run
	EventBenchFinished = "bench.finished" // data: runstore.Summary, when a run ends
	// EventMigrationsChanged follows a migration run or a force; data: the
	// new migrate.Status.
	EventMigrationsChanged = "migrations.changed"
	// EventBackupsChanged follows a backup made, deleted or restored
	// (through the API or the schedule); no data: GET /backups again.
	EventBackupsChanged = "backups.changed"
	EventSignals        = "signals.sample" // data: metrics.Signals, once per second
)

// Info describes the running server (GET /_covet/api/info).
type Info struct {
	Version       string       `json:"version"`
	GoVersion     string       `json:"goVersion"`
	Project       string       `json:"project"`
	URL           string       `json:"url"`
	StartedAt     time.Time    `json:"startedAt"`
	UptimeSeconds float64      `json:"uptimeSeconds"`
	Database      DatabaseInfo `json:"database"`
	StudioClients int          `json:"studioClients"`
}

// DatabaseInfo names the primary database.
type DatabaseInfo struct {
	Driver string `json:"driver"`
	DSN    string `json:"dsn"`
}

// RequestEvent is one request served by the public listener.
type RequestEvent struct {
	ID         string    `json:"id"`
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Route      string    `json:"route"` // the matched route pattern, "" when none matched
	Status     int       `json:"status"`
	DurationMs float64   `json:"durationMs"`
	Bytes      int64     `json:"bytes"`
	RemoteAddr string    `json:"remoteAddr"`
}

// RequestOf returns the id of the request the event belongs to, for
// "Try it".
func (e RequestEvent) RequestOf() string { return e.ID }

// requestScoped is an event that belongs to one request.
type requestScoped interface{ RequestOf() string }

var _ requestScoped = RequestEvent{}

// MetricSample is one second of served requests.
type MetricSample = metrics.Sample

// DroppedEvent tells a subscriber how many events it missed.
type DroppedEvent struct {
	Count uint64 `json:"count"`
}

// ConfigChange is the answer to a configuration write, and the data of a
// config.changed event.
type ConfigChange struct {
	Version int    `json:"version"`
	ETag    string `json:"etag"`
	Source  string `json:"source"` // "api", "undo", "file" or "start"
	// RestartRequired names the sections that changed but take effect only
	// when the server restarts (the listener and the database).
	RestartRequired []string `json:"restartRequired"`
	// DryRun is true when nothing was applied (validate).
	DryRun bool `json:"dryRun"`
}

// ConfigVersion is one applied configuration in the history.
type ConfigVersion struct {
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
	ETag    string    `json:"etag"`
	Source  string    `json:"source"`
	// Parent is the version this one replaced; undo goes back to it.
	Parent int `json:"parent"`
	// Routes is the number of routes, for a glance at the history.
	Routes int `json:"routes"`
}

// ConfigError is the data of a config.error event: covet.json was edited
// on disk and is invalid; the previous configuration keeps serving. It is
// also the answer of GET /_covet/api/config/file, with no errors when the
// file holds what is served.
type ConfigError struct {
	Source string               `json:"source"`
	Errors []problem.FieldError `json:"errors"`
}

// APITypes lists the types the studio's TypeScript definitions are
// generated from, by the name they get there.
func APITypes() map[string]any {
	return map[string]any{
		"Info":               Info{},
		"DatabaseInfo":       DatabaseInfo{},
		"DatabaseStatus":     DatabaseStatus{},
		"PoolStatus":         PoolStatus{},
		"PoolStats":          orm.PoolStats{},
		"QueryEvent":         inspect.Query{},
		"Verdict":            inspect.Verdict{},
		"QueryStat":          inspect.Stat{},
		"Plan":               explain.Plan{},
		"PlanNode":           explain.Node{},
		"ResultSet":          orm.ResultSet{},
		"SQLRequest":         SQLRequest{},
		"ResourceDefinition": resource.Definition{},
		"ResourceField":      resource.Field{},
		"RequestEvent":       RequestEvent{},
		"MetricSample":       MetricSample{},
		"RouteSample":        metrics.RouteSample{},
		"DroppedEvent":       DroppedEvent{},
		"ConfigChange":       ConfigChange{},
		"ConfigVersion":      ConfigVersion{},
		"ConfigError":        ConfigError{},
		"PoolConfig":         config.Pool{},
		"FieldError":         problem.FieldError{},
		"TryRequest":         TryRequest{},
		"RouteTable":         RouteTable{},
		"RouteInfo":          RouteInfo{},
		"HandlerInfo":        HandlerInfo{},
		"TryResponse":        TryResponse{},
		"KeyInfo":            keys.Info{},
		"KeysOverview":       KeysOverview{},
		"JWKSet":             keys.Set{},
		"JWK":                keys.JWK{},
		"KeyStoreInfo":       KeyStoreInfo{},
		"KeyRotation":        KeyRotation{},
		"MintRequest":        MintRequest{},
		"MintedToken":        MintedToken{},
		"TokenInspection":    TokenInspection{},
		"RevokedToken":       RevokedToken{},
		"BenchStart":         BenchStart{},
		"BenchProgress":      BenchProgress{},
		"BenchComparison":    BenchComparison{},
		"BenchRun":           runstore.Run{},
		"BenchSummary":       runstore.Summary{},
		"LoadSpec":           loadgen.Spec{},
		"LoadHeader":         loadgen.Header{},
		"LoadParam":          loadgen.Param{},
		"LoadStage":          loadgen.Stage{},
		"TokenSpec":          loadgen.TokenSpec{},
		"LoadResult":         loadgen.Result{},
		"LoadProgress":       loadgen.Progress{},
		"LoadSecond":         loadgen.Second{},
		"Latency":            loadgen.Latency{},
		"LatencyBucket":      loadgen.Bucket{},
		"ComparisonRow":      loadgen.ComparisonRow{},
		"Signals":            metrics.Signals{},
		"MigrationsStatus":   migrate.Status{},
		"MigrationStatus":    migrate.MigrationStatus{},
		"MigrationRequest":   migrate.Request{},
		"MigrationReport":    migrate.Report{},
		"MigrationStep":      migrate.Step{},
		"SQLStatement":       migrate.Statement{},
		"LintWarning":        migrate.Warning{},
		"ForceRequest":       ForceRequest{},
		"GenerateRequest":    GenerateRequest{},
		"GeneratedMigration": GeneratedMigration{},
		"MigrationDraft":     migrate.Draft{},
		"BackupsOverview":    BackupsOverview{},
		"BackupRequest":      BackupRequest{},
		"BackupManifest":     backup.Manifest{},
		"BackupFile":         backup.File{},
		"BackupSkipped":      backup.Skipped{},
		"BackupReport":       backup.Report{},
		"BackupCheck":        backup.Check{},
		"ArchiveStatus":      backup.ArchiveStatus{},
		"BackupVerification": backup.Verification{},
		"ArchiveInfo":        backup.ArchiveInfo{},
		"RestoreWindow":      RestoreWindow{},
		"BackupSchedule":     BackupSchedule{},
		"RestoreRequest":     RestoreRequest{},
		"RestoreReport":      backup.RestoreReport{},
		"RestoreFileState":   backup.FileState{},
		// covet.json, for the studio's editors.
		"Config":          config.Config{},
		"ServerConfig":    config.Server{},
		"DatabaseConfig":  config.Database{},
		"BackupsConfig":   config.Backups{},
		"Route":           config.Route{},
		"HandlerRoute":    config.Handler{},
		"TLSConfig":       config.TLS{},
		"Mock":            config.Mock{},
		"Redirect":        config.Redirect{},
		"Static":          config.Static{},
		"Proxy":           config.Proxy{},
		"Policy":          config.Policy{},
		"AuthConfig":      config.Auth{},
		"RotationConfig":  config.Rotation{},
		"AuthPolicy":      config.AuthPolicy{},
		"RateLimitPolicy": config.RateLimit{},
		"CORSPolicy":      config.CORS{},
		"CachePolicy":     config.Cache{},
		"CompressPolicy":  config.Compress{},
		"CSRFPolicy":      config.CSRF{},
		"BenchConfig":     config.Bench{},
	}
}

// RouteTable is what the server serves right now
// (GET /_covet/api/routes).
type RouteTable struct {
	// Stack is the middleware every route runs behind, outermost first.
	Stack  []string    `json:"stack"`
	Routes []RouteInfo `json:"routes"`
	// Handlers are the Go handlers routes of kind "handler" can name.
	Handlers []HandlerInfo `json:"handlers"`
}

// RouteInfo is one served route.
type RouteInfo struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Kind is "go" for the program's own routes, "preflight" for an
	// OPTIONS route added for a CORS policy, else the configured kind.
	Kind string `json:"kind"`
	// ID is the configured route's id; empty for Go routes.
	ID string `json:"id,omitempty"`
	// Handler is the named handler of a route of kind "handler".
	Handler string `json:"handler,omitempty"`
	// Source is the file:line of a Go route's registration, or the
	// configured route's JSON path ("routes[3]").
	Source string `json:"source"`
	// HandlerSource is the file:line where Handler was registered.
	HandlerSource string `json:"handlerSource,omitempty"`
	// Middleware is the route's own middleware (policies), outermost
	// first, inside Stack.
	Middleware []string `json:"middleware"`
}

// HandlerInfo is a named Go handler.
type HandlerInfo struct {
	Name   string `json:"name"`
	Source string `json:"source"` // file:line of the registration
}
