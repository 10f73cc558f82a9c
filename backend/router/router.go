// Package router is Covet's HTTP router: a trie of path segments with
// {name} parameters, {name:regexp} patterned parameters and a final
// {name...} catch-all; method routing with 405 and Allow; automatic HEAD
// and OPTIONS; a trailing-slash policy; groups with shared middleware;
// named routes with reverse URLs; and conflicts reported when the table is
// built. A built Router is immutable, so a server can swap in a new one
// atomically while requests run on the old one. Lookups allocate nothing.
//
//	b := router.New(router.Options{})
//	b.Get("/users/{id:[0-9]+}", showUser).Name("user")
//	api := b.Group("/api", auth)
//	api.Post("/users", createUser)
//	r, err := b.Build()
//	if err != nil { ... } // every conflict and syntax error, each named
//	http.ListenAndServe(addr, r)
//
// Handlers read parameters with the standard r.PathValue("id"), and
// r.Pattern holds the matched route ("GET /users/{id:[0-9]+}").
package router

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/covetpy/covet/backend/problem"
	"golang.org/x/net/http/httpguts"
)

// TrailingSlash is what happens to a request whose path differs from a
// route's only by a trailing slash.
type TrailingSlash uint8

const (
	// RedirectSlash answers with a redirect to the route's form: 301 for
	// GET and HEAD, 308 (which keeps the method and body) otherwise.
	RedirectSlash TrailingSlash = iota
	// StrictSlash treats the two paths as different: 404.
	StrictSlash
)

// Options configure a router. The zero value is ready to use.
type Options struct {
	TrailingSlash TrailingSlash
	// NotFound answers requests that match no route; nil means a
	// problem+json 404.
	NotFound http.Handler
}

// Middleware wraps a handler.
type Middleware = func(http.Handler) http.Handler

// Route is one registered route.
type Route struct {
	Method  string // an HTTP method
	Path    string // the full path as registered, group prefix included
	Pattern string // Method + " " + Path, the value of r.Pattern
	Source  string // file:line of the registration
	// Middleware names the middleware the route runs behind, outermost
	// first, for display (the studio's route table).
	Middleware []string

	name    string
	handler http.Handler // with its middleware applied at Build
	segs    []segment
	params  []string // parameter names in path order
}

// Name gives the route a name for reverse URLs (Router.URL).
func (rt *Route) Name(name string) *Route {
	rt.name = name
	return rt
}

// Builder collects routes; Build turns them into a Router. A Builder is not
// safe for concurrent use.
type Builder struct {
	opts   Options
	prefix string
	mws    []Middleware
	routes *[]*Route // shared by a builder and its groups
	used   bool      // a route was registered: Use is no longer allowed
}

// New returns an empty Builder.
func New(opts Options) *Builder {
	return &Builder{opts: opts, routes: new([]*Route)}
}

// Use appends middleware for the routes of this builder and of the groups
// made from it later. It panics when routes or groups were made already,
// since they would silently miss it.
func (b *Builder) Use(mw ...Middleware) {
	if b.used {
		panic("router: Use after routes were registered on this builder; call Use first")
	}
	b.mws = append(b.mws, mw...)
}

// Group returns a builder whose routes get prefix prepended and mw applied
// after this builder's middleware.
func (b *Builder) Group(prefix string, mw ...Middleware) *Builder {
	b.used = true // the group copies this builder's middleware now
	return &Builder{
		opts: b.opts, prefix: b.prefix + strings.TrimSuffix(prefix, "/"),
		mws: append(slices.Clip(b.mws), mw...), routes: b.routes,
	}
}

// Handle registers h for method and path. Problems with the path are
// reported by Build, all at once.
func (b *Builder) Handle(method, path string, h http.Handler) *Route {
	full := b.prefix + path
	if b.prefix != "" && path == "/" {
		full = b.prefix
	}
	rt := &Route{Method: method, Path: full, Pattern: method + " " + full, Source: callerSource()}
	b.add(rt, h)
	return rt
}

// Include registers copies of src's routes on b, as if they had been
// registered on b: b's prefix goes before their paths and b's middleware
// around their own; names and sources are kept. Use it to mount a module's
// routes, or to build many tables from one set of fixed routes.
func (b *Builder) Include(src *Builder) {
	for _, s := range *src.routes {
		full := b.prefix + s.Path
		rt := &Route{Method: s.Method, Path: full, Pattern: s.Method + " " + full, Source: s.Source, name: s.name,
			Middleware: slices.Clone(s.Middleware)}
		b.add(rt, s.handler)
	}
}

// add wraps h in b's middleware and appends rt.
func (b *Builder) add(rt *Route, h http.Handler) {
	b.used = true
	if h != nil { // a nil handler is reported by Build
		for i := len(b.mws) - 1; i >= 0; i-- {
			h = b.mws[i](h)
		}
		rt.handler = h
	}
	if len(b.mws) > 0 {
		rt.Middleware = append(funcNames(b.mws), rt.Middleware...)
	}
	*b.routes = append(*b.routes, rt)
}

// callerSource is the file:line of the first caller outside Covet's own
// library code (the router itself and packages that register through it),
// so a route's Source points at the application's line.
func callerSource() string {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, libraryPrefix) || strings.HasSuffix(f.File, "_test.go") || !more {
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
	}
}

// libraryPrefix is the import path prefix of Covet's library packages.
const libraryPrefix = "github.com/covetpy/covet/backend/"

// funcNames names middleware by the function that made them,
// "middleware.BodyLimit" for the closure middleware.BodyLimit returned: the
// package is the folder of the closure's file (inlining renames closures
// after their caller, but not their file).
func funcNames(mws []Middleware) []string {
	out := make([]string, len(mws))
	for i, mw := range mws {
		f := runtime.FuncForPC(reflect.ValueOf(mw).Pointer())
		file, _ := f.FileLine(f.Entry())
		parts := strings.Split(strings.TrimSuffix(f.Name(), "-fm"), ".")
		name := parts[len(parts)-1]
		for j := len(parts) - 1; j > 0; j-- { // closures end in .func1, .func1.2
			if name = parts[j]; strings.Trim(strings.TrimPrefix(name, "func"), "0123456789") != "" {
				break
			}
		}
		out[i] = filepath.Base(filepath.Dir(file)) + "." + name
	}
	return out
}

// Get registers h for GET (and so HEAD) requests to path.
func (b *Builder) Get(path string, h http.HandlerFunc) *Route {
	return b.Handle(http.MethodGet, path, handlerOf(h))
}

// Post registers h for POST requests to path.
func (b *Builder) Post(path string, h http.HandlerFunc) *Route {
	return b.Handle(http.MethodPost, path, handlerOf(h))
}

// Put registers h for PUT requests to path.
func (b *Builder) Put(path string, h http.HandlerFunc) *Route {
	return b.Handle(http.MethodPut, path, handlerOf(h))
}

// Patch registers h for PATCH requests to path.
func (b *Builder) Patch(path string, h http.HandlerFunc) *Route {
	return b.Handle(http.MethodPatch, path, handlerOf(h))
}

// Delete registers h for DELETE requests to path.
func (b *Builder) Delete(path string, h http.HandlerFunc) *Route {
	return b.Handle(http.MethodDelete, path, handlerOf(h))
}

// handlerOf keeps a nil func a nil Handler, so Build reports it.
func handlerOf(f http.HandlerFunc) http.Handler {
	if f == nil {
		return nil
	}
	return f
}

// Router is a built, immutable route table. It is safe for concurrent use.
type Router struct {
	opts      Options
	root      *node
	routes    []*Route
	names     map[string]*Route
	maxParams int
	pool      sync.Pool // *Params with room for maxParams values
	// slots numbers the methods of the routes that are not common methods
	// (methodSlot), from commonMethods on.
	slots map[string]int
}

// slot returns the index of method in endpoint.serves, or -1 when no
// route has it.
func (r *Router) slot(method string) int {
	if i := methodSlot(method); i >= 0 {
		return i
	}
	if i, ok := r.slots[method]; ok {
		return i
	}
	return -1
}

// BuildError lists every problem Build found, each with its route.
type BuildError struct {
	Problems []Problem
}

// Problem is one route's problem.
type Problem struct {
	Route *Route
	// Field is what is wrong: "path", "method", "handler" or "name".
	Field string
	Err   error
}

func (e *BuildError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = fmt.Sprintf("%s (%s): %v", p.Route.Pattern, p.Route.Source, p.Err)
	}
	return strings.Join(msgs, "\n")
}

// Build checks every route and returns the router, or a *BuildError
// listing every problem: bad syntax, invalid methods, duplicate names, and
// routes that would match the same requests.
func (b *Builder) Build() (*Router, error) {
	r := &Router{opts: b.opts, root: &node{}, names: map[string]*Route{}}
	var errs []Problem
	fail := func(rt *Route, field string, format string, args ...any) {
		errs = append(errs, Problem{Route: rt, Field: field, Err: fmt.Errorf(format, args...)})
	}
	for _, rt := range *b.routes {
		segs, err := parsePath(rt.Path)
		switch {
		case err != nil:
			fail(rt, "path", "%w", err)
			continue
		case !validMethod(rt.Method):
			fail(rt, "method", "%q is not an HTTP method token", rt.Method)
			continue
		case rt.handler == nil:
			fail(rt, "handler", "nil handler")
			continue
		}
		rt.segs = segs
		for _, s := range segs {
			if s.kind != segStatic {
				rt.params = append(rt.params, s.text)
			}
		}
		r.maxParams = max(r.maxParams, len(rt.params))
		n := r.root
		for _, s := range segs {
			n = n.child(s)
		}
		if n.end == nil {
			n.end = &endpoint{}
		}
		if prev := n.end.route(rt.Method); prev != nil {
			fail(rt, "path", "conflicts with %s (%s): both match the same requests", prev.Pattern, prev.Source)
			continue
		}
		n.end.routes = append(n.end.routes, rt)
		if i := methodSlot(rt.Method); i >= 0 {
			n.end.common[i] = rt
		}
		if rt.name != "" {
			if prev, dup := r.names[rt.name]; dup {
				fail(rt, "name", "name %q is already used by %s (%s)", rt.name, prev.Pattern, prev.Source)
				continue
			}
			r.names[rt.name] = rt
		}
		r.routes = append(r.routes, rt)
	}
	if len(errs) > 0 {
		return nil, &BuildError{Problems: errs}
	}
	r.slots = map[string]int{}
	for _, rt := range r.routes {
		if _, ok := r.slots[rt.Method]; !ok && methodSlot(rt.Method) < 0 {
			r.slots[rt.Method] = commonMethods + len(r.slots)
		}
	}
	r.root.finish()
	r.finishEndpoints(r.root)
	n := r.maxParams
	r.pool.New = func() any { return &Params{values: make([]string, 0, n)} }
	return r, nil
}

// allowOf returns the Allow header of a path that eps match: their
// methods, HEAD where there is GET, and OPTIONS, sorted.
func allowOf(eps ...*endpoint) string {
	var methods []string
	for _, e := range eps {
		for _, rt := range e.routes {
			methods = append(methods, rt.Method)
		}
		if e.route(http.MethodGet) != nil {
			methods = append(methods, http.MethodHead)
		}
	}
	methods = append(methods, http.MethodOptions)
	slices.Sort(methods)
	return strings.Join(slices.Compact(methods), ", ")
}

// finishEndpoints sets the Allow header and the routes by slot of the
// endpoints below n.
func (r *Router) finishEndpoints(n *node) {
	if e := n.end; e != nil {
		e.allow = allowOf(e)
		e.serves = make([]*Route, commonMethods+len(r.slots))
		for _, rt := range e.routes {
			e.serves[r.slot(rt.Method)] = rt
		}
		if head := methodSlot(http.MethodHead); e.serves[head] == nil {
			e.serves[head] = e.common[methodSlot(http.MethodGet)]
		}
	}
	for _, c := range n.static {
		r.finishEndpoints(c)
	}
	for _, c := range n.patterns {
		r.finishEndpoints(c)
	}
	if n.param != nil {
		r.finishEndpoints(n.param)
	}
	if n.catchAll != nil {
		r.finishEndpoints(n.catchAll)
	}
}

// validMethod reports whether m is an HTTP method token (RFC 9110).
func validMethod(m string) bool { return m != "" && httpguts.ValidHeaderFieldName(m) }

// Routes returns the registered routes in registration order.
func (r *Router) Routes() []*Route { return slices.Clone(r.routes) }

// stackParams is how many parameter values ServeHTTP keeps on the stack;
// routers with longer routes use a pool.
const stackParams = 8

// Params are the parameter values of a match, in path order.
type Params struct {
	values []string
}

// push adds v. Lookup made room for the longest route first; reslicing
// instead of append lets ServeHTTP keep the buffer on its stack.
func (ps *Params) push(v string) {
	n := len(ps.values)
	ps.values = ps.values[:n+1]
	ps.values[n] = v
}
func (ps *Params) pop() { ps.values = ps.values[:len(ps.values)-1] }

// Len returns the number of values.
func (ps *Params) Len() int { return len(ps.values) }

// Value returns the i-th value in path order.
func (ps *Params) Value(i int) string { return ps.values[i] }

// Reset empties ps for reuse.
func (ps *Params) Reset() { ps.values = ps.values[:0] }

// Match is the result of a lookup.
type Match struct {
	// Route is the matched route, or nil.
	Route *Route
	// Allow lists the methods the path supports, across every route whose
	// path matches it, when Route is nil because of the method (405);
	// empty when no route has the path (404).
	Allow string
}

// Lookup finds the route for method and path and records parameter values
// in ps (reset first). Of the routes whose paths match, the most specific
// one that serves the method wins: with GET /users/{id:[0-9]+} and
// POST /users/{name}, POST /users/42 is the second's. A found route costs
// no allocation when ps has room for the router's largest parameter count.
func (r *Router) Lookup(method, path string, ps *Params) Match {
	if cap(ps.values) < r.maxParams {
		ps.values = make([]string, 0, r.maxParams)
	}
	ps.Reset()
	if path == "" || path[0] != '/' {
		return Match{}
	}
	if slot := r.slot(method); slot >= 0 {
		if rt := r.root.match(path[1:], slot, ps); rt != nil {
			return Match{Route: rt}
		}
	}
	return Match{Allow: r.allow(path[1:])}
}

// allow returns the Allow header of a path no route serves with the
// request's method: "" when no route has the path either (404). It is
// apart from Lookup, whose found routes should not pay for it.
func (r *Router) allow(path string) string {
	var matched []*endpoint
	r.root.endpoints(path, func(e *endpoint) { matched = append(matched, e) })
	switch len(matched) {
	case 0:
		return ""
	case 1:
		return matched[0].allow
	}
	return allowOf(matched...)
}

// ServeHTTP routes a request.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.maxParams <= stackParams { // the values fit on the stack
		var buf [stackParams]string
		ps := Params{values: buf[:0]}
		r.serve(w, req, &ps)
		return
	}
	ps := r.pool.Get().(*Params)
	r.serve(w, req, ps)
	r.pool.Put(ps)
}

// serve routes req with ps as the buffer for parameter values.
func (r *Router) serve(w http.ResponseWriter, req *http.Request, ps *Params) {
	path := req.URL.Path
	m := r.Lookup(req.Method, path, ps)
	if rt := m.Route; rt != nil {
		for i, name := range rt.params {
			req.SetPathValue(name, ps.values[i]) // the values now live in req
		}
		req.Pattern = rt.Pattern
		rt.handler.ServeHTTP(w, req)
		return
	}
	switch {
	case m.Allow != "":
		w.Header().Set("Allow", m.Allow)
		if req.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		problem.Write(w, problem.New(http.StatusMethodNotAllowed, req.Method+" is not allowed on "+path+"; allowed: "+m.Allow))
	default:
		if r.opts.TrailingSlash == RedirectSlash && path != "/" {
			if alt := toggleSlash(path); r.Lookup(req.Method, alt, ps).Route != nil {
				u := *req.URL
				u.Path, u.RawPath = alt, ""
				code := http.StatusPermanentRedirect
				if req.Method == http.MethodGet || req.Method == http.MethodHead {
					code = http.StatusMovedPermanently
				}
				http.Redirect(w, req, u.String(), code)
				return
			}
		}
		if r.opts.NotFound != nil {
			r.opts.NotFound.ServeHTTP(w, req)
			return
		}
		problem.Write(w, problem.New(http.StatusNotFound, "no route matches "+path))
	}
}

func toggleSlash(path string) string {
	if strings.HasSuffix(path, "/") {
		return strings.TrimSuffix(path, "/")
	}
	return path + "/"
}

// EscapeValue escapes a parameter value for a path, each segment on its
// own, so that a catch-all's slashes stay slashes; a plain parameter's
// value has none.
func EscapeValue(v string) string {
	parts := strings.Split(v, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// URL builds the path of the route named name, with the parameters given
// as name, value pairs. Values are escaped; a catch-all value keeps its
// slashes. Patterned parameters must match their pattern.
func (r *Router) URL(name string, pairs ...string) (string, error) {
	rt := r.names[name]
	if rt == nil {
		return "", fmt.Errorf("router: no route named %q", name)
	}
	if len(pairs)%2 != 0 {
		return "", fmt.Errorf("router: URL(%q): parameters must be name, value pairs", name)
	}
	vals := make(map[string]string, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		vals[pairs[i]] = pairs[i+1]
	}
	var b strings.Builder
	for _, s := range rt.segs {
		b.WriteByte('/')
		if s.kind == segStatic {
			b.WriteString(s.text)
			continue
		}
		v, ok := vals[s.text]
		if !ok {
			return "", fmt.Errorf("router: URL(%q): missing parameter %q", name, s.text)
		}
		delete(vals, s.text)
		switch s.kind {
		case segCatchAll:
			b.WriteString(EscapeValue(v))
			continue
		case segPattern:
			if !s.pattern.MatchString(v) {
				return "", fmt.Errorf("router: URL(%q): %s=%q does not match %s", name, s.text, v, s.pattern)
			}
		}
		if v == "" {
			return "", fmt.Errorf("router: URL(%q): parameter %q is empty", name, s.text)
		}
		b.WriteString(url.PathEscape(v))
	}
	for k := range vals {
		return "", fmt.Errorf("router: URL(%q): the route has no parameter %q", name, k)
	}
	return b.String(), nil
}
