package watcher_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/hunt/watcher"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// remotesOf returns the remote list of the given members of c.
func remotesOf(c *testserver.Cluster, members ...int) string {
	rs := make([]string, len(members))
	for i, m := range members {
		rs[i] = c.Member(m).Remote()
	}
	return strings.Join(rs, ",")
}

func parse(t *testing.T, remotes string) []jsonrpc.Remote {
	t.Helper()
	rs, _, err := jsonrpc.ParseRemotes(remotes)
	require.NoError(t, err)
	return rs
}

// SetRemotes while MONITORING: the member dropped is closed and never
// dialled again, the member added is watched at the next leader loss and
// promoted when elected (under its new number).
func TestSetRemotesFollowsTheList(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := testserver.NewCluster(4, testserver.LabSchema(), testserver.InMemory())
		require.NoError(t, err)
		defer c.Close()
		o, stop := startHuntOn(t, remotesOf(c, 0, 1, 2), watcher.Config{Dial: c.DialContext})
		defer stop()
		require.Equal(t, 0, o.recovery().To)
		require.NoError(t, o.h.SetRemotes(parse(t, remotesOf(c, 0, 2, 3)), ""))
		synctest.Wait()
		c.ResetCounters()
		_, err = c.Crash(0, testserver.CrashEOF, time.Hour)
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, c.Elect(3))
		r := o.recovery()
		require.Equal(t, 2, r.To, "member 3 is member 2 of the new list")
		require.False(t, r.BackoffUsed)
		require.Equal(t, 3, r.Attempts)
		synctest.Wait()
		require.Zero(t, c.Member(1).Counters().Accepted, "the dropped member was dialled")
	})
}

// A database the members lack: each member's rejection is noticed once
// per recovery, with the check's error, not once per attempt.
func TestRejectedNoticedOncePerRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := lab(t)
		ns := make(chan watcher.Notice, 1000)
		h, err := watcher.New(watcher.Config{Database: "NoSuchDB", Remotes: parse(t, c.Remotes()), Dial: c.DialContext,
			ProbeInterval: watcher.DefaultProbeInterval, Notify: func(n watcher.Notice) { ns <- n }})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = h.Run(ctx) }()
		h.Start()
		time.Sleep(10 * time.Minute)
		cancel()
		<-done
		close(ns)
		rejected, noServer := map[int]int{}, 0
		for n := range ns {
			switch n.Kind {
			case watcher.Rejected:
				require.True(t, errors.Is(n.LastErr, leader.ErrDatabaseMissing), "%v", n.LastErr)
				rejected[n.Member]++
			case watcher.NoServer:
				require.True(t, errors.Is(n.LastErr, leader.ErrDatabaseMissing), "%v", n.LastErr)
				noServer++
			}
		}
		require.Equal(t, map[int]int{0: 1, 1: 1, 2: 1}, rejected)
		require.Positive(t, noServer)
	})
}
