package monitor

import "iter"

// Changes lists the rows one Replica.Apply changed, in message order, with
// two exceptions for a full resync: the deletions of rows that are gone come
// last (by table and uuid), and unless the schema keeps the resync's order
// (Schema.KeepingResyncOrder) its rows come, table by table, in no
// particular order (the inserts into a table that was empty) or by uuid.
// Iterate it with All.
//
// For a full resync into a table that was empty (the first monitor reply,
// or a table that had no rows), the inserted rows are not copied into a
// list: Changes reads them from the rows the update brought, which stay as
// they were for as long as the Changes (or the Update) is kept, whatever is
// applied to the replica meanwhile. A large initial sync then costs little
// memory beyond the replica for its changes.
type Changes struct {
	segs []changeSeg
	list []RowChange
}

// changeSeg is a run of Changes: every row of a full resync into an empty
// table (bulk), or list[lo:hi].
type changeSeg struct {
	bulk   *sharedRows
	t      *TableSchema
	lo, hi int
}

// ChangesOf returns Changes listing exactly rows, in their order.
func ChangesOf(rows []RowChange) Changes {
	return Changes{list: rows, segs: []changeSeg{{lo: 0, hi: len(rows)}}}
}

// addBulk appends every row of rows (table t) as inserts.
func (c *Changes) addBulk(t *TableSchema, rows *sharedRows) {
	c.segs = append(c.segs, changeSeg{bulk: rows, t: t})
}

// add appends one change.
func (c *Changes) add(rc RowChange) {
	n := len(c.list)
	c.list = append(c.list, rc)
	if k := len(c.segs) - 1; k >= 0 && c.segs[k].bulk == nil && c.segs[k].hi == n {
		c.segs[k].hi = n + 1
		return
	}
	c.segs = append(c.segs, changeSeg{lo: n, hi: n + 1})
}

// Len returns the number of changed rows.
func (c Changes) Len() int {
	n := len(c.list)
	for _, s := range c.segs {
		if s.bulk != nil {
			n += s.bulk.n
		}
	}
	return n
}

// All iterates the changes in order.
func (c Changes) All() iter.Seq[RowChange] {
	return func(yield func(RowChange) bool) {
		for _, s := range c.segs {
			if s.bulk != nil {
				if !s.bulk.inserts(s.t, yield) {
					return
				}
				continue
			}
			for _, rc := range c.list[s.lo:s.hi] {
				if !yield(rc) {
					return
				}
			}
		}
	}
}

// Slice returns the changes as a slice, in order. It may share memory
// with c: do not modify it.
func (c Changes) Slice() []RowChange {
	if c.Len() == len(c.list) {
		return c.list
	}
	out := make([]RowChange, 0, c.Len())
	for rc := range c.All() {
		out = append(out, rc)
	}
	return out
}
