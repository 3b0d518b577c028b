package testserver

import (
	"encoding/json"
	"sort"

	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// This file implements monitors: parsing monitor / monitor_cond /
// monitor_cond_since requests, the initial contents of a reply, and turning
// committed change sets into update (v1), update2 and update3 table updates
// with the row selection rules of ovsdb-server (conditions, "select" flags,
// rows entering or leaving a condition sent as insert or delete).

// monitor versions: 1 = monitor/update, 2 = monitor_cond/update2,
// 3 = monitor_cond_since/update3.
const (
	monitorV1 = 1
	monitorV2 = 2
	monitorV3 = 3
)

var updateMethod = [...]string{monitorV1: "update", monitorV2: "update2", monitorV3: "update3"}

type monitorTable struct {
	ts                              *tableSchema
	columns                         []string
	colSet                          map[string]bool
	initial, insert, delete, modify bool
	cond                            condition // nil: true
}

type monitor struct {
	id      json.RawMessage
	key     string // canonical form of id
	db      string
	version int
	tables  map[string]*monitorTable
}

// parseMonitorRequests parses the <monitor-requests> object.
func parseMonitorRequests(s *dbSchema, version int, raw json.RawMessage) (map[string]*monitorTable, error) {
	v, err := jsonnum.Decode(raw)
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, syntaxError(raw, "monitor-requests must be object")
	}
	tables := map[string]*monitorTable{}
	for _, name := range sortedKeys(obj) {
		ts := s.tables[name]
		if ts == nil {
			return nil, newError("syntax error", "no table named %s", name)
		}
		mt := &monitorTable{ts: ts, colSet: map[string]bool{}}
		tables[name] = mt
		reqs, isArr := obj[name].([]any)
		if !isArr {
			reqs = []any{obj[name]}
		}
		haveCond := false
		for _, rq := range reqs {
			if err := mt.parseRequest(rq, version, &haveCond); err != nil {
				return nil, err
			}
		}
	}
	return tables, nil
}

func (mt *monitorTable) parseRequest(rq any, version int, haveCond *bool) error {
	ts := mt.ts
	obj, ok := rq.(map[string]any)
	if !ok {
		return syntaxError(rq, "Parsing table %s failed: Type mismatch.", ts.name)
	}
	for _, k := range sortedKeys(obj) {
		switch k {
		case "columns", "select":
		case "where":
			if version >= monitorV2 {
				break
			}
			fallthrough
		default:
			return syntaxError(rq, "Parsing table %s failed: Member '%s' is present but not allowed here.", ts.name, k)
		}
	}
	ini, ins, del, mod := true, true, true, true
	if sel, ok := obj["select"]; ok {
		so, ok := sel.(map[string]any)
		if !ok {
			return syntaxError(rq, "Parsing table %s failed: Type mismatch for member 'select'.", ts.name)
		}
		for _, k := range sortedKeys(so) {
			b, ok := so[k].(bool)
			if !ok {
				return syntaxError(sel, "Parsing table %s select failed: Type mismatch for member '%s'.", ts.name, k)
			}
			switch k {
			case "initial":
				ini = b
			case "insert":
				ins = b
			case "delete":
				del = b
			case "modify":
				mod = b
			default:
				return syntaxError(sel, "Parsing table %s select failed: Member '%s' is present but not allowed here.", ts.name, k)
			}
		}
	}
	mt.initial = mt.initial || ini
	mt.insert = mt.insert || ins
	mt.delete = mt.delete || del
	mt.modify = mt.modify || mod
	var cols []string
	if cv, ok := obj["columns"]; ok {
		arr, ok := cv.([]any)
		if !ok {
			return syntaxError(cv, "array of column names expected")
		}
		for _, e := range arr {
			n, ok := e.(string)
			if !ok {
				return syntaxError(cv, "array of column names expected")
			}
			if ts.column(n) == nil {
				return syntaxError(cv, "%s is not a valid column name", n)
			}
			if mt.colSet[n] {
				return syntaxError(cv, "column %s mentioned more than once", n)
			}
			mt.colSet[n] = true
			cols = append(cols, n)
		}
	} else {
		// Every column but _uuid, including _version.
		for _, n := range append([]string{"_version"}, ts.colNames...) {
			if mt.colSet[n] {
				return syntaxError(nil, "column %s mentioned more than once", n)
			}
			mt.colSet[n] = true
			cols = append(cols, n)
		}
	}
	mt.columns = append(mt.columns, cols...)
	if version >= monitorV2 && !*haveCond {
		// As in ovsdb-server, the first request for a table sets its
		// condition; later ones do not change it.
		*haveCond = true
		if wv, ok := obj["where"]; ok {
			cond, err := parseConditionValue(wv, ts, nil)
			if err != nil {
				return err
			}
			mt.cond = cond
		}
	}
	return nil
}

func (mt *monitorTable) matches(r *row) bool {
	return r != nil && (mt.cond == nil || mt.cond.eval(r))
}

// initialUpdates renders the rows of db selected by m, for a monitor reply.
func (m *monitor) initialUpdates(db *dbState) map[string]any {
	out := map[string]any{}
	for _, name := range sortedKeys(m.tables) {
		mt := m.tables[name]
		if !mt.initial || mt.cond.isFalse() {
			continue
		}
		rows := map[string]any{}
		for u, r := range db.tables[name] {
			if !mt.matches(r) {
				continue
			}
			if m.version == monitorV1 {
				rows[u] = map[string]any{"new": rowJSON(r, mt.ts, mt.columns, false)}
			} else {
				rows[u] = map[string]any{"initial": rowJSON(r, mt.ts, mt.columns, true)}
			}
		}
		if len(rows) > 0 {
			out[name] = rows
		}
	}
	return out
}

// changeUpdates renders what a change set means for m; nil when nothing.
func (m *monitor) changeUpdates(cs changeSet) map[string]any {
	var out map[string]any
	for _, name := range sortedKeys(m.tables) {
		mt := m.tables[name]
		rows := map[string]any{}
		for u, ch := range cs[name] {
			if ru := m.rowUpdate(mt, ch.old, ch.new); ru != nil {
				rows[u] = ru
			}
		}
		if len(rows) > 0 {
			if out == nil {
				out = map[string]any{}
			}
			out[name] = rows
		}
	}
	return out
}

func (m *monitor) rowUpdate(mt *monitorTable, old, new *row) any {
	oldIn, newIn := mt.matches(old), mt.matches(new)
	switch {
	case !oldIn && newIn:
		if !mt.insert {
			return nil
		}
		if m.version == monitorV1 {
			return map[string]any{"new": rowJSON(new, mt.ts, mt.columns, false)}
		}
		return map[string]any{"insert": rowJSON(new, mt.ts, mt.columns, true)}
	case oldIn && !newIn:
		if !mt.delete {
			return nil
		}
		if m.version == monitorV1 {
			return map[string]any{"old": rowJSON(old, mt.ts, mt.columns, false)}
		}
		return map[string]any{"delete": nil}
	case oldIn && newIn:
		if !mt.modify {
			return nil
		}
		var changed []string
		for _, c := range mt.columns {
			if !old.get(c).equal(new.get(c)) {
				changed = append(changed, c)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		if m.version == monitorV1 {
			return map[string]any{
				"old": rowJSON(old, mt.ts, changed, false),
				"new": rowJSON(new, mt.ts, mt.columns, false),
			}
		}
		mod := make(map[string]any, len(changed))
		for _, c := range changed {
			col := mt.ts.column(c)
			mod[c] = diff(old.get(c), new.get(c), &col.typ).toJSON(&col.typ)
		}
		return map[string]any{"modify": mod}
	}
	return nil
}

// condChangeUpdates renders the rows entering (insert) and leaving (delete)
// the monitor when the condition of table mt changes from old to mt.cond.
func (m *monitor) condChangeUpdates(db *dbState, old map[string]condition) map[string]any {
	out := map[string]any{}
	for _, name := range sortedKeys(old) {
		mt := m.tables[name]
		oc := old[name]
		rows := map[string]any{}
		for u, r := range db.tables[name] {
			was := oc == nil || oc.eval(r)
			is := mt.matches(r)
			switch {
			case was && !is:
				rows[u] = map[string]any{"delete": nil}
			case !was && is:
				rows[u] = map[string]any{"insert": rowJSON(r, mt.ts, mt.columns, true)}
			}
		}
		if len(rows) > 0 {
			out[name] = rows
		}
	}
	return out
}

// composeChanges merges consecutive change sets into one: for every row the
// first old and the last new version.
func composeChanges(sets []changeSet) changeSet {
	out := changeSet{}
	for _, cs := range sets {
		for table, rows := range cs {
			m := out[table]
			if m == nil {
				m = map[string]*rowChange{}
				out[table] = m
			}
			for u, ch := range rows {
				if prev, ok := m[u]; ok {
					m[u] = &rowChange{old: prev.old, new: ch.new}
				} else {
					m[u] = &rowChange{old: ch.old, new: ch.new}
				}
			}
		}
	}
	for table, rows := range out {
		for u, ch := range rows {
			if ch.old == nil && ch.new == nil {
				delete(rows, u)
			}
		}
		if len(rows) == 0 {
			delete(out, table)
		}
	}
	return out
}

// sortedMonitors returns a session's monitors in a stable order.
func sortedMonitors(ms map[string]*monitor) []*monitor {
	out := make([]*monitor, 0, len(ms))
	for _, m := range ms {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}
