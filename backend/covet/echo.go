package covet

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/router"
)

// EchoReply is what Echo answers: the request as the handler saw it.
type EchoReply struct {
	Method    string              `json:"method"`
	Path      string              `json:"path"`
	Pattern   string              `json:"pattern"`
	Params    map[string]string   `json:"params"`
	Query     map[string][]string `json:"query"`
	Headers   map[string][]string `json:"headers"`
	Body      string              `json:"body"`
	Remote    string              `json:"remoteAddr"`
	RequestID string              `json:"requestId,omitempty"`
}

// Echo returns a handler that answers with the request it got as JSON
// (EchoReply): a development aid for trying routes, policies and proxies.
// Bodies over maxBody bytes get 413.
func Echo(maxBody int64) http.Handler {
	return problem.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if d := problem.BodyTooLarge(err); d != nil {
			return d
		}
		if err != nil {
			return problem.New(http.StatusBadRequest, "reading the body: "+err.Error())
		}
		reply := EchoReply{
			Method: r.Method, Path: r.URL.Path, Pattern: r.Pattern, Params: map[string]string{},
			Query: r.URL.Query(), Headers: r.Header, Body: string(body), Remote: r.RemoteAddr,
			RequestID: middleware.GetRequestID(r.Context()),
		}
		for _, name := range router.ParamNames(r.Pattern) {
			reply.Params[name] = r.PathValue(name)
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(reply)
	})
}
