// Package archtest enforces the dependency rule of DESIGN.md:
//
//  1. the desktop shell (the root package main) imports only the exported
//     embedded-server package of this module;
//  2. embedded-server imports backend, frontend and third-party code, never
//     the shell;
//  3. backend imports only the standard library, third-party libraries and
//     lower backend packages — never embedded-server, frontend or Wails —
//     reads no environment variables and keeps no package-level mutable
//     state.
//
// Imports are read with `go list -deps`, so a rule broken through a chain of
// packages is caught too, and each failure names the offending import.
package archtest

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/covetpy/covet"

type pkg struct {
	ImportPath string
	Dir        string
	Imports    []string
	GoFiles    []string
	Standard   bool
	Module     *struct{ Path string }
}

// listPackages returns every package of the module and everything they
// depend on, by import path.
func listPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = &p
	}
	return pkgs
}

// chain returns the import chain from "from" to the first package that
// forbidden reports as forbidden, or nil.
func chain(pkgs map[string]*pkg, from string, forbidden func(string) bool) []string {
	type node struct {
		path string
		prev *node
	}
	seen := map[string]bool{from: true}
	queue := []*node{{path: from}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		p := pkgs[n.path]
		if p == nil {
			continue
		}
		for _, imp := range p.Imports {
			if seen[imp] {
				continue
			}
			seen[imp] = true
			next := &node{path: imp, prev: n}
			if forbidden(imp) {
				var out []string
				for m := next; m != nil; m = m.prev {
					out = append([]string{m.path}, out...)
				}
				return out
			}
			// Only follow the module's own packages: a third-party library
			// cannot import ours.
			if strings.HasPrefix(imp, module+"/") {
				queue = append(queue, next)
			}
		}
	}
	return nil
}

func under(prefix string) func(string) bool {
	return func(p string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
}

func TestDependencyRule(t *testing.T) {
	pkgs := listPackages(t)
	isWails := under("github.com/wailsapp")
	rules := []struct {
		name      string
		applies   func(string) bool
		forbidden func(string) bool
		why       string
	}{
		{
			name:    "backend stays below the studio",
			applies: under(module + "/backend"),
			forbidden: func(p string) bool {
				return under(module+"/embedded-server")(p) || under(module+"/frontend")(p) || isWails(p) || p == module
			},
			why: "backend must not import embedded-server, frontend or Wails",
		},
		{
			name:      "embedded-server never imports the shell or Wails",
			applies:   under(module + "/embedded-server"),
			forbidden: func(p string) bool { return p == module || isWails(p) },
			why:       "embedded-server must not import the desktop shell or Wails",
		},
		{
			name:    "the shell talks only to embedded-server",
			applies: func(p string) bool { return p == module },
			forbidden: func(p string) bool {
				return under(module+"/backend")(p) || under(module+"/frontend")(p) ||
					(under(module+"/embedded-server")(p) && p != module+"/embedded-server")
			},
			why: "the desktop shell may import only the exported embedded-server package",
		},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			checked := 0
			for path, p := range pkgs {
				if p.Module == nil || p.Module.Path != module || !r.applies(path) {
					continue
				}
				checked++
				var c []string
				if path == module {
					// The shell's rule is about its direct imports: what it
					// reaches through embedded-server is fine.
					for _, imp := range p.Imports {
						if r.forbidden(imp) {
							c = []string{path, imp}
							break
						}
					}
				} else {
					c = chain(pkgs, path, r.forbidden)
				}
				if c != nil {
					t.Errorf("%s: %s imports %s (import chain: %s)", r.why, path, c[len(c)-1], strings.Join(c, " -> "))
				}
			}
			if checked == 0 {
				t.Fatal("the rule matched no package; is the module layout as DESIGN.md says?")
			}
		})
	}
}

// TestBackendHasNoEnvOrMutableGlobals parses backend's non-test sources:
// no os.Getenv/LookupEnv/Environ, and no package-level var other than
// compile-time interface guards (var _ I = ...) and values documented as
// "Read only".
func TestBackendHasNoEnvOrMutableGlobals(t *testing.T) {
	pkgs := listPackages(t)
	fset := token.NewFileSet()
	files := 0
	for path, p := range pkgs {
		if !under(module + "/backend")(path) {
			continue
		}
		for _, name := range p.GoFiles {
			files++
			file := filepath.Join(p.Dir, name)
			f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv" || sel.Sel.Name == "Environ") {
						t.Errorf("%s: backend reads the environment (os.%s); take the value as configuration instead", fset.Position(sel.Pos()), sel.Sel.Name)
					}
				}
				return true
			})
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					if len(vs.Names) == 1 && vs.Names[0].Name == "_" {
						continue // compile-time guard
					}
					doc := vs.Doc
					if doc == nil {
						doc = gd.Doc
					}
					if doc != nil && strings.Contains(doc.Text(), "Read only") {
						continue
					}
					t.Errorf("%s: package-level var %s in backend; keep state in values built by New, or document a constant table as \"Read only\"", fset.Position(vs.Pos()), vs.Names[0].Name)
				}
			}
		}
	}
	if files == 0 {
		t.Fatal("no backend source files found")
	}
}
