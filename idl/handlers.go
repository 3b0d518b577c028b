package idl

import (
	"reflect"
	"slices"

	"github.com/ovn-org/libovsdb/model"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// EventHandler receives the changes of the typed view, as libovsdb's
// cache.EventHandler does: OnAdd for a new row, OnUpdate with the row before
// and after, OnDelete with the row that went away. Models are fresh copies,
// shared by the handlers of one change: do not modify them.
type EventHandler interface {
	OnAdd(table string, m model.Model)
	OnUpdate(table string, old, new model.Model)
	OnDelete(table string, m model.Model)
}

// EventHandlerFuncs is an EventHandler made of functions; nil ones are
// skipped.
type EventHandlerFuncs struct {
	AddFunc    func(table string, m model.Model)
	UpdateFunc func(table string, old, new model.Model)
	DeleteFunc func(table string, m model.Model)
}

// OnAdd calls AddFunc.
func (f *EventHandlerFuncs) OnAdd(table string, m model.Model) {
	if f.AddFunc != nil {
		f.AddFunc(table, m)
	}
}

// OnUpdate calls UpdateFunc.
func (f *EventHandlerFuncs) OnUpdate(table string, old, new model.Model) {
	if f.UpdateFunc != nil {
		f.UpdateFunc(table, old, new)
	}
}

// OnDelete calls DeleteFunc.
func (f *EventHandlerFuncs) OnDelete(table string, m model.Model) {
	if f.DeleteFunc != nil {
		f.DeleteFunc(table, m)
	}
}

type subscription struct {
	h      EventHandler
	tables []string // nil: every table
}

func (s *subscription) wants(table string) bool {
	return s.tables == nil || slices.Contains(s.tables, table)
}

// change is one row change to report: the old and new rows with the table
// infos to decode them (they differ after a schema change).
type change struct {
	table            string
	op               monitor.ChangeOp
	old, new         monitor.Row
	oldInfo, newInfo *tableInfo
}

// dispatch calls the handlers for each change, in order. It runs on Run's
// goroutine after the view holds every change of the batch, so a handler
// reading the view sees them all; until it returns no further update is
// processed (and the client reads no further message: backpressure).
func dispatch(subs []*subscription, changes []change) {
	for i := range changes {
		changes[i].dispatch(subs)
	}
}

// dispatchRowChanges is dispatch for the replica's changes of an update
// applied to st.
func dispatchRowChanges(subs []*subscription, st *state, rcs monitor.Changes) {
	if len(subs) == 0 {
		return
	}
	for rc := range rcs.All() {
		ts := st.tables[rc.Table]
		if ts == nil {
			continue
		}
		c := change{table: rc.Table, op: rc.Op, old: rc.Old, new: rc.New, oldInfo: ts.info, newInfo: ts.info}
		c.dispatch(subs)
	}
}

// dispatch calls the subscribers of the change's table, decoding the models
// once, when the first of them needs them.
func (c *change) dispatch(subs []*subscription) {
	var oldM, newM model.Model
	decoded := false
	for _, s := range subs {
		if !s.wants(c.table) {
			continue
		}
		if !decoded {
			oldM, newM = c.models()
			decoded = true
		}
		switch c.op {
		case monitor.ChangeInsert:
			s.h.OnAdd(c.table, newM)
		case monitor.ChangeModify:
			s.h.OnUpdate(c.table, oldM, newM)
		case monitor.ChangeDelete:
			s.h.OnDelete(c.table, oldM)
		}
	}
}

// models decodes the change's rows. For a modify, the old model starts as
// a copy of the new one and only the columns that changed are decoded
// again: the two share the values of the other columns.
func (c *change) models() (oldM, newM model.Model) {
	if c.new.Valid() {
		if c.old.Valid() && c.oldInfo == c.newInfo {
			ov, nv := c.newInfo.decodePair(c.old, c.new)
			return ov.Interface(), nv.Interface()
		}
		newM = decodeModel(c.newInfo, c.new)
	}
	if c.old.Valid() {
		oldM = decodeModel(c.oldInfo, c.old)
	}
	return oldM, newM
}

func decodeModel(ti *tableInfo, r monitor.Row) model.Model {
	return ti.decodeRow(r).Interface()
}

// diffStates reports the change from one state to another (a resync under
// a new schema): deletions, then updates, then additions, each table in
// name order. A row is updated when its values, as models, differ.
func diffStates(from, to *state) []change {
	var dels, mods, adds []change
	for _, name := range to.si.db.names {
		nt := to.tables[name]
		var ot *tableState
		if from != nil {
			ot = from.tables[name]
		}
		if ot != nil {
			for id, r := range ot.rows {
				if _, ok := nt.rows[id]; !ok {
					dels = append(dels, change{table: name, op: monitor.ChangeDelete, old: r, oldInfo: ot.info})
				}
			}
		}
		for id, r := range nt.rows {
			if ot != nil {
				if o, ok := ot.rows[id]; ok {
					if !reflect.DeepEqual(decodeModel(ot.info, o), decodeModel(nt.info, r)) {
						mods = append(mods, change{table: name, op: monitor.ChangeModify, old: o, new: r, oldInfo: ot.info, newInfo: nt.info})
					}
					continue
				}
			}
			adds = append(adds, change{table: name, op: monitor.ChangeInsert, new: r, newInfo: nt.info})
		}
	}
	return slices.Concat(dels, mods, adds)
}
