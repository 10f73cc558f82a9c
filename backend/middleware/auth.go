package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/security/jwt"
)

// AuthConfig is what Auth requires of a request.
type AuthConfig struct {
	// Verifier checks access tokens. Required.
	Verifier *jwt.Verifier
	// Required refuses requests without a token. Without it a request
	// may come without one; a token that is present must still be valid.
	Required bool
	// Roles: the token must carry at least one of them.
	Roles []string
	// Scopes: the token's scope must include every one of them.
	Scopes []string
	// Cookie, when set, reads the token from this cookie instead of the
	// Authorization header. Cookies ride along with cross-site requests,
	// so put CSRF in front of such routes.
	Cookie string
	// Realm is the realm in WWW-Authenticate (default "covet").
	Realm string
}

// Validate reports the first problem with c.
func (c AuthConfig) Validate() error {
	switch {
	case c.Verifier == nil:
		return errors.New("auth: Verifier is nil")
	case !c.Required && (len(c.Roles) > 0 || len(c.Scopes) > 0):
		return errors.New("auth: roles and scopes need Required")
	case strings.ContainsAny(c.Realm, "\"\\\r\n"):
		return errors.New("auth: Realm must not contain quotes, backslashes or line breaks")
	}
	return nil
}

type claimsKey struct{}

// ClaimsFrom returns the claims of the request's verified access token,
// if Auth found one.
func ClaimsFrom(ctx context.Context) (*jwt.Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*jwt.Claims)
	return c, ok
}

// KeyBySubject counts requests per token subject (behind Auth); requests
// without a token count per client IP.
func KeyBySubject(r *http.Request) string {
	if c, ok := ClaimsFrom(r.Context()); ok && c.Subject != "" {
		return "sub:" + c.Subject
	}
	return "ip:" + KeyByIP(r)
}

// Auth returns middleware that verifies a bearer access token (RFC 6750)
// and puts its claims in the request's context (ClaimsFrom). Without a
// valid token the answer is 401 with WWW-Authenticate; with a token that
// lacks the role or scope, 403. Both are problem+json.
func Auth(cfg AuthConfig) (func(http.Handler) http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Realm == "" {
		cfg.Realm = "covet"
	}
	challenge := `Bearer realm="` + cfg.Realm + `"`
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, malformed := bearer(r, cfg.Cookie)
			if token == "" && !malformed {
				if cfg.Required {
					w.Header().Set("WWW-Authenticate", challenge)
					problem.Write(w, problem.New(http.StatusUnauthorized, "an access token is required: send Authorization: Bearer <token>"))
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			var reason string
			var claims *jwt.Claims
			if malformed {
				reason = "the Authorization header is not \"Bearer <token>\""
			} else if c, err := cfg.Verifier.Verify(token, jwt.Access); err != nil {
				reason = "the token is not valid"
				if rej := (*jwt.Rejection)(nil); errors.As(err, &rej) {
					reason = rej.Reason
				}
			} else {
				claims = c
			}
			if reason != "" {
				w.Header().Set("WWW-Authenticate", challenge+`, error="invalid_token", error_description=`+quoteParam(reason))
				problem.Write(w, problem.New(http.StatusUnauthorized, "the access token was refused: "+reason))
				return
			}
			if !hasAnyRole(claims.Roles, cfg.Roles) {
				w.Header().Set("WWW-Authenticate", challenge+`, error="insufficient_scope"`)
				problem.Write(w, problem.New(http.StatusForbidden, "the token has none of the roles this route requires: "+strings.Join(cfg.Roles, ", ")))
				return
			}
			if missing := missingScope(claims.Scope, cfg.Scopes); missing != "" {
				w.Header().Set("WWW-Authenticate", challenge+`, error="insufficient_scope", scope=`+quoteParam(strings.Join(cfg.Scopes, " ")))
				problem.Write(w, problem.New(http.StatusForbidden, "the token's scope lacks "+missing))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
		})
	}, nil
}

// bearer returns the request's token; malformed is set when an
// Authorization header is there but is not a bearer token.
func bearer(r *http.Request, cookie string) (token string, malformed bool) {
	if cookie != "" {
		c, err := r.Cookie(cookie)
		if err != nil {
			return "", false
		}
		return c.Value, false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), false
	}
	return "", true
}

func hasAnyRole(have, want []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		for _, h := range have {
			if h == w {
				return true
			}
		}
	}
	return false
}

// missingScope returns the first of want that the space-separated scope
// does not list, or "".
func missingScope(scope string, want []string) string {
next:
	for _, w := range want {
		for rest := scope; rest != ""; {
			var s string
			s, rest, _ = strings.Cut(rest, " ")
			if s == w {
				continue next
			}
		}
		return w
	}
	return ""
}

// quoteParam quotes an auth-param value (RFC 9110 quoted-string), dropping
// characters a header cannot carry.
func quoteParam(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(s) {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f: // controls, and UTF-8 a header may not carry
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
