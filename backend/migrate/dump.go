package migrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/covetpy/covet/backend/orm"
)

// DumpSchema returns the schema of the database h is connected to as
// deterministic text: every table (except those named in skip), its columns,
// indexes, constraints, foreign keys, views and triggers, sorted by name, so
// that two databases with the same schema give the same text and any schema
// difference shows as a text difference. It is how a test checks that
// migrating up gives the schema a fresh install has, and that down undoes up.
//
// d is h's dialect (db.Dialect()); an orm.Handle does not expose it, and a
// Tx has no way to give it. skip names tables to leave out, typically the
// migrations' own bookkeeping table; their indexes, constraints, triggers and
// owned sequences go too.
//
// The text is one block per object, ordered by kind (tables, views,
// sequences, types, constraints, indexes, triggers, functions) and then by
// name: a header line "<kind> <name>", with " on <table>" for an object that
// belongs to a table, then its definition indented by two spaces:
//
//	table users
//	  CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)
//	index users_email on users
//	  CREATE UNIQUE INDEX users_email ON users (email)
//
// What each dialect shows:
//
//   - SQLite: the SQL sqlite_master stores for every table, index, view and
//     trigger, with its layout (whitespace outside quotes) normalised.
//   - PostgreSQL, the current schema only: each table's columns in order
//     (name, type, collation when not the type's, NOT NULL, default,
//     generated or identity), constraints (pg_get_constraintdef), indexes,
//     sequences (type, start, increment, bounds, cache, cycle, owner; not
//     their current value), views and materialized views, triggers, enum
//     types and functions (trigger bodies live there). The schema's name is
//     stripped from every definition, so dumps of two schemas compare.
//   - MySQL and MariaDB, DATABASE() only: SHOW CREATE TABLE and SHOW CREATE
//     VIEW without the AUTO_INCREMENT=N table option (it changes with the
//     data), the DEFINER clause and the database's name; triggers from
//     information_schema.TRIGGERS (timing, event, table, statement).
//
// Left out everywhere: data, statistics, grants, comments outside the
// definitions, and objects of other schemas or databases; in PostgreSQL also
// domains, composite types, extensions, policies and table storage options;
// in MySQL stored routines and events.
func DumpSchema(ctx context.Context, h orm.Handle, d orm.Dialect, skip ...string) (string, error) {
	if d == nil {
		return "", errors.New("migrate: dumping schema: dialect is nil")
	}
	var objs []schemaObject
	var err error
	switch d.Name() {
	case "sqlite":
		objs, err = sqliteObjects(ctx, h)
	case "postgres":
		objs, err = postgresObjects(ctx, h)
	case "mysql":
		objs, err = mysqlObjects(ctx, h, d, skip)
	default:
		return "", fmt.Errorf("migrate: dumping schema: unsupported dialect %q", d.Name())
	}
	if err != nil {
		return "", fmt.Errorf("migrate: dumping %s schema: %w", d.Name(), err)
	}
	objs = slices.DeleteFunc(objs, func(o schemaObject) bool {
		return slices.Contains(skip, o.name) || slices.Contains(skip, o.table)
	})
	slices.SortFunc(objs, func(a, b schemaObject) int {
		return cmp.Or(cmp.Compare(dumpRank(a.kind), dumpRank(b.kind)),
			strings.Compare(a.name, b.name), strings.Compare(a.table, b.table))
	})
	var b strings.Builder
	for _, o := range objs {
		b.WriteString(o.kind + " " + o.name)
		if o.table != "" {
			b.WriteString(" on " + o.table)
		}
		b.WriteByte('\n')
		for line := range strings.Lines(o.def) {
			if line = strings.TrimRight(line, " \t\r\n"); line != "" {
				b.WriteString("  " + line + "\n")
			}
		}
	}
	return b.String(), nil
}

// schemaObject is one schema object in a dump.
type schemaObject struct {
	kind  string // "table", "index", "trigger", …
	name  string
	table string // the table an index, constraint, trigger or sequence belongs to; "" for none
	def   string // the definition, possibly several lines
}

// dumpRank is the position of a kind of object in a dump.
func dumpRank(kind string) int {
	return slices.Index([]string{"table", "view", "materialized view", "sequence", "type",
		"constraint", "index", "trigger", "function"}, kind)
}

// cellText returns a result value as a string; NULL is "".
func cellText(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// sqliteObjects reads sqlite_master, which holds each object's SQL as it
// was written (or as ALTER TABLE rewrote it).
func sqliteObjects(ctx context.Context, h orm.Handle) ([]schemaObject, error) {
	rs, err := orm.RunNative(ctx, h,
		"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name", nil, 0)
	if err != nil {
		return nil, fmt.Errorf("reading sqlite_master: %w", err)
	}
	var objs []schemaObject
	for _, r := range rs.Rows {
		o := schemaObject{kind: cellText(r[0]), name: cellText(r[1]), table: cellText(r[2]), def: squeezeSpace(cellText(r[3]))}
		if o.table == o.name {
			o.table = ""
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// squeezeSpace normalises the layout of a SQL statement: outside quoted text
// ('…', "…", `…`, […]) every run of whitespace becomes one space, none is
// kept after "(" or before ")" and ",", and one follows every ",". The same
// statement typed with another layout reads the same.
func squeezeSpace(sql string) string {
	var b strings.Builder
	var quote rune // the closing quote while inside quoted text, else 0
	var last rune  // the last rune written
	space := false // whitespace seen outside quotes and not yet written
	for _, r := range sql {
		if quote != 0 {
			b.WriteRune(r)
			last = r
			if r == quote {
				quote = 0
			}
			continue
		}
		if strings.ContainsRune(" \t\n\r\f\v", r) {
			space = true
			continue
		}
		if space && b.Len() > 0 && last != '(' && r != ')' && r != ',' {
			b.WriteByte(' ')
		}
		space = r == ','
		b.WriteRune(r)
		last = r
		switch r {
		case '\'', '"', '`':
			quote = r
		case '[':
			quote = ']'
		}
	}
	return b.String()
}

// pgSchema is the current schema's oid, in PostgreSQL catalog queries.
const pgSchema = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"

// postgresObjects reads the current schema from the catalogs. Each query
// returns an object's name, its table (or NULL) and its definition.
func postgresObjects(ctx context.Context, h orm.Handle) ([]schemaObject, error) {
	rs, err := orm.RunNative(ctx, h, "SELECT quote_ident(current_schema())", nil, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the current schema: %w", err)
	}
	if len(rs.Rows) != 1 || rs.Rows[0][0] == nil {
		return nil, errors.New("no current schema: search_path names no existing schema")
	}
	// Definitions name the schema where an object is not visible from the
	// search_path, and indexes and triggers always do; strip it.
	prefix := cellText(rs.Rows[0][0]) + "."
	queries := []struct{ kind, sql string }{
		{"table", `SELECT c.relname, NULL, string_agg(concat_ws(' ',
			quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
			CASE WHEN a.attcollation <> t.typcollation THEN 'COLLATE ' || quote_ident(co.collname) END,
			CASE WHEN a.attnotnull THEN 'NOT NULL' END,
			CASE WHEN a.attgenerated = 's' THEN 'GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
				ELSE 'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END,
			CASE a.attidentity WHEN 'a' THEN 'GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN 'GENERATED BY DEFAULT AS IDENTITY' END
		), E'\n' ORDER BY a.attnum)
		FROM pg_class c
		LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		LEFT JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_collation co ON co.oid = a.attcollation
		LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
		WHERE c.relnamespace = ` + pgSchema + ` AND c.relkind IN ('r', 'p')
		GROUP BY c.relname`},
		{"view", `SELECT c.relname, NULL, pg_get_viewdef(c.oid) FROM pg_class c
		WHERE c.relnamespace = ` + pgSchema + ` AND c.relkind = 'v'`},
		{"materialized view", `SELECT c.relname, NULL, pg_get_viewdef(c.oid) FROM pg_class c
		WHERE c.relnamespace = ` + pgSchema + ` AND c.relkind = 'm'`},
		{"sequence", `SELECT s.relname, t.relname, concat_ws(' ',
			'AS ' || format_type(q.seqtypid, NULL), 'START ' || q.seqstart, 'INCREMENT ' || q.seqincrement,
			'MINVALUE ' || q.seqmin, 'MAXVALUE ' || q.seqmax, 'CACHE ' || q.seqcache,
			CASE WHEN q.seqcycle THEN 'CYCLE' END,
			'OWNED BY ' || quote_ident(t.relname) || '.' || quote_ident(a.attname))
		FROM pg_sequence q
		JOIN pg_class s ON s.oid = q.seqrelid
		LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
			AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
		LEFT JOIN pg_class t ON t.oid = d.refobjid
		LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
		WHERE s.relnamespace = ` + pgSchema},
		{"type", `SELECT t.typname, NULL,
			'ENUM (' || string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) || ')'
		FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
		WHERE t.typnamespace = ` + pgSchema + ` GROUP BY t.typname`},
		{"constraint", `SELECT co.conname, c.relname, pg_get_constraintdef(co.oid)
		FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid
		WHERE co.connamespace = ` + pgSchema},
		{"index", `SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema()`},
		{"trigger", `SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid)
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE c.relnamespace = ` + pgSchema + ` AND NOT t.tgisinternal`},
		{"function", `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL,
			pg_get_functiondef(p.oid)
		FROM pg_proc p
		WHERE p.pronamespace = ` + pgSchema + ` AND p.prokind IN ('f', 'p')
			AND NOT EXISTS (SELECT FROM pg_depend d
				WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`},
	}
	var objs []schemaObject
	for _, q := range queries {
		rs, err := orm.RunNative(ctx, h, q.sql, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("reading %ss: %w", q.kind, err)
		}
		for _, r := range rs.Rows {
			def := strings.ReplaceAll(cellText(r[2]), prefix, "")
			objs = append(objs, schemaObject{kind: q.kind, name: cellText(r[0]), table: cellText(r[1]), def: def})
		}
	}
	return objs, nil
}

// mysqlObjects reads DATABASE()'s tables and views with SHOW CREATE, and
// its triggers from information_schema. Tables in skip are not read.
func mysqlObjects(ctx context.Context, h orm.Handle, d orm.Dialect, skip []string) ([]schemaObject, error) {
	rs, err := orm.RunNative(ctx, h, "SELECT DATABASE()", nil, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the current database: %w", err)
	}
	if len(rs.Rows) != 1 || rs.Rows[0][0] == nil {
		return nil, errors.New("no database selected")
	}
	// A definition may name its own database (a trigger or view written
	// with qualified names); strip it, so dumps of two databases compare.
	prefix := string(d.AppendIdent(nil, cellText(rs.Rows[0][0]))) + "."
	tables, err := orm.RunNative(ctx, h,
		"SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()", nil, 0)
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	var objs []schemaObject
	for _, r := range tables.Rows {
		name := cellText(r[0])
		if slices.Contains(skip, name) {
			continue
		}
		kind, show := "table", "SHOW CREATE TABLE "
		if cellText(r[1]) == "VIEW" {
			kind, show = "view", "SHOW CREATE VIEW "
		}
		rs, err := orm.RunNative(ctx, h, string(d.AppendIdent([]byte(show), name)), nil, 0)
		if err != nil {
			return nil, fmt.Errorf("reading %s %s: %w", kind, name, err)
		}
		if len(rs.Rows) != 1 || len(rs.Rows[0]) < 2 {
			return nil, fmt.Errorf("reading %s %s: %sgave no definition", kind, name, show)
		}
		def := strings.ReplaceAll(cellText(rs.Rows[0][1]), prefix, "")
		def = dropDefiner(dropAutoIncrement(def))
		objs = append(objs, schemaObject{kind: kind, name: name, def: def})
	}
	triggers, err := orm.RunNative(ctx, h, `SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE,
		CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION, ' FOR EACH ', ACTION_ORIENTATION, CHAR(10), ACTION_STATEMENT)
		FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("reading triggers: %w", err)
	}
	for _, r := range triggers.Rows {
		def := strings.ReplaceAll(cellText(r[2]), prefix, "")
		objs = append(objs, schemaObject{kind: "trigger", name: cellText(r[0]), table: cellText(r[1]), def: def})
	}
	return objs, nil
}

// dropAutoIncrement removes the AUTO_INCREMENT=N table option from a CREATE
// TABLE statement: the next value a key gets is data, not schema. The table
// options come last, after the columns, which may carry the AUTO_INCREMENT
// attribute (without "=").
func dropAutoIncrement(def string) string {
	const opt = " AUTO_INCREMENT="
	i := strings.LastIndex(def, opt)
	if i < 0 {
		return def
	}
	j := i + len(opt)
	for j < len(def) && def[j] >= '0' && def[j] <= '9' {
		j++
	}
	return def[:i] + def[j:]
}

// dropDefiner removes the DEFINER=user@host clause from a CREATE VIEW
// statement: who created an object is not its schema. The user and host may
// be quoted.
func dropDefiner(def string) string {
	const clause = " DEFINER="
	i := strings.Index(def, clause)
	if i < 0 {
		return def
	}
	j := i + len(clause)
	var quote byte
	for ; j < len(def) && (quote != 0 || def[j] != ' '); j++ {
		switch c := def[j]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '`' || c == '\'' || c == '"':
			quote = c
		}
	}
	return def[:i] + def[j:]
}
