package cs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/leader"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// remotesOf returns the remote list of the given members of h's cluster.
func (h *harness) remotesOf(members ...int) string {
	rs := make([]string, len(members))
	for i, m := range members {
		rs[i] = h.c.Member(m).Remote()
	}
	return strings.Join(rs, ",")
}

// SetRemotes on a running client under the leader watch: the member
// dropped is never dialled again (nor promoted when it leads), the member
// added is watched at the next leader loss and promoted when elected.
func TestWatchFollowsSetRemotes(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 4, nil)
		// Before Run: the watch starts on members 0, 1, 2.
		if err := h.cl.SetRemotes(h.remotesOf(0, 1, 2)); err != nil {
			t.Fatal(err)
		}
		h.run()
		h.waitMonitoring(0)
		h.insert("before", 1)
		h.replicaMatches()
		h.settle()
		if n := h.c.Member(3).Counters().Accepted; n != 0 {
			t.Fatalf("member 3, not listed, was dialled %d times", n)
		}
		// Drop member 1, add member 3; the connection to 0 is kept.
		if err := h.cl.SetRemotes(h.remotesOf(0, 2, 3)); err != nil {
			t.Fatal(err)
		}
		h.settle()
		h.c.ResetCounters()
		if s := h.cl.Stats(); s.State != Monitoring || s.Remote != h.c.Member(0).Remote() {
			t.Fatalf("after SetRemotes: %+v", s)
		}
		// The leader crashes; the election is held until member 3 wins it.
		if _, err := h.c.Crash(0, testserver.CrashEOF, time.Hour); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if err := h.c.Elect(3); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(3)
		if r := h.lastRecovery(); r.Remote != h.c.Member(3).Remote() || r.BackoffUsed {
			t.Fatalf("recovery %+v", r)
		}
		h.insert("after", 2)
		h.replicaMatches()
		// Member 0 restarts, member 3 crashes and the dropped member 1 is
		// elected: it is not followed, nor dialled.
		if err := h.c.Start(0); err != nil {
			t.Fatal(err)
		}
		if _, err := h.c.Crash(3, testserver.CrashEOF, time.Hour); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if err := h.c.Elect(1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		if s := h.cl.Stats(); s.State == Monitoring {
			t.Fatalf("MONITORING on a member no longer listed: %+v", s)
		}
		if n := h.c.Member(1).Counters().Accepted; n != 0 {
			t.Fatalf("the dropped member was dialled %d times", n)
		}
		// Listed again, it is watched at once and promoted.
		if err := h.cl.SetRemotes(h.remotesOf(0, 1, 2, 3)); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(1)
		h.replicaMatches()
	})
}

// SetRemotes that drops the member the client monitors: the session
// leaves it, and the watch finds the leader among the members listed.
func TestWatchSetRemotesDropsTheLeader(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		h.insert("before", 1)
		h.replicaMatches()
		if err := h.cl.SetRemotes(h.remotesOf(1, 2)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		h.settle()
		if s := h.cl.Stats(); s.State == Monitoring || s.Connected {
			t.Fatalf("still on the member dropped: %+v", s)
		}
		if err := h.c.TransferLeadership(2); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(2)
		h.insert("after", 2)
		h.replicaMatches()
	})
}

// A database no member serves, under the leader watch: LastError says
// why, and each member's rejection gives one Reconnect event per outage
// (not one per attempt), as a polling policy's first rejections do.
func TestWatchRejectionIsVisible(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil)
		cl, err := New("NoSuchDB", h.c.Remotes(), WithDialer(h.c.DialContext), WithShuffle(false))
		if err != nil {
			t.Fatal(err)
		}
		h.cl = cl
		h.run()
		h.waitFor("the rejection", time.Minute, func() bool { return errors.Is(h.cl.LastError(), leader.ErrDatabaseMissing) })
		time.Sleep(10 * time.Minute)
		h.settle()
		rec := h.eventsOf(func(e Event) bool { _, ok := e.(Reconnect); return ok })
		if len(rec) != 3 {
			t.Fatalf("%d Reconnect events in 10 minutes, want 3 (one per member): %v", len(rec), rec)
		}
		seen := map[string]bool{}
		for _, e := range rec {
			r := e.(Reconnect)
			if !errors.Is(r.Reason, leader.ErrDatabaseMissing) || r.WasMonitoring || seen[r.Remote] {
				t.Fatalf("Reconnect events %v", rec)
			}
			seen[r.Remote] = true
		}
		s := h.cl.Stats()
		if s.Reconnects != 3 || s.State == Monitoring || !errors.Is(h.cl.LastError(), leader.ErrDatabaseMissing) {
			t.Fatalf("stats %+v, last error %v", s, h.cl.LastError())
		}
	})
}

// A cluster id set by SetRemotes while MONITORING: the client leaves its
// connection (checked against no cluster id) and the watch, its watchers
// closed, finds the leader of the pinned cluster again.
func TestWatchSetRemotesNewClusterID(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		h.insert("before", 1)
		h.replicaMatches()
		before := h.cl.Stats().RecoveryCount
		if err := h.cl.SetRemotes("cid:" + h.c.Member(0).CID() + "," + h.c.Remotes()); err != nil {
			t.Fatal(err)
		}
		h.waitFor("a recovery", time.Minute, func() bool { return h.cl.Stats().RecoveryCount == before+1 })
		h.waitMonitoring(0)
		if r := h.lastRecovery(); r.BackoffUsed {
			t.Fatalf("recovery %+v", r)
		}
		h.insert("after", 2)
		h.replicaMatches()
	})
}
