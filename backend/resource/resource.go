package resource

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/orm"
	"github.com/covetpy/covet/backend/problem"
)

// Resource serves one Definition over a DB.
type Resource struct {
	def    Definition
	db     *orm.DB
	table  *orm.Table
	fields map[string]Field
}

// New checks def and returns its Resource. Errors name the definition's
// field ("fields[1].type: …").
func New(db *orm.DB, def Definition) (*Resource, error) {
	if ps := def.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Path + ": " + p.Message
		}
		return nil, fmt.Errorf("resource %s: %s", def.Name, strings.Join(msgs, "; "))
	}
	t, err := def.table()
	if err != nil {
		return nil, fmt.Errorf("resource %s: %w", def.Name, err)
	}
	r := &Resource{def: def, db: db, table: t, fields: map[string]Field{}}
	for _, f := range def.Fields {
		r.fields[f.Name] = f
	}
	return r, nil
}

// Ensure creates the table when it is missing and adds missing columns when
// that is safe; it returns the DDL it ran. A field the table cannot take
// as it is (a new required or unique field on an existing table, a type
// the column cannot hold, a maxLength longer than the column's) is an
// error that starts with the field's path in the definition
// ("fields[2].type: …") and wraps the *orm.ColumnError.
func (r *Resource) Ensure(ctx context.Context) ([]string, error) {
	ran, err := orm.EnsureTable(ctx, r.db, r.table)
	var ce *orm.ColumnError
	if !errors.As(err, &ce) {
		return ran, err
	}
	i := slices.IndexFunc(r.def.Fields, func(f Field) bool { return f.Name == ce.Column })
	if i < 0 {
		return ran, err
	}
	at := fmt.Sprintf("fields[%d]", i)
	switch {
	case ce.Problem == orm.WrongType, ce.Problem == orm.TooShort && r.def.Fields[i].Type != TypeString:
		at += ".type" // text is unbounded in the database; a string's column was shorter
	case ce.Problem == orm.TooShort:
		at += ".maxLength"
	}
	hint := "covet migrate generate NAME writes that migration"
	if ce.Problem == orm.WrongType || ce.Problem == orm.TooShort {
		hint = "covet migrate new NAME starts one to change the column in, or give the field a new name"
	}
	return ran, fmt.Errorf("%s: %w (%s)", at, err, hint)
}

// Table is the resource's table as the ORM maps it, for tools such as
// migrate.Generate.
func (r *Resource) Table() *orm.Table { return r.table }

// Collection serves the list (GET) and create (POST) endpoints.
func (r *Resource) Collection() http.Handler {
	return problem.HandlerFunc(func(w http.ResponseWriter, req *http.Request) error {
		switch req.Method {
		case http.MethodGet, http.MethodHead:
			return r.list(w, req)
		case http.MethodPost:
			return r.create(w, req)
		}
		w.Header().Set("Allow", "GET, HEAD, POST")
		return problem.New(http.StatusMethodNotAllowed, req.Method+" is not allowed on a collection")
	})
}

// Item serves one record (GET, PUT, PATCH, DELETE); the record's id is the
// request's "id" path value.
func (r *Resource) Item() http.Handler {
	return problem.HandlerFunc(func(w http.ResponseWriter, req *http.Request) error {
		id, err := strconv.ParseInt(req.PathValue("id"), 10, 64)
		if err != nil {
			return problem.New(http.StatusNotFound, fmt.Sprintf("%s has no record %q", r.def.Name, req.PathValue("id")))
		}
		switch req.Method {
		case http.MethodGet, http.MethodHead:
			rec, err := orm.GetRecord(req.Context(), r.db, r.table, id)
			if err != nil {
				return r.dbError(err, id)
			}
			return writeJSON(w, http.StatusOK, rec)
		case http.MethodPut, http.MethodPatch:
			return r.update(w, req, id, req.Method == http.MethodPatch)
		case http.MethodDelete:
			if err := orm.DeleteRecord(req.Context(), r.db, r.table, id); err != nil {
				return r.dbError(err, id)
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		w.Header().Set("Allow", "DELETE, GET, HEAD, PATCH, PUT")
		return problem.New(http.StatusMethodNotAllowed, req.Method+" is not allowed on a record")
	})
}

func (r *Resource) create(w http.ResponseWriter, req *http.Request) error {
	rec, err := r.decode(w, req, modeCreate)
	if err != nil {
		return err
	}
	stored, err := orm.InsertRecord(req.Context(), r.db, r.table, rec)
	if err != nil {
		return r.dbError(err, 0)
	}
	w.Header().Set("Location", strings.TrimSuffix(req.URL.Path, "/")+"/"+fmt.Sprint(stored["id"]))
	return writeJSON(w, http.StatusCreated, stored)
}

func (r *Resource) update(w http.ResponseWriter, req *http.Request, id int64, patch bool) error {
	mode := modeReplace
	if patch {
		mode = modePatch
	}
	rec, err := r.decode(w, req, mode)
	if err != nil {
		return err
	}
	stored, err := orm.UpdateRecord(req.Context(), r.db, r.table, id, rec)
	if err != nil {
		return r.dbError(err, id)
	}
	return writeJSON(w, http.StatusOK, stored)
}

type mode int

const (
	modeCreate  mode = iota // required fields must be present; defaults apply
	modeReplace             // PUT: required fields must be present; absent optional fields become null
	modePatch               // PATCH: only the fields sent change
)

// decode reads and validates a request body into a record, collecting a
// problem per field.
func (r *Resource) decode(w http.ResponseWriter, req *http.Request, m mode) (orm.Record, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxBodyBytes))
	if d := problem.BodyTooLarge(err); d != nil {
		return nil, d // MaxBodyBytes, or the route's smaller bodyLimit
	}
	if err != nil {
		return nil, problem.New(http.StatusBadRequest, "reading the body: "+err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var in map[string]any
	if err := dec.Decode(&in); err != nil || in == nil {
		return nil, problem.New(http.StatusBadRequest, "the body must be a JSON object")
	}
	if dec.More() {
		return nil, problem.New(http.StatusBadRequest, "the body must hold one JSON object and nothing after it")
	}
	rec := orm.Record{}
	var errs []problem.FieldError
	bad := func(path, format string, args ...any) {
		errs = append(errs, problem.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	for name, v := range in {
		f, ok := r.fields[name]
		switch {
		case name == "id":
			if m == modeCreate {
				bad(name, "id is assigned by the server")
			} else if n, err := toInt(v); err != nil || n != mustID(req) {
				bad(name, "id cannot change")
			}
			continue
		case !ok:
			bad(name, "%s has no field %q", r.def.Name, name)
			continue
		case v == nil:
			if f.Required {
				bad(name, "is required and cannot be null")
			} else {
				rec[name] = nil
			}
			continue
		}
		val, err := f.value(v)
		if err != nil {
			bad(name, "%v", err)
			continue
		}
		rec[name] = val
	}
	for _, f := range r.def.Fields {
		if _, ok := in[f.Name]; ok {
			continue
		}
		switch {
		case m == modePatch:
		case f.Required && f.Default == nil:
			bad(f.Name, "is required")
		case m == modeReplace && f.Default != nil:
			rec[f.Name], _ = f.value(f.Default)
		case m == modeReplace:
			rec[f.Name] = nil
		}
	}
	if len(errs) > 0 {
		sortErrors(errs)
		p := problem.New(http.StatusBadRequest, fmt.Sprintf("%d field(s) of the %s record are invalid", len(errs), r.def.Name))
		p.Errors = errs
		return nil, p
	}
	return rec, nil
}

func mustID(req *http.Request) int64 {
	n, _ := strconv.ParseInt(req.PathValue("id"), 10, 64)
	return n
}

func sortErrors(errs []problem.FieldError) {
	slices.SortFunc(errs, func(a, b problem.FieldError) int { return strings.Compare(a.Path, b.Path) })
}

// dbError turns a database error into the problem a client should see.
func (r *Resource) dbError(err error, id int64) error {
	switch orm.KindOf(err) {
	case orm.NotFound:
		return problem.New(http.StatusNotFound, fmt.Sprintf("%s has no record %d", r.def.Name, id))
	case orm.UniqueViolation:
		var e *orm.Error
		errors.As(err, &e)
		p := problem.New(http.StatusConflict, "a record with the same value already exists")
		for _, f := range r.def.Fields {
			if f.Unique && e != nil && strings.Contains(e.Constraint, f.Name) {
				p.Errors = []problem.FieldError{{Path: f.Name, Message: "must be unique; another record has this value"}}
				p.Detail = fmt.Sprintf("another %s record has the same %s", r.def.Name, f.Name)
			}
		}
		return p
	case orm.Timeout:
		return problem.New(http.StatusServiceUnavailable, "the database did not answer in time")
	}
	return err
}

// list serves GET on the collection: filters, sort, pagination, fields.
func (r *Resource) list(w http.ResponseWriter, req *http.Request) error {
	q := orm.FromTable(r.db, r.table)
	params := req.URL.Query()
	var errs []problem.FieldError
	bad := func(path, format string, args ...any) {
		errs = append(errs, problem.FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	// A query string decodes to any bytes, but text must be UTF-8 to reach
	// the database (PostgreSQL and MariaDB refuse other bytes; SQLite would
	// compare them as they are): a parameter that is not is refused, named,
	// and read no further.
	for key, vals := range params {
		if i := invalidUTF8(key); i >= 0 {
			bad(strings.ToValidUTF8(key, "\uFFFD"), "the parameter's name is not valid UTF-8 (at byte %d)", i)
			delete(params, key)
			continue
		}
		for _, v := range vals {
			if i := invalidUTF8(v); i >= 0 {
				bad(key, "the value is not valid UTF-8 (at byte %d)", i)
				delete(params, key)
				break
			}
		}
	}
	limit := DefaultLimit
	if s := params.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			bad("limit", "want a number from 1 to %d, got %q", MaxLimit, s)
		}
		limit = n
	}
	offset := 0
	if s := params.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			bad("offset", "want a number of 0 or more, got %q", s)
		}
		offset = n
	}
	sortBy := r.sortOrder(params.Get("sort"), bad)
	var fields []string
	if s := params.Get("fields"); s != "" {
		fields = []string{"id"}
		for _, name := range strings.Split(s, ",") {
			if _, ok := r.fields[name]; !ok && name != "id" {
				bad("fields", "%s has no field %q", r.def.Name, name)
			} else if name != "id" {
				fields = append(fields, name)
			}
		}
	}
	for key, vals := range params {
		switch key {
		case "limit", "offset", "sort", "fields", "after":
			continue
		}
		name, op, _ := strings.Cut(strings.TrimSuffix(key, "]"), "[")
		f, ok := r.fields[name]
		if name == "id" {
			f, ok = Field{Name: "id", Type: TypeInt}, true
		}
		if !ok {
			bad(key, "%s has no field %q to filter on (parameters: limit, offset, after, sort, fields, or a field name)", r.def.Name, name)
			continue
		}
		cond, err := filter(f, op, vals)
		if err != nil {
			bad(key, "%v", err)
			continue
		}
		q.Where(cond)
	}
	if s := params.Get("after"); s != "" {
		if offset > 0 {
			bad("after", "after and offset cannot be used together")
		} else if vals, err := r.decodeCursor(s, sortBy); err != nil {
			bad("after", "%v", err)
		} else {
			q.After(vals...)
		}
	}
	if len(errs) > 0 {
		sortErrors(errs)
		p := problem.New(http.StatusBadRequest, "invalid query parameters")
		p.Errors = errs
		return p
	}
	q.OrderBy(sortBy...).Limit(limit).Offset(offset)
	// The cursor holds the sort fields' values, so they are read even when
	// fields= leaves them out, and dropped from the items afterwards.
	var unasked []string
	if fields != nil {
		for _, o := range sortBy {
			if name := strings.TrimPrefix(o, "-"); !slices.Contains(fields, name) && !slices.Contains(unasked, name) {
				unasked = append(unasked, name)
			}
		}
		q.Select(append(fields, unasked...)...)
	}
	recs, err := q.All(req.Context())
	if err != nil {
		return r.dbError(err, 0)
	}
	page := struct {
		Items []orm.Record `json:"items"`
		Next  string       `json:"next,omitempty"`
	}{Items: recs}
	if len(recs) == limit && offset == 0 {
		page.Next = r.encodeCursor(recs[len(recs)-1], sortBy)
	}
	for _, rec := range recs {
		for _, name := range unasked {
			delete(rec, name)
		}
	}
	return writeJSON(w, http.StatusOK, page)
}

// sortOrder parses sort=-age,name and always ends with id, so that order
// and keyset pages are stable.
func (r *Resource) sortOrder(s string, bad func(string, string, ...any)) []string {
	var order []string
	hasID := false
	if s != "" {
		for _, item := range strings.Split(s, ",") {
			name := strings.TrimPrefix(item, "-")
			if _, ok := r.fields[name]; !ok && name != "id" {
				bad("sort", "%s has no field %q", r.def.Name, name)
				continue
			}
			hasID = hasID || name == "id"
			order = append(order, item)
		}
	}
	if !hasID {
		order = append(order, "id")
	}
	return order
}

func filter(f Field, op string, vals []string) (orm.Cond, error) {
	parse := func(s string) (any, error) {
		if f.Type == TypeBool {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("want true or false, got %q", s)
			}
			return b, nil
		}
		if s == "" && f.Type != TypeString && f.Type != TypeText {
			return nil, fmt.Errorf("empty value")
		}
		return Field{Type: f.Type}.value(s)
	}
	if op == "" && len(vals) > 1 {
		in := make([]any, len(vals))
		for i, s := range vals {
			v, err := parse(s)
			if err != nil {
				return nil, err
			}
			in[i] = v
		}
		return orm.In(f.Name, in...), nil
	}
	if len(vals) != 1 {
		return nil, fmt.Errorf("give %s[%s] once", f.Name, op)
	}
	if op == "null" {
		b, err := strconv.ParseBool(vals[0])
		if err != nil {
			return nil, fmt.Errorf("want true or false, got %q", vals[0])
		}
		if b {
			return orm.IsNull(f.Name), nil
		}
		return orm.NotNull(f.Name), nil
	}
	if op == "like" || op == "ilike" {
		if f.Type != TypeString && f.Type != TypeText {
			return nil, fmt.Errorf("%s applies only to string and text fields", op)
		}
		if err := storableText(vals[0]); err != nil {
			return nil, err
		}
		if orm.CheckLikePattern(vals[0]) != nil {
			return nil, errors.New(`the pattern ends in a backslash that escapes nothing; write \\ for a backslash`)
		}
		if op == "ilike" {
			return orm.ILike(f.Name, vals[0]), nil
		}
		return orm.Like(f.Name, vals[0]), nil
	}
	v, err := parse(vals[0])
	if err != nil {
		return nil, err
	}
	switch op {
	case "", "eq":
		return orm.Eq(f.Name, v), nil
	case "ne":
		return orm.Ne(f.Name, v), nil
	case "gt":
		return orm.Gt(f.Name, v), nil
	case "gte":
		return orm.Ge(f.Name, v), nil
	case "lt":
		return orm.Lt(f.Name, v), nil
	case "lte":
		return orm.Le(f.Name, v), nil
	}
	return nil, fmt.Errorf("unknown operator %q (want eq, ne, gt, gte, lt, lte, like, ilike or null)", op)
}

// A cursor is the sort values of a page's last record, as base64url JSON;
// a null value is null, and the next page starts after it in the ORM's
// order (nulls last ascending, first descending).
func (r *Resource) encodeCursor(rec orm.Record, order []string) string {
	vals := make([]any, len(order))
	for i, o := range order {
		v := rec[strings.TrimPrefix(o, "-")]
		if t, ok := v.(time.Time); ok {
			v = t.Format(time.RFC3339Nano)
		}
		vals[i] = v
	}
	b, _ := json.Marshal(vals)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (r *Resource) decodeCursor(s string, order []string) ([]any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not a cursor from this API")
	}
	// encoding/json would turn bytes that are not UTF-8 into U+FFFD, and
	// the page would start after a value no record has.
	if i := invalidUTF8(string(raw)); i >= 0 {
		return nil, fmt.Errorf("not a cursor from this API: byte %d is not UTF-8", i)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var vals []any
	if err := dec.Decode(&vals); err != nil || len(vals) != len(order) {
		return nil, fmt.Errorf("not a cursor for this sort order")
	}
	for i, o := range order {
		name := strings.TrimPrefix(o, "-")
		f := Field{Name: name, Type: TypeInt, Required: true}
		if name != "id" {
			f = r.fields[name]
			f.Enum, f.MaxLength = nil, 0
		}
		if vals[i] == nil {
			if !f.nullable() {
				return nil, fmt.Errorf("not a cursor for this sort order: %s is never null", name)
			}
			continue
		}
		v, err := f.value(vals[i])
		if err != nil {
			return nil, fmt.Errorf("not a cursor for this sort order")
		}
		vals[i] = v
	}
	return vals, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}
