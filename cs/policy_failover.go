package cs

import (
	"errors"
	"time"

	"github.com/go-logr/logr"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
)

// failoverPolicy is the retryPolicy built on a failover.Policy: the
// election-aware policy by default, OVS's rule with failover.OVS.
//
// It turns what the client and the session see into the Policy's inputs:
//
//   - leaving a server the client was MONITORING (a forced retry, or a
//     transport drop) is Policy.LeftServer;
//   - every connection attempt that does not reach MONITORING is reported
//     once with Policy.Attempt: a failed dial from the session's
//     observations (refused, timed out, ...), a connected attempt from the
//     client (the leader check's rejection, a drop, bad input), its outcome
//     from failover.OutcomeOf (leader.ErrNotLeader, which the check returns
//     only for a healthy member, is failover.NotLeader);
//   - reaching MONITORING is Policy.Monitoring.
//
// Decisions are applied on the session at once (ResetBackoff, then
// ConnectNow); for a Decision.Wake the driver re-arms its timer from
// deadline after every input and calls run when it fires. All its methods
// run on the client's driver goroutine (or, before Run, on a caller holding
// the client's lock), so it has no lock of its own.
type failoverPolicy struct {
	log logr.Logger

	p       *failover.Policy
	doneSeq uint64 // the newest connection already accounted for
	// Zero-backoff bookkeeping (see spare): whether the session's next
	// attempt, the attempt being dialed, and each connected attempt by
	// seqno started without a backoff wait.
	zeroNext bool
	zeroDial bool
	zeroConn map[uint64]bool
	lastErr  error // why the last attempt failed, for the "no usable server" log
	lastFrom string
}

func newFailoverPolicy(cfg failover.Config, remotes int, log logr.Logger) *failoverPolicy {
	return &failoverPolicy{log: log, p: failover.New(cfg, remotes)}
}

// retry carries out a reconnect the machine or the user forced.
func (f *failoverPolicy) retry(s sessionControl, seq uint64, remote string, fromMonitoring bool, reason error) {
	f.apply(s, f.leave(seq, remote, fromMonitoring, failover.ForcedWhileMonitoring, reason, true))
	s.ForceReconnect()
}

// dropped handles the end of a connection at the transport level.
func (f *failoverPolicy) dropped(s sessionControl, seq uint64, remote string, wasMonitoring bool, reason error) {
	f.apply(s, f.leave(seq, remote, wasMonitoring, failover.DroppedWhileMonitoring, reason, true))
}

// disconnect drops a connection whose server sent unusable data, keeping
// the backoff (as OVS does for a transport error).
func (f *failoverPolicy) disconnect(s sessionControl, seq uint64, remote string, fromMonitoring bool, reason error) {
	f.apply(s, f.leave(seq, remote, fromMonitoring, failover.Dropped, reason, false))
	s.ForceReconnect()
}

// leave reports the end of connection seq to remote: leaving a server that
// was MONITORING starts a recovery for cause (recording remote as where it
// started when recordFrom); any other end is one more failed attempt.
func (f *failoverPolicy) leave(seq uint64, remote string, monitoring bool, cause failover.Cause, reason error, recordFrom bool) failover.Decision {
	now := time.Now()
	if !monitoring {
		return f.reportConn(now, seq, remote, reason)
	}
	f.markDone(seq)
	if recordFrom {
		f.lastFrom = remote
	}
	return f.p.LeftServer(now, remote, cause)
}

// observe reports failed dials as attempts. A dial abandoned
// (jsonrpc.ErrForcedReconnect: our ConnectNow, or a ForceReconnect) got no
// answer from the server and is not an attempt: the session's walk moves
// on, and the remote is tried again later in the sweep.
func (f *failoverPolicy) observe(o jsonrpc.Observation) {
	var d failover.Decision
	switch o.Kind {
	case jsonrpc.ObserveBackoff:
		f.zeroNext = o.Backoff == 0
	case jsonrpc.ObserveConnecting:
		f.zeroDial = f.zeroNext
	case jsonrpc.ObserveConnected:
		if f.zeroConn == nil {
			f.zeroConn = map[uint64]bool{}
		}
		for seq := range f.zeroConn {
			if seq <= f.doneSeq {
				delete(f.zeroConn, seq)
			}
		}
		f.zeroConn[o.Seqno] = f.zeroDial
	case jsonrpc.ObserveConnectFailed:
		if errors.Is(o.Err, jsonrpc.ErrForcedReconnect) || f.spare(f.zeroDial) {
			break
		}
		f.lastErr = o.Err
		d = f.p.Attempt(time.Now(), o.Remote, failover.OutcomeOf(o.Err))
	}
	f.apply(nil, d)
}

// spare reports whether an attempt that ended is a spare free try, not to
// be reported to the Policy: one made at zero backoff while a re-sweep is
// pending. ResetBackoff gives one more free try when the session is
// connected, and after a transport drop the session may already be
// connected to the next remote when the reset comes (left from its own
// free tries); ConnectNow then drops that connection without spending the
// extra try, so the sweep gets one zero-backoff attempt more than the
// Policy counts. Reporting it would look like the session's backoff firing
// before the re-sweep and end the re-sweeps.
func (f *failoverPolicy) spare(zero bool) bool {
	if !zero {
		return false
	}
	if _, waiting := f.p.Deadline(); !waiting {
		return false
	}
	f.log.V(1).Info("spare zero-backoff attempt while a re-sweep is pending; not counted")
	return true
}

// monitoring ends the recovery in progress, if any, and returns it.
func (f *failoverPolicy) monitoring(seq uint64, remote string) (policyRecord, bool) {
	f.markDone(seq)
	rec, ok := f.p.Monitoring(time.Now(), remote)
	return policyRecord{attempts: rec.Attempts, backoffUsed: rec.BackoffUsed, sweeps: rec.Sweeps}, ok
}

func (f *failoverPolicy) heard()                {}
func (f *failoverPolicy) bind(*jsonrpc.Session) {}
func (f *failoverPolicy) close()                {}

// deadline returns when run must be called next.
func (f *failoverPolicy) deadline() (time.Time, bool) {
	return f.p.Deadline()
}

// run starts a pending re-sweep when it is due.
func (f *failoverPolicy) run(s sessionControl) {
	d := f.p.Run(time.Now())
	if d.ConnectNow {
		f.log.V(1).Info("election under way: sweeping the remotes again")
	}
	f.apply(s, d)
}

// setRemotes tells the policy the number of remotes.
func (f *failoverPolicy) setRemotes(remotes []jsonrpc.Remote, _ string) error {
	f.p.SetRemotes(len(remotes))
	return nil
}

// markDone records that connection seq needs no Attempt report.
func (f *failoverPolicy) markDone(seq uint64) {
	if seq > f.doneSeq {
		f.doneSeq = seq
	}
}

// reportConn reports connected attempt seq, once.
func (f *failoverPolicy) reportConn(now time.Time, seq uint64, remote string, reason error) failover.Decision {
	if seq == 0 || seq <= f.doneSeq {
		return failover.Decision{}
	}
	f.doneSeq = seq
	zero := f.zeroConn[seq]
	delete(f.zeroConn, seq)
	if f.spare(zero) {
		return failover.Decision{}
	}
	f.lastErr = reason
	return f.p.Attempt(now, remote, failover.OutcomeOf(reason))
}

// apply carries out d on s (nil: d has no session action) and logs a "no
// usable server" report.
func (f *failoverPolicy) apply(s sessionControl, d failover.Decision) {
	if s != nil {
		if d.ResetBackoff {
			s.ResetBackoff()
		}
		if d.ConnectNow {
			s.ConnectNow()
		}
	}
	if d.NoServer {
		lastErr, from := f.lastErr, f.lastFrom
		kv := []any{"lastError", lastErr, "left", from}
		if !d.Wake.IsZero() {
			kv = append(kv, "next", "sweep again soon (election under way?)")
		} else {
			kv = append(kv, "next", "after backoff")
		}
		if d.Log {
			if d.Suppressed > 0 {
				kv = append(kv, "suppressed", d.Suppressed)
			}
			f.log.Info("no usable server", kv...)
		} else {
			f.log.V(1).Info("no usable server", kv...)
		}
	}
}
