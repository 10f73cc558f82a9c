package router

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// segKind orders the ways a path segment can match; lower kinds are tried
// first, so a static segment beats a patterned parameter, which beats a
// plain parameter, which beats a catch-all.
type segKind uint8

const (
	segStatic segKind = iota
	segPattern
	segParam
	segCatchAll
)

// segment is one parsed piece of a route path.
type segment struct {
	kind    segKind
	text    string         // static text, or the parameter's name
	pattern *regexp.Regexp // segPattern only, anchored
}

// parsePath splits a route path into segments, checking its syntax.
func parsePath(path string) ([]segment, error) {
	if path == "" || path[0] != '/' {
		return nil, fmt.Errorf("%q must start with '/'", path)
	}
	parts := strings.Split(path[1:], "/")
	segs := make([]segment, 0, len(parts))
	names := map[string]bool{}
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") {
			if strings.ContainsAny(p, "{}") {
				return nil, fmt.Errorf("segment %q mixes text and a parameter; a parameter must be a whole segment", p)
			}
			if p == "" && i != len(parts)-1 {
				return nil, fmt.Errorf("%q has an empty segment", path)
			}
			segs = append(segs, segment{kind: segStatic, text: p})
			continue
		}
		if !strings.HasSuffix(p, "}") {
			return nil, fmt.Errorf("parameter %q is not closed with '}'", p)
		}
		inner := p[1 : len(p)-1]
		name, expr, hasExpr := strings.Cut(inner, ":")
		s := segment{kind: segParam, text: name}
		if rest, ok := strings.CutSuffix(name, "..."); ok && !hasExpr {
			if i != len(parts)-1 {
				return nil, fmt.Errorf("catch-all {%s} must be the last segment", inner)
			}
			s = segment{kind: segCatchAll, text: rest}
		}
		if !validName(s.text) {
			return nil, fmt.Errorf("parameter name %q must be a Go-style identifier", s.text)
		}
		if names[s.text] {
			return nil, fmt.Errorf("parameter {%s} declared twice", s.text)
		}
		names[s.text] = true
		if hasExpr {
			if expr == "" {
				return nil, fmt.Errorf("parameter {%s} has an empty pattern", name)
			}
			re, err := regexp.Compile("^(?:" + expr + ")$")
			if err != nil {
				return nil, fmt.Errorf("parameter {%s}: invalid pattern: %v", name, err)
			}
			s.kind, s.pattern = segPattern, re
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// CheckPath returns what Build would find wrong with path by itself (a
// parameter declared twice, a catch-all before the end, a bad pattern):
// nil when it parses. Conflicts with other routes need Build.
func CheckPath(path string) error {
	_, err := parsePath(path)
	return err
}

// ParamNames returns the parameter names of a route path or pattern
// ("GET /users/{id:[0-9]+}/files/{path...}" gives id and path), in path
// order; nil when it has none or does not parse.
func ParamNames(path string) []string {
	if _, p, ok := strings.Cut(path, " "); ok && !strings.HasPrefix(path, "/") {
		path = p // a pattern: drop the method
	}
	segs, err := parsePath(path)
	if err != nil {
		return nil
	}
	var names []string
	for _, s := range segs {
		if s.kind != segStatic {
			names = append(names, s.text)
		}
	}
	return names
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c != '_' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && !(i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// node is one segment position in the trie. After Build it is never
// modified, so lookups need no locks.
type node struct {
	static    []*node          // static children, sorted by text once finished
	firsts    string           // the first byte of each static child's text (0 for ""), beside static
	texts     []string         // each static child's text, beside static
	starts    *[256]uint8      // for many static children: by first byte, 1 + the index of the first child with it, 0 for none
	staticIdx map[string]*node // index of static when it is very large
	patterns  []*node          // patterned parameter children, in registration order
	param     *node            // plain parameter child
	catchAll  *node            // catch-all child

	seg segment
	end *endpoint // routes ending here, or nil
}

// endpoint holds the routes that end at one node. Paths have few
// methods, so a slice scan beats a map; the common methods also have a
// slot each, filled by finish.
type endpoint struct {
	routes []*Route              // one per method
	common [commonMethods]*Route // routes by methodSlot
	allow  string                // the Allow header for this path
	// serves answers each method of the router by its slot (Router.slot):
	// the method's route, or for HEAD the GET route.
	serves []*Route
}

// commonMethods is how many methods have a slot in endpoint.common.
const commonMethods = 7

// methodSlot returns the slot of a common method, or -1.
func methodSlot(method string) int {
	switch method {
	case http.MethodGet:
		return 0
	case http.MethodPost:
		return 1
	case http.MethodPut:
		return 2
	case http.MethodPatch:
		return 3
	case http.MethodDelete:
		return 4
	case http.MethodHead:
		return 5
	case http.MethodOptions:
		return 6
	}
	return -1
}

// route returns the route for method, or nil.
func (e *endpoint) route(method string) *Route {
	if i := methodSlot(method); i >= 0 {
		return e.common[i]
	}
	for _, rt := range e.routes {
		if rt.Method == method {
			return rt
		}
	}
	return nil
}

// staticTableThreshold is the number of static children from which a
// table by first byte beats a scan of their first bytes, and
// staticIndexThreshold the number from which a map beats the table (a
// first byte may be shared by many of them).
const (
	staticTableThreshold = 8
	staticIndexThreshold = 64
)

func (n *node) child(s segment) *node {
	switch s.kind {
	case segStatic:
		for _, c := range n.static {
			if c.seg.text == s.text {
				return c
			}
		}
		c := &node{seg: s}
		n.static = append(n.static, c)
		return c
	case segPattern:
		for _, c := range n.patterns {
			// The same pattern under another name matches the same
			// segments: one node, and a conflict if both end a route.
			if c.seg.pattern.String() == s.pattern.String() {
				return c
			}
		}
		c := &node{seg: s}
		n.patterns = append(n.patterns, c)
		return c
	case segParam:
		if n.param == nil {
			n.param = &node{seg: s}
		}
		return n.param
	default:
		if n.catchAll == nil {
			n.catchAll = &node{seg: s}
		}
		return n.catchAll
	}
}

// finish builds the lookup indexes once the tree is complete.
func (n *node) finish() {
	// Sorted by text, the children that share a first byte are neighbours.
	slices.SortFunc(n.static, func(a, b *node) int { return strings.Compare(a.seg.text, b.seg.text) })
	firsts := make([]byte, len(n.static))
	for i, c := range n.static {
		if c.seg.text != "" {
			firsts[i] = c.seg.text[0]
		}
	}
	n.firsts = string(firsts)
	n.texts = make([]string, len(n.static))
	for i, c := range n.static {
		n.texts[i] = c.seg.text
	}
	switch {
	case len(n.static) >= staticIndexThreshold:
		n.staticIdx = make(map[string]*node, len(n.static))
		for _, c := range n.static {
			n.staticIdx[c.seg.text] = c
		}
	case len(n.static) >= staticTableThreshold:
		n.starts = new([256]uint8)                // fewer than staticIndexThreshold children: an index fits
		for i := len(n.firsts) - 1; i >= 0; i-- { // the lowest index wins
			n.starts[n.firsts[i]] = uint8(i + 1)
		}
	}
	for _, c := range n.static {
		c.finish()
	}
	for _, c := range n.patterns {
		c.finish()
	}
	if n.param != nil {
		n.param.finish()
	}
	if n.catchAll != nil {
		n.catchAll.finish()
	}
}

// match finds the route for the method of slot and path (without its
// leading '/'),
// trying static, patterned, plain and catch-all children in that order and
// backtracking when a branch fails, also when the path matches but not the
// method: the most specific route that serves the method wins. It records
// parameter values in ps. It allocates nothing.
func (n *node) match(path string, slot int, ps *Params) *Route {
	if len(n.static) > 0 {
		if c, rest, more := n.staticChild(path); c != nil {
			if rt := c.next(rest, more, slot, ps); rt != nil {
				return rt
			}
		}
	}
	if len(n.patterns) > 0 || n.param != nil {
		if seg, rest, more := cutSegment(path); seg != "" {
			for _, p := range n.patterns {
				if p.seg.pattern.MatchString(seg) {
					ps.push(seg)
					if rt := p.next(rest, more, slot, ps); rt != nil {
						return rt
					}
					ps.pop()
				}
			}
			if n.param != nil {
				ps.push(seg)
				if rt := n.param.next(rest, more, slot, ps); rt != nil {
					return rt
				}
				ps.pop()
			}
		}
	}
	if n.catchAll != nil { // a catch-all ends its path: it always has an endpoint
		if rt := n.catchAll.end.serves[slot]; rt != nil {
			ps.push(path)
			return rt
		}
	}
	return nil
}

// endpoints calls visit with every endpoint whose path matches path,
// whatever its methods: what a 405 answer's Allow header is made of.
func (n *node) endpoints(path string, visit func(*endpoint)) {
	if len(n.static) > 0 {
		if c, rest, more := n.staticChild(path); c != nil {
			c.endpointsBelow(rest, more, visit)
		}
	}
	if len(n.patterns) > 0 || n.param != nil {
		if seg, rest, more := cutSegment(path); seg != "" {
			for _, p := range n.patterns {
				if p.seg.pattern.MatchString(seg) {
					p.endpointsBelow(rest, more, visit)
				}
			}
			if n.param != nil {
				n.param.endpointsBelow(rest, more, visit)
			}
		}
	}
	if n.catchAll != nil {
		visit(n.catchAll.end)
	}
}

func (n *node) endpointsBelow(rest string, more bool, visit func(*endpoint)) {
	switch {
	case more:
		n.endpoints(rest, visit)
	case n.end != nil:
		visit(n.end)
	}
}

// staticChild returns the static child whose text is path's first
// segment, and the path after that segment. It compares the children's
// texts with the start of path, so it needs no search for the slash first.
func (n *node) staticChild(path string) (c *node, rest string, more bool) {
	if n.staticIdx != nil {
		seg, rest, more := cutSegment(path)
		return n.staticIdx[seg], rest, more
	}
	var first byte // "" is the text of a trailing slash's segment
	if path != "" {
		first = path[0]
	}
	i := 0
	if n.starts != nil {
		if i = int(n.starts[first]) - 1; i < 0 {
			return nil, "", false
		}
	}
	for ; i < len(n.firsts); i++ {
		if f := n.firsts[i]; f != first {
			if f > first {
				break // sorted: past the children starting with first
			}
			continue
		}
		t := n.texts[i]
		if len(t) <= len(path) && path[:len(t)] == t {
			if len(t) == len(path) {
				return n.static[i], "", false
			}
			if path[len(t)] == '/' {
				return n.static[i], path[len(t)+1:], true
			}
		}
	}
	return nil, "", false
}

// cutSegment splits path at its first slash. Segments are short: a plain
// loop finds the slash sooner than the call into strings.IndexByte's
// vector code.
func cutSegment(path string) (seg, rest string, more bool) {
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			return path[:i], path[i+1:], true
		}
	}
	return path, "", false
}

// next continues matching below n with the rest of the path.
func (n *node) next(rest string, more bool, slot int, ps *Params) *Route {
	if more {
		return n.match(rest, slot, ps)
	}
	if n.end == nil {
		return nil
	}
	return n.end.serves[slot]
}
