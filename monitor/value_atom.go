package monitor

import (
	"cmp"
	"math"
	"strconv"
)

// AtomicType is one of the five OVSDB atomic types.
type AtomicType uint8

// The OVSDB atomic types. TypeVoid marks the absent value type of a column
// that is not a map.
const (
	TypeVoid AtomicType = iota
	TypeInteger
	TypeReal
	TypeBoolean
	TypeString
	TypeUUID
)

var atomicTypeNames = [...]string{"void", "integer", "real", "boolean", "string", "uuid"}

// String returns the OVSDB name of the type ("integer", "real", ...).
func (t AtomicType) String() string {
	if int(t) < len(atomicTypeNames) {
		return atomicTypeNames[t]
	}
	return "AtomicType(" + strconv.Itoa(int(t)) + ")"
}

// atomicTypeFromName maps an OVSDB schema type name to an AtomicType.
func atomicTypeFromName(s string) (AtomicType, bool) {
	switch s {
	case "integer":
		return TypeInteger, true
	case "real":
		return TypeReal, true
	case "boolean":
		return TypeBoolean, true
	case "string":
		return TypeString, true
	case "uuid":
		return TypeUUID, true
	}
	return TypeVoid, false
}

// Atom is one OVSDB atomic value: an integer, real, boolean, string or uuid.
// The zero Atom is invalid (TypeVoid). Atoms are small values, cheap to copy;
// an Atom read from a [Datum] does not copy string data.
type Atom struct {
	typ AtomicType
	n   uint64 // integer (two's complement), real (IEEE bits), boolean (0/1)
	s   string // string; uuid as its 16 raw bytes
}

// IntegerAtom returns an integer atom.
func IntegerAtom(v int64) Atom { return Atom{typ: TypeInteger, n: uint64(v)} }

// RealAtom returns a real atom. -0 is stored as 0, since OVSDB compares reals
// numerically.
func RealAtom(v float64) Atom {
	if v == 0 {
		v = 0
	}
	return Atom{typ: TypeReal, n: math.Float64bits(v)}
}

// BooleanAtom returns a boolean atom.
func BooleanAtom(v bool) Atom {
	a := Atom{typ: TypeBoolean}
	if v {
		a.n = 1
	}
	return a
}

// StringAtom returns a string atom. The string should be valid UTF-8, as OVSDB
// requires; the parsers reject anything else.
func StringAtom(v string) Atom { return Atom{typ: TypeString, s: v} }

// UUIDAtom returns a uuid atom.
func UUIDAtom(u UUID) Atom { return Atom{typ: TypeUUID, s: string(u[:])} }

// Type returns the atom's type (TypeVoid for the zero Atom).
func (a Atom) Type() AtomicType { return a.typ }

// Int returns the value of an integer atom (0 for other types).
func (a Atom) Int() int64 {
	if a.typ != TypeInteger {
		return 0
	}
	return int64(a.n)
}

// Float returns the value of a real atom (0 for other types).
func (a Atom) Float() float64 {
	if a.typ != TypeReal {
		return 0
	}
	return math.Float64frombits(a.n)
}

// Bool returns the value of a boolean atom (false for other types).
func (a Atom) Bool() bool { return a.typ == TypeBoolean && a.n != 0 }

// Str returns the value of a string atom ("" for other types).
func (a Atom) Str() string {
	if a.typ != TypeString {
		return ""
	}
	return a.s
}

// UUID returns the value of a uuid atom (the zero UUID for other types).
func (a Atom) UUID() UUID {
	var u UUID
	if a.typ == TypeUUID {
		copy(u[:], a.s)
	}
	return u
}

// Compare orders atoms the way ovsdb-server orders set members and map keys:
// integers and reals numerically, false before true, strings byte by byte,
// uuids by their bytes. Atoms of different types order by type.
func (a Atom) Compare(b Atom) int {
	if a.typ != b.typ {
		return cmp.Compare(a.typ, b.typ)
	}
	switch a.typ {
	case TypeInteger:
		return cmp.Compare(int64(a.n), int64(b.n))
	case TypeReal:
		return cmp.Compare(math.Float64frombits(a.n), math.Float64frombits(b.n))
	case TypeBoolean:
		return cmp.Compare(a.n, b.n)
	default:
		return cmp.Compare(a.s, b.s)
	}
}

// isZero reports whether a is the default atom of its type.
func (a Atom) isZero() bool {
	return a.n == 0 && (a.s == "" || a.typ == TypeUUID && a.s == defaultElems[TypeUUID])
}

// Equal reports whether a and b are the same atom.
func (a Atom) Equal(b Atom) bool { return a.Compare(b) == 0 }

// MarshalJSON writes the atom in OVSDB notation: a JSON number, boolean or
// string, or ["uuid","<uuid>"].
func (a Atom) MarshalJSON() ([]byte, error) { return a.appendJSON(nil), nil }

// String returns the atom in OVSDB JSON notation.
func (a Atom) String() string { return string(a.appendJSON(nil)) }

func (a Atom) appendJSON(b []byte) []byte {
	switch a.typ {
	case TypeInteger:
		return strconv.AppendInt(b, int64(a.n), 10)
	case TypeReal:
		return appendReal(b, math.Float64frombits(a.n))
	case TypeBoolean:
		return strconv.AppendBool(b, a.n != 0)
	case TypeString:
		return appendJSONString(b, a.s)
	case TypeUUID:
		b = append(b, `["uuid","`...)
		b = a.UUID().appendTo(b)
		return append(b, `"]`...)
	}
	return append(b, "null"...)
}

// appendReal writes a real the way OVSDB does: the shortest representation
// that reads back as the same float64 ("2", "1.5", "1e+300").
func appendReal(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendJSONString writes s as a JSON string, escaping only what JSON
// requires (quote, backslash, control characters), as Open vSwitch does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
