package mysql

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/covetpy/covet/backend/orm"
)

// Dialect is MySQL's and MariaDB's SQL for the ORM. The zero value is plain
// MySQL 8: no INSERT … RETURNING, so the ORM reads generated keys from the
// last insert id. New detects MariaDB 10.5 or newer, whose INSERT …
// RETURNING lets a multi-row insert report every key in one statement.
type Dialect struct {
	returning bool // the server has INSERT … RETURNING (MariaDB ≥ 10.5)
}

var _ orm.Dialect = Dialect{}

func (Dialect) Name() string { return "mysql" }

// AppendIdent quotes with backticks, doubling any inside the name.
func (Dialect) AppendIdent(b []byte, ident string) []byte {
	b = append(b, '`')
	b = append(b, strings.ReplaceAll(ident, "`", "``")...)
	return append(b, '`')
}

func (Dialect) AppendPlaceholder(b []byte, _ int) []byte { return append(b, '?') }

// Returning reports INSERT … RETURNING: MariaDB 10.5 and newer have it;
// on MySQL keys come from the last insert id.
func (d Dialect) Returning() bool { return d.returning }

// MaxParams is the protocol's limit: a prepared statement's parameter count
// is 16 bits.
func (Dialect) MaxParams() int { return 65535 }

// NullsLast is false: MySQL and MariaDB sort NULL before every value.
func (Dialect) NullsLast() bool { return false }

// Like compares under utf8mb4_bin, which tells cases apart whatever the
// column's collation (the pattern is converted first, so that a
// connection in another character set can use it), or lowers both sides.
// MySQL's escape character is the backslash.
func (Dialect) Like(pattern string, fold bool) (pre, mid, post, arg string) {
	if fold {
		return "LOWER(", ") LIKE LOWER(", ")", pattern
	}
	return "", " LIKE CONVERT(", " USING utf8mb4) COLLATE utf8mb4_bin", pattern
}

// AppendUpsert writes ON DUPLICATE KEY UPDATE `c` = VALUES(`c`), ….
// MySQL finds the conflict through any unique key, so the conflict columns
// only matter when nothing is to be updated: the first is then set to
// itself, a no-op that keeps the row (INSERT IGNORE would also swallow
// unrelated errors such as NOT NULL violations).
//
// With a key to report and no RETURNING (MySQL), it also sets `key` =
// LAST_INSERT_ID(`key`): an update then leaves the row's own key as the
// last insert id, where the server would otherwise report no key, or one it
// reserved but did not use. An insert reports the new key as usual. With
// RETURNING (MariaDB) the caller reads the key from the returned row.
//
// VALUES() is deprecated in MySQL 8.0.20 in favour of a row alias, which
// MariaDB lacks; both servers still accept it.
func (d Dialect) AppendUpsert(b []byte, _ string, conflict, update []string, key string) []byte {
	b = append(b, " ON DUPLICATE KEY UPDATE "...)
	if key != "" && !d.returning {
		b = d.AppendIdent(b, key)
		b = append(b, " = LAST_INSERT_ID("...)
		b = d.AppendIdent(b, key)
		b = append(b, ')')
		if len(update) > 0 {
			b = append(b, ", "...)
		}
	} else if len(update) == 0 {
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

// maxVarchar is the longest VARCHAR in characters that fits a row: rows
// hold 65,535 bytes and utf8mb4 takes up to 4 bytes a character.
const maxVarchar = 16383

// ColumnType maps Go types onto MySQL's: pointers and sql.Null types by
// their element; unsigned integers as UNSIGNED; strings as VARCHAR(max)
// when bounded, VARCHAR(255) when indexed (TEXT cannot be indexed without
// a prefix length), TEXT otherwise.
func (Dialect) ColumnType(c *orm.Column) string {
	if c.PrimaryKey && c.AutoIncrement {
		return "BIGINT AUTO_INCREMENT PRIMARY KEY"
	}
	t := c.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t.PkgPath() == "database/sql" && strings.HasPrefix(t.Name(), "Null") && t.NumField() == 2 {
		t = t.Field(0).Type // sql.Null[T], sql.NullString, …: the value's type
	}
	switch t.Kind() {
	case reflect.Bool:
		return "BOOLEAN"
	case reflect.Int8:
		return "TINYINT"
	case reflect.Uint8:
		return "TINYINT UNSIGNED"
	case reflect.Int16:
		return "SMALLINT"
	case reflect.Uint16:
		return "SMALLINT UNSIGNED"
	case reflect.Int32:
		return "INT"
	case reflect.Uint32:
		return "INT UNSIGNED"
	case reflect.Int, reflect.Int64:
		return "BIGINT"
	case reflect.Uint, reflect.Uint64:
		return "BIGINT UNSIGNED"
	case reflect.Float32:
		return "FLOAT"
	case reflect.Float64:
		return "DOUBLE"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "LONGBLOB"
		}
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return "DATETIME(6)"
		}
	}
	switch {
	case c.MaxLength > maxVarchar:
		return "MEDIUMTEXT"
	case c.MaxLength > 0:
		return "VARCHAR(" + strconv.Itoa(c.MaxLength) + ")"
	case c.Unique || c.Index || c.PrimaryKey:
		return "VARCHAR(255)"
	}
	return "TEXT"
}

// ColumnTypes reads information_schema.COLUMNS for the table in the
// connection's database, with each type as COLUMN_TYPE spells it
// ("varchar(50)", "bigint(20) unsigned", "tinyint(1)").
func (Dialect) ColumnTypes(table string) (string, []any) {
	return "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", []any{table}
}

// textChars is the most characters each text type holds, at 4 bytes a
// character (utf8mb4), as VARCHAR's length counts them. Read only.
var textChars = map[string]int{"tinytext": 255 / 4, "text": 65535 / 4, "mediumtext": 16777215 / 4, "longtext": 4294967295 / 4}

// ParseType reads a type as COLUMN_TYPE spells it or as ColumnType writes
// it. TINYINT(1) is a boolean: it is what BOOLEAN is stored as. Text types
// without a length hold what textChars says; enum, set, year, time, bit
// and the spatial types are orm.FamilyOther.
func (Dialect) ParseType(decl string) orm.SQLType {
	base, args := orm.SplitType(decl)
	words := strings.Fields(base)
	words = slices.DeleteFunc(words, func(w string) bool { return w == "unsigned" || w == "signed" || w == "zerofill" })
	base = strings.Join(words, " ")
	switch base {
	case "tinyint":
		if len(args) > 0 && args[0] == 1 {
			return orm.SQLType{Family: orm.FamilyBool}
		}
		return orm.SQLType{Family: orm.FamilyInteger}
	case "bool", "boolean":
		return orm.SQLType{Family: orm.FamilyBool}
	case "smallint", "mediumint", "int", "integer", "bigint":
		return orm.SQLType{Family: orm.FamilyInteger}
	case "float", "double", "double precision", "real":
		return orm.SQLType{Family: orm.FamilyFloat}
	case "decimal", "numeric", "dec", "fixed":
		return orm.SQLType{Family: orm.FamilyDecimal}
	case "char", "varchar":
		t := orm.SQLType{Family: orm.FamilyText, MaxLength: 1} // char without a length is char(1)
		if len(args) > 0 {
			t.MaxLength = args[0]
		}
		return t
	case "tinytext", "text", "mediumtext", "longtext":
		return orm.SQLType{Family: orm.FamilyText, MaxLength: textChars[base]}
	case "json":
		return orm.SQLType{Family: orm.FamilyJSON}
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return orm.SQLType{Family: orm.FamilyBlob}
	case "date", "datetime", "timestamp":
		return orm.SQLType{Family: orm.FamilyTime}
	}
	return orm.SQLType{}
}

// Classify maps MySQL's and MariaDB's error numbers onto orm kinds, after
// orm.ClassifyCommon. Constraint is the key name for a duplicate ("email",
// or "users.email" on MySQL 8.0.19+, which prefixes the table), the
// constraint name for a foreign key when the server gives it, and the
// column for a NOT NULL violation. A deadlock and a lock wait timeout are
// serialization failures: the transaction lost a conflict and can run
// again.
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
	case 1062: // ER_DUP_ENTRY: Duplicate entry 'x' for key 'users.email'
		kind = orm.UniqueViolation
		if i := strings.LastIndex(me.Message, " for key '"); i >= 0 {
			constraint = strings.TrimSuffix(me.Message[i+len(" for key '"):], "'")
		}
	case 1451, 1452, 1216, 1217: // ER_ROW_IS_REFERENCED_2, ER_NO_REFERENCED_ROW_2, and the forms without details
		kind = orm.ForeignKeyViolation
		if _, after, ok := strings.Cut(me.Message, "CONSTRAINT `"); ok {
			constraint, _, _ = strings.Cut(after, "`")
		}
	case 1048, 1364: // ER_BAD_NULL_ERROR: Column 'x' cannot be null; ER_NO_DEFAULT_FOR_FIELD: Field 'x' doesn't have a default value
		kind = orm.NotNullViolation
		if _, after, ok := strings.Cut(me.Message, "'"); ok {
			constraint, _, _ = strings.Cut(after, "'")
		}
	case 1213, 1205: // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
		kind = orm.SerializationFailure
	case 3024, 1969: // MySQL's max_execution_time, MariaDB's max_statement_time
		kind = orm.Timeout
	}
	if kind == orm.Other {
		return err
	}
	return &orm.Error{Kind: kind, Constraint: constraint, Err: err}
}

// Explain returns EXPLAIN FORMAT=JSON query, which both servers answer.
// With analyze it returns ANALYZE FORMAT=JSON query, which runs the query
// and adds what happened to the plan: that form is MariaDB's. MySQL 8 has
// EXPLAIN ANALYZE only as a text tree and rejects this statement with a
// syntax error, which the caller reports as it is.
func (Dialect) Explain(query string, analyze bool) string {
	if analyze {
		return "ANALYZE FORMAT=JSON " + query
	}
	return "EXPLAIN FORMAT=JSON " + query
}
