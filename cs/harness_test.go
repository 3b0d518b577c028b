package cs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// harness runs a Client against an in-memory fake cluster, inside a
// synctest bubble, and records every event.
type harness struct {
	t      *testing.T
	c      *testserver.Cluster
	cl     *Client
	ctx    context.Context
	cancel context.CancelFunc
	done   chan error

	started bool

	mu     sync.Mutex
	events []Event
}

func newHarness(t *testing.T, n int, copts []testserver.Option, opts ...Option) *harness {
	t.Helper()
	copts = append([]testserver.Option{testserver.InMemory(), testserver.WithSeed(1)}, copts...)
	c, err := testserver.NewCluster(n, testserver.LabSchema(), copts...)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]Option{WithDialer(c.DialContext), WithShuffle(false), WithLogger(testr.NewWithOptions(t, testr.Options{Verbosity: 0}))}, opts...)
	cl, err := New("Lab", c.Remotes(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, c: c, cl: cl, done: make(chan error, 1)}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	t.Cleanup(h.stop)
	return h
}

// run starts the client and an event reader.
func (h *harness) run() *harness {
	h.started = true
	go func() { h.done <- h.cl.Run(h.ctx) }()
	go func() {
		for ev := range h.cl.Events() {
			h.mu.Lock()
			h.events = append(h.events, ev)
			h.mu.Unlock()
		}
	}()
	return h
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	if h.started {
		<-h.done
	}
	h.c.Close()
}

// waitFor waits (in fake time) until cond holds, failing after limit.
func (h *harness) waitFor(what string, limit time.Duration, cond func() bool) {
	h.t.Helper()
	fakeWait(h.t, h.cl, what, limit, cond)
}

// fakeWait waits (in fake time, inside a synctest bubble) until cond
// holds, failing after limit with cl's state.
func fakeWait(t *testing.T, cl *Client, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		synctest.Wait()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (state %s, last error %v)", limit, what, cl.State(), cl.LastError())
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) monitoringOn(member int) func() bool {
	return func() bool {
		s := h.cl.Stats()
		return s.State == Monitoring && s.Remote == h.c.Member(member).Remote()
	}
}

func (h *harness) waitMonitoring(member int) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("MONITORING on member %d", member), 30*time.Second, h.monitoringOn(member))
}

// holdUpdates delays everything member sends by 1ms of fake time, so that
// a cluster verb completes before the client hears of it.
func (h *harness) holdUpdates(member int) {
	h.t.Helper()
	if err := h.c.Member(member).SetFaults(testserver.Faults{ReplyDelay: time.Millisecond}); err != nil {
		h.t.Fatal(err)
	}
}

// setCondition sets the condition of table Item.
func (h *harness) setCondition(cond []ovsdb.Condition) uint64 {
	h.t.Helper()
	seq, err := h.cl.SetCondition("Item", cond)
	if err != nil {
		h.t.Fatalf("SetCondition: %v", err)
	}
	return seq
}

// waitCondition waits until the server acknowledged condition seqno seq.
func (h *harness) waitCondition(seq uint64) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("condition seqno %d", seq), 10*time.Second, func() bool { return h.cl.ConditionSeqno() >= seq })
}

// requireReplica checks that the replica holds exactly want (name -> n).
func (h *harness) requireReplica(want map[string]int64) {
	h.t.Helper()
	if got := h.replicaItems(); !mapsEqual(got, want) {
		h.t.Fatalf("replica %v, want %v", got, want)
	}
}

// settle lets everything that can happen at this instant happen.
func (h *harness) settle() { synctest.Wait() }

func (h *harness) eventsOf(match func(Event) bool) []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for _, e := range h.events {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

func (h *harness) updates() []Update {
	var out []Update
	for _, e := range h.eventsOf(func(e Event) bool { _, ok := e.(Update); return ok }) {
		out = append(out, e.(Update))
	}
	return out
}

func (h *harness) resetEvents() {
	h.mu.Lock()
	h.events = nil
	h.mu.Unlock()
}

func (h *harness) insert(name string, n int) {
	h.t.Helper()
	ops := fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":%q,"n":%d}}]`, name, n)
	if _, err := h.c.Transact(context.Background(), ops); err != nil {
		h.t.Fatalf("insert %s: %v", name, err)
	}
}

// insertAB inserts the rows a (n=1) and b (n=2).
func (h *harness) insertAB() {
	h.t.Helper()
	h.insert("a", 1)
	h.insert("b", 2)
}

// replicaItems returns name -> n from the client's replica.
func (h *harness) replicaItems() map[string]int64 {
	out := map[string]int64{}
	r := h.cl.Replica()
	if r == nil {
		return out
	}
	r.View(func(tx monitor.ReadTx) {
		for _, row := range tx.Rows("Item") {
			a, _ := row.Get("name").Atom()
			out[a.Str()] = row.Get("n").Int()
		}
	})
	return out
}

// serverItems returns name -> n from the cluster's committed data.
func (h *harness) serverItems() map[string]int64 {
	out := map[string]int64{}
	for _, row := range h.c.Snapshot()["Item"] {
		var name string
		var n int64
		_ = json.Unmarshal(row["name"], &name)
		_ = json.Unmarshal(row["n"], &n)
		out[name] = n
	}
	return out
}

func (h *harness) requests(member int, method string) int {
	return h.c.Member(member).Counters().Requests[method]
}

func (h *harness) accepted() []int {
	out := make([]int, h.c.Size())
	for i := range out {
		out[i] = h.c.Member(i).Counters().Accepted
	}
	return out
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

func eq(col string, v any) ovsdb.Condition {
	return ovsdb.Condition{Column: col, Function: ovsdb.ConditionEqual, Value: v}
}

func scenario(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	synctest.Test(t, f)
}

// pinFailover selects the election-aware failover policy (the session
// dials the remotes itself) for tests of that path: request counts, the
// session's backoff, rejections seen by the state machine.
var pinFailover = WithFailoverPolicy(failover.Config{})
