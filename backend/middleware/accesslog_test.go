package middleware

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAccessLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	status := 200
	h := RequestID()(AccessLog(log, 10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte("hello"))
	})))
	for range 20 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
	}
	status = 503
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/fail", nil))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines, want 2 sampled successes + 1 error:\n%s", len(lines), buf.String())
	}
	var last map[string]any
	json.Unmarshal([]byte(lines[2]), &last)
	if last["level"] != "ERROR" || last["path"] != "/fail" || last["status"] != 503.0 || last["bytes"] != 5.0 || last["request_id"] == "" {
		t.Errorf("error line = %v", last)
	}
}

func TestAccessLogLevel(t *testing.T) {
	// A handler at Warn drops the successes (unformatted) and keeps the
	// errors, with the fields LogAttrs would have given.
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	status := 200
	h := RequestID()(AccessLog(log, 0)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
	})))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
	status = 404
	req := httptest.NewRequest("DELETE", "/missing", nil)
	req.Header.Set(RequestIDHeader, "abc")
	h.ServeHTTP(httptest.NewRecorder(), req)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("logged %d lines, want the 404 only:\n%s", len(lines), buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"level": "WARN", "msg": "request", "method": "DELETE", "path": "/missing", "status": 404.0,
		"bytes": 0.0, "remote": "192.0.2.1:1234", "request_id": "abc"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["time"].(string); !ok {
		t.Errorf("no time in %v", got)
	}
	if _, ok := got["duration"].(float64); !ok {
		t.Errorf("no duration in %v", got)
	}
}
