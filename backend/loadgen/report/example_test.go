package report_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/backend/loadgen/report"
	"github.com/covetpy/covet/backend/loadgen/runstore"
)

func exampleRun() *runstore.Run {
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	return &runstore.Run{
		ID: "0123456789abcdef", Name: "home page", Status: runstore.Completed, Source: "cli", StartedAt: start,
		Spec: loadgen.Spec{URL: "http://localhost:8000/", Connections: 10, Duration: loadgen.Duration(2 * time.Second)},
		Result: &loadgen.Result{
			Requests: 2000, RPS: 1000, DurationSeconds: 2, Latency: loadgen.Latency{P50: 4.2, P99: 9.875, Max: 12.5},
			Status: map[string]uint64{"2xx": 2000}, ErrorKinds: map[string]uint64{}, Stopped: loadgen.StoppedDuration,
			Series: []loadgen.Second{
				{T: 1, Requests: 990, Bytes: 99000, Latency: loadgen.Latency{P50: 4.1, P99: 9.5, Max: 11}},
				{T: 2, Requests: 1010, Bytes: 101000, Latency: loadgen.Latency{P50: 4.3, P99: 10.25, Max: 12.5}},
			},
			Histogram: []loadgen.Bucket{{UpToMs: 3.981, Count: 800}, {UpToMs: 5.012, Count: 1100}, {UpToMs: 12.589, Count: 100}},
		},
	}
}

func ExampleCSV() {
	if err := report.CSV(os.Stdout, exampleRun()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// t,requests,errors,bytes,latency_p50_ms,latency_p90_ms,latency_p95_ms,latency_p99_ms,latency_p999_ms,latency_max_ms,latency_mean_ms,target_rate
	// 1,990,0,99000,4.1,0,0,9.5,0,11,0,0
	// 2,1010,0,101000,4.3,0,0,10.25,0,12.5,0,0
}

func ExampleHTML() {
	var page strings.Builder
	if err := report.HTML(&page, exampleRun()); err != nil {
		fmt.Println(err)
		return
	}
	_, rest, _ := strings.Cut(page.String(), "<title>")
	title, _, _ := strings.Cut(rest, "</title>")
	fmt.Println(title)
	fmt.Println(strings.Contains(page.String(), "<script"))
	// Output:
	// Covet load test: home page
	// false
}
