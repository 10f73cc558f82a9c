package assemble

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/router"
	"github.com/covetpy/covet/embedded-server/internal/config"
)

// mockHandler answers with m's status, headers and body. Each {name} in the
// body that names a parameter of the route's path is filled in with the
// request's value, escaped for the body's type (see mockEscaper); other
// text in braces is sent as written. A templated body without a configured
// Content-Type gets the type net/http would sniff from the configured body,
// fixed when the route is built, so no parameter can change it. A body the
// parameters would fill past MaxMockBodyBytes is refused with a 414.
func mockHandler(m *config.Mock, path string) http.Handler {
	params := router.ParamNames(path)
	literals, refs := config.SplitParams(m.Body, func(name string) bool { return slices.Contains(params, name) })
	headers := maps.Clone(m.Headers)
	var escape func(string) string
	if len(refs) > 0 {
		contentType, ok := "", false
		for k, v := range headers {
			if http.CanonicalHeaderKey(k) == "Content-Type" {
				contentType, ok = v, true
			}
		}
		if !ok {
			contentType = http.DetectContentType([]byte(m.Body))
			if headers == nil {
				headers = map[string]string{}
			}
			headers["Content-Type"] = contentType
		}
		escape = mockEscaper(contentType)
	}
	body := []byte(m.Body)
	delay := m.Delay.Std()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return // the client left; nobody reads an answer
			}
		}
		body := body
		if len(refs) > 0 {
			var err error
			if body, err = fillMock(literals, refs, r, escape); err != nil {
				problem.Write(w, problem.New(http.StatusRequestURITooLong, err.Error()))
				return
			}
		}
		h := w.Header()
		for k, v := range headers {
			h.Set(k, v)
		}
		if r.Method == http.MethodHead {
			// The headers a GET would get, Content-Length included.
			h.Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(m.Status)
			return
		}
		w.WriteHeader(m.Status)
		_, _ = w.Write(body)
	})
}

// fillMock joins literals with the request's values of the parameters refs
// names, escaped by escape (nil sends them as they are).
func fillMock(literals, refs []string, r *http.Request, escape func(string) string) ([]byte, error) {
	values := make([]string, len(refs))
	n := len(literals[len(refs)])
	for i, name := range refs {
		if values[i] = r.PathValue(name); escape != nil {
			values[i] = escape(values[i])
		}
		if n += len(literals[i]) + len(values[i]); n > config.MaxMockBodyBytes {
			return nil, fmt.Errorf("the path's parameters would make the mock's body more than %d bytes", config.MaxMockBodyBytes)
		}
	}
	b := make([]byte, 0, n)
	for i, v := range values {
		b = append(append(b, literals[i]...), v...)
	}
	return append(b, literals[len(refs)]...), nil
}

// mockEscaper returns how a parameter is escaped in a body of contentType:
// as the inside of a JSON string for JSON, with HTML escapes for HTML and
// XML (so a path cannot inject markup into a page), and not at all (nil)
// for any other type.
func mockEscaper(contentType string) func(string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return func(s string) string {
			b, _ := json.Marshal(s) // a string always marshals
			return string(b[1 : len(b)-1])
		}
	case mt == "text/html" || mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml"):
		return html.EscapeString
	}
	return nil
}

// redirectHandler sends clients to rd.To with the route's parameters filled
// in (escaped) and the request's query string kept when To has none.
func redirectHandler(rd *config.Redirect) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := config.ExpandParams(rd.To, redirectValue(r))
		if r.URL.RawQuery != "" && !strings.Contains(to, "?") {
			to += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, to, rd.Status)
	})
}

// redirectValue escapes the parameters of r for a redirect's Location: a
// catch-all keeps its slashes (/old/{p...} to /new/{p} moves a/b to
// /new/a/b), but a value with an empty segment has them escaped too, so
// that no value can make the Location start with "//", another host.
func redirectValue(r *http.Request) func(name string) string {
	return func(name string) string {
		v := r.PathValue(name)
		if strings.HasPrefix(v, "/") || strings.Contains(v, "//") { // an empty segment
			return url.PathEscape(v)
		}
		return router.EscapeValue(v)
	}
}

// staticHandler serves files of dir (inside project) for the catch-all
// parameter param. The folder is opened as an os.Root, so no name — "..",
// encoded or not, or a symbolic link — reaches outside it. Folders are
// served by their index file or not at all: never as a listing.
func staticHandler(project string, st *config.Static, param string) (http.Handler, error) {
	root, err := os.OpenRoot(filepath.Join(project, st.Dir))
	if err != nil {
		return nil, err
	}
	files := root.FS()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Write(w, problem.New(http.StatusMethodNotAllowed, "static files answer GET and HEAD"))
			return
		}
		name := r.PathValue(param)
		if strings.ContainsAny(name, "\x00\\") {
			problem.Write(w, problem.New(http.StatusNotFound, "no such file"))
			return
		}
		name = strings.TrimPrefix(path.Clean("/"+name), "/")
		if name == "" {
			name = "."
		}
		f, info, err := openFile(files, name)
		if err == nil && info.IsDir() {
			f.Close()
			if name != "." && !strings.HasSuffix(r.URL.Path, "/") {
				// As http.FileServer does: the index's relative links
				// resolve against the folder only with its slash.
				to := url.URL{Path: r.URL.Path + "/", RawQuery: r.URL.RawQuery}
				http.Redirect(w, r, to.String(), http.StatusMovedPermanently)
				return
			}
			f, info, err = openFile(files, path.Join(name, st.Index))
		}
		if err != nil || info.IsDir() {
			if f != nil {
				f.Close()
			}
			problem.Write(w, problem.New(http.StatusNotFound, "no such file"))
			return
		}
		defer f.Close()
		w.Header().Set("ETag", `W/"`+strconv.FormatInt(info.Size(), 36)+"-"+strconv.FormatInt(info.ModTime().UnixNano(), 36)+`"`)
		http.ServeContent(w, r, info.Name(), info.ModTime(), f.(readSeeker))
	}), nil
}

type readSeeker interface {
	fs.File
	Seek(offset int64, whence int) (int64, error)
	Read(p []byte) (int, error)
}

func openFile(files fs.FS, name string) (fs.File, fs.FileInfo, error) {
	f, err := files.Open(name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if _, ok := f.(readSeeker); !ok {
		f.Close()
		return nil, nil, fmt.Errorf("%s: not seekable", name)
	}
	return f, info, nil
}

// catchAllName returns the name of the final {name...} parameter of path.
func catchAllName(p string) string {
	i := strings.LastIndex(p, "{")
	return strings.TrimSuffix(p[i+1:], "...}")
}

// proxyHandler forwards requests to px.Upstream through transport, with
// X-Forwarded-For/-Host/-Proto set, the path rewritten (or the prefix
// stripped) and the header rules applied both ways. An unreachable or slow upstream is a 502 or 504
// problem+json.
func proxyHandler(px *config.Proxy, transport http.RoundTripper) http.Handler {
	upstream, _ := url.Parse(px.Upstream) // validated
	rp := &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			if px.Rewrite != "" {
				to, _ := url.Parse(config.ExpandParams(px.Rewrite, func(name string) string { return router.EscapeValue(pr.In.PathValue(name)) }))
				pr.Out.URL.Path, pr.Out.URL.RawPath = to.Path, to.RawPath
			} else {
				pr.Out.URL.Path = strings.TrimPrefix(pr.Out.URL.Path, px.StripPrefix)
				pr.Out.URL.RawPath = ""
				if !strings.HasPrefix(pr.Out.URL.Path, "/") {
					pr.Out.URL.Path = "/" + pr.Out.URL.Path
				}
			}
			pr.SetURL(upstream)
			pr.SetXForwarded()
			applyHeaderRules(pr.Out.Header, px.SetHeaders)
		},
		ModifyResponse: func(resp *http.Response) error {
			applyHeaderRules(resp.Header, px.ResponseHeaders)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if d := problem.BodyTooLarge(err); d != nil { // the route's bodyLimit, on a body without a length
				problem.Write(w, d)
				return
			}
			if errors.Is(err, context.DeadlineExceeded) {
				problem.Write(w, problem.New(http.StatusGatewayTimeout, "the upstream did not answer within "+px.Timeout.Std().String()))
				return
			}
			problem.Write(w, problem.New(http.StatusBadGateway, "the upstream "+upstream.Host+" could not be reached"))
		},
	}
	timeout := px.Timeout.Std()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		rp.ServeHTTP(w, r.WithContext(ctx))
	})
}

// applyHeaderRules sets each header of rules on h; an empty value
// removes it.
func applyHeaderRules(h http.Header, rules map[string]string) {
	for k, v := range rules {
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
	}
}
