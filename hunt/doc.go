// Package hunt decides how a leader-only OVSDB client finds the leader of a
// clustered database after it lost one, at the speed of the election and
// without polling: it watches.
//
// A follower that is healthy but not the leader is where the next leader
// will come from, and ovsdb-server pushes a _Server.Database update to its
// monitors the moment its raft state changes (ovsdb/ovsdb-server.c,
// update_database_status). So, while the client has no leader, it keeps
// one cheap connection per reachable member, a watcher, that monitors only
// the _Server.Database row of its database (a few hundred bytes). The
// moment a member's row passes the whole leader check (leader, connected,
// the cluster id, a schema, an index not below the highest seen: package
// leader's Checker, as ovsdb_cs_check_server_db in lib/ovsdb-cs.c), the
// client carries on on that same connection (it monitors the data database
// there with monitor_cond_since; no new connect) and closes the other
// watchers. Members that refuse, hang or answer garbage are backed off, so
// a dead cluster is not stormed. The watch ends when the client is
// MONITORING again.
//
// A frozen leader (SIGSTOP, a partition) keeps its connection open and
// answers nothing. While MONITORING, the Watch asks for an echo when the
// leader has been silent for Config.Idle (1 s); an echo unanswered for the
// suspicion window (Config.Suspicion, 500 ms, well under the 5 s probe
// interval) makes the leader suspect: the other members are watched while
// the client stays on the leader. It leaves the leader only when another
// member reports leader=true, or when the connection's probe fails; if the
// leader answers, the watchers are closed.
//
// Like packages reconnect and failover, it is pure decision logic: no
// goroutines, no I/O, no clock. Every input carries the time, and the
// answer is a Step of Actions (open a watcher, close it, promote it, demote
// the data connection to a watcher, leave the data connection, send an
// echo) that the driver carries out in order. Watch.Next says when to call
// Watch.Tick. The transcripts in testdata show every rule on a fake clock.
//
// # Driving it
//
//	w := hunt.New(hunt.Config{}, len(remotes))
//	do(w.Start(now))                                // watch every member
//	// A watcher's (or the promoted connection's) _Server row, after
//	// checker.Check(rows, target) with the client's one Checker:
//	do(w.Report(now, m, hunt.VerdictOf(err)))
//	// A watcher refused, hung, answered garbage, dropped:
//	do(w.Failed(now, m, failover.OutcomeOf(err)))
//	// The promoted member reached MONITORING: s.Recovery is the record.
//	s := w.Monitoring(now, m)
//	// While MONITORING: anything from the leader, and the leader lost.
//	do(w.Heard(now))
//	do(w.Lost(now, m, hunt.Dropped)) // or ProbeFailed, NotLeader, Forced
//	// When w.Next() passes:
//	do(w.Tick(now))
//	// The remote list changed: prev[i] is new member i's old number, or -1.
//	do(w.SetMembers(now, prev))
//
// # Timelines
//
// Leader m0 killed (SIGKILL: EOF, then refused); m1 elected when its
// election timer fires, ~1.2 s later; a round trip takes ~1 ms:
//
//	t(ms) 0         1                                 1200       1201
//	      |EOF m0:  |m0 refused: backoff 6 s           |m1 row:    |
//	      |open m0, |m1, m2: leader=false (watching)   |leader=true| MONITORING
//	      |m1, m2   |                                  |promote m1,| on m1
//	      |         |                                  |close m2   |
//	recovery = election + one round trip; no backoff waited.
//
// The same after a leadership transfer: m0's own row flips to leader=false
// first, so its connection is demoted to its watcher (no reconnect) and m1,
// m2 are opened; the new leader's row is pushed ~2-4 ms later. After a
// graceful exit: as after a kill.
//
// Leader m0 frozen at 0 (SIGSTOP), last heard at 0, m2 elected at 1.4 s:
//
//	t(ms) 0          1000        1500           1501           1502
//	      |m0 silent |echo to m0 |no answer:    |m1: waiting,  |
//	      |          |           |suspect m0,   |m2: leader in |MONITORING
//	      |          |           |open m1, m2   |first reply:  |on m2
//	      |          |           |              |leave m0,     |
//	      |          |           |              |promote m2    |
//	recovery = max(election, Idle + Suspicion) + one round trip.
//
// # Bounds
//
//   - At most one connection per member at any time (a watcher, the
//     promoted connection or the data connection), so a herd of clients
//     never multiplies its connections by more than the member count. A
//     member that stays reachable is connected to once per outage.
//   - A member that refuses, hangs (no row within Config.AttemptTimeout,
//     10 s), answers garbage or an unusable row is closed and backed off:
//     after its k-th failure in a row for R × min(MinBackoff·2^k,
//     MaxBackoff), R members, that is 6, 12, 24, 24, ... s for R = 3 with
//     the session's 1 s and 8 s. OVS's session tries one member per
//     backoff step (1, 2, 4, 8, 8, ... s, after one free try per member
//     for a forced reconnect), so each member gets 1/R of its tries: with
//     no member reachable the Watch makes, per member, no more attempts
//     than OVS (per minute in steady state: 60 / (R × 8 s), 2.5 for
//     R = 3; in the first minute: 4 for R = 3, as OVS; over ten minutes:
//     27 for R = 3, as OVS's 80 over three members). TestAllDownAttempts
//     checks it for 1, 3 and 5 members.
//   - Each recovery tries every member once at its start, even one still
//     backed off from an earlier recovery (a member restarted since is seen
//     at once): one attempt per member per leader loss, which needs a
//     cluster healthy enough to elect. A member's failure count, which
//     sets the length of its next backoff, resets only when it answers a
//     usable row.
//   - "no usable server" (every member failed, none watched) is reported
//     through a rate limiter: 3 at once, then one a minute.
//   - A member whose row is Unusable (it lacks the database, serves
//     another cluster, is a relay) is backed off like a refusal, and
//     Step.Rejected asks the driver to tell the user about it the first
//     time in each recovery, not at each attempt.
//   - An election costs no attempt beyond one per member: no timer, no
//     re-sweep, no backoff while a healthy member is watched.
//
// # Recovery records
//
// Monitoring returns one Recovery per recovery: its cause (Initial,
// Dropped, ProbeFailed, NotLeader, Forced, Frozen), the member left and
// the new leader, the start and duration, the connections opened, the
// watchers that answered, how the leader was found (in a watcher's first
// reply, or by an update pushed while watching), whether the leader was
// suspect first, the failures that backed members off, and whether the
// new leader's member had been backed off (BackoffUsed).
package hunt
