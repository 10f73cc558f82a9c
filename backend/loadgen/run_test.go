package loadgen_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/loadgen"
)

// run runs spec against its URL and fails the test if Run does not
// return within the spec's time plus slack: a generator must never hang.
func run(t *testing.T, ctx context.Context, spec loadgen.Spec, opts loadgen.HTTPOptions) *loadgen.Result {
	t.Helper()
	sc, err := loadgen.NewHTTP(ctx, spec, opts)
	if err != nil {
		t.Fatalf("NewHTTP: %v", err)
	}
	type out struct {
		res *loadgen.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := loadgen.Run(ctx, spec, sc, nil)
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatalf("Run: %v", o.err)
		}
		return o.res
	case <-time.After(spec.Warmup.Std() + spec.Duration.Std() + 10*time.Second):
		t.Fatal("Run did not return after the run's duration")
		return nil
	}
}

func hello() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("Hello, World!")) })
}

func seconds(n float64) loadgen.Duration { return loadgen.Duration(n * float64(time.Second)) }

func TestClosedModelCountsEveryRequest(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("Hello, World!"))
	}))
	defer srv.Close()
	res := run(t, context.Background(), loadgen.Spec{URL: srv.URL + "/hello", Connections: 4, Duration: seconds(1), Warmup: seconds(0.5)}, loadgen.HTTPOptions{})
	if res.Requests == 0 || res.Errors != 0 || res.Status["2xx"] != res.Requests {
		t.Fatalf("requests %d errors %d status %v", res.Requests, res.Errors, res.Status)
	}
	// The warm-up was served but is not in the result.
	if uint64(served.Load()) <= res.Requests {
		t.Errorf("served %d, measured %d: the warm-up should be left out", served.Load(), res.Requests)
	}
	if res.Stopped != loadgen.StoppedDuration || len(res.Series) != 1 || res.Series[0].T != 1 {
		t.Errorf("stopped %q, series %+v", res.Stopped, res.Series)
	}
	var inHist uint64
	for _, b := range res.Histogram {
		inHist += b.Count
	}
	h, err := res.DecodeHDR()
	if err != nil {
		t.Fatal(err)
	}
	if inHist != res.Requests || uint64(h.TotalCount()) != res.Requests {
		t.Errorf("histogram holds %d, HDR %d, want %d", inHist, h.TotalCount(), res.Requests)
	}
	if l := res.Latency; !(l.Min <= l.P50 && l.P50 <= l.P99 && l.P99 <= l.Max) || l.P50 <= 0 {
		t.Errorf("latency summary out of order: %+v", l)
	}
	if res.Bytes < res.Requests*uint64(len("Hello, World!")) {
		t.Errorf("bytes %d for %d requests", res.Bytes, res.Requests)
	}

	res = run(t, context.Background(), loadgen.Spec{URL: srv.URL + "/missing", Connections: 1, Duration: seconds(0.3)}, loadgen.HTTPOptions{})
	if res.Errors != res.Requests || res.ErrorKinds["4xx"] != res.Requests || res.ErrorRate() != 100 {
		t.Errorf("404s: requests %d errors %d kinds %v", res.Requests, res.Errors, res.ErrorKinds)
	}
}

func TestMaxRequestsCapsTheRun(t *testing.T) {
	srv := httptest.NewServer(hello())
	defer srv.Close()
	res := run(t, context.Background(), loadgen.Spec{URL: srv.URL, Connections: 8, Duration: seconds(30), MaxRequests: 500}, loadgen.HTTPOptions{})
	if res.Requests != 500 || res.Stopped != loadgen.StoppedMaxRequests {
		t.Errorf("requests %d stopped %q, want 500 maxRequests", res.Requests, res.Stopped)
	}
}

// TestCancelStopsTraffic: after a cancel, no request reaches the server
// later than 100 ms, requests in flight are abandoned, and the result
// holds the data so far.
func TestCancelStopsTraffic(t *testing.T) {
	var mu sync.Mutex
	var last time.Time
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = time.Now()
		mu.Unlock()
		if r.URL.Query().Has("slow") {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	for _, path := range []string{"/", "/?slow"} {
		t.Run(path, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			var cancelled time.Time
			time.AfterFunc(1200*time.Millisecond, func() { cancelled = time.Now(); cancel() })
			start := time.Now()
			res := run(t, ctx, loadgen.Spec{URL: srv.URL + path, Connections: 16, Duration: seconds(60)}, loadgen.HTTPOptions{})
			returned := time.Now()
			time.Sleep(300 * time.Millisecond) // anything still on its way arrives now
			mu.Lock()
			lastSeen := last
			mu.Unlock()
			if res.Stopped != loadgen.StoppedCancelled {
				t.Errorf("stopped %q, want cancelled", res.Stopped)
			}
			if late := lastSeen.Sub(cancelled); late > 100*time.Millisecond {
				t.Errorf("a request reached the server %v after the cancel", late)
			}
			if took := returned.Sub(cancelled); took > time.Second {
				t.Errorf("Run returned %v after the cancel", took)
			}
			// One whole second and the part of the next before the cancel.
			if path == "/" && (res.Requests == 0 || len(res.Series) != 2 || res.Series[1].T < 1.1 || res.Series[1].T > 1.5) {
				t.Errorf("the data so far is missing: %d requests, seconds %+v", res.Requests, res.Series)
			}
			if d := res.DurationSeconds; d < 1 || d > returned.Sub(start).Seconds() {
				t.Errorf("measured %gs", d)
			}
		})
	}
}

// TestTargetFailuresAreReportedByKind: refused, reset and slow targets are
// errors of their kind, and the run still ends on time.
func TestTargetFailuresAreReportedByKind(t *testing.T) {
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}()
	resetLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer resetLn.Close()
	go func() {
		for {
			c, err := resetLn.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 512)
			_, _ = c.Read(buf) // read the request, then reset
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	garbage, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Close()
	go func() {
		for {
			c, err := garbage.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n\r\n"))
			c.Close()
		}
	}()

	cases := []struct {
		name, url, kind string
		timeout         time.Duration
	}{
		{"refused", refused, "refused", time.Second},
		{"reset", "http://" + resetLn.Addr().String(), "reset", time.Second},
		{"slow", slow.URL, "timeout", 200 * time.Millisecond},
		{"not http", "http://" + garbage.Addr().String(), "protocol", time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, context.Background(), loadgen.Spec{URL: tc.url, Connections: 2, Duration: seconds(1), Timeout: loadgen.Duration(tc.timeout)}, loadgen.HTTPOptions{})
			if res.Requests == 0 || res.ErrorKinds[tc.kind] == 0 || res.Errors != res.Requests {
				t.Errorf("requests %d errors %d kinds %v, want every one %s", res.Requests, res.Errors, res.ErrorKinds, tc.kind)
			}
		})
	}
}

// TestOpenModelKeepsTheRate: the open model sends what the schedule says,
// whatever the latency.
func TestOpenModelKeepsTheRate(t *testing.T) {
	srv := httptest.NewServer(hello())
	defer srv.Close()
	res := run(t, context.Background(), loadgen.Spec{URL: srv.URL, Rate: 200, Connections: 10, Duration: seconds(2), Warmup: seconds(0.5)}, loadgen.HTTPOptions{})
	// 400 are due in the measured two seconds; the last ones may still be
	// in flight at the end.
	if res.Requests < 390 || res.Requests > 400 || res.TargetRate != 200 {
		t.Errorf("requests %d, target rate %g; want about 400 at 200/s", res.Requests, res.TargetRate)
	}
	for _, s := range res.Series {
		if s.TargetRate != 200 {
			t.Errorf("second %g: target %g, want 200", s.T, s.TargetRate)
		}
	}
}

// stallingServer answers at once, except that 700 ms after it starts one
// request stalls for a second (and every request behind it on its
// connection with it).
func stallingServer(t *testing.T) *httptest.Server {
	t.Helper()
	var stallOnce sync.Once
	start := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-start:
			stallOnce.Do(func() { time.Sleep(time.Second) })
		default:
		}
	}))
	t.Cleanup(srv.Close)
	time.AfterFunc(700*time.Millisecond, func() { close(start) })
	return srv
}

// TestOpenModelCorrectsCoordinatedOmission: when the server stalls for a
// second, requests that were due during the stall count the time they
// waited, so the p99 shows the stall; a closed model would hide it.
func TestOpenModelCorrectsCoordinatedOmission(t *testing.T) {
	srv := stallingServer(t)
	// One connection: every request queued behind the stalled one waits.
	res := run(t, context.Background(), loadgen.Spec{URL: srv.URL, Rate: 100, Connections: 1, Duration: seconds(3)}, loadgen.HTTPOptions{})
	if res.Latency.P99 < 500 || res.Latency.Max < 900 {
		t.Errorf("p99 %gms max %gms: the 1 s stall is not reflected", res.Latency.P99, res.Latency.Max)
	}
	if res.Latency.P90 < 100 {
		t.Errorf("p90 %gms: the ~100 requests due during the stall should have waited", res.Latency.P90)
	}
}

// TestClosedModelCorrectedLatency: a closed model does not see the
// requests it did not send while its users waited on a stall; its
// corrected latency, like wrk's, counts them, and its plain latency shows
// what the requests sent took. The open model has no corrected figure.
func TestClosedModelCorrectedLatency(t *testing.T) {
	srv := stallingServer(t)
	// One user: during the stall it sends nothing.
	res := run(t, context.Background(), loadgen.Spec{URL: srv.URL, Connections: 1, Duration: seconds(3)}, loadgen.HTTPOptions{})
	c := res.LatencyCorrected
	if c == nil {
		t.Fatal("no corrected latency for the closed model")
	}
	if res.Latency.Max < 900 || res.Latency.P99 > 100 {
		t.Errorf("plain latency p99 %gms max %gms: want the stall in max only", res.Latency.P99, res.Latency.Max)
	}
	if c.P99 < 100 || c.Max < 900 || c.P50 > c.P99 {
		t.Errorf("corrected latency %+v: the stall should lift p99", *c)
	}
	open := run(t, context.Background(), loadgen.Spec{URL: srv.URL, Rate: 50, Duration: seconds(1)}, loadgen.HTTPOptions{})
	if open.LatencyCorrected != nil {
		t.Errorf("the open model has a corrected latency %+v", *open.LatencyCorrected)
	}
}

func TestParamsHeadersAndTokens(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	tokens := map[string]bool{}
	// Every request waits (up to 5 s) until both users have sent one, so
	// that a fast first user cannot take all 40 requests before the second
	// one starts, which a loaded machine allowed.
	both := make(chan struct{})
	var bothOnce sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+r.Header.Get("X-Test")] = true
		if tokens[r.Header.Get("Authorization")] = true; len(tokens) == 2 {
			bothOnce.Do(func() { close(both) })
		}
		mu.Unlock()
		select {
		case <-both:
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	spec := loadgen.Spec{
		Method: "POST", URL: srv.URL + "/users/{id}/{n}", Body: `{"a":1}`, Connections: 2, MaxRequests: 40, Duration: seconds(10),
		Headers: []loadgen.Header{{Name: "X-Test", Value: "yes"}},
		Params:  []loadgen.Param{{Name: "id", Values: []string{"a", "b c"}}, {Name: "n", Min: 7, Max: 7}},
		Auth:    &loadgen.TokenSpec{},
	}
	mint := func(vu int, ts loadgen.TokenSpec) (string, error) {
		return strings.ReplaceAll(ts.Subject, "{vu}", string(rune('0'+vu))), nil
	}
	run(t, context.Background(), spec, loadgen.HTTPOptions{Mint: mint})
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"POST /users/a/7 Bearer bench-0 yes", "POST /users/b c/7 Bearer bench-1 yes"} {
		if !seen[want] {
			t.Errorf("never saw %q; saw %v", want, seen)
		}
	}
	if _, err := loadgen.NewHTTP(context.Background(), spec, loadgen.HTTPOptions{}); err == nil {
		t.Error("a spec with auth and no Mint was accepted")
	}
}

func TestHTTP2(t *testing.T) {
	var h2 atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			h2.Add(1)
		}
	}))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	res := run(t, context.Background(), loadgen.Spec{URL: srv.URL, HTTP2: true, Connections: 4, MaxRequests: 200, Duration: seconds(10)}, loadgen.HTTPOptions{})
	if res.Status["2xx"] != 200 || h2.Load() < 200 {
		t.Errorf("2xx %d, HTTP/2 requests served %d; want 200 each", res.Status["2xx"], h2.Load())
	}

	tlsSrv := httptest.NewTLSServer(hello())
	defer tlsSrv.Close()
	res = run(t, context.Background(), loadgen.Spec{URL: tlsSrv.URL, Connections: 2, MaxRequests: 50, Duration: seconds(10)},
		loadgen.HTTPOptions{TLS: tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig})
	if res.Status["2xx"] != 50 {
		t.Errorf("https: status %v errors %v", res.Status, res.ErrorKinds)
	}
}

func TestOnlyLoopbackUnlessAllowed(t *testing.T) {
	spec := loadgen.Spec{URL: "http://192.0.2.1:8080/", Duration: seconds(1)}
	if _, err := loadgen.NewHTTP(context.Background(), spec, loadgen.HTTPOptions{}); !errors.Is(err, loadgen.ErrNotLoopback) {
		t.Errorf("NewHTTP(192.0.2.1) = %v, want ErrNotLoopback", err)
	}
	if _, err := loadgen.NewHTTP(context.Background(), spec, loadgen.HTTPOptions{AllowHosts: []string{"192.0.2.1"}}); err != nil {
		t.Errorf("NewHTTP(192.0.2.1) allowed = %v", err)
	}
	for _, u := range []string{"http://localhost:1/", "http://[::1]:1/", "http://127.0.0.2:1/"} {
		if _, err := loadgen.NewHTTP(context.Background(), loadgen.Spec{URL: u, Duration: seconds(1)}, loadgen.HTTPOptions{}); err != nil {
			t.Errorf("NewHTTP(%s) = %v, want loopback accepted", u, err)
		}
	}
}

func TestCompare(t *testing.T) {
	a := &loadgen.Result{RPS: 1000, Requests: 10000, Latency: loadgen.Latency{P99: 2}, DurationSeconds: 10}
	b := &loadgen.Result{RPS: 1500, Requests: 15000, Errors: 15, Latency: loadgen.Latency{P99: 3}, DurationSeconds: 10}
	rows := map[string]loadgen.ComparisonRow{}
	for _, r := range loadgen.Compare(a, b).Rows {
		rows[r.Metric] = r
	}
	if r := rows["rps"]; r.Ratio == nil || *r.Ratio != 1.5 || r.Better != "higher" {
		t.Errorf("rps row %+v", r)
	}
	if r := rows["p99"]; r.Ratio == nil || *r.Ratio != 1.5 || r.Better != "lower" {
		t.Errorf("p99 row %+v", r)
	}
	if r := rows["errors"]; r.Ratio != nil || r.B != 15 {
		t.Errorf("errors row %+v: want no ratio when A is 0", r)
	}
	if r := rows["errorRate"]; r.B != 0.1 {
		t.Errorf("error rate %g, want 0.1%%", r.B)
	}
}
