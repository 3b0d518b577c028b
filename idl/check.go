package idl

import (
	"crypto/sha256"
	"fmt"
	"math"
	"reflect"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Every value a write sends is first built as a monitor.Datum of the
// column's type, which checks it as ovsdb-server would (ovsdb_datum_from_json
// and ovsdb_atom_check_constraints in ovsdb/ovsdb-data.c): atom types,
// enums, integer and real ranges, string lengths, and the number of
// elements of sets and maps (duplicates included). Only then is it
// converted to libovsdb's wire types (OvsSet, OvsMap, UUID).

// namedUUIDs gives each named-uuid of a transaction a placeholder uuid, so
// that a value naming a row inserted in the same transaction can be checked
// like any other uuid.
type namedUUIDs map[string]monitor.UUID

func (n namedUUIDs) placeholder(name string) monitor.UUID {
	if u, ok := n[name]; ok {
		return u
	}
	sum := sha256.Sum256([]byte("named-uuid:" + name))
	var u monitor.UUID
	copy(u[:], sum[:16])
	n[name] = u
	return u
}

// isNamedUUID reports whether s may be a named-uuid: an OVSDB <id>
// (letters, digits and underscores, not starting with a digit).
func isNamedUUID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// atomOf converts a Go value to an atom of base type bt. named is nil when
// named-uuids are not allowed.
func atomOf(bt *monitor.BaseType, v reflect.Value, named namedUUIDs) (monitor.Atom, error) {
	switch bt.Type {
	case monitor.TypeInteger:
		if v.CanInt() {
			return monitor.IntegerAtom(v.Int()), nil
		}
	case monitor.TypeReal:
		if v.CanFloat() {
			f := v.Float()
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return monitor.Atom{}, fmt.Errorf("real %v is not finite", f)
			}
			return monitor.RealAtom(f), nil
		}
	case monitor.TypeBoolean:
		if v.Kind() == reflect.Bool {
			return monitor.BooleanAtom(v.Bool()), nil
		}
	case monitor.TypeString:
		if v.Kind() == reflect.String {
			return monitor.StringAtom(v.String()), nil
		}
	case monitor.TypeUUID:
		if v.Kind() == reflect.String {
			s := v.String()
			if u, err := monitor.ParseUUID(s); err == nil {
				return monitor.UUIDAtom(u), nil
			}
			if named != nil && isNamedUUID(s) {
				return monitor.UUIDAtom(named.placeholder(s)), nil
			}
			if named != nil {
				return monitor.Atom{}, fmt.Errorf("%q is neither a uuid nor a named-uuid", s)
			}
			return monitor.Atom{}, fmt.Errorf("%q is not a uuid", s)
		}
	}
	if !v.IsValid() {
		return monitor.Atom{}, fmt.Errorf("no value where a %s is expected", bt.Type)
	}
	return monitor.Atom{}, fmt.Errorf("a %s (%v) where a %s is expected", v.Type(), v, bt.Type)
}

// datumOf checks the value of field f (Go value v) against the column's
// type. With relaxed the element count is not checked (mutations insert
// and delete parts of a set or map).
func datumOf(f *fieldInfo, v reflect.Value, named namedUUIDs, relaxed bool) (monitor.Datum, error) {
	t := &f.col.Type
	if relaxed && !t.IsScalar() {
		rt := *t
		rt.Min, rt.Max = 0, monitor.Unlimited
		t = &rt
	}
	return datumOfType(t, v, named)
}

func datumOfType(t *monitor.ColumnType, v reflect.Value, named namedUUIDs) (monitor.Datum, error) {
	var atoms []monitor.Atom
	switch {
	case t.IsMap():
		if v.Kind() != reflect.Map {
			return monitor.Datum{}, fmt.Errorf("a %s where a map is expected", v.Type())
		}
		atoms = make([]monitor.Atom, 0, 2*v.Len())
		it := v.MapRange()
		for it.Next() {
			k, err := atomOf(&t.Key, it.Key(), named)
			if err != nil {
				return monitor.Datum{}, fmt.Errorf("key: %w", err)
			}
			e, err := atomOf(&t.Value, it.Value(), named)
			if err != nil {
				return monitor.Datum{}, fmt.Errorf("value of key %v: %w", it.Key(), err)
			}
			atoms = append(atoms, k, e)
		}
	case v.Kind() == reflect.Slice:
		atoms = make([]monitor.Atom, 0, v.Len())
		for i := range v.Len() {
			a, err := atomOf(&t.Key, v.Index(i), named)
			if err != nil {
				return monitor.Datum{}, err
			}
			atoms = append(atoms, a)
		}
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			a, err := atomOf(&t.Key, v.Elem(), named)
			if err != nil {
				return monitor.Datum{}, err
			}
			atoms = append(atoms, a)
		}
	default:
		a, err := atomOf(&t.Key, v, named)
		if err != nil {
			return monitor.Datum{}, err
		}
		atoms = append(atoms, a)
	}
	return monitor.NewDatum(t, atoms...)
}
