package main

import (
	"slices"
	"time"

	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/ovstable"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// tablePrinter prints row changes as ovsdb-client monitor prints them: per
// update, one table per monitored table with changes, columns "row",
// "action" and the monitored columns, captioned with the table's name when
// several tables are monitored (monitor_print_table in
// ovsdb/ovsdb-client.c).
//
// For "monitor" (v1 layout) a row is "initial" (the first monitor reply),
// "insert" or "delete" with all its columns, or a modification on two
// lines: "old" with the columns that changed, then "new" (no uuid) with
// all of them. For "monitor-cond" (v2 layout, monitor2_print_table) an
// initial or inserted row shows only its columns that do not hold their
// default value, a "delete" no column, and a "modify" the changed columns
// as update2 diffs: the new value of a column holding at most one element,
// the elements added or removed for a set, the pairs added, removed or
// changed for a map.
type tablePrinter struct {
	p         *ovstable.Printer
	tables    []monitoredTable
	v2        bool
	timestamp bool
	now       func() time.Time
}

// print prints the changes of one update; initial marks the first monitor
// reply. It writes nothing when no monitored row changed.
func (tp *tablePrinter) print(changes []monitor.RowChange, initial bool) error {
	byTable := map[string][]monitor.RowChange{}
	for _, c := range changes {
		byTable[c.Table] = append(byTable[c.Table], c)
	}
	for i := range tp.tables {
		mt := &tp.tables[i]
		rows := byTable[mt.name]
		if len(rows) == 0 {
			continue
		}
		tbl := tp.table(mt, rows, initial)
		if len(tbl.Rows) == 0 {
			continue
		}
		if err := tp.p.Print(tbl); err != nil {
			return err
		}
	}
	return nil
}

// table builds the table of one monitored table's changes, rows in the
// order ovsdb-client visits them: the iteration order of its string hash
// map of the table update's JSON object, given the order the server sent
// the rows in (the client uses ovsdb-client's monitor method, so the
// server sends them in the same order to both).
func (tp *tablePrinter) table(mt *monitoredTable, changes []monitor.RowChange, initial bool) *ovstable.Table {
	t := &ovstable.Table{Headings: []string{"row", "action"}}
	if len(tp.tables) > 1 {
		t.Caption = mt.name
	}
	if tp.timestamp {
		t.Time = tp.now()
	}
	for _, c := range mt.columns {
		t.Headings = append(t.Headings, c.name)
	}
	ids := make([]string, len(changes))
	for i, c := range changes {
		ids[i] = c.UUID.String()
	}
	for _, i := range ovstable.ShashOrder(ids) {
		c, id := changes[i], ids[i]
		switch {
		case c.Op == monitor.ChangeInsert && initial:
			if mt.kinds.initial {
				tp.row(t, mt, id, "initial", c.New, func(col monitoredColumn) bool { return col.kinds.initial })
			}
		case c.Op == monitor.ChangeInsert:
			if mt.kinds.insert {
				tp.row(t, mt, id, "insert", c.New, func(col monitoredColumn) bool { return col.kinds.insert })
			}
		case c.Op == monitor.ChangeDelete:
			if !mt.kinds.delete {
				continue
			}
			if tp.v2 {
				copy(t.AddRow(), []ovstable.Cell{ovstable.Text(id), ovstable.Text("delete")})
			} else {
				tp.row(t, mt, id, "delete", c.Old, func(col monitoredColumn) bool { return col.kinds.delete })
			}
		default:
			if !mt.kinds.modify {
				continue
			}
			changed := func(col monitoredColumn) bool {
				return col.kinds.modify && !col.rowUUID && !c.Old.Get(col.name).Equal(c.New.Get(col.name))
			}
			if !slices.ContainsFunc(mt.columns, changed) {
				continue // the server sends no modification of these columns
			}
			if tp.v2 {
				row := t.AddRow()
				row[0], row[1] = ovstable.Text(id), ovstable.Text("modify")
				for x, col := range mt.columns {
					if changed(col) {
						row[2+x] = diffCell(c.Old.Get(col.name), c.New.Get(col.name))
					}
				}
			} else {
				tp.row(t, mt, id, "old", c.Old, changed)
				tp.row(t, mt, "", "new", c.New, func(col monitoredColumn) bool { return col.kinds.modify })
			}
		}
	}
	return t
}

// row adds a row with the columns of r that only accepts; in the v2
// layout, columns holding their default value are left out.
func (tp *tablePrinter) row(t *ovstable.Table, mt *monitoredTable, id, action string, r monitor.Row, only func(monitoredColumn) bool) {
	row := t.AddRow()
	row[0], row[1] = ovstable.Text(id), ovstable.Text(action)
	for x, col := range mt.columns {
		if !only(col) {
			continue
		}
		var d monitor.Datum
		if col.rowUUID {
			d, _ = monitor.NewDatum(uuidType, monitor.UUIDAtom(r.UUID()))
		} else {
			d = r.Get(col.name)
			if tp.v2 && d.IsDefault() {
				continue
			}
		}
		row[2+x] = ovstable.Datum(d)
	}
}

// diffCell returns the update2 diff from old to new as a cell
// (ovsdb_datum_diff in lib/ovsdb-data.c): the new value when the column
// holds at most one element; otherwise the symmetric difference of the
// sets, or for a map the pairs whose key was removed or added and the new
// pairs of changed keys. A diff the column's type cannot hold (more
// elements than its maximum) is shown in JSON, as ovsdb-client does.
func diffCell(old, new monitor.Datum) ovstable.Cell {
	t := new.Type()
	if t.Max <= 1 {
		return ovstable.Datum(new)
	}
	var atoms []monitor.Atom
	if t.IsMap() {
		oldPairs, newPairs := map[monitor.Atom]monitor.Atom{}, map[monitor.Atom]monitor.Atom{}
		for k, v := range old.Pairs() {
			oldPairs[k] = v
		}
		for k, v := range new.Pairs() {
			newPairs[k] = v
		}
		for k, v := range old.Pairs() {
			if _, ok := newPairs[k]; !ok {
				atoms = append(atoms, k, v)
			}
		}
		for k, v := range new.Pairs() {
			if ov, ok := oldPairs[k]; !ok || !ov.Equal(v) {
				atoms = append(atoms, k, v)
			}
		}
	} else {
		for a := range old.All() {
			if !new.Contains(a) {
				atoms = append(atoms, a)
			}
		}
		for a := range new.All() {
			if !old.Contains(a) {
				atoms = append(atoms, a)
			}
		}
	}
	if d, err := monitor.NewDatum(t, atoms...); err == nil {
		return ovstable.Datum(d)
	}
	return ovstable.JSON(atomsJSON(t.IsMap(), atoms))
}

// atomsJSON writes atoms as an OVSDB set, or for a map as pairs.
func atomsJSON(isMap bool, atoms []monitor.Atom) []byte {
	b := []byte(`["set",[`)
	step := 1
	if isMap {
		b, step = []byte(`["map",[`), 2
	}
	for i := 0; i < len(atoms); i += step {
		if i > 0 {
			b = append(b, ',')
		}
		if isMap {
			b = append(b, '[')
			b = append(b, atoms[i].String()...)
			b = append(b, ',')
			b = append(b, atoms[i+1].String()...)
			b = append(b, ']')
			continue
		}
		b = append(b, atoms[i].String()...)
	}
	return append(b, "]]"...)
}
