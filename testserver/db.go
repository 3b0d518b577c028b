package testserver

import (
	"encoding/json"
	"strings"
)

// This file holds the row storage: rows, one database's contents, change
// sets (what a committed transaction did) and the unique indexes the
// transaction engine checks.

// row is one database row. Rows are immutable once stored: a change makes a
// new row value, so the same *row can be shared by several members' views.
type row struct {
	uuid    string
	version string
	cols    map[string]datum
}

// get returns a column's value, including the implicit _uuid and _version.
func (r *row) get(name string) datum {
	switch name {
	case "_uuid":
		return scalar(uuidAtom(r.uuid))
	case "_version":
		return scalar(uuidAtom(r.version))
	}
	return r.cols[name]
}

func (r *row) clone() *row {
	n := &row{uuid: r.uuid, version: r.version, cols: make(map[string]datum, len(r.cols))}
	for k, v := range r.cols {
		n.cols[k] = v
	}
	return n
}

// sameValues reports whether a and b hold equal user columns.
func sameValues(a, b *row) bool {
	if len(a.cols) != len(b.cols) {
		return false
	}
	for k, v := range a.cols {
		w, ok := b.cols[k]
		if !ok || !v.equal(w) {
			return false
		}
	}
	return true
}

// newDefaultRow returns a row with every column at its default value.
func newDefaultRow(t *tableSchema, uuid string) *row {
	r := &row{uuid: uuid, cols: make(map[string]datum, len(t.columns))}
	for name, c := range t.columns {
		r.cols[name] = defaultDatum(&c.typ)
	}
	return r
}

// rowJSON renders the named columns of r. With omitDefaults (update2
// "initial" and "insert"), columns holding their default value are left out.
func rowJSON(r *row, t *tableSchema, cols []string, omitDefaults bool) map[string]any {
	out := make(map[string]any, len(cols))
	for _, name := range cols {
		c := t.column(name)
		v := r.get(name)
		if omitDefaults && c != uuidColumn && c != versionColumn && v.equal(defaultDatum(&c.typ)) {
			continue
		}
		out[name] = v.toJSON(&c.typ)
	}
	return out
}

// allColumns lists every user column of t plus _uuid and _version, as a
// select without "columns" returns them.
func allColumns(t *tableSchema) []string {
	cols := make([]string, 0, len(t.colNames)+2)
	cols = append(cols, "_uuid", "_version")
	return append(cols, t.colNames...)
}

// dbState is the contents of one database.
type dbState struct {
	schema *dbSchema
	tables map[string]map[string]*row
	// indexes, when not nil, maps table -> index number -> key -> row UUID
	// for the schema's unique indexes (kept for the committed state only).
	indexes map[string][]map[string]string
}

func newDBState(s *dbSchema, withIndexes bool) *dbState {
	d := &dbState{schema: s, tables: make(map[string]map[string]*row, len(s.tables))}
	for name := range s.tables {
		d.tables[name] = map[string]*row{}
	}
	if withIndexes {
		d.indexes = map[string][]map[string]string{}
		for name, t := range s.tables {
			for range t.indexes {
				d.indexes[name] = append(d.indexes[name], map[string]string{})
			}
		}
	}
	return d
}

// clone copies the table maps (rows are shared); indexes are not copied.
func (d *dbState) clone() *dbState {
	n := &dbState{schema: d.schema, tables: make(map[string]map[string]*row, len(d.tables))}
	for name, rows := range d.tables {
		m := make(map[string]*row, len(rows))
		for u, r := range rows {
			m[u] = r
		}
		n.tables[name] = m
	}
	return n
}

// rowChange is what a transaction did to one row: old is nil for an insert,
// new is nil for a delete.
type rowChange struct {
	old, new *row
}

// changeSet is table -> row UUID -> change.
type changeSet map[string]map[string]*rowChange

func (cs changeSet) empty() bool {
	for _, rows := range cs {
		if len(rows) > 0 {
			return false
		}
	}
	return true
}

// apply stores a change set into d.
func (d *dbState) apply(cs changeSet) {
	for table, rows := range cs {
		m := d.tables[table]
		if m == nil {
			continue
		}
		for u, ch := range rows {
			if d.indexes != nil {
				d.unindex(table, ch.old)
				d.index(table, ch.new)
			}
			if ch.new == nil {
				delete(m, u)
			} else {
				m[u] = ch.new
			}
		}
	}
}

// indexKey renders the values of index columns cols of r as a map key.
func indexKey(r *row, cols []string) string {
	var b strings.Builder
	for _, c := range cols {
		r.get(c).writeKey(&b)
		b.WriteByte(0)
	}
	return b.String()
}

func (d *dbState) index(table string, r *row) {
	if r == nil {
		return
	}
	for i, cols := range d.schema.tables[table].indexes {
		d.indexes[table][i][indexKey(r, cols)] = r.uuid
	}
}

func (d *dbState) unindex(table string, r *row) {
	if r == nil {
		return
	}
	for i, cols := range d.schema.tables[table].indexes {
		k := indexKey(r, cols)
		if d.indexes[table][i][k] == r.uuid {
			delete(d.indexes[table][i], k)
		}
	}
}

// dump renders d as table -> uuid -> column -> value (RFC 7047 notation),
// user columns only.
func (d *dbState) dump() map[string]map[string]map[string]json.RawMessage {
	out := map[string]map[string]map[string]json.RawMessage{}
	for name, rows := range d.tables {
		t := d.schema.tables[name]
		tm := map[string]map[string]json.RawMessage{}
		for u, r := range rows {
			rm := map[string]json.RawMessage{}
			for _, cn := range t.colNames {
				c := t.columns[cn]
				rm[cn] = marshal(r.cols[cn].toJSON(&c.typ))
			}
			tm[u] = rm
		}
		out[name] = tm
	}
	return out
}
