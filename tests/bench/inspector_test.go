package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gorilla/websocket"

	"github.com/covetpy/covet/embedded-server/servertest"
)

// Bounds of one inspector-overhead run: an open model at
// INSPECTOR_RATE requests per second (default inspectorRate, the goal's
// rate; at most 20,000) for inspectorDuration, at most inspectorWorkers in
// flight (a request that finds none free is counted late, not dropped).
const (
	inspectorRate     = 5000
	inspectorMaxRate  = 20000
	inspectorDuration = 5 * time.Second
	inspectorWorkers  = 64
)

func inspectorLoadRate(b *testing.B) int {
	s := os.Getenv("INSPECTOR_RATE")
	if s == "" {
		return inspectorRate
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > inspectorMaxRate {
		b.Fatalf("INSPECTOR_RATE=%q: want a number from 1 to %d", s, inspectorMaxRate)
	}
	return n
}

const inspectorProject = `{"server": {"listen": "127.0.0.1:0", "accessLog": "off"}, "database": {"primary": "sqlite:covet_data/covet.db"},
  "resources": [{"name": "users", "table": "users", "fields": [{"name": "name", "type": "string", "required": true, "maxLength": 100}, {"name": "email", "type": "string", "required": true, "unique": true}, {"name": "age", "type": "int"}]}],
  "routes": [{"id": "users", "path": "/users", "kind": "resource", "resource": "users"}]}`

// BenchmarkInspectorOverhead measures what watching the query inspector
// costs a server: GET /users/{id} of a resource at 5,000 req/s (an open
// model: latency from each request's intended send time, so queueing
// counts), once with nobody subscribed and once with a studio client
// reading the event stream, alternately. It reports the p99 of each and
// their ratio (goal: subscribed at most 1.05x unsubscribed).
func BenchmarkInspectorOverhead(b *testing.B) {
	srv := servertest.Start(b, servertest.Options{Config: inspectorProject})
	for i := range 100 {
		resp, err := http.Post(srv.URL+"/users", "application/json", strings.NewReader(fmt.Sprintf(`{"name": "u%d", "email": "u%d@example.com", "age": %d}`, i, i, i)))
		if err != nil || resp.StatusCode != 201 {
			b.Fatal(err, resp.Status)
		}
		resp.Body.Close()
	}
	rate := inspectorLoadRate(b)
	var p99 [2][]float64
	for b.Loop() {
		for _, watched := range []bool{false, true} {
			var stop func()
			if watched {
				stop = subscribe(b, srv)
			}
			h := openLoad(b, srv.URL, rate)
			if stop != nil {
				stop()
			}
			k := 0
			if watched {
				k = 1
			}
			p99[k] = append(p99[k], float64(h.ValueAtQuantile(99))/1000)
		}
	}
	med := func(v []float64) float64 {
		s := append([]float64(nil), v...)
		for i := range s {
			for j := i + 1; j < len(s); j++ {
				if s[j] < s[i] {
					s[i], s[j] = s[j], s[i]
				}
			}
		}
		return s[len(s)/2]
	}
	b.ReportMetric(med(p99[0]), "p99-ms-unwatched")
	b.ReportMetric(med(p99[1]), "p99-ms-watched")
	b.ReportMetric(med(p99[1])/med(p99[0]), "p99-ratio")
}

// subscribe opens the studio's event stream and reads it until stopped.
func subscribe(b *testing.B, srv *servertest.Server) (stop func()) {
	b.Helper()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/_covet/api/events"
	conn, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + srv.Token}})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	return func() { conn.Close(); wg.Wait() }
}

// openLoad sends GET /users/{id} at rate per second for inspectorDuration and
// returns the latency histogram in microseconds, measured from each
// request's intended send time.
func openLoad(b *testing.B, base string, rate int) *hdr.Histogram {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: inspectorWorkers}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	h := hdr.New(1, 10_000_000, 3)
	var mu sync.Mutex
	jobs := make(chan time.Time, rate) // intended send times; bounded
	var wg sync.WaitGroup
	var failed error
	for range inspectorWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for intended := range jobs {
				n++
				resp, err := client.Get(fmt.Sprintf("%s/users/%d", base, 1+n%100))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				mu.Lock()
				if err != nil && failed == nil {
					failed = err
				}
				_ = h.RecordValue(time.Since(intended).Microseconds())
				mu.Unlock()
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), inspectorDuration)
	defer cancel()
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; ctx.Err() == nil && i < rate*int(inspectorDuration/time.Second); i++ {
		intended := start.Add(time.Duration(i) * interval)
		if d := time.Until(intended); d > 0 {
			time.Sleep(d)
		}
		jobs <- intended
	}
	close(jobs)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	return h
}
