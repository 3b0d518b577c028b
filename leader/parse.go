package leader

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// colKind is the base type of a _Server.Database column.
type colKind uint8

const (
	kindString colKind = iota
	kindBool
	kindUUID
	kindInt
)

// Column indexes into serverColumns.
const (
	colName = iota
	colModel
	colConnected
	colLeader
	colSchema
	colCID
	colSID
	colIndex
	numColumns
)

// serverColumn describes one column of _Server.Database (schema 1.2.0).
type serverColumn struct {
	name     string
	kind     colKind
	optional bool // "min": 0, "max": 1
}

// serverColumns lists every column this package understands. Others are
// ignored.
var serverColumns = [numColumns]serverColumn{
	colName:      {"name", kindString, false},
	colModel:     {"model", kindString, false},
	colConnected: {"connected", kindBool, false},
	colLeader:    {"leader", kindBool, false},
	colSchema:    {"schema", kindString, true},
	colCID:       {"cid", kindUUID, true},
	colSID:       {"sid", kindUUID, true},
	colIndex:     {"index", kindInt, true},
}

// atom is one value of a column; which field is used depends on the kind.
type atom struct {
	s string // string and uuid
	b bool
	i int64
}

// datum is a parsed column value: a set of zero, one or (in a diff of an
// optional column only) two atoms.
type datum struct {
	n     int
	atoms [2]atom
}

// rowOp is the kind of a <row-update2>.
type rowOp uint8

const (
	opInsert rowOp = iota + 1 // "initial" or "insert"
	opModify
	opDelete
)

// rowUpdate is a parsed <row-update2> for a Database row.
type rowUpdate struct {
	uuid string
	op   rowOp
	has  [numColumns]bool
	vals [numColumns]datum
}

// parseTableUpdates2 parses a <table-updates2> object and returns the row
// updates of its Database table, sorted by row UUID. Other tables must be
// JSON objects and are otherwise ignored.
func parseTableUpdates2(raw []byte) ([]rowUpdate, error) {
	tables, err := decodeObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: <table-updates2>: %v", ErrMalformed, err)
	}
	for name, tu := range tables {
		if name != ServerTable && !isObject(tu) {
			return nil, fmt.Errorf("%w: <table-update2> for table %q is not an object", ErrMalformed, name)
		}
	}
	tu, ok := tables[ServerTable]
	if !ok {
		return nil, nil
	}
	rows, err := decodeObject(tu)
	if err != nil {
		return nil, fmt.Errorf("%w: <table-update2> for table %s: %v", ErrMalformed, ServerTable, err)
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	updates := make([]rowUpdate, 0, len(keys))
	for _, k := range keys {
		id, ok := parseUUID(k)
		if !ok {
			return nil, fmt.Errorf("%w: <table-update2> for table %s has bad row UUID %q", ErrMalformed, ServerTable, k)
		}
		ru, err := parseRowUpdate2(id, rows[k])
		if err != nil {
			return nil, err
		}
		updates = append(updates, ru)
	}
	slices.SortFunc(updates, func(a, b rowUpdate) int { return strings.Compare(a.uuid, b.uuid) })
	// Two spellings of one UUID (upper and lower case) name one row.
	for i := 1; i < len(updates); i++ {
		if updates[i].uuid == updates[i-1].uuid {
			return nil, fmt.Errorf("%w: row %s updated twice in one <table-update2>", ErrMalformed, updates[i].uuid)
		}
	}
	return updates, nil
}

// parseRowUpdate2 parses the <row-update2> of row id.
func parseRowUpdate2(id string, raw json.RawMessage) (rowUpdate, error) {
	ru := rowUpdate{uuid: id}
	members, err := decodeObject(raw)
	if err != nil {
		return ru, fmt.Errorf("%w: <row-update2> of row %s: %v", ErrMalformed, id, err)
	}
	if len(members) != 1 {
		return ru, fmt.Errorf("%w: <row-update2> of row %s has %d members instead of 1", ErrMalformed, id, len(members))
	}
	var kind string
	var body json.RawMessage
	for k, v := range members {
		kind, body = k, v
	}
	switch kind {
	case "initial", "insert":
		ru.op = opInsert
	case "modify":
		ru.op = opModify
	case "delete":
		ru.op = opDelete
		if string(bytes.TrimSpace(body)) != "null" {
			return ru, fmt.Errorf("%w: <row-update2> of row %s: \"delete\" with a value other than null", ErrMalformed, id)
		}
		return ru, nil
	default:
		return ru, fmt.Errorf("%w: <row-update2> of row %s has unknown member %q", ErrMalformed, id, kind)
	}
	cols, err := decodeObject(body)
	if err != nil {
		return ru, fmt.Errorf("%w: %q of row %s: %v", ErrMalformed, kind, id, err)
	}
	for c := range serverColumns {
		col := &serverColumns[c]
		v, ok := cols[col.name]
		if !ok {
			continue
		}
		maxN := 1
		if ru.op == opModify && col.optional {
			maxN = 2
		}
		d, err := parseDatum(v, col.kind, maxN)
		if err != nil {
			return ru, fmt.Errorf("%w: row %s, column %s: %v", ErrMalformed, id, col.name, err)
		}
		ru.has[c] = true
		ru.vals[c] = d
	}
	return ru, nil
}

// parseDatum parses a column value of the given kind: an atom, or
// ["set",[atom...]] with at most maxN atoms.
func parseDatum(raw json.RawMessage, kind colKind, maxN int) (datum, error) {
	var d datum
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return d, err
	}
	if arr, ok := v.([]any); ok && len(arr) == 2 {
		if tag, ok := arr[0].(string); ok && tag == "set" {
			elems, ok := arr[1].([]any)
			if !ok {
				return d, fmt.Errorf("second element of a \"set\" is %s, not an array", typeName(arr[1]))
			}
			if len(elems) > maxN {
				return d, fmt.Errorf("set of %d elements, at most %d allowed", len(elems), maxN)
			}
			for i, e := range elems {
				a, err := parseAtom(e, kind)
				if err != nil {
					return d, err
				}
				d.atoms[i] = a
			}
			d.n = len(elems)
			if d.n == 2 && d.atoms[0] == d.atoms[1] {
				return d, fmt.Errorf("set holds the same value twice")
			}
			return d, nil
		}
	}
	a, err := parseAtom(v, kind)
	if err != nil {
		return d, err
	}
	d.n = 1
	d.atoms[0] = a
	return d, nil
}

// parseAtom parses a decoded JSON value as an atom of the given kind.
func parseAtom(v any, kind colKind) (atom, error) {
	switch kind {
	case kindString:
		if s, ok := v.(string); ok {
			return atom{s: s}, nil
		}
		return atom{}, fmt.Errorf("expected a string, got %s", typeName(v))
	case kindBool:
		if b, ok := v.(bool); ok {
			return atom{b: b}, nil
		}
		return atom{}, fmt.Errorf("expected a boolean, got %s", typeName(v))
	case kindInt:
		n, ok := v.(json.Number)
		if !ok {
			return atom{}, fmt.Errorf("expected an integer, got %s", typeName(v))
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return atom{}, fmt.Errorf("expected a 64-bit integer, got %s", truncate(string(n)))
		}
		return atom{i: i}, nil
	case kindUUID:
		arr, ok := v.([]any)
		if !ok || len(arr) != 2 || arr[0] != "uuid" {
			return atom{}, fmt.Errorf("expected [\"uuid\",<uuid>], got %s", typeName(v))
		}
		s, ok := arr[1].(string)
		if !ok {
			return atom{}, fmt.Errorf("expected a UUID string, got %s", typeName(arr[1]))
		}
		id, ok := parseUUID(s)
		if !ok {
			return atom{}, fmt.Errorf("bad UUID %q", truncate(s))
		}
		return atom{s: id}, nil
	}
	return atom{}, fmt.Errorf("unknown column kind %d", kind)
}

// decodeObject decodes a JSON object into its members. JSON null and
// anything else that is not an object is an error.
func decodeObject(raw []byte) (map[string]json.RawMessage, error) {
	if !isObject(raw) {
		return nil, fmt.Errorf("not a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// isObject reports whether raw starts like a JSON object.
func isObject(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// typeName names the JSON type of a decoded value, for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// parseUUID validates a UUID in the 8-4-4-4-12 hex form and returns it in
// lower case.
func parseUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}
