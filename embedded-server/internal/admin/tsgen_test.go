package admin

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/covetpy/covet/backend/events"
	"github.com/covetpy/covet/backend/loadgen"
	"github.com/covetpy/covet/embedded-server/internal/config"
)

var update = flag.Bool("update", false, "rewrite frontend/src/api/types.gen.ts from the Go types")

const tsTypesFile = "../../../frontend/src/api/types.gen.ts"

// TestTypeScriptTypesAreCurrent fails when the studio's API types no longer
// match the Go definitions. Regenerate with `make types` (go test -update).
func TestTypeScriptTypesAreCurrent(t *testing.T) {
	want := generateTS(t)
	if *update {
		if err := os.WriteFile(tsTypesFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(tsTypesFile)
	if err != nil {
		t.Fatalf("%v; run `make types` to generate it", err)
	}
	if string(got) != want {
		t.Errorf("%s is stale; run `make types` to regenerate it from the Go types.\n got:\n%s\nwant:\n%s", tsTypesFile, got, want)
	}
}

func generateTS(t *testing.T) string {
	t.Helper()
	types := APITypes()
	types["Event"] = events.Event{}
	names := make([]string, 0, len(types))
	byType := map[reflect.Type]string{}
	for name, v := range types {
		names = append(names, name)
		byType[reflect.TypeOf(v)] = name
	}
	sort.Strings(names)

	var b strings.Builder
	b.WriteString("// Code generated from the Go types of embedded-server/internal/admin by `make types`; DO NOT EDIT.\n")
	b.WriteString("// The admin API contract is docs/admin-api.md.\n")
	for _, name := range names {
		typ := reflect.TypeOf(types[name])
		var extends []string // embedded structs, whose fields JSON inlines
		for i := range typ.NumField() {
			if f := typ.Field(i); f.Anonymous && f.Tag.Get("json") == "" {
				extends = append(extends, tsType(t, f.Type, byType))
			}
		}
		if len(extends) > 0 {
			fmt.Fprintf(&b, "\nexport interface %s extends %s {\n", name, strings.Join(extends, ", "))
		} else {
			fmt.Fprintf(&b, "\nexport interface %s {\n", name)
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "-" || !f.IsExported() || f.Anonymous && tag == "" {
				continue
			}
			if tag == "" {
				t.Fatalf("%s.%s has no json tag", name, f.Name)
			}
			optional := ""
			if strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero") {
				optional = "?"
			}
			fmt.Fprintf(&b, "  %s%s: %s;\n", tag, optional, tsType(t, f.Type, byType))
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func tsType(t *testing.T, typ reflect.Type, named map[reflect.Type]string) string {
	if name, ok := named[typ]; ok {
		return name
	}
	switch typ {
	case reflect.TypeFor[time.Time]():
		return "string /* RFC 3339 */"
	case reflect.TypeFor[config.Duration](), reflect.TypeFor[loadgen.Duration]():
		return `string /* Go duration: "250ms", "5s" */`
	}
	switch typ.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Interface:
		return "unknown"
	case reflect.Slice:
		elem := typ.Elem()
		if elem.Kind() == reflect.Pointer {
			elem = elem.Elem() // the API never sends null inside an array
		}
		if s := tsType(t, elem, named); !strings.Contains(s, " ") {
			return s + "[]"
		} else {
			return "(" + s + ")[]"
		}
	case reflect.Map:
		return "Record<string, " + tsType(t, typ.Elem(), named) + ">"
	case reflect.Pointer:
		return tsType(t, typ.Elem(), named) + " | null"
	}
	t.Fatalf("no TypeScript mapping for %v; add the type to APITypes or extend tsType", typ)
	return ""
}
