package admin

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/embedded-server/internal/config"
)

// ConfigStore is what the config endpoints need from the server: the
// current document and a way to apply a new one. Errors it returns:
// config.Errors (400, every problem with its path), ErrPreconditionFailed
// (412), ErrNothingToUndo and *FileEditedError (409).
type ConfigStore interface {
	// Config returns the current document and its ETag.
	Config() (doc []byte, etag string)
	// ApplyConfig decodes, validates, compiles, saves and swaps in doc,
	// unless dryRun. ifMatch, when not empty, must be the current ETag.
	ApplyConfig(doc []byte, ifMatch, source string, dryRun bool) (ConfigChange, error)
	// ConfigHistory lists the applied versions, newest first.
	ConfigHistory() []ConfigVersion
	// UndoConfig brings back the version the current one replaced.
	UndoConfig(ifMatch string) (ConfigChange, error)
	// FileErrors are the problems of an edit of covet.json on disk that
	// was not applied; nil when the file holds what is served.
	FileErrors() []problem.FieldError
}

// FileEditedError refuses a write through the API while covet.json on
// disk holds an edit that was not applied: saving would overwrite it.
type FileEditedError struct {
	Errors []problem.FieldError // the edit's problems
}

func (e *FileEditedError) Error() string {
	return "covet.json on disk has an edit that was not applied; fix or revert it first, so that this change does not overwrite it"
}

// Errors a ConfigStore returns.
var (
	ErrPreconditionFailed = errors.New("the configuration changed since it was read (If-Match does not match its ETag)")
	ErrNothingToUndo      = errors.New("nothing to undo: the current version replaced none that is still in the history")
)

// handleConfig serves GET/PUT/PATCH/DELETE/POST /_covet/api/config[/path].
func (a *API) handleConfig(w http.ResponseWriter, r *http.Request) {
	path := config.SplitPath(r.PathValue("path"))
	doc, etag := a.config.Config()
	var body []byte
	if r.Method != http.MethodGet && r.Method != http.MethodDelete {
		var err error
		if body, err = readBody(w, r); err != nil {
			problem.Write(w, err)
			return
		}
	}
	out, err := config.Edit(doc, r.Method, path, body)
	if err != nil {
		writeEditError(w, err)
		return
	}
	if r.Method == http.MethodGet {
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(out)
		return
	}
	a.apply(w, out, r.Header.Get("If-Match"), false)
}

// handleValidate is a dry run: the body is a whole configuration.
func (a *API) handleValidate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		problem.Write(w, err)
		return
	}
	a.apply(w, body, "", true)
}

// handleConfigFile says whether covet.json on disk holds an edit that was
// not applied, and why: what a studio opened after the config.error event
// needs to know.
func (a *API) handleConfigFile(w http.ResponseWriter, r *http.Request) {
	errs := a.config.FileErrors()
	if errs == nil {
		errs = []problem.FieldError{}
	}
	writeJSON(w, ConfigError{Source: "file", Errors: errs})
}

func (a *API) handleHistory(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, a.config.ConfigHistory())
}

func (a *API) handleUndo(w http.ResponseWriter, r *http.Request) {
	change, err := a.config.UndoConfig(r.Header.Get("If-Match"))
	a.writeChange(w, change, err)
}

func (a *API) apply(w http.ResponseWriter, doc []byte, ifMatch string, dryRun bool) {
	change, err := a.config.ApplyConfig(doc, ifMatch, "api", dryRun)
	a.writeChange(w, change, err)
}

func (a *API) writeChange(w http.ResponseWriter, change ConfigChange, err error) {
	var errs config.Errors
	var edited *FileEditedError
	switch {
	case err == nil:
		w.Header().Set("ETag", change.ETag)
		writeJSON(w, change)
	case errors.As(err, &edited):
		p := problem.New(http.StatusConflict, err.Error())
		p.Errors = edited.Errors
		problem.Write(w, p)
	case errors.As(err, &errs):
		p := problem.New(http.StatusBadRequest, "the configuration is invalid; nothing was changed")
		p.Errors = errs
		problem.Write(w, p)
	case errors.Is(err, ErrPreconditionFailed):
		problem.Write(w, problem.New(http.StatusPreconditionFailed, err.Error()))
	case errors.Is(err, ErrNothingToUndo):
		problem.Write(w, problem.New(http.StatusConflict, err.Error()))
	default:
		a.log.Error("applying a configuration", "err", err)
		problem.Write(w, problem.New(http.StatusInternalServerError, "applying the configuration failed: "+err.Error()))
	}
}

func writeEditError(w http.ResponseWriter, err error) {
	var pe *config.PathError
	if errors.As(err, &pe) {
		status := http.StatusBadRequest
		if pe.NotFound {
			status = http.StatusNotFound
		}
		problem.Write(w, problem.New(status, pe.Error()))
		return
	}
	problem.Write(w, problem.New(http.StatusBadRequest, err.Error()))
}

// readBody reads a JSON request body of at most config.MaxSize bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readLimited(w, r, config.MaxSize)
}

// readLimited reads a JSON request body of at most limit bytes.
func readLimited(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, problem.New(http.StatusUnsupportedMediaType, "send the body as application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if d := problem.BodyTooLarge(err); d != nil {
		return nil, d
	}
	if err != nil {
		return nil, problem.New(http.StatusBadRequest, "reading the body: "+err.Error())
	}
	return body, nil
}
