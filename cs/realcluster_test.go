package cs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// realWait polls cond every few milliseconds of wall time until it holds or
// limit passes (a generous bound: these tests never assert on wall time
// beyond it).
func realWait(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// replicaContents renders a replica in the form of ovsdbserver.Contents.
func replicaContents(t *testing.T, r *monitor.Replica) ovsdbserver.Contents {
	out := ovsdbserver.Contents{}
	r.View(func(tx monitor.ReadTx) {
		for _, ts := range r.Schema().Tables {
			rows := map[string]map[string]any{}
			for id, row := range tx.Rows(ts.Name) {
				b, err := row.MarshalJSON()
				if err != nil {
					t.Fatal(err)
				}
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.UseNumber()
				var cols map[string]any
				if err := dec.Decode(&cols); err != nil {
					t.Fatal(err)
				}
				delete(cols, "_uuid")
				delete(cols, "_version")
				rows[id.String()] = cols
			}
			out[ts.Name] = rows
		}
	})
	return out.Canonical()
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s)-1) + 0.5)
	return s[i]
}

// realPolicy is the policy of the real-cluster test: the default (the
// leader watch), or with OVSDBCS_FAILOVER=ovs OVS's rule, with
// OVSDBCS_FAILOVER=election-aware the election-aware failover policy (to
// measure them on one machine).
func realPolicy() (Option, string, bool) {
	switch os.Getenv("OVSDBCS_FAILOVER") {
	case "ovs":
		return WithFailoverPolicy(failover.Config{Mode: failover.OVS}), "ovs", true
	case "election-aware":
		return WithFailoverPolicy(failover.Config{}), "election-aware", false
	}
	return WithLeaderWatch(hunt.Config{}), "watch", false
}

func TestRealClusterLeaderFailover(t *testing.T) {
	c := ovsdbserver.StartCluster(t, 3, ovsdbserver.LabSchema())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	defer cancel()

	policy, policyName, ovsMode := realPolicy()
	cl, err := New(c.DB(), c.Remotes(), WithLogger(testr.NewWithOptions(t, testr.Options{Verbosity: 0})),
		WithProbeInterval(time.Second), policy)
	if err != nil {
		t.Fatal(err)
	}
	var resumes, reloads int
	var countMu sync.Mutex
	go func() {
		for ev := range cl.Events() {
			if u, ok := ev.(Update); ok && u.MonitorReply {
				countMu.Lock()
				if u.Clear {
					reloads++
				} else {
					resumes++
				}
				countMu.Unlock()
			}
		}
	}()
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- cl.Run(runCtx) }()
	defer func() {
		stopRun()
		<-runDone
	}()

	onLeader := func() bool {
		l, err := c.Leader(ctx)
		if err != nil {
			return false
		}
		s := cl.Stats()
		return s.State == Monitoring && s.Remote == c.Member(l).Remote()
	}
	realWait(t, "MONITORING on the leader", 15*time.Second, onLeader)
	replica := cl.Replica()

	// Writes flow from the side all along.
	stopWriter := make(chan struct{})
	var writerWG sync.WaitGroup
	writerWG.Add(1)
	go func() {
		defer writerWG.Done()
		for k := 0; ; k++ {
			select {
			case <-stopWriter:
				return
			case <-time.After(25 * time.Millisecond):
			}
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := c.Transact(wctx, fmt.Sprintf(`{"op":"insert","table":"Item","row":{"name":"w%d","n":%d}}`, k, k))
			wcancel()
			if err != nil && ctx.Err() == nil {
				t.Logf("side write %d: %v", k, err)
			}
		}
	}()

	// write inserts a row through the client, retrying while it may, and
	// checks the replica has it when Transact returns.
	write := func(name string, n int) {
		t.Helper()
		ops := json.RawMessage(fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":%q,"n":%d}}]`, name, n))
		deadline := time.Now().Add(45 * time.Second) // generous: after a kill the backoff may be at 8 s
		for {
			tctx, tcancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := cl.TransactRaw(tctx, ops)
			tcancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("write %s: %v", name, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		found := false
		cl.Replica().View(func(tx monitor.ReadTx) {
			for _, row := range tx.Rows("Item") {
				if a, _ := row.Get("name").Atom(); a.Str() == name {
					found = true
				}
			}
		})
		if !found {
			t.Fatalf("replica lacks %s after its transaction returned", name)
		}
	}

	// 50 failure-test transfers, then 20 graceful exits of the leader
	// (ovs-appctl exit: EOF first), writes flowing all along.
	backoffs := 0
	for _, phase := range []struct {
		method ovsdbserver.TransferMethod
		n      int
	}{{ovsdbserver.TransferFailureTest, 50}, {ovsdbserver.TransferExit, 20}} {
		var durations []time.Duration
		attempts, sweeps, phaseBackoffs, maxAttempts := 0, 0, 0, 0
		for i := range phase.n {
			before := lastLeft(cl)
			tr, err := c.TransferLeadership(ctx, phase.method)
			if err != nil {
				t.Fatalf("%s %d: %v", phase.method, i, err)
			}
			// OVS's rule lets the backoff grow across graceful exits
			// (short connections, no reset): up to 8 s, more than once.
			limit := 15 * time.Second
			if ovsMode {
				limit = 40 * time.Second
			}
			realWait(t, fmt.Sprintf("recovery %d", i), limit, func() bool {
				return lastLeft(cl).After(before) && onLeader()
			})
			r := cl.Stats().Recoveries[len(cl.Stats().Recoveries)-1]
			if r.Remote != c.Member(tr.To).Remote() {
				t.Fatalf("%s %d: recovered on %s, new leader %s", phase.method, i, r.Remote, c.Member(tr.To).Remote())
			}
			durations = append(durations, r.Duration)
			attempts += r.Attempts
			maxAttempts = max(maxAttempts, r.Attempts)
			sweeps += r.Sweeps
			if r.BackoffUsed {
				phaseBackoffs++
			}
			t.Logf("%s %2d: s%d -> s%d, recovered in %v on %s, %d attempts, %d sweeps, backoff %t", phase.method, i, tr.From, tr.To, r.Duration, r.Remote, r.Attempts, r.Sweeps, r.BackoffUsed)
			write(fmt.Sprintf("%s%d", phase.method, i), i)
		}
		backoffs += phaseBackoffs
		t.Logf("%d %s transfers (policy %s): median %v, p90 %v, max %v; %d attempts in all (%.1f per transfer, max %d), %d sweeps; backoff used %d times",
			phase.n, phase.method, policyName, percentile(durations, 0.5), percentile(durations, 0.9), slices.Max(durations), attempts, float64(attempts)/float64(phase.n), maxAttempts, sweeps, phaseBackoffs)
	}

	countMu.Lock()
	t.Logf("monitor replies: %d delta resumes (found=true), %d full reloads (the first included)", resumes, reloads)
	// A recovery that waited for the backoff can outlast the server's
	// transaction history (100 transactions): only then is a full reload
	// legitimate.
	if reloads-1 > backoffs || cl.Replica() != replica {
		t.Errorf("full reloads during leader transfers: %d reloads with %d backoffs, replica replaced %t", reloads, backoffs, cl.Replica() != replica)
	}
	countMu.Unlock()

	// The leader dies (SIGKILL, no hand-over) ten times, writes flowing:
	// the client follows the member the others elect.
	var afterElection []time.Duration
	for k := range 10 {
		l, err := c.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		before := lastLeft(cl)
		killed := time.Now()
		if err := c.Kill(l, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		realWait(t, "MONITORING on the new leader after SIGKILL", 40*time.Second, func() bool {
			return lastLeft(cl).After(before) && onLeader()
		})
		r := cl.Stats().Recoveries[len(cl.Stats().Recoveries)-1]
		elected := "-"
		if e, ok := c.FirstElection(killed); ok {
			d := r.Left.Add(r.Duration).Sub(e.T)
			afterElection = append(afterElection, d)
			elected = fmt.Sprintf("%v after the kill, MONITORING %v after the election", e.T.Sub(killed).Round(time.Millisecond), d.Round(time.Millisecond))
		}
		t.Logf("kill %d: s%d, recovered in %v on %s (elected %s), %d attempts, backoff %t", k, l, r.Duration, r.Remote, elected, r.Attempts, r.BackoffUsed)
		if err := c.Restart(ctx, l); err != nil {
			t.Fatal(err)
		}
		write(fmt.Sprintf("after-kill-%d", k), k)
	}
	if len(afterElection) > 0 {
		t.Logf("10 kills (policy %s): MONITORING after the election: median %v, max %v", policyName,
			percentile(afterElection, 0.5), slices.Max(afterElection))
	}

	// The leader is frozen (SIGSTOP) for 3 s, longer than an election.
	l, err := c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := lastLeft(cl)
	stopped := time.Now()
	if err := c.Stop(l); err != nil {
		t.Fatal(err)
	}
	realWait(t, "MONITORING on the new leader after SIGSTOP", 30*time.Second, func() bool {
		return lastLeft(cl).After(before) && onLeader()
	})
	r := cl.Stats().Recoveries[len(cl.Stats().Recoveries)-1]
	t.Logf("leader s%d frozen: MONITORING on %s %v after SIGSTOP, %d attempts, suspected %t, backoff %t",
		l, r.Remote, r.Left.Add(r.Duration).Sub(stopped).Round(time.Millisecond), r.Attempts, r.Suspected, r.BackoffUsed)
	time.Sleep(time.Until(stopped.Add(3 * time.Second)))
	if err := c.Cont(l); err != nil {
		t.Fatal(err)
	}
	write("after-stop", 1)

	// A frozen follower is passed over.
	l, err = c.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	frozen := (l + 1) % 3
	if err := c.Stop(frozen); err != nil {
		t.Fatal(err)
	}
	defer c.Cont(frozen)
	before = lastLeft(cl)
	cl.ForceReconnect()
	realWait(t, "MONITORING on the leader with a frozen member", 20*time.Second, func() bool {
		return lastLeft(cl).After(before) && onLeader()
	})
	r = cl.Stats().Recoveries[len(cl.Stats().Recoveries)-1]
	t.Logf("member s%d frozen: recovered in %v on %s, %d attempts, backoff %t", frozen, r.Duration, r.Remote, r.Attempts, r.BackoffUsed)
	if err := c.Cont(frozen); err != nil {
		t.Fatal(err)
	}
	write("after-freeze", 2)
	close(stopWriter)
	writerWG.Wait()
	// The replica equals the server's contents.
	realWait(t, "replica equal to the dump at the end", 15*time.Second, func() bool {
		d, err := c.Dump(ctx)
		if err != nil {
			return false
		}
		return reflect.DeepEqual(replicaContents(t, cl.Replica()), d.Canonical())
	})
}

// lastLeft is when the client left MONITORING for its latest recorded
// recovery (the zero time before any). Stats keeps only the latest
// recoveries, so progress is told by time, not by count.
func lastLeft(cl *Client) time.Time {
	rs := cl.Stats().Recoveries
	if len(rs) == 0 {
		return time.Time{}
	}
	return rs[len(rs)-1].Left
}
