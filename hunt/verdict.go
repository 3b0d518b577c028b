package hunt

import (
	"errors"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/leader"
)

// Verdict is what a watcher's _Server.Database row says about its member,
// as judged by leader.Checker.Check. VerdictOf maps Check's error to it.
type Verdict uint8

const (
	// Leader: the member passed the whole check (leader, connected, the
	// cluster id, a schema, an index not below the highest seen): carry on
	// on this connection.
	Leader Verdict = iota + 1
	// Waiting: a healthy member that may lead soon, or whose row may
	// change: a follower, a candidate cut off while it retries an election
	// (connected=false), a member not joined yet, or one whose index is
	// below the highest seen (stale, or reporting leader=true with an old
	// index). Keep watching it.
	Waiting
	// Unusable: a member that cannot serve the database (no such
	// database, another cluster, a relay, no schema): close it and back
	// it off like a refusal.
	Unusable
)

var verdictNames = [...]string{Leader: "leader", Waiting: "waiting", Unusable: "unusable"}

// String returns "leader", "waiting" or "unusable".
func (v Verdict) String() string { return nameOf(verdictNames[:], v, "verdict") }

// VerdictOf maps the result of leader.Checker.Check on a watcher's rows to a
// Verdict: nil is Leader; leader.ErrNotLeader, ErrClusterDisconnected,
// ErrNotJoined and ErrStale are Waiting; any other error is Unusable.
//
// Run Check with a Checker shared with the data connection, so that "index
// not below the highest seen" counts every index the client accepted.
func VerdictOf(err error) Verdict {
	switch {
	case err == nil:
		return Leader
	case errors.Is(err, leader.ErrNotLeader),
		errors.Is(err, leader.ErrClusterDisconnected),
		errors.Is(err, leader.ErrNotJoined),
		errors.Is(err, leader.ErrStale):
		return Waiting
	}
	return Unusable
}

// Outcome is how a watcher failed; failover.OutcomeOf maps an error to it
// (Refused, TimedOut, Protocol; NotLeader and Unusable are verdicts here,
// reported with Watch.Report).
type Outcome = failover.Outcome
