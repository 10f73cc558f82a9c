package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/covetpy/covet/backend/problem"
)

// MaxSize bounds a covet.json document.
const MaxSize = 4 << 20

// Errors lists every problem found in a configuration, each with the JSON
// path of the value at fault.
type Errors []problem.FieldError

func (e Errors) Error() string {
	var b strings.Builder
	for i, p := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Path != "" {
			b.WriteString(p.Path)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// pathValidator is implemented by types that check their own JSON form
// (for example Duration, which must be a string that time.ParseDuration
// accepts).
type pathValidator interface {
	validateJSON(v any) error
}

// Decode strictly decodes a covet.json document: syntax errors name the line
// and column, and unknown fields and values of the wrong type are all
// reported with their JSON paths. Defaults fill what the document omits.
// Decode does not Validate.
func Decode(data []byte) (*Config, error) {
	if len(data) > MaxSize {
		return nil, Errors{{Message: fmt.Sprintf("document is %d bytes, larger than the limit of %d", len(data), MaxSize)}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, Errors{{Message: syntaxMessage(data, err)}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Errors{{Message: "unexpected data after the top-level value at " + position(data, dec.InputOffset())}}
	}
	var errs Errors
	checkShape(tree, reflect.TypeFor[Config](), "", &errs)
	if len(errs) > 0 {
		return nil, errs
	}
	cfg := Default()
	cfg.Routes = nil
	if err := json.Unmarshal(data, cfg); err != nil {
		// checkShape accepts only what Unmarshal can decode; reaching this
		// is a bug in checkShape.
		return nil, Errors{{Message: "decoding: " + err.Error()}}
	}
	cfg.fillDefaults()
	return cfg, nil
}

func syntaxMessage(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at %s: %s", position(data, se.Offset-1), se.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "invalid JSON: the document is empty or ends early"
	}
	return "invalid JSON: " + err.Error()
}

// position renders the byte at index i as "line L, column C" (both from 1).
func position(data []byte, i int64) string {
	i = max(0, min(i, int64(len(data))))
	before := data[:i]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(i) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// checkShape walks a generically decoded JSON value against the Go type it
// will be decoded into and records unknown fields and type mismatches.
func checkShape(v any, t reflect.Type, path string, errs *Errors) {
	if t.Kind() == reflect.Pointer {
		if v == nil {
			return
		}
		t = t.Elem()
	}
	if pv, ok := reflect.New(t).Interface().(pathValidator); ok {
		if err := pv.validateJSON(v); err != nil {
			*errs = append(*errs, problem.FieldError{Path: path, Message: err.Error()})
		}
		return
	}
	if v == nil {
		return // null leaves the zero value (or default) in place
	}
	mismatch := func(want string) {
		*errs = append(*errs, problem.FieldError{Path: path, Message: fmt.Sprintf("expected %s, got %s", want, jsonKind(v))})
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			mismatch("an object")
			return
		}
		fields := jsonFields(t)
		for _, key := range sortedKeys(obj) {
			f, ok := fields[key]
			if !ok {
				*errs = append(*errs, problem.FieldError{Path: join(path, key), Message: "unknown field" + suggest(key, fields)})
				continue
			}
			checkShape(obj[key], f.Type, join(path, key), errs)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			mismatch("an object")
			return
		}
		for _, key := range sortedKeys(obj) {
			checkShape(obj[key], t.Elem(), join(path, key), errs)
		}
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			mismatch("an array")
			return
		}
		for i, item := range arr {
			checkShape(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", errs)
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			mismatch("a string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			mismatch("true or false")
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, ok := v.(json.Number)
		if !ok {
			mismatch("an integer")
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			*errs = append(*errs, problem.FieldError{Path: path, Message: fmt.Sprintf("expected an integer that fits in %d bits, got %s", t.Bits(), n)})
		}
	case reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			mismatch("a number")
		}
	case reflect.Interface:
		// Any JSON value (a resource field's default or enum); the owner
		// checks it against what it means in Validate.
	default:
		panic("config: checkShape does not handle " + t.String())
	}
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return strconv.Quote(v)
	case json.Number:
		return "the number " + string(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return "null"
}

func jsonFields(t reflect.Type) map[string]reflect.StructField {
	m := make(map[string]reflect.StructField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f
	}
	return m
}

// suggest proposes a known field whose name differs from key only in case,
// the most common cause of an unknown field.
func suggest(key string, fields map[string]reflect.StructField) string {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return fmt.Sprintf(" (did you mean %q?)", name)
		}
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	return " (known: " + strings.Join(names, ", ") + ")"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
