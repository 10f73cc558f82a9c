package router

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// reference is the matching rule written naively: of all routes whose
// segments match the path, the winner is the one whose segment kinds are
// smallest, compared position by position (static < param < catch-all).
func reference(routes []string, path string) (string, []string) {
	best, bestKinds, bestVals := "", []segKind(nil), []string(nil)
	for _, rt := range routes {
		if kinds, vals, ok := matches(rt, path); ok && (best == "" || less(kinds, bestKinds)) {
			best, bestKinds, bestVals = rt, kinds, vals
		}
	}
	return best, bestVals
}

// matches says whether route rt matches path, with its segment kinds and
// parameter values. A parameter needs a non-empty segment; a catch-all
// takes the rest of the path after its slash, even an empty rest.
func matches(rt, path string) (kinds []segKind, vals []string, ok bool) {
	segs, err := parsePath(rt)
	if err != nil {
		return nil, nil, false
	}
	parts := strings.Split(path[1:], "/")
	for i, s := range segs {
		if i >= len(parts) { // "/x/{p...}" needs the slash after x
			return nil, nil, false
		}
		switch s.kind {
		case segCatchAll:
			return append(kinds, s.kind), append(vals, strings.Join(parts[i:], "/")), true
		case segStatic:
			ok = parts[i] == s.text
		case segParam:
			ok = parts[i] != ""
			vals = append(vals, parts[i])
		}
		if !ok {
			return nil, nil, false
		}
		kinds = append(kinds, s.kind)
	}
	return kinds, vals, len(segs) == len(parts)
}

func less(a, b []segKind) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// FuzzLookup builds a router from a fuzzed route table, GET routes and
// POST ones (written with a leading '+'), and checks every fuzzed path with
// both methods against the reference rule, the Allow header of a 405
// included.
func FuzzLookup(f *testing.F) {
	f.Add("/a/b /a/{x} /a/{x}/c /{y...} /a/b/{z}", "/a/b/c")
	f.Add("/users /users/{id} /users/new /users/{id}/posts/{p}", "/users/new/posts/1")
	f.Add("/ /x/ /x/{rest...}", "/x/")
	f.Add("/f/{p...} /f/a", "/f/a/b")
	// A branch that fails after taking a parameter must take its value back.
	f.Add("/a/{x}/b/c /{y...}", "/a/1/b")
	f.Add("/a/{x}/{z}/c /a/{x}/b/d /{y...}", "/a/1/b/c")
	// Enough static children for the first-byte table, and for the map.
	f.Add("/ab /ac /a /b /ba /bb / /c /d/ /e /f/{x} /{y} /ab/c /ab/{z}", "/ab/c")
	var many []string
	for i := range staticIndexThreshold + 6 {
		many = append(many, fmt.Sprintf("/a%d", i))
	}
	f.Add(strings.Join(many, " ")+" /a1/{x} /{y...}", "/a1/b")
	// A path that matches a route of the other method must go on to a less
	// specific route of its own.
	f.Add("/users/new +/users/{name} /f/{p...} +/f/upload", "/users/new")
	f.Add("+/a/{x}/b /a/c/{y} +/{z...}", "/a/c/b")
	f.Fuzz(func(t *testing.T, table, path string) {
		if len(table) > 400 || len(path) > 200 || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
			return
		}
		b := New(Options{})
		routes := map[string][]string{}
		seen := map[string]bool{}
		for rt := range strings.FieldsSeq(table) {
			method := http.MethodGet
			if p, ok := strings.CutPrefix(rt, "+"); ok {
				method, rt = http.MethodPost, p
			}
			segs, err := parsePath(rt)
			if err != nil || strings.Contains(rt, ":") { // patterns have table tests
				continue
			}
			shape := method + " " + shapeOf(segs)
			if seen[shape] { // a conflict Build would report
				continue
			}
			seen[shape] = true
			routes[method] = append(routes[method], rt)
			b.Handle(method, rt, http.NotFoundHandler())
		}
		r, err := b.Build()
		if err != nil {
			t.Fatalf("Build(%q): %v", routes, err)
		}
		ps := &Params{}
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			m := r.Lookup(method, path, ps)
			want, wantVals := reference(routes[method], path)
			got := ""
			if m.Route != nil {
				got = m.Route.Path
			}
			if got != want {
				t.Fatalf("routes %q, %s %q: router chose %q, reference %q", routes, method, path, got, want)
			}
			if got != "" && strings.Join(ps.values, "\x00") != strings.Join(wantVals, "\x00") {
				t.Fatalf("routes %q, %s %q: values %q, reference %q", routes, method, path, ps.values, wantVals)
			}
			if got == "" && m.Allow != referenceAllow(routes, path) {
				t.Fatalf("routes %q, %s %q: Allow %q, reference %q", routes, method, path, m.Allow, referenceAllow(routes, path))
			}
		}
	})
}

// referenceAllow is the Allow header of a 405 for path: the methods of
// every route that matches it, HEAD with GET, and OPTIONS; "" for a 404.
func referenceAllow(routes map[string][]string, path string) string {
	var allow []string
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		if slices.ContainsFunc(routes[method], func(rt string) bool { _, _, ok := matches(rt, path); return ok }) {
			allow = append(allow, method)
			if method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if allow == nil {
		return ""
	}
	allow = append(allow, http.MethodOptions)
	slices.Sort(allow)
	return strings.Join(allow, ", ")
}

// shapeOf is what two conflicting routes share: their segments with
// parameter names erased.
func shapeOf(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		switch s.kind {
		case segStatic:
			b.WriteString(s.text)
		case segCatchAll:
			b.WriteString("{...}")
		default:
			b.WriteString("{}")
		}
	}
	return b.String()
}
