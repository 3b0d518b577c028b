package bench

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/cache"
	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
	"github.com/ovsdbcs/ovsdbcs/monitor"
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

var clientIndexes = []model.ClientIndex{
	{Columns: []model.ColumnKey{{Column: "external_ids", Key: "owner"}}},
	{Columns: []model.ColumnKey{{Column: "type"}}},
}

func nbDB(b testing.TB) *ovsdb.DatabaseSchema {
	db := nbdb.Schema()
	return &db
}

// typedOurs is the idl side: a replica of Logical_Switch_Port and a Cache
// over it.
type typedOurs struct {
	odb *ovsdb.DatabaseSchema
	s   *monitor.Schema
	r   *monitor.Replica
	c   *idl.Cache
}

func newTypedOurs(b testing.TB) *typedOurs {
	odb := nbDB(b)
	s, err := monitor.NewSchema(odb, map[string][]string{nbdb.LogicalSwitchPortTable: nil})
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{nbdb.LogicalSwitchPortTable: &nbdb.LogicalSwitchPort{}})
	if err != nil {
		b.Fatal(err)
	}
	m.SetIndexes(map[string][]model.ClientIndex{nbdb.LogicalSwitchPortTable: clientIndexes})
	c, err := idl.NewCache(m, logr.Discard())
	if err != nil {
		b.Fatal(err)
	}
	return &typedOurs{odb: odb, s: s, r: monitor.NewReplica(s), c: c}
}

// sync parses a monitor_cond reply, applies it to the replica and the
// typed view: what Client.Run does with the first update.
func (o *typedOurs) sync(b testing.TB, reply []byte) {
	u, err := monitor.ParseMonitorCondReply(o.s, reply)
	if err != nil {
		b.Fatal(err)
	}
	changes, err := o.r.Apply(u)
	if err != nil {
		b.Fatal(err)
	}
	if err := o.c.Process(o.odb, o.r, cs.Update{Clear: true, MonitorReply: true, Changes: changes}); err != nil {
		b.Fatal(err)
	}
}

func (o *typedOurs) update(b testing.TB, params []byte) {
	u, err := monitor.ParseUpdate2(o.s, params)
	if err != nil {
		b.Fatal(err)
	}
	changes, err := o.r.Apply(u)
	if err != nil {
		b.Fatal(err)
	}
	if err := o.c.Process(o.odb, o.r, cs.Update{Changes: changes}); err != nil {
		b.Fatal(err)
	}
}

// typedTheirs is libovsdb's cache with the same model, schema index and
// client indexes.
func typedTheirs(b testing.TB) *cache.TableCache {
	m, err := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{nbdb.LogicalSwitchPortTable: &LSP{}})
	if err != nil {
		b.Fatal(err)
	}
	m.SetIndexes(map[string][]model.ClientIndex{nbdb.LogicalSwitchPortTable: clientIndexes})
	dbm, errs := model.NewDatabaseModel(*nbDB(b), m)
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	discard := logr.Discard()
	tc, err := cache.NewTableCache(dbm, nil, &discard)
	if err != nil {
		b.Fatal(err)
	}
	return tc
}

func theirsSync(b testing.TB, tc *cache.TableCache, reply []byte) {
	var tu ovsdb.TableUpdates2
	if err := json.Unmarshal(reply, &tu); err != nil {
		b.Fatal(err)
	}
	if err := tc.Populate2(tu); err != nil {
		b.Fatal(err)
	}
}

func theirsUpdate(b testing.TB, tc *cache.TableCache, params []byte) {
	var p []json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil {
		b.Fatal(err)
	}
	var tu ovsdb.TableUpdates2
	if err := json.Unmarshal(p[1], &tu); err != nil {
		b.Fatal(err)
	}
	if err := tc.Populate2(tu); err != nil {
		b.Fatal(err)
	}
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
			if n, _ := idl.Count[nbdb.LogicalSwitchPort](o.c); n != typedRows {
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
			if err := o.c.Get(b.Context(), m); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	b.Run("op=owner-index/impl=ovsdbcs", func(b *testing.B) {
		i := 0
		for b.Loop() {
			got, err := idl.Lookup(o.c, &nbdb.LogicalSwitchPort{ExternalIDs: map[string]string{"owner": fmt.Sprintf("ctl-%d", i%100)}})
			if err != nil || len(got) != typedRows/100 {
				b.Fatal(len(got), err)
			}
			i++
		}
	})
	b.Run("op=list/impl=ovsdbcs", func(b *testing.B) {
		for b.Loop() {
			var all []*nbdb.LogicalSwitchPort
			if err := o.c.List(b.Context(), &all); err != nil || len(all) != typedRows {
				b.Fatal(len(all), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/typedRows, "ns/row")
	})
	o = nil
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
		o.c.AddEventHandler(&idl.EventHandlerFuncs{UpdateFunc: func(_ string, old, new model.Model) {
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
