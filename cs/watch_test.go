package cs

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// Scenarios of the leader watch, the default policy, against the fake
// cluster in fake time (in-memory connections: a round trip takes no
// time, so a recovery lasts exactly as long as the election).

func (h *harness) lastRecovery() Recovery {
	h.t.Helper()
	r := h.cl.Stats().Recoveries
	if len(r) == 0 {
		h.t.Fatal("no recovery recorded")
	}
	return r[len(r)-1]
}

// replicaMatches waits until the replica equals the server's data.
func (h *harness) replicaMatches() {
	h.t.Helper()
	h.waitFor("the replica equal to the server", 30*time.Second, func() bool {
		return maps.Equal(h.replicaItems(), h.serverItems())
	})
}

func TestWatchCrashRecoversAtTheElection(t *testing.T) {
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 200 * time.Millisecond, 1500 * time.Millisecond, 5 * time.Second} {
		t.Run(delay.String(), func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				h := newHarness(t, 3, nil).run()
				h.waitMonitoring(0)
				h.insert("before", 1)
				h.replicaMatches()
				done, err := h.c.Crash(0, testserver.CrashEOF, delay)
				if err != nil {
					t.Fatal(err)
				}
				<-done
				lead := h.c.Leader()
				h.waitMonitoring(lead)
				r := h.lastRecovery()
				if r.Duration != delay || r.BackoffUsed || r.Attempts != 3 || r.Remote != h.c.Member(lead).Remote() {
					t.Fatalf("recovery %+v, want %v, no backoff, 3 attempts, on member %d", r, delay, lead)
				}
				h.insert("after", 2)
				h.replicaMatches()
				// The watchers are closed: one connection, to the leader.
				h.settle()
				for i := range 3 {
					want := 0
					if i == lead {
						want = 1
					}
					if got := h.c.Member(i).Connections(); got != want {
						t.Errorf("member %d: %d connections, want %d", i, got, want)
					}
				}
			})
		})
	}
}

func TestWatchTransferAndGracefulExit(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, []testserver.Option{testserver.WithElectionDelay(3 * time.Millisecond)}).run()
		h.waitMonitoring(0)
		for k := range 10 {
			from := h.c.Leader()
			if err := h.c.TransferLeadership(testserver.AnyOther); err != nil {
				t.Fatal(err)
			}
			h.waitMonitoring(h.c.Leader())
			r := h.lastRecovery()
			if r.Duration != 3*time.Millisecond || r.BackoffUsed {
				t.Fatalf("transfer %d from %d: %+v", k, from, r)
			}
			h.insert(fmt.Sprintf("t%d", k), k)
		}
		h.replicaMatches()
		for k := range 5 {
			from := h.c.Leader()
			if err := h.c.GracefulExit(from); err != nil {
				t.Fatal(err)
			}
			h.waitMonitoring(h.c.Leader())
			r := h.lastRecovery()
			if r.Duration != 3*time.Millisecond || r.BackoffUsed {
				t.Fatalf("exit %d of %d: %+v", k, from, r)
			}
			if err := h.c.Start(from); err != nil {
				t.Fatal(err)
			}
			h.insert(fmt.Sprintf("e%d", k), k)
		}
		h.replicaMatches()
	})
}

// A frozen leader is suspected after an unanswered echo and left as soon
// as another member leads; when it resumes nothing changes.
func TestWatchFrozenLeader(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		h.insert("before", 1)
		time.Sleep(10 * time.Second)
		start := time.Now()
		done, err := h.c.Freeze(0, 1200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		<-done
		lead := h.c.Leader()
		h.waitMonitoring(lead)
		r := h.lastRecovery()
		back := r.Left.Add(r.Duration).Sub(start)
		if !r.Suspected || r.BackoffUsed || back > 1200*time.Millisecond+hunt.DefaultIdle+hunt.DefaultSuspicion {
			t.Fatalf("recovery %+v, %v after the freeze", r, back)
		}
		h.insert("after", 2)
		h.replicaMatches()
		if err := h.c.Thaw(0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if n := len(h.cl.Stats().Recoveries); n != 1 {
			t.Fatalf("%d recoveries after the old leader resumed", n)
		}
		h.replicaMatches()
	})
}

// A member that reports leader=true with an index below the highest the
// client has seen is not chosen until it catches up.
func TestWatchStaleLeaderNotChosen(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		if err := h.c.Lag(1, true); err != nil {
			t.Fatal(err)
		}
		for k := range 3 {
			h.insert(fmt.Sprintf("r%d", k), k)
		}
		h.replicaMatches()
		done, err := h.c.Crash(0, testserver.CrashEOF, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		<-done
		if h.c.Leader() != 1 {
			t.Fatalf("leader %d, want the lagging member 1", h.c.Leader())
		}
		time.Sleep(5 * time.Second)
		if s := h.cl.Stats(); s.State == Monitoring {
			t.Fatalf("MONITORING on a stale leader: %+v", s)
		}
		if err := h.c.Lag(1, false); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(1)
		h.replicaMatches()
	})
}

// Every member down for ten minutes: attempts within the documented bound
// (27 per member for 3), "no usable server" rate-limited; then the whole
// cluster restarts and the client is back within one member backoff.
func TestWatchAllDownThenClusterRestart(t *testing.T) {
	scenario(t, func(t *testing.T) {
		logs := &lineCounter{}
		h := newHarness(t, 3, nil, WithLogger(logs.logger())).run()
		h.waitMonitoring(0)
		h.insert("before", 1)
		h.replicaMatches()
		for i := range 3 {
			if err := h.c.Stop(i); err != nil {
				t.Fatal(err)
			}
		}
		h.settle()
		h.c.ResetCounters()
		time.Sleep(10 * time.Minute)
		for i := range 3 {
			if n := h.c.Member(i).Counters().Refused; n > 27 {
				t.Errorf("member %d: %d attempts in 10 minutes, bound 27", i, n)
			}
		}
		if n := logs.count(0, "no usable server"); n > 3+10 {
			t.Errorf("%d \"no usable server\" lines logged in 10 minutes, want at most 3 + 1 a minute", n)
		}
		back := time.Now()
		for i := range 3 {
			if err := h.c.Start(i); err != nil {
				t.Fatal(err)
			}
		}
		h.waitFor("MONITORING again", time.Minute, func() bool { return h.cl.State() == Monitoring })
		r := h.lastRecovery()
		if end := r.Left.Add(r.Duration); end.Sub(back) > 24*time.Second {
			t.Fatalf("back %v after the restart: %+v", end.Sub(back), r)
		}
		h.insert("after", 2)
		h.replicaMatches()
	})
}

// No leader for ten minutes (every member healthy, the election held):
// one watcher per member, no polling; the leader is taken the moment it is
// elected.
func TestWatchNoLeaderForTenMinutes(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		base := sum(h.accepted())
		if err := h.c.StepDown(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		if n := sum(h.accepted()) - base; n != 3 {
			t.Errorf("%d connections in 10 minutes without a leader, want 3 (one watcher per member)", n)
		}
		elected := time.Now()
		if err := h.c.Elect(2); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(2)
		r := h.lastRecovery()
		if end := r.Left.Add(r.Duration); !end.Equal(elected) || r.Found != "update" {
			t.Fatalf("recovery %+v, ended %v after the election", r, end.Sub(elected))
		}
	})
}
