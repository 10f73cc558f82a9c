package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"
)

// errProtocol marks an answer that is not valid HTTP/1.1. Read only.
var errProtocol = errors.New("malformed HTTP response")

// Limits of the HTTP/1.1 client.
const (
	h1ReadBuffer  = 16 << 10
	maxHeaderSize = 1 << 20 // a response header block larger than this is a protocol error
)

// aLongTimeAgo is a deadline that has passed, to interrupt blocked I/O.
// Read only.
var aLongTimeAgo = time.Unix(1, 0)

// h1User is a virtual user with its own HTTP/1.1 keep-alive connection.
type h1User struct {
	h     *HTTP
	rng   *rand.Rand
	next  int
	extra []byte // per-user header lines (Authorization)
	req   []byte // the request; built once when it never changes

	mu      sync.Mutex // guards conn and ended against the run's cancellation
	conn    net.Conn
	ended   bool
	watched context.Context // the context whose end interrupts conn
	br      *bufio.Reader
}

// build appends the whole request to dst.
func (u *h1User) build(dst []byte) []byte {
	dst = append(dst, u.h.spec.Method...)
	dst = append(dst, ' ')
	dst = u.h.target(dst, u.rng, &u.next)
	dst = append(dst, u.h.head...)
	dst = append(dst, u.extra...)
	dst = append(dst, "\r\n"...)
	return append(dst, u.h.spec.Body...)
}

func (u *h1User) Do(ctx context.Context) Outcome {
	if ctx != u.watched {
		u.watched = ctx
		context.AfterFunc(ctx, u.interrupt)
	}
	if u.conn == nil {
		if err := u.dial(ctx); err != nil {
			return Outcome{Err: Classify(err)}
		}
	}
	req := u.req
	if len(u.h.spec.Params) > 0 {
		u.req = u.build(u.req[:0])
		req = u.req
	}
	_ = u.conn.SetDeadline(time.Now().Add(u.h.timeout))
	if _, err := u.conn.Write(req); err != nil {
		u.drop()
		return Outcome{Err: Classify(err)}
	}
	o, keep, err := readResponse(u.br, u.h.spec.Method == "HEAD")
	if err != nil {
		u.drop()
		o.Err = Classify(err)
		return o
	}
	if !keep {
		u.drop()
	}
	return o
}

func (u *h1User) dial(ctx context.Context) error {
	c, err := u.h.dialer.DialContext(ctx, "tcp", u.h.addr)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ended {
		c.Close()
		return context.Canceled
	}
	u.conn = c
	if u.br == nil {
		u.br = bufio.NewReaderSize(c, h1ReadBuffer)
	} else {
		u.br.Reset(c)
	}
	return nil
}

// drop closes the connection after an error or a "Connection: close".
func (u *h1User) drop() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.conn != nil {
		u.conn.Close()
		u.conn = nil
	}
}

// interrupt ends the user's I/O at once: the run is over.
func (u *h1User) interrupt() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.ended = true
	if u.conn != nil {
		_ = u.conn.SetDeadline(aLongTimeAgo)
	}
}

func (u *h1User) Close() error {
	u.drop()
	return nil
}

// readResponse reads one whole response from br and reports whether the
// connection may carry another request. Interim 1xx responses are skipped.
func readResponse(br *bufio.Reader, head bool) (o Outcome, keep bool, err error) {
	for {
		o, keep, err = readHead(br, o, head)
		if err != nil || o.Status >= 200 || o.Status == 101 {
			return o, keep && err == nil, err
		}
	}
}

// readHead reads a status line and headers, and the body after them (none
// for a HEAD request).
func readHead(br *bufio.Reader, o Outcome, head bool) (Outcome, bool, error) {
	line, err := readLine(br, &o)
	if err != nil {
		return o, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return o, false, errProtocol
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 || status > 999 {
		return o, false, errProtocol
	}
	o.Status = status
	keep := line[7] == '1' // HTTP/1.0 closes unless asked
	length, chunked := int64(-1), false
	for size := 0; ; {
		line, err := readLine(br, &o)
		if err != nil {
			return o, false, err
		}
		if size += len(line); size > maxHeaderSize {
			return o, false, errProtocol
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return o, false, errProtocol
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return o, false, errProtocol
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			switch {
			case bytes.EqualFold(value, []byte("close")):
				keep = false
			case bytes.EqualFold(value, []byte("keep-alive")):
				keep = true
			}
		}
	}
	switch {
	case head || status < 200 || status == 204 || status == 304:
		return o, keep, nil
	case chunked:
		return o, keep, readChunked(br, &o)
	case length >= 0:
		n, err := br.Discard(int(length))
		o.Bytes += n
		return o, keep, err
	}
	// No length: the body runs to the end of the connection.
	n, err := io.Copy(io.Discard, br)
	o.Bytes += int(n)
	return o, false, err
}

// readChunked discards a chunked body and its trailers.
func readChunked(br *bufio.Reader, o *Outcome) error {
	for {
		line, err := readLine(br, o)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return errProtocol
		}
		if size == 0 {
			for { // trailers up to the empty line
				line, err := readLine(br, o)
				if err != nil || len(line) == 0 {
					return err
				}
			}
		}
		n, err := br.Discard(int(size))
		o.Bytes += n
		if err != nil {
			return err
		}
		if line, err = readLine(br, o); err != nil {
			return err
		}
		if len(line) != 0 {
			return errProtocol
		}
	}
}

// readLine returns the next line without its CRLF, counting its bytes.
// A line longer than the buffer is a protocol error.
func readLine(br *bufio.Reader, o *Outcome) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	o.Bytes += len(line)
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errProtocol
		}
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
