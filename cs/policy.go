package cs

import (
	"time"

	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
)

// policyRecord is what a retry policy knows of a recovery that ended.
type policyRecord struct {
	// own: the policy made the connection attempts itself (the leader
	// watch); attempts and backoffUsed are then the whole truth. Else the
	// client counts the session's attempts, and a backoff was used only
	// if both it and the policy say so.
	own         bool
	attempts    int
	backoffUsed bool
	sweeps      int
	// watch is the leader watch's record, if it was the policy.
	watch *hunt.Recovery
}

// sessionControl is the part of a jsonrpc.Session a retry policy steers.
type sessionControl interface {
	ResetBackoff()
	ForceReconnect()
	ConnectNow()
}

// retryPolicy decides how the session reconnects. It is the seam for
// election-aware policies: the client consults it on every forced retry and
// every transport drop, and feeds it every session observation. All its
// methods are called by the owner of the client's machine (the driver
// goroutine while Run runs; before, a caller holding the client's lock),
// observations included (the session's observer only queues them), so it
// needs no lock; they must not block.
//
// seq and remote name the connection concerned (the session's seqno for
// it, 0 when there is none). The implementation is failoverPolicy
// (policy_failover.go), in either mode of package failover: OVS's rule
// (ovsdb_cs_force_reconnect, daf627f45: a forced reconnect from MONITORING
// first gives the session one backoff-free try per remote, plus one for the
// current connection; outside MONITORING, and after transport drops, the
// backoff is kept) or the election-aware policy (the default).
type retryPolicy interface {
	// retry carries out a reconnect the state machine (or the user)
	// forced; fromMonitoring reports whether the client was MONITORING.
	retry(s sessionControl, seq uint64, remote string, fromMonitoring bool, reason error)
	// dropped is called when a connection ended at the transport level
	// (EOF, reset, probe timeout).
	dropped(s sessionControl, seq uint64, remote string, wasMonitoring bool, reason error)
	// disconnect drops a connection whose server sent unusable data
	// (keeping the backoff).
	disconnect(s sessionControl, seq uint64, remote string, fromMonitoring bool, reason error)
	// observe sees every connection step of the session.
	observe(o jsonrpc.Observation)
	// monitoring is called when the client reaches MONITORING on remote,
	// so that a policy can end its recovery bookkeeping; it returns the
	// recovery it tracked, if any.
	monitoring(seq uint64, remote string) (policyRecord, bool)
	// heard is called for every message received on the data connection.
	heard()
	// bind is called once the session exists (Run), close when Run ends.
	bind(s *jsonrpc.Session)
	close()
	// deadline returns when run must be called next, if ever.
	deadline() (time.Time, bool)
	// run is called (on the Run goroutine) when the deadline passes.
	run(s sessionControl)
	// setRemotes gives the remote list and cluster id SetRemotes sets,
	// before the session gets them; an error leaves the policy (and the
	// client) as they were.
	setRemotes(remotes []jsonrpc.Remote, clusterID string) error
}
