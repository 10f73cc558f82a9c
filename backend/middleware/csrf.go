package middleware

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/covetpy/covet/backend/problem"
)

// CSRFConfig says which cross-origin requests CSRF lets through besides
// same-origin and non-browser ones.
type CSRFConfig struct {
	// TrustedOrigins lists origins, "scheme://host[:port]" in lower case
	// and without a default port (as browsers send them), whose requests
	// are allowed ("https://admin.example").
	TrustedOrigins []string
	// BypassPatterns lists http.ServeMux patterns ("POST /hooks/{name}")
	// whose requests are not checked at all, such as webhooks signed by
	// other means. A request must match a pattern directly: one ServeMux
	// would redirect (cleaned path, added slash) is checked.
	BypassPatterns []string
}

// Validate reports the first problem with c, naming the field.
func (c CSRFConfig) Validate() error {
	var p http.CrossOriginProtection
	for i, o := range c.TrustedOrigins {
		if err := p.AddTrustedOrigin(o); err != nil {
			return fmt.Errorf("validating csrf config: trustedOrigins[%d]: %w", i, err)
		}
		if err := checkOriginForm(o); err != nil {
			return fmt.Errorf("validating csrf config: trustedOrigins[%d]: %w", i, err)
		}
	}
	for i, pattern := range c.BypassPatterns {
		if pattern == "" {
			return fmt.Errorf("validating csrf config: bypassPatterns[%d]: the pattern is empty", i)
		}
		if err := registerBypassPattern(http.NewServeMux(), pattern); err != nil {
			return fmt.Errorf("validating csrf config: bypassPatterns[%d]: %w", i, err)
		}
		for j, earlier := range c.BypassPatterns[:i] {
			mux := http.NewServeMux()
			_ = registerBypassPattern(mux, earlier)
			if err := registerBypassPattern(mux, pattern); err != nil {
				why := "neither is more specific"
				if _, d, ok := strings.Cut(err.Error(), ":\n"); ok {
					why = d // ServeMux's description, e.g. "POST /a matches the same requests as POST /a"
				}
				return fmt.Errorf("validating csrf config: bypassPatterns[%d]: %q conflicts with bypassPatterns[%d] %q: %s", i, pattern, j, earlier, why)
			}
		}
	}
	return nil
}

// checkOriginForm refuses origins that are well formed but that no browser
// sends, since trusted origins are compared byte for byte.
func checkOriginForm(origin string) error {
	u, err := url.Parse(origin)
	if err != nil {
		return err // AddTrustedOrigin has refused it already
	}
	switch {
	case u.User != nil:
		return fmt.Errorf("origin %q has user information, which browsers never send", origin)
	case origin != strings.ToLower(origin):
		return fmt.Errorf("origin %q never matches: browsers send origins in lower case", origin)
	case u.Scheme == "https" && u.Port() == "443", u.Scheme == "http" && u.Port() == "80":
		return fmt.Errorf("origin %q never matches: browsers leave out the default port", origin)
	}
	return nil
}

// registerBypassPattern adds pattern to mux, turning ServeMux's panic on a
// malformed or conflicting pattern into an error.
func registerBypassPattern(mux *http.ServeMux, pattern string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if e, ok := p.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", p)
			}
		}
	}()
	mux.Handle(pattern, http.NotFoundHandler())
	return nil
}

// CSRF returns middleware that refuses cross-origin state-changing requests
// with http.CrossOriginProtection: GET, HEAD and OPTIONS always pass; other
// methods pass when Sec-Fetch-Site is same-origin or none, when (without
// Sec-Fetch-Site) Origin is absent or matches Host, when Origin is trusted
// or when a bypass pattern matches. Requests with neither header, such as
// curl's, pass: they are not from a browser. Refused requests get 403
// problem+json naming the Origin and Sec-Fetch-Site seen. It returns
// cfg.Validate's error when cfg is invalid.
func CSRF(cfg CSRFConfig) (func(http.Handler) http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := http.NewCrossOriginProtection()
	for i, o := range cfg.TrustedOrigins {
		if err := p.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("configuring csrf: trustedOrigins[%d]: %w", i, err)
		}
	}
	for _, pattern := range cfg.BypassPatterns {
		p.AddInsecureBypassPattern(pattern) // Validate checked it would not panic
	}
	p.SetDenyHandler(http.HandlerFunc(denyCrossOrigin))
	return p.Handler, nil
}

// denyCrossOrigin answers a request CrossOriginProtection refused.
func denyCrossOrigin(w http.ResponseWriter, r *http.Request) {
	site, origin := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin")
	var why string
	if site != "" {
		why = " with Sec-Fetch-Site " + quoteHeaderValue(site) + " from Origin " + quoteHeaderValue(origin) + ", which is not trusted"
	} else {
		why = " from Origin " + quoteHeaderValue(origin) + ", which does not match Host " + quoteHeaderValue(r.Host) +
			" and is not trusted (and Sec-Fetch-Site is missing: an old browser?)"
	}
	problem.Write(w, problem.New(http.StatusForbidden, "the cross-origin request was refused: "+r.Method+why))
}

// quoteHeaderValue quotes a header value for a message, cut to a sane length.
func quoteHeaderValue(v string) string {
	const maxLen = 200
	if v == "" {
		return "(none)"
	}
	if len(v) > maxLen {
		return strconv.Quote(v[:maxLen]) + "…"
	}
	return strconv.Quote(v)
}
