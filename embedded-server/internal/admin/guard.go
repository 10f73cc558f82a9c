package admin

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/covetpy/covet/backend/problem"
)

// Subprotocols of the events WebSocket: browsers cannot set headers on an
// upgrade, so a desktop client passes its token as a second subprotocol.
const (
	subprotocol      = "covet.v1"
	tokenSubprotocol = "covet.token."
	sessionCookie    = "covet_session"
)

// guard enforces the admin API's rules on every request under /_covet/:
// loopback Host (DNS rebinding), own or allowed Origin, and — for the API —
// valid credentials. Allowed foreign origins get CORS headers.
func (a *API) guard(requireAuth bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowedHost(r.Host) {
			problem.Write(w, problem.New(http.StatusForbidden, "the Host header must name this server by a loopback name or address"))
			return
		}
		origin := r.Header.Get("Origin")
		if origin != "" {
			switch {
			case a.ownOrigin(origin):
			case a.allowedOrigins[origin]:
				h := w.Header()
				h.Set("Access-Control-Allow-Origin", origin)
				h.Add("Vary", "Origin")
				h.Set("Access-Control-Expose-Headers", "ETag, X-Request-Id")
				if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
					h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
					h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
					h.Set("Access-Control-Max-Age", "600")
					w.WriteHeader(http.StatusNoContent)
					return
				}
			default:
				problem.Write(w, problem.New(http.StatusForbidden, "requests from origin "+strconv.Quote(origin)+" are not allowed"))
				return
			}
		}
		if requireAuth && !a.authenticated(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="covet-admin"`)
			problem.Write(w, problem.New(http.StatusUnauthorized, "missing or wrong admin credentials: send Authorization: Bearer <token> (see covet_data/runtime.json) or sign in through the studio login URL"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authenticated reports whether r carries the admin token (header or
// WebSocket subprotocol) or a live session cookie.
func (a *API) authenticated(r *http.Request) bool {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return a.tokenMatches(tok)
	}
	if isUpgrade(r) {
		for _, p := range websocketProtocols(r) {
			if tok, ok := strings.CutPrefix(p, tokenSubprotocol); ok {
				return a.tokenMatches(tok)
			}
		}
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return a.sessions.valid(c.Value)
	}
	return false
}

func (a *API) tokenMatches(tok string) bool {
	return subtle.ConstantTimeCompare([]byte(tok), []byte(a.token)) == 1
}

// allowedHost reports whether hostport names this server through loopback.
func (a *API) allowedHost(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	if port != "" && port != a.port {
		return false
	}
	return isLoopbackName(host)
}

// ownOrigin reports whether origin is this server's own (the browser studio).
func (a *API) ownOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Path != "" || u.Port() != a.port {
		return false
	}
	return isLoopbackName(u.Hostname())
}

func isLoopbackName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func websocketProtocols(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
