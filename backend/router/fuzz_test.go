package router

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// reference is the matching rule written naively: of all routes whose
// segments match the path, the winner is the one whose segment kinds are
// smallest, compared position by position (static < param < catch-all).
// A parameter needs a non-empty segment; a catch-all takes the rest of the
// path after its slash, even an empty rest.
func reference(routes []string, path string) (string, []string) {
	best, bestKinds, bestVals := "", []segKind(nil), []string(nil)
	parts := strings.Split(path[1:], "/")
	for _, rt := range routes {
		segs, err := parsePath(rt)
		if err != nil {
			continue
		}
		kinds, vals, ok := []segKind{}, []string{}, true
		for i, s := range segs {
			if s.kind == segCatchAll {
				if i >= len(parts) { // "/x/{p...}" needs the slash after x
					ok = false
					break
				}
				kinds, vals = append(kinds, s.kind), append(vals, strings.Join(parts[i:], "/"))
				goto matched // the catch-all consumed the rest
			}
			if i >= len(parts) {
				ok = false
				break
			}
			switch s.kind {
			case segStatic:
				ok = parts[i] == s.text
			case segParam:
				ok = parts[i] != ""
				vals = append(vals, parts[i])
			}
			if !ok {
				break
			}
			kinds = append(kinds, s.kind)
		}
		if !ok || len(segs) != len(parts) {
			continue
		}
	matched:
		if best == "" || less(kinds, bestKinds) {
			best, bestKinds, bestVals = rt, kinds, vals
		}
	}
	return best, bestVals
}

func less(a, b []segKind) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// FuzzLookup builds a router from a fuzzed route table and checks every
// fuzzed path against the reference rule.
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
	f.Fuzz(func(t *testing.T, table, path string) {
		if len(table) > 400 || len(path) > 200 || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
			return
		}
		b := New(Options{})
		var routes []string
		seen := map[string]bool{}
		for rt := range strings.FieldsSeq(table) {
			segs, err := parsePath(rt)
			if err != nil || strings.Contains(rt, ":") { // patterns have table tests
				continue
			}
			shape := shapeOf(segs)
			if seen[shape] { // a conflict Build would report
				continue
			}
			seen[shape] = true
			routes = append(routes, rt)
			b.Get(rt, func(http.ResponseWriter, *http.Request) {})
		}
		r, err := b.Build()
		if err != nil {
			t.Fatalf("Build(%q): %v", routes, err)
		}
		ps := &Params{}
		m := r.Lookup("GET", path, ps)
		want, wantVals := reference(routes, path)
		got := ""
		if m.Route != nil {
			got = m.Route.Path
		}
		if got != want {
			t.Fatalf("routes %q, path %q: router chose %q, reference %q", routes, path, got, want)
		}
		if got != "" && strings.Join(ps.values, "\x00") != strings.Join(wantVals, "\x00") {
			t.Fatalf("routes %q, path %q: values %q, reference %q", routes, path, ps.values, wantVals)
		}
	})
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
