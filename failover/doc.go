// Package failover decides how a leader-only OVSDB client moves between the
// members of a clustered database when leadership changes: when to give the
// session backoff-free tries, when to sweep the remotes again, and when to
// leave the rest to the reconnect FSM's backoff.
//
// It is pure decision logic, like package reconnect: no goroutines, no I/O,
// no clock. Every input carries the time, and the answer is a Decision that
// the caller applies to its jsonrpc.Session. So every rule is tested with a
// fake clock (see the simulated cluster in the tests, which drives the real
// reconnect FSM with OVS's free-tries and backoff arithmetic).
//
// # Two policies
//
// OVS (Config.Mode = OVS) is Open vSwitch's rule (lib/ovsdb-cs.c since
// v2.17, commit daf627f45): a forced reconnect from MONITORING first resets
// the backoff (one free try per remote, plus one for the live connection),
// so every remote is tried once at zero backoff, the left one last; then the
// normal backoff resumes (1, 2, 4, 8, 8, ... s). A transport drop (EOF, reset,
// probe timeout) gets no reset: the FSM waits the minimum backoff (1 s) after
// a long connection.
//
// ElectionAware (the default) keeps that rule and adds two:
//
//  1. A sweep that found every member healthy (clustered, connected to the
//     cluster, with the schema) but none leader means an election is under
//     way. The policy sweeps again after a short wait: FirstDelay (5 ms), then
//     doubling up to MaxDelay, each spread by ±Jitter, for at most MaxSweeps
//     (2) re-sweeps, and only while a re-sweep starts within Budget (1 s) of
//     leaving the server. Then normal backoff resumes.
//  2. When the connection to the server it was MONITORING drops at the
//     transport level, it resets the backoff and connects at once: the other
//     members are tried at zero backoff, the dropped one last. The dropped
//     member may refuse the connection (a graceful exit) without spoiling
//     rule 1.
//
// A member that refuses (other than the one that just dropped), hangs, answers
// garbage or is unusable for another reason (not joined, cut off from the
// cluster, stale, relay) ends the re-sweeps for the rest of the recovery:
// the current sweep finishes on its free tries, and the rest goes at OVS's
// backoff. A sick cluster is never stormed.
//
// # Timelines
//
// Leadership transfer, 3 remotes A (old leader), B (new leader, tried first),
// C; the election makes B leader at 7 ms; an attempt takes ~2 ms. Each
// column is the time an answer arrives (the first: A's _Server update):
//
//	OVS
//	t(ms) 0        2        4        6                               1006     1008
//	      |A: not  |B: not  |C: not  |A: not                          |B:      |
//	      | leader | leader | leader | leader ... min backoff 1 s ... | leader | MONITORING
//	      reset+force  (free tries: B, C, A)   sweep lost the race      (BackoffUsed)
//
//	ElectionAware (defaults, no jitter)
//	t(ms) 0        2        4        6      11       13
//	      |A: not  |B: not  |C: not  |wait  |B:      |
//	      | leader | leader | leader | 5 ms | leader | MONITORING
//	      reset+force                 all healthy, none leader:
//	                                  Wake at 11, Run: reset + connect now
//	      (a later election: sweeps at 11 and ~27 ms, then the 1 s backoff)
//
// Graceful exit of the leader A (EOF, no _Server update), election 3 ms:
//
//	OVS
//	t(ms) 0                              1000     1002
//	      | EOF: no reset, min backoff 1 s |B:     |
//	      |                                | leader| MONITORING
//
//	ElectionAware
//	t(ms) 0       2       4       4.2    9.2      11.2
//	      |B: not |C: not |A:     | wait |B:      |
//	      |leader |leader |refused| 5 ms |leader  | MONITORING
//	      EOF: reset + connect now (A, the dropped one, last; its refusal
//	      is expected, so B and C being healthy still means an election)
//
// # Worst-case attempts per leader change
//
// Each sweep tries every remote exactly once. With R remotes, the attempts a
// leader change costs before normal backoff resumes are
//
//	WorstCaseAttempts = R × S
//	S = 1                                      (OVS mode)
//	S = 1 + max{ k ≤ MaxSweeps : Σ_{j<k} d_j·(1−Jitter) ≤ Budget }   (election-aware)
//	d_j = min(FirstDelay·2^j, MaxDelay)
//
// (the sum is the earliest start of re-sweep k, taking sweeps as instant).
// With the defaults and R = 3: d = 5, 10 ms, S = 3, WorstCaseAttempts = 9,
// that is 3 attempts per member, the target, and the last re-sweep
// starts 12-18 ms after the first sweep ends (Policy.ElectionWindow gives
// the lower end). Over any horizon, election-aware makes at most R×(S−1)
// more attempts than OVS (the no-leader test checks it over 10 minutes of
// fake time: OVS 80, election-aware 86), and its backoff steps start at most
// the fast phase later (≤ Budget).
//
// After the fast phase, attempts follow the FSM's backoff, one per step, in
// both modes: an election longer than the window costs one more attempt per
// backoff step, exactly as OVS would.
//
// # Choosing the defaults
//
// Measured on ovsdb-server 3.1, 3 members on loopback (leadership moved with
// ovs-appctl cluster/failure-test transfer-leadership): an election after a
// transfer takes 1.5-5 ms; the new leader shows leader=true ~2-4 ms later;
// the client leaves the old leader ~3.5 ms after the transfer starts, and a
// zero-backoff sweep of 3 remotes takes 4-11 ms. The one-sweep race is lost
// when the new leader is tried first, before it knows it leads.
//
//   - FirstDelay 5 ms: past the latest measured visibility of the new
//     leader, counted from the earliest end of the first sweep.
//   - ×2 growth and MaxSweeps 2: a second chance 10 ms later on a loaded
//     machine, and still at most 3 attempts per member (R = 3).
//   - Budget 1 s, OVS's minimum backoff: the fast phase never outlives the
//     wait OVS would do anyway, and the session's own backoff (1 s) never
//     fires during a wait (if it does, the re-sweeps end).
//   - Jitter ±20 %: clients that left the same leader together do not come
//     back in lockstep, and the window stays inside the measured range.
//
// The trade-off: covering a 200 ms election needs MaxSweeps 6 (waits 5 to
// 160 ms, window 252-378 ms), 21 attempts, 7 per member. Covering a leader
// killed by SIGTERM (no hand-over: ~1.2 s until a follower's election timer
// fires) needs about 8 re-sweeps. Both break the 3-per-member target for an
// event the backoff handles at OVS's cost (the next attempt ~1 s later), so
// the defaults aim at transfers and graceful exits, which elect in
// milliseconds; raise MaxSweeps to trade attempts for coverage.
//
// # Driving it
//
// One Policy per client, fed by the client-sync layer on the goroutine that
// owns the session:
//
//	p := failover.New(failover.Config{}, len(remotes))
//	// Leaving a server it was MONITORING (leader check failed, inconsistency,
//	// user request): apply, then force the reconnect.
//	apply(p.LeftServer(now, remote, failover.ForcedWhileMonitoring))
//	session.ForceReconnect()
//	// Its connection dropped (EOF, reset): apply at once.
//	apply(p.LeftServer(now, remote, failover.DroppedWhileMonitoring))
//	// Every attempt that does not reach MONITORING:
//	apply(p.Attempt(now, remote, failover.OutcomeOf(err)))
//	// Reached MONITORING: record the recovery (Stats, the "recovered" event).
//	if rec, ok := p.Monitoring(now, remote); ok { ... }
//	// When p.Deadline() passes (a timer on Decision.Wake):
//	apply(p.Run(now))
//
// where apply calls session.ResetBackoff() if d.ResetBackoff, then
// session.ConnectNow() if d.ConnectNow, re-arms its timer on d.Wake, and logs
// "no usable server" when d.NoServer && d.Log (with d.Suppressed). Those
// reports are rate-limited by a LogLimiter (3 at once, then one a minute),
// so a cluster with no leader for hours does not fill the log.
package failover
