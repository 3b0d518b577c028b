package idl

import (
	"reflect"
	"unsafe"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Decoding turns a replica row (an immutable encoded value shared with the
// replica) into a fresh model. Nothing decoded is kept: every read returns
// a new value, so a caller cannot corrupt the view, and the view retains
// only the encoded rows (see "Decoding" in doc.go for the measurements).

// decodeRow returns a new model (a pointer to the table's struct) holding
// row.
func (ti *tableInfo) decodeRow(row monitor.Row) reflect.Value {
	v := reflect.New(ti.typ)
	ti.decodeInto(v.Elem(), row)
	return v
}

// decodeInto sets the tagged fields of the struct value s from row.
func (ti *tableInfo) decodeInto(s reflect.Value, row monitor.Row) {
	*(*string)(s.Field(ti.uuidIdx).Addr().UnsafePointer()) = row.UUID().String()
	for i := range ti.fields {
		f := &ti.fields[i]
		d := row.At(f.col.Index)
		if f.zeroDefault && d.IsDefault() {
			continue // the field's zero value is the column's default
		}
		f.decode(s.Field(f.index), d)
	}
}

// redecodeChanged decodes into s, a copy of the model of row now, the
// columns whose values differ in row was.
func (ti *tableInfo) redecodeChanged(s reflect.Value, was, now monitor.Row) {
	for i := range ti.fields {
		f := &ti.fields[i]
		d := was.At(f.col.Index)
		if d.Equal(now.At(f.col.Index)) {
			continue
		}
		fv := s.Field(f.index)
		fv.SetZero()
		if !f.zeroDefault || !d.IsDefault() {
			f.decode(fv, d)
		}
	}
}

// nativeAtom converts an atom to the Go value libovsdb's models use: int,
// float64, bool, or string (uuids in their text form).
func nativeAtom(a monitor.Atom) any {
	switch a.Type() {
	case monitor.TypeInteger:
		return int(a.Int())
	case monitor.TypeReal:
		return a.Float()
	case monitor.TypeBoolean:
		return a.Bool()
	case monitor.TypeUUID:
		return a.UUID().String()
	}
	return a.Str()
}

func atomString(a monitor.Atom) string {
	if a.Type() == monitor.TypeUUID {
		return a.UUID().String()
	}
	return a.Str()
}

// decoderFor returns the decoder of a field of Go type typ (already checked
// to be ovsdb.NativeType of the column) for column type ct. The common
// shapes of generated models (string, *string, []string, map[string]string,
// int, *int, bool, *bool) write through typed pointers; the rest go
// through reflect.
func decoderFor(typ reflect.Type, ct *monitor.ColumnType) func(reflect.Value, monitor.Datum) {
	p := func(v reflect.Value) unsafe.Pointer { return v.Addr().UnsafePointer() }
	switch typ {
	case reflect.TypeFor[string]():
		return func(v reflect.Value, d monitor.Datum) {
			a, _ := d.Atom()
			*(*string)(p(v)) = atomString(a)
		}
	case reflect.TypeFor[*string]():
		return func(v reflect.Value, d monitor.Datum) {
			if a, ok := d.Atom(); ok {
				s := atomString(a)
				*(**string)(p(v)) = &s
			}
		}
	case reflect.TypeFor[[]string]():
		return func(v reflect.Value, d monitor.Datum) {
			n := d.Len()
			if n == 0 {
				return
			}
			out := make([]string, 0, n)
			for a := range d.All() {
				out = append(out, atomString(a))
			}
			*(*[]string)(p(v)) = out
		}
	case reflect.TypeFor[map[string]string]():
		return func(v reflect.Value, d monitor.Datum) {
			n := d.Len()
			if n == 0 {
				return
			}
			out := make(map[string]string, n)
			for k, e := range d.Pairs() {
				out[atomString(k)] = atomString(e)
			}
			*(*map[string]string)(p(v)) = out
		}
	case reflect.TypeFor[int]():
		return func(v reflect.Value, d monitor.Datum) { *(*int)(p(v)) = int(d.Int()) }
	case reflect.TypeFor[*int]():
		return func(v reflect.Value, d monitor.Datum) {
			if a, ok := d.Atom(); ok {
				n := int(a.Int())
				*(**int)(p(v)) = &n
			}
		}
	case reflect.TypeFor[bool]():
		return func(v reflect.Value, d monitor.Datum) { *(*bool)(p(v)) = d.Bool() }
	case reflect.TypeFor[*bool]():
		return func(v reflect.Value, d monitor.Datum) {
			if a, ok := d.Atom(); ok {
				b := a.Bool()
				*(**bool)(p(v)) = &b
			}
		}
	}
	switch typ.Kind() {
	case reflect.Pointer:
		return func(v reflect.Value, d monitor.Datum) {
			if a, ok := d.Atom(); ok {
				x := reflect.New(typ.Elem())
				x.Elem().Set(reflect.ValueOf(nativeAtom(a)))
				v.Set(x)
			}
		}
	case reflect.Slice:
		return func(v reflect.Value, d monitor.Datum) {
			n := d.Len()
			if n == 0 {
				return
			}
			s := reflect.MakeSlice(typ, 0, n)
			for a := range d.All() {
				s = reflect.Append(s, reflect.ValueOf(nativeAtom(a)))
			}
			v.Set(s)
		}
	case reflect.Map:
		return func(v reflect.Value, d monitor.Datum) {
			n := d.Len()
			if n == 0 {
				return
			}
			m := reflect.MakeMapWithSize(typ, n)
			for k, e := range d.Pairs() {
				m.SetMapIndex(reflect.ValueOf(nativeAtom(k)), reflect.ValueOf(nativeAtom(e)))
			}
			v.Set(m)
		}
	}
	return func(v reflect.Value, d monitor.Datum) {
		if a, ok := d.Atom(); ok {
			v.Set(reflect.ValueOf(nativeAtom(a)).Convert(typ))
		}
	}
}
