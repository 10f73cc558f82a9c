// Package resource serves REST endpoints for a table described by data
// rather than by a Go struct: the resources of covet.json.
//
//	def := resource.Definition{Name: "users", Table: "users", Fields: []resource.Field{
//		{Name: "name", Type: "string", Required: true, MaxLength: 100},
//		{Name: "email", Type: "string", Required: true, Unique: true},
//		{Name: "age", Type: "int"},
//	}}
//	res, err := resource.New(db, def)
//	if err != nil { … }
//	_, err = res.Ensure(ctx)          // CREATE TABLE if missing
//	mux.Handle("/users", res.Collection())  // GET list, POST create
//	mux.Handle("/users/{id}", res.Item())   // GET, PUT, PATCH, DELETE
//
// Every record has an integer primary key "id" that the database assigns.
// Input is validated field by field before it reaches SQL; problems come
// back as problem+json naming each field.
package resource

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/covetpy/covet/backend/orm"
)

// Field types.
const (
	TypeString = "string" // short text, indexed as VARCHAR where the server needs it
	TypeText   = "text"   // long text
	TypeInt    = "int"    // 64-bit integer
	TypeFloat  = "float"  // 64-bit floating point
	TypeBool   = "bool"
	TypeTime   = "time" // RFC 3339 on the wire, UTC in the database
)

// Limits of a definition and of requests.
const (
	MaxFields      = 100
	MaxStringBytes = 1 << 20 // an upper bound for maxLength
	DefaultLimit   = 50      // list page size when the request names none
	MaxLimit       = 1000    // largest page a request may ask for
	MaxBodyBytes   = 1 << 20 // largest request body
)

// Field is one column of a resource.
type Field struct {
	Name string `json:"name"`
	// Type is string, text, int, float, bool or time.
	Type string `json:"type"`
	// Required fields must be present (and not null) when creating or
	// replacing a record.
	Required bool `json:"required,omitempty"`
	// Unique fields get a unique constraint; a duplicate gets 409.
	Unique bool `json:"unique,omitempty"`
	// Default is used when a create leaves the field out; it must have the
	// field's type.
	Default any `json:"default,omitempty"`
	// MaxLength bounds string and text fields, in characters.
	MaxLength int `json:"maxLength,omitempty"`
	// Enum, when set, lists the only values allowed.
	Enum []any `json:"enum,omitempty"`
	// Sensitive fields have their values redacted in query events (the
	// Query Inspector, the slow-query log), as orm.Column.Sensitive.
	Sensitive bool `json:"sensitive,omitempty"`
}

// Definition describes a resource: its name, its table and its fields.
type Definition struct {
	Name   string  `json:"name"`
	Table  string  `json:"table"`
	Fields []Field `json:"fields"`
}

// Problem is one thing wrong with a Definition, at a JSON path relative to
// the definition ("fields[2].type").
type Problem struct {
	Path    string
	Message string
}

// Validate returns every problem with d (nil when there is none).
func (d Definition) Validate() []Problem {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{path, fmt.Sprintf(format, args...)})
	}
	if err := ident(d.Name); err != nil {
		add("name", "%v", err)
	}
	if err := ident(d.Table); err != nil {
		add("table", "%v", err)
	}
	if len(d.Fields) == 0 {
		add("fields", "a resource needs at least one field")
	}
	if len(d.Fields) > MaxFields {
		add("fields", "%d fields is more than the limit of %d", len(d.Fields), MaxFields)
	}
	seen := map[string]int{}
	for i, f := range d.Fields {
		at := fmt.Sprintf("fields[%d]", i)
		if err := ident(f.Name); err != nil {
			add(at+".name", "%v", err)
		} else if f.Name == "id" {
			add(at+".name", `"id" is the primary key every resource has; choose another name`)
		} else if j, dup := seen[f.Name]; dup {
			add(at+".name", "field %q is already declared at fields[%d]", f.Name, j)
		}
		seen[f.Name] = i
		switch f.Type {
		case TypeString, TypeText:
			if f.MaxLength < 0 || f.MaxLength > MaxStringBytes {
				add(at+".maxLength", "maxLength %d is outside 1..%d", f.MaxLength, MaxStringBytes)
			}
		case TypeInt, TypeFloat, TypeBool, TypeTime:
			if f.MaxLength != 0 {
				add(at+".maxLength", "maxLength applies only to string and text fields")
			}
		case "":
			add(at+".type", "type is required: string, text, int, float, bool or time")
			continue
		default:
			add(at+".type", "unknown type %q (want string, text, int, float, bool or time)", f.Type)
			continue
		}
		if f.Unique && f.Type == TypeText {
			add(at+".unique", "a text field cannot be unique; use type string")
		}
		for j, e := range f.Enum {
			if _, err := f.value(e); err != nil {
				add(fmt.Sprintf("%s.enum[%d]", at, j), "%v", err)
			}
		}
		if f.Default != nil {
			if _, err := f.value(f.Default); err != nil {
				add(at+".default", "%v", err)
			} else if _, err := orm.Literal(literalOf(f, f.Default)); err != nil {
				add(at+".default", "%v", err)
			}
		}
	}
	return ps
}

// ident accepts names that are safe as SQL identifiers and URL parts.
func ident(s string) error {
	if s == "" {
		return fmt.Errorf("name is required")
	}
	if len(s) > 63 {
		return fmt.Errorf("%q is longer than 63 characters", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return fmt.Errorf("%q: use lower-case letters, digits and underscores, starting with a letter", s)
	}
	return nil
}

// goType is the Go type a field scans into; optional fields are pointers so
// that NULL round-trips.
func (f Field) goType() reflect.Type {
	var t reflect.Type
	switch f.Type {
	case TypeInt:
		t = reflect.TypeFor[int64]()
	case TypeFloat:
		t = reflect.TypeFor[float64]()
	case TypeBool:
		t = reflect.TypeFor[bool]()
	case TypeTime:
		t = reflect.TypeFor[time.Time]()
	default:
		t = reflect.TypeFor[string]()
	}
	if f.nullable() {
		return reflect.PointerTo(t)
	}
	return t
}

// nullable reports whether the field's column takes NULL: it is optional
// and has no default.
func (f Field) nullable() bool { return !f.Required && f.Default == nil }

// value converts a JSON value (as decoded with UseNumber, or from a Go
// literal in a Definition) to the field's Go value, or says why it can't.
func (f Field) value(v any) (any, error) {
	var out any
	switch f.Type {
	case TypeString, TypeText:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %s", jsonType(v))
		}
		if err := storableText(s); err != nil {
			return nil, err
		}
		if f.MaxLength > 0 && len([]rune(s)) > f.MaxLength {
			return nil, fmt.Errorf("%d characters is more than maxLength %d", len([]rune(s)), f.MaxLength)
		}
		out = s
	case TypeInt:
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		out = n
	case TypeFloat:
		x, err := toFloat(v)
		if err != nil {
			return nil, err
		}
		out = x
	case TypeBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want true or false, got %s", jsonType(v))
		}
		out = b
	case TypeTime:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want an RFC 3339 time string, got %s", jsonType(v))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", s)
		}
		out = t.UTC()
	default:
		return nil, fmt.Errorf("unknown type %q", f.Type)
	}
	if len(f.Enum) > 0 && !f.inEnum(out) {
		return nil, fmt.Errorf("%v is not one of %v", v, f.Enum)
	}
	return out, nil
}

// storableText refuses a NUL character, which PostgreSQL cannot store in
// text (the others could): a record must be valid on every database.
func storableText(s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Errorf("a NUL character (U+0000, at byte %d) cannot be stored", i)
	}
	return nil
}

// invalidUTF8 returns the index of the first byte of s that is not part of
// valid UTF-8, or -1 when s is valid.
func invalidUTF8(s string) int {
	if utf8.ValidString(s) {
		return -1
	}
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return -1
}

func (f Field) inEnum(v any) bool {
	for _, e := range f.Enum {
		ev, err := Field{Type: f.Type}.value(e)
		if err == nil && reflect.DeepEqual(ev, v) || err == nil && f.Type == TypeTime && ev.(time.Time).Equal(v.(time.Time)) {
			return true
		}
	}
	return false
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case interface{ Int64() (int64, error) }: // json.Number
		n, err := x.Int64()
		if err != nil {
			return 0, fmt.Errorf("%v is not a 64-bit integer", v)
		}
		return n, nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("want an integer, got %q", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("want an integer, got %s", jsonType(v))
}

func toFloat(v any) (float64, error) {
	var x float64
	var err error
	switch n := v.(type) {
	case interface{ Float64() (float64, error) }: // json.Number
		x, err = n.Float64()
	case float64:
		x = n
	case int:
		x = float64(n)
	case int64:
		x = float64(n)
	case string:
		x, err = strconv.ParseFloat(n, 64)
	default:
		return 0, fmt.Errorf("want a number, got %s", jsonType(v))
	}
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, fmt.Errorf("%v is not a finite number", v)
	}
	return x, nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	if _, ok := v.(interface{ Float64() (float64, error) }); ok {
		return "a number"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// literalOf turns a validated default into what orm.Literal accepts.
func literalOf(f Field, v any) any {
	x, err := f.value(v)
	if err != nil {
		return v
	}
	if t, ok := x.(time.Time); ok {
		return t.Format(time.RFC3339Nano)
	}
	return x
}

// table builds the orm table of d (valid after Validate).
func (d Definition) table() (*orm.Table, error) {
	cols := []orm.Column{{Name: "id", Type: reflect.TypeFor[int64](), PrimaryKey: true, AutoIncrement: true}}
	for _, f := range d.Fields {
		c := orm.Column{Name: f.Name, Type: f.goType(), Unique: f.Unique, Nullable: f.nullable(), Sensitive: f.Sensitive}
		if f.Type == TypeString {
			c.MaxLength = f.MaxLength // text stays unbounded in the database
		}
		if f.Default != nil {
			lit, err := orm.Literal(literalOf(f, f.Default))
			if err != nil {
				return nil, fmt.Errorf("field %s: default: %w", f.Name, err)
			}
			c.Default = lit
		}
		cols = append(cols, c)
	}
	return orm.Define(d.Table, cols...)
}
