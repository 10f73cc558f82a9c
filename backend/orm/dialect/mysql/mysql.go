// Package mysql is the ORM's MySQL and MariaDB dialect, through
// go-sql-driver/mysql: real server-side placeholders (never interpolated),
// UTC times, strict SQL mode, and the servers' errors classified.
//
//	db, err := mysql.New(ctx, mysql.Config{DSN: "mysql://app:secret@127.0.0.1:3306/app"})
//	if err != nil { … }
//	defer db.Close()
//
// A DSN is a URL (mysql://user:pass@host:port/db?param=value) or the
// driver's own form (user:pass@tcp(host:port)/db?param=value).
package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/covetpy/covet/backend/orm"
)

// Dialect is MySQL's and MariaDB's SQL for the ORM. New detects MariaDB
// 10.5 or newer, whose INSERT … RETURNING lets multi-row inserts report
// their keys; the zero value is plain MySQL.
type Dialect struct {
	returning bool // the server has INSERT … RETURNING (MariaDB ≥ 10.5)
}

var _ orm.Dialect = Dialect{}

func (Dialect) Name() string { return "mysql" }

func (Dialect) AppendIdent(b []byte, ident string) []byte {
	b = append(b, '`')
	b = append(b, strings.ReplaceAll(ident, "`", "``")...)
	return append(b, '`')
}

func (Dialect) AppendPlaceholder(b []byte, _ int) []byte { return append(b, '?') }

// Returning reports INSERT … RETURNING: MariaDB 10.5 and newer have it;
// on MySQL keys come from the last insert id.
func (d Dialect) Returning() bool { return d.returning }

// MaxParams is the protocol's limit: parameter counts are 16-bit.
func (Dialect) MaxParams() int { return 65535 }

// AppendUpsert writes ON DUPLICATE KEY UPDATE; MySQL finds the conflict
// through any unique key, so the conflict columns only matter when nothing
// is to be updated: the first is then set to itself, a no-op that keeps the
// row.
func (d Dialect) AppendUpsert(b []byte, conflict, update []string) []byte {
	b = append(b, " ON DUPLICATE KEY UPDATE "...)
	if len(update) == 0 {
		b = d.AppendIdent(b, conflict[0])
		b = append(b, " = "...)
		return d.AppendIdent(b, conflict[0])
	}
	for i, c := range update {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.AppendIdent(b, c)
		b = append(b, " = VALUES("...)
		b = d.AppendIdent(b, c)
		b = append(b, ')')
	}
	return b
}

func (Dialect) ColumnType(c *orm.Column) string {
	if c.PrimaryKey && c.AutoIncrement {
		return "BIGINT AUTO_INCREMENT PRIMARY KEY"
	}
	t := c.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t.PkgPath() == "database/sql" && t.NumField() == 2 {
		t = t.Field(0).Type // sql.Null[T] and sql.NullString …: the value's type
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "DATETIME(6)"
	case t.Kind() == reflect.Bool:
		return "BOOLEAN"
	case t.Kind() == reflect.Int8 || t.Kind() == reflect.Int16 || t.Kind() == reflect.Uint8:
		return "SMALLINT"
	case t.Kind() == reflect.Int32 || t.Kind() == reflect.Uint16:
		return "INT"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "BIGINT"
	case t.Kind() == reflect.Float32:
		return "FLOAT"
	case t.Kind() == reflect.Float64:
		return "DOUBLE"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return "LONGBLOB"
	case c.MaxLength > 0 && c.MaxLength <= 16383: // utf8mb4: 4 bytes a character, 65,535 a row
		return "VARCHAR(" + strconv.Itoa(c.MaxLength) + ")"
	case c.MaxLength > 0 || c.Unique || c.Index || c.PrimaryKey:
		if c.MaxLength > 16383 {
			return "MEDIUMTEXT"
		}
		return "VARCHAR(255)" // TEXT cannot be indexed without a prefix length
	}
	return "TEXT"
}

// Classify maps MySQL's and MariaDB's error numbers onto orm kinds.
func (Dialect) Classify(err error) error {
	if c, ok := orm.ClassifyCommon(err); ok {
		return c
	}
	var me *driver.MySQLError
	if !errors.As(err, &me) {
		return err
	}
	kind := orm.Other
	constraint := ""
	switch me.Number {
	case 1062: // Duplicate entry 'x' for key 'users.email'
		kind = orm.UniqueViolation
		if i := strings.LastIndex(me.Message, " for key '"); i >= 0 {
			constraint = strings.TrimSuffix(me.Message[i+len(" for key '"):], "'")
		}
	case 1451, 1452, 1216, 1217:
		kind = orm.ForeignKeyViolation
		if _, after, ok := strings.Cut(me.Message, "CONSTRAINT `"); ok {
			constraint, _, _ = strings.Cut(after, "`")
		}
	case 1048, 1364: // Column 'x' cannot be null; Field 'x' doesn't have a default value
		kind = orm.NotNullViolation
		if _, after, ok := strings.Cut(me.Message, "'"); ok {
			constraint, _, _ = strings.Cut(after, "'")
		}
	case 1213, 1205: // deadlock, lock wait timeout: the transaction can run again
		kind = orm.SerializationFailure
	case 3024, 1969: // MySQL max_execution_time, MariaDB max_statement_time
		kind = orm.Timeout
	}
	if kind == orm.Other {
		return err
	}
	return &orm.Error{Kind: kind, Constraint: constraint, Err: err}
}

// Explain asks for JSON. ANALYZE FORMAT=JSON is MariaDB's form (MySQL 8
// has EXPLAIN ANALYZE only as text).
func (Dialect) Explain(query string, analyze bool) string {
	if analyze {
		return "ANALYZE FORMAT=JSON " + query
	}
	return "EXPLAIN FORMAT=JSON " + query
}

// ParseDSN reads a mysql:// URL or a go-sql-driver DSN and returns the
// driver's configuration with what the ORM relies on forced: times parsed
// in UTC, real placeholders (no interpolation), one statement per call,
// found rather than changed rows in RowsAffected, strict SQL mode, and a
// connect timeout (5s unless the DSN says). Errors never show the
// password.
func ParseDSN(dsn string) (*driver.Config, error) {
	var cfg *driver.Config
	if rest, ok := strings.CutPrefix(dsn, "mysql://"); ok {
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			return nil, fmt.Errorf("mysql: DSN %s is not a URL", Redact(dsn))
		}
		cfg = driver.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net = "tcp"
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "3306")
		}
		cfg.Addr = host
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		q := u.Query()
		for k := range q {
			switch k {
			case "timeout", "readTimeout", "writeTimeout":
				d, err := time.ParseDuration(q.Get(k))
				if err != nil {
					return nil, fmt.Errorf("mysql: DSN %s: %s=%q is not a duration", Redact(dsn), k, q.Get(k))
				}
				switch k {
				case "timeout":
					cfg.Timeout = d
				case "readTimeout":
					cfg.ReadTimeout = d
				default:
					cfg.WriteTimeout = d
				}
			case "tls":
				cfg.TLSConfig = q.Get(k)
			default:
				if cfg.Params == nil {
					cfg.Params = map[string]string{}
				}
				cfg.Params[k] = q.Get(k)
			}
		}
	} else {
		var err error
		if cfg, err = driver.ParseDSN(dsn); err != nil {
			return nil, fmt.Errorf("mysql: DSN %s: %v", Redact(dsn), redactErr(err, dsn))
		}
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.InterpolateParams = false
	cfg.MultiStatements = false
	cfg.ClientFoundRows = true
	cfg.RejectReadOnly = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, ok := cfg.Params["sql_mode"]; !ok {
		cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
	}
	if _, ok := cfg.Params["time_zone"]; !ok {
		cfg.Params["time_zone"] = "'+00:00'"
	}
	return cfg, nil
}

// Redact returns dsn with its password replaced.
func Redact(dsn string) string {
	if rest, ok := strings.CutPrefix(dsn, "mysql://"); ok {
		if u, err := url.Parse("mysql://" + rest); err == nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			}
			return u.String()
		}
		return "mysql://(unreadable)"
	}
	// user:pass@tcp(…)/db: the password runs from the first ':' to the last
	// '@' before the network.
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if colon := strings.Index(dsn[:at], ":"); colon >= 0 {
			return dsn[:colon+1] + "xxxxx" + dsn[at:]
		}
	}
	return dsn
}

func redactErr(err error, dsn string) error {
	cfg := Redact(dsn)
	msg := strings.ReplaceAll(err.Error(), dsn, cfg)
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if colon := strings.Index(dsn[:at], ":"); colon >= 0 && colon+1 < at {
			msg = strings.ReplaceAll(msg, dsn[colon+1:at], "xxxxx")
		}
	}
	return errors.New(msg)
}

// Config opens a primary and its read replicas.
type Config struct {
	// DSN is the primary's, as a mysql:// URL or a go-sql-driver DSN.
	DSN string
	// Replicas are the read replicas' DSNs.
	Replicas []string
	// MaxOpenConns and MaxIdleConns bound each pool (default 16 and 16).
	MaxOpenConns, MaxIdleConns int
	// ConnMaxLifetime and ConnMaxIdleTime recycle connections (default
	// 30 minutes and 5 minutes), below the server's wait_timeout.
	ConnMaxLifetime, ConnMaxIdleTime time.Duration
	// Tracer receives the query events; see orm.Tracer.
	Tracer orm.Tracer
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.DSN == "":
		return errors.New("mysql: DSN is empty")
	case c.MaxOpenConns < 0 || c.MaxIdleConns < 0:
		return errors.New("mysql: MaxOpenConns and MaxIdleConns must not be negative")
	case c.ConnMaxLifetime < 0 || c.ConnMaxIdleTime < 0:
		return errors.New("mysql: ConnMaxLifetime and ConnMaxIdleTime must not be negative")
	}
	return nil
}

// New connects to the primary and every replica and returns the ORM DB.
func New(ctx context.Context, cfg Config) (*orm.DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var opened []*sql.DB
	closeAll := func() {
		for _, db := range opened {
			db.Close()
		}
	}
	open := func(field, dsn string) (orm.Pool, error) {
		dc, err := ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		conn, err := driver.NewConnector(dc)
		if err != nil {
			return nil, fmt.Errorf("mysql: %s %s: %v", field, Redact(dsn), redactErr(err, dsn))
		}
		db := sql.OpenDB(conn)
		opened = append(opened, db)
		db.SetMaxOpenConns(cmp.Or(cfg.MaxOpenConns, 16))
		db.SetMaxIdleConns(cmp.Or(cfg.MaxIdleConns, 16))
		db.SetConnMaxLifetime(cmp.Or(cfg.ConnMaxLifetime, 30*time.Minute))
		db.SetConnMaxIdleTime(cmp.Or(cfg.ConnMaxIdleTime, 5*time.Minute))
		pctx, cancel := context.WithTimeout(ctx, dc.Timeout)
		defer cancel()
		if err := db.PingContext(pctx); err != nil {
			return nil, fmt.Errorf("mysql: %s %s: %v", field, Redact(dsn), redactErr(err, dsn))
		}
		return &orm.SQLPool{DB: db, BeginOptions: txOptions}, nil
	}
	primary, err := open("DSN", cfg.DSN)
	if err != nil {
		closeAll()
		return nil, err
	}
	var replicas []orm.Pool
	for i, dsn := range cfg.Replicas {
		r, err := open(fmt.Sprintf("Replicas[%d]", i), dsn)
		if err != nil {
			closeAll()
			return nil, err
		}
		replicas = append(replicas, r)
	}
	d, err := detect(ctx, primary.(*orm.SQLPool).DB)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("mysql: reading the server version: %w", err)
	}
	db, err := orm.New(orm.Config{Dialect: d, Primary: primary, Replicas: replicas, Tracer: cfg.Tracer})
	if err != nil {
		closeAll()
		return nil, err
	}
	return db, nil
}

// detect returns the dialect for the server: MariaDB 10.5 or newer has
// INSERT … RETURNING.
func detect(ctx context.Context, db *sql.DB) (Dialect, error) {
	var version string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return Dialect{}, err
	}
	return Dialect{returning: mariaDBWithReturning(version)}, nil
}

// mariaDBWithReturning reads a VERSION() such as "10.11.6-MariaDB-0+deb12u1".
func mariaDBWithReturning(version string) bool {
	if !strings.Contains(version, "MariaDB") {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 10 || major == 10 && minor >= 5
}

// txOptions passes the levels InnoDB has and refuses the others.
func txOptions(o orm.TxOptions) (*sql.TxOptions, error) {
	switch o.Isolation {
	case sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelRepeatableRead, sql.LevelSerializable:
		return &sql.TxOptions{Isolation: o.Isolation, ReadOnly: o.ReadOnly}, nil
	}
	return nil, fmt.Errorf("mysql: isolation level %v is not supported", o.Isolation)
}
