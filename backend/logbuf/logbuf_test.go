package logbuf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an io.Writer that remembers each write it was given.
type recorder struct {
	mu     sync.Mutex
	writes []string
	fail   error
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return 0, r.fail
	}
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

// hour is an interval the tests never reach: only what they do flushes.
const hour = time.Hour

func TestWritesAreHeldUntilFlush(t *testing.T) {
	var rec recorder
	w := New(&rec, Options{Size: 64, Interval: hour})
	defer w.Close()
	for _, line := range []string{"a\n", "b\n", "c\n"} {
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", line, n, err)
		}
	}
	if got := rec.got(); len(got) != 0 {
		t.Fatalf("written before a flush: %q", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := rec.got(); len(got) != 1 || got[0] != "a\nb\nc\n" {
		t.Fatalf("after Flush: %q, want one write of the three lines", got)
	}
	if err := w.Flush(); err != nil || len(rec.got()) != 1 {
		t.Fatalf("an empty flush wrote: %q, %v", rec.got(), err)
	}
}

// TestSizeBoundsWhatIsHeld: a write that would overflow the buffer first
// writes what is held, and one larger than the buffer goes straight
// through after it, so the order is kept and no more than Size is held.
func TestSizeBoundsWhatIsHeld(t *testing.T) {
	var rec recorder
	w := New(&rec, Options{Size: 8, Interval: hour})
	defer w.Close()
	w.Write([]byte("12345"))
	w.Write([]byte("678"))        // fills the 8 bytes exactly
	w.Write([]byte("9"))          // overflows: the 8 go first
	w.Write([]byte("ABCDEFGHIJ")) // larger than Size: "9", then it, at once
	w.Write([]byte("k"))
	want := []string{"12345678", "9", "ABCDEFGHIJ"}
	if got := rec.got(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("writes %q, want %q", got, want)
	}
	w.Close()
	if got := rec.got(); got[len(got)-1] != "k" {
		t.Fatalf("Close did not write what was held: %q", got)
	}
}

func TestIntervalFlushes(t *testing.T) {
	var rec recorder
	w := New(&rec, Options{Interval: 5 * time.Millisecond})
	defer w.Close()
	w.Write([]byte("line\n"))
	for deadline := time.Now().Add(5 * time.Second); len(rec.got()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the line was not written within 5 s of a 5 ms interval")
		}
	}
	if got := rec.got(); got[0] != "line\n" {
		t.Fatalf("wrote %q", got)
	}
}

func TestCloseFlushesAndLaterWritesGoThrough(t *testing.T) {
	var rec recorder
	w := New(&rec, Options{Interval: hour})
	w.Write([]byte("held\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	w.Write([]byte("after\n"))
	if got := rec.got(); fmt.Sprint(got) != fmt.Sprint([]string{"held\n", "after\n"}) {
		t.Fatalf("writes %q", got)
	}
}

// TestWriteErrorsSurface: a failed write of held bytes is reported by the
// next call that writes, and the bytes are dropped, not retried forever.
func TestWriteErrorsSurface(t *testing.T) {
	rec := recorder{fail: errors.New("disk full")}
	w := New(&rec, Options{Size: 4, Interval: hour})
	defer w.Close()
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatalf("a held write failed: %v", err)
	}
	if _, err := w.Write([]byte("de")); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("overflowing write: %v, want the held bytes' error", err)
	}
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := rec.got(); fmt.Sprint(got) != fmt.Sprint([]string{"de"}) {
		t.Fatalf("writes %q, want only what followed the failure", got)
	}
}

func TestOptionsOutOfRangePanic(t *testing.T) {
	for _, o := range []Options{{Size: -1}, {Size: MaxSize + 1}, {Interval: -time.Second}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", o)
				}
			}()
			New(io.Discard, o).Close()
		}()
	}
}

// TestFlushOn: warnings reach the writer at once, with the info lines
// before them in order; info lines alone wait.
func TestFlushOn(t *testing.T) {
	var rec recorder
	w := New(&rec, Options{Interval: hour})
	defer w.Close()
	log := slog.New(FlushOn(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}), w, slog.LevelWarn)).With("app", "covet").WithGroup("g")
	log.Info("first", "n", 1)
	if got := rec.got(); len(got) != 0 {
		t.Fatalf("an info line was written at once: %q", got)
	}
	log.Warn("second")
	got := strings.Join(rec.got(), "")
	want := "level=INFO msg=first app=covet g.n=1\nlevel=WARN msg=second app=covet\n"
	if got != want {
		t.Fatalf("after a warning the file holds %q, want %q", got, want)
	}
}

// TestConcurrentLinesStayWhole: lines written from many goroutines reach
// the file whole and all of them, through overflows and interval flushes.
func TestConcurrentLinesStayWhole(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}), Options{Size: 256, Interval: time.Millisecond})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w, "goroutine %d line %d\n", g, i)
			}
		})
	}
	wg.Wait()
	w.Close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		var g, i int
		if n, err := fmt.Sscanf(l, "goroutine %d line %d", &g, &i); n != 2 || err != nil {
			t.Fatalf("a torn line: %q", l)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// BenchmarkAccessLine is one access-log line through slog's JSON handler
// into a file: written directly (a write(2) per line) and through a Writer.
func BenchmarkAccessLine(b *testing.B) {
	for _, buffered := range []bool{false, true} {
		b.Run(map[bool]string{false: "direct", true: "buffered"}[buffered], func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var out io.Writer = f
			if buffered {
				w := New(f, Options{})
				defer w.Close()
				out = w
			}
			log := slog.New(slog.NewJSONHandler(out, nil))
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(b.Context(), slog.LevelInfo, "request",
					slog.String("method", "GET"), slog.String("path", "/hello"), slog.Int("status", 200),
					slog.Int64("bytes", 13), slog.Duration("duration", 21*time.Microsecond),
					slog.String("remote", "127.0.0.1:50000"), slog.String("request_id", "ABCDEFGHIJKLMNOP-1"))
			}
		})
	}
}
