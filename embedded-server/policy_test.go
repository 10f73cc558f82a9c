package embeddedserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/embedded-server/servertest"
)

// issueRoute is the route issue #3 says must be accepted verbatim.
const issueRoute = `{"id": "hello", "method": "GET", "path": "/hello", "kind": "mock", "mock": {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": "Hello, World!"}, "policy": {"timeout": "2s", "rateLimit": {"rate": 100, "per": "1s", "burst": 20, "key": "ip"}}}`

func TestRoutePolicies(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	// The issue's route, verbatim, replaces the sample route through the API.
	if r := configReq(t, srv, "PUT", "/routes/hello", issueRoute); r.StatusCode != 200 {
		t.Fatalf("PUT the issue's route: %d %s", r.StatusCode, r.Body)
	}
	more := []string{
		`{"id": "slow", "method": "GET", "path": "/slow", "kind": "mock", "mock": {"delay": "2s"}, "policy": {"timeout": "100ms"}}`,
		`{"id": "upload", "method": "POST", "path": "/upload", "kind": "mock", "mock": {"status": 201}, "policy": {"bodyLimit": 10}}`,
		`{"id": "hourly", "method": "GET", "path": "/hourly", "kind": "mock", "mock": {}, "policy": {"rateLimit": {"rate": 1, "per": "1h", "burst": 1}}}`,
		`{"id": "big", "method": "GET", "path": "/big", "kind": "mock", "mock": {"headers": {"Content-Type": "application/json"}, "body": "[` + strings.Repeat(`{\"n\": 1},`, 300) + `{}]"}, "policy": {"compress": {}}}`,
		`{"id": "form", "method": "POST", "path": "/form", "kind": "mock", "mock": {"status": 204}, "policy": {"csrf": {"trustedOrigins": ["https://app.example"]}}}`,
		`{"id": "shared", "method": "GET", "path": "/shared", "kind": "mock", "mock": {"body": "ok"}, "policy": {"cors": {"allowOrigins": ["https://app.example"], "allowMethods": ["GET"], "maxAge": "10m"}, "cache": {"maxAge": "60s", "public": true}}}`,
	}
	for _, rt := range more {
		if r := configReq(t, srv, "POST", "/routes", rt); r.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", rt, r.StatusCode, r.Body)
		}
	}
	client := &http.Client{Timeout: 5 * time.Second}
	do := func(method, path, body string, header map[string]string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	// Rate limit: a bounded burst of 200 requests from one client admits
	// the burst plus what the rate refills meanwhile, no more.
	start := time.Now()
	admitted, refused := 0, 0
	var last *http.Response
	for range 200 {
		resp := do("GET", "/hello", "", nil)
		switch resp.StatusCode {
		case 200:
			admitted++
		case 429:
			refused++
			last = resp
		default:
			t.Fatalf("unexpected %d", resp.StatusCode)
		}
	}
	limit := 21 + int(time.Since(start)/(10*time.Millisecond)) + 1
	if admitted < 21 || admitted > limit || refused == 0 {
		t.Errorf("admitted %d, refused %d; want 21 to %d admitted", admitted, refused, limit)
	}
	if last != nil && (last.Header.Get("Retry-After") == "" || last.Header.Get("RateLimit-Limit") != "21") {
		t.Errorf("429 headers: %v", last.Header)
	}

	// The limiter's state survives an unrelated configuration change (a
	// route that refills once an hour makes this independent of timing).
	for i, want := range []int{200, 200, 429} {
		if resp := do("GET", "/hourly", "", nil); resp.StatusCode != want {
			t.Fatalf("/hourly request %d = %d, want %d", i, resp.StatusCode, want)
		}
	}
	if r := configReq(t, srv, "PATCH", "/routes/upload", `{"mock": {"status": 202}}`); r.StatusCode != 200 {
		t.Fatalf("PATCH: %d %s", r.StatusCode, r.Body)
	}
	if resp := do("GET", "/hourly", "", nil); resp.StatusCode != 429 {
		t.Errorf("after an unrelated change /hourly answers %d, want 429 (the bucket must not reset)", resp.StatusCode)
	}
	// Changing the route's own limit starts a fresh bucket.
	if r := configReq(t, srv, "PATCH", "/routes/hourly/policy/rateLimit", `{"burst": 2}`); r.StatusCode != 200 {
		t.Fatalf("PATCH limit: %d %s", r.StatusCode, r.Body)
	}
	if resp := do("GET", "/hourly", "", nil); resp.StatusCode != 200 {
		t.Errorf("after changing its limit /hourly answers %d, want 200", resp.StatusCode)
	}

	// Timeout: 503 problem+json at the deadline.
	if resp := do("GET", "/slow", "", nil); resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("/slow = %d %s, want 503 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Body limit.
	if resp := do("POST", "/upload", "0123456789X", nil); resp.StatusCode != 413 {
		t.Errorf("11-byte body = %d, want 413", resp.StatusCode)
	}
	if resp := do("POST", "/upload", "0123456789", nil); resp.StatusCode != 202 {
		t.Errorf("10-byte body = %d, want 202", resp.StatusCode)
	}
	// Compression by Accept-Encoding; CSRF refuses cross-site browser posts.
	for enc, want := range map[string]string{"zstd, gzip": "zstd", "gzip": "gzip", "identity": ""} {
		if resp := do("GET", "/big", "", map[string]string{"Accept-Encoding": enc}); resp.Header.Get("Content-Encoding") != want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", enc, resp.Header.Get("Content-Encoding"), want)
		}
	}
	for _, tt := range []struct {
		origin, site string
		want         int
	}{{"https://evil.example", "cross-site", 403}, {"https://app.example", "cross-site", 204}, {"", "", 204}} {
		h := map[string]string{}
		if tt.origin != "" {
			h["Origin"], h["Sec-Fetch-Site"] = tt.origin, tt.site
		}
		if resp := do("POST", "/form", "", h); resp.StatusCode != tt.want {
			t.Errorf("POST /form from %q = %d, want %d", tt.origin, resp.StatusCode, tt.want)
		}
	}
	// CORS preflight and headers, cache headers.
	pre := do("OPTIONS", "/shared", "", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
	if pre.StatusCode != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || pre.Header.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	if bad := do("OPTIONS", "/shared", "", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}); bad.StatusCode != 403 {
		t.Errorf("foreign preflight = %d, want 403", bad.StatusCode)
	}
	got := do("GET", "/shared", "", map[string]string{"Origin": "https://app.example"})
	if got.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || got.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("GET /shared headers: %v", got.Header)
	}
}
