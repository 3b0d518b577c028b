package testserver

// This file keeps each member's _Server database truthful: one Database row
// for the data database (name, model, connected, leader, schema, cid, sid,
// index) and one for _Server itself (standalone, leader, no index), as
// ovsdb-server 3.1 writes them in update_database_status. Every change of a
// member's status becomes an update to that member's _Server monitors.

// serverRows computes the Database rows m should show now, reusing the
// row UUIDs and versions of the current rows.
func (c *Cluster) serverRows(m *Member) (data, self *row) {
	ts := c.serverSchema.tables["Database"]
	data = newDefaultRow(ts, m.serverRowUUID)
	data.cols["name"] = scalar(c.schema.name)
	data.cols["model"] = scalar(m.model)
	data.cols["schema"] = scalar(c.schema.text)
	switch m.model {
	case ModelStandalone:
		data.cols["connected"] = scalar(true)
		data.cols["leader"] = scalar(true)
	case ModelRelay:
		data.cols["connected"] = scalar(m.connected)
		data.cols["leader"] = scalar(false)
	default:
		// A member cut off from a majority is not connected either, as a
		// RAFT member that hears from no leader.
		data.cols["connected"] = scalar(m.connected && c.quorumOK)
		data.cols["leader"] = scalar(c.leader == m.idx)
		data.cols["cid"] = scalar(uuidAtom(m.cid))
		data.cols["sid"] = scalar(uuidAtom(m.sid))
		if m.applied > 0 {
			data.cols["index"] = scalar(int64(m.applied))
		}
	}
	self = newDefaultRow(ts, m.serverSelfUUID)
	self.cols["name"] = scalar(ServerDatabase)
	self.cols["model"] = scalar(ModelStandalone)
	self.cols["connected"] = scalar(true)
	self.cols["leader"] = scalar(true)
	self.cols["schema"] = scalar(c.serverSchema.text)
	return data, self
}

// refreshServer recomputes m's _Server rows and, if they changed, stores
// them and sends the change to m's _Server monitors.
func (c *Cluster) refreshServer(m *Member) {
	if m.frozen {
		return // a stopped process updates nothing; Thaw refreshes
	}
	data, self := c.serverRows(m)
	cs := changeSet{}
	for _, r := range []*row{data, self} {
		old := m.server.tables["Database"][r.uuid]
		if old != nil && sameValues(old, r) {
			continue
		}
		r.version = c.newUUID()
		if cs["Database"] == nil {
			cs["Database"] = map[string]*rowChange{}
		}
		cs["Database"][r.uuid] = &rowChange{old: old, new: r}
	}
	if cs.empty() {
		return
	}
	m.server.apply(cs)
	c.deliver(m, ServerDatabase, cs, zeroUUID)
}
