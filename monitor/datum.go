package monitor

import (
	"iter"
)

// Datum is the value of one column: a read-only view of its encoding, tied
// to the column's type. Datums taken from a Row stay valid for as long as
// they are used (rows are immutable). The zero Datum has no type and is
// empty.
type Datum struct {
	t   *ColumnType
	enc string // "" means the column's default value
}

// Type returns the column type (nil for the zero Datum).
func (d Datum) Type() *ColumnType { return d.t }

// IsDefault reports whether d is its column type's default value (0, "",
// false, the zero uuid, or the empty set or map; for a set or map with min 1,
// one default atom).
func (d Datum) IsDefault() bool { return d.enc == "" }

// raw returns the encoding with the default made explicit.
func (d Datum) raw() string {
	if d.enc == "" && d.t != nil {
		return d.t.defaultEnc()
	}
	return d.enc
}

// Len returns the number of atoms in a set, pairs in a map, or 1 for a
// scalar column.
func (d Datum) Len() int {
	if d.t == nil {
		return 0
	}
	if d.t.IsScalar() {
		return 1
	}
	r := d.raw()
	if r == "" {
		return 0
	}
	n, _ := uvarint(r, 0)
	return int(n)
}

// elems returns a cursor over the elements of d's encoding (for a scalar,
// its one atom, the default made explicit).
func (d Datum) elems() elemCursor {
	if d.t == nil {
		return elemCursor{}
	}
	r := d.raw()
	if d.t.IsScalar() {
		if r == "" {
			r = defaultElem(d.t.Key.Type)
		}
		return elemCursor{enc: r, left: 1, kt: d.t.Key.Type, vt: TypeVoid}
	}
	if r == "" {
		return elemCursor{}
	}
	n, pos := uvarint(r, 0)
	return elemCursor{enc: r, pos: pos, left: n, kt: d.t.Key.Type, vt: d.t.Value.Type}
}

// elemCursor walks the elements of a datum's encoding (after the count): a
// plain loop, cheaper than nested iterator functions on the paths that
// decode every element (typed reads decode every row they return).
type elemCursor struct {
	enc    string
	pos    int
	left   uint64
	kt, vt AtomicType
}

// next returns the key and value encodings of the next element (value
// empty unless a map), and false at the end.
func (c *elemCursor) next() (k, v string, ok bool) {
	if c.left == 0 {
		return "", "", false
	}
	c.left--
	kl := elemLen(c.kt, c.enc, c.pos)
	k = c.enc[c.pos : c.pos+kl]
	c.pos += kl
	if c.vt != TypeVoid {
		vl := elemLen(c.vt, c.enc, c.pos)
		v = c.enc[c.pos : c.pos+vl]
		c.pos += vl
	}
	return k, v, true
}

var defaultElems = [...]string{
	TypeInteger: "\x00",
	TypeReal:    "\x00\x00\x00\x00\x00\x00\x00\x00",
	TypeBoolean: "\x00",
	TypeString:  "\x00",
	TypeUUID:    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
}

func defaultElem(t AtomicType) string { return defaultElems[t] }

// All iterates the atoms of a scalar or set, or the keys of a map, in OVSDB
// order.
func (d Datum) All() iter.Seq[Atom] {
	return func(yield func(Atom) bool) {
		c := d.elems()
		for {
			k, _, ok := c.next()
			if !ok || !yield(decodeElem(c.kt, k)) {
				return
			}
		}
	}
}

// Pairs iterates the key-value pairs of a map in key order.
func (d Datum) Pairs() iter.Seq2[Atom, Atom] {
	return func(yield func(Atom, Atom) bool) {
		if d.t == nil || !d.t.IsMap() {
			return
		}
		c := d.elems()
		for {
			k, v, ok := c.next()
			if !ok || !yield(decodeElem(c.kt, k), decodeElem(c.vt, v)) {
				return
			}
		}
	}
}

// Atom returns the first atom (the value of a scalar column; of an
// optional one if set) and whether there is one.
func (d Datum) Atom() (Atom, bool) {
	c := d.elems()
	k, _, ok := c.next()
	if !ok {
		return Atom{}, false
	}
	return decodeElem(c.kt, k), true
}

// Int returns the integer of a scalar or optional integer column (0 if
// empty or of another type).
func (d Datum) Int() int64 { a, _ := d.Atom(); return a.Int() }

// Float returns the real of a scalar or optional real column.
func (d Datum) Float() float64 { a, _ := d.Atom(); return a.Float() }

// Bool returns the boolean of a scalar or optional boolean column.
func (d Datum) Bool() bool { a, _ := d.Atom(); return a.Bool() }

// Str returns the string of a scalar or optional string column.
func (d Datum) Str() string { a, _ := d.Atom(); return a.Str() }

// UUID returns the uuid of a scalar or optional uuid column.
func (d Datum) UUID() UUID { a, _ := d.Atom(); return a.UUID() }

// Contains reports whether a set holds a (or a map has key a).
func (d Datum) Contains(a Atom) bool {
	_, ok := d.find(a)
	return ok
}

// Lookup returns the value for key in a map.
func (d Datum) Lookup(key Atom) (Atom, bool) {
	if d.t == nil || !d.t.IsMap() {
		return Atom{}, false
	}
	v, ok := d.find(key)
	if !ok {
		return Atom{}, false
	}
	return decodeElem(d.t.Value.Type, v), true
}

// find scans for key and returns its value encoding.
func (d Datum) find(key Atom) (string, bool) {
	if d.t == nil || key.typ != d.t.Key.Type {
		return "", false
	}
	e := d.elems()
	for {
		k, v, ok := e.next()
		if !ok {
			break
		}
		c := decodeElem(key.typ, k).Compare(key)
		if c == 0 {
			return v, true
		}
		if c > 0 {
			break
		}
	}
	return "", false
}

// Strings returns the atoms of a set of strings (or the keys of a map with
// string keys) as a new slice.
func (d Datum) Strings() []string {
	var out []string
	for a := range d.All() {
		out = append(out, a.Str())
	}
	return out
}

// UUIDs returns the atoms of a set of uuids as a new slice.
func (d Datum) UUIDs() []UUID {
	var out []UUID
	for a := range d.All() {
		out = append(out, a.UUID())
	}
	return out
}

// Ints returns the atoms of a set of integers as a new slice.
func (d Datum) Ints() []int64 {
	var out []int64
	for a := range d.All() {
		out = append(out, a.Int())
	}
	return out
}

// StringMap returns a map from strings to strings as a new Go map.
func (d Datum) StringMap() map[string]string {
	out := make(map[string]string, d.Len())
	for k, v := range d.Pairs() {
		out[k.Str()] = v.Str()
	}
	return out
}

// Equal reports whether d and o are the same value of the same column type.
func (d Datum) Equal(o Datum) bool { return d.t == o.t && d.enc == o.enc }

// MarshalJSON writes d in OVSDB JSON notation: a bare atom for a scalar or a
// one-element set, ["set", [...]] for other sets, ["map", [[k, v], ...]] for
// maps, members in OVSDB order.
func (d Datum) MarshalJSON() ([]byte, error) { return d.AppendJSON(nil), nil }

// String returns d in OVSDB JSON notation.
func (d Datum) String() string { return string(d.AppendJSON(nil)) }

// AppendJSON appends d in OVSDB JSON notation to b.
func (d Datum) AppendJSON(b []byte) []byte {
	if d.t == nil {
		return append(b, "null"...)
	}
	if d.t.IsMap() {
		b = append(b, `["map",[`...)
		first := true
		for k, v := range d.Pairs() {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '[')
			b = k.appendJSON(b)
			b = append(b, ',')
			b = v.appendJSON(b)
			b = append(b, ']')
		}
		return append(b, "]]"...)
	}
	if d.Len() == 1 {
		a, _ := d.Atom()
		return a.appendJSON(b)
	}
	b = append(b, `["set",[`...)
	first := true
	for a := range d.All() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = a.appendJSON(b)
	}
	return append(b, "]]"...)
}
