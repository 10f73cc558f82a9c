package middleware

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/problem"
)

// CORSOptions say which cross-origin requests a route accepts.
type CORSOptions struct {
	// AllowOrigins lists exact origins ("https://app.example"); "*" allows
	// any origin (and is refused together with AllowCredentials).
	AllowOrigins     []string
	AllowMethods     []string // default: GET, HEAD, POST
	AllowHeaders     []string // request headers a preflight may ask for
	ExposeHeaders    []string // response headers scripts may read
	AllowCredentials bool
	MaxAge           time.Duration // how long a preflight may be cached
}

// CORS returns middleware implementing the Fetch standard's CORS protocol:
// allowed origins get Access-Control-Allow-* headers, preflight requests
// (OPTIONS with Access-Control-Request-Method) are answered 204 without
// calling the handler, and a preflight from another origin gets 403.
// Requests from origins not allowed pass without CORS headers, so the
// browser withholds the answer from the page.
func CORS(o CORSOptions) func(http.Handler) http.Handler {
	anyOrigin := slices.Contains(o.AllowOrigins, "*")
	methods := o.AllowMethods
	if len(methods) == 0 {
		methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	}
	allowMethods := strings.Join(methods, ", ")
	allowHeaders := strings.Join(o.AllowHeaders, ", ")
	expose := strings.Join(o.ExposeHeaders, ", ")
	maxAge := strconv.Itoa(int(o.MaxAge / time.Second))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			h := w.Header()
			h.Add("Vary", "Origin")
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			allowed := origin != "" && (anyOrigin && !o.AllowCredentials || slices.Contains(o.AllowOrigins, origin))
			switch {
			case origin == "":
				next.ServeHTTP(w, r)
				return
			case !allowed && preflight:
				problem.Write(w, problem.New(http.StatusForbidden, "cross-origin requests from "+strconv.Quote(origin)+" are not allowed"))
				return
			case !allowed:
				next.ServeHTTP(w, r)
				return
			}
			if anyOrigin && !o.AllowCredentials {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			if o.AllowCredentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			if !preflight {
				if expose != "" {
					h.Set("Access-Control-Expose-Headers", expose)
				}
				next.ServeHTTP(w, r)
				return
			}
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", allowMethods)
			if allowHeaders != "" {
				h.Set("Access-Control-Allow-Headers", allowHeaders)
			}
			if o.MaxAge > 0 {
				h.Set("Access-Control-Max-Age", maxAge)
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
}
