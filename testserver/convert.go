package testserver

import (
	"errors"
	"fmt"
)

// This file is the online schema conversion (ChangeSchema).

// ChangeSchema converts the database to a new schema (same name), as
// "ovsdb-client convert" does: rows are kept, columns the new schema lacks
// are dropped, new columns get their defaults (as do values the new type
// rejects). Every member catches up first. Clients that sent
// set_db_change_aware get monitor_canceled for their monitors of the
// database (and "canceled" for pending transactions); other clients are
// disconnected. The _Server rows then show the new schema.
func (c *Cluster) ChangeSchema(newSchema []byte) error {
	s, err := parseSchema(newSchema)
	if err != nil {
		return fmt.Errorf("testserver: bad schema: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if s.name != c.schema.name {
		return fmt.Errorf("testserver: new schema name %s does not match database %s", s.name, c.schema.name)
	}
	for _, m := range c.members {
		for m.applied < c.index {
			c.applyEntry(m, c.entry(m.applied+1))
		}
	}
	c.trimLog()
	converted := convertDB(c.db, s)
	c.db = converted
	c.schema = s
	c.index++
	txnID := c.newUUID()
	c.entries = nil
	for _, m := range c.members {
		m.db = converted.clone()
		m.dbAtoms = dbAtoms(converted)
		m.applied = c.index
		m.lastTxnID = txnID
		m.history = nil
		m.historyAtoms = 0
		for _, sess := range m.sortedSessions() {
			if !sess.changeAware {
				c.closeSession(sess, "database schema changed")
				continue
			}
			for _, mon := range sortedMonitors(sess.monitors) {
				if mon.db == s.name {
					delete(sess.monitors, mon.key)
					c.notify(sess, "monitor_canceled", marshal([]any{mon.id}))
				}
			}
		}
	}
	for _, p := range c.pending {
		if p.done {
			continue
		}
		p.done = true
		if p.timer != nil {
			c.stopTimer(p.timer)
			p.timer = nil
		}
		if p.s != nil {
			c.replyError(p.s, p.id, &ovsError{Tag: "canceled"})
		} else {
			p.finish(nil, errors.New("testserver: transaction canceled by a schema change"))
		}
	}
	c.pending = nil
	c.log.Info("schema changed", "database", s.name, "version", s.version)
	c.refreshAll()
	return nil
}

// convertDB copies the rows of d into a state of schema s.
func convertDB(d *dbState, s *dbSchema) *dbState {
	out := newDBState(s, true)
	cs := changeSet{}
	for name, ts := range s.tables {
		rows := d.tables[name]
		if len(rows) == 0 {
			continue
		}
		cs[name] = map[string]*rowChange{}
		oldTS := d.schema.tables[name]
		for u, r := range rows {
			n := newDefaultRow(ts, u)
			n.version = r.version
			for _, cn := range ts.colNames {
				oc := oldTS.columns[cn]
				if oc == nil {
					continue
				}
				nc := ts.columns[cn]
				if v, err := parseDatumRaw(marshal(r.cols[cn].toJSON(&oc.typ)), &nc.typ, nil); err == nil && checkDatum(v, &nc.typ) == nil {
					n.cols[cn] = v
				}
			}
			cs[name][u] = &rowChange{new: n}
		}
	}
	out.apply(cs)
	return out
}
