package idl

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ovn-org/libovsdb/model"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// indexSpec is one index of a table: a schema index (a set of columns the
// server keeps unique) or a client index (model.ClientIndex: columns, or
// keys of map columns, with no uniqueness).
type indexSpec struct {
	name   string // "name" or "external_ids:owner,type" (for messages)
	schema bool
	cols   []indexCol
}

type indexCol struct {
	f   *fieldInfo
	key *monitor.Atom // map key, or nil for the whole column
}

// indexSpecs returns the schema's indexes over the model's columns
// (indexes on columns the model leaves out cannot be maintained and are
// skipped), then the client indexes.
func indexSpecs(ti *tableInfo, client []model.ClientIndex) ([]*indexSpec, error) {
	var out []*indexSpec
schema:
	for _, cols := range ti.ots.Indexes {
		s := &indexSpec{name: strings.Join(cols, ","), schema: true}
		for _, c := range cols {
			f := ti.byCol[c]
			if f == nil {
				continue schema
			}
			s.cols = append(s.cols, indexCol{f: f})
		}
		out = append(out, s)
	}
	for _, ci := range client {
		s := &indexSpec{}
		var names []string
		for _, ck := range ci.Columns {
			f := ti.byCol[ck.Column]
			if f == nil {
				return nil, &ModelError{Table: ti.name, Column: ck.Column, Reason: "client index on a column the model does not have"}
			}
			ic := indexCol{f: f}
			name := ck.Column
			if ck.Key != nil {
				if !f.col.Type.IsMap() {
					return nil, &ModelError{Table: ti.name, Column: ck.Column, Field: f.name,
						Reason: fmt.Sprintf("client index on key %v of a column that is not a map", ck.Key)}
				}
				k, err := atomOf(&f.col.Type.Key, reflect.ValueOf(ck.Key), nil)
				if err != nil {
					return nil, &ModelError{Table: ti.name, Column: ck.Column, Field: f.name,
						Reason: fmt.Sprintf("client index key %v: %v", ck.Key, err)}
				}
				ic.key = &k
				name += ":" + fmt.Sprint(ck.Key)
			}
			names = append(names, name)
			s.cols = append(s.cols, ic)
		}
		if len(s.cols) == 0 {
			return nil, &ModelError{Table: ti.name, Reason: "client index with no columns"}
		}
		s.name = strings.Join(names, ",")
		out = append(out, s)
	}
	return out, nil
}

// sameColumns reports whether the indexed columns of two versions of a row
// hold the same values (then their keys are equal).
func (s *indexSpec) sameColumns(a, b monitor.Row) bool {
	for _, c := range s.cols {
		if !a.At(c.f.col.Index).Equal(b.At(c.f.col.Index)) {
			return false
		}
	}
	return true
}

// appendRowKey appends the index key of row to buf, and returns false when
// the row is not in the index (a map lacks the indexed key).
func (s *indexSpec) appendRowKey(buf []byte, row monitor.Row) ([]byte, bool) {
	for i, c := range s.cols {
		if i > 0 {
			buf = append(buf, 0)
		}
		d := row.At(c.f.col.Index)
		if c.key == nil {
			if c.f.col.Type.IsScalar() {
				a, _ := d.Atom()
				buf = s.appendAtom(buf, a)
			} else {
				buf = d.AppendJSON(buf)
			}
			continue
		}
		v, ok := d.Lookup(*c.key)
		if !ok {
			return buf, false
		}
		buf = s.appendAtom(buf, v)
	}
	return buf, true
}

// appendAtom appends a one-to-one text form of a to buf (rows and models
// use it alike, so it need not be OVSDB's): a string as is in a
// one-column index (the column's type is fixed), quoted otherwise (the
// columns' keys are separated by a 0 byte).
func (s *indexSpec) appendAtom(buf []byte, a monitor.Atom) []byte {
	if a.Type() == monitor.TypeString {
		if len(s.cols) == 1 {
			return append(buf, a.Str()...)
		}
		return strconv.AppendQuote(buf, a.Str())
	}
	j, _ := a.MarshalJSON()
	return append(buf, j...)
}

// modelKey returns the index key of a model's values, and false when the
// model does not give the index a value (for a schema index, a column at
// its default; for a client index, a map lacking the key).
func (s *indexSpec) modelKey(ti *tableInfo, v reflect.Value) (string, bool) {
	var buf []byte
	for i, c := range s.cols {
		if i > 0 {
			buf = append(buf, 0)
		}
		fv := v.Field(c.f.index)
		if c.key == nil {
			if s.schema && fv.IsZero() {
				return "", false
			}
			if c.f.col.Type.IsScalar() {
				a, err := atomOf(&c.f.col.Type.Key, fv, nil)
				if err != nil {
					return "", false
				}
				buf = s.appendAtom(buf, a)
				continue
			}
			d, err := datumOf(c.f, fv, nil, false)
			if err != nil {
				return "", false
			}
			buf = d.AppendJSON(buf)
			continue
		}
		if fv.IsNil() {
			return "", false
		}
		e := fv.MapIndex(reflect.ValueOf(nativeAtom(*c.key)))
		if !e.IsValid() {
			return "", false
		}
		a, err := atomOf(&c.f.col.Type.Value, e, nil)
		if err != nil {
			return "", false
		}
		buf = s.appendAtom(buf, a)
	}
	return string(buf), true
}

// uuidSet is the set of rows under one index key: almost always one row
// (schema indexes are unique once a transaction completes), often a few,
// sometimes many (client indexes). The first row is held inline; more go
// to a slice, and past smallSet to a map. A set in an index is never empty.
type uuidSet struct {
	first monitor.UUID
	more  *moreUUIDs
}

type moreUUIDs struct {
	rest []monitor.UUID
	many map[monitor.UUID]struct{} // when set, first and rest are unused
}

const smallSet = 16

func (u *uuidSet) add(id monitor.UUID) {
	if u.more == nil {
		if id != u.first {
			u.more = &moreUUIDs{rest: []monitor.UUID{id}}
		}
		return
	}
	m := u.more
	switch {
	case m.many != nil:
		m.many[id] = struct{}{}
	case id == u.first || slices.Contains(m.rest, id):
	case len(m.rest) < smallSet-1:
		m.rest = append(m.rest, id)
	default:
		m.many = make(map[monitor.UUID]struct{}, 2*smallSet)
		m.many[u.first] = struct{}{}
		for _, x := range m.rest {
			m.many[x] = struct{}{}
		}
		m.many[id] = struct{}{}
		m.rest = nil
	}
}

// remove drops id and reports whether the set is now empty.
func (u *uuidSet) remove(id monitor.UUID) bool {
	m := u.more
	if m == nil {
		return id == u.first
	}
	if m.many != nil {
		delete(m.many, id)
		return len(m.many) == 0
	}
	last := len(m.rest) - 1
	switch i := slices.Index(m.rest, id); {
	case id == u.first:
		u.first = m.rest[last]
		m.rest = m.rest[:last]
	case i >= 0:
		m.rest[i] = m.rest[last]
		m.rest = m.rest[:last]
	}
	if len(m.rest) == 0 {
		u.more = nil
	}
	return false
}

func (u *uuidSet) each(yield func(monitor.UUID) bool) {
	m := u.more
	if m != nil && m.many != nil {
		for id := range m.many {
			if !yield(id) {
				return
			}
		}
		return
	}
	if !yield(u.first) || m == nil {
		return
	}
	for _, id := range m.rest {
		if !yield(id) {
			return
		}
	}
}

// index is an indexSpec with its contents.
type index struct {
	spec *indexSpec
	m    map[string]*uuidSet
	// spare holds sets whose key went away, for new keys: a row moving
	// between keys (an owner changing hands) empties one and fills
	// another, without an allocation per update.
	spare []*uuidSet
}

// maxSpare bounds index.spare.
const maxSpare = 8

// add puts id under key (the string is made only for a new key).
func (x *index) add(key []byte, id monitor.UUID) {
	if s := x.m[string(key)]; s != nil {
		s.add(id)
		return
	}
	var s *uuidSet
	if n := len(x.spare); n > 0 {
		s = x.spare[n-1]
		x.spare = x.spare[:n-1]
		*s = uuidSet{first: id}
	} else {
		s = &uuidSet{first: id}
	}
	x.m[string(key)] = s
}

func (x *index) remove(key []byte, id monitor.UUID) {
	if s := x.m[string(key)]; s != nil && s.remove(id) {
		delete(x.m, string(key))
		if len(x.spare) < maxSpare {
			*s = uuidSet{}
			x.spare = append(x.spare, s)
		}
	}
}
