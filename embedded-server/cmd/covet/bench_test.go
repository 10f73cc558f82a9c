package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/loadgen"
	embeddedserver "github.com/covetpy/covet/embedded-server"
)

func TestBenchUsageErrors(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"help", []string{"bench", "-h"}, 0, "-connections N"},
		{"no url", []string{"bench"}, 2, "--url is required"},
		{"stray argument", []string{"bench", "--url", "http://127.0.0.1:1/", "x"}, 2, `unexpected argument "x"`},
		{"not loopback", []string{"bench", "--url", "http://192.0.2.1/", "--duration", "1s"}, 1, "192.0.2.1 is not a loopback address; load tests target only this machine unless the host is explicitly allowed (pass --allow-host to allow it)"},
		{"too long", []string{"bench", "--url", "http://127.0.0.1:1/", "--duration", "2h"}, 1, "duration: 2h0m0s is not above 0 and at most 1h0m0s"},
		{"bad header", []string{"bench", "--url", "http://127.0.0.1:1/", "--header", "nocolon"}, 1, `--header "nocolon": want 'Name: value'`},
		{"bad param", []string{"bench", "--url", "http://127.0.0.1:1/{id}", "--param", "id=a..b"}, 1, "MIN..MAX must be integers"},
		{"missing param", []string{"bench", "--url", "http://127.0.0.1:1/{id}"}, 1, "placeholder {id} has no entry"},
		{"bad ramp", []string{"bench", "--url", "http://127.0.0.1:1/", "--rate", "10", "--ramp", "fast"}, 1, `stage "fast" is not RATE:DURATION`},
		{"compare needs two", []string{"bench", "compare", "a"}, 2, "want 2 argument(s), got 1"},
		{"no stored runs", []string{"bench", "list", "--project", empty}, 1, "no stored runs in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.wantCode, tt.wantStderr)
			}
		})
	}
}

// TestBenchCommandAgreesWithTheAPI runs two load tests with the CLI, stores
// them, and checks that `covet bench compare --json`, the admin API's
// comparison and the JSON export give the same numbers.
func TestBenchCommandAgreesWithTheAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Hello, World!")) }))
	defer srv.Close()
	project := t.TempDir()
	reports := t.TempDir()
	bench := func(args ...string) (map[string]any, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args = append([]string{"bench", "--url", srv.URL + "/hello", "--duration", "1s", "--warmup", "0s", "--json", "--save", "--project", project}, args...)
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("covet %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
		}
		var out map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("--json printed %q: %v", stdout.String(), err)
		}
		return out, stderr.String()
	}
	closed, progress := bench("--connections", "2", "--duration", "2s", "--csv", filepath.Join(reports, "a.csv"), "--html", filepath.Join(reports, "a.html"))
	lat, _ := closed["latencyMs"].(map[string]any)
	for _, k := range []string{"requests", "rps", "errors"} {
		if _, ok := closed[k].(float64); !ok {
			t.Errorf("--json has no number %q: %v", k, closed)
		}
	}
	for _, k := range []string{"p50", "p95", "p99", "max"} {
		if v, ok := lat[k].(float64); !ok || v <= 0 {
			t.Errorf("--json latencyMs.%s = %v", k, lat[k])
		}
	}
	if !strings.Contains(progress, "req/s") {
		t.Errorf("no progress line on stderr: %q", progress)
	}
	for _, f := range []string{"a.csv", "a.html"} {
		if b, err := os.ReadFile(filepath.Join(reports, f)); err != nil || len(b) == 0 {
			t.Errorf("report %s: %v", f, err)
		}
	}
	open, _ := bench("--rate", "100", "--connections", "4")
	if open["targetRate"] != 100.0 {
		t.Errorf("--rate 100: targetRate %v", open["targetRate"])
	}

	var stdout, stderr bytes.Buffer
	if code := run([]string{"bench", "list", "--project", project, "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("list: %s", stderr.String())
	}
	var list []struct{ ID, Model, Source string }
	json.Unmarshal(stdout.Bytes(), &list)
	if len(list) != 2 || list[0].Model != "open" || list[1].Model != "closed" || list[0].Source != "cli" {
		t.Fatalf("list %+v", list)
	}
	a, b := list[1].ID, list[0].ID
	stdout.Reset()
	if code := run([]string{"bench", "compare", a, b, "--project", project, "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("compare: %s", stderr.String())
	}
	var cli struct{ Rows []loadgen.ComparisonRow }
	json.Unmarshal(stdout.Bytes(), &cli)

	// The server on the same project compares the same runs.
	srvE, err := embeddedserver.New(embeddedserver.Config{Project: project, Listen: "127.0.0.1:0", AdminToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srvE.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer srvE.Shutdown(context.Background())
	get := func(path string, out any) {
		t.Helper()
		req, _ := http.NewRequest("GET", srvE.Info().URL+path, nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, err, resp)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(out)
	}
	var api struct{ Rows []loadgen.ComparisonRow }
	get("/_covet/api/bench/compare?a="+a+"&b="+b, &api)
	if len(api.Rows) == 0 || !reflect.DeepEqual(api.Rows, cli.Rows) {
		t.Errorf("the API's comparison differs from the CLI's:\napi %+v\ncli %+v", api.Rows, cli.Rows)
	}
	var export struct{ Result loadgen.Result }
	get("/_covet/api/bench/runs/"+a+"/export?format=json", &export)
	for _, row := range api.Rows {
		if row.Metric == "p99" && row.A != export.Result.Latency.P99 || row.Metric == "rps" && row.A != export.Result.RPS {
			t.Errorf("row %s: A %g, the JSON export says %+v", row.Metric, row.A, export.Result.Latency)
		}
	}
	if closed["rps"] != export.Result.RPS {
		t.Errorf("--json rps %v, export %v", closed["rps"], export.Result.RPS)
	}
}
