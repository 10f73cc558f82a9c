package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/explain"
	"github.com/covetpy/covet/backend/orm/inspect"
	"github.com/covetpy/covet/backend/problem"
)

// Database is the data layer as the studio sees it.
type Database interface {
	// Status reports the connection, the pools and the dialect.
	Status(ctx context.Context) DatabaseStatus
	// QueryStats summarises executed statements by fingerprint.
	QueryStats() []inspect.Stat
	// ResetQueryStats forgets them.
	ResetQueryStats()
	// Explain returns a statement's plan; with analyze the statement runs
	// inside a transaction that is rolled back.
	Explain(ctx context.Context, sql string, args []any, analyze bool) (*explain.Plan, error)
	// Console runs one statement and returns up to MaxConsoleRows rows;
	// unless write is set only reads are allowed.
	Console(ctx context.Context, sql string, args []any, write bool) (*orm.ResultSet, error)
}

// DatabaseStatus is GET /_covet/api/database.
type DatabaseStatus struct {
	Dialect string `json:"dialect"`
	// DSN is the primary's, with any password removed.
	DSN   string       `json:"dsn"`
	Pools []PoolStatus `json:"pools"`
	// Error says why the primary did not answer a ping; empty when it did.
	Error             string  `json:"error,omitempty"`
	PingMs            float64 `json:"pingMs"`
	SlowQueryMs       float64 `json:"slowQueryMs"`
	NPlusOneThreshold int     `json:"nPlusOneThreshold"`
}

// PoolStatus is one connection pool: the primary or a replica.
type PoolStatus struct {
	Name string `json:"name"`
	orm.PoolStats
}

// Limits of the query endpoints.
const (
	DefaultQueries  = 100     // GET /queries without limit
	MaxQueries      = 1000    // the most GET /queries returns (and the server keeps)
	MaxConsoleRows  = 1000    // rows the SQL console returns
	MaxSQLBodyBytes = 1 << 20 // request bodies of explain and the console
)

// SQLRequest is the body of POST /queries/explain and POST /sql.
type SQLRequest struct {
	SQL  string `json:"sql"`
	Args []any  `json:"args"`
	// Analyze runs the statement (explain only), in a transaction that is
	// rolled back.
	Analyze bool `json:"analyze,omitempty"`
	// Write allows statements that change data (console only).
	Write bool `json:"write,omitempty"`
}

func (a *API) handleQueries(w http.ResponseWriter, r *http.Request) {
	limit := DefaultQueries
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxQueries {
			problem.Write(w, problem.New(http.StatusBadRequest, fmt.Sprintf("limit: %q is not a number from 1 to %d", s, MaxQueries)))
			return
		}
		limit = n
	}
	recent := a.hub.Recent(EventQuery, limit) // newest first
	out := make([]*inspect.Query, 0, len(recent))
	for _, ev := range recent {
		if q, ok := ev.Data.(*inspect.Query); ok {
			out = append(out, q)
		}
	}
	writeJSON(w, out)
}

func (a *API) handleExplain(w http.ResponseWriter, r *http.Request) {
	req, err := readSQLRequest(w, r)
	if err != nil {
		problem.Write(w, err)
		return
	}
	plan, err := a.database.Explain(r.Context(), req.SQL, req.Args, req.Analyze)
	if err != nil {
		problem.Write(w, problem.New(http.StatusUnprocessableEntity, err.Error()))
		return
	}
	writeJSON(w, plan)
}

func (a *API) handleConsole(w http.ResponseWriter, r *http.Request) {
	req, err := readSQLRequest(w, r)
	if err != nil {
		problem.Write(w, err)
		return
	}
	rs, err := a.database.Console(r.Context(), req.SQL, req.Args, req.Write)
	if err != nil {
		problem.Write(w, problem.New(http.StatusUnprocessableEntity, err.Error()))
		return
	}
	writeJSON(w, rs)
}

// readSQLRequest decodes a SQLRequest; whole JSON numbers become int64 so
// that they bind to integer columns.
func readSQLRequest(w http.ResponseWriter, r *http.Request) (*SQLRequest, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxSQLBodyBytes))
	if d := problem.BodyTooLarge(err); d != nil {
		return nil, d
	}
	if err != nil {
		return nil, problem.New(http.StatusBadRequest, "reading the body: "+err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var req SQLRequest
	if err := dec.Decode(&req); err != nil {
		return nil, problem.New(http.StatusBadRequest, "the body must be {\"sql\": …, \"args\": […]}: "+err.Error())
	}
	if strings.TrimSpace(req.SQL) == "" {
		p := problem.New(http.StatusBadRequest, "sql is empty")
		p.Errors = []problem.FieldError{{Path: "sql", Message: "is required"}}
		return nil, p
	}
	for i, v := range req.Args {
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				req.Args[i] = n
			} else if f, err := x.Float64(); err == nil {
				req.Args[i] = f
			}
		case map[string]any, []any:
			p := problem.New(http.StatusBadRequest, "arguments must be strings, numbers, booleans or null")
			p.Errors = []problem.FieldError{{Path: fmt.Sprintf("args[%d]", i), Message: "is an object or array"}}
			return nil, p
		}
	}
	return &req, nil
}
