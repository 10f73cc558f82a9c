package httpserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" means valid
	}{
		{"zero value", Config{}, ""},
		{"files", Config{TLS: TLS{CertFile: "c.pem", KeyFile: "k.pem"}}, ""},
		{"negative timeout", Config{ReadHeaderTimeout: -time.Second}, "readHeaderTimeout: -1s is negative"},
		{"negative header size", Config{MaxHeaderBytes: -1}, "maxHeaderBytes: -1 is negative"},
		{"cert without key", Config{TLS: TLS{CertFile: "c.pem"}}, "tls: certFile and keyFile go together"},
		{"self-signed and files", Config{TLS: TLS{SelfSigned: true, KeyFile: "k.pem"}}, "tls.selfSigned: cannot be combined"},
		{"h2c with TLS", Config{H2C: true, TLS: TLS{SelfSigned: true}}, "h2c: HTTP/2 without TLS cannot be combined with tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := New(Config{TLS: TLS{CertFile: "/nonexistent/c.pem", KeyFile: "/nonexistent/k.pem"}}, http.NotFoundHandler()); err == nil ||
		!strings.Contains(err.Error(), "tls.certFile, tls.keyFile: loading /nonexistent/c.pem") {
		t.Errorf("missing certificate files: %v", err)
	}
}

// start serves h as cfg says on a loopback port until the test ends.
func start(t *testing.T, cfg Config, h http.Handler) (*Server, string) {
	t.Helper()
	srv, err := New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv, srv.Scheme() + "://" + ln.Addr().String()
}

func proto(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }

func TestTLSFromFilesServesHTTP2(t *testing.T) {
	_, certPEM, keyPEM, err := SelfSigned([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, certPEM, 0o644)
	os.WriteFile(keyFile, keyPEM, 0o600)
	srv, url := start(t, Config{TLS: TLS{CertFile: certFile, KeyFile: keyFile}}, http.HandlerFunc(proto))
	if srv.Scheme() != "https" {
		t.Errorf("scheme %q", srv.Scheme())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	if got := get(t, &http.Client{Transport: tr}, url); got != "HTTP/2.0" {
		t.Errorf("served over %s, want HTTP/2.0", got)
	}
	// Plain HTTP/1.1 over TLS still works.
	tr1 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	defer tr1.CloseIdleConnections()
	if got := get(t, &http.Client{Transport: tr1}, url); got != "HTTP/1.1" {
		t.Errorf("served over %s, want HTTP/1.1", got)
	}
}

func TestH2C(t *testing.T) {
	_, url := start(t, Config{H2C: true}, http.HandlerFunc(proto))
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: protocols}
	defer tr.CloseIdleConnections()
	if got := get(t, &http.Client{Transport: tr}, url); got != "HTTP/2.0" {
		t.Errorf("h2c served over %s, want HTTP/2.0", got)
	}
	if got := get(t, http.DefaultClient, url); got != "HTTP/1.1" {
		t.Errorf("HTTP/1.1 client served over %s", got)
	}
	// Without the option a prior-knowledge HTTP/2 client is refused.
	_, plain := start(t, Config{}, http.HandlerFunc(proto))
	if resp, err := (&http.Client{Transport: tr}).Get(plain); err == nil {
		resp.Body.Close()
		t.Errorf("h2c accepted by a server without the option: %s", resp.Proto)
	}
}

func TestSelfSignedIsKeptAndRenewed(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first, err := devCertificate(nil, dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, devKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", st, err)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := first.Leaf.VerifyHostname(h); err != nil {
			t.Errorf("default certificate does not cover %s: %v", h, err)
		}
	}
	same, _ := devCertificate(nil, dir, now.Add(24*time.Hour))
	if same.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Error("a valid kept certificate was replaced")
	}
	other, _ := devCertificate([]string{"dev.example"}, dir, now)
	if other.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
		t.Error("a certificate that does not cover the hosts was kept")
	}
	renewed, _ := devCertificate([]string{"dev.example"}, dir, now.Add(devCertLifetime-time.Hour))
	if renewed.Leaf.SerialNumber.Cmp(other.Leaf.SerialNumber) == 0 {
		t.Error("a certificate about to expire was kept")
	}
	os.WriteFile(filepath.Join(dir, devCertFile), []byte("garbage"), 0o644)
	if _, err := devCertificate(nil, dir, now); err == nil || !strings.Contains(err.Error(), "delete it to make a new one") {
		t.Errorf("corrupt kept certificate: %v", err)
	}
}

func TestRunDrainsInFlightRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	entered := make(chan struct{})
	srv, err := New(Config{Addr: addr, ShutdownTimeout: 5 * time.Second}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "finished")
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	body := make(chan string, 1)
	go func() {
		for range 50 { // until the listener is up
			if resp, err := http.Get("http://" + addr); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body <- string(b)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		body <- "never connected"
	}()
	<-entered
	cancel()
	if got := <-body; got != "finished" {
		t.Errorf("in-flight request got %q, want its whole body", got)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run = %v, want nil after a clean drain", err)
	}
	if _, err := http.Get("http://" + addr); err == nil {
		t.Error("the listener still accepts after Run returned")
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
