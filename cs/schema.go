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
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.schemaDB, c.m.replica
}

// UpdatesQueued returns how many Update events the client has queued since
// it was created. Each is queued in the same step that applied it to the
// replica, so a consumer that has taken this many Update events from
// Events has seen every change the replica holds (while a Replica.View is
// open the count cannot move past it).
func (c *Client) UpdatesQueued() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.updates
}
