package middleware

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestRealIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name, peer, xff, want string
	}{
		{"untrusted peer keeps its address", "203.0.113.5:1234", "198.51.100.1", "203.0.113.5:1234"},
		{"trusted proxy, one hop", "10.0.0.2:80", "198.51.100.1", "198.51.100.1:80"},
		{"trusted chain, rightmost untrusted wins", "10.0.0.2:80", "192.0.2.9, 198.51.100.1, 10.0.0.7", "198.51.100.1:80"},
		{"spoofed left entry is ignored", "10.0.0.2:80", "1.2.3.4, 198.51.100.1", "198.51.100.1:80"},
		{"all hops trusted keeps the peer", "10.0.0.2:80", "10.1.1.1", "10.0.0.2:80"},
		{"malformed hop stops the walk", "10.0.0.2:80", "198.51.100.1, not-an-ip", "10.0.0.2:80"},
		{"no header", "10.0.0.2:80", "", "10.0.0.2:80"},
		{"ipv6 proxy", "[::1]:80", "2001:db8::1", "[2001:db8::1]:80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			h := RealIP(trusted)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.peer
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got != tt.want {
				t.Errorf("RemoteAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
