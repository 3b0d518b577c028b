package cs

import (
	"encoding/json"
	"time"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Event is one item of the stream Client.Events delivers: a Reconnect,
// StateChange, Recovered, Locked, LockLost, Update or TxnReply.
type Event interface{ isEvent() }

// Reconnect reports that the connection to Remote ended (Reason says why:
// the reason the client left the server, such as a rejection,
// ErrRequestTimeout or ErrForced, or the transport error). Every transaction
// in flight has failed with ErrReconnected (they may still have committed:
// check the replica once MONITORING again). WasMonitoring reports whether
// the client was MONITORING on that connection (also when it decided to
// leave it from MONITORING). The client reconnects by itself.
//
// Under the leader watch, a member whose _Server row was rejected is
// reported so once per recovery (Reason the check's error, WasMonitoring
// false): that was a watcher's connection, not the client's, so no
// transaction failed with it.
type Reconnect struct {
	Reason        error
	Remote        string
	WasMonitoring bool
}

// StateChange reports a transition of the state machine. Remote is the
// server the client is talking to (or the one it just lost). From equals To
// (SERVER_SCHEMA_REQUESTED) when the machine restarts on a new connection
// after a lost one.
type StateChange struct {
	From, To State
	Remote   string
}

// Recovered reports that the client is MONITORING again after it left that
// state: how long it took, where it ended and how many connection attempts
// it made.
type Recovered struct{ Recovery }

// Locked reports that the lock set with WithLock or SetLock was granted.
type Locked struct{ Lock string }

// LockLost reports that the lock was stolen by another client (the server
// sent "stolen") or released by the server.
type LockLost struct{ Lock string }

// Update reports a batch of changes applied to the replica, in the order
// the server sent them.
type Update struct {
	// Clear is set for a full resync: the replica's contents were replaced
	// (rows that did not change are not in Changes). A resync after a
	// schema change also means Client.Replica returns a new replica.
	Clear bool
	// MonitorReply is set for the reply to a monitor request (the first
	// update on each connection).
	MonitorReply bool
	// Found is true when a monitor_cond_since reply resumed from the last
	// transaction id (no full resync).
	Found bool
	// Version is the monitor version: 1 (monitor), 2 (monitor_cond) or 3
	// (monitor_cond_since).
	Version int
	// LastID is the last transaction id carried by the message, or "".
	LastID string
	// Changes are the rows that changed, with their old and new values
	// (iterate them with Changes.All). For a full resync into an empty
	// table, the rows inserted are read from the rows the reply brought:
	// a large first sync costs no list of changes beside the replica.
	Changes monitor.Changes
	// Raw is the parsed update.
	Raw *monitor.Update
}

// TxnReply reports the reply to a transaction (also returned by
// Client.Transact).
type TxnReply struct {
	// ID is the transaction's request id.
	ID int64
	// Result is the server's result array (nil for an error reply).
	Result json.RawMessage
	// Err is nil when the transaction committed; else the error Transact
	// returns for this reply: a *TxnError naming the first failed
	// operation (nothing was committed), an error matching ErrCanceled
	// (maybe committed) or ErrTryAgain (the server lacks the database),
	// or another error reply of the server (jsonrpc.ServerError). A
	// transaction lost with its connection has no TxnReply: the Reconnect
	// event reports it.
	Err error
}

// Recovery describes one stay outside MONITORING, from the moment the client
// left MONITORING to the moment it reached it again.
type Recovery struct {
	// Left is when MONITORING was left; Duration how long until it was
	// reached again.
	Left     time.Time
	Duration time.Duration
	// From is the remote left, Remote the one the client ended on.
	From, Remote string
	// Reason is why MONITORING was left.
	Reason string
	// Attempts counts the connection attempts made meanwhile.
	Attempts int
	// BackoffUsed reports whether the session waited (a non-zero backoff)
	// before one of those attempts.
	BackoffUsed bool
	// Sweeps counts the zero-backoff sweeps over the remotes the retry
	// policy started (the first one included): 1 for OVS's rule, up to
	// 1+MaxSweeps for the election-aware policy, 0 when the recovery began
	// without one (a transport drop in OVS mode, bad input).
	Sweeps int
	// The leader watch's figures (zero with a failover policy): Watchers
	// counts the members that answered a usable _Server row, Found says
	// how the new leader was found ("first-reply": a watcher's first row
	// said leader; "update": a row pushed while the client watched), and
	// Suspected that the leader had left an echo unanswered first.
	Watchers  int
	Found     string
	Suspected bool
}

func (Reconnect) isEvent()   {}
func (StateChange) isEvent() {}
func (Recovered) isEvent()   {}
func (Locked) isEvent()      {}
func (LockLost) isEvent()    {}
func (Update) isEvent()      {}
func (TxnReply) isEvent()    {}
