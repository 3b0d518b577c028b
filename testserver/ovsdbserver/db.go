package ovsdbserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// TxnError is returned by Transact when the server ran the transaction but
// an operation (or the commit, Op == number of operations) failed.
type TxnError struct {
	Op      int    // index of the failed operation
	Err     string // the "error" member, e.g. "constraint violation"
	Details string // the "details" member, if any
}

func (e *TxnError) Error() string {
	if e.Details == "" {
		return fmt.Sprintf("transaction failed at operation %d: %s", e.Op, e.Err)
	}
	return fmt.Sprintf("transaction failed at operation %d: %s: %s", e.Op, e.Err, e.Details)
}

// rawOps turns Transact's arguments into JSON operations: strings, []byte
// and json.RawMessage are taken as JSON text, anything else is marshalled.
func rawOps(db string, ops []any) ([]any, error) {
	params := []any{db}
	for i, op := range ops {
		var raw json.RawMessage
		switch v := op.(type) {
		case string:
			raw = json.RawMessage(v)
		case []byte:
			raw = json.RawMessage(v)
		case json.RawMessage:
			raw = v
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("operation %d: %w", i, err)
			}
			raw = b
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("operation %d is not valid JSON: %s", i, raw)
		}
		params = append(params, raw)
	}
	return params, nil
}

// transact sends one transact request to remote and checks its results.
func transact(ctx context.Context, remote, db string, ops []any) ([]json.RawMessage, error) {
	params, err := rawOps(db, ops)
	if err != nil {
		return nil, fmt.Errorf("ovsdbserver: transact: %w", err)
	}
	network, addr, err := splitRemote(remote)
	if err != nil {
		return nil, err
	}
	res, err := callOnce(ctx, network, addr, "transact", params)
	if err != nil {
		return nil, fmt.Errorf("ovsdbserver: %s: %w", remote, err)
	}
	var results []json.RawMessage
	if err := json.Unmarshal(res, &results); err != nil {
		return nil, fmt.Errorf("ovsdbserver: transact: unexpected reply %s", res)
	}
	for i, r := range results {
		var e struct {
			Error   *string `json:"error"`
			Details string  `json:"details"`
		}
		if isNull(r) || json.Unmarshal(r, &e) != nil || e.Error == nil {
			continue
		}
		return results, &TxnError{Op: i, Err: *e.Error, Details: e.Details}
	}
	return results, nil
}

// Contents is a database's data: table name -> row UUID -> column name ->
// value in OVSDB JSON notation as the server sends it, decoded with
// json.Decoder.UseNumber (integers and reals are json.Number; a set of one
// element is the bare atom; set and map elements are in the server's
// order). Every column of the schema is present; _uuid and _version are
// not. Every table of the schema is present, empty or not. Use Canonical
// before comparing with a replica encoded by other rules.
type Contents map[string]map[string]map[string]any

// dump selects every column of every table.
func dump(ctx context.Context, remote, db string, schema schemaInfo) (Contents, error) {
	tables := make([]string, 0, len(schema.tables))
	for t := range schema.tables {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	ops := make([]any, 0, len(tables))
	for _, t := range tables {
		cols := append([]string{"_uuid"}, schema.tables[t]...)
		ops = append(ops, map[string]any{"op": "select", "table": t, "where": []any{}, "columns": cols})
	}
	results, err := transact(ctx, remote, db, ops)
	if err != nil {
		return nil, err
	}
	if len(results) != len(tables) {
		return nil, fmt.Errorf("ovsdbserver: dump: %d results for %d selects", len(results), len(tables))
	}
	out := make(Contents, len(tables))
	for i, t := range tables {
		var r struct {
			Rows []map[string]json.RawMessage `json:"rows"`
		}
		if err := json.Unmarshal(results[i], &r); err != nil {
			return nil, fmt.Errorf("ovsdbserver: dump %s: %w", t, err)
		}
		rows := make(map[string]map[string]any, len(r.Rows))
		for _, row := range r.Rows {
			uuid, err := uuidOf(row["_uuid"])
			if err != nil {
				return nil, fmt.Errorf("ovsdbserver: dump %s: %w", t, err)
			}
			vals := make(map[string]any, len(row))
			for c, v := range row {
				if c == "_uuid" || c == "_version" {
					continue
				}
				vals[c], err = jsonnum.Decode(v)
				if err != nil {
					return nil, fmt.Errorf("ovsdbserver: dump %s: %w", t, err)
				}
			}
			rows[uuid] = vals
		}
		out[t] = rows
	}
	return out, nil
}

func uuidOf(raw json.RawMessage) (string, error) {
	var u []string
	if err := json.Unmarshal(raw, &u); err != nil || len(u) != 2 || u[0] != "uuid" {
		return "", fmt.Errorf("bad _uuid %s", raw)
	}
	return u[1], nil
}

// Canonical returns a copy of c with every value passed through
// CanonicalValue.
func (c Contents) Canonical() Contents {
	out := make(Contents, len(c))
	for t, rows := range c {
		nr := make(map[string]map[string]any, len(rows))
		for u, row := range rows {
			r := make(map[string]any, len(row))
			for col, v := range row {
				r[col] = CanonicalValue(v)
			}
			nr[u] = r
		}
		out[t] = nr
	}
	return out
}

// CanonicalValue puts a decoded OVSDB JSON value in one form so that two
// encodings of the same datum compare equal with reflect.DeepEqual: a set
// always as ["set",[...]] (a bare atom becomes a one-element set, which makes
// scalar columns sets too: apply it to both sides), set and map elements
// sorted by their JSON text, and numbers as json.Number.
func CanonicalValue(v any) any {
	switch x := v.(type) {
	case []any:
		if len(x) == 2 {
			if tag, ok := x[0].(string); ok {
				elems, _ := x[1].([]any)
				switch tag {
				case "set":
					return []any{"set", sortByJSON(canonElems(elems))}
				case "map":
					return []any{"map", sortByJSON(canonElems(elems))}
				case "uuid", "named-uuid":
					return []any{"set", []any{x}}
				}
			}
		}
		return x
	case float64:
		return []any{"set", []any{json.Number(fmt.Sprint(x))}}
	case int:
		return []any{"set", []any{json.Number(fmt.Sprint(x))}}
	case int64:
		return []any{"set", []any{json.Number(fmt.Sprint(x))}}
	default:
		return []any{"set", []any{x}}
	}
}

func canonElems(elems []any) []any {
	out := make([]any, len(elems))
	for i, e := range elems {
		switch x := e.(type) {
		case float64, int, int64:
			out[i] = json.Number(fmt.Sprint(x))
		default:
			out[i] = e
		}
	}
	return out
}

func sortByJSON(elems []any) []any {
	keys := make([]string, len(elems))
	for i, e := range elems {
		b, _ := json.Marshal(e)
		keys[i] = string(b)
	}
	idx := make([]int, len(elems))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([]any, len(elems))
	for i, j := range idx {
		out[i] = elems[j]
	}
	return out
}

// ErrNoLeader is matched (errors.Is) when no member says it is the leader.
var ErrNoLeader = errors.New("ovsdbserver: no leader")
