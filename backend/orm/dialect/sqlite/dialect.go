package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/orm"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is SQLite's SQL for the ORM.
type Dialect struct{}

var _ orm.Dialect = Dialect{}

func (Dialect) Name() string { return "sqlite" }

func (Dialect) AppendIdent(b []byte, ident string) []byte {
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(ident, `"`, `""`)...)
	return append(b, '"')
}

func (Dialect) AppendPlaceholder(b []byte, _ int) []byte { return append(b, '?') }

// Returning: SQLite has had INSERT … RETURNING since 3.35.
func (Dialect) Returning() bool { return true }

// MaxParams is SQLITE_MAX_VARIABLE_NUMBER's default since 3.32.
func (Dialect) MaxParams() int { return 32766 }

// NullsLast is false: SQLite sorts NULL before every value.
func (Dialect) NullsLast() bool { return false }

// Like is LIKE with the backslash as its escape character when fold
// (SQLite's LIKE ignores the case of A–Z), and GLOB, which tells cases
// apart, with the pattern translated otherwise.
func (Dialect) Like(pattern string, fold bool) (pre, mid, post, arg string) {
	if fold {
		return "", " LIKE ", ` ESCAPE '\'`, pattern
	}
	return "", " GLOB ", "", likeToGlob(pattern)
}

// likeToGlob translates a LIKE pattern (% _ and backslash escapes) into
// GLOB's syntax (* ?, and brackets around a literal * ? or [).
func likeToGlob(p string) string {
	var b strings.Builder
	escaped := false
	for _, r := range p {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
			continue
		case r == '%':
			b.WriteByte('*')
			continue
		case r == '_':
			b.WriteByte('?')
			continue
		}
		switch r {
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (d Dialect) AppendUpsert(b []byte, table string, conflict, update []string, key string) []byte {
	return orm.AppendOnConflict(d, b, table, conflict, update, key)
}

func (Dialect) ColumnType(c *orm.Column) string {
	t := c.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case c.PrimaryKey && c.AutoIncrement:
		return "INTEGER PRIMARY KEY AUTOINCREMENT"
	case t == reflect.TypeFor[time.Time]():
		return "DATETIME"
	case t.Kind() == reflect.Bool:
		return "BOOLEAN"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "INTEGER"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "REAL"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return "BLOB"
	}
	return "TEXT"
}

// ColumnTypes reads PRAGMA table_info: each column's declared type, as
// the CREATE TABLE wrote it.
func (Dialect) ColumnTypes(table string) (string, []any) {
	return "SELECT name, type FROM pragma_table_info(?)", []any{table}
}

// ParseType reads a declared type by SQLite's affinity rules (a name with
// INT holds integers; CHAR, CLOB or TEXT, text; BLOB, blobs; REAL, FLOA or
// DOUB, floats; anything else is NUMERIC), except for the names ColumnType
// gives booleans and times (BOOLEAN, DATETIME), which the rules file under
// NUMERIC too. SQLite enforces no length, so text has none; a column
// declared without a type holds anything and is orm.FamilyOther.
func (Dialect) ParseType(decl string) orm.SQLType {
	base, _ := orm.SplitType(decl)
	switch base {
	case "boolean", "bool":
		return orm.SQLType{Family: orm.FamilyBool}
	case "datetime", "timestamp", "date":
		return orm.SQLType{Family: orm.FamilyTime}
	}
	has := func(parts ...string) bool {
		return slices.ContainsFunc(parts, func(p string) bool { return strings.Contains(base, p) })
	}
	switch {
	case has("int"):
		return orm.SQLType{Family: orm.FamilyInteger}
	case has("char", "clob", "text"):
		return orm.SQLType{Family: orm.FamilyText}
	case base == "":
		return orm.SQLType{}
	case has("blob"):
		return orm.SQLType{Family: orm.FamilyBlob}
	case has("real", "floa", "doub"):
		return orm.SQLType{Family: orm.FamilyFloat}
	}
	return orm.SQLType{Family: orm.FamilyDecimal}
}

// Classify maps SQLite's extended result codes onto orm kinds. SQLITE_BUSY
// (the busy timeout ran out) counts as a serialization failure: the
// transaction lost the write lock and can run again.
func (Dialect) Classify(err error) error {
	if c, ok := orm.ClassifyCommon(err); ok {
		return c
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	kind := orm.Other
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		kind = orm.UniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		kind = orm.ForeignKeyViolation
	case sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		kind = orm.NotNullViolation
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_BUSY_SNAPSHOT, sqlite3.SQLITE_LOCKED:
		kind = orm.SerializationFailure
	}
	if kind == orm.Other {
		return err
	}
	// "UNIQUE constraint failed: users.email" names the columns.
	constraint := ""
	msg := se.Error()
	if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
		constraint, _, _ = strings.Cut(msg[i+len("constraint failed: "):], " (")
	}
	return &orm.Error{Kind: kind, Constraint: constraint, Err: err}
}

// Explain uses EXPLAIN QUERY PLAN; SQLite has no ANALYZE form, so analyze
// is ignored (the caller may time the query itself).
func (Dialect) Explain(query string, _ bool) string { return "EXPLAIN QUERY PLAN " + query }

// New opens the database for the ORM with one writer: a single-connection
// pool takes every write and transaction (SQLite allows one writer at a
// time, so a queue in Go beats lock retries in SQLite), and a pool of
// read-only connections serves reads outside transactions.
func New(ctx context.Context, cfg Config) (*orm.DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	writeCfg := cfg
	writeCfg.MaxOpenConns = 1
	writer, err := Open(ctx, writeCfg)
	if err != nil {
		return nil, err
	}
	readCfg := cfg
	readCfg.readOnly, readCfg.Writer = true, nil
	reader, err := Open(ctx, readCfg)
	if err != nil {
		writer.Close()
		return nil, err
	}
	db, err := orm.New(orm.Config{
		Dialect:  Dialect{},
		Primary:  &orm.SQLPool{DB: writer, BeginOptions: serializableOnly},
		Replicas: []orm.Pool{&orm.SQLPool{DB: reader, BeginOptions: serializableOnly}},
	})
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("opening sqlite database %s: %w", cfg.Path, err)
	}
	return db, nil
}

// serializableOnly passes on the options SQLite can honour: it is always
// serializable, so asking for a weaker level is an error rather than a
// silent upgrade the caller did not expect.
func serializableOnly(o orm.TxOptions) (*sql.TxOptions, error) {
	if o.Isolation != sql.LevelDefault && o.Isolation != sql.LevelSerializable {
		return nil, fmt.Errorf("sqlite: isolation level %v is not supported (SQLite transactions are serializable)", o.Isolation)
	}
	return &sql.TxOptions{ReadOnly: o.ReadOnly}, nil
}
