// Package validate checks request input before it reaches anything else:
// strict JSON decoding, go-playground/validator rules from struct tags, and
// HTML sanitisation (bluemonday) of fields declared as rich text. Problems
// come back as one problem+json 400 with an entry per field, named by its
// JSON path.
//
//	type signup struct {
//		Email string `json:"email" validate:"required,email,max=200"`
//		Name  string `json:"name" validate:"required,max=100"`
//		Bio   string `json:"bio" validate:"max=2000" sanitize:"ugc"`
//	}
//	v := validate.New()
//	var in signup
//	if err := v.DecodeJSON(w, r, &in, 1<<20); err != nil {
//		return err // *problem.Details: 400, or 413 past the limit
//	}
//
// Sanitising removes markup a browser could run; what a handler writes
// back into HTML still goes through html/template, which escapes by
// context. Never build HTML by concatenating strings.
package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/microcosm-cc/bluemonday"

	"github.com/covetpy/covet/backend/problem"
)

// Validator is safe for concurrent use; make one and share it (it caches
// what it learns about each struct type).
type Validator struct {
	v      *validator.Validate
	strict *bluemonday.Policy // no markup at all
	ugc    *bluemonday.Policy // user-generated content: formatting and links
}

// New returns a Validator whose field names are the JSON names.
func New() *Validator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	ugc := bluemonday.UGCPolicy()
	ugc.RequireNoFollowOnLinks(true)
	ugc.AddTargetBlankToFullyQualifiedLinks(true)
	return &Validator{v: v, strict: bluemonday.StrictPolicy(), ugc: ugc}
}

// Struct sanitises s's rich-text fields in place (s must be a pointer to a
// struct) and then checks its validate tags. The error is a
// *problem.Details 400 with one entry per failing field.
func (v *Validator) Struct(s any) error {
	rv := reflect.ValueOf(s)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("validate: Struct needs a pointer to a struct, not %T", s)
	}
	if err := v.sanitize(rv); err != nil {
		return err
	}
	err := v.v.Struct(s)
	if err == nil {
		return nil
	}
	var errs validator.ValidationErrors
	if !errors.As(err, &errs) {
		return fmt.Errorf("validate: %w", err) // a programming error: not a struct, bad tag
	}
	p := problem.New(http.StatusBadRequest, fmt.Sprintf("%d field(s) are invalid", len(errs)))
	for _, fe := range errs {
		p.Errors = append(p.Errors, problem.FieldError{Path: jsonPath(fe.Namespace()), Message: message(fe)})
	}
	sort.Slice(p.Errors, func(i, j int) bool { return p.Errors[i].Path < p.Errors[j].Path })
	return p
}

// DecodeJSON reads one JSON object of at most maxBytes from the request
// body into dst (a pointer to a struct), refusing unknown fields, then
// sanitises and validates it. Errors are *problem.Details: 413 past the
// limit, 400 otherwise, naming the field where there is one.
func (v *Validator) DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, maxBytes int64) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return problem.New(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxBytes))
		}
		return problem.New(http.StatusBadRequest, "reading the body: "+err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if dec.More() {
		return problem.New(http.StatusBadRequest, "the body must hold one JSON value and nothing after it")
	}
	return v.Struct(dst)
}

func decodeProblem(err error) error {
	p := problem.New(http.StatusBadRequest, "the body is not valid JSON for this request")
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		p.Errors = []problem.FieldError{{Path: typeErr.Field, Message: fmt.Sprintf("want %v, got a JSON %s", typeErr.Type, typeErr.Value)}}
	case errors.As(err, &syntaxErr):
		p.Detail = fmt.Sprintf("invalid JSON at byte %d: %v", syntaxErr.Offset, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		p.Errors = []problem.FieldError{{Path: field, Message: "unknown field"}}
	case errors.Is(err, io.EOF):
		p.Detail = "the body is empty"
	default:
		p.Detail = err.Error()
	}
	return p
}

// sanitize applies the sanitize tags: "strict" removes all markup, "ugc"
// keeps safe formatting and links. It walks nested structs, pointers and
// slices.
func (v *Validator) sanitize(rv reflect.Value) error {
	switch rv.Kind() {
	case reflect.Pointer:
		if !rv.IsNil() {
			return v.sanitize(rv.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range rv.Len() {
			if err := v.sanitize(rv.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := rv.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			fv := rv.Field(i)
			tag := f.Tag.Get("sanitize")
			if tag == "" {
				if err := v.sanitize(fv); err != nil {
					return err
				}
				continue
			}
			var policy *bluemonday.Policy
			switch tag {
			case "strict":
				policy = v.strict
			case "ugc":
				policy = v.ugc
			default:
				return fmt.Errorf("validate: field %s: sanitize %q is not strict or ugc", f.Name, tag)
			}
			switch {
			case fv.Kind() == reflect.String:
				fv.SetString(policy.Sanitize(fv.String()))
			case fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.String:
				if !fv.IsNil() {
					fv.Elem().SetString(policy.Sanitize(fv.Elem().String()))
				}
			default:
				return fmt.Errorf("validate: field %s: sanitize applies to strings, not %v", f.Name, fv.Type())
			}
		}
	}
	return nil
}

// jsonPath turns validator's "signup.address.lines[0]" into
// "address.lines[0]".
func jsonPath(namespace string) string {
	if _, rest, ok := strings.Cut(namespace, "."); ok {
		return rest
	}
	return namespace
}

// message says what a rule wants, in words.
func message(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "email":
		return "must be an email address"
	case "url", "http_url":
		return "must be a URL"
	case "uuid", "uuid4":
		return "must be a UUID"
	case "oneof":
		return "must be one of: " + fe.Param()
	case "min", "gte":
		if fe.Kind() == reflect.String || fe.Kind() == reflect.Slice || fe.Kind() == reflect.Map {
			return "must have at least " + fe.Param() + " characters or items"
		}
		return "must be at least " + fe.Param()
	case "max", "lte":
		if fe.Kind() == reflect.String || fe.Kind() == reflect.Slice || fe.Kind() == reflect.Map {
			return "must have at most " + fe.Param() + " characters or items"
		}
		return "must be at most " + fe.Param()
	case "len":
		return "must have exactly " + fe.Param() + " characters or items"
	}
	if fe.Param() != "" {
		return fmt.Sprintf("fails %s=%s", fe.Tag(), fe.Param())
	}
	return "fails " + fe.Tag()
}
