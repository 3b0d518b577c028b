package cs

import "github.com/ovsdbcs/ovsdbcs/jsonrpc"

// sessionControl is the part of a jsonrpc.Session a retry policy steers.
type sessionControl interface {
	ResetBackoff()
	ForceReconnect()
	ConnectNow()
}

// retryPolicy decides how the session reconnects. It is the seam for
// election-aware policies: the client consults it on every forced retry and
// every transport drop, and feeds it every session observation. Methods are
// called with the client's lock held (except observe, which runs on the
// session's goroutine) and must not block.
type retryPolicy interface {
	// retry carries out a reconnect the state machine (or the user)
	// forced; fromMonitoring reports whether the client was MONITORING.
	retry(s sessionControl, fromMonitoring bool, reason error)
	// dropped is called when a connection ended at the transport level
	// (EOF, reset, probe timeout) or was dropped for bad input.
	dropped(s sessionControl, wasMonitoring bool, reason error)
	// observe sees every connection step of the session.
	observe(o jsonrpc.Observation)
	// monitoring is called when the client reaches MONITORING on remote,
	// so that a policy can end its recovery bookkeeping.
	monitoring(remote string)
}

// ovsPolicy is Open vSwitch's policy (ovsdb_cs_force_reconnect, daf627f45):
// a forced reconnect from MONITORING first gives the session one
// backoff-free try per remote (plus one for the current connection), so
// every remote is tried once at once; outside MONITORING the backoff is
// kept, and transport drops keep it too.
type ovsPolicy struct{}

func (ovsPolicy) retry(s sessionControl, fromMonitoring bool, _ error) {
	if fromMonitoring {
		s.ResetBackoff()
	}
	s.ForceReconnect()
}

func (ovsPolicy) dropped(sessionControl, bool, error) {}

func (ovsPolicy) observe(jsonrpc.Observation) {}

func (ovsPolicy) monitoring(string) {}
