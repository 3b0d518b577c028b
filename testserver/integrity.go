package testserver

import (
	"sort"
	"strings"
)

// This file holds the checks a transaction passes before it commits, in
// the order ovsdb-server runs them: referential integrity (strong
// references must point at rows that exist), garbage collection of rows of
// non-root tables that nothing strongly refers to, refusal to delete rows
// still referred to, removal of weak references to rows that are gone,
// maxRows, and unique indexes.

// final returns a row as it will be after the commit.
func (t *txn) final(cs changeSet, table, u string) *row {
	if ch, ok := cs[table][u]; ok {
		return ch.new
	}
	return t.env.base.tables[table][u]
}

// eachFinalRow calls fn for every row of table as it will be after commit.
func (t *txn) eachFinalRow(cs changeSet, table string, fn func(r *row)) {
	for u, r := range t.env.base.tables[table] {
		if _, ok := cs[table][u]; !ok {
			fn(r)
		}
	}
	for _, ch := range cs[table] {
		if ch.new != nil {
			fn(ch.new)
		}
	}
}

func (t *txn) setChange(cs changeSet, table string, r *row, newRow *row) {
	if cs[table] == nil {
		cs[table] = map[string]*rowChange{}
	}
	if ch, ok := cs[table][r.uuid]; ok {
		ch.new = newRow
		if ch.old == nil && newRow == nil {
			delete(cs[table], r.uuid)
		}
		return
	}
	cs[table][r.uuid] = &rowChange{old: t.env.base.tables[table][r.uuid], new: newRow}
}

func (t *txn) checkReferences(cs changeSet) error {
	s := t.schema
	hasRefs := false
	for _, ts := range s.tables {
		for _, c := range ts.columns {
			if c.typ.key.refTable != "" || (c.typ.value != nil && c.typ.value.refTable != "") {
				hasRefs = true
			}
		}
	}
	if !hasRefs {
		return nil
	}
	// Strong references from new or modified rows must point at rows that
	// exist after the commit.
	for _, table := range sortedKeys(cs) {
		ts := s.tables[table]
		for _, u := range sortedKeys(cs[table]) {
			r := cs[table][u].new
			if r == nil {
				continue
			}
			for _, cn := range ts.colNames {
				c := ts.columns[cn]
				var err error
				refUUIDs(r.cols[cn], &c.typ, func(ref string, weak bool, refTable string) {
					if err == nil && !weak && t.final(cs, refTable, ref) == nil {
						err = newError("referential integrity violation",
							"Table %s column %s row %s references nonexistent row %s in table %s.", table, cn, u, ref, refTable)
					}
				})
				if err != nil {
					return err
				}
			}
		}
	}
	// Garbage-collect rows of non-root tables that nothing strongly refers
	// to, until no more go; then refuse deleting rows still referred to.
	for {
		counts := t.strongRefCounts(cs)
		collected := false
		for _, table := range s.tableNames {
			ts := s.tables[table]
			if ts.isRoot {
				continue
			}
			var dead []*row
			t.eachFinalRow(cs, table, func(r *row) {
				if counts[table][r.uuid] == 0 {
					dead = append(dead, r)
				}
			})
			sort.Slice(dead, func(i, j int) bool { return dead[i].uuid < dead[j].uuid })
			for _, r := range dead {
				t.setChange(cs, table, r, nil)
				collected = true
			}
		}
		if !collected {
			for _, table := range sortedKeys(cs) {
				for _, u := range sortedKeys(cs[table]) {
					ch := cs[table][u]
					if ch.new == nil && ch.old != nil && counts[table][u] > 0 {
						return newError("referential integrity violation",
							"cannot delete %s row %s because of %d remaining reference(s)", table, u, counts[table][u])
					}
				}
			}
			break
		}
	}
	// Drop weak references to rows that do not exist after the commit.
	for _, table := range s.tableNames {
		ts := s.tables[table]
		var weakCols []string
		for _, cn := range ts.colNames {
			c := ts.columns[cn]
			if (c.typ.key.refTable != "" && c.typ.key.refWeak) || (c.typ.value != nil && c.typ.value.refTable != "" && c.typ.value.refWeak) {
				weakCols = append(weakCols, cn)
			}
		}
		if len(weakCols) == 0 {
			continue
		}
		var fixes []*row
		t.eachFinalRow(cs, table, func(r *row) {
			var n *row
			for _, cn := range weakCols {
				c := ts.columns[cn]
				d := r.cols[cn]
				var keys, vals []atom
				changed := false
				for i, k := range d.keys {
					drop := false
					if c.typ.key.refWeak && c.typ.key.refTable != "" && t.final(cs, c.typ.key.refTable, string(k.(uuidAtom))) == nil {
						drop = true
					}
					if d.vals != nil && c.typ.value.refWeak && c.typ.value.refTable != "" && t.final(cs, c.typ.value.refTable, string(d.vals[i].(uuidAtom))) == nil {
						drop = true
					}
					if drop {
						changed = true
						continue
					}
					keys = append(keys, k)
					if d.vals != nil {
						vals = append(vals, d.vals[i])
					}
				}
				if changed {
					if n == nil {
						n = r.clone()
					}
					if keys == nil {
						keys = []atom{}
					}
					if d.vals != nil && vals == nil {
						vals = []atom{}
					}
					n.cols[cn] = datum{keys: keys, vals: vals}
				}
			}
			if n != nil {
				fixes = append(fixes, n)
			}
		})
		for _, n := range fixes {
			for _, cn := range weakCols {
				c := ts.columns[cn]
				if n.cols[cn].len() < c.typ.min {
					return newError("constraint violation",
						"Deletion of weak reference(s) to deleted (or never-existing) rows from column \"%s\" in \"%s\" row %s caused this column to become empty, but constraints on this column disallow an empty column.", cn, table, n.uuid)
				}
			}
			t.setChange(cs, table, n, n)
		}
	}
	return nil
}

// strongRefCounts counts, for rows of non-root tables and rows being
// deleted, the strong references to them from rows as they will be after
// the commit.
func (t *txn) strongRefCounts(cs changeSet) map[string]map[string]int {
	counts := map[string]map[string]int{}
	for _, table := range t.schema.tableNames {
		ts := t.schema.tables[table]
		var refCols []string
		for _, cn := range ts.colNames {
			c := ts.columns[cn]
			if (c.typ.key.refTable != "" && !c.typ.key.refWeak) || (c.typ.value != nil && c.typ.value.refTable != "" && !c.typ.value.refWeak) {
				refCols = append(refCols, cn)
			}
		}
		if len(refCols) == 0 {
			continue
		}
		t.eachFinalRow(cs, table, func(r *row) {
			for _, cn := range refCols {
				c := ts.columns[cn]
				refUUIDs(r.cols[cn], &c.typ, func(ref string, weak bool, refTable string) {
					if weak || ref == r.uuid && refTable == table {
						return
					}
					m := counts[refTable]
					if m == nil {
						m = map[string]int{}
						counts[refTable] = m
					}
					m[ref]++
				})
			}
		})
	}
	return counts
}

func (t *txn) checkMaxRows(cs changeSet) error {
	for _, table := range sortedKeys(cs) {
		ts := t.schema.tables[table]
		if ts.maxRows == 0 {
			continue
		}
		n := len(t.env.base.tables[table])
		for _, ch := range cs[table] {
			switch {
			case ch.old == nil && ch.new != nil:
				n++
			case ch.old != nil && ch.new == nil:
				n--
			}
		}
		if n > ts.maxRows {
			return newError("constraint violation",
				"Transaction causes \"%s\" table to contain %d rows, greater than the schema-defined limit of %d row(s).", table, n, ts.maxRows)
		}
	}
	return nil
}

func (t *txn) checkIndexes(cs changeSet) error {
	for _, table := range sortedKeys(cs) {
		ts := t.schema.tables[table]
		for i, cols := range ts.indexes {
			seen := map[string]*row{}
			for _, u := range sortedKeys(cs[table]) {
				r := cs[table][u].new
				if r == nil {
					continue
				}
				k := indexKey(r, cols)
				if other, ok := seen[k]; ok {
					return t.indexError(cs, ts, cols, other, r)
				}
				seen[k] = r
				if ou, ok := t.env.base.indexes[table][i][k]; ok && ou != u {
					if fr := t.final(cs, table, ou); fr != nil && indexKey(fr, cols) == k {
						return t.indexError(cs, ts, cols, fr, r)
					}
				}
			}
		}
	}
	return nil
}

func (t *txn) indexError(cs changeSet, ts *tableSchema, cols []string, a, b *row) error {
	var vals, names []string
	for _, c := range cols {
		vals = append(vals, a.get(c).String())
		names = append(names, "\""+c+"\"")
	}
	colWord := "column"
	if len(cols) > 1 {
		colWord = "columns"
	}
	describe := func(r *row) string {
		ch, ok := cs[ts.name][r.uuid]
		switch {
		case !ok:
			return "existed in the database before this transaction and was not modified by the transaction"
		case ch.old == nil:
			return "was inserted by this transaction"
		case indexKey(ch.old, cols) == indexKey(r, cols):
			return "existed in the database before this transaction, which modified some of the row's columns but not any columns in this index"
		}
		var old []string
		for _, c := range cols {
			old = append(old, ch.old.get(c).String())
		}
		return "had the following index values before the transaction: " + englishList(old)
	}
	return newError("constraint violation",
		"Transaction causes multiple rows in \"%s\" table to have identical values (%s) for index on %s %s.  First row, with UUID %s, %s.  Second row, with UUID %s, %s.",
		ts.name, englishList(vals), colWord, englishList(names), a.uuid, describe(a), b.uuid, describe(b))
}

func englishList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	case 2:
		return items[0] + " and " + items[1]
	}
	return strings.Join(items[:len(items)-1], ", ") + ", and " + items[len(items)-1]
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
