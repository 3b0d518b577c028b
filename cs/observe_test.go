package cs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// observed records the events an Observe function saw.
type observed struct {
	mu     sync.Mutex
	events []Event
}

func (o *observed) add(ev Event) {
	o.mu.Lock()
	o.events = append(o.events, ev)
	o.mu.Unlock()
}

func (o *observed) count(match func(Event) bool) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, ev := range o.events {
		if match(ev) {
			n++
		}
	}
	return n
}

func isA[T Event](ev Event) bool { _, ok := ev.(T); return ok }

// With events disabled an observer still sees every event, in order; the
// new Stats fields follow a leader change; TxnReply.Err is the error
// Transact returns.
func TestObserveWithoutEvents(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, WithEventBuffer(-1))
		var obs observed
		stop := h.cl.Observe(obs.add)
		h.run()
		h.waitMonitoring(0)

		st := h.cl.Stats()
		if !st.Leader || st.MonitorVersion != 3 || st.ReceivedBytes == 0 || st.RecoveryCount != 0 {
			t.Fatalf("stats on the leader: Leader %v, MonitorVersion %d, ReceivedBytes %d, RecoveryCount %d",
				st.Leader, st.MonitorVersion, st.ReceivedBytes, st.RecoveryCount)
		}
		if n := obs.count(isA[Update]); n != 1 {
			t.Fatalf("observed %d updates, want the monitor reply", n)
		}

		// A transaction whose operation fails: the event carries the same
		// *TxnError as Transact.
		insert := ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Item", Row: ovsdb.Row{"name": "a"}}
		if _, err := h.cl.Transact(context.Background(), insert); err != nil {
			t.Fatal(err)
		}
		_, err := h.cl.Transact(context.Background(), insert)
		var te *TxnError
		if !errors.As(err, &te) {
			t.Fatalf("duplicate insert: %v, want a *TxnError", err)
		}
		obs.mu.Lock()
		var replies []TxnReply
		for _, ev := range obs.events {
			if r, ok := ev.(TxnReply); ok {
				replies = append(replies, r)
			}
		}
		obs.mu.Unlock()
		if len(replies) != 2 || replies[0].Err != nil {
			t.Fatalf("replies %+v, want a committed one then a failed one", replies)
		}
		var ete *TxnError
		if !errors.As(replies[1].Err, &ete) || *ete != *te {
			t.Fatalf("TxnReply.Err %v, want %v", replies[1].Err, te)
		}

		// A leader change: a reconnect and a recovery, seen by the
		// observer; the byte count keeps growing over connections.
		before := h.cl.Stats().ReceivedBytes
		if err := h.c.TransferLeadership(1); err != nil {
			t.Fatal(err)
		}
		h.waitFor("a recovery", 30*time.Second, func() bool { return h.cl.Stats().RecoveryCount == 1 })
		h.waitMonitoring(1)
		st = h.cl.Stats()
		if !st.Leader || st.MonitorVersion != 3 || st.ReceivedBytes <= before || st.Reconnects != 1 {
			t.Fatalf("stats after the leader change: Leader %v, MonitorVersion %d, ReceivedBytes %d (before %d), Reconnects %d",
				st.Leader, st.MonitorVersion, st.ReceivedBytes, before, st.Reconnects)
		}
		if r, rec := obs.count(isA[Reconnect]), obs.count(isA[Recovered]); r != 1 || rec != 1 {
			t.Fatalf("observed %d reconnects and %d recoveries, want 1 and 1", r, rec)
		}
		if len(h.eventsOf(func(Event) bool { return true })) != 0 {
			t.Fatal("events delivered with events disabled")
		}

		// After stop, nothing more is observed.
		stop()
		n := obs.count(func(Event) bool { return true })
		h.insert("b", 1)
		h.settle()
		if got := obs.count(func(Event) bool { return true }); got != n {
			t.Fatalf("observed %d events after stop", got-n)
		}
	})
}

// Observers and the Events stream see the same events in the same order.
func TestObserveMatchesEvents(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil)
		var obs observed
		h.cl.Observe(obs.add)
		h.run()
		h.waitMonitoring(0)
		h.insertAB()
		if err := h.c.TransferLeadership(2); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(2)
		h.settle()
		all := h.eventsOf(func(Event) bool { return true })
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if len(all) != len(obs.events) {
			t.Fatalf("observed %d events, Events delivered %d", len(obs.events), len(all))
		}
		for i := range all {
			if fmt.Sprintf("%T", all[i]) != fmt.Sprintf("%T", obs.events[i]) {
				t.Fatalf("event %d: observed %T, delivered %T", i, obs.events[i], all[i])
			}
		}
	})
}

// A client that accepts any member reports the leader flag of the
// server's row: false once the server it stays on steps down.
func TestStatsLeaderFollower(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil, WithLeaderOnly(false))
		h.run()
		h.waitMonitoring(0)
		if !h.cl.Stats().Leader {
			t.Fatal("Stats.Leader false on the leader")
		}
		if err := h.c.TransferLeadership(1); err != nil {
			t.Fatal(err)
		}
		h.waitFor("Leader false", 10*time.Second, func() bool { return !h.cl.Stats().Leader })
		if st := h.cl.Stats(); st.State != Monitoring || st.Remote != h.c.Member(0).Remote() || st.Reconnects != 0 {
			t.Fatalf("state %s on %s after %d reconnects, want MONITORING on member 0", st.State, st.Remote, st.Reconnects)
		}
	})
}

// Stats counts the transactions refused before they were sent.
func TestStatsTryAgain(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil)
		if _, err := h.cl.TransactRaw(context.Background(), []byte(`[]`)); !errors.Is(err, ErrTryAgain) {
			t.Fatalf("before Run: %v", err)
		}
		if n := h.cl.Stats().TryAgain; n != 1 {
			t.Fatalf("TryAgain %d, want 1", n)
		}
	})
}
