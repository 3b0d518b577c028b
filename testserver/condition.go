package testserver

import (
	"encoding/json"

	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// This file parses and evaluates RFC 7047 conditions ("where" clauses): a
// list of clauses that must all hold, each [column, function, value] or the
// literal true or false (an ovsdb-server extension used by monitor_cond).
// An empty list is true.

type function uint8

const (
	fnEQ function = iota + 1
	fnNE
	fnLT
	fnLE
	fnGT
	fnGE
	fnIncludes
	fnExcludes
)

var functionNames = map[string]function{
	"==": fnEQ, "!=": fnNE, "<": fnLT, "<=": fnLE, ">": fnGT, ">=": fnGE,
	"includes": fnIncludes, "excludes": fnExcludes,
}

type clause struct {
	literal *bool // true/false clause
	col     *column
	fn      function
	arg     datum
}

// condition is a parsed where list; nil or empty means true.
type condition []clause

// parseCondition parses a where list for table t. named resolves named-uuid
// references (transactions only).
func parseCondition(raw json.RawMessage, t *tableSchema, named *namedUUIDs) (condition, error) {
	v, err := jsonnum.Decode(raw)
	if err != nil {
		return nil, syntaxError(nil, "invalid JSON")
	}
	return parseConditionValue(v, t, named)
}

func parseConditionValue(v any, t *tableSchema, named *namedUUIDs) (condition, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, syntaxError(v, "Parse error in condition.")
	}
	cond := condition{}
	for _, c := range list {
		cl, err := parseClause(c, t, named)
		if err != nil {
			return nil, err
		}
		cond = append(cond, cl)
	}
	return cond, nil
}

func parseClause(v any, t *tableSchema, named *namedUUIDs) (clause, error) {
	if b, ok := v.(bool); ok {
		return clause{literal: &b}, nil
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != 3 {
		return clause{}, syntaxError(v, "Parse error in condition.")
	}
	colName, ok1 := arr[0].(string)
	fnName, ok2 := arr[1].(string)
	if !ok1 || !ok2 {
		return clause{}, syntaxError(v, "Parse error in condition.")
	}
	col := t.column(colName)
	if col == nil {
		return clause{}, (&ovsError{Tag: "unknown column", Details: "No column " + colName + " in table " + t.name + "."}).withSyntax(v)
	}
	fn, ok := functionNames[fnName]
	if !ok {
		return clause{}, newError("unknown function", "No function named %s.", fnName)
	}
	typ := col.typ
	switch fn {
	case fnLT, fnLE, fnGT, fnGE:
		if !(typ.isScalar() || typ.isOptionalScalar()) || (typ.key.typ != atomInteger && typ.key.typ != atomReal) {
			return clause{}, syntaxError(v, "Type mismatch: \"%s\" operator may not be applied to column %s of type %s.", fnName, colName, typ.english())
		}
	case fnIncludes:
		if !typ.isScalar() {
			typ.min = 0
		}
	case fnExcludes:
		if !typ.isScalar() {
			typ.min = 0
			typ.max = unlimited
		}
	}
	// Constraints such as enums do not apply to condition arguments.
	typ.key = unconstrained(typ.key)
	if typ.value != nil {
		vb := unconstrained(*typ.value)
		typ.value = &vb
	}
	arg, err := parseDatum(arr[2], &typ, named)
	if err != nil {
		return clause{}, err
	}
	return clause{col: col, fn: fn, arg: arg}, nil
}

func unconstrained(b baseType) baseType {
	n := newBaseType(b.typ)
	return n
}

// eval reports whether r satisfies every clause.
func (c condition) eval(r *row) bool {
	for i := range c {
		if !c[i].eval(r) {
			return false
		}
	}
	return true
}

func (cl *clause) eval(r *row) bool {
	if cl.literal != nil {
		return *cl.literal
	}
	v := r.get(cl.col.name)
	switch cl.fn {
	case fnEQ:
		return v.equal(cl.arg)
	case fnNE:
		return !v.equal(cl.arg)
	case fnIncludes:
		return v.includesAll(cl.arg)
	case fnExcludes:
		return v.excludesAll(cl.arg)
	}
	if v.len() == 0 || cl.arg.len() == 0 {
		return false
	}
	c := cmpAtom(v.keys[0], cl.arg.keys[0])
	switch cl.fn {
	case fnLT:
		return c < 0
	case fnLE:
		return c <= 0
	case fnGT:
		return c > 0
	default:
		return c >= 0
	}
}

// isFalse reports a condition that no row can satisfy (a literal false).
func (c condition) isFalse() bool {
	for _, cl := range c {
		if cl.literal != nil && !*cl.literal {
			return true
		}
	}
	return false
}

// uuidLookup returns the row UUID of an [_uuid, ==, uuid] clause, if any, so
// a where can be answered by one lookup.
func (c condition) uuidLookup() (string, bool) {
	for _, cl := range c {
		if cl.col == uuidColumn && cl.fn == fnEQ && cl.arg.len() == 1 {
			return string(cl.arg.keys[0].(uuidAtom)), true
		}
	}
	return "", false
}
