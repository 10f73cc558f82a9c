package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/covetpy/covet/backend/orm/dialect/postgres"
	"github.com/covetpy/covet/backend/resource"
)

// The resource workload (scripts/bench resource): GET /users/{id} read from
// PostgreSQL and written as JSON, by a covet resource and by a hand-written
// pgx + net/http handler, over the same table of Users rows.

// Schema is the PostgreSQL schema the resource workload owns: SetupUsers
// drops and recreates it.
const Schema = "covet_bench_http"

// Users is how many rows SetupUsers seeds, with ids 1..Users.
const Users = 1000

// MaxConns bounds the connection pool of both resource contenders, the
// same for both (pgxpool's default on a process pinned to one core).
const MaxConns = 4

// UsersDefinition is the resource both contenders serve; its table is
// created by covet (resource.Ensure) for both.
var UsersDefinition = resource.Definition{Name: "users", Table: "users", Fields: []resource.Field{
	{Name: "name", Type: resource.TypeString, Required: true, MaxLength: 100},
	{Name: "email", Type: resource.TypeString, Required: true, Unique: true},
	{Name: "age", Type: resource.TypeInt},
}}

// DBContender is a contender of the resource workload: it needs PostgreSQL.
type DBContender struct {
	Name string // the -impl flag of cmd/e2eserver
	Desc string // what it runs, for docs/BENCHMARKS.md
	// Build returns the handler over the schema SetupUsers filled (dsn is
	// the base DSN, without the schema) and a function that closes its pool.
	Build func(ctx context.Context, dsn string) (http.Handler, func(), error)
}

// DBContenders in the order the benchmark runs them.
var DBContenders = []DBContender{
	{"pgx-raw", "net/http ServeMux, GET /users/{id}: pgxpool QueryRow by id, encoding/json", buildPgxRaw},
	{"covet-resource", "resource.New(db, users).Item() on a ServeMux, over covet's PostgreSQL dialect", buildCovetResource},
}

// LookupDB returns the resource contender called name.
func LookupDB(name string) (DBContender, bool) {
	for _, c := range DBContenders {
		if c.Name == name {
			return c, true
		}
	}
	return DBContender{}, false
}

// SchemaDSN is dsn with the workload's schema as search_path and
// application_name covet-bench-http (so that scripts/bench can find the
// server's PostgreSQL backends). dsn is a URL or a key=value string.
func SchemaDSN(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "search_path=" + Schema + "&application_name=covet-bench-http"
	}
	return dsn + " search_path=" + Schema + " application_name=covet-bench-http"
}

// SetupUsers drops and recreates the schema, creates the users table with
// covet's resource.Ensure and seeds Users rows (ids 1..Users) by COPY.
func SetupUsers(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("setting up %s: %w", Schema, err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{"DROP SCHEMA IF EXISTS " + Schema + " CASCADE", "CREATE SCHEMA " + Schema} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("setting up %s: %w", Schema, err)
		}
	}
	db, err := postgres.New(ctx, postgres.Config{DSN: SchemaDSN(dsn), MaxConns: 1})
	if err != nil {
		return fmt.Errorf("setting up %s: %w", Schema, err)
	}
	defer db.Close()
	res, err := resource.New(db, UsersDefinition)
	if err != nil {
		return err
	}
	if _, err := res.Ensure(ctx); err != nil {
		return fmt.Errorf("setting up %s: %w", Schema, err)
	}
	rows := make([][]any, Users)
	for i := range rows {
		n := i + 1
		rows[i] = []any{int64(n), fmt.Sprintf("user %d", n), fmt.Sprintf("user%d@example.com", n), int64(20 + n%50)}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{Schema, "users"}, []string{"id", "name", "email", "age"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("seeding %s.users: %w", Schema, err)
	}
	// The identity column must continue after the ids given explicitly.
	if _, err := conn.Exec(ctx, "SELECT setval(pg_get_serial_sequence('"+Schema+".users', 'id'), $1)", Users); err != nil {
		return fmt.Errorf("seeding %s.users: %w", Schema, err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE "+Schema+".users"); err != nil {
		return fmt.Errorf("seeding %s.users: %w", Schema, err)
	}
	return nil
}

// DropUsers drops the workload's schema.
func DropUsers(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+Schema+" CASCADE")
	return err
}

// pgUser is a users row as pgx-raw writes it: the same keys, in the same
// (sorted) order, as the map covet's resource writes, so the bodies match.
type pgUser struct {
	Age   *int64 `json:"age"`
	Email string `json:"email"`
	ID    int64  `json:"id"`
	Name  string `json:"name"`
}

func buildPgxRaw(ctx context.Context, dsn string) (http.Handler, func(), error) {
	cfg, err := pgxpool.ParseConfig(SchemaDSN(dsn))
	if err != nil {
		return nil, nil, err
	}
	cfg.MaxConns = MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		var u pgUser
		err = pool.QueryRow(r.Context(), `SELECT id, name, email, age FROM users WHERE id = $1`, id).Scan(&u.ID, &u.Name, &u.Email, &u.Age)
		if errors.Is(err, pgx.ErrNoRows) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		b, err := json.Marshal(u)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(b, '\n'))
	})
	return mux, pool.Close, nil
}

func buildCovetResource(ctx context.Context, dsn string) (http.Handler, func(), error) {
	db, err := postgres.New(ctx, postgres.Config{DSN: SchemaDSN(dsn), MaxConns: MaxConns})
	if err != nil {
		return nil, nil, err
	}
	closeDB := func() { _ = db.Close() }
	res, err := resource.New(db, UsersDefinition)
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	if _, err := res.Ensure(ctx); err != nil {
		closeDB()
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/users", res.Collection())
	mux.Handle("/users/{id}", res.Item())
	return mux, closeDB, nil
}
