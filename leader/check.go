package leader

// Target describes what the client wants from a server.
type Target struct {
	// Remote names the server in error messages, for example
	// "tcp:10.0.0.1:6641". It may be empty.
	Remote string
	// Database is the name of the data database, for example
	// "OVN_Northbound".
	Database string
	// ClusterID pins the client to one cluster (the cid: item of a remote
	// list): when it is a non-zero UUID, the row is found by its cid and its
	// name is ignored; a server of another cluster counts as not having the
	// database. Empty (or the zero UUID) finds the row by name.
	ClusterID string
	// LeaderOnly accepts a clustered server only if it is the leader, and
	// never a relay.
	LeaderOnly bool
}

// Result describes an accepted server.
type Result struct {
	// Row is the Database row that was checked.
	Row Database
	// Schema is the data database's schema, as JSON text: monitor the data
	// database with it.
	Schema string
	// Index is the server's Raft index (0 if not clustered or absent).
	Index int64
}

// Checker decides whether a server is usable, and keeps the highest Raft
// index it has accepted (the minimum index) so that the client never goes
// back to a server with older data.
//
// Keep one Checker for the life of a client, across reconnects, remote list
// changes and cluster id changes; only [Checker.ResetMinIndex] lowers the
// minimum index. The zero value is ready to use. A Checker is not safe for
// concurrent use.
type Checker struct {
	minIndex int64
}

// Check decides whether the server whose _Server.Database rows are in rows
// can serve target. It tests, in this order (as Open vSwitch does):
//
//  1. the row of the database: by cluster id if one is set, else by name;
//     none gives [DatabaseMissing];
//  2. for a clustered database: a schema ([NotJoined]), connected to the
//     cluster ([ClusterDisconnected]), the leader if target.LeaderOnly
//     ([NotLeader]), and an index not below the minimum index ([Stale]; an
//     absent index reads as 0). On success the minimum index becomes the
//     server's index;
//  3. for a relay: a schema ([RelayNotConnected]), connected to its source
//     ([RelayDisconnected]), and not target.LeaderOnly ([RelayLeaderOnly]);
//  4. for any other model (standalone, active-backup, or none reported): a
//     schema ([NoSchema]).
//
// An empty schema string counts as no schema. On success Check returns the
// schema and index from the row; on failure a [*CheckError].
func (c *Checker) Check(rows *Replica, target Target) (Result, error) {
	cid := normalizeClusterID(target.ClusterID)
	fail := func(r Reason) (Result, error) {
		return Result{}, &CheckError{Remote: target.Remote, Database: target.Database, ClusterID: cid, Reason: r}
	}
	row, ok := rows.Find(target.Database, cid)
	if !ok {
		return fail(DatabaseMissing)
	}
	switch row.Model {
	case Clustered:
		switch {
		case !row.hasUsableSchema():
			return fail(NotJoined)
		case !row.Connected:
			return fail(ClusterDisconnected)
		case target.LeaderOnly && !row.Leader:
			return fail(NotLeader)
		case row.Index < c.minIndex:
			return Result{}, &CheckError{
				Remote: target.Remote, Database: target.Database, ClusterID: cid,
				Reason: Stale, Index: row.Index, MinIndex: c.minIndex,
			}
		}
		c.minIndex = row.Index
	case Relay:
		switch {
		case !row.hasUsableSchema():
			return fail(RelayNotConnected)
		case !row.Connected:
			return fail(RelayDisconnected)
		case target.LeaderOnly:
			return fail(RelayLeaderOnly)
		}
	default:
		if !row.hasUsableSchema() {
			return fail(NoSchema)
		}
	}
	return Result{Row: row, Schema: row.Schema, Index: row.Index}, nil
}

// MinIndex returns the highest Raft index accepted so far (0 at first).
func (c *Checker) MinIndex() int64 {
	return c.minIndex
}

// ResetMinIndex sets the minimum index back to 0. Use it when the cluster was
// rebuilt from scratch: its index restarts from 0, and every server would
// otherwise look stale forever.
func (c *Checker) ResetMinIndex() {
	c.minIndex = 0
}
