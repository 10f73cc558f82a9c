package middleware

import (
	"net/http"
	"strings"
)

// DefaultCSP is the Content-Security-Policy SecurityHeaders sets unless
// told otherwise: resources from the page's own origin only, no plugins,
// no <base> tricks, and no framing by anyone.
const DefaultCSP = "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'"

// hstsValue is the Strict-Transport-Security SecurityHeaders sets on TLS
// connections: one year, subdomains included.
const hstsValue = "max-age=31536000; includeSubDomains"

// SecurityOptions configure SecurityHeaders. The zero value is the
// conservative default.
type SecurityOptions struct {
	// CSP is the Content-Security-Policy; empty means DefaultCSP, "-"
	// sends none.
	CSP string
}

// SecurityHeaders returns middleware that sets conservative defaults: a
// Content-Security-Policy (frame-ancestors 'none' among it), no MIME
// sniffing, no referrer leaks across origins, and HSTS (one year) on TLS
// connections. X-Frame-Options: DENY is sent only when the CSP does not
// say who may frame the page (none, or one without frame-ancestors): CSP's
// frame-ancestors supersedes it in every browser that supports CSP 2, and
// each header costs every response its bytes. A handler may override any
// of them by setting the header itself.
func SecurityHeaders(opts SecurityOptions) func(http.Handler) http.Handler {
	csp := opts.CSP
	if csp == "" {
		csp = DefaultCSP
	}
	// The headers, canonical keys beside their values, computed once; the
	// TLS-only ones come last, so plain HTTP sends a prefix of them.
	var keys, values []string
	if csp != "-" {
		keys, values = append(keys, "Content-Security-Policy"), append(values, csp)
	}
	if !framingPolicy(csp) {
		keys, values = append(keys, "X-Frame-Options"), append(values, "DENY")
	}
	keys = append(keys, "X-Content-Type-Options", "Referrer-Policy")
	values = append(values, "nosniff", "strict-origin-when-cross-origin")
	plain := len(keys)
	keys, values = append(keys, "Strict-Transport-Security"), append(values, hstsValue)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := plain
			if r.TLS != nil {
				n = len(keys)
			}
			// One copy of the values backs every header of this response
			// (one allocation instead of one per header). Each header gets
			// its own one-element slice of it, capacity 1, so a handler's
			// Add reallocates rather than overwriting a neighbour.
			vals := make([]string, n)
			copy(vals, values)
			h := w.Header()
			for i, k := range keys[:n] {
				h[k] = vals[i : i+1 : i+1]
			}
			next.ServeHTTP(w, r)
		})
	}
}

// framingPolicy reports whether csp has a frame-ancestors directive.
func framingPolicy(csp string) bool {
	if csp == "-" {
		return false
	}
	for d := range strings.SplitSeq(csp, ";") {
		name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
		if strings.EqualFold(name, "frame-ancestors") {
			return true
		}
	}
	return false
}
