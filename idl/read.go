package idl

import (
	"fmt"
	"reflect"

	"github.com/ovn-org/libovsdb/model"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// reader runs fn on a consistent source: the typed view (Client) or a
// transaction's replica view (Tx).
type reader interface {
	read(fn func(src source) error) error
}

// tableOf returns the bound table of a model type (a pointer to a struct).
func tableOf(si *schemaInfo, t reflect.Type) (*tableInfo, error) {
	tm := si.db.byType[t]
	if tm == nil {
		return nil, fmt.Errorf("%w: %s is not a model of the ClientDBModel", ErrWrongType, t)
	}
	return si.tables[tm.name], nil
}

// modelTable returns the table of m, a pointer to a model struct.
func modelTable(si *schemaInfo, m model.Model) (*tableInfo, reflect.Value, error) {
	v := reflect.ValueOf(m)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, reflect.Value{}, fmt.Errorf("%w: %T is not a pointer to a model", ErrWrongType, m)
	}
	ti, err := tableOf(si, v.Type())
	return ti, v, err
}

// uuidOf returns the _uuid field of the model struct value s.
func (ti *tableInfo) uuidOf(s reflect.Value) string { return s.Field(ti.uuidIdx).String() }

// match finds the rows a model designates, as libovsdb's cache does: by
// _uuid if set and present, else by the first index (schema indexes in
// schema order, then, with client, client indexes in model order) whose
// value the model gives and under which rows exist.
func match(src source, ti *tableInfo, s reflect.Value, client bool, yield func(monitor.Row) bool) {
	if id := ti.uuidOf(s); id != "" {
		if u, err := monitor.ParseUUID(id); err == nil {
			if r, ok := src.get(ti, u); ok {
				yield(r)
				return
			}
		}
	}
	for i, spec := range ti.indexes {
		if !spec.schema && !client {
			break
		}
		key, ok := spec.modelKey(ti, s)
		if !ok {
			continue
		}
		found := false
		for r := range src.lookup(ti, i, key) {
			found = true
			if !yield(r) {
				return
			}
		}
		if found {
			return
		}
	}
}

// get fills m with the row it designates by _uuid or a schema index
// (libovsdb's Get).
func get(src source, m model.Model) error {
	ti, v, err := modelTable(src.schema(), m)
	if err != nil {
		return err
	}
	found := false
	match(src, ti, v.Elem(), false, func(r monitor.Row) bool {
		z := reflect.New(ti.typ).Elem()
		ti.decodeInto(z, r)
		v.Elem().Set(z)
		found = true
		return false
	})
	if !found {
		return ErrNotFound
	}
	return nil
}

// resultSlice checks that result is a pointer to a slice of models (T or
// *T) and returns the slice value, its table and whether elements are
// pointers.
func resultSlice(si *schemaInfo, result any) (reflect.Value, *tableInfo, bool, error) {
	rv := reflect.ValueOf(result)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Slice {
		return reflect.Value{}, nil, false, fmt.Errorf("%w: result must be a pointer to a slice of models, not %T", ErrWrongType, result)
	}
	et := rv.Elem().Type().Elem()
	ptr := et.Kind() == reflect.Pointer
	if !ptr {
		et = reflect.PointerTo(et)
	}
	ti, err := tableOf(si, et)
	return rv.Elem(), ti, ptr, err
}

// collect decodes the rows yielded by each into the slice result points
// to, keeping at most cap(result) rows if the slice has a capacity (as
// libovsdb's List does).
func collect(src source, result any, each func(ti *tableInfo, yield func(monitor.Row) bool)) error {
	sv, ti, ptr, err := resultSlice(src.schema(), result)
	if err != nil {
		return err
	}
	limit := sv.Cap()
	out := sv.Slice(0, 0)
	n := 0
	each(ti, func(r monitor.Row) bool {
		m := ti.decodeRow(r)
		if ptr {
			out = reflect.Append(out, m)
		} else {
			out = reflect.Append(out, m.Elem())
		}
		n++
		return limit == 0 || n < limit
	})
	sv.Set(out)
	return nil
}

// predicateOf checks that pred is a func(*T) bool for a model T and
// returns its table and a caller.
func predicateOf(si *schemaInfo, pred any) (*tableInfo, func(reflect.Value) bool, error) {
	pv := reflect.ValueOf(pred)
	pt := pv.Type()
	if pv.Kind() != reflect.Func || pt.NumIn() != 1 || pt.NumOut() != 1 || pt.Out(0).Kind() != reflect.Bool {
		return nil, nil, fmt.Errorf("%w: predicate must be a func(*Model) bool, not %T", ErrWrongType, pred)
	}
	ti, err := tableOf(si, pt.In(0))
	if err != nil {
		return nil, nil, err
	}
	if f, ok := pred.(func(model.Model) bool); ok {
		return ti, func(v reflect.Value) bool { return f(v.Interface()) }, nil
	}
	args := make([]reflect.Value, 1)
	return ti, func(v reflect.Value) bool {
		args[0] = v
		return pv.Call(args)[0].Bool()
	}, nil
}

// Get returns the model whose _uuid is id, read from r (a *Client or *Tx).
func Get[T any](r interface{ reader }, id string) (*T, error) {
	var out *T
	err := r.read(func(src source) error {
		ti, err := tableOf(src.schema(), reflect.TypeFor[*T]())
		if err != nil {
			return err
		}
		u, err := monitor.ParseUUID(id)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		row, ok := src.get(ti, u)
		if !ok {
			return ErrNotFound
		}
		out = ti.decodeRow(row).Interface().(*T)
		return nil
	})
	return out, err
}

// List returns every model of type T that pred accepts (every one if pred is
// nil), read from r (a *Client or *Tx).
func List[T any](r interface{ reader }, pred func(*T) bool) ([]*T, error) {
	var out []*T
	err := r.read(func(src source) error {
		ti, err := tableOf(src.schema(), reflect.TypeFor[*T]())
		if err != nil {
			return err
		}
		for _, row := range src.rows(ti) {
			m := ti.decodeRow(row).Interface().(*T)
			if pred == nil || pred(m) {
				out = append(out, m)
			}
		}
		return nil
	})
	return out, err
}

// Lookup returns the models that m designates: the row with m's _uuid if
// set, else the rows under the first index (schema indexes, then client
// indexes such as external_ids:owner) for which m has a value and the view
// has rows. Index lookups on the typed view cost O(1) plus the decoding of
// each result.
func Lookup[T any](r interface{ reader }, m *T) ([]*T, error) {
	var out []*T
	err := r.read(func(src source) error {
		ti, err := tableOf(src.schema(), reflect.TypeFor[*T]())
		if err != nil {
			return err
		}
		match(src, ti, reflect.ValueOf(m).Elem(), true, func(row monitor.Row) bool {
			out = append(out, ti.decodeRow(row).Interface().(*T))
			return true
		})
		return nil
	})
	return out, err
}

// Count returns the number of rows of type T in r.
func Count[T any](r interface{ reader }) (int, error) {
	n := 0
	err := r.read(func(src source) error {
		ti, err := tableOf(src.schema(), reflect.TypeFor[*T]())
		if err != nil {
			return err
		}
		for range src.rows(ti) {
			n++
		}
		return nil
	})
	return n, err
}
