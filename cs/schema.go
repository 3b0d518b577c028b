package cs

import (
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// DatabaseSchema returns the server's schema of the database, as parsed from
// its _Server Database row, together with the replica built from it: the
// schema is nil until the first connection gives it, and changes only when
// Replica does. Layers above the replica use it for what the compiled
// monitor.Schema leaves out (the tables' indexes, columns not monitored).
// The returned schema must not be modified.
func (c *Client) DatabaseSchema() (*ovsdb.DatabaseSchema, *monitor.Replica) {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	return c.m.schemaDB, c.m.replica
}

// TryReplicaState returns the replica and how many Update events the
// client has queued since it was created (each is queued in the step that
// applied it to the replica, so a consumer that has taken this many Update
// events from Events has seen every change the replica holds). It does not
// wait: ok is false while the client applies a message from the server
// (an update may then wait for the replica's readers). It is safe to call inside a replica view
// (Replica.View, the build function of TransactFunc), where waiting for the
// lock could deadlock with that update waiting for the view.
func (c *Client) TryReplicaState() (r *monitor.Replica, updates uint64, ok bool) {
	if !c.applyMu.TryLock() {
		return nil, 0, false
	}
	defer c.applyMu.Unlock()
	return c.m.replica, c.updates, true
}
