// Package explain shows how the database runs a query: it asks for the plan
// in the dialect's own form (PostgreSQL EXPLAIN (FORMAT JSON), MySQL and
// MariaDB EXPLAIN FORMAT=JSON, SQLite EXPLAIN QUERY PLAN) and turns it into
// one tree shape, with full table scans marked.
//
//	plan, err := explain.Run(ctx, db, `SELECT * FROM users WHERE email = $1`, []any{"a@b"}, false)
//	for _, n := range plan.Nodes { fmt.Println(n.Label, n.FullScan) }
//
// With analyze the query really runs, inside a transaction that is always
// rolled back, so even a write leaves nothing behind.
package explain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/covetpy/covet/backend/orm"
)

// Plan is a query plan as a tree.
type Plan struct {
	Dialect  string  `json:"dialect"`
	Analyzed bool    `json:"analyzed"`
	Nodes    []*Node `json:"nodes"`
	// Raw is the server's own output (JSON, or SQLite's rows as text).
	Raw string `json:"raw"`
}

// Node is one step of a plan.
type Node struct {
	// Label says what the step does: "Seq Scan on users", "SCAN users".
	Label string `json:"label"`
	// Detail holds conditions and indexes, when the server gives them.
	Detail string `json:"detail,omitempty"`
	// Rows is the planner's estimate (0 when unknown); ActualRows and
	// ActualMs are measured, with analyze.
	Rows       float64 `json:"rows,omitempty"`
	Cost       float64 `json:"cost,omitempty"`
	ActualRows float64 `json:"actualRows,omitempty"`
	ActualMs   float64 `json:"actualMs,omitempty"`
	// FullScan marks a step that reads a whole table.
	FullScan bool    `json:"fullScan"`
	Children []*Node `json:"children,omitempty"`
}

// errRollback ends the analyze transaction. Read only.
var errRollback = errors.New("explain: rolled back")

// Run returns the plan of query (in the dialect's own placeholder syntax,
// as orm.QueryEvent.SQL shows it) with args.
func Run(ctx context.Context, db *orm.DB, query string, args []any, analyze bool) (*Plan, error) {
	query = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(query), ";"))
	if query == "" {
		return nil, errors.New("explain: the query is empty")
	}
	d := db.Dialect()
	var rs *orm.ResultSet
	err := orm.WithTx(ctx, db, func(tx *orm.Tx) error {
		var err error
		rs, err = orm.RunNative(ctx, tx, d.Explain(query, analyze), args, 0)
		if err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return nil, fmt.Errorf("explain: %w", err)
	}
	plan := &Plan{Dialect: d.Name(), Analyzed: analyze && d.Name() != "sqlite"}
	switch d.Name() {
	case "sqlite":
		plan.Nodes, plan.Raw, err = sqliteTree(rs)
	case "postgres":
		plan.Raw = cell(rs)
		plan.Nodes, err = postgresTree([]byte(plan.Raw))
	case "mysql":
		plan.Raw = cell(rs)
		plan.Nodes, err = mysqlTree([]byte(plan.Raw))
	default:
		return nil, fmt.Errorf("explain: dialect %q has no plan reader", d.Name())
	}
	if err != nil {
		return nil, fmt.Errorf("explain: reading the %s plan: %w", d.Name(), err)
	}
	if plan.Nodes == nil {
		plan.Nodes = []*Node{} // a plan without steps (SQLite's for an INSERT)
	}
	return plan, nil
}

// cell returns the first column of the first row as text: JSON text as
// the server sent it, or re-encoded when the driver already decoded it
// (pgx decodes a json column into maps and slices).
func cell(rs *orm.ResultSet) string {
	if len(rs.Rows) == 0 || len(rs.Rows[0]) == 0 {
		return ""
	}
	switch v := rs.Rows[0][0].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	default:
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

// sqliteTree builds the tree from EXPLAIN QUERY PLAN's (id, parent,
// notused, detail) rows.
func sqliteTree(rs *orm.ResultSet) ([]*Node, string, error) {
	byID := map[int64]*Node{}
	var roots []*Node
	var raw strings.Builder
	for _, r := range rs.Rows {
		if len(r) < 4 {
			return nil, "", fmt.Errorf("a row has %d columns, want 4", len(r))
		}
		id, _ := r[0].(int64)
		parent, _ := r[1].(int64)
		detail := fmt.Sprint(r[3])
		fmt.Fprintf(&raw, "%d|%d|%s\n", id, parent, detail)
		n := &Node{Label: detail, FullScan: strings.HasPrefix(detail, "SCAN ") && !strings.Contains(detail, " USING ")}
		byID[id] = n
		if p := byID[parent]; p != nil && parent != 0 {
			p.Children = append(p.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	return roots, raw.String(), nil
}

// postgresTree reads EXPLAIN (FORMAT JSON): [{"Plan": {…, "Plans": […]}}].
func postgresTree(raw []byte) ([]*Node, error) {
	var doc []struct {
		Plan pgNode `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var out []*Node
	for _, d := range doc {
		out = append(out, d.Plan.node())
	}
	return out, nil
}

type pgNode struct {
	NodeType    string   `json:"Node Type"`
	Relation    string   `json:"Relation Name"`
	Index       string   `json:"Index Name"`
	Filter      string   `json:"Filter"`
	IndexCond   string   `json:"Index Cond"`
	JoinType    string   `json:"Join Type"`
	HashCond    string   `json:"Hash Cond"`
	SortKey     []string `json:"Sort Key"`
	TotalCost   float64  `json:"Total Cost"`
	PlanRows    float64  `json:"Plan Rows"`
	ActualRows  float64  `json:"Actual Rows"`
	ActualTotal float64  `json:"Actual Total Time"`
	ActualLoops float64  `json:"Actual Loops"`
	Plans       []pgNode `json:"Plans"`
	Subplan     string   `json:"Subplan Name"`
	GroupKey    []string `json:"Group Key"`
}

func (p pgNode) node() *Node {
	n := &Node{Label: p.NodeType, Rows: p.PlanRows, Cost: p.TotalCost, ActualRows: p.ActualRows,
		ActualMs: p.ActualTotal * max(p.ActualLoops, 1), FullScan: p.NodeType == "Seq Scan"}
	if p.JoinType != "" && strings.Contains(p.NodeType, "Join") || p.NodeType == "Nested Loop" && p.JoinType != "" {
		n.Label = p.JoinType + " " + p.NodeType
	}
	if p.Relation != "" {
		n.Label += " on " + p.Relation
	}
	if p.Index != "" {
		n.Label += " using " + p.Index
	}
	var details []string
	for _, d := range []struct{ name, v string }{{"Index Cond", p.IndexCond}, {"Filter", p.Filter}, {"Hash Cond", p.HashCond}, {"Subplan", p.Subplan}} {
		if d.v != "" {
			details = append(details, d.name+": "+d.v)
		}
	}
	if len(p.SortKey) > 0 {
		details = append(details, "Sort Key: "+strings.Join(p.SortKey, ", "))
	}
	if len(p.GroupKey) > 0 {
		details = append(details, "Group Key: "+strings.Join(p.GroupKey, ", "))
	}
	n.Detail = strings.Join(details, "; ")
	for _, c := range p.Plans {
		n.Children = append(n.Children, c.node())
	}
	return n
}

// mysqlTree reads EXPLAIN FORMAT=JSON from MySQL and MariaDB: nested
// objects where each "table" object is an access step and the operations
// around it (nested_loop, ordering_operation, …) are inner nodes. MariaDB's
// ANALYZE FORMAT=JSON adds what it measured as keys starting with "r_"
// (r_rows, r_total_time_ms, r_engine_stats …); those are attributes of the
// node they are in, never steps, even when their value is an object.
func mysqlTree(raw []byte) ([]*Node, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	qb, ok := doc["query_block"].(map[string]any)
	if !ok {
		return nil, errors.New("no query_block")
	}
	return []*Node{mysqlNode("query_block", qb)}, nil
}

func mysqlNode(name string, obj map[string]any) *Node {
	n := &Node{Label: strings.NewReplacer("_", " ", "-", " ").Replace(name)}
	if name == "table" {
		table, _ := obj["table_name"].(string)
		access, _ := obj["access_type"].(string)
		n.Label = fmt.Sprintf("%s on %s", access, table)
		n.FullScan = access == "ALL"
		var details []string
		if k, ok := obj["key"].(string); ok {
			details = append(details, "key: "+k)
		}
		if c, ok := obj["attached_condition"].(string); ok {
			details = append(details, "condition: "+c)
		}
		for _, k := range []string{"rows", "rows_examined_per_scan"} {
			if r, ok := obj[k].(float64); ok {
				n.Rows = r
			}
		}
		if r, ok := obj["r_rows"].(float64); ok {
			n.ActualRows = r
		}
		// MariaDB 10.11 splits a table's time into reading rows and the
		// rest, where older servers gave the total.
		tableMs, ok1 := obj["r_table_time_ms"].(float64)
		otherMs, ok2 := obj["r_other_time_ms"].(float64)
		if ok1 || ok2 {
			n.ActualMs = tableMs + otherMs
		}
		if stats, ok := obj["r_engine_stats"].(map[string]any); ok {
			for _, k := range slices.Sorted(maps.Keys(stats)) {
				details = append(details, fmt.Sprintf("%s: %v", strings.ReplaceAll(k, "_", " "), stats[k]))
			}
		}
		n.Detail = strings.Join(details, "; ")
	}
	if ms, ok := obj["r_total_time_ms"].(float64); ok {
		n.ActualMs = ms
	}
	if c, ok := obj["cost_info"].(map[string]any); ok {
		if s, ok := c["query_cost"].(string); ok {
			fmt.Sscan(s, &n.Cost)
		}
	}
	if c, ok := obj["cost"].(float64); ok {
		n.Cost = c
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if strings.HasPrefix(k, "r_") {
			continue // a measurement of this node (r_engine_stats …), read above
		}
		switch v := obj[k].(type) {
		case map[string]any:
			if k != "cost_info" {
				n.Children = append(n.Children, mysqlNode(k, v))
			}
		case []any:
			for _, item := range v {
				m, ok := item.(map[string]any)
				if !ok {
					continue
				}
				// nested_loop: [{"table": {…}}, {"block-nl-join": {…}}]
				// wraps each step in an object with one key.
				if len(m) == 1 {
					for ik, iv := range m {
						if im, ok := iv.(map[string]any); ok {
							n.Children = append(n.Children, mysqlNode(ik, im))
						}
					}
				} else {
					n.Children = append(n.Children, mysqlNode(k, m))
				}
			}
		}
	}
	return n
}
