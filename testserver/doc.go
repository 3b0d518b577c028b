// Package testserver is an in-process fake of a clustered (RAFT)
// ovsdb-server, for tests and demos: deterministic, fast, and steerable.
//
// A [Cluster] has n members sharing one replicated in-memory database
// through one commit log. Each member speaks the OVSDB JSON-RPC protocol the
// way ovsdb-server 3.1 does on the wire (list_dbs, get_schema, transact,
// echo both ways, monitor, monitor_cond, monitor_cond_since with a
// transaction history bounded as ovsdb-server bounds it (at most 100
// transactions, the oldest forgotten while the history holds more atoms than
// the database), monitor_cond_change, monitor_cancel, update, update2
// and update3, lock, steal and unlock with locked and stolen,
// set_db_change_aware and monitor_canceled), and serves a _Server database
// whose Database rows tell the truth about the cluster: model, connected,
// leader, schema, cid, sid and an index that rises with every commit the
// member applies.
//
// Tests steer it with cluster verbs ([Cluster.TransferLeadership],
// [Cluster.DisconnectFromCluster], [Cluster.Stop], [Cluster.GracefulExit],
// [Cluster.Crash] (EOF or silence, then an election after a set delay),
// [Cluster.Freeze] and [Cluster.Thaw] (SIGSTOP and SIGCONT),
// [Cluster.Lag], [Cluster.ChangeSchema]), inject faults per member
// ([Member.SetFaults], [Member.Inject]), write from the test side
// ([Cluster.Transact]) and check what happened ([Member.Counters],
// [Cluster.Snapshot]).
//
// # Usage
//
// On real loopback sockets:
//
//	c, err := testserver.NewCluster(3, testserver.LabSchema())
//	...
//	defer c.Close()
//	client := connect(c.Remotes()) // "tcp:127.0.0.1:P1,tcp:127.0.0.1:P2,..."
//	c.TransferLeadership(testserver.AnyOther)
//
// Under testing/synctest, where real sockets are not allowed, make the
// cluster inside the bubble with [InMemory] and give the client
// [Cluster.DialContext] as its dialer: members then get stable fake
// addresses (tcp:127.0.0.1:6641, 6642, ...) and every wait, including
// election delays and echo probes, runs on the bubble's fake clock.
//
//	synctest.Test(t, func(t *testing.T) {
//		c, _ := testserver.NewCluster(3, schema, testserver.InMemory(),
//			testserver.WithElectionDelay(20*time.Millisecond))
//		defer c.Close()
//		client := connect(c.Remotes(), c.DialContext)
//		...
//	})
//
// # How the fake works
//
// Every state change happens under one cluster lock: a commit is appended
// to the log and applied at once by every member that is running, connected
// to the cluster and not lagging; applying sends that member's clients the
// _Server index update and the data updates, in commit order, before the
// reply to the transaction that caused them (a writer on a member that lags
// gets its reply when the member catches up). Each connection has one
// reader goroutine and one writer goroutine with an unbounded queue, so a
// slow client never blocks the cluster.
//
// A transaction runs first on the member's own view, as a follower does:
// reads, failures and no-op transactions are answered from it (stale when
// the member lags); a transaction with changes is forwarded to the leader
// and waits while there is none.
//
// # Differences from ovsdb-server
//
// Checked against ovsdb-server 3.1 on loopback: the reply, error and
// notification shapes, error objects and their texts for the common errors,
// update/update2/update3 contents (defaults left out of "initial" and
// "insert", set and map diffs in "modify"), monitor_cond_since found/delta
// behaviour and history trimming, the _Server rows and their update order on
// a leadership transfer, lock quirks, how values are read (2.0 and 1e3 are
// integers; notation, count, duplicate and UUID errors word for word). Known
// differences:
//   - Object members are written in a fixed order and rows sorted by UUID;
//     the real server uses hash order. Reals are printed with Go's shortest
//     form, not %.17g.
//   - Some constraint-violation texts are close paraphrases.
//   - Referential integrity, garbage collection of unreferenced rows of
//     non-root tables and weak-reference cleanup are implemented by scanning
//     the referencing tables on each commit (fine for test-sized databases).
//   - A write that waits for a leader waits forever, as in 3.1, unless
//     [WithCommitTimeout] sets a bound; the error sent then is the fake's own.
//   - ChangeSchema brings lagging members up to date before converting.
//   - Locks, like ovsdb-server's, belong to one member.
//   - There is no RBAC, no "convert" method and no SSL.
package testserver
