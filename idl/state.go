package idl

import (
	"iter"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// state is the typed view: the rows of each modelled table (the replica's
// immutable encoded rows, shared with it, not copied) and their indexes, as
// of the last update the client has processed. It is replaced as a whole
// when the server's schema changes, and changed in place (under Client.mu)
// otherwise.
type state struct {
	si     *schemaInfo
	tables map[string]*tableState
	buf    []byte // scratch for index keys; used under the write lock
}

type tableState struct {
	info    *tableInfo
	rows    map[monitor.UUID]monitor.Row
	indexes []*index
}

func newState(si *schemaInfo) *state {
	st := &state{si: si, tables: make(map[string]*tableState, len(si.tables))}
	for name, ti := range si.tables {
		ts := &tableState{info: ti, rows: map[monitor.UUID]monitor.Row{}}
		for _, spec := range ti.indexes {
			ts.indexes = append(ts.indexes, &index{spec: spec, m: map[string]*uuidSet{}})
		}
		st.tables[name] = ts
	}
	return st
}

// fits reports whether every change was decoded with this state's schema.
func (st *state) fits(changes monitor.Changes) bool {
	for c := range changes.All() {
		r := c.New
		if c.Op == monitor.ChangeDelete {
			r = c.Old
		}
		if ts := st.tables[c.Table]; ts != nil && ts.info.ts != r.Table() {
			return false
		}
	}
	return true
}

// apply applies changes in order, keeping the indexes in step.
func (st *state) apply(changes monitor.Changes) {
	for c := range changes.All() {
		ts := st.tables[c.Table]
		if ts == nil {
			continue
		}
		switch c.Op {
		case monitor.ChangeInsert:
			ts.rows[c.UUID] = c.New
			st.indexAdd(ts, c.New)
		case monitor.ChangeDelete:
			old, ok := ts.rows[c.UUID]
			if !ok {
				continue
			}
			delete(ts.rows, c.UUID)
			st.indexRemove(ts, old)
		case monitor.ChangeModify:
			old, ok := ts.rows[c.UUID]
			ts.rows[c.UUID] = c.New
			if !ok {
				st.indexAdd(ts, c.New)
				continue
			}
			for _, x := range ts.indexes {
				if x.spec.sameColumns(old, c.New) {
					continue // the common case: the indexed columns did not change
				}
				var ok1, ok2 bool
				st.buf, ok1 = x.spec.appendRowKey(st.buf[:0], old)
				n := len(st.buf)
				st.buf, ok2 = x.spec.appendRowKey(st.buf, c.New)
				k1, k2 := st.buf[:n], st.buf[n:]
				if ok1 == ok2 && string(k1) == string(k2) {
					continue
				}
				if ok1 {
					x.remove(k1, c.UUID)
				}
				if ok2 {
					x.add(k2, c.UUID)
				}
			}
		}
	}
}

func (st *state) indexAdd(ts *tableState, row monitor.Row) {
	for _, x := range ts.indexes {
		var ok bool
		if st.buf, ok = x.spec.appendRowKey(st.buf[:0], row); ok {
			x.add(st.buf, row.UUID())
		}
	}
}

func (st *state) indexRemove(ts *tableState, row monitor.Row) {
	for _, x := range ts.indexes {
		var ok bool
		if st.buf, ok = x.spec.appendRowKey(st.buf[:0], row); ok {
			x.remove(st.buf, row.UUID())
		}
	}
}

// indexed returns the rows under key in index i of the view, if the view
// is caught up with the replica s reads.
func (s txSource) indexed(ti *tableInfo, i int, key string) ([]monitor.UUID, bool) {
	if !s.caughtUp || s.c == nil {
		return nil, false
	}
	s.c.mu.RLock()
	defer s.c.mu.RUnlock()
	if s.c.st == nil || s.c.st.si != s.si {
		return nil, false
	}
	var ids []monitor.UUID
	if set := s.c.st.tables[ti.name].indexes[i].m[key]; set != nil {
		for id := range set.each {
			ids = append(ids, id)
		}
	}
	return ids, true
}

// viewRow is a row of the view (found or not) to compare with the replica.
type viewRow struct {
	rowRef
	row   monitor.Row
	found bool
}

// rowsOf returns the view's rows of the modelled tables among rows; the
// caller holds Cache.mu.
func (st *state) rowsOf(rows []rowRef) []viewRow {
	out := make([]viewRow, 0, len(rows))
	for _, r := range rows {
		ts := st.tables[r.table]
		if ts == nil {
			continue
		}
		row, ok := ts.rows[r.id]
		out = append(out, viewRow{rowRef: r, row: row, found: ok})
	}
	return out
}

// replicaHolds reports whether replica has each of view's rows as the view
// has it (or neither has it). It takes the replica's lock, so the caller
// must not hold Cache.mu.
func replicaHolds(replica *monitor.Replica, view []viewRow) bool {
	for _, v := range view {
		rr, ok := replica.Get(v.table, v.id)
		if ok != v.found || (ok && !v.row.Equal(rr)) {
			return false
		}
	}
	return true
}

// source is where reads find rows: the typed view (Client's reads) or a
// replica's ReadTx (reads inside a transaction, which the retry helper
// verifies).
type source interface {
	schema() *schemaInfo
	get(ti *tableInfo, id monitor.UUID) (monitor.Row, bool)
	rows(ti *tableInfo) iter.Seq2[monitor.UUID, monitor.Row]
	// lookup yields the rows under key in index i of the table.
	lookup(ti *tableInfo, i int, key string) iter.Seq[monitor.Row]
}

// stateSource reads the typed view; the caller holds Client.mu for reading.
type stateSource struct{ st *state }

func (s stateSource) schema() *schemaInfo { return s.st.si }

func (s stateSource) get(ti *tableInfo, id monitor.UUID) (monitor.Row, bool) {
	r, ok := s.st.tables[ti.name].rows[id]
	return r, ok
}

func (s stateSource) rows(ti *tableInfo) iter.Seq2[monitor.UUID, monitor.Row] {
	return func(yield func(monitor.UUID, monitor.Row) bool) {
		for id, r := range s.st.tables[ti.name].rows {
			if !yield(id, r) {
				return
			}
		}
	}
}

func (s stateSource) lookup(ti *tableInfo, i int, key string) iter.Seq[monitor.Row] {
	return func(yield func(monitor.Row) bool) {
		ts := s.st.tables[ti.name]
		set := ts.indexes[i].m[key]
		if set == nil {
			return
		}
		for id := range set.each {
			if !yield(ts.rows[id]) {
				return
			}
		}
	}
}

// txSource reads a replica through the ReadTx of a transaction (every row
// read is recorded, and verified by cs.Client.TransactFunc). Index lookups
// use the view's index when the view holds exactly the replica's contents
// (caughtUp), reading each row found through the ReadTx; otherwise they
// scan the table, since the view may lag the replica.
type txSource struct {
	si       *schemaInfo
	tx       monitor.ReadTx
	c        *Cache
	caughtUp bool
	// stale is set when a row read was made with another schema than the
	// view's (the server's schema changed and the view is not bound to
	// the new one yet): such rows read as absent.
	stale *bool
}

func (s txSource) schema() *schemaInfo { return s.si }

// fits checks that r was made with the schema the view is bound to.
func (s txSource) fits(ti *tableInfo, r monitor.Row) bool {
	if r.Table() != ti.ts {
		*s.stale = true
		return false
	}
	return true
}

func (s txSource) get(ti *tableInfo, id monitor.UUID) (monitor.Row, bool) {
	r, ok := s.tx.Get(ti.name, id)
	if ok && !s.fits(ti, r) {
		return monitor.Row{}, false
	}
	return r, ok
}

func (s txSource) rows(ti *tableInfo) iter.Seq2[monitor.UUID, monitor.Row] {
	return func(yield func(monitor.UUID, monitor.Row) bool) {
		for id, r := range s.tx.Rows(ti.name) {
			if s.fits(ti, r) && !yield(id, r) {
				return
			}
		}
	}
}

func (s txSource) lookup(ti *tableInfo, i int, key string) iter.Seq[monitor.Row] {
	return func(yield func(monitor.Row) bool) {
		spec := ti.indexes[i]
		if ids, ok := s.indexed(ti, i, key); ok {
			var buf []byte
			for _, id := range ids {
				r, found := s.get(ti, id)
				if !found {
					continue
				}
				var match bool
				if buf, match = spec.appendRowKey(buf[:0], r); match && string(buf) == key && !yield(r) {
					return
				}
			}
			return
		}
		var buf []byte
		for _, r := range s.rows(ti) {
			var ok bool
			if buf, ok = spec.appendRowKey(buf[:0], r); ok && string(buf) == key {
				if !yield(r) {
					return
				}
			}
		}
	}
}
