package leader

import (
	"errors"
	"fmt"
	"strconv"
)

// Errors about input that this package cannot use. Every error returned by
// [Replica.Apply], [Replica.Reset] and [MonitorParams] wraps one of them.
var (
	// ErrMalformed: the server sent JSON that is not a valid
	// <table-updates2> for _Server.Database (wrong type, bad UUID, an
	// integer out of range, ...).
	ErrMalformed = errors.New("leader: malformed _Server update")
	// ErrInconsistent: a well-formed update that does not fit the rows held:
	// an insert of a row that exists, a modify or delete of one that does not.
	ErrInconsistent = errors.New("leader: inconsistent _Server update")
	// ErrBadServerSchema: the _Server schema (the get_schema reply) cannot be
	// used to monitor _Server.Database: not a schema, or no Database table.
	// Treat it like an error reply to the _Server monitor: fall back to
	// get_schema of the data database.
	ErrBadServerSchema = errors.New("leader: unusable _Server schema")
)

// ErrUnusable is matched by every [*CheckError]: the server cannot be used
// for the database; try another one.
var ErrUnusable = errors.New("leader: server unusable")

// One sentinel per [Reason]; each wraps [ErrUnusable].
var (
	ErrDatabaseMissing     = fmt.Errorf("%w: database missing", ErrUnusable)
	ErrNotJoined           = fmt.Errorf("%w: not joined to cluster", ErrUnusable)
	ErrClusterDisconnected = fmt.Errorf("%w: disconnected from cluster", ErrUnusable)
	ErrNotLeader           = fmt.Errorf("%w: not cluster leader", ErrUnusable)
	ErrStale               = fmt.Errorf("%w: stale data", ErrUnusable)
	ErrRelayNotConnected   = fmt.Errorf("%w: relay not connected to source yet", ErrUnusable)
	ErrRelayDisconnected   = fmt.Errorf("%w: relay disconnected from source", ErrUnusable)
	ErrRelayLeaderOnly     = fmt.Errorf("%w: relay cannot be leader", ErrUnusable)
	ErrNoSchema            = fmt.Errorf("%w: no database schema", ErrUnusable)
)

// Reason says why [Checker.Check] rejected a server. The zero value means
// no rejection.
type Reason uint8

// The reasons, in the order Check tests them (OVS ovsdb-cs.c,
// ovsdb_cs_check_server_db__).
const (
	// DatabaseMissing: no row for the database (by name, or by cluster id
	// when one is set; a row of another cluster counts as missing).
	DatabaseMissing Reason = iota + 1
	// NotJoined: clustered, but no schema: the server has not joined the
	// cluster yet.
	NotJoined
	// ClusterDisconnected: clustered, and cut off from the cluster.
	ClusterDisconnected
	// NotLeader: clustered, not the leader, and the client wants the leader.
	NotLeader
	// Stale: clustered, with a Raft index below one already accepted: its
	// data is older than data the client has seen.
	Stale
	// RelayNotConnected: relay with no schema: not connected to its source
	// yet.
	RelayNotConnected
	// RelayDisconnected: relay cut off from its source.
	RelayDisconnected
	// RelayLeaderOnly: a relay is never a leader, and the client wants one.
	RelayLeaderOnly
	// NoSchema: standalone (or unknown model) with no schema.
	NoSchema
)

var reasonNames = [...]string{
	DatabaseMissing:     "database-missing",
	NotJoined:           "not-joined",
	ClusterDisconnected: "cluster-disconnected",
	NotLeader:           "not-leader",
	Stale:               "stale",
	RelayNotConnected:   "relay-not-connected",
	RelayDisconnected:   "relay-disconnected",
	RelayLeaderOnly:     "relay-leader-only",
	NoSchema:            "no-schema",
}

var reasonErrs = [...]error{
	DatabaseMissing:     ErrDatabaseMissing,
	NotJoined:           ErrNotJoined,
	ClusterDisconnected: ErrClusterDisconnected,
	NotLeader:           ErrNotLeader,
	Stale:               ErrStale,
	RelayNotConnected:   ErrRelayNotConnected,
	RelayDisconnected:   ErrRelayDisconnected,
	RelayLeaderOnly:     ErrRelayLeaderOnly,
	NoSchema:            ErrNoSchema,
}

// String returns a short stable name for logs, such as "not-leader".
func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Err returns the sentinel error of r, or nil for an unknown reason.
func (r Reason) Err() error {
	if r > 0 && int(r) < len(reasonErrs) {
		return reasonErrs[r]
	}
	return nil
}

// CheckError is the error [Checker.Check] returns for a server that cannot be
// used. errors.Is matches it against [ErrUnusable] and against the sentinel
// of its Reason.
type CheckError struct {
	// Remote names the server, as given in [Target.Remote].
	Remote string
	// Database is the data database name, and ClusterID the cluster the
	// client is pinned to ("" if none).
	Database  string
	ClusterID string
	// Reason says why the server was rejected.
	Reason Reason
	// Index is the server's Raft index and MinIndex the highest index
	// accepted before; set for Stale only.
	Index    int64
	MinIndex int64
}

// Error returns a sentence a user understands, prefixed with the remote, for
// example "tcp:10.0.0.1:6641: clustered database server is not cluster
// leader; trying another server".
func (e *CheckError) Error() string {
	var msg string
	switch e.Reason {
	case DatabaseMissing:
		if e.ClusterID != "" {
			msg = "server does not have database " + strconv.Quote(e.Database) +
				" of cluster " + e.ClusterID
		} else {
			msg = "server does not have database " + strconv.Quote(e.Database)
		}
	case NotJoined:
		msg = "clustered database server has not yet joined cluster"
	case ClusterDisconnected:
		msg = "clustered database server is disconnected from cluster"
	case NotLeader:
		msg = "clustered database server is not cluster leader"
	case Stale:
		msg = fmt.Sprintf("clustered database server has stale data (index %d, but index %d was already seen)",
			e.Index, e.MinIndex)
	case RelayNotConnected:
		msg = "relay database server has not yet connected to the relay source"
	case RelayDisconnected:
		msg = "relay database server is disconnected from the relay source"
	case RelayLeaderOnly:
		msg = "relay database server cannot be a cluster leader, and the client wants the leader"
	case NoSchema:
		msg = "database server reports no schema for database " + strconv.Quote(e.Database)
	default:
		msg = "server rejected (" + e.Reason.String() + ")"
	}
	msg += "; trying another server"
	if e.Remote != "" {
		msg = e.Remote + ": " + msg
	}
	return msg
}

// Unwrap returns the sentinel of the reason, which in turn wraps
// [ErrUnusable].
func (e *CheckError) Unwrap() error {
	if err := e.Reason.Err(); err != nil {
		return err
	}
	return ErrUnusable
}
