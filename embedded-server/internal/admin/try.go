package admin

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/covetpy/covet/backend/events"
	"github.com/covetpy/covet/backend/problem"
	"golang.org/x/net/http/httpguts"
)

// Limits of "Try it".
const (
	tryTimeout      = 30 * time.Second
	tryMaxRequest   = 1 << 20
	tryMaxResponse  = 1 << 20
	tryMaxHeaderLen = 64
	// tryEventWait bounds the wait for the request's own event after the
	// answer arrived (it is published as the handler returns).
	tryEventWait = 250 * time.Millisecond
	tryMaxEvents = 100
)

// TryRequest is a request the studio asks the server to send to itself.
type TryRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"` // with query string, e.g. /users/42?x=1
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// TryResponse is what the server answered.
type TryResponse struct {
	Status     int                 `json:"status"`
	Headers    map[string][]string `json:"headers"`
	Body       string              `json:"body"`
	Truncated  bool                `json:"truncated"` // the body was longer than 1 MiB
	Binary     bool                `json:"binary"`    // the body is not UTF-8 text and is not shown
	DurationMs float64             `json:"durationMs"`
	RequestID  string              `json:"requestId"`
	// Events are what the server published about this request (the
	// request itself; later also its queries and log lines), oldest first,
	// at most 100.
	Events []events.Event `json:"events"`
}

// handleTry sends a request to the server's own public listener over
// loopback, through every middleware, and reports the answer.
func (a *API) handleTry(w http.ResponseWriter, r *http.Request) {
	body, err := readLimited(w, r, tryMaxRequest)
	if err != nil {
		problem.Write(w, err)
		return
	}
	var tr TryRequest
	if err := json.Unmarshal(body, &tr); err != nil {
		problem.Write(w, problem.New(http.StatusBadRequest, "invalid JSON: "+err.Error()))
		return
	}
	switch {
	case !httpguts.ValidHeaderFieldName(tr.Method):
		problem.Write(w, problem.New(http.StatusBadRequest, "method: "+tr.Method+" is not an HTTP method"))
		return
	case !strings.HasPrefix(tr.Path, "/") || strings.HasPrefix(tr.Path, "//"):
		problem.Write(w, problem.New(http.StatusBadRequest, "path: must start with a single '/'"))
		return
	case strings.HasPrefix(tr.Path, Prefix):
		problem.Write(w, problem.New(http.StatusBadRequest, "path: the admin API cannot be tried"))
		return
	case len(tr.Headers) > tryMaxHeaderLen:
		problem.Write(w, problem.New(http.StatusBadRequest, "headers: at most 64"))
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), tr.Method, a.scheme+"://127.0.0.1:"+a.port+tr.Path, strings.NewReader(tr.Body))
	if err != nil {
		problem.Write(w, problem.New(http.StatusBadRequest, "path: "+err.Error()))
		return
	}
	for k, v := range tr.Headers {
		if !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
			problem.Write(w, problem.New(http.StatusBadRequest, "headers: "+k+" is not a valid header"))
			return
		}
		req.Header.Set(k, v)
	}
	// The server calls itself over loopback: its own certificate, perhaps
	// self-signed, is the one it presents.
	transport := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}
	client := &http.Client{Transport: transport, Timeout: tryTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	sub := a.hub.Subscribe()
	defer sub.Close()
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		problem.Write(w, problem.New(http.StatusBadGateway, "sending the request: "+err.Error()))
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, tryMaxResponse+1))
	elapsed := time.Since(start)
	if err != nil {
		problem.Write(w, problem.New(http.StatusBadGateway, "reading the answer: "+err.Error()))
		return
	}
	res := TryResponse{
		Status: resp.StatusCode, Headers: resp.Header, Truncated: len(out) > tryMaxResponse,
		DurationMs: float64(elapsed.Microseconds()) / 1000, RequestID: resp.Header.Get("X-Request-Id"),
	}
	res.Events = requestEvents(sub, res.RequestID)
	out = out[:min(len(out), tryMaxResponse)]
	if utf8.Valid(out) && !bytes.ContainsRune(out, 0) {
		res.Body = string(out)
	} else {
		res.Binary = true
	}
	writeJSON(w, res)
}

// requestEvents collects from sub the events of request id, waiting a
// little for the request's own event, which marks its end.
func requestEvents(sub *events.Subscription, id string) []events.Event {
	out := []events.Event{}
	if id == "" {
		return out
	}
	deadline := time.After(tryEventWait)
	var buf []events.Event
	for {
		buf, _ = sub.Drain(buf[:0])
		done := false
		for _, ev := range buf {
			if rs, ok := ev.Data.(requestScoped); ok && rs.RequestOf() == id && len(out) < tryMaxEvents {
				out = append(out, ev)
				done = done || ev.Type == EventRequest
			}
		}
		if done {
			return out
		}
		select {
		case <-sub.Ready():
		case <-deadline:
			return out
		}
	}
}
