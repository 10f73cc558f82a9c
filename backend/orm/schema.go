package orm

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unsafe"
)

// Table describes one table: its name and columns. A Table comes from a Go
// struct's tags (see Mapping) or is built at run time (Define), as the
// config-driven resources do. Tables are immutable once built.
type Table struct {
	// Name is the table's name in the database.
	Name string
	// Columns in declaration order.
	Columns []*Column
	// Relations declared on the struct, by Go field name.
	Relations map[string]*Relation

	pk     *Column            // the primary key, or nil
	byName map[string]*Column // by column name and by Go field name
	goType reflect.Type       // the struct type, or nil for a defined table
	// selectList is the quoted column list per dialect name, built lazily by
	// the DB that caches the table; see DB.mapping.
}

// Column describes one column.
type Column struct {
	// Name is the column's name in the database.
	Name string
	// Field is the Go field's name; empty for a defined table.
	Field string
	// Type is the Go type the column scans into.
	Type reflect.Type
	// PrimaryKey, AutoIncrement, Nullable, Unique and Index come from the
	// tag options pk, auto, null, unique and index.
	PrimaryKey, AutoIncrement, Nullable, Unique, Index bool
	// Sensitive columns have their values redacted in query events.
	Sensitive bool
	// Default is the SQL default from the tag option default=…; empty when
	// there is none. CREATE TABLE declares it, and Insert and InsertMany
	// leave the column to it in a row whose value is the zero value, then
	// read back what the database stored (see Insert).
	Default string
	// MaxLength bounds a string column (tag option max=…); 0 means none.
	MaxLength int

	offset  uintptr        // the field's offset in its struct
	ptrType unsafe.Pointer // the type word of *Type in an interface value; see ptr
}

// PrimaryKey returns the table's primary-key column, or nil.
func (t *Table) PrimaryKey() *Column { return t.pk }

// Column returns the column with the given column name or Go field name, or
// nil when the table has none.
func (t *Table) Column(name string) *Column { return t.byName[name] }

// ColumnNames returns the names of all columns in order.
func (t *Table) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// eface is the layout of an interface value holding a pointer: its type
// word and the pointer itself.
type eface struct{ typ, data unsafe.Pointer }

// ptr returns a pointer to the column's field inside the struct at base, as
// an interface value a driver can scan into. It does not allocate (a
// pointer fits in an interface word) and, once the column is added to a
// table, builds the interface directly from the cached type word: scanning
// a row costs no reflection.
func (c *Column) ptr(base unsafe.Pointer) any {
	p := unsafe.Add(base, c.offset)
	if c.ptrType == nil {
		return reflect.NewAt(c.Type, p).Interface()
	}
	var x any
	*(*eface)(unsafe.Pointer(&x)) = eface{typ: c.ptrType, data: p}
	return x
}

// typeWord returns the type word that interface values holding a t carry.
func typeWord(t reflect.Type) unsafe.Pointer {
	z := reflect.Zero(t).Interface()
	return (*eface)(unsafe.Pointer(&z)).typ
}

// value returns the column's field value inside the struct at base.
func (c *Column) value(base unsafe.Pointer) any {
	return reflect.NewAt(c.Type, unsafe.Add(base, c.offset)).Elem().Interface()
}

// Define builds a Table at run time from column descriptions, for tables that
// have no Go struct (the config-driven resources). Each column needs a Name
// and a Type; the first PrimaryKey column is the key.
func Define(name string, columns ...Column) (*Table, error) {
	if err := checkIdent(name); err != nil {
		return nil, fmt.Errorf("defining table: %w", err)
	}
	t := &Table{Name: name, byName: map[string]*Column{}}
	for i := range columns {
		c := columns[i]
		if err := checkIdent(c.Name); err != nil {
			return nil, fmt.Errorf("defining table %s: column %d: %w", name, i, err)
		}
		if c.Type == nil {
			return nil, fmt.Errorf("defining table %s: column %s has no Type", name, c.Name)
		}
		if err := t.add(&c); err != nil {
			return nil, fmt.Errorf("defining table %s: %w", name, err)
		}
	}
	return t, nil
}

func (t *Table) add(c *Column) error {
	c.ptrType = typeWord(reflect.PointerTo(c.Type))
	if _, dup := t.byName[c.Name]; dup {
		return fmt.Errorf("column %q declared twice", c.Name)
	}
	if c.Default != "" && !(c.PrimaryKey && c.AutoIncrement) {
		n := 0
		for _, o := range t.Columns {
			if o.Default != "" && !(o.PrimaryKey && o.AutoIncrement) {
				n++
			}
		}
		if n == maxDefaults {
			return fmt.Errorf("column %q: more than %d columns with a default", c.Name, maxDefaults)
		}
	}
	if c.PrimaryKey {
		if t.pk != nil {
			return fmt.Errorf("column %q: a second primary key (composite keys are not supported; %q is the key)", c.Name, t.pk.Name)
		}
		t.pk = c
	}
	t.Columns = append(t.Columns, c)
	t.byName[c.Name] = c
	if c.Field != "" && c.Field != c.Name {
		t.byName[c.Field] = c
	}
	return nil
}

// maxDefaults bounds the columns with a default in a table: an insert
// tracks which of them a row leaves to the database in a uint64.
const maxDefaults = 64

// checkIdent accepts the identifiers Covet creates and quotes: a letter or
// underscore, then letters, digits and underscores, at most 63 bytes (the
// PostgreSQL limit). Identifiers are quoted by the dialect as well; this is
// a second line of defence and keeps names portable.
func checkIdent(s string) error {
	if s == "" {
		return fmt.Errorf("empty identifier")
	}
	if len(s) > 63 {
		return fmt.Errorf("identifier %q is longer than 63 bytes", s)
	}
	for i, r := range s {
		if r == '_' || r < unicode.MaxASCII && unicode.IsLetter(r) || i > 0 && '0' <= r && r <= '9' {
			continue
		}
		return fmt.Errorf("identifier %q: %q at byte %d is not a letter, digit or underscore", s, r, i)
	}
	return nil
}

// Namer lets a model choose its table name; otherwise the name is the
// snake_case of the type name plus "s" (User → users, APIKey → api_keys).
type Namer interface{ TableName() string }

// parseStruct builds the Table for a struct type from its field tags:
//
//	ID     int64      `db:"id,pk,auto"`
//	Email  string     `db:"email,unique,max=200"`
//	Bio    *string    `db:"bio"`          // a pointer or sql.Null[T] is nullable
//	Token  string     `db:"token,sensitive"`
//	Status string     `db:"status,default='active'"`
//	Note   string     `db:"-"`            // not a column
//	Posts  []Post     `rel:"has_many,fk=author_id"`
//
// Fields without a db tag become columns named by snake_case. Embedded
// structs are flattened. See Relation for the rel tag.
//
// default=<SQL> is the column's default in CREATE TABLE, and more: Insert
// and InsertMany leave the column out of a row whose field holds the zero
// value ("", 0, false, a zero time, nil), so the database fills it in, and
// read the stored value back into the field, as gorm does. A zero value
// cannot be written to such a column by Insert; make the field a pointer
// (a pointer to "" is not nil) or set it with Update. Update, Upsert and
// CopyFrom write the field as it is. At most 64 columns have a default.
func parseStruct(typ reflect.Type) (*Table, error) {
	if typ.Kind() != reflect.Struct {
		return nil, fmt.Errorf("orm: model %v is not a struct", typ)
	}
	name := snake(typ.Name()) + "s"
	if n, ok := reflect.New(typ).Interface().(Namer); ok {
		name = n.TableName()
	}
	if err := checkIdent(name); err != nil {
		return nil, fmt.Errorf("orm: model %v: table name: %w", typ, err)
	}
	t := &Table{Name: name, byName: map[string]*Column{}, goType: typ}
	if err := t.addFields(typ, 0); err != nil {
		return nil, fmt.Errorf("orm: model %v: %w", typ, err)
	}
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("orm: model %v has no columns", typ)
	}
	return t, nil
}

func (t *Table) addFields(typ reflect.Type, base uintptr) error {
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		if rel, ok := f.Tag.Lookup("rel"); ok {
			r, err := parseRelation(t.goType, f, rel)
			if err != nil {
				return err
			}
			if t.Relations == nil {
				t.Relations = map[string]*Relation{}
			}
			r.offset = base + f.Offset
			t.Relations[f.Name] = r
			continue
		}
		tag, hasTag := f.Tag.Lookup("db")
		if tag == "-" {
			continue
		}
		if f.Anonymous && !hasTag && f.Type.Kind() == reflect.Struct && !scalarStruct(f.Type) {
			if err := t.addFields(f.Type, base+f.Offset); err != nil {
				return err
			}
			continue
		}
		c := &Column{Name: snake(f.Name), Field: f.Name, Type: f.Type, offset: base + f.Offset}
		opts := strings.Split(tag, ",")
		if opts[0] != "" {
			c.Name = opts[0]
		}
		if err := checkIdent(c.Name); err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		for _, o := range opts[1:] {
			key, val, _ := strings.Cut(o, "=")
			switch key {
			case "pk":
				c.PrimaryKey = true
			case "auto":
				c.AutoIncrement = true
			case "null":
				c.Nullable = true
			case "unique":
				c.Unique = true
			case "index":
				c.Index = true
			case "sensitive":
				c.Sensitive = true
			case "default":
				c.Default = val
			case "max":
				n, err := parsePositive(val)
				if err != nil {
					return fmt.Errorf("field %s: option max: %w", f.Name, err)
				}
				c.MaxLength = n
			default:
				return fmt.Errorf("field %s: unknown db tag option %q (want pk, auto, null, unique, index, sensitive, default=…, max=…)", f.Name, o)
			}
		}
		if f.Type.Kind() == reflect.Pointer || isNullType(f.Type) {
			c.Nullable = true
		}
		if c.AutoIncrement && !isInteger(f.Type) {
			return fmt.Errorf("field %s: auto needs an integer field, not %v", f.Name, f.Type)
		}
		if err := t.add(c); err != nil {
			return err
		}
	}
	return nil
}

func parsePositive(s string) (int, error) {
	n := 0
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	for _, r := range s {
		if r < '0' || r > '9' || n > 1<<24 {
			return 0, fmt.Errorf("%q is not a positive number", s)
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}

// scalarStruct reports whether a struct type is stored as one column.
func scalarStruct(t reflect.Type) bool {
	return t == reflect.TypeFor[time.Time]() || isNullType(t) || reflect.PointerTo(t).Implements(reflect.TypeFor[sql.Scanner]())
}

func isNullType(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.PkgPath() == "database/sql" && strings.HasPrefix(t.Name(), "Null")
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// snake turns a Go name into snake_case: UserID → user_id, APIKey → api_key.
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
