package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/covetpy/covet/backend/orm"
)

func TestDialectSQL(t *testing.T) {
	d := Dialect{}
	cases := []struct{ name, got, want string }{
		{"name", d.Name(), "mysql"},
		{"ident", string(d.AppendIdent(nil, "users")), "`users`"},
		{"ident with backtick", string(d.AppendIdent(nil, "we`ird")), "`we``ird`"},
		{"ident appends", string(d.AppendIdent([]byte("x."), "y")), "x.`y`"},
		{"placeholder", string(d.AppendPlaceholder(nil, 12)), "?"},
		{"upsert", string(d.AppendUpsert(nil, "users", []string{"email"}, []string{"name", "age"}, "")), " ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `age` = VALUES(`age`)"},
		{"upsert one", string(d.AppendUpsert(nil, "users", []string{"email"}, []string{"n`m"}, "")), " ON DUPLICATE KEY UPDATE `n``m` = VALUES(`n``m`)"},
		{"upsert nothing", string(d.AppendUpsert(nil, "users", []string{"email", "org"}, nil, "")), " ON DUPLICATE KEY UPDATE `email` = `email`"},
		{"upsert key", string(d.AppendUpsert(nil, "users", []string{"email"}, []string{"name"}, "id")), " ON DUPLICATE KEY UPDATE `id` = LAST_INSERT_ID(`id`), `name` = VALUES(`name`)"},
		{"upsert key, nothing", string(d.AppendUpsert(nil, "users", []string{"email"}, nil, "id")), " ON DUPLICATE KEY UPDATE `id` = LAST_INSERT_ID(`id`)"},
		{"upsert key, returning", string(Dialect{returning: true}.AppendUpsert(nil, "users", []string{"email"}, nil, "id")), " ON DUPLICATE KEY UPDATE `email` = `email`"},
		{"explain", d.Explain("SELECT 1", false), "EXPLAIN FORMAT=JSON SELECT 1"},
		{"explain analyze", d.Explain("SELECT 1", true), "ANALYZE FORMAT=JSON SELECT 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
	t.Run("returning", func(t *testing.T) {
		if got := (Dialect{}).Returning(); got {
			t.Errorf("zero Dialect: Returning() = %v, want false (MySQL)", got)
		}
		if got := (Dialect{returning: true}).Returning(); !got {
			t.Errorf("MariaDB Dialect: Returning() = %v, want true", got)
		}
	})
	t.Run("nulls last", func(t *testing.T) {
		if got := d.NullsLast(); got {
			t.Errorf("NullsLast() = %v, want false (MySQL and MariaDB sort NULL first)", got)
		}
	})
	t.Run("max params", func(t *testing.T) {
		if got := d.MaxParams(); got != 65535 {
			t.Errorf("got %d, want 65535", got)
		}
	})
}

func TestColumnType(t *testing.T) {
	typ := reflect.TypeFor[string]
	cases := []struct {
		name string
		col  orm.Column
		want string
	}{
		{"auto pk", orm.Column{Type: reflect.TypeFor[int64](), PrimaryKey: true, AutoIncrement: true}, "BIGINT AUTO_INCREMENT PRIMARY KEY"},
		{"auto pk uint", orm.Column{Type: reflect.TypeFor[uint32](), PrimaryKey: true, AutoIncrement: true}, "BIGINT AUTO_INCREMENT PRIMARY KEY"},
		{"int", orm.Column{Type: reflect.TypeFor[int]()}, "BIGINT"},
		{"int64", orm.Column{Type: reflect.TypeFor[int64]()}, "BIGINT"},
		{"int32", orm.Column{Type: reflect.TypeFor[int32]()}, "INT"},
		{"int16", orm.Column{Type: reflect.TypeFor[int16]()}, "SMALLINT"},
		{"int8", orm.Column{Type: reflect.TypeFor[int8]()}, "TINYINT"},
		{"uint64", orm.Column{Type: reflect.TypeFor[uint64]()}, "BIGINT UNSIGNED"},
		{"uint32", orm.Column{Type: reflect.TypeFor[uint32]()}, "INT UNSIGNED"},
		{"uint8", orm.Column{Type: reflect.TypeFor[uint8]()}, "TINYINT UNSIGNED"},
		{"float64", orm.Column{Type: reflect.TypeFor[float64]()}, "DOUBLE"},
		{"float32", orm.Column{Type: reflect.TypeFor[float32]()}, "FLOAT"},
		{"bool", orm.Column{Type: reflect.TypeFor[bool]()}, "BOOLEAN"},
		{"time", orm.Column{Type: reflect.TypeFor[time.Time]()}, "DATETIME(6)"},
		{"bytes", orm.Column{Type: reflect.TypeFor[[]byte]()}, "LONGBLOB"},
		{"text", orm.Column{Type: typ()}, "TEXT"},
		{"bounded string", orm.Column{Type: typ(), MaxLength: 100}, "VARCHAR(100)"},
		{"longest varchar", orm.Column{Type: typ(), MaxLength: 16383}, "VARCHAR(16383)"},
		{"longer than a varchar", orm.Column{Type: typ(), MaxLength: 16384}, "MEDIUMTEXT"},
		{"unique string", orm.Column{Type: typ(), Unique: true}, "VARCHAR(255)"},
		{"indexed string", orm.Column{Type: typ(), Index: true}, "VARCHAR(255)"},
		{"string key", orm.Column{Type: typ(), PrimaryKey: true}, "VARCHAR(255)"},
		{"bounded unique string", orm.Column{Type: typ(), Unique: true, MaxLength: 64}, "VARCHAR(64)"},
		{"pointer", orm.Column{Type: reflect.TypeFor[*int64]()}, "BIGINT"},
		{"pointer to pointer", orm.Column{Type: reflect.TypeFor[**time.Time]()}, "DATETIME(6)"},
		{"pointer to string", orm.Column{Type: reflect.TypeFor[*string](), Unique: true}, "VARCHAR(255)"},
		{"sql.Null[time.Time]", orm.Column{Type: reflect.TypeFor[sql.Null[time.Time]]()}, "DATETIME(6)"},
		{"sql.Null[int32]", orm.Column{Type: reflect.TypeFor[sql.Null[int32]]()}, "INT"},
		{"sql.NullString", orm.Column{Type: reflect.TypeFor[sql.NullString](), MaxLength: 10}, "VARCHAR(10)"},
		{"sql.NullBool", orm.Column{Type: reflect.TypeFor[sql.NullBool]()}, "BOOLEAN"},
		{"sql.NullFloat64", orm.Column{Type: reflect.TypeFor[sql.NullFloat64]()}, "DOUBLE"},
		{"*sql.NullInt64", orm.Column{Type: reflect.TypeFor[*sql.NullInt64]()}, "BIGINT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := (Dialect{}).ColumnType(&c.col); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestClassifyMessages covers the messages of both servers, including the
// ones the MariaDB test server cannot produce (MySQL 8's table-qualified
// key names, its max_execution_time); TestClassifyServerErrors checks the
// real ones.
// TestParseType: COLUMN_TYPE's spellings and ColumnType's read as the same
// families and lengths; TINYINT(1) is BOOLEAN.
func TestParseType(t *testing.T) {
	for _, c := range []struct {
		decl string
		want orm.SQLType
	}{
		{"tinyint(1)", orm.SQLType{Family: orm.FamilyBool}},
		{"BOOLEAN", orm.SQLType{Family: orm.FamilyBool}},
		{"tinyint(4)", orm.SQLType{Family: orm.FamilyInteger}},
		{"TINYINT UNSIGNED", orm.SQLType{Family: orm.FamilyInteger}},
		{"bigint(20) unsigned zerofill", orm.SQLType{Family: orm.FamilyInteger}},
		{"double", orm.SQLType{Family: orm.FamilyFloat}},
		{"decimal(10,2)", orm.SQLType{Family: orm.FamilyDecimal}},
		{"varchar(255)", orm.SQLType{Family: orm.FamilyText, MaxLength: 255}},
		{"text", orm.SQLType{Family: orm.FamilyText, MaxLength: 16383}},
		{"MEDIUMTEXT", orm.SQLType{Family: orm.FamilyText, MaxLength: 4194303}},
		{"longblob", orm.SQLType{Family: orm.FamilyBlob}},
		{"datetime(6)", orm.SQLType{Family: orm.FamilyTime}},
		{"enum('a','b')", orm.SQLType{}},
		{"year(4)", orm.SQLType{}},
	} {
		if got := (Dialect{}).ParseType(c.decl); got != c.want {
			t.Errorf("ParseType(%q) = %+v, want %+v", c.decl, got, c.want)
		}
	}
}

func TestClassifyMessages(t *testing.T) {
	my := func(n uint16, msg string) error { return &driver.MySQLError{Number: n, Message: msg} }
	classified := &orm.Error{Kind: orm.UniqueViolation, Err: errors.New("x")}
	plain := errors.New("connection refused")
	cases := []struct {
		name       string
		err        error
		kind       orm.Kind
		constraint string
		same       bool // returned unchanged
	}{
		{"nil", nil, orm.Other, "", true},
		{"not a database error", plain, orm.Other, "", true},
		{"already classified", classified, orm.UniqueViolation, "", true},
		{"no rows", sql.ErrNoRows, orm.NotFound, "", false},
		{"context deadline", fmt.Errorf("querying: %w", context.DeadlineExceeded), orm.Timeout, "", false},
		{"duplicate, MySQL 8", my(1062, "Duplicate entry 'a@x.org' for key 'users.email'"), orm.UniqueViolation, "users.email", false},
		{"duplicate, MariaDB", my(1062, "Duplicate entry 'a@x.org' for key 'email'"), orm.UniqueViolation, "email", false},
		{"duplicate primary", my(1062, "Duplicate entry '1' for key 'PRIMARY'"), orm.UniqueViolation, "PRIMARY", false},
		{"duplicate value that quotes", my(1062, "Duplicate entry 'x' for key 'y'' for key 'users.email'"), orm.UniqueViolation, "users.email", false},
		{"duplicate, wrapped", fmt.Errorf("inserting: %w", my(1062, "Duplicate entry 'a' for key 'name'")), orm.UniqueViolation, "name", false},
		{"child row", my(1452, "Cannot add or update a child row: a foreign key constraint fails (`shop`.`orders`, CONSTRAINT `orders_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`))"), orm.ForeignKeyViolation, "orders_user", false},
		{"parent row", my(1451, "Cannot delete or update a parent row: a foreign key constraint fails (`shop`.`orders`, CONSTRAINT `orders_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`))"), orm.ForeignKeyViolation, "orders_user", false},
		{"child row, old form", my(1216, "Cannot add or update a child row: a foreign key constraint fails"), orm.ForeignKeyViolation, "", false},
		{"parent row, old form", my(1217, "Cannot delete or update a parent row: a foreign key constraint fails"), orm.ForeignKeyViolation, "", false},
		{"null", my(1048, "Column 'balance' cannot be null"), orm.NotNullViolation, "balance", false},
		{"no default", my(1364, "Field 'balance' doesn't have a default value"), orm.NotNullViolation, "balance", false},
		{"deadlock", my(1213, "Deadlock found when trying to get lock; try restarting transaction"), orm.SerializationFailure, "", false},
		{"lock wait", my(1205, "Lock wait timeout exceeded; try restarting transaction"), orm.SerializationFailure, "", false},
		{"max_execution_time", my(3024, "Query execution was interrupted, maximum statement execution time exceeded"), orm.Timeout, "", false},
		{"max_statement_time", my(1969, "Query execution was interrupted (max_statement_time exceeded)"), orm.Timeout, "", false},
		{"other server error", my(1146, "Table 'shop.nope' doesn't exist"), orm.Other, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Dialect{}.Classify(c.err)
			if c.same && got != c.err {
				t.Fatalf("got %#v, want the error unchanged", got)
			}
			if k := orm.KindOf(got); k != c.kind {
				t.Errorf("got kind %v, want %v", k, c.kind)
			}
			var oe *orm.Error
			if errors.As(got, &oe) && oe.Constraint != c.constraint {
				t.Errorf("got constraint %q, want %q", oe.Constraint, c.constraint)
			}
			if c.err != nil && !errors.Is(got, c.err) {
				t.Errorf("got %v, which does not wrap %v", got, c.err)
			}
		})
	}
}

func TestMariaDBWithReturning(t *testing.T) {
	cases := []struct {
		version string
		want    bool
	}{
		{"10.11.6-MariaDB-0+deb12u1", true},
		{"10.5.0-MariaDB", true},
		{"10.4.32-MariaDB", false},
		{"11.4.2-MariaDB", true},
		{"5.5.5-10.11.6-MariaDB", false}, // the old replication prefix; VERSION() does not show it
		{"8.0.36", false},
		{"8.4.0-commercial", false},
		{"garbage-MariaDB", false},
	}
	for _, c := range cases {
		t.Run(c.version, func(t *testing.T) {
			if got := mariaDBWithReturning(c.version); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestTxOptions(t *testing.T) {
	cases := []struct {
		level sql.IsolationLevel
		ok    bool
	}{
		{sql.LevelDefault, true},
		{sql.LevelReadUncommitted, true},
		{sql.LevelReadCommitted, true},
		{sql.LevelRepeatableRead, true},
		{sql.LevelSerializable, true},
		{sql.LevelWriteCommitted, false},
		{sql.LevelSnapshot, false},
		{sql.LevelLinearizable, false},
	}
	for _, c := range cases {
		t.Run(c.level.String(), func(t *testing.T) {
			got, err := txOptions(orm.TxOptions{Isolation: c.level, ReadOnly: true})
			if !c.ok {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil || got.Isolation != c.level || !got.ReadOnly {
				t.Errorf("got %+v, %v; want level %v, read only", got, err, c.level)
			}
		})
	}
}
