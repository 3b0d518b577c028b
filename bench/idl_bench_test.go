package bench

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ovn-org/libovsdb/cache"
	"github.com/ovn-org/libovsdb/model"

	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
)

// Typed-layer benchmarks: idl (ovsdbcs) against libovsdb v0.7.0's cache,
// both fed the same Logical_Switch_Port rows of the OVN_Northbound schema,
// both with the schema's index (name) and the same two client indexes
// (external_ids:owner and type).

const (
	typedRows    = 100000 // rows in the typed sync
	typedUpdRows = 10000  // rows under the update stream
	typedUpdates = 1000   // update2 notifications
)

var (
	portsInitial    = PortsInitial(typedRows)
	portsInitialUpd = PortsInitial(typedUpdRows)
	portsModify     = PortModifies(typedUpdates, typedUpdRows)
)

// must fails tb on err. It is called per update on both sides, so it marks
// itself a helper only on failure (Helper walks the stack: a cost the
// harness would add to every update).
func must(tb testing.TB, err error) {
	if err != nil {
		tb.Helper()
		tb.Fatal(err)
	}
}

type typedOurs struct{ *TypedOurs }

func newTypedOurs(tb testing.TB) typedOurs {
	o, err := NewTypedOurs()
	must(tb, err)
	return typedOurs{o}
}

func (o typedOurs) sync(tb testing.TB, reply []byte)    { must(tb, o.Sync(reply)) }
func (o typedOurs) update(tb testing.TB, params []byte) { must(tb, o.Update(params)) }

func typedTheirs(tb testing.TB) *cache.TableCache {
	tc, err := NewTypedTheirs()
	must(tb, err)
	return tc
}

func theirsSync(tb testing.TB, tc *cache.TableCache, reply []byte) {
	must(tb, TheirsSync(tc, reply))
}

func theirsUpdate(tb testing.TB, tc *cache.TableCache, params []byte) {
	must(tb, TheirsUpdate(tc, params))
}

// BenchmarkTypedSync: parse a 100,000-row Logical_Switch_Port monitor_cond
// reply and load it into typed form with the name index and two client
// indexes (one op = the whole reply). retained-B/row is the heap the loaded
// view keeps (after GC, the message and decoded updates being garbage).
// ovsdbcs keeps encoded rows and decodes on read; libovsdb keeps decoded
// models.
func BenchmarkTypedSync(b *testing.B) {
	b.Run("impl=ovsdbcs", func(b *testing.B) {
		var retained float64
		b.ReportAllocs()
		for b.Loop() {
			o := newTypedOurs(b)
			before := heapAfterGC()
			o.sync(b, portsInitial)
			b.StopTimer()
			after := heapAfterGC()
			if n, _ := idl.Count[nbdb.LogicalSwitchPort](o.Cache); n != typedRows {
				b.Fatalf("%d rows", n)
			}
			runtime.KeepAlive(o)
			retained += float64(int64(after)-int64(before)) / typedRows
			b.StartTimer()
		}
		b.ReportMetric(typedRows*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(retained/float64(b.N), "retained-B/row")
	})
	b.Run("impl=libovsdb", func(b *testing.B) {
		var retained float64
		b.ReportAllocs()
		for b.Loop() {
			tc := typedTheirs(b)
			before := heapAfterGC()
			theirsSync(b, tc, portsInitial)
			b.StopTimer()
			after := heapAfterGC()
			if tc.Table(nbdb.LogicalSwitchPortTable).Len() != typedRows {
				b.Fatal("rows missing")
			}
			runtime.KeepAlive(tc)
			retained += float64(int64(after)-int64(before)) / typedRows
			b.StartTimer()
		}
		b.ReportMetric(typedRows*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(retained/float64(b.N), "retained-B/row")
	})
}

// BenchmarkTypedRead: reads on the 100,000-row view. get-by-index looks a
// port up by name (the schema index) and returns a copy; owner-index looks
// up the ports of one owner (client index on external_ids:owner, 1,000
// ports) and returns copies; list copies every row. Each side is measured
// alone in the heap (the other is built after, or dropped before).
func BenchmarkTypedRead(b *testing.B) {
	o := newTypedOurs(b)
	o.sync(b, portsInitial)
	b.Run("op=get-by-index/impl=ovsdbcs", func(b *testing.B) {
		i := 0
		for b.Loop() {
			m := &nbdb.LogicalSwitchPort{Name: fmt.Sprintf("port-%07d", i%typedRows)}
			if err := o.Cache.Get(b.Context(), m); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	b.Run("op=owner-index/impl=ovsdbcs", func(b *testing.B) {
		i := 0
		for b.Loop() {
			got, err := idl.Lookup(o.Cache, &nbdb.LogicalSwitchPort{ExternalIDs: map[string]string{"owner": fmt.Sprintf("ctl-%d", i%100)}})
			if err != nil || len(got) != typedRows/100 {
				b.Fatal(len(got), err)
			}
			i++
		}
	})
	b.Run("op=list/impl=ovsdbcs", func(b *testing.B) {
		for b.Loop() {
			var all []*nbdb.LogicalSwitchPort
			if err := o.Cache.List(b.Context(), &all); err != nil || len(all) != typedRows {
				b.Fatal(len(all), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/typedRows, "ns/row")
	})
	o = typedOurs{}
	runtime.GC()
	var lsps *cache.RowCache
	theirs := func(b *testing.B) *cache.RowCache {
		if lsps == nil {
			tc := typedTheirs(b)
			theirsSync(b, tc, portsInitial)
			lsps = tc.Table(nbdb.LogicalSwitchPortTable)
		}
		return lsps
	}
	b.Run("op=get-by-index/impl=libovsdb", func(b *testing.B) {
		lsps := theirs(b)
		i := 0
		for b.Loop() {
			_, m, err := lsps.RowByModel(&LSP{Name: fmt.Sprintf("port-%07d", i%typedRows)})
			if err != nil || m == nil {
				b.Fatal("not found", err)
			}
			i += 7919
		}
	})
	b.Run("op=owner-index/impl=libovsdb", func(b *testing.B) {
		lsps := theirs(b)
		i := 0
		for b.Loop() {
			got, err := lsps.RowsByModels([]model.Model{&LSP{ExternalIDs: map[string]string{"owner": fmt.Sprintf("ctl-%d", i%100)}}})
			if err != nil || len(got) != typedRows/100 {
				b.Fatal(len(got), err)
			}
			i++
		}
	})
	b.Run("op=list/impl=libovsdb", func(b *testing.B) {
		lsps := theirs(b)
		for b.Loop() {
			if all := lsps.Rows(); len(all) != typedRows {
				b.Fatal(len(all))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/typedRows, "ns/row")
	})
}

// BenchmarkTypedUpdates: 1,000 update2 notifications, each moving a port
// of a 10,000-row view to another owner, applied with the name index, the
// two client indexes and one handler that receives every update (old and
// new models). One op = the 1,000 notifications, all handled. libovsdb's
// handlers run on its cache's event goroutine; the op ends when the last
// one has run.
func BenchmarkTypedUpdates(b *testing.B) {
	b.Run("impl=ovsdbcs", func(b *testing.B) {
		o := newTypedOurs(b)
		o.sync(b, portsInitialUpd)
		var seen atomic.Int64
		o.Cache.AddEventHandler(&idl.EventHandlerFuncs{UpdateFunc: func(_ string, old, new model.Model) {
			if old.(*nbdb.LogicalSwitchPort).Name == new.(*nbdb.LogicalSwitchPort).Name {
				seen.Add(1)
			}
		}})
		b.ReportAllocs()
		for b.Loop() {
			for _, params := range portsModify {
				o.update(b, params)
			}
		}
		if seen.Load() != int64(b.N*typedUpdates) {
			b.Fatalf("handled %d of %d", seen.Load(), b.N*typedUpdates)
		}
		b.ReportMetric(typedUpdates*float64(b.N)/b.Elapsed().Seconds(), "updates/s")
	})
	b.Run("impl=libovsdb", func(b *testing.B) {
		tc := typedTheirs(b)
		theirsSync(b, tc, portsInitialUpd)
		seen := make(chan struct{}, typedUpdates)
		tc.AddEventHandler(&cache.EventHandlerFuncs{UpdateFunc: func(_ string, old, new model.Model) {
			if old.(*LSP).Name == new.(*LSP).Name {
				seen <- struct{}{}
			}
		}})
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { tc.Run(stop); close(done) }()
		b.ReportAllocs()
		for b.Loop() {
			for _, params := range portsModify {
				theirsUpdate(b, tc, params)
			}
			for range typedUpdates {
				<-seen
			}
		}
		close(stop)
		<-done
		b.ReportMetric(typedUpdates*float64(b.N)/b.Elapsed().Seconds(), "updates/s")
	})
}
