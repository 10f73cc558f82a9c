// Package httpserver runs an http.Handler the way Covet serves: explicit
// timeouts (slowloris is cut at ReadHeaderTimeout), TLS from files or a
// self-signed development certificate, HTTP/2 over TLS, h2c as an option,
// and graceful shutdown.
//
//	srv, err := httpserver.New(httpserver.Config{Addr: ":8443", TLS: httpserver.TLS{SelfSigned: true}}, h)
//	if err != nil { ... } // names the field: "tls.certFile: open …: no such file"
//	err = srv.Run(ctx)     // until ctx ends, then drains
package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultShutdownTimeout   = 15 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
)

// Config configures a Server. Zero durations and sizes take the defaults
// above; negative ones are errors.
type Config struct {
	// Addr is the host:port Run listens on (":0" picks a free port).
	Addr              string
	ReadHeaderTimeout time.Duration // bounds reading a request's headers
	ReadTimeout       time.Duration // bounds reading a whole request
	WriteTimeout      time.Duration // bounds writing a response
	IdleTimeout       time.Duration // bounds waiting for the next request on a connection
	ShutdownTimeout   time.Duration // bounds the drain in Run
	MaxHeaderBytes    int           // bounds the request headers
	// TLS serves HTTPS (with HTTP/2) when set.
	TLS TLS
	// H2C also accepts HTTP/2 without TLS (prior knowledge), for use behind
	// a proxy that speaks it. It cannot be combined with TLS.
	H2C bool
	// Logger receives the server's own errors (bad handshakes, panics that
	// escaped every middleware); nil discards them.
	Logger *slog.Logger
}

// TLS says where the certificate comes from: files, or a self-signed one.
type TLS struct {
	CertFile string // PEM certificate chain
	KeyFile  string // PEM private key
	// SelfSigned makes a development certificate for Hosts (default
	// localhost, 127.0.0.1 and ::1); browsers warn about it.
	SelfSigned bool
	// Hosts are the names and addresses the self-signed certificate covers.
	Hosts []string
	// Dir, when set, keeps the self-signed certificate there
	// (dev-cert.pem, dev-key.pem) so it survives restarts and a browser
	// exception for it stays valid; it is made again once expired.
	Dir string
}

// Enabled reports whether t asks for HTTPS.
func (t TLS) Enabled() bool { return t.SelfSigned || t.CertFile != "" || t.KeyFile != "" }

// Validate checks cfg and names the field of each problem.
func (cfg Config) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"readHeaderTimeout", cfg.ReadHeaderTimeout}, {"readTimeout", cfg.ReadTimeout}, {"writeTimeout", cfg.WriteTimeout},
		{"idleTimeout", cfg.IdleTimeout}, {"shutdownTimeout", cfg.ShutdownTimeout},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is negative", d.name, d.v))
		}
	}
	if cfg.MaxHeaderBytes < 0 {
		errs = append(errs, fmt.Errorf("maxHeaderBytes: %d is negative", cfg.MaxHeaderBytes))
	}
	t := cfg.TLS
	switch {
	case t.SelfSigned && (t.CertFile != "" || t.KeyFile != ""):
		errs = append(errs, errors.New("tls.selfSigned: cannot be combined with certFile and keyFile; choose one"))
	case !t.SelfSigned && (t.CertFile == "") != (t.KeyFile == ""):
		errs = append(errs, errors.New("tls: certFile and keyFile go together; set both or neither"))
	}
	if cfg.H2C && t.Enabled() {
		errs = append(errs, errors.New("h2c: HTTP/2 without TLS cannot be combined with tls (HTTPS gets HTTP/2 anyway)"))
	}
	return errors.Join(errs...)
}

// Server is a configured http.Server.
type Server struct {
	cfg  Config
	http *http.Server
}

// New validates cfg, loads or makes the certificate and returns the server.
func New(cfg Config, h http.Handler) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("httpserver: %w", err)
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&cfg.ReadTimeout, DefaultReadTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.ShutdownTimeout, DefaultShutdownTimeout)
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	s := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Protocols:         protocols,
	}
	switch {
	case cfg.TLS.Enabled():
		cert, err := certificate(cfg.TLS, time.Now())
		if err != nil {
			return nil, fmt.Errorf("httpserver: %w", err)
		}
		protocols.SetHTTP2(true)
		s.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	case cfg.H2C:
		protocols.SetUnencryptedHTTP2(true)
	}
	return &Server{cfg: cfg, http: s}, nil
}

func certificate(t TLS, now time.Time) (tls.Certificate, error) {
	if t.SelfSigned {
		return devCertificate(t.Hosts, t.Dir, now)
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls.certFile, tls.keyFile: loading %s and %s: %w", t.CertFile, t.KeyFile, err)
	}
	return cert, nil
}

// Scheme is "https" or "http".
func (s *Server) Scheme() string {
	if s.cfg.TLS.Enabled() {
		return "https"
	}
	return "http"
}

// Serve accepts connections on ln until Shutdown; it returns
// http.ErrServerClosed after a Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if s.cfg.TLS.Enabled() {
		return s.http.ServeTLS(ln, "", "")
	}
	return s.http.Serve(ln)
}

// Shutdown stops accepting connections and waits for in-flight requests,
// bounded by ctx; then it closes what remains.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
	}
	return err
}

// Run listens on Config.Addr and serves until ctx ends, then shuts down
// within Config.ShutdownTimeout. It returns nil after a clean drain.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("httpserver: listening on %s: %w", s.cfg.Addr, err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err = s.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
