// Package postgres is the ORM's PostgreSQL dialect, natively on pgx v5
// rather than database/sql: a pgxpool per server with pgx's statement
// cache, COPY for bulk loads, and PostgreSQL's errors classified by
// SQLSTATE into the orm error kinds.
//
// New opens the primary and any read replicas and returns the orm.DB; reads
// outside transactions go to the replicas in turn, everything else to the
// primary:
//
//	db, err := postgres.New(ctx, postgres.Config{
//		DSN:      "postgres://app@db1:5432/app?sslmode=verify-full",
//		Replicas: []string{"postgres://app@db2:5432/app?sslmode=verify-full"},
//		MaxConns: 20,
//	})
//	if err != nil {
//		return fmt.Errorf("opening the database: %w", err)
//	}
//	defer db.Close()
//
//	u, err := orm.Get[User](ctx, db, 42)
//	switch {
//	case orm.IsNotFound(err): // …
//	case err != nil: // …
//	}
//
// A program that configures its own pgxpool uses NewPool and orm.New with
// Dialect{} instead.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/covetpy/covet/backend/orm"
)

// DefaultConnectTimeout bounds opening a pool when Config.ConnectTimeout
// is zero.
const DefaultConnectTimeout = 5 * time.Second

// Config opens a primary and its read replicas. The pool settings apply to
// every pool; zero leaves the DSN's setting (pool_max_conns=…) or
// pgxpool's default.
type Config struct {
	// DSN is the primary's URL (postgres://…) or keyword/value connection
	// string.
	DSN string
	// Replicas are the read replicas' DSNs.
	Replicas []string
	// MaxConns bounds each pool (pgxpool's default: the larger of 4 and
	// the number of CPUs). MinConns keeps that many connections open.
	MaxConns, MinConns int32
	// MaxConnLifetime, MaxConnIdleTime and HealthCheckPeriod are pgxpool's
	// (defaults 1h, 30m and 1m).
	MaxConnLifetime, MaxConnIdleTime, HealthCheckPeriod time.Duration
	// ConnectTimeout bounds each connection attempt, and opening and
	// pinging each pool in New. Default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Tracer receives an event for every statement; see orm.Tracer.
	Tracer orm.Tracer
}

// Validate reports the first invalid field of c.
func (c Config) Validate() error {
	if c.DSN == "" {
		return errors.New("postgres: DSN is empty")
	}
	for i, r := range c.Replicas {
		if r == "" {
			return fmt.Errorf("postgres: Replicas[%d] is empty", i)
		}
	}
	switch {
	case c.MaxConns < 0:
		return fmt.Errorf("postgres: MaxConns %d is negative", c.MaxConns)
	case c.MinConns < 0:
		return fmt.Errorf("postgres: MinConns %d is negative", c.MinConns)
	case c.MaxConns > 0 && c.MinConns > c.MaxConns:
		return fmt.Errorf("postgres: MinConns %d is more than MaxConns %d", c.MinConns, c.MaxConns)
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"MaxConnLifetime", c.MaxConnLifetime},
		{"MaxConnIdleTime", c.MaxConnIdleTime},
		{"HealthCheckPeriod", c.HealthCheckPeriod},
		{"ConnectTimeout", c.ConnectTimeout},
	} {
		if d.d < 0 {
			return fmt.Errorf("postgres: %s %v is negative", d.name, d.d)
		}
	}
	return nil
}

// New connects to the primary and every replica, pings each, and returns
// the DB over them. Errors name the DSN that failed (DSN, Replicas[i])
// and never show a password; on any failure the pools already opened are
// closed.
func New(ctx context.Context, cfg Config) (*orm.DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	primary, err := openPool(ctx, cfg, "DSN", cfg.DSN)
	if err != nil {
		return nil, err
	}
	opened := []*Pool{primary}
	closeAll := func() {
		for _, p := range opened {
			p.Close()
		}
	}
	replicas := make([]orm.Pool, 0, len(cfg.Replicas))
	for i, dsn := range cfg.Replicas {
		r, err := openPool(ctx, cfg, fmt.Sprintf("Replicas[%d]", i), dsn)
		if err != nil {
			closeAll()
			return nil, err
		}
		opened = append(opened, r)
		replicas = append(replicas, r)
	}
	db, err := orm.New(orm.Config{Dialect: Dialect{}, Primary: primary, Replicas: replicas, Tracer: cfg.Tracer})
	if err != nil {
		closeAll()
		return nil, err
	}
	return db, nil
}

// openPool parses dsn, applies cfg's pool settings, connects and pings.
// field names the DSN in errors.
func openPool(ctx context.Context, cfg Config, field, dsn string) (*Pool, error) {
	secrets := passwords(dsn)
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// Not wrapped: pgconn.ParseConfigError carries the raw DSN.
		return nil, fmt.Errorf("postgres: %s: %s", field, parseError(dsn, secrets))
	}
	if pw := pc.ConnConfig.Password; pw != "" {
		secrets = append(secrets, pw) // also from PGPASSWORD or a passfile
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	if cfg.MinConns > 0 {
		pc.MinConns = cfg.MinConns
	}
	if pc.MinConns > pc.MaxConns {
		return nil, fmt.Errorf("postgres: %s: MinConns %d is more than MaxConns %d", field, pc.MinConns, pc.MaxConns)
	}
	if cfg.MaxConnLifetime > 0 {
		pc.MaxConnLifetime = cfg.MaxConnLifetime
	}
	if cfg.MaxConnIdleTime > 0 {
		pc.MaxConnIdleTime = cfg.MaxConnIdleTime
	}
	if cfg.HealthCheckPeriod > 0 {
		pc.HealthCheckPeriod = cfg.HealthCheckPeriod
	}
	timeout := cfg.ConnectTimeout
	if timeout == 0 {
		timeout = DefaultConnectTimeout
	}
	if pc.ConnConfig.ConnectTimeout == 0 || pc.ConnConfig.ConnectTimeout > timeout {
		pc.ConnConfig.ConnectTimeout = timeout
	}
	where := fmt.Sprintf("%s:%d/%s", pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.Database)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: opening %s: %w", field, where, &redactedError{err, secrets})
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %s: connecting to %s: %w", field, where, &redactedError{err, secrets})
	}
	return &Pool{pool: pool}, nil
}

// redactedError is a connection error whose message has the passwords
// masked; it unwraps to the driver's error so that errors.Is and errors.As
// still see a deadline or the server's *pgconn.PgError.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string { return redact(e.err.Error(), e.secrets) }
func (e *redactedError) Unwrap() error { return e.err }

// parseError describes why dsn does not parse without showing its
// passwords. pgconn's own message masks them only on a best-effort basis,
// so the message is that of the DSN with the passwords already masked; if
// that one parses, the password itself was malformed.
func parseError(dsn string, secrets []string) string {
	masked := redact(dsn, secrets)
	if _, err := pgxpool.ParseConfig(masked); err != nil {
		return redact(err.Error(), secrets)
	}
	return "cannot parse the DSN: its password is malformed"
}

// redact masks every occurrence of each secret, longest first, in the
// spellings a DSN or a message can give it.
func redact(s string, secrets []string) string {
	var forms []string
	for _, sec := range secrets {
		if sec != "" {
			forms = append(forms, sec, url.PathEscape(sec), url.QueryEscape(sec), url.UserPassword("", sec).String()[1:])
		}
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range slices.Compact(forms) {
		if f != "" {
			s = strings.ReplaceAll(s, f, "xxxxx")
		}
	}
	return s
}

// keywordPassword finds the values of password and sslpassword in a
// keyword/value connection string as pgconn reads them: single-quoted, or
// a run of non-spaces, either with backslash escapes. Read only.
var keywordPassword = regexp.MustCompile(`(?s)(?:^|\s)(?:ssl)?password\s*=\s*('(?:\\.|[^'\\])*(?:'|\\?$)|(?:\\.|[^\s\\])*\\?)`)

// keywordEscape is a backslash escape in a keyword/value string. Read only.
var keywordEscape = regexp.MustCompile(`(?s)\\(.)`)

// passwords returns what may be a password in dsn, both as written and
// decoded: the user info's password and the password and sslpassword
// parameters of a URL (for a malformed URL, every plausible reading), or
// the password and sslpassword values of a keyword/value string.
func passwords(dsn string) []string {
	var out []string
	add := func(raw string, decode func(string) (string, error)) {
		out = append(out, raw)
		if d, err := decode(raw); err == nil {
			out = append(out, d)
		}
	}
	// A DSN pgconn reads one way may have been meant the other way, so
	// both readings contribute.
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		// The user info ends at the first '@' or the last; take both.
		for _, at := range []int{strings.Index(rest, "@"), strings.LastIndex(rest, "@")} {
			if at < 0 {
				continue
			}
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				add(pw, url.PathUnescape)
			}
		}
		if _, query, ok := strings.Cut(rest, "?"); ok {
			for kv := range strings.SplitSeq(query, "&") {
				k, v, _ := strings.Cut(kv, "=")
				if k, err := url.QueryUnescape(k); err != nil || k == "password" || k == "sslpassword" {
					add(v, url.QueryUnescape)
				}
			}
		}
		if u, err := url.Parse(dsn); err == nil {
			if pw, ok := u.User.Password(); ok {
				out = append(out, pw)
			}
		}
	}
	for _, m := range keywordPassword.FindAllStringSubmatch(dsn, -1) {
		v := m[1]
		out = append(out, v)
		if strings.HasPrefix(v, "'") {
			v = strings.TrimSuffix(v[1:], "'")
		}
		out = append(out, keywordEscape.ReplaceAllString(v, "$1"))
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}
