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
