package httpserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Development certificate: files in TLS.Dir and lifetime.
const (
	devCertFile     = "dev-cert.pem"
	devKeyFile      = "dev-key.pem"
	devCertLifetime = 365 * 24 * time.Hour
	// devCertRenewal is how long before expiry a kept certificate is
	// replaced.
	devCertRenewal = 7 * 24 * time.Hour
)

// defaultDevHosts are what a self-signed certificate covers by default.
func defaultDevHosts() []string { return []string{"localhost", "127.0.0.1", "::1"} }

// SelfSigned makes a self-signed ECDSA P-256 certificate for hosts (DNS
// names or IP addresses), valid from now for a year, and returns it with
// its PEM certificate and key.
func SelfSigned(hosts []string, now time.Time) (cert tls.Certificate, certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		hosts = defaultDevHosts()
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Covet development"}, CommonName: hosts[0]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(devCertLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, keyPEM, err
}

// devCertificate returns the development certificate kept in dir when it
// still covers hosts for a while, and otherwise makes (and keeps) a new
// one.
func devCertificate(hosts []string, dir string, now time.Time) (tls.Certificate, error) {
	if len(hosts) == 0 {
		hosts = defaultDevHosts()
	}
	if dir == "" {
		cert, _, _, err := SelfSigned(hosts, now)
		return cert, err
	}
	certPath, keyPath := filepath.Join(dir, devCertFile), filepath.Join(dir, devKeyFile)
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && covers(cert.Leaf, hosts, now) {
		return cert, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("tls.selfSigned: reading %s: %w (delete it to make a new one)", certPath, err)
	}
	cert, certPEM, keyPEM, err := SelfSigned(hosts, now)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls.selfSigned: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("tls.selfSigned: %w", err)
	}
	// The key first: a certificate file never points at a missing key.
	if err := writeAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("tls.selfSigned: %w", err)
	}
	if err := writeAtomic(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, fmt.Errorf("tls.selfSigned: %w", err)
	}
	return cert, nil
}

// covers reports whether leaf is valid for long enough and names every
// host.
func covers(leaf *x509.Certificate, hosts []string, now time.Time) bool {
	if leaf == nil || now.Before(leaf.NotBefore) || now.Add(devCertRenewal).After(leaf.NotAfter) {
		return false
	}
	return !slices.ContainsFunc(hosts, func(h string) bool { return leaf.VerifyHostname(h) != nil })
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
