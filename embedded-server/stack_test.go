package embeddedserver_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/covetpy/covet/embedded-server/servertest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDefaultStack: every configured route answers with security headers,
// X-Forwarded-For is believed only from a trusted proxy, and requests are
// in the access log.
func TestDefaultStack(t *testing.T) {
	var logs syncBuffer
	srv := servertest.Start(t, servertest.Options{
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Config: `{"server": {"listen": "127.0.0.1:0", "trustedProxies": ["127.0.0.1"]},
		          "database": {"primary": "sqlite:covet_data/covet.db"},
		          "routes": [{"id": "hello", "method": "GET", "path": "/hello", "kind": "mock", "mock": {"body": "hi"}}]}`,
	})
	conn := dialEvents(t, srv)
	req, _ := http.NewRequest("GET", srv.URL+"/hello", nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "", "Referrer-Policy": "strict-origin-when-cross-origin"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	ev := nextEvent(t, conn, "request")
	var re struct{ RemoteAddr string }
	json.Unmarshal(ev.Data, &re)
	if !strings.HasPrefix(re.RemoteAddr, "198.51.100.7:") {
		t.Errorf("the request event's remote address is %q, want the forwarded client 198.51.100.7", re.RemoteAddr)
	}
	if !strings.Contains(logs.String(), `"msg":"request","method":"GET","path":"/hello","status":200`) ||
		!strings.Contains(logs.String(), `"remote":"198.51.100.7:`) {
		t.Errorf("no access log line for GET /hello from the forwarded client:\n%s", logs.String())
	}
}
