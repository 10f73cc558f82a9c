package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/covetpy/covet/backend/backup"
	"github.com/covetpy/covet/backend/problem"
)

// Backups are the project's database backups. Restoring replaces the
// database under the server, so it is done with the server stopped
// (covet backup restore), not through the API.
type Backups interface {
	Overview() (*BackupsOverview, error)
	Create(ctx context.Context, encrypt bool) (*backup.Manifest, error)
	Verify(ctx context.Context, id string) (*backup.Report, error)
	Delete(id string) error
}

// BackupsOverview is GET /backups.
type BackupsOverview struct {
	// Supported is false when the database is not SQLite; Reason says why.
	Supported bool   `json:"supported"`
	Reason    string `json:"reason,omitempty"`
	// Database is the file that backups copy, relative to the project.
	Database string            `json:"database,omitempty"`
	Backups  []backup.Manifest `json:"backups"`
	// Incomplete lists folders that are not whole backups (interrupted).
	Incomplete []backup.Skipped `json:"incomplete"`
	// LastBackupAt is the newest backup's time; RPOSeconds how much
	// would be lost if the database were lost now (full backups only:
	// the time since the last one); both absent without backups.
	LastBackupAt *time.Time `json:"lastBackupAt,omitempty"`
	RPOSeconds   *float64   `json:"rpoSeconds,omitempty"`
}

// maxBackupBody bounds the body of POST /backups.
const maxBackupBody = 4 << 10

// BackupRequest is the body of POST /backups.
type BackupRequest struct {
	Encrypt bool `json:"encrypt,omitempty"`
}

func (a *API) mountBackups(api func(string, http.HandlerFunc)) {
	api("GET /_covet/api/backups", func(w http.ResponseWriter, r *http.Request) {
		o, err := a.backups.Overview()
		if err != nil {
			problem.Write(w, backupProblem(err))
			return
		}
		writeJSON(w, o)
	})
	api("POST /_covet/api/backups", func(w http.ResponseWriter, r *http.Request) {
		var req BackupRequest // an empty body backs up without encryption
		if r.ContentLength != 0 && !decodeBodyLimit(w, r, &req, maxBackupBody) {
			return
		}
		m, err := a.backups.Create(r.Context(), req.Encrypt)
		if err != nil {
			problem.Write(w, backupProblem(err))
			return
		}
		w.Header().Set("Location", "/_covet/api/backups/"+m.ID)
		writeJSONStatus(w, http.StatusCreated, m)
	})
	api("POST /_covet/api/backups/{id}/verify", func(w http.ResponseWriter, r *http.Request) {
		rep, err := a.backups.Verify(r.Context(), r.PathValue("id"))
		switch {
		case rep != nil && errors.Is(err, backup.ErrVerifyFailed):
			writeJSONStatus(w, http.StatusUnprocessableEntity, rep)
		case err != nil:
			problem.Write(w, backupProblem(err))
		default:
			writeJSON(w, rep)
		}
	})
	api("DELETE /_covet/api/backups/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := a.backups.Delete(r.PathValue("id")); err != nil {
			problem.Write(w, backupProblem(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func backupProblem(err error) *problem.Details {
	switch {
	case errors.Is(err, backup.ErrInvalidID):
		return problem.New(http.StatusBadRequest, err.Error())
	case errors.Is(err, backup.ErrNotFound), errors.Is(err, backup.ErrIncomplete):
		return problem.New(http.StatusNotFound, err.Error())
	case errors.Is(err, errors.ErrUnsupported):
		return problem.New(http.StatusNotImplemented, err.Error())
	default:
		return problem.New(http.StatusInternalServerError, err.Error())
	}
}
