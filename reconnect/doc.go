// Package reconnect is the reconnect and backoff state machine of Open
// vSwitch 3.1 (lib/reconnect.c), ported to Go with the same behaviour,
// number for number. It decides when a client should connect, probe an idle
// peer, give up on a silent one, and how long to wait between attempts.
//
// # The model
//
// An [FSM] does no I/O and reads no clock: every method that depends on
// time takes the current time, and the caller does the connecting,
// listening and sending. It has no goroutines and no locks; the goroutine
// that owns the connection owns the FSM.
//
// The caller reports what happened ([FSM.Connecting], [FSM.Connected],
// [FSM.ConnectFailed], [FSM.Disconnected], [FSM.Activity], ...) and asks
// what to do ([FSM.Run]) and when to ask next ([FSM.Timeout]):
//
//	VOID ──Enable──▶ BACKOFF ──Run: Connect──▶ CONNECTING ──Connected──▶ ACTIVE
//	                    ▲                          │                      │  ▲
//	                    └── Disconnected/ConnectFailed (next backoff) ◀───┤  │ Activity
//	                                                       Run: Probe ──▶ IDLE
//
// In [Backoff] the FSM waits for the current backoff, then Run returns
// [Connect]. An attempt ([Connecting]) may last max(1 s, backoff) before Run
// returns [Disconnect]. A connection is [Active] until the peer has been
// silent for the probe interval (default 5 s); then Run returns [Probe] and
// moves to [Idle]. Any [FSM.Activity] returns to Active; another silent
// interval makes Run return [Disconnect]. [FSM.ForceReconnect] moves a
// connecting or connected FSM to [Reconnect], where Run returns Disconnect at
// once. Run keeps repeating its answer until the caller reports the result.
// Passive mode ([FSM.SetPassive]) is the same with "listen" for "connect",
// plus [Listening], which has no deadline.
//
// # Backoff
//
// Every disconnection that is not ignored (it is in [Backoff] and [Void])
// picks the next backoff, in this order:
//
//  1. If no try is left ([FSM.SetMaxTries]), go to [Void] instead.
//  2. If more than one backoff-free try is left ([FSM.SetBackoffFreeTries]),
//     spend one: backoff 0.
//  3. If the connection was up ([Active] or [Idle]) and its activity spanned
//     at least the current backoff (or in passive mode): the minimum backoff
//     (0 in passive mode).
//  4. Otherwise the minimum if below it, else double, else the maximum
//     (defaults 1 s and 8 s: 1, 2, 4, 8, 8, ... seconds).
//
// A forced reconnect disconnects from [Reconnect], never from a connected
// state, so step 3 never applies and the backoff grows even after a long,
// healthy connection. A client that forces a reconnect to move to another
// server (a new cluster leader, say) first gives the FSM one free try per
// remote, plus one for the connection it is dropping, so that every remote
// is tried once without backoff before backing off again.
//
// [FSM.Activity] never cancels a forced reconnect (OVS commit 23b16a03f;
// OVS's Python port still has that bug).
//
// # Probes and the receive guard
//
// A probe deadline that has passed fires only if the caller tried to
// receive at or after it ([FSM.ReceiveAttempted]); until then the deadline is
// now+1 ms, so a caller that was slow to run its loop gets to read the
// peer's pending data before the FSM calls the peer dead.
// [FSM.ReceiveAttemptedNever] turns the guard off.
//
// # Times
//
// Configured durations are truncated to whole milliseconds, the resolution
// of the C library, so that the backoff arithmetic (including C's integer
// max/2) is exactly OVS's. Times that never happened are reported with a
// false "ok" or Ever flag, never with a magic value.
//
// The conformance transcripts in testdata/ are run by the driver in
// internal/script, which prints what OVS's "ovstest test-reconnect" prints.
package reconnect
