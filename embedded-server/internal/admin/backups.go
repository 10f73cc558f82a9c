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
	// Restore replaces the running database's content with a backup's or
	// with its state at a moment, keeping the current content as a new
	// backup first.
	Restore(ctx context.Context, req RestoreRequest) (*backup.RestoreReport, error)
}

// BackupsOverview is GET /backups.
type BackupsOverview struct {
	// Supported is false when the database is not SQLite; Reason says why.
	Supported bool   `json:"supported"`
	Reason    string `json:"reason,omitempty"`
	// Database is the file that backups copy, relative to the project.
	Database string            `json:"database,omitempty"`
	Backups  []backup.Manifest `json:"backups"`
	// Verifications are the backups' last verifications, by ID (a backup
	// never verified has none).
	Verifications map[string]backup.Verification `json:"verifications"`
	// Incomplete lists folders that are not whole backups (interrupted).
	Incomplete []backup.Skipped `json:"incomplete"`
	// LastBackupAt is the newest backup's time; RPOSeconds how much
	// would be lost if the database were lost now (full backups only:
	// the time since the last one); both absent without backups.
	LastBackupAt *time.Time `json:"lastBackupAt,omitempty"`
	RPOSeconds   *float64   `json:"rpoSeconds,omitempty"`
	// Archive is the continuous archive of the write-ahead log, nil when
	// nothing is archived; with it, RPOSeconds is the age of the oldest
	// commit not archived yet (0 when every commit is).
	Archive *backup.ArchiveStatus `json:"archive,omitempty"`
	// Archives are the base backups, newest first, with how far each one's
	// archive reaches.
	Archives []backup.ArchiveInfo `json:"archives"`
	// Window is the span a point-in-time restore can reach, from the
	// oldest base to the newest archived moment; nil without a base.
	Window *RestoreWindow `json:"window,omitempty"`
	// Schedule is covet.json's backups section in force, defaults filled,
	// and what the scheduler did.
	Schedule BackupSchedule `json:"schedule"`
}

// RestoreWindow is a span of moments a point-in-time restore can reach.
type RestoreWindow struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
}

// BackupSchedule is when backups are made and how long they are kept.
type BackupSchedule struct {
	// Cron is the schedule of new base backups (5-field cron or @hourly,
	// @daily…); "off" makes none.
	Cron string `json:"cron"`
	// Keep and MaxAge are the retention applied at start and after each
	// scheduled backup: a backup is kept while either keeps it (MaxAge is
	// a Go duration, "24h0m0s").
	Keep   int    `json:"keep"`
	MaxAge string `json:"maxAge"`
	// Encrypt encrypts new backups with the key store's backup key.
	Encrypt bool `json:"encrypt"`
	// Next is when the next scheduled backup runs; nil when off.
	Next *time.Time `json:"next,omitempty"`
	// LastRun, LastError and LastPruned report the last scheduled run.
	LastRun    *time.Time `json:"lastRun,omitempty"`
	LastError  string     `json:"lastError,omitempty"`
	LastPruned []string   `json:"lastPruned,omitempty"`
}

// RestoreRequest is the body of POST /backups/restore: either a moment
// (point in time, through the archive) or a backup's ID.
type RestoreRequest struct {
	To     *time.Time `json:"to,omitempty"`
	ID     string     `json:"id,omitempty"`
	DryRun bool       `json:"dryRun,omitempty"`
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
		a.hub.Publish(EventBackupsChanged, nil)
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
		a.hub.Publish(EventBackupsChanged, nil)
		w.WriteHeader(http.StatusNoContent)
	})
	api("POST /_covet/api/backups/restore", func(w http.ResponseWriter, r *http.Request) {
		var req RestoreRequest
		if !decodeBodyLimit(w, r, &req, maxBackupBody) {
			return
		}
		if (req.To == nil) == (req.ID == "") {
			problem.Write(w, problem.New(http.StatusBadRequest, "give either to (an RFC 3339 time) or id (a backup's ID)"))
			return
		}
		rep, err := a.backups.Restore(r.Context(), req)
		switch {
		case rep != nil && errors.Is(err, backup.ErrVerifyFailed):
			writeJSONStatus(w, http.StatusUnprocessableEntity, rep)
		case err != nil:
			problem.Write(w, backupProblem(err))
		default:
			if rep.Restored {
				a.hub.Publish(EventBackupsChanged, nil)
				// The content replaced holds the migration history too.
				if a.migrations != nil {
					if st, err := a.migrations.MigrationStatus(r.Context()); err == nil {
						a.hub.Publish(EventMigrationsChanged, st)
					}
				}
			}
			writeJSON(w, rep)
		}
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
	case errors.Is(err, backup.ErrNotRestorable), errors.Is(err, backup.ErrInUse):
		return problem.New(http.StatusConflict, err.Error())
	default:
		return problem.New(http.StatusInternalServerError, err.Error())
	}
}
