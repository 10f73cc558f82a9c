package middleware

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// jsonBody returns a JSON array of about n bytes.
func jsonBody(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; b.Len() < n-2; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"user %d","email":"user%d@example.com","active":%t}`, i, i, i, i%3 == 0)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// decode undoes Content-Encoding coding ("" for none).
func decode(t *testing.T, coding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip.NewReader: %v", err)
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("zstd.NewReader: %v", err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("unexpected Content-Encoding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", coding, err)
	}
	return out
}

// plainClient talks to a test server without Go's transparent gzip.
func plainClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true}}
}

func TestCompress(t *testing.T) {
	large := jsonBody(10 << 10)
	small := jsonBody(100)
	text := bytes.Repeat([]byte("all work and no play makes jack a dull boy\n"), 100)
	respond := func(status int, header map[string]string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for k, v := range header {
				w.Header().Set(k, v)
			}
			if status != 0 {
				w.WriteHeader(status)
			}
			_, _ = w.Write(body)
		}
	}
	jsonType := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name       string
		cfg        CompressConfig
		method     string
		header     map[string]string // request
		h          http.Handler
		wantStatus int
		wantCoding string
		wantBody   []byte            // decoded
		wantHeader map[string]string // response; "" means absent
	}{
		{"gzip", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, jsonType, large), 200, "gzip", large, map[string]string{"Vary": "Accept-Encoding", "Content-Type": "application/json"}},
		{"zstd", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "zstd"},
			respond(0, jsonType, large), 200, "zstd", large, map[string]string{"Vary": "Accept-Encoding"}},
		{"zstd preferred on a tie", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip, deflate, br, zstd"},
			respond(0, jsonType, large), 200, "zstd", large, nil},
		{"higher q wins", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "zstd;q=0.5, gzip;q=0.8"},
			respond(0, jsonType, large), 200, "gzip", large, nil},
		{"q=0 refuses zstd", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "zstd;q=0, gzip;q=0.1"},
			respond(0, jsonType, large), 200, "gzip", large, nil},
		{"everything refused", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "zstd;q=0, gzip;q=0.000"},
			respond(0, jsonType, large), 200, "", large, map[string]string{"Vary": "Accept-Encoding"}},
		{"star", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "*"},
			respond(0, jsonType, large), 200, "zstd", large, nil},
		{"star but not zstd", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "*;q=0.5, zstd;q=0"},
			respond(0, jsonType, large), 200, "gzip", large, nil},
		{"identity preferred", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip;q=0.5, identity"},
			respond(0, jsonType, large), 200, "", large, map[string]string{"Vary": "Accept-Encoding"}},
		{"x-gzip", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "x-gzip"},
			respond(0, jsonType, large), 200, "gzip", large, nil},
		{"case-insensitive", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "GZIP;Q=1"},
			respond(0, jsonType, large), 200, "gzip", large, nil},
		{"malformed q ignored", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "zstd;q=high, gzip"},
			respond(0, jsonType, large), 200, "gzip", large, nil},
		{"no Accept-Encoding", CompressConfig{}, "GET", nil,
			respond(0, jsonType, large), 200, "", large, map[string]string{"Vary": "Accept-Encoding"}},
		{"unknown codings only", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "br, deflate"},
			respond(0, jsonType, large), 200, "", large, map[string]string{"Vary": "Accept-Encoding"}},
		{"small body", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, jsonType, small), 200, "", small, map[string]string{"Vary": "Accept-Encoding", "Content-Length": strconv.Itoa(len(small))}},
		{"small body, identity refused", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip, identity;q=0"},
			respond(0, jsonType, small), 200, "gzip", small, nil},
		{"small body, lower MinSize", CompressConfig{MinSize: 64}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, jsonType, small), 200, "gzip", small, nil},
		{"declared Content-Length below MinSize", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, map[string]string{"Content-Type": "application/json", "Content-Length": strconv.Itoa(len(small))}, small),
			200, "", small, map[string]string{"Content-Length": strconv.Itoa(len(small))}},
		{"declared Content-Length removed", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, map[string]string{"Content-Type": "application/json", "Content-Length": strconv.Itoa(len(large))}, large),
			200, "gzip", large, nil},
		{"image/png not compressed", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, map[string]string{"Content-Type": "image/png"}, large), 200, "", large, map[string]string{"Vary": ""}},
		{"already encoded", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip, br"},
			respond(0, map[string]string{"Content-Type": "application/json", "Content-Encoding": "br"}, large),
			200, "br", large, map[string]string{"Vary": ""}},
		{"HEAD", CompressConfig{}, "HEAD", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, jsonType, large), 200, "", nil, map[string]string{"Vary": "Accept-Encoding"}},
		{"304", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(304, map[string]string{"ETag": `"v1"`}, nil), 304, "", nil, map[string]string{"ETag": `"v1"`}},
		{"204", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(204, jsonType, nil), 204, "", nil, nil},
		{"206 range", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-4095"},
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(large))
			}), 206, "", large[:4096], map[string]string{"Content-Range": fmt.Sprintf("bytes 0-4095/%d", len(large))}},
		{"200 of a range-capable resource loses Accept-Ranges", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(large))
			}), 200, "gzip", large, map[string]string{"Accept-Ranges": ""}},
		{"strong ETag weakened", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, map[string]string{"Content-Type": "application/json", "ETag": `"v1"`}, large), 200, "gzip", large, map[string]string{"ETag": `W/"v1"`}},
		{"weak ETag kept", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, map[string]string{"Content-Type": "application/json", "ETag": `W/"v1"`}, large), 200, "gzip", large, map[string]string{"ETag": `W/"v1"`}},
		{"strong ETag kept when not compressed", CompressConfig{}, "GET", nil,
			respond(0, map[string]string{"Content-Type": "application/json", "ETag": `"v1"`}, large), 200, "", large, map[string]string{"ETag": `"v1"`}},
		{"Vary extended", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, map[string]string{"Content-Type": "application/json", "Vary": "Origin"}, large), 200, "gzip", large, map[string]string{"Vary": "Origin, Accept-Encoding"}},
		{"Vary not repeated", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, map[string]string{"Content-Type": "application/json", "Vary": "accept-encoding"}, large), 200, "gzip", large, map[string]string{"Vary": "accept-encoding"}},
		{"sniffed type", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, nil, text), 200, "gzip", text, map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{"no-transform", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, map[string]string{"Content-Type": "application/json", "Cache-Control": "private, no-transform"}, large), 200, "", large, nil},
		{"error status compressed", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "zstd"},
			respond(500, map[string]string{"Content-Type": "application/problem+json"}, large), 500, "zstd", large, nil},
		{"custom content types", CompressConfig{ContentTypes: []string{"application/x-custom"}}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, map[string]string{"Content-Type": "Application/X-Custom; charset=utf-8"}, large), 200, "gzip", large, nil},
		{"custom content types leave out json", CompressConfig{ContentTypes: []string{"application/x-custom"}}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			respond(0, jsonType, large), 200, "", large, map[string]string{"Vary": ""}},
		{"many small writes", CompressConfig{}, "GET", map[string]string{"Accept-Encoding": "gzip"},
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				for p := large; len(p) > 0; {
					n := min(len(p), 100)
					_, _ = w.Write(p[:n])
					p = p[n:]
				}
			}), 200, "gzip", large, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(Compress(tt.cfg)(tt.h))
			defer srv.Close()
			req, err := http.NewRequest(tt.method, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := plainClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			coding := resp.Header.Get("Content-Encoding")
			if resp.StatusCode != tt.wantStatus || coding != tt.wantCoding {
				t.Fatalf("got %d Content-Encoding %q, want %d %q", resp.StatusCode, coding, tt.wantStatus, tt.wantCoding)
			}
			if coding == "br" {
				coding = "" // the handler's own bytes, passed through
			}
			if got := decode(t, coding, raw); !bytes.Equal(got, tt.wantBody) {
				t.Errorf("got a %d-byte body, want the %d-byte original", len(got), len(tt.wantBody))
			}
			if tt.wantCoding != "" && tt.wantCoding != "br" && resp.ContentLength >= 0 && resp.ContentLength != int64(len(raw)) {
				t.Errorf("got Content-Length %d, want the compressed length %d", resp.ContentLength, len(raw))
			}
			for k, want := range tt.wantHeader {
				if got := strings.Join(resp.Header.Values(k), ", "); got != want {
					t.Errorf("got %s %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestCompressRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 300<<10)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	bodies := []struct {
		name string
		body []byte
	}{
		{"at MinSize", jsonBody(1024)[:1024]},
		{"10 KB JSON", jsonBody(10 << 10)},
		{"1 MB JSON", jsonBody(1 << 20)},
		{"300 KB noise", noise},
	}
	for _, coding := range []string{"gzip", "zstd"} {
		for _, level := range []CompressLevel{CompressLevelDefault, CompressLevelFastest, CompressLevelBetter, CompressLevelBest} {
			mw := Compress(CompressConfig{Level: level})
			for _, b := range bodies {
				for _, chunk := range []int{1 << 30, 1000, 7} {
					if chunk == 7 && len(b.body) > 64<<10 || level != CompressLevelDefault && len(b.body) > 512<<10 {
						continue // slow, and no different
					}
					t.Run(fmt.Sprintf("%s/level %d/%s/writes of %d", coding, level, b.name, chunk), func(t *testing.T) {
						h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							w.Header().Set("Content-Type", "text/plain")
							for p := b.body; len(p) > 0; {
								n := min(len(p), chunk)
								if _, err := w.Write(p[:n]); err != nil {
									t.Errorf("Write: %v", err)
									return
								}
								p = p[n:]
							}
						}))
						req := httptest.NewRequest("GET", "/", nil)
						req.Header.Set("Accept-Encoding", coding)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if got := rec.Header().Get("Content-Encoding"); got != coding {
							t.Fatalf("got Content-Encoding %q, want %q", got, coding)
						}
						if got := decode(t, coding, rec.Body.Bytes()); !bytes.Equal(got, b.body) {
							t.Errorf("got %d bytes back, want the %d-byte original", len(got), len(b.body))
						}
					})
				}
			}
		}
	}
}

// TestCompressFlush streams events through a real server and checks that
// the first reaches the client, decoded, while the handler still runs.
func TestCompressFlush(t *testing.T) {
	first, second := "data: one\n\n", "data: two\n\n"
	for _, coding := range []string{"gzip", "zstd"} {
		t.Run(coding, func(t *testing.T) {
			received := make(chan struct{})
			handlerErr := make(chan error, 1)
			srv := httptest.NewServer(Compress(CompressConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				handlerErr <- func() error {
					w.Header().Set("Content-Type", "text/event-stream")
					rc := http.NewResponseController(w)
					if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
						return fmt.Errorf("SetWriteDeadline (through Unwrap): %w", err)
					}
					_, _ = io.WriteString(w, first)
					if err := rc.Flush(); err != nil {
						return fmt.Errorf("Flush: %w", err)
					}
					select {
					case <-received:
					case <-time.After(5 * time.Second):
						return fmt.Errorf("the first event did not reach the client before the handler returned")
					}
					_, _ = io.WriteString(w, second)
					w.(http.Flusher).Flush()
					return nil
				}()
			})))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Accept-Encoding", coding)
			resp, err := plainClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := resp.Header.Get("Content-Encoding"); got != coding {
				t.Fatalf("got Content-Encoding %q, want %q", got, coding)
			}
			var r io.Reader
			if coding == "gzip" {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			} else {
				zr, err := zstd.NewReader(resp.Body, zstd.WithDecoderConcurrency(1))
				if err != nil {
					t.Fatal(err)
				}
				defer zr.Close()
				r = zr
			}
			got := make([]byte, len(first))
			if _, err := io.ReadFull(r, got); err != nil || string(got) != first {
				t.Fatalf("got first event %q (%v), want %q", got, err, first)
			}
			close(received)
			rest, err := io.ReadAll(r)
			if err != nil || string(rest) != second {
				t.Errorf("got rest %q (%v), want %q", rest, err, second)
			}
			if err := <-handlerErr; err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCompressConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     CompressConfig
		wantErr string // "" for valid
	}{
		{"zero", CompressConfig{}, ""},
		{"full", CompressConfig{MinSize: 1, ContentTypes: []string{"text/*", "application/json", "*/*"}, Level: CompressLevelBest}, ""},
		{"negative MinSize", CompressConfig{MinSize: -1}, "minSize: -1 is negative"},
		{"huge MinSize", CompressConfig{MinSize: 1 << 30}, "minSize: 1073741824 is more than"},
		{"bad level", CompressConfig{Level: 9}, "level: 9 is not a CompressLevel"},
		{"not a media type", CompressConfig{ContentTypes: []string{"text/html", "json"}}, `contentTypes[1]: "json" is not a media type`},
		{"parameters", CompressConfig{ContentTypes: []string{"text/html; charset=utf-8"}}, "contentTypes[0]:"},
		{"wildcard type only", CompressConfig{ContentTypes: []string{"*/json"}}, "contentTypes[0]:"},
		{"empty", CompressConfig{ContentTypes: []string{""}}, "contentTypes[0]:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "validating compress config: ")):
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if tt.wantErr == "" {
				return
			}
			defer func() {
				if p := recover(); p == nil || !strings.HasPrefix(fmt.Sprint(p), "middleware: ") {
					t.Errorf("Compress panicked with %v, want a \"middleware: \" panic", p)
				}
			}()
			Compress(tt.cfg)
		})
	}
}

func TestNegotiateEncoding(t *testing.T) {
	tests := []struct {
		header          []string
		want            string
		identityRefused bool
	}{
		{nil, "", false},
		{[]string{""}, "", false},
		{[]string{"gzip"}, "gzip", false},
		{[]string{"gzip", "zstd"}, "zstd", false}, // two header lines
		{[]string{" zstd ; q=0.9 ,gzip;q=1"}, "gzip", false},
		{[]string{"zstd;q=0.5, gzip;q=0.5"}, "zstd", false},
		{[]string{"gzip;q=0"}, "", false},
		{[]string{"gzip;q=1.5"}, "", false}, // out of range: ignored
		{[]string{"gzip;level=9;q=0.2"}, "gzip", false},
		{[]string{"identity;q=0"}, "", true},
		{[]string{"*;q=0"}, "", true},
		{[]string{"*;q=0, identity"}, "", false},
		{[]string{"gzip, *;q=0"}, "gzip", true},
		{[]string{"gzip;q=0.3, identity;q=0.3"}, "gzip", false}, // a tie compresses
		{[]string{"gzip;q=0.3, identity;q=0.4"}, "", false},
		{[]string{"gzip;q=0.3, *;q=0.4"}, "zstd", false}, // * gives zstd 0.4
		{[]string{"gzip, gzip;q=0"}, "gzip", false},      // the first entry counts
		{[]string{",,;,gzip"}, "gzip", false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.header, "|"), func(t *testing.T) {
			got, refused := negotiateEncoding(tt.header)
			if got != tt.want || refused != tt.identityRefused {
				t.Errorf("got %q refused=%v, want %q refused=%v", got, refused, tt.want, tt.identityRefused)
			}
		})
	}
}

func FuzzNegotiateEncoding(f *testing.F) {
	for _, s := range []string{"", "gzip", "gzip, deflate, br, zstd", "zstd;q=0.5, gzip;q=0.8", "*;q=0, identity", "identity;q=0", "x-gzip;Q=0.001", ",;=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got, refused := negotiateEncoding([]string{header})
		if got != "" && got != "gzip" && got != "zstd" {
			t.Fatalf("got coding %q", got)
		}
		// Codings and parameter names are case-insensitive.
		upper, upperRefused := negotiateEncoding([]string{strings.ToUpper(header)})
		if upper != got || upperRefused != refused {
			t.Errorf("got %q,%v for %q but %q,%v in upper case", got, refused, header, upper, upperRefused)
		}
	})
}

// discardWriter is a ResponseWriter that keeps nothing, for benchmarks.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkCompress(b *testing.B) {
	body := jsonBody(10 << 10)
	h := Compress(CompressConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	for _, coding := range []string{"gzip", "zstd"} {
		b.Run(coding, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", coding)
			w := &discardWriter{h: make(http.Header)}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
			if got := w.h.Get("Content-Encoding"); got != coding {
				b.Fatalf("got Content-Encoding %q, want %q", got, coding)
			}
		})
	}
}

func ExampleCompress() {
	h := Compress(CompressConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bytes.Repeat([]byte(`{"hello":"world"},`), 100))
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"))
	// Output: zstd Accept-Encoding
}
