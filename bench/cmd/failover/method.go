package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// methodStop freezes the leader with SIGSTOP for --freeze, then resumes it
// with SIGCONT (package ovsdbserver moves leadership with the other
// methods).
const methodStop ovsdbserver.TransferMethod = "stop"

// moveLeader moves leadership off the leader with method and returns when
// the cluster is whole again (the old leader restarted, or resumed, and a
// follower).
func moveLeader(ctx context.Context, cl *ovsdbserver.Cluster, method ovsdbserver.TransferMethod, freeze time.Duration) (ovsdbserver.Transfer, error) {
	if method != methodStop {
		return cl.TransferLeadership(ctx, method)
	}
	tr := ovsdbserver.Transfer{Method: method, To: -1}
	from, err := cl.Leader(ctx)
	if err != nil {
		return tr, fmt.Errorf("stop: %w", err)
	}
	tr.From = from
	tr.Issued = time.Now()
	if err := cl.Stop(from); err != nil {
		return tr, fmt.Errorf("stop: %w", err)
	}
	// Resume the member whatever happens, so the cluster stays whole.
	resumed := false
	defer func() {
		if !resumed {
			_ = cl.Cont(from)
		}
	}()
	to, err := cl.WaitLeader(ctx, from)
	if err != nil {
		return tr, fmt.Errorf("stop: s%d frozen: %w", from, err)
	}
	tr.To, tr.Elected = to, time.Now()
	if err := sleepCtx(ctx, time.Until(tr.Issued.Add(freeze))); err != nil {
		return tr, err
	}
	resumed = true
	if err := cl.Cont(from); err != nil {
		return tr, fmt.Errorf("stop: %w", err)
	}
	// Back as a follower of the new term.
	if _, err := cl.Member(from).WaitStatus(ctx, func(st ovsdbserver.MemberStatus) bool {
		return st.Role == ovsdbserver.RoleFollower
	}); err != nil {
		return tr, fmt.Errorf("stop: s%d after SIGCONT: %w", from, err)
	}
	tr.Restarted = time.Now()
	return tr, nil
}
