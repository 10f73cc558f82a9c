// Package problem renders errors as RFC 9457 problem details
// (application/problem+json), the one error shape Covet puts on the wire.
//
// Handlers return errors; one adapter, HandlerFunc, renders them:
//
//	show := problem.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
//		u, ok := users[r.PathValue("id")]
//		if !ok {
//			return problem.New(http.StatusNotFound, "no user "+r.PathValue("id"))
//		}
//		return json.NewEncoder(w).Encode(u)
//	})
package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// Details is an RFC 9457 problem document. It is also an error, so handlers
// can return it and wrap it.
type Details struct {
	Type     string `json:"type,omitempty"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Errors lists per-field problems, each naming where the problem is.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError is one problem with one part of the input, named by Path (a
// JSON path such as "routes[2].path").
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// New returns a problem with the standard title for status and the given
// detail.
func New(status int, detail string) *Details {
	return &Details{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

func (d *Details) Error() string {
	if d.Detail != "" {
		return d.Title + ": " + d.Detail
	}
	return d.Title
}

// From converts any error into a problem: a *Details found with errors.As is
// used as it is, a body read stopped by http.MaxBytesReader is a 413
// (BodyTooLarge), and anything else becomes a 500 whose detail does not
// reveal the error's text, which may hold internals.
func From(err error) *Details {
	var d *Details
	if errors.As(err, &d) {
		return d
	}
	if d := BodyTooLarge(err); d != nil {
		return d
	}
	return New(http.StatusInternalServerError, "")
}

// BodyTooLarge returns the 413 for a body read that an http.MaxBytesReader
// stopped, naming the limit that was reached (a route's body limit may sit
// outside a handler's own), or nil when err is anything else.
func BodyTooLarge(err error) *Details {
	var tooBig *http.MaxBytesError
	if !errors.As(err, &tooBig) {
		return nil
	}
	return New(http.StatusRequestEntityTooLarge, "the body is more than the limit of "+strconv.FormatInt(tooBig.Limit, 10)+" bytes")
}

// Write renders err as problem+json with its status code.
func Write(w http.ResponseWriter, err error) {
	d := From(err)
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}

// HandlerFunc is a handler that returns an error. ServeHTTP renders a
// non-nil error with Write, so the handler must return it before writing
// anything itself; an error that is not a *Details becomes a 500 that
// reveals nothing.
type HandlerFunc func(http.ResponseWriter, *http.Request) error

// ServeHTTP calls f and renders its error.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		Write(w, err)
	}
}
