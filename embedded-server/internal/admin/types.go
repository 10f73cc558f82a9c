package admin

import (
	"time"

	"github.com/covetpy/covet/backend/metrics"
)

// Event types on the stream (docs/admin-api.md).
const (
	EventRequest      = "request"
	EventMetricSample = "metric.sample"
	EventDropped      = "dropped"
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
	Status     int       `json:"status"`
	DurationMs float64   `json:"durationMs"`
	Bytes      int64     `json:"bytes"`
	RemoteAddr string    `json:"remoteAddr"`
}

// MetricSample is one second of served requests.
type MetricSample = metrics.Sample

// DroppedEvent tells a subscriber how many events it missed.
type DroppedEvent struct {
	Count uint64 `json:"count"`
}

// APITypes lists the types the studio's TypeScript definitions are
// generated from, by the name they get there.
func APITypes() map[string]any {
	return map[string]any{
		"Info":         Info{},
		"DatabaseInfo": DatabaseInfo{},
		"RequestEvent": RequestEvent{},
		"MetricSample": MetricSample{},
		"DroppedEvent": DroppedEvent{},
	}
}
