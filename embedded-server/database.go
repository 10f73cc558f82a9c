package embeddedserver

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/events"
	"github.com/covetpy/covet/backend/middleware"
	"github.com/covetpy/covet/backend/migrate"
	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/orm/dialect"
	"github.com/covetpy/covet/backend/orm/dialect/sqlite"
	"github.com/covetpy/covet/backend/orm/explain"
	"github.com/covetpy/covet/backend/orm/inspect"
	"github.com/covetpy/covet/backend/resource"
	"github.com/covetpy/covet/embedded-server/internal/admin"
	"github.com/covetpy/covet/embedded-server/internal/config"
	"github.com/prometheus/client_golang/prometheus"
)

// database is the project's data layer: the ORM DB that resources and the
// program use, and the inspector that watches every statement.
type database struct {
	db         *orm.DB
	writer     *sqlite.WriterHooks // a SQLite primary's writer; nil otherwise
	conf       config.Database
	inspector  *inspect.Inspector
	migrations string // the project's migrations folder
	// config returns the running configuration (covet.json) and its ETag.
	config func() ([]byte, string)
}

var (
	_ admin.Database   = (*database)(nil)
	_ admin.Migrations = (*database)(nil)
)

// openDatabase opens the configured primary (and replicas, with the
// configured pool limits), relative paths below the project folder, and
// starts inspecting its statements: each one goes to the hub as a query
// event.
func openDatabase(ctx context.Context, conf config.Database, projectDir string, hub *events.Hub, log *slog.Logger) (*database, error) {
	var db *orm.DB
	var writer *sqlite.WriterHooks
	var err error
	if path, ok := config.SQLitePath(conf.Primary); ok {
		if !filepath.IsAbs(path) {
			path = filepath.Join(projectDir, path)
		}
		// Only the WAL archiver checkpoints (serverBackups starts it).
		writer = &sqlite.WriterHooks{ManualCheckpoints: true}
		db, err = sqlite.New(ctx, sqlite.Config{Path: path, Writer: writer})
	} else {
		p := conf.Pool
		db, err = dialect.New(ctx, dialect.Config{DSN: conf.Primary, Replicas: conf.Replicas,
			MaxConns: p.MaxConns, MinConns: p.MinConns, MaxConnLifetime: p.MaxConnLifetime.Std(), MaxConnIdleTime: p.MaxConnIdleTime.Std()})
	}
	if err != nil {
		return nil, err
	}
	ins := inspect.New(inspect.Config{
		SlowThreshold:     conf.SlowQuery.Std(),
		NPlusOneThreshold: conf.NPlusOneThreshold,
		Logger:            log,
		// Queries are kept even with nobody watching, so that the
		// inspector shows what ran before it opened.
		Publish: func(q *inspect.Query) { hub.Publish(admin.EventQuery, q) },
	})
	db.SetTracer(ins)
	return &database{db: db, writer: writer, conf: conf, inspector: ins, migrations: filepath.Join(projectDir, MigrationsDir)}, nil
}

// middleware attributes queries to the request that ran them: its id and
// the matched route pattern (the same as its request event's).
func (d *database) middleware() func(http.Handler) http.Handler {
	return d.inspector.Middleware(func(r *http.Request) inspect.RequestInfo {
		return inspect.RequestInfo{ID: middleware.GetRequestID(r.Context()), Route: r.Pattern}
	})
}

func (d *database) Status(ctx context.Context) admin.DatabaseStatus {
	st := admin.DatabaseStatus{Dialect: d.db.Dialect().Name(), DSN: redactDSN(d.conf.Primary),
		SlowQueryMs: float64(d.conf.SlowQuery.Std().Microseconds()) / 1000, NPlusOneThreshold: d.conf.NPlusOneThreshold}
	primary, replicas := d.db.Stats()
	st.Pools = append(st.Pools, admin.PoolStatus{Name: "primary", PoolStats: primary})
	for i, r := range replicas {
		st.Pools = append(st.Pools, admin.PoolStatus{Name: fmt.Sprintf("replica %d", i), PoolStats: r})
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := d.db.Ping(ctx); err != nil {
		st.Error = err.Error()
	}
	st.PingMs = float64(time.Since(start).Microseconds()) / 1000
	return st
}

// migrator reads the migration files again, so that the studio sees the
// ones written since the last call; the statements run through d.db and
// show in the Query Inspector.
func (d *database) migrator() (*migrate.Migrator, error) {
	ms, err := loadMigrations(d.migrations)
	if err != nil {
		return nil, err
	}
	return migrate.New(migrate.Config{DB: d.db, Migrations: ms})
}

func (d *database) MigrationStatus(ctx context.Context) (*migrate.Status, error) {
	m, err := d.migrator()
	if err != nil {
		return nil, err
	}
	return m.Status(ctx)
}

func (d *database) Migrate(ctx context.Context, req migrate.Request) (*migrate.Report, error) {
	m, err := d.migrator()
	if err != nil {
		return nil, err
	}
	return m.Run(ctx, req)
}

func (d *database) ForceMigration(ctx context.Context, version int64) error {
	m, err := d.migrator()
	if err != nil {
		return err
	}
	return m.Force(ctx, version)
}

func (d *database) GenerateMigration(ctx context.Context, req admin.GenerateRequest) (*admin.GeneratedMigration, error) {
	defs := req.Resources
	if defs == nil {
		doc, _ := d.config()
		var conf struct {
			Resources []resource.Definition `json:"resources"`
		}
		if err := json.Unmarshal(doc, &conf); err != nil {
			return nil, fmt.Errorf("reading the running configuration's resources: %w", err)
		}
		defs = conf.Resources
	}
	draft, err := generate(ctx, d.db, defs)
	if err != nil {
		return nil, err
	}
	out := &admin.GeneratedMigration{Draft: *draft}
	if req.Write {
		up, down, err := draft.Write(d.migrations, req.Name)
		if err != nil {
			return nil, err
		}
		out.UpFile, out.DownFile = filepath.Base(up), filepath.Base(down)
	}
	return out, nil
}

func (d *database) QueryStats() []inspect.Stat { return d.inspector.Stats() }
func (d *database) ResetQueryStats()           { d.inspector.ResetStats() }

func (d *database) Explain(ctx context.Context, sql string, args []any, analyze bool) (*explain.Plan, error) {
	if err := oneStatement(sql); err != nil {
		return nil, err
	}
	return explain.Run(ctx, d.db, sql, args, analyze)
}

// errReadOnlyDone ends the console's read-only transaction.
var errReadOnlyDone = errors.New("read-only statement done")

// Console runs one statement. A read runs in a read-only transaction that
// is rolled back, and only statements that start like a read are accepted,
// because MySQL commits implicitly before DDL even in a read-only
// transaction. Session locks a read took are released before the
// connection goes back to the pool; on MySQL, whose user variables
// (SELECT @n := 1) outlive any transaction and cannot all be cleared, the
// read's connection is closed instead, and its session with it.
func (d *database) Console(ctx context.Context, sql string, args []any, write bool) (*orm.ResultSet, error) {
	if err := oneStatement(sql); err != nil {
		return nil, err
	}
	if write {
		return orm.RunNative(ctx, d.db, sql, args, admin.MaxConsoleRows)
	}
	first := strings.ToUpper(strings.Fields(sql)[0])
	switch first {
	case "SELECT", "WITH", "EXPLAIN", "SHOW", "VALUES", "TABLE", "DESCRIBE", "DESC":
	default:
		return nil, fmt.Errorf("read-only mode runs SELECT, WITH, EXPLAIN, SHOW, VALUES, TABLE and DESCRIBE; %s needs write mode", first)
	}
	dialect := d.db.Dialect().Name()
	var rs *orm.ResultSet
	if dialect == "mysql" {
		err := orm.WithConn(ctx, d.db, func(c *orm.Conn) error {
			// Close the connection rather than pool it: an error from
			// Raw's function marks it bad.
			defer c.Raw(func(any) error { return driver.ErrBadConn })
			if _, err := orm.Exec(ctx, c, "START TRANSACTION READ ONLY"); err != nil {
				return err
			}
			var err error
			rs, err = orm.RunNative(ctx, c, sql, args, admin.MaxConsoleRows)
			return err
		})
		return rs, err
	}
	err := orm.WithTx(ctx, d.db, func(tx *orm.Tx) error {
		switch dialect {
		case "sqlite": // SQLite has no read-only transactions; query_only is per connection
			if _, err := orm.Exec(ctx, tx, "PRAGMA query_only = 1"); err != nil {
				return err
			}
			defer orm.Exec(context.WithoutCancel(ctx), tx, "PRAGMA query_only = 0")
		case "postgres":
			// A read can take a lock that outlives its transaction
			// (pg_advisory_lock) and would stay with the pooled
			// connection; the read runs in a savepoint, so that even a
			// failed one leaves the transaction able to release them.
			defer orm.Exec(context.WithoutCancel(ctx), tx, "SELECT pg_advisory_unlock_all()")
		}
		return orm.WithTx(ctx, tx, func(sp *orm.Tx) error {
			var err error
			if rs, err = orm.RunNative(ctx, sp, sql, args, admin.MaxConsoleRows); err != nil {
				return err
			}
			return errReadOnlyDone
		})
	}, orm.Isolation(orm.TxOptions{ReadOnly: dialect != "sqlite"}))
	if !errors.Is(err, errReadOnlyDone) {
		return nil, err
	}
	return rs, nil
}

// oneStatement refuses text with a ; before its end (outside quotes): the
// console and EXPLAIN take one statement.
func oneStatement(sql string) error {
	sql = strings.TrimRight(strings.TrimSpace(sql), "; \t\r\n")
	if sql == "" {
		return errors.New("the statement is empty")
	}
	var quote byte
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == ';':
			return fmt.Errorf("one statement at a time: found ';' at byte %d", i)
		}
	}
	return nil
}

// redactDSN removes a password from a URL-shaped DSN.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// poolCollector exports the pools' statistics on /metrics.
type poolCollector struct {
	db                         *orm.DB
	maxOpen, open, inUse, idle *prometheus.Desc
	waitCount, waitSeconds     *prometheus.Desc
}

func newPoolCollector(db *orm.DB) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("covet_db_pool_"+name, help, []string{"pool"}, nil)
	}
	return &poolCollector{db: db,
		maxOpen:     d("max_open_connections", "Most connections the pool opens."),
		open:        d("open_connections", "Connections open, in use or idle."),
		inUse:       d("in_use_connections", "Connections in use."),
		idle:        d("idle_connections", "Idle connections."),
		waitCount:   d("wait_count_total", "Times a statement waited for a connection."),
		waitSeconds: d("wait_duration_seconds_total", "Time spent waiting for a connection."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waitCount, c.waitSeconds} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	primary, replicas := c.db.Stats()
	emit := func(name string, s orm.PoolStats) {
		ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpen), name)
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.Open), name)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse), name)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.Idle), name)
		ch <- prometheus.MustNewConstMetric(c.waitCount, prometheus.CounterValue, float64(s.WaitCount), name)
		ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, time.Duration(s.WaitDuration).Seconds(), name)
	}
	emit("primary", primary)
	for i, r := range replicas {
		emit(fmt.Sprintf("replica%d", i), r)
	}
}
