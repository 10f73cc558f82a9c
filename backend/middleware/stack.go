package middleware

import (
	"log/slog"
	"math"
	"net/http"
	"net/netip"
)

// Stack is an ordered list of middleware, outermost first.
type Stack []Named

// Named is a middleware with the name it is shown under.
type Named struct {
	Name string
	Wrap func(http.Handler) http.Handler
}

// Then returns h wrapped in the stack: the first middleware sees the
// request first.
func (s Stack) Then(h http.Handler) http.Handler {
	for i := len(s) - 1; i >= 0; i-- {
		h = s[i].Wrap(h)
	}
	return h
}

// Names returns the names, outermost first.
func (s Stack) Names() []string {
	out := make([]string, len(s))
	for i, m := range s {
		out[i] = m.Name
	}
	return out
}

// DefaultConfig configures the default stack. The zero value gives recover,
// request id and security headers, with no access log and no
// instrumentation.
type DefaultConfig struct {
	// OnPanic is told about handler panics (with the stack); nil ignores
	// them after answering 500.
	OnPanic PanicFunc
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// AccessLog receives one line per request; nil logs nothing.
	AccessLog *slog.Logger
	// LogSampleEvery logs one in n successful requests (errors always);
	// 0 or 1 logs them all, and ErrorsOnly none of them.
	LogSampleEvery int
	// Security configures the security headers.
	Security SecurityOptions
	// NoSecurityHeaders leaves the security headers layer out, for an app
	// behind a proxy that sets its own: each plain-HTTP response is then
	// about 200 bytes shorter (docs/BENCHMARKS.md measures what that saves).
	NoSecurityHeaders bool
	// Report is told about every served request (metrics, studio events);
	// nil leaves the instrumentation layer out.
	Report ReportFunc
}

// ErrorsOnly as DefaultConfig.LogSampleEvery logs only 4xx and 5xx answers.
const ErrorsOnly = math.MaxInt

// Default returns Covet's default stack, the one config routes and a
// covet.App run behind, outermost first: recover (500 problem+json, the
// panic to OnPanic), request id, real client IP (trusted proxies only),
// access log and instrumentation, security headers (unless
// NoSecurityHeaders). The access log and Report share one layer
// ("accessLog+instrument" when both are on), so a request is timed and
// recorded once for both. Its cost per request is measured in
// docs/BENCHMARKS.md.
func Default(cfg DefaultConfig) Stack {
	s := Stack{
		{"recover", Recoverer(cfg.OnPanic)},
		{"requestID", RequestID()},
		{"realIP", RealIP(cfg.TrustedProxies)},
	}
	switch report := cfg.Report; {
	case cfg.AccessLog != nil && report != nil:
		log := accessLogReport(cfg.AccessLog, cfg.LogSampleEvery)
		s = append(s, Named{"accessLog+instrument", Instrument(func(r *http.Request, rec Record) {
			log(r, rec)
			report(r, rec)
		})})
	case cfg.AccessLog != nil:
		s = append(s, Named{"accessLog", AccessLog(cfg.AccessLog, cfg.LogSampleEvery)})
	case report != nil:
		s = append(s, Named{"instrument", Instrument(report)})
	}
	if cfg.NoSecurityHeaders {
		return s
	}
	return append(s, Named{"securityHeaders", SecurityHeaders(cfg.Security)})
}
