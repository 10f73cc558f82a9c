// Package servertest starts real Covet servers for tests: a temporary
// project folder, a real listener on 127.0.0.1 and a clean shutdown when the
// test ends.
//
//	srv := servertest.Start(t, servertest.Options{})
//	resp := srv.Do(t, srv.Request(t, "GET", "/_covet/api/info", nil))
package servertest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/covet"
	embeddedserver "github.com/covetpy/covet/embedded-server"
)

// Options shape the server a test starts.
type Options struct {
	// Config, when non-empty, is written as the project's covet.json.
	Config string
	// Studio serves the studio UI.
	Studio bool
	// AllowedOrigins are extra origins allowed on the admin API.
	AllowedOrigins []string
	// Token is the admin token; empty means a random one.
	Token string
	// Logger receives the server's log; nil writes it through t.Log.
	Logger *slog.Logger
	// App is the Go program served beside the configuration.
	App *covet.App
}

// Server is a running server under test.
type Server struct {
	*embeddedserver.Server
	URL     string // http://127.0.0.1:PORT, or https:// with TLS
	Token   string // the admin token
	Project string // the project folder
	// Client trusts the server's self-signed development certificate, if
	// it has one, and does not follow redirects.
	Client *http.Client
}

// Start creates a temporary project and serves it until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "project")
	if opts.Config != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "covet.json"), []byte(opts.Config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := embeddedserver.New(embeddedserver.Config{
		Project: dir, Listen: "127.0.0.1:0", AdminToken: opts.Token, Studio: opts.Studio,
		AllowedOrigins: opts.AllowedOrigins, Logger: log, App: opts.App,
	})
	if err != nil {
		t.Fatalf("servertest: New: %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("servertest: Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("servertest: Shutdown: %v", err)
		}
	})
	info := srv.Info()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if pem, err := os.ReadFile(filepath.Join(dir, "covet_data", "tls", "dev-cert.pem")); err == nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return &Server{Server: srv, URL: info.URL, Token: info.AdminToken, Project: info.Project, Client: client}
}

// Request builds a request to path on the server, authorised with the admin
// token.
func (s *Server) Request(t testing.TB, method, path string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	return req
}

// Do sends req with a bounded timeout and returns the response with its
// body read into Body.
func (s *Server) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return &Response{Response: resp, Body: body}
}

// Response is a response whose body has been read.
type Response struct {
	*http.Response
	Body []byte
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
