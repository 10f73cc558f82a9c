// Package logbuf batches a log's output: lines written to a Writer reach
// the file behind it in blocks, at most an interval late, instead of one
// write(2) per line. A server that logs every request spends a system call
// per request on its access log otherwise.
//
//	w := logbuf.New(os.Stderr, logbuf.Options{})
//	defer w.Close()
//	log := slog.New(logbuf.FlushOn(slog.NewJSONHandler(w, nil), w, slog.LevelWarn))
//
// FlushOn makes warnings and errors reach the file at once, so that what
// matters is not held back; lines still buffered are lost only if the
// process dies without Close (a crash, SIGKILL), at most Interval's worth.
package logbuf

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Default limits of Options.
const (
	DefaultSize     = 64 << 10
	DefaultInterval = 100 * time.Millisecond
	// MaxSize bounds Options.Size: the memory a Writer may hold.
	MaxSize = 16 << 20
)

// Options configure a Writer. The zero value is the default.
type Options struct {
	// Size is the most bytes held before they are written (DefaultSize
	// when 0, at most MaxSize). A write that would overflow it first
	// writes what is held; a write larger than Size goes straight through.
	Size int
	// Interval is the longest a line waits (DefaultInterval when 0).
	Interval time.Duration
}

// Writer is an io.Writer that batches writes to another. It is safe for
// concurrent use and keeps the order of writes.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

// New returns a Writer that batches writes to w and a goroutine that
// flushes it every opts.Interval until Close. It panics when opts is out
// of range, a programming error.
func New(w io.Writer, opts Options) *Writer {
	if opts.Size == 0 {
		opts.Size = DefaultSize
	}
	if opts.Interval == 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Size < 0 || opts.Size > MaxSize || opts.Interval < 0 {
		panic("logbuf: Size must be from 0 to MaxSize and Interval not negative")
	}
	b := &Writer{w: w, buf: make([]byte, 0, opts.Size), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(opts.Interval)
	return b
}

func (b *Writer) flushEvery(d time.Duration) {
	defer close(b.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.Flush() // a failed write drops its bytes; there is nobody to tell
		}
	}
}

// Write holds p until the buffer is full, the interval passes or Flush.
// When p makes it write what is held, it returns that write's error, if
// any; those bytes are dropped rather than retried forever.
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.w.Write(p)
	}
	var err error
	if len(b.buf)+len(p) > cap(b.buf) {
		err = b.flushLocked()
		if len(p) > cap(b.buf) {
			_, werr := b.w.Write(p)
			return len(p), errors.Join(err, werr)
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), err
}

// Flush writes what is held.
func (b *Writer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *Writer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// Close writes what is held and stops the flushing goroutine; later
// writes go straight through. It is safe to call more than once.
func (b *Writer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	err := b.flushLocked()
	b.mu.Unlock()
	close(b.stop)
	<-b.done
	return err
}

// FlushOn returns h, which writes to w, made to flush w after every
// record at level or above.
func FlushOn(h slog.Handler, w *Writer, level slog.Level) slog.Handler {
	return flushOn{h, w, level}
}

type flushOn struct {
	slog.Handler
	w     *Writer
	level slog.Level
}

func (f flushOn) Handle(ctx context.Context, r slog.Record) error {
	err := f.Handler.Handle(ctx, r)
	if r.Level >= f.level {
		err = errors.Join(err, f.w.Flush())
	}
	return err
}

func (f flushOn) WithAttrs(as []slog.Attr) slog.Handler {
	return flushOn{f.Handler.WithAttrs(as), f.w, f.level}
}

func (f flushOn) WithGroup(name string) slog.Handler {
	return flushOn{f.Handler.WithGroup(name), f.w, f.level}
}
