package cs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

func TestConnectsToLeaderAndMonitors(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, []testserver.Option{testserver.WithInitialLeader(1)})
		h.insert("a", 1)
		h.run()
		h.waitMonitoring(1)
		h.insert("b", 2)
		h.settle()
		if got, want := h.replicaItems(), h.serverItems(); !mapsEqual(got, want) {
			t.Fatalf("replica %v, server %v", got, want)
		}
		ups := h.updates()
		if len(ups) == 0 || !ups[0].MonitorReply || !ups[0].Clear || ups[0].Version != 3 {
			t.Fatalf("first update %+v", ups)
		}
	})
}

func TestLeaderTransferRecoversWithoutBackoffAndResumesDelta(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		h.insert("a", 1)
		h.settle()
		h.resetEvents()
		before := h.requests(1, "monitor_cond_since") + h.requests(2, "monitor_cond_since")
		h.holdUpdates(0)
		start := time.Now()
		if err := h.c.TransferLeadership(1); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(1)
		if d := time.Since(start); d != time.Millisecond {
			t.Fatalf("recovery took %v of fake time, want 1ms (the held update, no backoff)", d)
		}
		after := h.requests(1, "monitor_cond_since") + h.requests(2, "monitor_cond_since")
		if after-before < 1 {
			t.Fatalf("no monitor_cond_since sent to the new members")
		}
		for _, u := range h.updates() {
			if u.Clear {
				t.Fatalf("full resync after a leader transfer: %+v", u)
			}
			if u.MonitorReply && !u.Found {
				t.Fatalf("monitor reply without found")
			}
		}
		st := h.cl.Stats()
		if len(st.Recoveries) != 1 {
			t.Fatalf("recoveries %+v", st.Recoveries)
		}
		r := st.Recoveries[0]
		if r.BackoffUsed || r.Remote != h.c.Member(1).Remote() || r.Duration != 0 {
			t.Fatalf("recovery %+v", r)
		}
		if len(h.eventsOf(func(e Event) bool { _, ok := e.(Recovered); return ok })) != 1 {
			t.Fatal("no Recovered event")
		}
		h.insert("b", 2)
		h.settle()
		if got, want := h.replicaItems(), h.serverItems(); !mapsEqual(got, want) {
			t.Fatalf("replica %v, server %v", got, want)
		}
	})
}

func TestTransactionInFlightDuringLeaderChangeIsMaybeCommitted(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		// A leader that answers nothing keeps the transaction in flight.
		if err := h.c.Member(0).SetFaults(testserver.Faults{ReplyDelay: time.Hour}); err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := h.cl.TransactRaw(context.Background(), []byte(`[{"op":"insert","table":"Item","row":{"name":"x"}}]`))
			errc <- err
		}()
		h.settle()
		h.cl.ForceReconnect()
		err := <-errc
		if !errors.Is(err, ErrMaybeCommitted) || !errors.Is(err, ErrReconnected) || errors.Is(err, ErrTryAgain) {
			t.Fatalf("err = %v, want ErrReconnected (maybe committed, not try-again)", err)
		}
		_ = h.c.Member(0).SetFaults(testserver.Faults{})
	})
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestTransactionInFlightWhenServerLeavesClusterIsMaybeCommitted(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, WithLeaderOnly(false)).run()
		h.waitMonitoring(0)
		// No leader: writes wait on every member.
		if err := h.c.StepDown(); err != nil {
			t.Fatal(err)
		}
		h.settle()
		errc := make(chan error, 1)
		go func() {
			_, err := h.cl.TransactRaw(context.Background(), []byte(`[{"op":"insert","table":"Item","row":{"name":"x"}}]`))
			errc <- err
		}()
		h.settle()
		if err := h.c.DisconnectFromCluster(0); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, ErrMaybeCommitted) {
			t.Fatalf("err = %v, want ErrMaybeCommitted", err)
		}
		if err := h.c.Elect(1); err != nil {
			t.Fatal(err)
		}
		h.waitFor("MONITORING elsewhere", 30*time.Second, func() bool {
			s := h.cl.Stats()
			return s.State == Monitoring && s.Remote != h.c.Member(0).Remote()
		})
	})
}

func TestEveryMemberFollowerGivesOneFreeSweepThenBackoff(t *testing.T) {
	scenario(t, func(t *testing.T) {
		// OVS's rule exactly (the election-aware default adds bounded
		// re-sweeps: see failover_test.go).
		h := newHarness(t, 3, nil, WithFailoverPolicy(failover.Config{Mode: failover.OVS})).run()
		h.waitMonitoring(0)
		base := h.accepted()
		if err := h.c.StepDown(); err != nil {
			t.Fatal(err)
		}
		h.settle()
		sweep := h.accepted()
		for i := range sweep {
			if sweep[i]-base[i] != 1 {
				t.Fatalf("zero-backoff sweep: accepted %v -> %v, want one per member", base, sweep)
			}
		}
		time.Sleep(time.Minute)
		h.settle()
		end := h.accepted()
		// Backoff 1, 2, 4, 8, 8, ... s: attempts at 1, 3, 7, 15, 23, 31, 39,
		// 47, 55 s.
		if got := sum(end) - sum(sweep); got < 8 || got > 10 {
			t.Fatalf("%d connections in the minute after the sweep (%v), want about 9", got, end)
		}
		if h.cl.State() == Monitoring {
			t.Fatal("monitoring a follower")
		}
		if err := h.c.Elect(2); err != nil {
			t.Fatal(err)
		}
		h.waitFor("MONITORING on the new leader", 20*time.Second, h.monitoringOn(2))
		r := h.cl.Stats().Recoveries
		if len(r) != 1 || !r[0].BackoffUsed || r[0].Attempts < 4 {
			t.Fatalf("recoveries %+v", r)
		}
	})
}

func TestEveryMemberDisconnectedFromClusterGivesOneFreeSweepThenBackoff(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, WithLeaderOnly(false)).run()
		h.waitMonitoring(0)
		base := h.accepted()
		for i := 2; i >= 0; i-- {
			if err := h.c.DisconnectFromCluster(i); err != nil {
				t.Fatal(err)
			}
		}
		h.settle()
		sweep := h.accepted()
		if sum(sweep)-sum(base) != 3 {
			t.Fatalf("zero-backoff sweep: accepted %v -> %v", base, sweep)
		}
		time.Sleep(time.Minute)
		h.settle()
		if got := sum(h.accepted()) - sum(sweep); got < 8 || got > 10 {
			t.Fatalf("%d connections in the minute after the sweep, want about 9", got)
		}
		if !errors.Is(h.cl.LastError(), leader.ErrClusterDisconnected) {
			t.Fatalf("last error %v", h.cl.LastError())
		}
	})
}

func TestForceReconnectFromMonitoringTriesEveryRemoteAtZeroBackoff(t *testing.T) {
	// A reconnect forced while MONITORING tries the members with no
	// backoff. OVS's rule sweeps every member once; the leader watch opens
	// one watcher per member and carries on with the first that reports
	// leader=true, closing the others (which may not have been accepted
	// yet), so no member sees more than one new connection.
	for _, tc := range []struct {
		name  string
		opts  []Option
		exact bool // every member exactly one more connection
	}{
		{"ovs", []Option{WithFailoverPolicy(failover.Config{Mode: failover.OVS})}, true},
		{"election-aware", []Option{WithFailoverPolicy(failover.Config{})}, true},
		{"watch", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				h := newHarness(t, 3, nil, tc.opts...).run()
				h.waitMonitoring(0)
				base := h.accepted()
				start := time.Now()
				h.cl.ForceReconnect()
				h.waitMonitoring(0)
				if time.Since(start) != 0 {
					t.Fatalf("took %v", time.Since(start))
				}
				end := h.accepted()
				for i := range end {
					d := end[i] - base[i]
					if d > 1 || (tc.exact || i == 0) && d != 1 {
						t.Fatalf("accepted %v -> %v, want one more on each member (at most one with the watch)", base, end)
					}
				}
				r := h.cl.Stats().Recoveries
				if len(r) != 1 || r[0].Attempts != 3 || r[0].BackoffUsed {
					t.Fatalf("recoveries %+v", r)
				}
			})
		})
	}
}

func TestForceReconnectOutsideMonitoringKeepsBackoff(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		if err := h.c.StepDown(); err != nil {
			t.Fatal(err)
		}
		h.settle()
		// The sweep is over; the session is backing off.
		time.Sleep(1500 * time.Millisecond)
		h.settle()
		before := sum(h.accepted())
		for range 5 {
			h.cl.ForceReconnect()
			h.settle()
		}
		if got := sum(h.accepted()) - before; got > 1 {
			t.Fatalf("%d connections right after forced reconnects outside MONITORING, want at most 1", got)
		}
	})
}

func TestLaggingMemberRejectedAsStale(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, WithLeaderOnly(false)).run()
		h.waitMonitoring(0)
		if err := h.c.Lag(1, true); err != nil {
			t.Fatal(err)
		}
		h.insertAB()
		h.settle()
		monBefore := h.requests(1, "monitor_cond_since")
		h.cl.ForceReconnect()
		h.waitMonitoring(2)
		if h.requests(1, "monitor_cond_since") != monBefore {
			t.Fatal("monitored a stale member")
		}
		r := h.cl.Stats().Recoveries
		if len(r) != 1 || r[0].Attempts != 2 {
			t.Fatalf("recoveries %+v", r)
		}
		if got, want := h.replicaItems(), h.serverItems(); !mapsEqual(got, want) {
			t.Fatalf("replica %v, server %v", got, want)
		}
	})
}

func TestRelayRejectedWhenLeaderOnly(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, []testserver.Option{testserver.WithModel(testserver.ModelRelay)}).run()
		h.waitFor("rejection", 10*time.Second, func() bool { return errors.Is(h.cl.LastError(), leader.ErrRelayLeaderOnly) })
		time.Sleep(10 * time.Second)
		h.settle()
		if h.cl.State() == Monitoring {
			t.Fatal("monitoring a relay with leader-only")
		}
	})
}

func TestRelayAcceptedWhenNotLeaderOnly(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, []testserver.Option{testserver.WithModel(testserver.ModelRelay)}, WithLeaderOnly(false)).run()
		h.waitMonitoring(0)
	})
}

func TestClusterIDMismatchRejected(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, []testserver.Option{testserver.WithMemberCID(0, "11111111-2222-3333-4444-555555555555")}, WithLeaderOnly(false))
		if err := h.cl.SetRemotes("cid:" + h.c.Member(1).CID() + "," + h.c.Remotes()); err != nil {
			t.Fatal(err)
		}
		h.run()
		h.waitMonitoring(1)
		if h.requests(0, "monitor_cond_since") != 0 {
			t.Fatal("monitored a member of another cluster")
		}
		if !errors.Is(h.cl.LastError(), leader.ErrDatabaseMissing) {
			t.Fatalf("last error %v", h.cl.LastError())
		}
	})
}

func TestMemberThatAcceptsAndHangsIsPassedOver(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, []testserver.Option{testserver.WithInitialLeader(1)}, pinFailover)
		if err := h.c.Member(0).SetFaults(testserver.Faults{Hang: true}); err != nil {
			t.Fatal(err)
		}
		h.run()
		h.waitFor("MONITORING on member 1", 30*time.Second, h.monitoringOn(1))
		if h.c.Member(0).Counters().Accepted == 0 {
			t.Fatal("never tried the hanging member")
		}
		if !errors.Is(h.cl.Stats().Session.LastError, jsonrpc.ErrProbeTimeout) {
			t.Fatalf("session last error %v", h.cl.Stats().Session.LastError)
		}
	})
}

func TestFlagInconsistencyResyncsFromScratch(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		h.insert("a", 1)
		h.settle()
		h.resetEvents()
		h.cl.FlagInconsistency()
		h.waitMonitoring(0)
		ups := h.updates()
		if len(ups) == 0 || !ups[0].MonitorReply || !ups[0].Clear || ups[0].Found {
			t.Fatalf("updates after inconsistency %+v", ups)
		}
		if !mapsEqual(h.replicaItems(), h.serverItems()) {
			t.Fatal("replica differs")
		}
	})
}

func TestInconsistentServerUpdateResyncs(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		h.insert("a", 1)
		h.settle()
		h.resetEvents()
		// A modify of a row the client does not have.
		h.c.Member(0).Inject([]byte(`{"method":"update3","params":[["monid","Lab"],"aaaaaaaa-0000-0000-0000-000000000001",{"Item":{"bbbbbbbb-0000-0000-0000-000000000002":{"modify":{"n":5}}}}],"id":null}`))
		h.waitFor("resync", 30*time.Second, func() bool {
			for _, u := range h.updates() {
				if u.MonitorReply && u.Clear {
					return true
				}
			}
			return false
		})
		h.waitMonitoring(0)
		if r := h.cl.Stats().Recoveries; len(r) != 1 || !strings.Contains(r[0].Reason, "inconsistent") {
			t.Fatalf("recoveries %+v", r)
		}
		if !mapsEqual(h.replicaItems(), h.serverItems()) {
			t.Fatal("replica differs")
		}
	})
}

func TestConditionSetBeforeConnectFiltersInitialData(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, WithCondition("Item", []ovsdb.Condition{eq("n", 1)}))
		h.insertAB()
		seq := h.setCondition([]ovsdb.Condition{eq("n", 2)})
		h.run()
		h.waitMonitoring(0)
		h.waitCondition(seq)
		h.requireReplica(map[string]int64{"b": 2})
	})
}

func TestConditionChangedWhileMonitoring(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.insertAB()
		h.waitMonitoring(0)
		seq0 := h.cl.ConditionSeqno()
		seq := h.setCondition([]ovsdb.Condition{eq("n", 1)})
		if seq != seq0+1 {
			t.Fatalf("seqno %d, want %d", seq, seq0+1)
		}
		again := h.setCondition([]ovsdb.Condition{eq("n", 1)})
		if again != seq {
			t.Fatalf("same condition twice: %d then %d", seq, again)
		}
		h.waitCondition(seq)
		h.requireReplica(map[string]int64{"a": 1})
		h.insert("c", 1)
		h.insert("d", 3)
		h.settle()
		h.requireReplica(map[string]int64{"a": 1, "c": 1})
	})
}

func TestConditionChangedDuringReconnect(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, []testserver.Option{testserver.WithElectionDelay(100 * time.Millisecond)}).run()
		h.insertAB()
		h.waitMonitoring(0)
		done, err := h.c.TransferLeadershipAfter(1, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		h.settle()
		if h.cl.State() == Monitoring {
			t.Fatal("still monitoring during the election")
		}
		seq := h.setCondition([]ovsdb.Condition{eq("n", 2)})
		<-done
		h.waitFor("MONITORING on a leader", 30*time.Second, h.monitoringOn(1))
		h.waitCondition(seq)
		h.requireReplica(map[string]int64{"b": 2})
	})
}

func TestConditionChangedAfterReconnect(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.insertAB()
		h.waitMonitoring(0)
		seq := h.setCondition([]ovsdb.Condition{eq("n", 1)})
		h.waitCondition(seq)
		h.holdUpdates(0)
		if err := h.c.TransferLeadership(2); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(2)
		h.requireReplica(map[string]int64{"a": 1})
		seq2 := h.setCondition(nil)
		if seq2 != seq+1 {
			t.Fatalf("seqno %d, want %d", seq2, seq+1)
		}
		h.waitCondition(seq2)
		if got := h.replicaItems(); !mapsEqual(got, h.serverItems()) {
			t.Fatalf("replica %v", got)
		}
	})
}

func TestConditionInFlightAtReconnectForcesFullResync(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.insertAB()
		h.waitMonitoring(0)
		// Hold the reply to the monitor_cond_change.
		if err := h.c.Member(0).SetFaults(testserver.Faults{ReplyDelay: time.Hour}); err != nil {
			t.Fatal(err)
		}
		seq := h.setCondition([]ovsdb.Condition{eq("n", 2)})
		h.settle()
		h.resetEvents()
		if err := h.c.TransferLeadership(1); err != nil {
			t.Fatal(err)
		}
		// Member 0's _Server update is held too: the client learns of the
		// change by being forced off.
		h.cl.ForceReconnect()
		h.waitMonitoring(1)
		h.waitCondition(seq)
		ups := h.updates()
		if len(ups) == 0 || !ups[0].Clear {
			t.Fatalf("want a full resync, got %+v", ups)
		}
		h.requireReplica(map[string]int64{"b": 2})
	})
}

func TestLockReacquiredAfterFailover(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, WithLock("boss")).run()
		h.waitMonitoring(0)
		h.waitFor("lock", 10*time.Second, h.cl.HasLock)
		if _, err := h.cl.TransactRaw(context.Background(), []byte(`[{"op":"insert","table":"Item","row":{"name":"x"}}]`)); err != nil {
			t.Fatal(err)
		}
		h.holdUpdates(0)
		if err := h.c.TransferLeadership(1); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(1)
		h.waitFor("lock", 10*time.Second, h.cl.HasLock)
		// Locks belong to a member: every connection asks for it again.
		if n := len(h.eventsOf(func(e Event) bool { _, ok := e.(Locked); return ok })); n < 2 {
			t.Fatalf("%d Locked events, want at least 2", n)
		}
		if h.requests(1, "lock") != 1 {
			t.Fatal("lock not requested on the new leader")
		}
	})
}

func TestTransactWithoutTheLockFailsNotLocked(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, WithLock("boss")).run()
		h.waitFor("lock", 10*time.Second, h.cl.HasLock)
		other, err := New("Lab", h.c.Remotes(), WithDialer(h.c.DialContext), WithShuffle(false), WithLock("boss"), WithEventBuffer(-1))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- other.Run(ctx) }()
		h.waitFor("contended", 10*time.Second, other.IsLockContended)
		_, err = other.TransactRaw(context.Background(), []byte(`[{"op":"insert","table":"Item","row":{"name":"y"}}]`))
		if !errors.Is(err, ErrNotLocked) || !errors.Is(err, ErrTryAgain) {
			t.Fatalf("err = %v", err)
		}
		// Releasing the lock hands it over.
		h.cl.SetLock("")
		h.waitFor("lock handed over", 10*time.Second, other.HasLock)
		cancel()
		<-done
	})
}

func TestSchemaChangeRestartsOnSameConnection(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, pinFailover).run()
		h.insert("a", 1)
		h.waitMonitoring(0)
		old := h.cl.Replica()
		accepted := h.c.Member(0).Counters().Accepted
		schemaReqs := h.requests(0, "get_schema")
		h.resetEvents()
		newSchema := strings.Replace(string(testserver.LabSchema()), `"1.0.0"`, `"1.1.0"`, 1)
		newSchema = strings.Replace(newSchema, `"data": {"type": "string"}`, `"data": {"type": "string"}, "extra": {"type": "integer"}`, 1)
		if err := h.c.ChangeSchema([]byte(newSchema)); err != nil {
			t.Fatal(err)
		}
		h.waitFor("new replica", 10*time.Second, func() bool { return h.cl.Replica() != old && h.cl.State() == Monitoring })
		if h.c.Member(0).Counters().Accepted != accepted {
			t.Fatal("reconnected instead of restarting on the same connection")
		}
		if h.requests(0, "get_schema") != schemaReqs+1 || h.requests(0, "monitor_cancel") != 1 {
			t.Fatalf("get_schema %d -> %d, monitor_cancel %d", schemaReqs, h.requests(0, "get_schema"), h.requests(0, "monitor_cancel"))
		}
		if h.cl.Replica().Schema().Table("Item").Column("extra") == nil {
			t.Fatal("new column not monitored")
		}
		if len(h.eventsOf(func(e Event) bool { _, ok := e.(Reconnect); return ok })) != 0 {
			t.Fatal("Reconnect event on a monitor restart")
		}
		ups := h.updates()
		if len(ups) == 0 || !ups[0].Clear {
			t.Fatalf("updates %+v", ups)
		}
		if !mapsEqual(h.replicaItems(), h.serverItems()) {
			t.Fatal("replica differs")
		}
	})
}

func TestSchemaChangeWithoutChangeAwarenessReconnects(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, nil, WithDBChangeAware(false)).run()
		h.waitMonitoring(0)
		newSchema := strings.Replace(string(testserver.LabSchema()), `"1.0.0"`, `"1.1.0"`, 1)
		if err := h.c.ChangeSchema([]byte(newSchema)); err != nil {
			t.Fatal(err)
		}
		h.waitFor("reconnected", 30*time.Second, func() bool {
			return h.c.Member(0).Counters().Accepted == 2 && h.cl.State() == Monitoring
		})
		if h.requests(0, "set_db_change_aware") != 0 {
			t.Fatal("set_db_change_aware sent")
		}
	})
}

func TestSetRemotesKeepsTheLiveConnection(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		acc := h.accepted()
		if err := h.cl.SetRemotes(h.c.Member(2).Remote() + "," + h.c.Member(0).Remote()); err != nil {
			t.Fatal(err)
		}
		h.settle()
		time.Sleep(10 * time.Second)
		h.settle()
		if got := h.accepted(); !slicesEqual(got, acc) || h.cl.State() != Monitoring {
			t.Fatalf("accepted %v -> %v, state %s", acc, got, h.cl.State())
		}
		if len(h.eventsOf(func(e Event) bool { _, ok := e.(Reconnect); return ok })) != 0 {
			t.Fatal("reconnected")
		}
	})
}

func TestSetRemotesWithoutTheLiveRemoteMovesOn(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, WithLeaderOnly(false)).run()
		h.waitMonitoring(0)
		if err := h.cl.SetRemotes(h.c.Member(2).Remote()); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(2)
	})
}

func TestSetLeaderOnlyRechecksAtOnce(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, []testserver.Option{testserver.WithInitialLeader(2)}, WithLeaderOnly(false)).run()
		h.waitMonitoring(0)
		start := time.Now()
		h.cl.SetLeaderOnly(true)
		h.waitMonitoring(2)
		if time.Since(start) != 0 {
			t.Fatalf("took %v", time.Since(start))
		}
	})
}

func TestMaxMonitorVersionCapsTheMethod(t *testing.T) {
	for _, tc := range []struct {
		max     int
		method  string
		version int
	}{{1, "monitor", 1}, {2, "monitor_cond", 2}, {3, "monitor_cond_since", 3}} {
		t.Run(tc.method, func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				h := newHarness(t, 1, nil, WithMaxMonitorVersion(tc.max), pinFailover).run()
				h.insert("a", 1)
				h.waitMonitoring(0)
				h.insert("b", 2)
				h.settle()
				want := 1
				if tc.method == "monitor_cond" {
					want = 2 // _Server is monitored with monitor_cond too
				}
				if h.requests(0, tc.method) != want {
					t.Fatalf("requests %v", h.c.Member(0).Counters().Requests)
				}
				ups := h.updates()
				if ups[0].Version != tc.version {
					t.Fatalf("version %d", ups[0].Version)
				}
				if !mapsEqual(h.replicaItems(), h.serverItems()) {
					t.Fatal("replica differs")
				}
			})
		})
	}
}

func TestStandaloneReloadsOnEveryReconnect(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, []testserver.Option{testserver.WithModel(testserver.ModelStandalone)}).run()
		h.insert("a", 1)
		h.waitMonitoring(0)
		h.resetEvents()
		h.cl.ForceReconnect()
		h.waitFor("MONITORING again", 10*time.Second, func() bool {
			return len(h.updates()) > 0 && h.cl.State() == Monitoring
		})
		if u := h.updates()[0]; u.Found || !u.Clear {
			t.Fatalf("update %+v", u)
		}
		if !mapsEqual(h.replicaItems(), h.serverItems()) {
			t.Fatal("replica differs")
		}
	})
}

func TestTransactOnlyWhileMonitoring(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil)
		// Before Run: try again, not "closed".
		if _, err := h.cl.TransactRaw(context.Background(), []byte(`[]`)); !errors.Is(err, ErrTryAgain) || errors.Is(err, ErrClosed) {
			t.Fatalf("before Run: %v", err)
		}
		h.c.Member(0).SetFaults(testserver.Faults{Hang: true})
		h.run()
		h.settle()
		if _, err := h.cl.TransactRaw(context.Background(), []byte(`[]`)); !errors.Is(err, ErrNotMonitoring) {
			t.Fatalf("while connecting: %v", err)
		}
		h.c.Member(0).SetFaults(testserver.Faults{})
		h.cl.ForceReconnect()
		h.waitFor("MONITORING", 60*time.Second, h.monitoringOn(0))
		res, err := h.cl.Transact(context.Background(), ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Item", Row: ovsdb.Row{"name": "z", "n": 7}})
		if err != nil || len(res) != 1 {
			t.Fatalf("transact: %v %v", res, err)
		}
		// The replica has the row when Transact returns.
		if got := h.replicaItems(); got["z"] != 7 {
			t.Fatalf("replica %v", got)
		}
		_, err = h.cl.Transact(context.Background(), ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Item", Row: ovsdb.Row{"name": "z", "n": 7}})
		var te *TxnError
		if !errors.As(err, &te) {
			t.Fatalf("duplicate insert: %v", err)
		}
	})
}

func TestGracefulLeaderExitFollowsNewLeader(t *testing.T) {
	scenario(t, func(t *testing.T) {
		// OVS's rule: only the EOF, then the backoff (the election-aware
		// default sweeps at once: see failover_test.go).
		h := newHarness(t, 3, nil, WithFailoverPolicy(failover.Config{Mode: failover.OVS})).run()
		h.waitMonitoring(0)
		if err := h.c.GracefulExit(0); err != nil {
			t.Fatal(err)
		}
		leader := h.c.Leader()
		h.waitFor("MONITORING on the new leader", 30*time.Second, h.monitoringOn(leader))
		r := h.cl.Stats().Recoveries
		if len(r) != 1 || !errors.Is(h.cl.LastError(), io.EOF) {
			t.Fatalf("recoveries %+v, last error %v", r, h.cl.LastError())
		}
	})
}

func TestRunReturnsOnCancelWithoutLeaks(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		h.cancel()
		if err := <-h.done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
		h.cancel = nil
		h.c.Close()
		if _, ok := <-h.cl.Events(); ok {
			// Drain whatever the reader left; the channel must close.
			for range h.cl.Events() {
			}
		}
		if _, err := h.cl.TransactRaw(context.Background(), []byte(`[]`)); !errors.Is(err, ErrClosed) {
			t.Fatalf("after Run: %v", err)
		}
		if err := h.cl.Run(context.Background()); err == nil {
			t.Fatal("second Run succeeded")
		}
		// synctest.Test fails if any goroutine of the bubble is left.
	})
}

// TestEventsApplyBackpressure: while nobody reads Events the client stops
// reading the socket. Once its receive queue (4 KiB here) is full the
// server's writes to it block: the bytes the server has sent stop growing
// although it has more updates to send. Reading the events again lets
// every update through, in order, none lost.
func TestEventsApplyBackpressure(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, nil, WithEventBuffer(1), func(c *config) { c.recvQueueBytes = 4 << 10 })
		h.started = true
		go func() { h.done <- h.cl.Run(h.ctx) }()
		// Read the events up to MONITORING, then stop reading.
		for {
			if sc, ok := (<-h.cl.Events()).(StateChange); ok && sc.To == Monitoring {
				break
			}
		}
		member := h.c.Member(0)
		big := strings.Repeat("x", 1024)
		insert := func(i int) {
			ops := fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":"r%d","n":%d,"data":%q}}]`, i, i, big)
			_, err := h.c.Transact(context.Background(), ops)
			require.NoError(t, err)
		}
		const rows = 40 // 40 KiB of updates: far more than the client holds
		for i := range rows {
			insert(i)
		}
		h.settle()
		sent := member.Counters().BytesSent
		insert(rows)
		h.settle()
		require.Equal(t, sent, member.Counters().BytesSent, "the server sent more to a client that stopped reading")
		require.Less(t, h.cl.Replica().Len("Item"), rows, "the client applied every update without its events being read")

		got := 0
		for got < rows+1 {
			if u, ok := (<-h.cl.Events()).(Update); ok {
				for c := range u.Changes.All() {
					require.Equal(t, fmt.Sprintf("%q", fmt.Sprint("r", got)), c.New.Get("name").String(), "update order")
					got++
				}
			}
		}
		require.Greater(t, member.Counters().BytesSent, sent)
		require.Equal(t, h.serverItems(), h.replicaItems())
		go func() {
			for range h.cl.Events() {
			}
		}()
	})
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestStateEventsReportEveryTransition(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, nil).run()
		h.waitMonitoring(0)
		var got []string
		for _, e := range h.eventsOf(func(e Event) bool { _, ok := e.(StateChange); return ok }) {
			sc := e.(StateChange)
			if sc.Remote != h.c.Member(0).Remote() {
				t.Fatalf("state event without the remote: %+v", sc)
			}
			got = append(got, sc.To.String())
		}
		want := "SERVER_SCHEMA_REQUESTED SERVER_MONITOR_REQUESTED DATA_MONITOR_COND_SINCE_REQUESTED MONITORING"
		if strings.Join(got, " ") != want {
			t.Fatalf("states %q, want %q", got, want)
		}
	})
}

func TestSelectedColumnsOnly(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, nil, WithColumns("Item", "name"))
		if _, err := h.cl.SetCondition("Other", nil); !errors.Is(err, monitor.ErrBadCondition) {
			t.Fatalf("condition on an unmonitored table: %v", err)
		}
		h.run()
		h.insert("a", 1)
		h.waitMonitoring(0)
		h.settle()
		ts := h.cl.Replica().Schema().Table("Item")
		if ts == nil || ts.Column("name") == nil || ts.Column("n") != nil {
			t.Fatalf("monitored columns wrong: %+v", ts)
		}
		if h.cl.Replica().Len("Item") != 1 {
			t.Fatal("row missing")
		}
	})
}

// TestSelectedVersionColumn lists _version in WithColumns: the request
// names it and each row keeps it, changed by every modification.
func TestSelectedVersionColumn(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, nil, WithColumns("Item", "name", monitor.VersionColumn))
		h.run()
		h.insert("a", 1)
		h.waitMonitoring(0)
		h.settle()
		version := func() monitor.UUID {
			t.Helper()
			var rows []monitor.Row
			h.cl.Replica().View(func(tx monitor.ReadTx) {
				for _, r := range tx.Rows("Item") {
					rows = append(rows, r)
				}
			})
			if len(rows) != 1 {
				t.Fatalf("%d rows", len(rows))
			}
			d, ok := rows[0].Column(monitor.VersionColumn)
			if !ok || d.UUID().IsZero() {
				t.Fatalf("no _version in %v", rows[0])
			}
			return d.UUID()
		}
		v1 := version()
		if _, err := h.c.Transact(context.Background(), `[{"op":"update","table":"Item","where":[["name","==","a"]],"row":{"n":5}}]`); err != nil {
			t.Fatal(err)
		}
		h.waitFor("a new _version", 10*time.Second, func() bool { return version() != v1 })
	})
}

func TestForceReconnectWhileConnectedButNotMonitoringKeepsBackoff(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, pinFailover)
		for i := range 3 {
			if err := h.c.Member(i).SetFaults(testserver.Faults{Hang: true}); err != nil {
				t.Fatal(err)
			}
		}
		h.run()
		// Spend the first sweep's free tries (probe timeouts).
		time.Sleep(40 * time.Second)
		h.waitFor("connected", 30*time.Second, h.cl.IsConnected)
		if h.cl.State() == Monitoring {
			t.Fatal("monitoring a hanging server")
		}
		before := sum(h.accepted())
		h.cl.ForceReconnect()
		time.Sleep(500 * time.Millisecond)
		h.settle()
		if got := sum(h.accepted()) - before; got != 0 {
			t.Fatalf("%d connections within 500ms of a forced reconnect outside MONITORING", got)
		}
	})
}

// TestBadInputCausesCleanReconnect: a server that sends bad input (broken
// JSON once, or for a while; values of the wrong type) is dropped with a
// clear error, without a storm of connections (the backoff applies), and
// once it behaves the client is MONITORING on it again with a replica
// equal to the server's.
func TestBadInputCausesCleanReconnect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		inject  string            // sent once by member 0, or
		faults  testserver.Faults // set on member 0 for hold
		hold    time.Duration
		wantErr error
		stuck   bool // the faulty server cannot be monitored
	}{
		{name: "malformed JSON once", inject: `{"method":"update3","params":[[}`, wantErr: jsonrpc.ErrProtocol},
		{name: "wrong types", faults: testserver.Faults{WrongTypes: true}, hold: 5 * time.Second, wantErr: ErrMalformed},
		{name: "malformed JSON for a while", faults: testserver.Faults{MalformedJSON: true}, hold: 20 * time.Second, wantErr: jsonrpc.ErrProtocol, stuck: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				h := newHarness(t, 3, nil).run()
				h.waitMonitoring(0)
				member := h.c.Member(0)
				if tc.inject != "" {
					member.Inject([]byte(tc.inject))
				} else {
					require.NoError(t, member.SetFaults(tc.faults))
					h.insert("a", 1)
				}
				reconnects := func() []Event { return h.eventsOf(func(e Event) bool { _, ok := e.(Reconnect); return ok }) }
				h.waitFor("the drop", 10*time.Second, func() bool { return len(reconnects()) > 0 })
				rc := reconnects()[0].(Reconnect)
				require.ErrorIs(t, rc.Reason, tc.wantErr)
				require.True(t, rc.WasMonitoring)
				if tc.hold > 0 {
					time.Sleep(tc.hold)
					h.settle()
					if tc.stuck {
						require.NotEqual(t, Monitoring, h.cl.State(), "monitoring a server that sends garbage")
					}
					require.LessOrEqual(t, member.Counters().Accepted, 6, "connections to the faulty server in %v", tc.hold)
					require.NoError(t, member.SetFaults(testserver.Faults{}))
				}
				h.waitFor("MONITORING again", 60*time.Second, h.monitoringOn(0))
				require.Equal(t, h.serverItems(), h.replicaItems())
			})
		})
	}
}

// TestCommandsRunWhileEventsWait: the driver owns the machine, and it takes
// the user's commands also while it waits for the user to take an event;
// readers see the view it publishes.
func TestCommandsRunWhileEventsWait(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, nil, WithEventBuffer(1))
		h.insertAB()
		h.started = true
		go func() { h.done <- h.cl.Run(h.ctx) }()
		// Take events up to MONITORING, then leave the rest unread.
		for {
			if sc, ok := (<-h.cl.Events()).(StateChange); ok && sc.To == Monitoring {
				break
			}
		}
		h.insert("c", 3)
		h.settle()
		require.Len(t, h.cl.Events(), 1, "the driver waits with an event buffered")
		seq := h.setCondition([]ovsdb.Condition{eq("n", 1)})
		h.cl.SetLeaderOnly(true)
		h.cl.ResetMinIndex()
		require.Equal(t, Monitoring, h.cl.Stats().State)
		go func() {
			for range h.cl.Events() {
			}
		}()
		h.waitCondition(seq)
		h.requireReplica(map[string]int64{"a": 1})
	})
}
