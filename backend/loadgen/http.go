package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// HTTPOptions are what an HTTP scenario needs beyond its Spec.
type HTTPOptions struct {
	// AllowHosts are hosts (as written in the URL) that the run may target
	// although they are not loopback addresses. Everything else must
	// resolve to loopback and is checked again when each connection is
	// dialled.
	AllowHosts []string
	// Mint returns the bearer token of virtual user vu, for a spec with
	// Auth; nil refuses such a spec.
	Mint func(vu int, t TokenSpec) (string, error)
	// TLS configures https targets; nil uses the system roots.
	TLS *tls.Config
}

// HTTP is the scenario of an HTTP Spec: every virtual user repeats the
// spec's request. Plain HTTP/1.1 goes through a minimal client of this
// package (net/http's costs about a fifth of a core's throughput, which a
// load generator on the same machine cannot spare; docs/adr/0007); HTTP/2
// and TLS go through net/http.
type HTTP struct {
	spec    Spec
	opts    HTTPOptions
	addr    string       // host:port to dial
	origin  string       // scheme://host[:port]
	tmpl    []segment    // the request target, split at placeholders
	head    []byte       // request line tail and headers after the target
	dialer  *net.Dialer  // refuses non-loopback addresses unless allowed
	client  *http.Client // HTTP/2 and TLS
	timeout time.Duration
}

var _ Scenario = (*HTTP)(nil)

// segment is a literal piece of the request target or, when param >= 0,
// the placeholder of spec.Params[param].
type segment struct {
	lit   string
	param int
}

// NewHTTP checks spec and prepares its scenario. A target that resolves
// to anything but loopback is refused with ErrNotLoopback unless its host
// is in opts.AllowHosts.
func NewHTTP(ctx context.Context, spec Spec, opts HTTPOptions) (*HTTP, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if spec.Auth != nil && opts.Mint == nil {
		return nil, errors.New("auth: this program cannot mint tokens for virtual users")
	}
	u, _ := url.Parse(spec.URL) // Validate parsed it
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	h := &HTTP{spec: spec, opts: opts, addr: net.JoinHostPort(u.Hostname(), port), origin: u.Scheme + "://" + u.Host, timeout: spec.Timeout.Std()}
	allowed := slices.ContainsFunc(opts.AllowHosts, func(a string) bool { return strings.EqualFold(a, u.Hostname()) })
	if !allowed {
		if err := checkLoopback(ctx, u.Hostname()); err != nil {
			return nil, err
		}
	}
	h.dialer = &net.Dialer{Timeout: h.timeout, KeepAlive: -1}
	if !allowed {
		h.dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, _ := net.SplitHostPort(address)
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("dialling %s: %w", address, ErrNotLoopback)
			}
			return nil
		}
	}

	target := u.EscapedPath()
	if target == "" {
		target = "/"
	}
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	// Placeholders were escaped by url.Parse: split on their escaped form.
	target = strings.NewReplacer("%7B", "{", "%7D", "}").Replace(target)
	h.tmpl = splitTemplate(target, spec.Params)

	if u.Scheme == "https" || spec.HTTP2 {
		tr := &http.Transport{
			DialContext:         h.dialer.DialContext,
			TLSClientConfig:     opts.TLS,
			MaxIdleConnsPerHost: spec.Connections,
			MaxConnsPerHost:     spec.Connections,
			DisableCompression:  true,
			ForceAttemptHTTP2:   spec.HTTP2,
		}
		if spec.HTTP2 {
			tr.Protocols = new(http.Protocols)
			if u.Scheme == "https" {
				tr.Protocols.SetHTTP2(true)
			} else {
				tr.Protocols.SetUnencryptedHTTP2(true)
			}
		}
		h.client = &http.Client{Transport: tr, Timeout: h.timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		return h, nil
	}

	var b strings.Builder
	b.WriteString(" HTTP/1.1\r\nHost: ")
	b.WriteString(u.Host)
	b.WriteString("\r\n")
	hasUA := false
	for _, hd := range spec.Headers {
		hasUA = hasUA || strings.EqualFold(hd.Name, "User-Agent")
		b.WriteString(hd.Name + ": " + hd.Value + "\r\n")
	}
	if !hasUA {
		b.WriteString("User-Agent: covet-bench\r\n")
	}
	if spec.Body != "" || spec.Method == http.MethodPost || spec.Method == http.MethodPut || spec.Method == http.MethodPatch {
		b.WriteString("Content-Length: " + strconv.Itoa(len(spec.Body)) + "\r\n")
	}
	h.head = []byte(b.String())
	return h, nil
}

// Describe implements Scenario.
func (h *HTTP) Describe() string { return h.spec.Method + " " + h.spec.URL }

// NewUser implements Scenario.
func (h *HTTP) NewUser(n int) (User, error) {
	var auth string
	if h.spec.Auth != nil {
		tok, err := h.opts.Mint(n, *h.spec.Auth)
		if err != nil {
			return nil, fmt.Errorf("minting a token: %w", err)
		}
		auth = "Bearer " + tok
	}
	rng := rand.New(rand.NewPCG(uint64(n), 0x636f766574))
	if h.client != nil {
		return &stdUser{h: h, auth: auth, rng: rng, next: n}, nil
	}
	u := &h1User{h: h, rng: rng, next: n}
	u.extra = u.extra[:0]
	if auth != "" {
		u.extra = append(u.extra, "Authorization: "+auth+"\r\n"...)
	}
	if len(h.spec.Params) == 0 {
		u.req = u.build(u.req[:0])
	}
	return u, nil
}

// target appends the request target with a value for each placeholder.
func (h *HTTP) target(dst []byte, rng *rand.Rand, next *int) []byte {
	for _, s := range h.tmpl {
		if s.param < 0 {
			dst = append(dst, s.lit...)
			continue
		}
		p := &h.spec.Params[s.param]
		if len(p.Values) > 0 {
			dst = append(dst, url.PathEscape(p.Values[*next%len(p.Values)])...)
			*next++
		} else {
			dst = strconv.AppendInt(dst, p.Min+rng.Int64N(p.Max-p.Min+1), 10)
		}
	}
	return dst
}

func splitTemplate(target string, params []Param) []segment {
	var out []segment
	for target != "" {
		i := strings.IndexByte(target, '{')
		j := strings.IndexByte(target[max(i, 0):], '}')
		if i < 0 || j < 0 {
			break
		}
		name := target[i+1 : i+j]
		idx := slices.IndexFunc(params, func(p Param) bool { return p.Name == name })
		if idx < 0 { // not a placeholder: keep it literally
			out = append(out, segment{lit: target[:i+j+1], param: -1})
		} else {
			out = append(out, segment{lit: target[:i], param: -1}, segment{param: idx})
		}
		target = target[i+j+1:]
	}
	return append(out, segment{lit: target, param: -1})
}

// checkLoopback refuses a host that resolves to anything but loopback.
func checkLoopback(ctx context.Context, host string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("url: resolving %s: %w", host, err)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			what := host
			if what != a.IP.String() {
				what += " resolves to " + a.IP.String() + ", which"
			}
			return fmt.Errorf("url: %s is %w; load tests target only this machine unless the host is explicitly allowed", what, ErrNotLoopback)
		}
	}
	return nil
}

// stdUser is a virtual user over net/http (HTTP/2, TLS).
type stdUser struct {
	h    *HTTP
	auth string
	rng  *rand.Rand
	next int
	buf  []byte
}

func (u *stdUser) Do(ctx context.Context) Outcome {
	u.buf = u.h.target(append(u.buf[:0], u.h.origin...), u.rng, &u.next)
	var body io.Reader
	if u.h.spec.Body != "" {
		body = strings.NewReader(u.h.spec.Body)
	}
	req, err := http.NewRequestWithContext(ctx, u.h.spec.Method, string(u.buf), body)
	if err != nil {
		return Outcome{Err: ErrOther}
	}
	for _, hd := range u.h.spec.Headers {
		req.Header.Add(hd.Name, hd.Value)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "covet-bench")
	}
	if u.auth != "" {
		req.Header.Set("Authorization", u.auth)
	}
	resp, err := u.h.client.Do(req)
	if err != nil {
		return Outcome{Err: Classify(err)}
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return Outcome{Err: Classify(err), Bytes: int(n)}
	}
	return Outcome{Status: resp.StatusCode, Bytes: int(n) + headerSize(resp)}
}

func (u *stdUser) Close() error { return nil }

// headerSize estimates the bytes of a response's status line and headers.
func headerSize(resp *http.Response) int {
	n := len("HTTP/1.1 200 OK\r\n\r\n")
	for k, vs := range resp.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}
