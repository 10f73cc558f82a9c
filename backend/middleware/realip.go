package middleware

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// RealIP returns middleware that sets r.RemoteAddr to the client's address
// when the request came through one of the trusted proxies: the rightmost
// X-Forwarded-For entry that is not itself a trusted proxy. Requests from
// any other peer keep the peer's address, so a client cannot choose its
// own address (and its own rate-limit bucket) by sending the header.
func RealIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		if len(trusted) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host, port, err := net.SplitHostPort(r.RemoteAddr)
			peer, perr := netip.ParseAddr(host)
			if err != nil || perr != nil || !isTrusted(peer) {
				next.ServeHTTP(w, r)
				return
			}
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					break // a malformed hop: trust nothing to its left
				}
				if !isTrusted(a) {
					r.RemoteAddr = net.JoinHostPort(a.Unmap().String(), port)
					break
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
