package embeddedserver_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/embedded-server/servertest"
)

// TestSlowlorisIsCutAtReadHeaderTimeout: a client that sends its headers one
// byte at a time is disconnected once server.readHeaderTimeout passes, and
// the server keeps answering others meanwhile.
func TestSlowlorisIsCutAtReadHeaderTimeout(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Config: `{
  "server": {"listen": "127.0.0.1:0", "readHeaderTimeout": "1s"},
  "database": {"primary": "sqlite:covet_data/covet.db"},
  "routes": [{"id": "hello", "method": "GET", "path": "/hello", "kind": "mock", "mock": {"body": "hi"}}]
}`})
	addr := strings.TrimPrefix(srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	header := "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + strings.Repeat("a", 100)
	cut := false
	for i := 0; i < len(header) && time.Since(start) < 10*time.Second; i++ {
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte{header[i]}); err != nil {
			cut = true
			break
		}
		// net/http answers a timed-out header read with 400 (or 408) and
		// closes the connection.
		conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if line, err := bufio.NewReader(conn).ReadString('\n'); err == nil || !isTimeout(err) {
			cut = true
			if line != "" && !strings.Contains(line, " 400 ") && !strings.Contains(line, " 408 ") {
				t.Errorf("the server answered %q to an unfinished request", line)
			}
			break
		}
		if i == 3 {
			if _, body := get(t, srv.URL+"/hello"); body != "hi" {
				t.Errorf("another client got %q while the slow one dawdled", body)
			}
		}
	}
	elapsed := time.Since(start)
	if !cut {
		t.Fatalf("the slow client was still connected after %v", elapsed)
	}
	if elapsed < 900*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("cut after %v, want about the 1 s readHeaderTimeout", elapsed)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
