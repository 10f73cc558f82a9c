package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/embedded-server/servertest"
)

// Bounds of one live-apply iteration: the new body must be served within
// liveApplyDeadline, and polling stops after liveApplyMaxPolls requests.
const (
	liveApplyDeadline = 5 * time.Second
	liveApplyMaxPolls = 200_000
)

// BenchmarkLiveApply measures how soon a configuration change made through
// the admin API is served. Each iteration PATCHes the mock body of the
// default project's hello route, then, from the moment the PATCH response
// arrives, GETs /hello in a tight loop until the new body comes back. It
// reports percentiles of that delay and of the PATCH round trip;
// scripts/bench runs it 200 times (-benchtime 200x) and, with
// LIVEAPPLY_SAMPLES set, it writes one line per iteration to that file.
func BenchmarkLiveApply(b *testing.B) {
	srv := servertest.Start(b, servertest.Options{})
	client := srv.Client
	get := func() (string, error) {
		resp, err := client.Get(srv.URL + "/hello")
		if err != nil {
			return "", err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(body), err
	}
	if body, err := get(); err != nil || body != "Hello, World!" {
		b.Fatalf("GET /hello before any change = %q, %v", body, err)
	}

	var patches, applies []time.Duration
	var polls []int
	for i := 0; b.Loop(); i++ {
		want := fmt.Sprintf("live apply %d", i)
		req := srv.Request(b, "PATCH", "/_covet/api/config/routes/hello",
			strings.NewReader(fmt.Sprintf(`{"mock": {"body": %q}}`, want)))
		req.Header.Set("Content-Type", "application/json")
		sent := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		arrived := time.Now()
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("PATCH = %d %s", resp.StatusCode, bytes.TrimSpace(msg))
		}
		n := 0
		for {
			body, err := get()
			n++
			if err != nil {
				b.Fatal(err)
			}
			if body == want {
				break
			}
			if n >= liveApplyMaxPolls || time.Since(arrived) > liveApplyDeadline {
				b.Fatalf("iteration %d: %q still served %v and %d polls after the PATCH", i, body, time.Since(arrived), n)
			}
		}
		applies = append(applies, time.Since(arrived))
		patches = append(patches, arrived.Sub(sent))
		polls = append(polls, n)
	}
	b.StopTimer()

	if path := os.Getenv("LIVEAPPLY_SAMPLES"); path != "" {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "# iteration patch_us apply_us polls\n")
		for i := range applies {
			fmt.Fprintf(&buf, "%d %.1f %.1f %d\n", i, us(patches[i]), us(applies[i]), polls[i])
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, s := range []struct {
		name string
		d    []time.Duration
	}{{"patch", patches}, {"apply", applies}} {
		slices.Sort(s.d)
		for _, p := range []int{50, 95, 99} {
			b.ReportMetric(us(percentile(s.d, p)), fmt.Sprintf("%s-p%d-us", s.name, p))
		}
		b.ReportMetric(us(s.d[len(s.d)-1]), s.name+"-max-us")
	}
	b.ReportMetric(float64(slices.Max(polls)), "max-polls")
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// percentile returns the nearest-rank p-th percentile of sorted values.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	return sorted[max(rank, 1)-1]
}
