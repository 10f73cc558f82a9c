package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/covetpy/covet/backend/migrate"
	"github.com/covetpy/covet/backend/problem"
	"github.com/covetpy/covet/backend/resource"
)

// Limits of the migration endpoints' bodies.
const (
	MaxMigrationBodyBytes = 4 << 10   // run and force
	MaxGenerateBodyBytes  = 256 << 10 // generate, which may carry resources
)

// Migrations is the project's schema migrations (covet_data's database,
// the files in the project's migrations folder, read again on every call).
type Migrations interface {
	MigrationStatus(ctx context.Context) (*migrate.Status, error)
	Migrate(ctx context.Context, req migrate.Request) (*migrate.Report, error)
	ForceMigration(ctx context.Context, version int64) error
	// GenerateMigration proposes (and with Write saves) the migration that
	// brings the database to the resources.
	GenerateMigration(ctx context.Context, req GenerateRequest) (*GeneratedMigration, error)
}

// GenerateRequest is the body of POST /migrations/generate.
type GenerateRequest struct {
	// Resources to generate for; none: the running configuration's. The
	// studio sends a configuration's resources that the server refused
	// because their tables need a migration first.
	Resources []resource.Definition `json:"resources,omitempty"`
	// Write saves the migration as the next NNNN_name.up.sql and
	// .down.sql; otherwise it is only proposed.
	Write bool   `json:"write,omitempty"`
	Name  string `json:"name,omitempty"`
}

// GeneratedMigration is the answer of POST /migrations/generate.
type GeneratedMigration struct {
	migrate.Draft
	// UpFile and DownFile are the files written, with Write.
	UpFile   string `json:"upFile,omitempty"`
	DownFile string `json:"downFile,omitempty"`
}

// ForceRequest is the body of POST /migrations/force.
type ForceRequest struct {
	Version int64 `json:"version"`
}

func (a *API) mountMigrations(api func(string, http.HandlerFunc)) {
	api("GET /_covet/api/migrations", func(w http.ResponseWriter, r *http.Request) {
		st, err := a.migrations.MigrationStatus(r.Context())
		if err != nil {
			problem.Write(w, migrationProblem(err))
			return
		}
		writeJSON(w, st)
	})
	api("POST /_covet/api/migrations/run", func(w http.ResponseWriter, r *http.Request) {
		var req migrate.Request
		if !decodeBodyLimit(w, r, &req, MaxMigrationBodyBytes) {
			return
		}
		rep, err := a.migrations.Migrate(r.Context(), req)
		if !req.DryRun && rep != nil {
			a.publishMigrations(r.Context())
		}
		if err != nil {
			problem.Write(w, migrationProblem(err))
			return
		}
		writeJSON(w, rep)
	})
	api("POST /_covet/api/migrations/force", func(w http.ResponseWriter, r *http.Request) {
		var req ForceRequest
		if !decodeBodyLimit(w, r, &req, MaxMigrationBodyBytes) {
			return
		}
		if err := a.migrations.ForceMigration(r.Context(), req.Version); err != nil {
			problem.Write(w, migrationProblem(err))
			return
		}
		a.publishMigrations(r.Context())
		st, err := a.migrations.MigrationStatus(r.Context())
		if err != nil {
			problem.Write(w, migrationProblem(err))
			return
		}
		writeJSON(w, st)
	})
	api("POST /_covet/api/migrations/generate", func(w http.ResponseWriter, r *http.Request) {
		var req GenerateRequest
		if !decodeBodyLimit(w, r, &req, MaxGenerateBodyBytes) {
			return
		}
		out, err := a.migrations.GenerateMigration(r.Context(), req)
		if err != nil {
			problem.Write(w, migrationProblem(err))
			return
		}
		if req.Write {
			a.publishMigrations(r.Context())
		}
		writeJSON(w, out)
	})
}

func (a *API) publishMigrations(ctx context.Context) {
	if st, err := a.migrations.MigrationStatus(context.WithoutCancel(ctx)); err == nil {
		a.hub.Publish(EventMigrationsChanged, st)
	}
}

// migrationProblem maps the migrator's errors: a request that makes no
// sense is 400; migration files with problems, a history or destructive
// statements that stop the run are 409, each problem listed (the linter's
// by file and line); a failed step is 422.
func migrationProblem(err error) *problem.Details {
	var req *migrate.RequestError
	var hist *migrate.HistoryError
	var lint *migrate.LintError
	var step *migrate.StepError
	var files *migrate.LoadError
	switch {
	case errors.As(err, &files):
		p := problem.New(http.StatusConflict, "the migration files have problems")
		for _, e := range files.Problems {
			p.Errors = append(p.Errors, problem.FieldError{Path: "migrations", Message: e.Error()})
		}
		return p
	case errors.As(err, &req):
		return problem.New(http.StatusBadRequest, err.Error())
	case errors.As(err, &lint):
		p := problem.New(http.StatusConflict, "destructive changes: run again with force to apply them")
		for _, s := range lint.Steps {
			for _, w := range s.Warnings {
				p.Errors = append(p.Errors, problem.FieldError{Path: fmt.Sprintf("%s:%d", s.File, w.Line), Message: w.Rule + ": " + w.Message})
			}
		}
		return p
	case errors.As(err, &hist):
		p := problem.New(http.StatusConflict, err.Error())
		for _, msg := range hist.Problems {
			p.Errors = append(p.Errors, problem.FieldError{Path: "history", Message: msg})
		}
		return p
	case errors.As(err, &step):
		return problem.New(http.StatusUnprocessableEntity, err.Error())
	default:
		return problem.New(http.StatusInternalServerError, err.Error())
	}
}
