package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PathError is a problem with an address into the configuration: a key
// that does not exist (NotFound) or an operation the target does not allow.
type PathError struct {
	Path     string
	Msg      string
	NotFound bool
}

func (e *PathError) Error() string { return e.Path + ": " + e.Msg }

// Edit operations on a configuration document, Caddy-style.
const (
	OpGet    = "GET"    // read the value at the path
	OpPut    = "PUT"    // replace the value at the path, or create a missing key or route
	OpPatch  = "PATCH"  // merge the value into the object at the path (RFC 7396)
	OpDelete = "DELETE" // remove the value at the path
	OpPost   = "POST"   // append the value to the array at the path
)

// SplitPath turns "routes/hello/mock" into its keys. Array items are
// addressed by index, except routes, which are addressed by their id.
func SplitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Edit applies op at path to the JSON document doc and returns the new
// document (for OpGet, the value at path). value is the request body for
// PUT, PATCH and POST. Edit only reshapes JSON: the result still has to be
// decoded and validated.
func Edit(doc []byte, op string, path []string, value []byte) ([]byte, error) {
	var root any
	if err := unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("current configuration: %w", err)
	}
	var v any
	if op == OpPut || op == OpPatch || op == OpPost {
		if err := unmarshal(value, &v); err != nil {
			return nil, &PathError{Path: "body", Msg: "invalid JSON: " + err.Error()}
		}
	}
	if op == OpGet {
		got, err := lookup(root, path)
		if err != nil {
			return nil, err
		}
		return json.Marshal(got)
	}
	if len(path) == 0 && op == OpDelete {
		return nil, &PathError{Path: "/", Msg: "the whole configuration cannot be deleted"}
	}
	out, err := apply(root, path, 0, op, v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

func unmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the value")
	}
	return nil
}

// lookup walks path from root. Under "routes", a key is a route id.
func lookup(root any, path []string) (any, error) {
	cur := root
	for i, key := range path {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[key]
			if !ok {
				return nil, &PathError{Path: strings.Join(path[:i+1], "/"), Msg: "no such key", NotFound: true}
			}
			cur = next
		case []any:
			j, err := index(c, path, i)
			if err != nil {
				return nil, err
			}
			cur = c[j]
		default:
			return nil, &PathError{Path: strings.Join(path[:i+1], "/"), Msg: "the value above is not an object or array", NotFound: true}
		}
	}
	return cur, nil
}

// index finds path[i] in the array at path[:i]: a route id under routes, a
// position anywhere else.
func index(arr []any, path []string, i int) (int, error) {
	at := strings.Join(path[:i+1], "/")
	if i == 1 && path[0] == "routes" {
		for j, item := range arr {
			if m, ok := item.(map[string]any); ok && m["id"] == path[i] {
				return j, nil
			}
		}
		return 0, &PathError{Path: at, Msg: fmt.Sprintf("no route with id %q", path[i]), NotFound: true}
	}
	j, err := strconv.Atoi(path[i])
	if err != nil || j < 0 || j >= len(arr) {
		return 0, &PathError{Path: at, Msg: fmt.Sprintf("no item %q (the array has %d)", path[i], len(arr)), NotFound: true}
	}
	return j, nil
}

// apply performs op at path[depth:] below cur and returns cur's new value.
func apply(cur any, path []string, depth int, op string, v any) (any, error) {
	if depth == len(path) {
		switch op {
		case OpPut:
			return v, nil
		case OpPatch:
			return mergePatch(cur, v), nil
		case OpPost:
			arr, ok := cur.([]any)
			if !ok {
				return nil, &PathError{Path: strings.Join(path, "/"), Msg: "POST appends to an array; this is not one"}
			}
			return append(arr, v), nil
		}
	}
	key, last := path[depth], depth == len(path)-1
	at := strings.Join(path[:depth+1], "/")
	switch c := cur.(type) {
	case map[string]any:
		child, ok := c[key]
		switch {
		case ok && last && op == OpDelete:
			delete(c, key)
			return c, nil
		case !ok && last && op == OpPut:
			c[key] = v
			return c, nil
		case !ok && last && op == OpPost:
			c[key] = []any{v}
			return c, nil
		case !ok:
			return nil, &PathError{Path: at, Msg: "no such key", NotFound: true}
		}
		nc, err := apply(child, path, depth+1, op, v)
		if err != nil {
			return nil, err
		}
		c[key] = nc
		return c, nil
	case []any:
		j, err := index(c, path, depth)
		if err != nil && last && op == OpPut && depth == 1 && path[0] == "routes" {
			return putNewRoute(c, key, v, at)
		}
		if err != nil {
			return nil, err
		}
		if last && op == OpDelete {
			return append(c[:j:j], c[j+1:]...), nil
		}
		nc, err := apply(c[j], path, depth+1, op, v)
		if err != nil {
			return nil, err
		}
		c[j] = nc
		return c, nil
	}
	return nil, &PathError{Path: at, Msg: "the value above is not an object or array", NotFound: true}
}

// putNewRoute appends v, the body of a PUT to routes/id of a route that
// does not exist yet, as that route: its id is the path's, given or not.
func putNewRoute(routes []any, id string, v any, at string) ([]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &PathError{Path: at, Msg: "a route is a JSON object"}
	}
	if got, ok := m["id"]; !ok {
		m["id"] = id
	} else if got != id {
		return nil, &PathError{Path: at, Msg: fmt.Sprintf("the body's id %v is not the path's %q", got, id)}
	}
	return append(routes, m), nil
}

// mergePatch applies an RFC 7396 JSON merge patch.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
		} else {
			tm[k] = mergePatch(tm[k], v)
		}
	}
	return tm
}
