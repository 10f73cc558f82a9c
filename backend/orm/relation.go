package orm

import (
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
	"unsafe"
)

// RelationKind says how two models are related.
type RelationKind int

const (
	// BelongsTo: this table holds the foreign key (post.author_id → users.id).
	BelongsTo RelationKind = iota + 1
	// HasOne: the other table holds a foreign key to this one, at most one row.
	HasOne
	// HasMany: the other table holds a foreign key to this one.
	HasMany
	// ManyToMany: a join table holds keys of both.
	ManyToMany
)

// Relation is a relation declared with a rel tag on a model field:
//
//	Author *User  `rel:"belongs_to,fk=author_id"`           // posts.author_id → users.id
//	Profile *Profile `rel:"has_one,fk=user_id"`             // profiles.user_id → users.id
//	Posts  []Post `rel:"has_many,fk=author_id"`             // posts.author_id → users.id
//	Tags   []Tag  `rel:"many_to_many,join=post_tags,fk=post_id,ref=tag_id"`
//
// Single relations are pointer fields, many relations slices of the model.
// fk defaults to the snake_case of the field (belongs_to) or of the owning
// type (has_one, has_many, many_to_many) plus "_id"; ref defaults to the
// snake_case of the target type plus "_id".
type Relation struct {
	Kind RelationKind
	// Field is the Go field that holds the related rows.
	Field string
	// ForeignKey: for BelongsTo a column of this table; for HasOne and
	// HasMany a column of the target; for ManyToMany the join table's column
	// that refers to this table.
	ForeignKey string
	// JoinTable and References (its column that refers to the target) are
	// set for ManyToMany.
	JoinTable, References string

	target reflect.Type // the related model's struct type
	many   bool         // the field is a slice
	offset uintptr      // the field's offset in the owning struct
}

func parseRelation(owner reflect.Type, f reflect.StructField, tag string) (*Relation, error) {
	opts := strings.Split(tag, ",")
	r := &Relation{Field: f.Name}
	switch opts[0] {
	case "belongs_to":
		r.Kind, r.ForeignKey = BelongsTo, snake(f.Name)+"_id"
	case "has_one":
		r.Kind, r.ForeignKey = HasOne, snake(owner.Name())+"_id"
	case "has_many":
		r.Kind, r.ForeignKey = HasMany, snake(owner.Name())+"_id"
	case "many_to_many":
		r.Kind, r.ForeignKey = ManyToMany, snake(owner.Name())+"_id"
	default:
		return nil, fmt.Errorf("field %s: rel kind %q is not belongs_to, has_one, has_many or many_to_many", f.Name, opts[0])
	}
	for _, o := range opts[1:] {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "fk":
			r.ForeignKey = v
		case "join":
			r.JoinTable = v
		case "ref":
			r.References = v
		default:
			return nil, fmt.Errorf("field %s: unknown rel option %q (want fk=, join=, ref=)", f.Name, o)
		}
	}
	switch t := f.Type; {
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		r.target = t.Elem()
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		r.target, r.many = t.Elem(), true
	default:
		return nil, fmt.Errorf("field %s: a relation field is *Model or []Model, not %v", f.Name, t)
	}
	if want := r.Kind == HasMany || r.Kind == ManyToMany; want != r.many {
		shape := "pointer"
		if want {
			shape = "slice"
		}
		return nil, fmt.Errorf("field %s: %s needs a %s field", f.Name, opts[0], shape)
	}
	if r.Kind == ManyToMany {
		if r.JoinTable == "" {
			return nil, fmt.Errorf("field %s: many_to_many needs join=<table>", f.Name)
		}
		if r.References == "" {
			r.References = snake(r.target.Name()) + "_id"
		}
		if err := checkIdent(r.JoinTable); err != nil {
			return nil, fmt.Errorf("field %s: join: %w", f.Name, err)
		}
		if err := checkIdent(r.References); err != nil {
			return nil, fmt.Errorf("field %s: ref: %w", f.Name, err)
		}
	}
	if err := checkIdent(r.ForeignKey); err != nil {
		return nil, fmt.Errorf("field %s: fk: %w", f.Name, err)
	}
	return r, nil
}

// eager loads q.with into rows.
func (q *Query[T]) eager(ctx context.Context, rows []T) error {
	if len(q.with) == 0 || len(rows) == 0 {
		return nil
	}
	s := q.h.session()
	bases := make([]unsafe.Pointer, len(rows))
	for i := range rows {
		bases[i] = unsafe.Pointer(&rows[i])
	}
	for _, name := range q.with {
		rel := q.m.Relations[name]
		if rel == nil {
			return fmt.Errorf("orm: With(%q): %s has no relation %q", name, q.m.Name, name)
		}
		if err := s.load(ctx, q.m, rel, bases, !q.lock); err != nil {
			return fmt.Errorf("orm: loading %s.%s: %w", q.m.Name, name, err)
		}
	}
	return nil
}

// load fills relation rel of the owner rows at bases with one batched query
// (chunked under the dialect's parameter limit).
func (s *session) load(ctx context.Context, owner *mapped, rel *Relation, bases []unsafe.Pointer, read bool) error {
	target, err := s.db.mapping(rel.target)
	if err != nil {
		return err
	}
	// ownKey is the owner column whose values are looked up; match is the
	// target column (or join-table column) they are matched against.
	var ownKey *Column
	var match string
	switch rel.Kind {
	case BelongsTo:
		ownKey = owner.Column(rel.ForeignKey)
		if ownKey == nil {
			return fmt.Errorf("%s has no column %q", owner.Name, rel.ForeignKey)
		}
		if target.pk == nil {
			return fmt.Errorf("%s has no primary key", target.Name)
		}
		match = target.pk.Name
	default:
		if ownKey = owner.pk; ownKey == nil {
			return fmt.Errorf("%s has no primary key", owner.Name)
		}
		match = rel.ForeignKey
		if rel.Kind != ManyToMany && target.Column(match) == nil {
			return fmt.Errorf("%s has no column %q", target.Name, match)
		}
	}
	keys, seen := []any{}, map[any]bool{}
	for _, base := range bases {
		k := normKey(ownKey.value(base))
		if k != nil && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	// found maps a key to the related rows' addresses.
	found := map[any][]unsafe.Pointer{}
	per := max(1, s.db.dialect.MaxParams()-1)
	for start := 0; start < len(keys); start += per {
		chunk := keys[start:min(len(keys), start+per)]
		if err := s.loadChunk(ctx, target, rel, match, chunk, found, read); err != nil {
			return err
		}
	}
	field := rel.fieldType(target.goType)
	for _, base := range bases {
		dst := reflect.NewAt(field, unsafe.Add(base, rel.offset)).Elem()
		got := found[normKey(ownKey.value(base))]
		if !rel.many {
			if len(got) > 0 {
				dst.Set(reflect.NewAt(target.goType, got[0]))
			} else {
				dst.SetZero()
			}
			continue
		}
		list := reflect.MakeSlice(dst.Type(), len(got), len(got))
		for i, p := range got {
			list.Index(i).Set(reflect.NewAt(target.goType, p).Elem())
		}
		dst.Set(list)
	}
	return nil
}

func (r *Relation) fieldType(target reflect.Type) reflect.Type {
	if r.many {
		return reflect.SliceOf(target)
	}
	return reflect.PointerTo(target)
}

func (s *session) loadChunk(ctx context.Context, target *mapped, rel *Relation, match string, keys []any, found map[any][]unsafe.Pointer, read bool) error {
	b := &builder{d: s.db.dialect, scope: []*Table{target.Table}}
	b.b = append(b.b, "SELECT "...)
	if rel.Kind == ManyToMany {
		// One query through the join table; its owner key comes back last.
		for i, c := range target.Columns {
			if i > 0 {
				b.b = append(b.b, ", "...)
			}
			b.qualified(target.Name, c.Name)
		}
		b.b = append(b.b, ", "...)
		b.qualified(rel.JoinTable, rel.ForeignKey)
		b.b = append(b.b, " FROM "...)
		b.ident(target.Name)
		b.b = append(b.b, " JOIN "...)
		b.ident(rel.JoinTable)
		b.b = append(b.b, " ON "...)
		b.qualified(rel.JoinTable, rel.References)
		b.b = append(b.b, " = "...)
		b.qualified(target.Name, target.pk.Name)
		b.b = append(b.b, " WHERE "...)
		b.qualified(rel.JoinTable, rel.ForeignKey)
	} else {
		b.b = append(b.b, target.selectCols...)
		b.b = append(b.b, " FROM "...)
		b.ident(target.Name)
		b.b = append(b.b, " WHERE "...)
		b.ident(match)
	}
	b.b = append(b.b, " IN ("...)
	for i, k := range keys {
		if i > 0 {
			b.b = append(b.b, ", "...)
		}
		b.arg(k, nil)
	}
	b.b = append(b.b, ')')
	if target.pk != nil {
		b.b = append(b.b, " ORDER BY "...)
		if rel.Kind == ManyToMany {
			b.ident(target.Name)
			b.b = append(b.b, '.')
		}
		b.ident(target.pk.Name)
	}
	st, err := b.stmt()
	if err != nil {
		return err
	}
	var ownerKey any
	var extra []any
	if rel.Kind == ManyToMany {
		extra = []any{&ownerKey}
	}
	matchCol := target.Column(match)
	_, err = s.scanRows(ctx, st, target.Columns, extra, read, func() unsafe.Pointer {
		return reflect.New(target.goType).UnsafePointer()
	}, func(p unsafe.Pointer) {
		var k any
		if rel.Kind == ManyToMany {
			k = normKey(ownerKey)
		} else {
			k = normKey(matchCol.value(p))
		}
		found[k] = append(found[k], p)
	})
	return err
}

// normKey turns a key value into a comparable map key: pointers are
// followed, integers become int64 and byte strings strings, so that an
// int32 foreign key finds an int64 primary key.
func normKey(v any) any {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil
	}
	if val, ok := rv.Interface().(driver.Valuer); ok {
		x, err := val.Value()
		if err != nil || x == nil {
			return nil
		}
		rv = reflect.ValueOf(x)
	}
	switch {
	case rv.CanInt():
		return rv.Int()
	case rv.CanUint():
		return int64(rv.Uint())
	case rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8:
		return string(rv.Bytes())
	case rv.Kind() == reflect.String:
		return rv.String()
	}
	return rv.Interface()
}
