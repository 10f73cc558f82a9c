package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/covetpy/covet/backend/covet"
	embeddedserver "github.com/covetpy/covet/embedded-server"
)

// ServeName is the contender that is `covet serve` itself: the product's
// server with its own listener, not a handler behind the plain net/http
// server of the others.
const ServeName = "covet-serve"

// serveConfig is the project's covet.json: both paths as config routes of
// kind handler, served by the same handlers as every other contender.
const serveConfig = `{
  "routes": [
    {"id": "hello", "method": "GET", "path": "/hello", "kind": "handler", "handler": {"name": "e2e.hello"}},
    {"id": "user", "method": "GET", "path": "/users/{id}", "kind": "handler", "handler": {"name": "e2e.user"}}
  ]
}`

// Served is a running covet-serve contender.
type Served struct {
	URL      string // http://127.0.0.1:PORT
	srv      *embeddedserver.Server
	closeLog func()
	dir      string
}

// StartServe starts covet serve's server on addr (a loopback IP:port) with
// a fresh project in a temporary folder, as `covet serve` runs it with its
// stderr not a terminal, but logging to io.Discard like the other
// contenders.
func StartServe(ctx context.Context, addr string) (*Served, error) {
	dir, err := os.MkdirTemp("", "covet-e2e-serve-")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "covet.json"), []byte(serveConfig), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	app := covet.New(covet.Config{})
	app.Register("e2e.hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { Hello(w) }))
	app.Register("e2e.user", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { User(w, r.PathValue("id")) }))
	log, closeLog := embeddedserver.BatchedLogger(io.Discard, true)
	srv, err := embeddedserver.New(embeddedserver.Config{Project: dir, Listen: addr, Logger: log, App: app})
	if err != nil {
		closeLog()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("covet serve: %w", err)
	}
	s := &Served{srv: srv, closeLog: closeLog, dir: dir}
	if err := srv.Start(ctx); err != nil {
		s.Close(context.Background())
		return nil, fmt.Errorf("covet serve: %w", err)
	}
	s.URL = srv.Info().URL
	return s, nil
}

// Done is closed when the server stops by itself (its listener failed).
func (s *Served) Done() <-chan struct{} { return s.srv.Done() }

// Close shuts the server down and removes its project.
func (s *Served) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.closeLog()
	os.RemoveAll(s.dir)
	return err
}
