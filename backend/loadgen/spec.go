package loadgen

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/problem"
)

// Limits of a run. Every run is bounded in time and in requests.
const (
	MaxDuration        = time.Hour
	MaxWarmup          = 5 * time.Minute
	MaxTimeout         = 5 * time.Minute
	DefaultTimeout     = 10 * time.Second
	MaxConnections     = 10_000
	DefaultConnections = 50
	MaxRate            = 1_000_000 // requests per second
	DefaultMaxRequests = 100_000_000
	MaxRequestsLimit   = 1_000_000_000
	MaxBody            = 1 << 20
	MaxHeaders         = 100
	MaxParamValues     = 100_000
	MaxStages          = 20
	MaxThinkTime       = time.Minute
)

// Spec describes a run as data: what `covet bench` flags, the admin API and
// stored runs hold. Zero values take the defaults; Validate names every
// problem by its JSON path.
type Spec struct {
	// Name labels the run in lists; free text.
	Name string `json:"name,omitempty"`
	// Kind is the scenario: "http" (the default). WebSocket and GraphQL
	// scenarios will be further kinds with fields of their own.
	Kind string `json:"kind,omitempty"`
	// Method is the HTTP method; default GET.
	Method string `json:"method,omitempty"`
	// URL is the target; {name} segments are filled from Params.
	URL string `json:"url"`
	// Headers are sent with every request, in order.
	Headers []Header `json:"headers,omitempty"`
	// Body is sent with every request.
	Body string `json:"body,omitempty"`
	// Params fill the URL's {name} placeholders, a value per request.
	Params []Param `json:"params,omitempty"`
	// HTTP2 speaks HTTP/2 (over TLS for https, h2c for http).
	HTTP2 bool `json:"http2,omitempty"`
	// Auth mints a token per virtual user, sent as a bearer token. The
	// program running the load supplies the minting (Options.Mint).
	Auth *TokenSpec `json:"auth,omitempty"`

	// Connections is the number of virtual users of the closed model, and
	// the most requests in flight of the open model. Default 50.
	Connections int `json:"connections,omitempty"`
	// Rate, when above zero, selects the open model: requests are sent at
	// this many per second whatever the server's latency, and latency is
	// measured from when each request was due (coordinated omission
	// corrected).
	Rate float64 `json:"rate,omitempty"`
	// Ramp changes the open model's rate after the warm-up: each stage
	// moves linearly from the previous rate to its own over its duration;
	// the last rate then holds.
	Ramp []Stage `json:"ramp,omitempty"`
	// ThinkTime is a pause between a virtual user's requests (closed
	// model).
	ThinkTime Duration `json:"thinkTime,omitempty"`

	// Duration is how long results are measured. Required.
	Duration Duration `json:"duration"`
	// Warmup runs the same load first, excluded from results.
	Warmup Duration `json:"warmup,omitempty"`
	// Timeout bounds one request; default 10s.
	Timeout Duration `json:"timeout,omitempty"`
	// MaxRequests ends the run early once this many requests were
	// measured; default 100,000,000.
	MaxRequests uint64 `json:"maxRequests,omitempty"`
}

// Header is one request header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Param fills the URL placeholder {Name}: a value from Values in turn, or
// else a random integer from Min to Max inclusive.
type Param struct {
	Name   string   `json:"name"`
	Values []string `json:"values,omitempty"`
	Min    int64    `json:"min,omitempty"`
	Max    int64    `json:"max,omitempty"`
}

// Stage is one step of an open-model ramp.
type Stage struct {
	Rate     float64  `json:"rate"`
	Duration Duration `json:"duration"`
}

// TokenSpec asks for a bearer token per virtual user.
type TokenSpec struct {
	// Kid picks the signing key; empty means the current one.
	Kid string `json:"kid,omitempty"`
	// Subject is the sub claim; "{vu}" in it becomes the user's number.
	// Default "bench-{vu}".
	Subject string   `json:"subject,omitempty"`
	Roles   []string `json:"roles,omitempty"`
	Scope   string   `json:"scope,omitempty"`
}

// Open reports whether the spec uses the open model.
func (s *Spec) Open() bool { return s.Rate > 0 }

// WithDefaults returns the spec with every zero value replaced by its
// default.
func (s Spec) WithDefaults() Spec {
	if s.Kind == "" {
		s.Kind = "http"
	}
	if s.Method == "" {
		s.Method = http.MethodGet
	}
	if s.Connections == 0 {
		s.Connections = DefaultConnections
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(DefaultTimeout)
	}
	if s.MaxRequests == 0 {
		s.MaxRequests = DefaultMaxRequests
	}
	if s.Auth != nil && s.Auth.Subject == "" {
		a := *s.Auth
		a.Subject = "bench-{vu}"
		s.Auth = &a
	}
	return s
}

// Validate checks the spec (after WithDefaults) and returns every problem,
// each named by its JSON path, as SpecErrors; nil when it is valid.
func (s *Spec) Validate() error {
	var errs SpecErrors
	add := func(path, format string, args ...any) {
		errs = append(errs, problem.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if s.Kind != "http" {
		add("kind", "%q is not a scenario kind; want \"http\"", s.Kind)
	}
	if !validToken(s.Method) {
		add("method", "%q is not an HTTP method", s.Method)
	}
	u, err := url.Parse(s.URL)
	switch {
	case s.URL == "":
		add("url", "is required")
	case err != nil:
		add("url", "%v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		add("url", "scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		add("url", "has no host")
	case u.User != nil:
		add("url", "must not carry credentials; send an Authorization header instead")
	}
	if len(s.Headers) > MaxHeaders {
		add("headers", "%d headers; at most %d", len(s.Headers), MaxHeaders)
	}
	for i, h := range s.Headers {
		if !validToken(h.Name) {
			add(fmt.Sprintf("headers[%d].name", i), "%q is not a valid header name", h.Name)
		}
		if strings.ContainsAny(h.Value, "\r\n\x00") {
			add(fmt.Sprintf("headers[%d].value", i), "contains a line break or NUL")
		}
		switch http.CanonicalHeaderKey(h.Name) {
		case "Host", "Content-Length", "Transfer-Encoding", "Connection":
			add(fmt.Sprintf("headers[%d].name", i), "%s is set by the load generator", h.Name)
		}
	}
	if len(s.Body) > MaxBody {
		add("body", "%d bytes; at most %d", len(s.Body), MaxBody)
	}
	names := map[string]bool{}
	for i, p := range s.Params {
		path := fmt.Sprintf("params[%d]", i)
		switch {
		case p.Name == "" || strings.ContainsAny(p.Name, "{}/"):
			add(path+".name", "%q is not a placeholder name", p.Name)
		case names[p.Name]:
			add(path+".name", "{%s} is given twice", p.Name)
		case !strings.Contains(s.URL, "{"+p.Name+"}"):
			add(path+".name", "the URL has no {%s}", p.Name)
		}
		names[p.Name] = true
		switch {
		case len(p.Values) > MaxParamValues:
			add(path+".values", "%d values; at most %d", len(p.Values), MaxParamValues)
		case len(p.Values) == 0 && p.Min > p.Max:
			add(path, "min %d is above max %d", p.Min, p.Max)
		}
		for j, v := range p.Values {
			if strings.ContainsAny(v, "\r\n\x00") {
				add(fmt.Sprintf("%s.values[%d]", path, j), "contains a line break or NUL")
			}
		}
	}
	if err == nil {
		for _, name := range placeholders(s.URL) {
			if !names[name] {
				add("url", "placeholder {%s} has no entry in params", name)
			}
		}
	}
	if s.Auth != nil && strings.ContainsAny(s.Auth.Subject, "\r\n\x00") {
		add("auth.subject", "contains a line break or NUL")
	}
	if s.Connections < 1 || s.Connections > MaxConnections {
		add("connections", "%d is not from 1 to %d", s.Connections, MaxConnections)
	}
	if s.Rate < 0 || s.Rate > MaxRate {
		add("rate", "%g is not from 0 (closed model) to %d requests per second", s.Rate, MaxRate)
	}
	if len(s.Ramp) > 0 && !s.Open() {
		add("ramp", "needs the open model: set a rate")
	}
	if len(s.Ramp) > MaxStages {
		add("ramp", "%d stages; at most %d", len(s.Ramp), MaxStages)
	}
	var ramp time.Duration
	for i, st := range s.Ramp {
		if st.Rate <= 0 || st.Rate > MaxRate {
			add(fmt.Sprintf("ramp[%d].rate", i), "%g is not from 1 to %d requests per second", st.Rate, MaxRate)
		}
		if st.Duration <= 0 {
			add(fmt.Sprintf("ramp[%d].duration", i), "must be positive")
		}
		ramp += st.Duration.Std()
	}
	if ramp > s.Duration.Std() {
		add("ramp", "its stages last %v, longer than the duration %v", ramp, s.Duration.Std())
	}
	if s.ThinkTime < 0 || s.ThinkTime.Std() > MaxThinkTime {
		add("thinkTime", "%v is not from 0 to %v", s.ThinkTime.Std(), MaxThinkTime)
	}
	if s.ThinkTime > 0 && s.Open() {
		add("thinkTime", "applies to the closed model only; the open model's rate sets the pace")
	}
	if s.Duration <= 0 || s.Duration.Std() > MaxDuration {
		add("duration", "%v is not above 0 and at most %v", s.Duration.Std(), MaxDuration)
	}
	if s.Warmup < 0 || s.Warmup.Std() > MaxWarmup {
		add("warmup", "%v is not from 0 to %v", s.Warmup.Std(), MaxWarmup)
	}
	if s.Timeout <= 0 || s.Timeout.Std() > MaxTimeout {
		add("timeout", "%v is not above 0 and at most %v", s.Timeout.Std(), MaxTimeout)
	}
	if s.MaxRequests < 1 || s.MaxRequests > MaxRequestsLimit {
		add("maxRequests", "%d is not from 1 to %d", s.MaxRequests, MaxRequestsLimit)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// SpecErrors lists the problems of a Spec.
type SpecErrors []problem.FieldError

func (e SpecErrors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Path + ": " + fe.Message
	}
	return "load test: " + strings.Join(parts, "; ")
}

// placeholders returns the {name} placeholders of a URL template in order.
func placeholders(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, s[i+1:i+j])
		s = s[i+j+1:]
	}
}

// validToken reports whether s is an RFC 9110 token (a method or header
// name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("10s", "1m30s").
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf(`a duration is a string such as "10s", got %s`, b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"10s\" or \"1m30s\"", s)
	}
	*d = Duration(v)
	return nil
}
