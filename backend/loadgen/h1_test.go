package loadgen

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	cases := []struct {
		name     string
		resp     string
		head     bool
		status   int
		keep     bool
		err      error
		leftover string // what the next response would start with
	}{
		{"content length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", false, 200, true, nil, "NEXT"},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT", false, 200, true, nil, "NEXT"},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false, 200, false, nil, ""},
		{"http/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, 200, false, nil, ""},
		{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", false, 200, true, nil, ""},
		{"no length reads to EOF", "HTTP/1.1 200 OK\r\n\r\nall of it", false, 200, false, nil, ""},
		{"100 continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nNEXT", false, 201, true, nil, "NEXT"},
		{"head has no body", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nNEXT", true, 200, true, nil, "NEXT"},
		{"204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\nNEXT", false, 204, true, nil, "NEXT"},
		{"5xx", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false, 503, true, nil, ""},
		{"bare LF lines", "HTTP/1.1 200 OK\nContent-Length: 2\n\nokNEXT", false, 200, true, nil, "NEXT"},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", false, 0, false, errProtocol, ""},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", false, 0, false, errProtocol, ""},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, 200, false, errProtocol, ""},
		{"header without colon", "HTTP/1.1 200 OK\r\nBroken\r\n\r\n", false, 200, false, errProtocol, ""},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 200, false, errProtocol, ""},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, 200, false, io.EOF, ""},
		{"cut in headers", "HTTP/1.1 200 OK\r\nContent-Le", false, 200, false, io.ErrUnexpectedEOF, ""},
		{"closed before answering", "", false, 0, false, io.EOF, ""},
		{"line longer than the buffer", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", h1ReadBuffer) + "\r\n\r\n", false, 200, false, errProtocol, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.resp), h1ReadBuffer)
			o, keep, err := readResponse(br, tc.head)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if o.Status != tc.status || keep != tc.keep {
				t.Errorf("status %d keep %v, want %d %v", o.Status, keep, tc.status, tc.keep)
			}
			if tc.err != nil {
				return
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != tc.leftover {
				t.Errorf("left %q unread, want %q", rest, tc.leftover)
			}
			if want := len(tc.resp) - len(tc.leftover); o.Bytes != want {
				t.Errorf("counted %d bytes, want %d", o.Bytes, want)
			}
		})
	}
}

// FuzzReadResponse feeds arbitrary bytes to the HTTP/1.1 reader: it must
// never panic, never count more bytes than it was given, and never claim a
// response without a valid status.
func FuzzReadResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 301 Moved\r\nLocation: /x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
	} {
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		br := bufio.NewReaderSize(strings.NewReader(string(data)), h1ReadBuffer)
		o, _, err := readResponse(br, head)
		if o.Bytes > len(data) {
			t.Fatalf("counted %d bytes of %d", o.Bytes, len(data))
		}
		if err == nil && (o.Status < 100 || o.Status > 999) {
			t.Fatalf("status %d accepted", o.Status)
		}
	})
}
