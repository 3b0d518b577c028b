package idl

import (
	"reflect"
	"unsafe"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Decoding turns a replica row (an immutable encoded value shared with the
// replica) into a fresh model. Nothing decoded is kept: every read returns
// a new value, so a caller cannot corrupt the view, and the view retains
// only the encoded rows (bench/idl_bench_test.go and BenchmarkDecodeRow
// measure it). Strings share the row's immutable encoding; maps, slices
// and pointers are new.
//
// Fields are written through their addresses (the struct's address plus
// the field's offset, both from reflect, the type having been checked
// against the column): the common shapes of generated models through typed
// pointers, the rest through reflect.NewAt.

// decodeRow returns a new model (a pointer to the table's struct) holding
// row.
func (ti *tableInfo) decodeRow(row monitor.Row) reflect.Value {
	v := reflect.New(ti.typ)
	ti.decodeAt(v.UnsafePointer(), row)
	return v
}

// decodeInto sets the tagged fields of the addressable struct value s.
func (ti *tableInfo) decodeInto(s reflect.Value, row monitor.Row) {
	ti.decodeAt(s.Addr().UnsafePointer(), row)
}

func (ti *tableInfo) decodeAt(base unsafe.Pointer, row monitor.Row) {
	*(*string)(unsafe.Add(base, ti.uuidOff)) = row.UUID().String()
	for i := range ti.fields {
		f := &ti.fields[i]
		d := row.At(f.col.Index)
		if f.zeroDefault && d.IsDefault() {
			continue // the field's zero value is the column's default
		}
		f.decode(unsafe.Add(base, f.off), d)
	}
}

// decodePair returns the models of a modify from row was to row now, in
// one pass over the columns: now decoded into a new model, and was as a
// copy of it (sharing the values of the columns that did not change) with
// the columns that differ decoded again.
func (ti *tableInfo) decodePair(was, now monitor.Row) (oldV, newV reflect.Value) {
	newV = reflect.New(ti.typ)
	base := newV.UnsafePointer()
	*(*string)(unsafe.Add(base, ti.uuidOff)) = now.UUID().String()
	var small [32]int
	changed := small[:0]
	for i := range ti.fields {
		f := &ti.fields[i]
		d := now.At(f.col.Index)
		if !d.Equal(was.At(f.col.Index)) {
			changed = append(changed, i)
		}
		if f.zeroDefault && d.IsDefault() {
			continue
		}
		f.decode(unsafe.Add(base, f.off), d)
	}
	oldV = reflect.New(ti.typ)
	oldV.Elem().Set(newV.Elem())
	base = oldV.UnsafePointer()
	for _, i := range changed {
		// Every decoder sets its field (zero for an empty value), so
		// the value copied from the new model is replaced.
		f := &ti.fields[i]
		f.decode(unsafe.Add(base, f.off), was.At(f.col.Index))
	}
	return oldV, newV
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
// to be ovsdb.NativeType of the column) for column type ct; it is called
// with the field's address, and sets the field whatever it held (to its
// zero value for an empty set, map or optional).
func decoderFor(typ reflect.Type, ct *monitor.ColumnType) func(unsafe.Pointer, monitor.Datum) {
	switch typ {
	case reflect.TypeFor[string]():
		return func(p unsafe.Pointer, d monitor.Datum) {
			a, _ := d.Atom()
			*(*string)(p) = atomString(a)
		}
	case reflect.TypeFor[*string]():
		return func(p unsafe.Pointer, d monitor.Datum) {
			var v *string
			if a, ok := d.Atom(); ok {
				s := atomString(a)
				v = &s
			}
			*(**string)(p) = v
		}
	case reflect.TypeFor[[]string]():
		return func(p unsafe.Pointer, d monitor.Datum) {
			n := d.Len()
			if n == 0 {
				*(*[]string)(p) = nil
				return
			}
			out := make([]string, 0, n)
			for a := range d.All() {
				out = append(out, atomString(a))
			}
			*(*[]string)(p) = out
		}
	case reflect.TypeFor[map[string]string]():
		return func(p unsafe.Pointer, d monitor.Datum) {
			n := d.Len()
			if n == 0 {
				*(*map[string]string)(p) = nil
				return
			}
			out := make(map[string]string, n)
			for k, e := range d.Pairs() {
				out[atomString(k)] = atomString(e)
			}
			*(*map[string]string)(p) = out
		}
	case reflect.TypeFor[int]():
		return func(p unsafe.Pointer, d monitor.Datum) { *(*int)(p) = int(d.Int()) }
	case reflect.TypeFor[*int]():
		return func(p unsafe.Pointer, d monitor.Datum) {
			var v *int
			if a, ok := d.Atom(); ok {
				n := int(a.Int())
				v = &n
			}
			*(**int)(p) = v
		}
	case reflect.TypeFor[bool]():
		return func(p unsafe.Pointer, d monitor.Datum) { *(*bool)(p) = d.Bool() }
	case reflect.TypeFor[*bool]():
		return func(p unsafe.Pointer, d monitor.Datum) {
			var v *bool
			if a, ok := d.Atom(); ok {
				b := a.Bool()
				v = &b
			}
			*(**bool)(p) = v
		}
	}
	field := func(p unsafe.Pointer) reflect.Value { return reflect.NewAt(typ, p).Elem() }
	switch typ.Kind() {
	case reflect.Pointer:
		return func(p unsafe.Pointer, d monitor.Datum) {
			a, ok := d.Atom()
			if !ok {
				field(p).SetZero()
				return
			}
			x := reflect.New(typ.Elem())
			x.Elem().Set(reflect.ValueOf(nativeAtom(a)))
			field(p).Set(x)
		}
	case reflect.Slice:
		return func(p unsafe.Pointer, d monitor.Datum) {
			n := d.Len()
			if n == 0 {
				field(p).SetZero()
				return
			}
			s := reflect.MakeSlice(typ, 0, n)
			for a := range d.All() {
				s = reflect.Append(s, reflect.ValueOf(nativeAtom(a)))
			}
			field(p).Set(s)
		}
	case reflect.Map:
		return func(p unsafe.Pointer, d monitor.Datum) {
			n := d.Len()
			if n == 0 {
				field(p).SetZero()
				return
			}
			m := reflect.MakeMapWithSize(typ, n)
			for k, e := range d.Pairs() {
				m.SetMapIndex(reflect.ValueOf(nativeAtom(k)), reflect.ValueOf(nativeAtom(e)))
			}
			field(p).Set(m)
		}
	}
	return func(p unsafe.Pointer, d monitor.Datum) {
		a, ok := d.Atom()
		if !ok {
			field(p).SetZero()
			return
		}
		field(p).Set(reflect.ValueOf(nativeAtom(a)).Convert(typ))
	}
}
