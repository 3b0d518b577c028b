package bench

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/cache"
	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/monitor/benchdata"
)

const (
	rows    = 10000 // rows in the initial monitor reply
	nModify = 1000  // update2 notifications in the modify stream
)

// Fixtures shared by the benchmarks (built once).
var (
	initialJSON = benchdata.Initial(rows)
	modifyJSON  = benchdata.Modifies(nModify, rows)
)

func ourSchema(b *testing.B) *monitor.Schema {
	var db ovsdb.DatabaseSchema
	if err := json.Unmarshal([]byte(benchdata.SchemaJSON), &db); err != nil {
		b.Fatal(err)
	}
	s, err := monitor.NewSchema(&db, nil)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func theirModel(b *testing.B) model.DatabaseModel {
	_, dbModel, err := LibovsdbModel()
	if err != nil {
		b.Fatal(err)
	}
	return dbModel
}

// ours parses a monitor_cond reply and applies it to a new replica.
func oursInitial(b *testing.B, s *monitor.Schema) *monitor.Replica {
	r := monitor.NewReplica(s)
	u, err := monitor.ParseMonitorCondReply(s, initialJSON)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.Apply(u); err != nil {
		b.Fatal(err)
	}
	return r
}

// theirs decodes the same reply with encoding/json into
// ovsdb.TableUpdates2 and populates a new libovsdb cache with it.
func theirsInitial(b *testing.B, dbModel model.DatabaseModel) *cache.TableCache {
	discard := logr.Discard()
	tc, err := cache.NewTableCache(dbModel, nil, &discard)
	if err != nil {
		b.Fatal(err)
	}
	theirsPopulate(b, tc)
	return tc
}

func theirsPopulate(b *testing.B, tc *cache.TableCache) {
	var tu ovsdb.TableUpdates2
	if err := json.Unmarshal(initialJSON, &tu); err != nil {
		b.Fatal(err)
	}
	if err := tc.Populate2(tu); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInitial: decode and apply a 10,000-row monitor_cond reply to an
// empty replica (one op = the whole reply).
func BenchmarkInitial(b *testing.B) {
	b.Run("impl=ovsdbcs", func(b *testing.B) {
		s := ourSchema(b)
		b.SetBytes(int64(len(initialJSON)))
		b.ReportAllocs()
		for b.Loop() {
			oursInitial(b, s)
		}
		b.ReportMetric(rows*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("impl=libovsdb", func(b *testing.B) {
		dbModel := theirModel(b)
		b.SetBytes(int64(len(initialJSON)))
		b.ReportAllocs()
		for b.Loop() {
			theirsInitial(b, dbModel)
		}
		b.ReportMetric(rows*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkModify: decode and apply 1,000 update2 notifications, each
// modifying one row (an integer, a set, a map) of a 10,000-row replica (one
// op = the 1,000 notifications).
func BenchmarkModify(b *testing.B) {
	b.Run("impl=ovsdbcs", func(b *testing.B) {
		s := ourSchema(b)
		r := oursInitial(b, s)
		b.ReportAllocs()
		for b.Loop() {
			for _, params := range modifyJSON {
				u, err := monitor.ParseUpdate2(s, params)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Apply(u); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(nModify*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("impl=libovsdb", func(b *testing.B) {
		tc := theirsInitial(b, theirModel(b))
		b.ReportAllocs()
		for b.Loop() {
			for _, params := range modifyJSON {
				// What libovsdb's client does with an update2 notification.
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
		}
		b.ReportMetric(nModify*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkRetained: heap kept per row by a 10,000-row replica once the
// message and the decoded updates are garbage (HeapAlloc after GC, with the
// replica alive, minus HeapAlloc after GC with the empty replica or cache).
// For libovsdb the event queue is drained first (cache.Run with a handler
// that counts the 10,000 adds), so only the cache itself counts. The
// retained-B/row metric is the figure; time per op is not meaningful.
func BenchmarkRetained(b *testing.B) {
	b.Run("impl=ovsdbcs", func(b *testing.B) {
		s := ourSchema(b)
		var sum float64
		for b.Loop() {
			r := monitor.NewReplica(s)
			before := heapAfterGC()
			u, err := monitor.ParseMonitorCondReply(s, initialJSON)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Apply(u); err != nil {
				b.Fatal(err)
			}
			u = nil
			after := heapAfterGC()
			if r.Len("Item") != rows {
				b.Fatal("rows missing")
			}
			runtime.KeepAlive(r)
			sum += float64(int64(after)-int64(before)) / rows
		}
		b.ReportMetric(sum/float64(b.N), "retained-B/row")
	})
	b.Run("impl=libovsdb", func(b *testing.B) {
		dbModel := theirModel(b)
		var sum float64
		for b.Loop() {
			discard := logr.Discard()
			tc, err := cache.NewTableCache(dbModel, nil, &discard)
			if err != nil {
				b.Fatal(err)
			}
			added := make(chan struct{}, rows)
			tc.AddEventHandler(&cache.EventHandlerFuncs{AddFunc: func(string, model.Model) { added <- struct{}{} }})
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() { tc.Run(stop); close(done) }()
			before := heapAfterGC()
			theirsPopulate(b, tc)
			for range rows {
				<-added
			}
			after := heapAfterGC()
			if tc.Table("Item").Len() != rows {
				b.Fatal("rows missing")
			}
			runtime.KeepAlive(tc)
			close(stop)
			<-done
			sum += float64(int64(after)-int64(before)) / rows
		}
		b.ReportMetric(sum/float64(b.N), "retained-B/row")
	})
}

func heapAfterGC() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
