package monitor

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// ErrBadCondition is wrapped by the errors about a condition that cannot be
// sent: an unknown function, no column, or a value with no OVSDB notation.
var ErrBadCondition = errors.New("monitor: bad condition")

// The canonical encodings of the two constant conditions. An empty "where"
// means true to the server, so "no row" must be sent as [false].
var (
	condTrueJSON  = []byte("[true]")
	condFalseJSON = []byte("[false]")
)

// condEncodeWhere returns the canonical JSON of a condition list, the value
// of "where": [true] for a nil list (every row), [false] for an empty one (no
// row), otherwise [[column,function,value],...] with the clauses in the
// order given. Values are written in OVSDB notation with sets and maps
// sorted, so two lists that differ only in the order of set elements or of
// Go map iteration encode to the same bytes, and equal bytes mean equal
// conditions.
func condEncodeWhere(where []ovsdb.Condition) ([]byte, error) {
	if where == nil {
		return condTrueJSON, nil
	}
	if len(where) == 0 {
		return condFalseJSON, nil
	}
	b := make([]byte, 0, 32*len(where))
	b = append(b, '[')
	for i, c := range where {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		b, err = condAppendClause(b, c)
		if err != nil {
			return nil, fmt.Errorf("%w: clause %d (%v): %w", ErrBadCondition, i, c, err)
		}
	}
	return append(b, ']'), nil
}

// condAppendClause appends one clause, [column,function,value].
func condAppendClause(b []byte, c ovsdb.Condition) ([]byte, error) {
	if c.Column == "" {
		return nil, errors.New("no column")
	}
	switch c.Function {
	case ovsdb.ConditionLessThan, ovsdb.ConditionLessThanOrEqual, ovsdb.ConditionEqual,
		ovsdb.ConditionNotEqual, ovsdb.ConditionGreaterThan, ovsdb.ConditionGreaterThanOrEqual,
		ovsdb.ConditionIncludes, ovsdb.ConditionExcludes:
	default:
		return nil, fmt.Errorf("unknown function %q", c.Function)
	}
	b = append(b, '[')
	b, err := reqAppendString(b, c.Column)
	if err != nil {
		return nil, err
	}
	b = append(b, ',', '"')
	b = append(b, c.Function...)
	b = append(b, '"', ',')
	b, err = condAppendValue(b, c.Value)
	if err != nil {
		return nil, err
	}
	return append(b, ']'), nil
}

// condKind orders atoms of different types; numbers compare with each other.
type condKind uint8

const (
	condKindBool condKind = iota
	condKindNumber
	condKindString
	condKindUUID
)

// condAtom is an encoded atom with what is needed to sort it.
type condAtom struct {
	kind  condKind
	isInt bool
	i     int64
	f     float64
	s     string // string, uuid (lower case)
	b     bool
	enc   []byte
}

func condCompare(a, b condAtom) int {
	if a.kind != b.kind {
		return cmp.Compare(a.kind, b.kind)
	}
	switch a.kind {
	case condKindBool:
		switch {
		case a.b == b.b:
			return 0
		case !a.b:
			return -1
		}
		return 1
	case condKindNumber:
		if a.isInt && b.isInt {
			return cmp.Compare(a.i, b.i)
		}
		return cmp.Compare(condFloat(a), condFloat(b))
	}
	return strings.Compare(a.s, b.s)
}

func condFloat(a condAtom) float64 {
	if a.isInt {
		return float64(a.i)
	}
	return a.f
}

var (
	condUUIDType = reflect.TypeFor[ovsdb.UUID]()
	condSetType  = reflect.TypeFor[ovsdb.OvsSet]()
	condMapType  = reflect.TypeFor[ovsdb.OvsMap]()
)

// condAppendValue appends a condition value in OVSDB notation: an atom, a set
// (an [ovsdb.OvsSet], a Go slice or array, or a pointer: nil is the empty
// set), or a map (an [ovsdb.OvsMap] or a Go map). A one-element set is
// written as its atom, as libovsdb does.
func condAppendValue(b []byte, v any) ([]byte, error) {
	if v == nil {
		return nil, errors.New("nil value")
	}
	rv := reflect.ValueOf(v)
	switch rv.Type() {
	case condSetType:
		return condAppendSet(b, reflect.ValueOf(v.(ovsdb.OvsSet).GoSet))
	case condMapType:
		return condAppendMap(b, reflect.ValueOf(v.(ovsdb.OvsMap).GoMap))
	case condUUIDType:
		a, err := condEncodeAtom(rv)
		if err != nil {
			return nil, err
		}
		return append(b, a.enc...), nil
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return append(b, `["set",[]]`...), nil
		}
		return condAppendValue(b, rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		return condAppendSet(b, rv)
	case reflect.Map:
		return condAppendMap(b, rv)
	}
	a, err := condEncodeAtom(rv)
	if err != nil {
		return nil, err
	}
	return append(b, a.enc...), nil
}

// condAppendSet appends the elements of rv (a slice or array, possibly nil)
// as a sorted set.
func condAppendSet(b []byte, rv reflect.Value) ([]byte, error) {
	n := 0
	if rv.IsValid() {
		n = rv.Len()
	}
	atoms := make([]condAtom, n)
	for i := range n {
		a, err := condEncodeAtom(rv.Index(i))
		if err != nil {
			return nil, fmt.Errorf("set element %d: %w", i, err)
		}
		atoms[i] = a
	}
	if err := condSort(atoms, "set element"); err != nil {
		return nil, err
	}
	if n == 1 {
		return append(b, atoms[0].enc...), nil
	}
	b = append(b, `["set",[`...)
	for i, a := range atoms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, a.enc...)
	}
	return append(b, "]]"...), nil
}

// condAppendMap appends the pairs of rv (a map, possibly nil) sorted by key.
func condAppendMap(b []byte, rv reflect.Value) ([]byte, error) {
	type pair struct{ k, v condAtom }
	var pairs []pair
	var keys []condAtom
	if rv.IsValid() {
		it := rv.MapRange()
		for it.Next() {
			k, err := condEncodeAtom(it.Key())
			if err != nil {
				return nil, fmt.Errorf("map key: %w", err)
			}
			v, err := condEncodeAtom(it.Value())
			if err != nil {
				return nil, fmt.Errorf("map value for key %s: %w", k.enc, err)
			}
			pairs = append(pairs, pair{k, v})
			keys = append(keys, k)
		}
	}
	if err := condSort(keys, "map key"); err != nil {
		return nil, err
	}
	slices.SortFunc(pairs, func(x, y pair) int { return condCompare(x.k, y.k) })
	for i := 1; i < len(pairs); i++ {
		if pairs[i].v.kind != pairs[0].v.kind && !(pairs[i].v.kind == condKindNumber && pairs[0].v.kind == condKindNumber) {
			return nil, fmt.Errorf("map values of different types (%s and %s)", pairs[0].v.enc, pairs[i].v.enc)
		}
	}
	b = append(b, `["map",[`...)
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = append(b, p.k.enc...)
		b = append(b, ',')
		b = append(b, p.v.enc...)
		b = append(b, ']')
	}
	return append(b, "]]"...), nil
}

// condSort sorts atoms and rejects mixed types and duplicates, which an
// OVSDB server would reject too.
func condSort(atoms []condAtom, what string) error {
	slices.SortFunc(atoms, condCompare)
	for i := 1; i < len(atoms); i++ {
		if atoms[i].kind != atoms[0].kind {
			return fmt.Errorf("%ss of different types (%s and %s)", what, atoms[0].enc, atoms[i].enc)
		}
		if condCompare(atoms[i-1], atoms[i]) == 0 {
			return fmt.Errorf("duplicate %s %s", what, atoms[i].enc)
		}
	}
	return nil
}

// condEncodeAtom encodes a single atom: a string, boolean, integer, finite
// real or [ovsdb.UUID] (any type whose kind is one of those, so named string
// types for enums work), or an interface holding one.
func condEncodeAtom(rv reflect.Value) (condAtom, error) {
	for rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return condAtom{}, errors.New("nil value")
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return condAtom{}, errors.New("nil value")
	}
	if rv.Type() == condUUIDType {
		id := rv.Interface().(ovsdb.UUID).GoUUID
		if !lastIDValid(id) {
			return condAtom{}, fmt.Errorf("uuid %q is not a UUID", id)
		}
		id = strings.ToLower(id)
		enc := append([]byte(`["uuid","`), id...)
		return condAtom{kind: condKindUUID, s: id, enc: append(enc, `"]`...)}, nil
	}
	switch rv.Kind() {
	case reflect.String:
		s := rv.String()
		enc, err := reqAppendString(nil, s)
		if err != nil {
			return condAtom{}, err
		}
		return condAtom{kind: condKindString, s: s, enc: enc}, nil
	case reflect.Bool:
		if rv.Bool() {
			return condAtom{kind: condKindBool, b: true, enc: []byte("true")}, nil
		}
		return condAtom{kind: condKindBool, enc: []byte("false")}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := rv.Int()
		return condAtom{kind: condKindNumber, isInt: true, i: i, enc: strconv.AppendInt(nil, i, 10)}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return condAtom{}, fmt.Errorf("integer %d out of the 64-bit signed range", u)
		}
		return condAtom{kind: condKindNumber, isInt: true, i: int64(u), enc: strconv.AppendUint(nil, u, 10)}, nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return condAtom{}, fmt.Errorf("real %v is not finite", f)
		}
		bits := 64
		if rv.Kind() == reflect.Float32 {
			bits = 32
		}
		enc := strconv.AppendFloat(nil, f, 'g', -1, bits)
		if !bytes.ContainsAny(enc, ".eE") {
			// Keep it a real on the wire: 1 would read as an integer.
			enc = append(enc, ".0"...)
		}
		return condAtom{kind: condKindNumber, f: f, enc: enc}, nil
	}
	return condAtom{}, fmt.Errorf("a %s has no OVSDB notation", rv.Type())
}
