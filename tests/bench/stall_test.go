package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/tests/bench/e2e"
)

// TestStallServer guards the server of the load generator's
// coordinated-omission check (scripts/bench loadgen): GET /hello answers
// at once until POST /stall?for=D, then not before the stall is over, and
// a bad duration is refused with a message that says what is wanted.
func TestStallServer(t *testing.T) {
	srv := httptest.NewServer(e2e.NewStall())
	defer srv.Close()
	get := func() (time.Duration, string) {
		t.Helper()
		start := time.Now()
		resp, err := http.Get(srv.URL + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET /hello = %d %q", resp.StatusCode, body)
		}
		return time.Since(start), string(body)
	}
	if _, body := get(); body != "Hello, World!" {
		t.Errorf("GET /hello body %q", body)
	}
	post := func(q string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/stall?for="+q, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := post("300ms"); code != http.StatusNoContent {
		t.Fatalf("POST /stall?for=300ms = %d %q, want 204", code, body)
	}
	// The stall began before the POST answered, so the GET after it
	// waits for what is left of the 300 ms: more than 200 ms unless this
	// machine took 100 ms between the two requests.
	if d, _ := get(); d < 200*time.Millisecond {
		t.Errorf("GET /hello during a 300ms stall took %v", d)
	}
	for _, bad := range []string{"", "soon", "0s", "-1s", "11s"} {
		code, body := post(bad)
		if code != http.StatusBadRequest || !strings.Contains(body, "want a duration from 1ns to 10s") {
			t.Errorf("POST /stall?for=%s = %d %q, want 400 naming the allowed range", bad, code, body)
		}
	}
}
