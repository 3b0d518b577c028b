package testserver

// This file counts atoms the way ovsdb-server 3.1 does to bound its
// transaction history (the history behind monitor_cond_since).
//
// ovsdb-server keeps the number of atoms in the database and, for every
// transaction in the history, the atoms of the rows it changed: the old and
// the new version of each inserted, deleted or modified row, every column
// counted including _uuid and _version, a map pair counting two. After each
// commit it forgets the oldest transactions while it remembers more than
// 100 of them or while they hold more atoms than the database, but it always
// keeps the newest one. A client resuming from a forgotten transaction gets
// found=false and the whole database.

// rowAtoms counts the atoms of r: one each for _uuid and _version, plus
// every key and map value.
func rowAtoms(ts *tableSchema, r *row) int {
	if r == nil {
		return 0
	}
	n := 2
	for name, d := range r.cols {
		if c := ts.columns[name]; c != nil && c.typ.isMap() {
			n += 2 * d.len()
		} else {
			n += d.len()
		}
	}
	return n
}

// changeAtoms returns the atoms of the rows cs changes (old and new
// versions together) and how much cs grows the database, in atoms.
func changeAtoms(s *dbSchema, cs changeSet) (atoms, diff int) {
	for table, rows := range cs {
		ts := s.tables[table]
		if ts == nil {
			continue
		}
		for _, ch := range rows {
			o, n := rowAtoms(ts, ch.old), rowAtoms(ts, ch.new)
			atoms += o + n
			diff += n - o
		}
	}
	return atoms, diff
}

// dbAtoms counts every atom in d.
func dbAtoms(d *dbState) int {
	n := 0
	for table, rows := range d.tables {
		ts := d.schema.tables[table]
		for _, r := range rows {
			n += rowAtoms(ts, r)
		}
	}
	return n
}

// trimHistory forgets the oldest transactions while the member remembers
// more than max of them or while they hold more atoms than its database,
// always keeping the newest.
func (m *Member) trimHistory(max int) {
	drop := 0
	for len(m.history)-drop > 1 && (len(m.history)-drop > max || m.historyAtoms > m.dbAtoms) {
		m.historyAtoms -= m.history[drop].atoms
		drop++
	}
	if drop > 0 {
		m.history = append([]histEntry(nil), m.history[drop:]...)
	}
}
