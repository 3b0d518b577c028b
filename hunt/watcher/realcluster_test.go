package watcher_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/hunt/watcher"
	"github.com/ovsdbcs/ovsdbcs/testserver"
	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// On a real 3-member ovsdb-server cluster, the leader is killed (SIGKILL:
// no hand-over) five times; each time the Hunter must find the member the
// others elected, without backoff, at most one attempt per member. The
// log shows the election time (from the servers' logs) beside the time the
// new leader was found; no timing is asserted.
func TestRealClusterKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ovsdb-server")
	}
	cl := ovsdbserver.StartCluster(t, 3, testserver.LabSchema())
	o, stop := startHuntOn(t, cl.Remotes(), watcher.Config{})
	defer stop()
	first := o.recovery()
	ctx := context.Background()
	lead, err := cl.WaitLeader(ctx)
	require.NoError(t, err)
	require.Equal(t, lead, first.To)
	for k := range 5 {
		time.Sleep(500 * time.Millisecond)
		old, err := cl.Leader(ctx)
		require.NoError(t, err)
		t0 := time.Now()
		require.NoError(t, cl.Kill(old))
		rec := o.recovery()
		found := rec.Start.Add(rec.Duration)
		lead, err := cl.WaitLeader(ctx, old)
		require.NoError(t, err)
		require.Equal(t, lead, rec.To, "kill %d", k)
		require.Equal(t, hunt.Dropped, rec.Cause)
		require.False(t, rec.BackoffUsed)
		require.LessOrEqual(t, rec.Attempts, 3)
		if e, ok := cl.FirstElection(t0); ok {
			t.Logf("kill %d: s%d -> s%d: elected %v after the kill (logs), found %v after the election; %d attempts, %d backed off, found by %s",
				k, old, lead, e.T.Sub(t0).Round(time.Millisecond), found.Sub(e.T).Round(time.Millisecond), rec.Attempts, rec.BackedOff, rec.Found)
		}
		require.NoError(t, cl.Restart(ctx, old))
	}
}
