// Package cs is the client-sync core of ovsdb-cs: it keeps an in-memory
// replica of one OVSDB database in step with a clustered (RAFT)
// ovsdb-server, talks only to the cluster leader when asked (the default),
// and moves to the new leader at once when leadership changes, as Open
// vSwitch's lib/ovsdb-cs.c does.
//
// # State machine
//
// On every connection the client asks for the _Server schema, monitors
// _Server.Database, checks that the server can serve the database (the
// right cluster, joined and connected, the leader when leader-only, not
// behind data already seen), takes the database schema from that row, and
// monitors the data with monitor_cond_since (falling back to monitor_cond
// and monitor), resuming from the last transaction id so that a leader
// change costs a delta, not a full reload. The states are those of OVS
// (SERVER_SCHEMA_REQUESTED ... MONITORING, RETRY); see State. The check runs
// again on every _Server update: a leader that steps down is left at once.
//
// # Finding the leader
//
// By default a leader-only client on active remotes (tcp, ssl, unix) finds the leader
// with the leader watch (package hunt, run on real connections by
// hunt/watcher; tune it with WithLeaderWatch). While the client has no
// leader, it keeps one cheap connection per reachable member that monitors
// only that member's _Server.Database row; ovsdb-server pushes the row the
// moment its raft role changes, and the connection of the first member
// whose row passes the whole leader check (with the client's highest
// accepted index) becomes the client's connection: the state machine
// carries on there as on any new connection, with monitor_cond_since. So a
// leader that is killed, exits or hands over is followed one round trip
// after the election, with no polling and no backoff. A silent leader
// (frozen, partitioned) is suspected when an echo stays unanswered for
// 500 ms after a second of silence, and left as soon as another member
// reports leader=true. Members that refuse, hang or answer garbage are
// backed off (R × 2, 4, 8, 8 ... s for R members: per member, no more
// attempts than OVS's session makes), so a dead cluster is not stormed.
// A member that cannot serve the database (it lacks it, belongs to another
// cluster, is a relay) is backed off too, and its first rejection in each
// recovery is reported as a rejection on the client's own connection is:
// LastError returns the check's error (matching leader's sentinels, such
// as leader.ErrDatabaseMissing), a Reconnect event carries it with the
// member's remote, and a rate-limited "server rejected" line is logged;
// later rejections of that member in the same recovery are not reported
// again. SetRemotes moves the watch to the new list: members removed are
// closed and never dialled again, members added are watched (at once
// while there is no leader), and the connection in use is kept if its
// remote is still listed (and the cluster id unchanged), else left as the
// session leaves it, and the leader is hunted for among the members
// listed.
//
// WithFailoverPolicy selects a polling policy instead (package failover
// documents both, with timelines and the worst-case attempt count per
// leader change); passive remotes and WithLeaderOnly(false) always use
// one.
//
// OVS's rule (failover.Config{Mode: failover.OVS}): when the client forces a
// reconnect from MONITORING (the server became unusable, the data proved
// inconsistent, or ForceReconnect), it first gives the session one
// backoff-free try per remote, so every member is tried once with no wait;
// after that sweep, and for every reconnect outside MONITORING or after a
// transport drop, the session's exponential backoff applies, so a cluster
// with no usable server is not flooded.
//
// The election-aware policy (failover.Config{}) adds two rules on top. When
// a sweep found every member healthy but none leader (an election is under
// way: the new leader was tried before it knew it leads), it sweeps again
// after 5 ms, then 10 ms, within a budget of 1 s, before the backoff
// resumes. When the connection to the server it was monitoring drops at the
// transport level (a graceful exit: ovsdb-server cancels the monitors, then
// closes), it tries the other members at once instead of waiting the
// minimum backoff (1 s). A member that refuses, hangs or answers garbage
// ends the re-sweeps, as OVS would.
//
// Each recovery is reported in Stats.Recoveries and by a Recovered event:
// duration, attempts, whether the backoff was used, and the policy's own
// figures (sweeps; for the watch, how the leader was found and whether it
// was suspected first). "no usable server" reports are logged at V(0) at
// most 3 at once and then once a minute (the rest at V(1)), and so are the
// "server rejected" lines.
//
// The decision logic is a pure machine (fsm.go) with no goroutines, I/O or
// clock: it takes connection events, messages, user commands and, where a
// decision depends on it, the time as an argument, and returns messages to
// send, session actions, events and transaction outcomes. Client drives it.
//
// # Goroutines
//
// One goroutine owns the machine, the session controls and the retry
// policy: Run's own, the driver (as etcd's raft node.go owns its RawNode).
// It takes, one at a time: session events (from a reader goroutine that
// takes them from the jsonrpc.Session, which has goroutines of its own),
// the session's observations (queued by the session's goroutine), the
// leader watch's notices (queued by its goroutines: adopt a promoted
// connection, leave a silent leader), its timers (request timeout,
// re-sweeps) and user commands. A user call that
// changes something (SetCondition, SetLock, SetLeaderOnly, SetRemotes,
// ResetMinIndex, FlagInconsistency, ForceReconnect, the send of Transact)
// is a command: the caller hands it to the driver and waits until it ran;
// the driver also takes commands while it waits for the user to take an
// event. Before Run starts and after it returns there is no driver, and
// the caller runs the command itself under the client's lock. Readers
// (State, Stats, Replica, HasLock, ...) read a view the owner publishes
// after every input, under a lock held only to copy it. Transact waits for
// its outcome on the caller's goroutine. When Run returns every goroutine
// it started has ended.
//
// # Events, ordering and backpressure
//
// Events (Client.Events) arrive in the order the machine produced them:
// for each connection the StateChange events of its bootstrap, the Update of
// the monitor reply (Clear set for a full resync, never silently), then
// updates and transaction replies in the order the server sent them. A
// lost connection gives a Reconnect (in-flight transactions fail with an
// error matching ErrMaybeCommitted), and reaching MONITORING again a Recovered with
// the recovery's duration, final remote, attempts and sweeps. No event is dropped
// while Run runs.
//
// Client.Observe registers a function the driver calls with every event as
// it produces it, also with events disabled and whether or not Events is
// read (a metrics collector uses it). It runs on the driver, so it must
// return quickly and not call the Client.
//
// The Events channel is bounded (WithEventBuffer). When it is full the
// driver waits, the reader stops taking messages, the connection's receive
// queue fills and TCP pushes back on the server: memory stays bounded, and
// a consumer that stops reading stalls the client (and its transactions), so
// read Events on a goroutine that never waits for Transact, or disable events
// with WithEventBuffer(-1). Events still queued when Run returns are
// discarded, and the channel is closed.
//
// The replica (Client.Replica) is updated before the event that describes
// the change is delivered, and before Transact returns for the transaction
// that made it. Read it with monitor.Replica.View for a consistent view.
//
// # Integrity
//
// The replica never silently diverges from the server. Once the client
// decides to leave a connection (the server became unusable, an update did
// not fit the replica or could not be parsed, FlagInconsistency,
// ForceReconnect), nothing more that connection sends reaches the replica,
// the last transaction id or the events, as OVS gets by closing it at once.
// The last transaction id is recorded only after its update applied; an
// update that cannot be applied forgets it, so the next monitor reply is a
// full resync (an Update with Clear). Every request of the bootstrap and
// every lock request must be answered within the request timeout
// (WithRequestTimeout, DefaultRequestTimeout): a server that answers echo
// and nothing else is left, with ErrRequestTimeout, for the next one.
//
// Configuration naming a table or column the server's schema lacks
// (WithTables, WithColumns, WithCondition) is an error wrapping ErrConfig,
// naming the closest valid name, once the schema is known: Run returns it
// (and LastError and WaitMonitoring report it). SetCondition checks against
// the schema at once when it is known. Every monitored table's columns are
// named in the monitor request (so ovsdb-server sends no _version, unless
// WithColumns lists the "_version" pseudo-column: then the request names it
// and each row keeps it as a uuid column).
//
// # Transactions
//
// Transact's outcome is one of three kinds, told apart with errors.Is:
// not committed and safe to retry (ErrTryAgain: ErrNotMonitoring,
// ErrNotLocked), maybe committed (ErrMaybeCommitted: ErrReconnected,
// ErrCanceled, a context that ended with the transaction in flight), or
// failed (*TxnError). Writes that must happen exactly once use
// TransactFunc: it builds the operations from the replica, adds a "wait"
// for every row read (OVS's ovsdb_idl_txn_verify) and rebuilds after a
// stale read or an outcome of the first two kinds. docs/transactions.md has
// the table and the recipe.
package cs
