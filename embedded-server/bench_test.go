package embeddedserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/loadgen/runstore"
	embeddedserver "github.com/covetpy/covet/embedded-server"
	"github.com/covetpy/covet/embedded-server/servertest"
)

type benchRun struct {
	ID, Name, Status, Source, Error string
	Result                          *loadgen.Result
	Signals                         []struct{ Requests, Queries uint64 }
}

type comparison struct {
	A, B runstore.Summary
	Rows []loadgen.ComparisonRow
}

// startRun starts a load test through the API and returns its id.
func startRun(t *testing.T, srv *servertest.Server, spec string) string {
	t.Helper()
	var run benchRun
	if code := adminJSON(t, srv, "POST", "/_covet/api/bench/runs", spec, &run); code != 201 || run.Status != "running" {
		t.Fatalf("start %s: %d %+v", spec, code, run)
	}
	return run.ID
}

// waitFinished reads events until the run's bench.finished, counting its
// progress events.
func waitFinished(t *testing.T, srv *servertest.Server, id string, within time.Duration) (progress []loadgen.Progress) {
	t.Helper()
	conn := dialEvents(t, srv)
	conn.SetReadDeadline(time.Now().Add(within))
	for {
		var ev wireEvent
		if err := conn.ReadJSON(&ev); err != nil {
			t.Fatalf("waiting for run %s to finish: %v", id, err)
		}
		switch ev.Type {
		case "bench.progress":
			var p struct {
				ID       string
				Progress loadgen.Progress
			}
			json.Unmarshal(ev.Data, &p)
			if p.ID == id {
				progress = append(progress, p.Progress)
			}
		case "bench.finished":
			var s runstore.Summary
			json.Unmarshal(ev.Data, &s)
			if s.ID == id {
				return progress
			}
		}
	}
}

func TestBenchRunsThroughTheAPI(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	first := startRun(t, srv, `{"name": "first", "url": "`+srv.URL+`/hello", "connections": 2, "duration": "2s", "warmup": "1s", "source": "route:hello"}`)

	// One run at a time.
	req := srv.Request(t, "POST", "/_covet/api/bench/runs", strings.NewReader(`{"url": "`+srv.URL+`/hello", "duration": "1s"}`))
	if resp := srv.Do(t, req); resp.StatusCode != http.StatusConflict || !strings.Contains(string(resp.Body), first) {
		t.Errorf("a second run while one runs: %d %s, want 409 naming %s", resp.StatusCode, resp.Body, first)
	}
	progress := waitFinished(t, srv, first, 15*time.Second)
	if len(progress) < 2 || !progress[0].Warmup || progress[len(progress)-1].Warmup {
		t.Errorf("progress events %+v: want a warm-up second, then measured ones", progress)
	}

	var run benchRun
	adminJSON(t, srv, "GET", "/_covet/api/bench/runs/"+first, "", &run)
	if run.Status != "completed" || run.Name != "first" || run.Source != "route:hello" || run.Result == nil || run.Result.Requests == 0 || run.Result.Errors != 0 {
		t.Fatalf("run %+v", run)
	}
	if len(run.Signals) != len(run.Result.Series) || len(run.Signals) == 0 {
		t.Fatalf("%d signal samples for %d seconds", len(run.Signals), len(run.Result.Series))
	}
	// The target is this server: its own signals saw the load.
	if run.Signals[0].Requests == 0 {
		t.Errorf("the server signals saw no requests: %+v", run.Signals)
	}

	second := startRun(t, srv, `{"url": "`+srv.URL+`/hello", "rate": 200, "connections": 4, "duration": "1s"}`)
	waitFinished(t, srv, second, 10*time.Second)

	var list []runstore.Summary
	adminJSON(t, srv, "GET", "/_covet/api/bench/runs", "", &list)
	if len(list) != 2 || list[0].ID != second || list[1].Model != "closed" || list[0].Model != "open" {
		t.Errorf("list %+v: want the open run first, then the closed one", list)
	}

	var c comparison
	if code := adminJSON(t, srv, "GET", "/_covet/api/bench/compare?a="+first+"&b="+second, "", &c); code != 200 || c.A.ID != first || len(c.Rows) == 0 {
		t.Fatalf("compare: %d %+v", code, c)
	}
	var second2 benchRun
	adminJSON(t, srv, "GET", "/_covet/api/bench/runs/"+second, "", &second2)
	for _, row := range c.Rows {
		if row.Metric == "rps" && (row.A != run.Result.RPS || row.B != second2.Result.RPS) {
			t.Errorf("compare rps %g/%g, runs say %g/%g", row.A, row.B, run.Result.RPS, second2.Result.RPS)
		}
	}

	// Exports.
	for _, tc := range []struct{ format, ctype, contains string }{
		{"json", "application/json", `"requests"`},
		{"csv", "text/csv; charset=utf-8", "requests"},
		{"html", "text/html; charset=utf-8", "<html"},
	} {
		resp := srv.Do(t, srv.Request(t, "GET", "/_covet/api/bench/runs/"+first+"/export?format="+tc.format, nil))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || !strings.Contains(string(resp.Body), tc.contains) ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "covet-bench-"+first+"."+tc.format) {
			t.Errorf("export %s: %d %q %q", tc.format, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
	}

	// Rename, bad input, delete.
	if code := adminJSON(t, srv, "PATCH", "/_covet/api/bench/runs/"+first, `{"name": "baseline"}`, &run); code != 200 || run.Name != "baseline" {
		t.Errorf("rename: %d %+v", code, run)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		says               string
	}{
		{"PATCH", "/_covet/api/bench/runs/" + first, `{"name": "a\nb"}`, 400, "line break"},
		{"GET", "/_covet/api/bench/runs/" + first + "/export?format=pdf", "", 400, "json, csv or html"},
		{"GET", "/_covet/api/bench/compare?a=" + first, "", 400, "two run ids"},
		{"GET", "/_covet/api/bench/runs/nope", "", 404, "nope"},
		{"POST", "/_covet/api/bench/runs/" + first + "/cancel", "", 409, "not running"},
		{"POST", "/_covet/api/bench/runs", `{"url": "http://192.0.2.1/", "duration": "1s"}`, 400, "bench.allowHosts"},
		{"POST", "/_covet/api/bench/runs", `{"url": "http://127.0.0.1/{id}", "duration": "2h", "connections": 0}`, 400, "duration"},
		{"POST", "/_covet/api/bench/runs", `{"url": "http://127.0.0.1/", "duration": 5}`, 400, "duration"},
		{"POST", "/_covet/api/bench/runs", `{"url": "http://127.0.0.1/", "duration": "1s", "source": "elsewhere"}`, 400, "source"},
		{"DELETE", "/_covet/api/bench/runs/" + second, "", 204, ""},
		{"DELETE", "/_covet/api/bench/runs/" + second, "", 404, second},
	} {
		var body *strings.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		var req *http.Request
		if body != nil {
			req = srv.Request(t, tc.method, tc.path, body)
			req.Header.Set("Content-Type", "application/json")
		} else {
			req = srv.Request(t, tc.method, tc.path, nil)
		}
		resp := srv.Do(t, req)
		if resp.StatusCode != tc.status || !strings.Contains(string(resp.Body), tc.says) {
			t.Errorf("%s %s %s: %d %s, want %d saying %q", tc.method, tc.path, tc.body, resp.StatusCode, resp.Body, tc.status, tc.says)
		}
	}
}

func TestBenchCancel(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	id := startRun(t, srv, `{"url": "`+srv.URL+`/hello", "connections": 4, "duration": "60s"}`)
	time.Sleep(1500 * time.Millisecond)
	var run benchRun
	if code := adminJSON(t, srv, "POST", "/_covet/api/bench/runs/"+id+"/cancel", "", &run); code != 200 {
		t.Fatalf("cancel: %d", code)
	}
	if run.Status != "cancelled" || run.Result == nil || run.Result.Requests == 0 || run.Result.Stopped != "cancelled" {
		t.Fatalf("cancelled run %+v", run)
	}
	if len(run.Signals) != len(run.Result.Series) {
		t.Errorf("%d signal samples for %d seconds", len(run.Signals), len(run.Result.Series))
	}
}

// TestBenchRunsSurviveARestart: stored runs outlive the server, and one
// that was running when the process ended is failed, not left running.
func TestBenchRunsSurviveARestart(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	proj := srv.Project
	id := startRun(t, srv, `{"url": "`+srv.URL+`/hello", "connections": 1, "duration": "1s"}`)
	waitFinished(t, srv, id, 10*time.Second)
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	st, err := runstore.Open(filepath.Join(proj, embeddedserver.DataDir, embeddedserver.StudioDB))
	if err != nil {
		t.Fatal(err)
	}
	cut := &runstore.Run{ID: "cutoff", Status: runstore.Running, Source: "studio", StartedAt: time.Now()}
	if err := st.Save(context.Background(), cut); err != nil {
		t.Fatal(err)
	}
	st.Close()

	again, err := embeddedserver.New(embeddedserver.Config{Project: proj, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Shutdown(context.Background())
	st, err = runstore.Open(filepath.Join(proj, embeddedserver.DataDir, embeddedserver.StudioDB))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.List(context.Background())
	if err != nil || len(list) != 2 {
		t.Fatalf("list after restart: %v %+v", err, list)
	}
	got, err := st.Get(context.Background(), "cutoff")
	if err != nil || got.Status != runstore.Failed || !strings.Contains(got.Error, "stopped") {
		t.Errorf("the cut-off run: %v %+v", err, got)
	}
}

// TestLoadDoesNotFloodTheEventStream: a load test against the server
// itself streams at most maxRequestEvents request events per second.
func TestLoadDoesNotFloodTheEventStream(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	conn := dialEvents(t, srv)
	id := startRun(t, srv, `{"url": "`+srv.URL+`/hello", "connections": 4, "duration": "2s"}`)
	requests := 0
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		var ev wireEvent
		if err := conn.ReadJSON(&ev); err != nil {
			t.Fatalf("waiting for run %s to finish: %v", id, err)
		}
		if ev.Type == "request" {
			requests++
		}
		if ev.Type == "bench.finished" {
			break
		}
	}
	var run benchRun
	adminJSON(t, srv, "GET", "/_covet/api/bench/runs/"+id, "", &run)
	// Two measured seconds, and the seconds the run started and ended in.
	if requests > 4*200 || uint64(requests) >= run.Result.Requests {
		t.Errorf("%d request events for %d requests: want at most 200 per second", requests, run.Result.Requests)
	}
}
