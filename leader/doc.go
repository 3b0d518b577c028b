// Package leader decides whether an OVSDB server is usable, from the rows of
// its _Server.Database table.
//
// Every ovsdb-server (3.1 and later; _Server schema 1.2.0) describes the
// databases it serves in the Database table of its _Server database: the
// storage model (standalone, clustered or relay), whether a clustered server
// is connected to its cluster and is the leader, the cluster and server ids,
// the Raft index it has applied, and the database schema. A client-sync layer
// monitors that table on every connection and, after the first reply and after
// every update, asks whether it may stay on this server. This package holds
// that logic, with no goroutines, no I/O and no clock, as Open vSwitch's C
// client does it (lib/ovsdb-cs.c, ovsdb_cs_check_server_db).
//
// It has three parts:
//
//   - [SchemaParams] and [MonitorParams] compose the get_schema and
//     monitor_cond requests for _Server.Database.
//   - A [Replica] keeps the Database rows of one connection, in a
//     monitor.Replica of the _Server schema: monitor's schema-driven parser
//     reads the updates and applies the update2 diffs. It is fed the
//     raw <table-updates2> of the monitor_cond reply ([Replica.Reset]) and of
//     every update2 notification ([Replica.Apply]), and it rejects malformed
//     input with an error wrapping [ErrMalformed] or [ErrInconsistent],
//     never a panic. An update is applied whole or not at all.
//   - A [Checker] makes the decision ([Checker.Check]) and remembers the
//     highest Raft index it has accepted, so that a client never moves back
//     in time to a server with older data. It outlives connections: keep one
//     per client, and a fresh Replica (or [Replica.Clear]) per connection.
//
// A rejected server gives a [*CheckError] whose [Reason] says why, and which
// matches [ErrUnusable] and a per-reason sentinel (for example [ErrNotLeader])
// with [errors.Is]. The caller reacts to any of them the same way: drop the
// connection and try the next server. Only [ErrStale] deserves a warning in
// the log; the others are routine during a leader change.
//
// # Usage
//
//	checker := &leader.Checker{}            // one per client
//	// On each new connection:
//	//   send get_schema with leader.SchemaParams(), then with its result:
//	params, missing, err := leader.MonitorParams(serverSchema)
//	//   send monitor_cond with params (log the missing columns);
//	//   on its reply:
//	rows := leader.NewReplica()
//	if err := rows.Reset(result); err != nil { /* reconnect */ }
//	target := leader.Target{Remote: "tcp:10.0.0.1:6641", Database: "OVN_Northbound", LeaderOnly: true}
//	res, err := checker.Check(rows, target)
//	if err != nil { /* log err; reconnect elsewhere */ }
//	// res.Schema is the data database's schema: monitor it next.
//	//   on every update2 for ["monid","_Server"]: rows.Apply(params[1]), Check again.
package leader
