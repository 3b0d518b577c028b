package cs

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// startRealClient runs a client against a real cluster until the test ends.
func startRealClient(t *testing.T, c *ovsdbserver.Cluster, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithLogger(testr.NewWithOptions(t, testr.Options{Verbosity: 0})), WithProbeInterval(time.Second)}, opts...)
	cl, err := New(c.DB(), c.Remotes(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return cl
}

// The reproduction of item 1 on a real ovsdb-server: updates the client
// has not processed yet when FlagInconsistency is called must not set the
// last id again; the next monitor reply is a full resync.
func TestRealFlagInconsistencyResyncsFromScratch(t *testing.T) {
	c := ovsdbserver.StartCluster(t, 1, ovsdbserver.LabSchema())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := startRealClient(t, c, WithEventBuffer(1))
	for synced := false; !synced; {
		select {
		case ev := <-cl.Events():
			if u, ok := ev.(Update); ok && u.MonitorReply {
				synced = true
			}
		case <-ctx.Done():
			t.Fatal("no monitor reply")
		}
	}
	// Stop reading events; 20 inserts from elsewhere.
	base := cl.Stats().Session.ReceivedBytes
	for i := range 20 {
		if _, err := c.Transact(ctx, fmt.Sprintf(`{"op":"insert","table":"Item","row":{"name":"i%d","n":%d}}`, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	// Let the updates reach the client's connection (it cannot process
	// them: the event buffer is full).
	deadline := time.Now().Add(10 * time.Second)
	for cl.Stats().Session.ReceivedBytes < base+20*100 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("received %d bytes of updates before FlagInconsistency", cl.Stats().Session.ReceivedBytes-base)
	cl.FlagInconsistency()
	for {
		select {
		case ev := <-cl.Events():
			if u, ok := ev.(Update); ok && u.MonitorReply {
				if !u.Clear || u.Found {
					t.Fatalf("monitor reply after FlagInconsistency: clear %t found %t: want a full resync", u.Clear, u.Found)
				}
				go func() {
					for range cl.Events() {
					}
				}()
				realWait(t, "MONITORING", 10*time.Second, func() bool { return cl.State() == Monitoring })
				if n := cl.Replica().Len("Item"); n != 20 {
					t.Fatalf("replica has %d rows, want 20", n)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no monitor reply after FlagInconsistency")
		}
	}
}

// 300 counter increments through TransactFunc while leadership moves 20
// times (failure-test transfers and graceful exits, alternately): the
// counter equals the increments reported done, and nothing reported done
// is missing.
func TestRealTransactFuncCounterAcrossLeaderChanges(t *testing.T) {
	c := ovsdbserver.StartCluster(t, 3, ovsdbserver.LabSchema())
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	cl := startRealClient(t, c, WithEventBuffer(-1))
	if err := cl.WaitMonitoring(ctx); err != nil {
		t.Fatal(err)
	}
	const writers, each, moves = 3, 100, 20
	for _, name := range []string{"counter", "w0", "w1", "w2"} {
		if _, err := c.Transact(ctx, fmt.Sprintf(`{"op":"insert","table":"Item","row":{"name":%q,"n":0}}`, name)); err != nil {
			t.Fatal(err)
		}
	}
	realWait(t, "the rows in the replica", 10*time.Second, func() bool { return cl.Replica().Len("Item") == 4 })
	started := time.Now()
	cw := startCounterWriters(t, cl, writers, each, 60*time.Second, 2*time.Millisecond)

	// Leadership moves as the increments progress: one every 15. A move
	// the cluster does not complete in time (it may be electing on its
	// own: ovsdb-server hands leadership over to write a snapshot) is
	// logged and tried again.
	failedMoves := 0
	for k := 0; k < moves; {
		realWait(t, fmt.Sprintf("%d increments", k*writers*each/moves), 60*time.Second, func() bool {
			done, failed := cw.progress()
			return done >= k*writers*each/moves || failed
		})
		method := ovsdbserver.TransferFailureTest
		if k%2 == 1 {
			method = ovsdbserver.TransferExit
		}
		tr, err := c.TransferLeadership(ctx, method)
		if err != nil {
			if failedMoves++; failedMoves > moves {
				t.Fatalf("move %d (%s): %v", k, method, err)
			}
			t.Logf("move %d (%s) not completed, trying again: %v", k, method, err)
			continue
		}
		done, _ := cw.progress()
		t.Logf("move %2d: %s s%d -> s%d at %d increments", k, method, tr.From, tr.To, done)
		k++
	}
	cw.wait(t)
	elapsed := time.Since(started)
	done, failed := cw.progress()

	var got map[string]int64
	realWait(t, "the replica equal to the server", 20*time.Second, func() bool {
		d, err := c.Dump(ctx)
		if err != nil {
			return false
		}
		got = map[string]int64{}
		for _, row := range d["Item"] {
			name, _ := row["name"].(string)
			n, _ := row["n"].(json.Number)
			v, _ := n.Int64()
			got[name] = v
		}
		return got["counter"] == int64(done) || failed
	})
	st := cl.Stats()
	t.Logf("%d increments reported done of %d, final counter %d (expected %d); writer rows %d+%d+%d; "+
		"%d ambiguous (maybe-committed) outcomes, %d resolved by seeing the own write, %d rebuilt transactions; "+
		"%d leadership moves (%d more not completed), %d reconnects, %v",
		done, writers*each, got["counter"], done, got["w0"], got["w1"], got["w2"],
		st.MaybeCommitted, cw.sawOwn, st.Rebuilds, moves, failedMoves, st.Reconnects, elapsed.Round(time.Millisecond))
	if got["counter"] != int64(done) || got["w0"]+got["w1"]+got["w2"] != int64(done) || done != writers*each {
		t.Fatalf("counter %d, writer rows %v, %d reported done, want %d", got["counter"], got, done, writers*each)
	}
}
