package cs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Regression tests of the integrity issue on the fake cluster (synctest).

// Item 1: updates queued from a connection the client decided to leave
// must not set the last id again: FlagInconsistency means a full resync.
func TestFlagInconsistencyIgnoresUpdatesQueuedFromTheLeftConnection(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, nil, WithEventBuffer(1))
		h.started = true
		go func() { h.done <- h.cl.Run(h.ctx) }()
		// Read events until the first sync, then stop reading.
		for synced := false; !synced; {
			if u, ok := (<-h.cl.Events()).(Update); ok && u.MonitorReply {
				synced = true
			}
		}
		for i := range 20 {
			h.insert(fmt.Sprintf("i%d", i), i)
		}
		h.settle()
		h.cl.FlagInconsistency()
		for {
			ev, ok := <-h.cl.Events()
			if !ok {
				t.Fatal("events closed")
			}
			if u, isUp := ev.(Update); isUp && u.MonitorReply {
				if !u.Clear || u.Found {
					t.Fatalf("monitor reply after FlagInconsistency: clear %t found %t: want a full resync", u.Clear, u.Found)
				}
				break
			}
		}
		go func() {
			for range h.cl.Events() {
			}
		}()
		h.waitMonitoring(0)
		if !mapsEqual(h.replicaItems(), h.serverItems()) {
			t.Fatalf("replica %v, server %v", h.replicaItems(), h.serverItems())
		}
	})
}

// Item 5: leaving the server being monitored is reported as such.
func TestWasMonitoringWhenTheMonitoredLeaderIsLeft(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		h.resetEvents()
		if err := h.c.TransferLeadership(1); err != nil {
			t.Fatal(err)
		}
		h.waitMonitoring(1)
		rs := h.eventsOf(func(e Event) bool { _, ok := e.(Reconnect); return ok })
		if len(rs) == 0 {
			t.Fatal("no Reconnect")
		}
		if r := rs[0].(Reconnect); !r.WasMonitoring || r.Remote != h.c.Member(0).Remote() {
			t.Fatalf("reconnect %+v: want WasMonitoring on member 0", r)
		}
	})
}

// Item 6: Transact before the first sync is try-again (never ErrClosed),
// and WaitMonitoring waits for the sync.
func TestTransactBeforeFirstSyncIsTryAgainAndWaitMonitoringWaits(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := h.cl.WaitMonitoring(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("WaitMonitoring before Run: %v", err)
		}
		h.run()
		_, err := h.cl.TransactRaw(context.Background(), []byte(`[]`))
		if !errors.Is(err, ErrTryAgain) || errors.Is(err, ErrClosed) {
			t.Fatalf("Transact right after Run: %v", err)
		}
		if err := h.cl.WaitMonitoring(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := h.cl.TransactRaw(context.Background(), []byte(`[]`)); err != nil {
			t.Fatal(err)
		}
		h.cancel()
		<-h.done
		h.cancel = nil
		h.c.Close()
		if err := h.cl.WaitMonitoring(context.Background()); !errors.Is(err, ErrClosed) {
			t.Fatalf("WaitMonitoring after Run: %v", err)
		}
	})
}

// Item 7: ForceReconnect is observable as ErrForced.
func TestForceReconnectReasonMatchesErrForced(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		h.resetEvents()
		h.cl.ForceReconnect()
		if err := h.cl.LastError(); !errors.Is(err, ErrForced) {
			t.Fatalf("LastError %v", err)
		}
		h.waitFor("a Reconnect", 10*time.Second, func() bool {
			return len(h.eventsOf(func(e Event) bool { _, ok := e.(Reconnect); return ok })) > 0
		})
		r := h.eventsOf(func(e Event) bool { _, ok := e.(Reconnect); return ok })[0].(Reconnect)
		if !errors.Is(r.Reason, ErrForced) || !r.WasMonitoring {
			t.Fatalf("reconnect %+v: want ErrForced, WasMonitoring", r)
		}
		h.waitMonitoring(0)
	})
}

// Item 8: misconfiguration is an error naming the closest valid name.
func TestUnknownNamesAreConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{"table", []Option{WithTables("Itme")}, `no table "Itme" (did you mean "Item"?)`},
		{"column", []Option{WithColumns("Item", "name", "nmae2")}, `no column "nmae2" (did you mean "name"?)`},
		{"condition table", []Option{WithCondition("Iten", nil)}, `no table "Iten" (did you mean "Item"?)`},
		{"condition column", []Option{WithCondition("Item", []ovsdb.Condition{eq("m", 1)})}, `no column "m" (did you mean "n"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				h := newHarness(t, 1, nil, tc.opts...).run()
				var err error
				select {
				case err = <-h.done:
				case <-time.After(time.Minute):
					t.Fatal("Run did not return")
				}
				h.done <- err // for stop
				if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Run: %v, want ErrConfig with %q", err, tc.want)
				}
				if !errors.Is(h.cl.LastError(), ErrConfig) {
					t.Fatalf("LastError %v", h.cl.LastError())
				}
				if werr := h.cl.WaitMonitoring(context.Background()); !errors.Is(werr, ErrConfig) {
					t.Fatalf("WaitMonitoring %v", werr)
				}
			})
		})
	}
	t.Run("SetCondition once the schema is known", func(t *testing.T) {
		scenario(t, func(t *testing.T) {
			h := newHarness(t, 1, nil).run()
			h.waitMonitoring(0)
			_, err := h.cl.SetCondition("Item", []ovsdb.Condition{eq("nam", "x")})
			if !errors.Is(err, ErrConfig) || !errors.Is(err, monitor.ErrBadCondition) || !strings.Contains(err.Error(), `did you mean "name"`) {
				t.Fatalf("SetCondition: %v", err)
			}
			if _, err := h.cl.SetCondition("Item", []ovsdb.Condition{eq("name", "x")}); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// counterBuild is the exactly-once increment of the tests: writer w owns
// the row of uuid self whose n counts its increments done; done is how
// many it has seen reported done. The builder returns no operations when
// the replica shows that its previous attempt committed (self.n ==
// done+1), so an ambiguous outcome is never applied twice; the counter
// row's value comes from the same view, verified by the waits.
func counterBuild(counter, self monitor.UUID, done int64, sawOwn *int) func(tx monitor.ReadTx) ([]ovsdb.Operation, error) {
	return func(tx monitor.ReadTx) ([]ovsdb.Operation, error) {
		me, ok := tx.Get("Item", self)
		if !ok {
			return nil, errors.New("writer row missing")
		}
		switch n := me.Get("n").Int(); n {
		case done + 1:
			*sawOwn++
			return nil, nil
		case done:
		default:
			return nil, fmt.Errorf("writer row at %d, %d done", n, done)
		}
		c, ok := tx.Get("Item", counter)
		if !ok {
			return nil, errors.New("counter row missing")
		}
		return []ovsdb.Operation{
			updateN(counter, c.Get("n").Int()+1),
			updateN(self, done+1),
		}, nil
	}
}

func updateN(id monitor.UUID, n int64) ovsdb.Operation {
	return ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "Item",
		Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: id.String()}}},
		Row:   ovsdb.Row{"n": n}}
}

// rowByName returns the uuid of the Item row called name in the replica.
func rowByName(cl *Client, name string) (monitor.UUID, bool) {
	var id monitor.UUID
	found := false
	cl.Replica().View(func(tx monitor.ReadTx) {
		for u, row := range tx.Rows("Item") {
			if a, _ := row.Get("name").Atom(); a.Str() == name {
				id, found = u, true
			}
		}
	})
	return id, found
}

// counterWriters runs writers goroutines, each making each increments of
// the counter row through TransactFunc (counterBuild), every call bounded
// by timeout and followed by pause.
type counterWriters struct {
	wg     sync.WaitGroup
	mu     sync.Mutex
	done   int     // increments reported done
	sawOwn int     // ambiguous outcomes resolved by seeing the own write
	failed []error // TransactFunc errors (each ends its writer)
}

func startCounterWriters(t *testing.T, cl *Client, writers, each int, timeout, pause time.Duration) *counterWriters {
	t.Helper()
	counter, ok := rowByName(cl, "counter")
	if !ok {
		t.Fatal("counter row missing")
	}
	cw := &counterWriters{}
	for w := range writers {
		self, ok := rowByName(cl, fmt.Sprintf("w%d", w))
		if !ok {
			t.Fatal("writer row missing")
		}
		cw.wg.Add(1)
		go func() {
			defer cw.wg.Done()
			own := 0
			defer func() {
				cw.mu.Lock()
				cw.sawOwn += own
				cw.mu.Unlock()
			}()
			for i := range each {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				_, err := cl.TransactFunc(ctx, counterBuild(counter, self, int64(i), &own))
				cancel()
				cw.mu.Lock()
				if err != nil {
					cw.failed = append(cw.failed, fmt.Errorf("writer %d increment %d: %w", w, i, err))
					cw.mu.Unlock()
					return
				}
				cw.done++
				cw.mu.Unlock()
				time.Sleep(pause)
			}
		}()
	}
	return cw
}

// progress returns the increments done, and whether a writer failed.
func (cw *counterWriters) progress() (int, bool) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	return cw.done, len(cw.failed) > 0
}

// wait waits for the writers and reports their errors.
func (cw *counterWriters) wait(t *testing.T) {
	cw.wg.Wait()
	for _, err := range cw.failed {
		t.Error(err)
	}
}

func TestTransactFuncIncrementsExactlyOnceAcrossFailovers(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 3, nil).run()
		h.waitMonitoring(0)
		const writers, each = 3, 20
		for _, name := range []string{"counter", "w0", "w1", "w2"} {
			h.insert(name, 0)
		}
		h.settle()
		// Replies take 1ms: transactions are in flight when leadership
		// moves.
		for i := range 3 {
			h.holdUpdates(i)
		}
		cw := startCounterWriters(t, h.cl, writers, each, time.Minute, 0)
		// Leadership moves and forced reconnects while they write.
		for i := range 12 {
			time.Sleep(2*time.Millisecond + time.Duration(i%3)*300*time.Microsecond)
			switch i % 3 {
			case 0:
				_ = h.c.TransferLeadership((h.c.Leader() + 1) % 3)
			case 1:
				h.cl.ForceReconnect()
			case 2:
				l := h.c.Leader()
				_ = h.c.GracefulExit(l)
				time.Sleep(time.Millisecond)
				_ = h.c.Start(l)
			}
		}
		cw.wait(t)
		h.settle()
		items := h.serverItems()
		st := h.cl.Stats()
		done := cw.done
		t.Logf("%d increments done, counter %d; %d maybe-committed outcomes, %d rebuilds, %d resolved by seeing the own write",
			done, items["counter"], st.MaybeCommitted, st.Rebuilds, cw.sawOwn)
		if st.MaybeCommitted == 0 {
			t.Error("no transaction was in flight at a failover: the test lost its point")
		}
		if items["counter"] != int64(done) || done != writers*each {
			t.Fatalf("counter %d, %d increments done, want %d", items["counter"], done, writers*each)
		}
		if items["w0"]+items["w1"]+items["w2"] != int64(done) {
			t.Fatalf("writer rows %v", items)
		}
	})
}

// A read of a row that does not exist is verified too: the wait carries
// an empty "rows" (which ovsdb.Operation would leave out).
func TestTransactFuncVerifiesAbsentRows(t *testing.T) {
	scenario(t, func(t *testing.T) {
		h := newHarness(t, 1, nil).run()
		h.waitMonitoring(0)
		h.insert("a", 1)
		h.settle()
		a, _ := rowByName(h.cl, "a")
		ghost := monitor.UUID{1, 2, 3}
		builds := 0
		_, err := h.cl.TransactFunc(context.Background(), func(tx monitor.ReadTx) ([]ovsdb.Operation, error) {
			builds++
			if _, ok := tx.Get("Item", ghost); ok {
				return nil, errors.New("ghost exists")
			}
			row, _ := tx.Get("Item", a)
			if builds == 1 {
				// Another client writes the row read: the first attempt
				// must fail on the server and be rebuilt.
				if _, err := h.c.Transact(context.Background(), `[{"op":"update","table":"Item","where":[["name","==","a"]],"row":{"n":5}}]`); err != nil {
					return nil, err
				}
			}
			return []ovsdb.Operation{updateN(a, row.Get("n").Int()+10)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		h.settle()
		if builds != 2 || h.serverItems()["a"] != 15 {
			t.Fatalf("%d builds, a = %d: want 2 builds and 5+10", builds, h.serverItems()["a"])
		}
	})
}
