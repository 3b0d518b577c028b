package monitor

import (
	"runtime"
	"testing"

	"github.com/ovsdbcs/ovsdbcs/monitor/benchdata"
)

func benchSchema(b testing.TB) *Schema {
	s, err := NewSchema(parseDBSchema(b, benchdata.SchemaJSON), nil)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

const benchRows = 10000

// BenchmarkApplyInitial parses and applies a 10,000-row monitor_cond reply
// to an empty replica: parse=whole from the reply's bytes
// (ParseMonitorCondReply), parse=streamed with a ReplyDecoder fed 64 KiB at
// a time, as the jsonrpc reader hands the reply on while it arrives. Both
// take the same bytes to the same replica.
func BenchmarkApplyInitial(b *testing.B) {
	s := benchSchema(b)
	data := benchdata.Initial(benchRows)
	streamed := func(data []byte) (*Update, error) {
		return decodeSplit(s, MethodMonitorCond, data, func() int { return 64 << 10 })
	}
	for _, parse := range []struct {
		name  string
		parse func([]byte) (*Update, error)
	}{
		{"whole", func(data []byte) (*Update, error) { return ParseMonitorCondReply(s, data) }},
		{"streamed", streamed},
	} {
		b.Run("parse="+parse.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				u, err := parse.parse(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := NewReplica(s).Apply(u); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkApplyModify parses and applies 1,000 update2 notifications, each
// modifying one row of a 10,000-row replica.
func BenchmarkApplyModify(b *testing.B) {
	s := benchSchema(b)
	r := NewReplica(s)
	u, err := ParseMonitorCondReply(s, benchdata.Initial(benchRows))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.Apply(u); err != nil {
		b.Fatal(err)
	}
	mods := benchdata.Modifies(1000, benchRows)
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range mods {
			u, err := ParseUpdate2(s, m)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := r.Apply(u); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(mods))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRetained measures the heap a 10,000-row replica keeps once the
// message and the parsed update are gone.
func BenchmarkRetained(b *testing.B) {
	s := benchSchema(b)
	data := benchdata.Initial(benchRows)
	var total float64
	for b.Loop() {
		total += retainedPerRow(b, s, data)
	}
	b.ReportMetric(total/float64(b.N), "retained-B/row")
}

func retainedPerRow(b *testing.B, s *Schema, data []byte) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := NewReplica(s)
	u, err := ParseMonitorCondReply(s, data)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.Apply(u); err != nil {
		b.Fatal(err)
	}
	u = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if r.Len("Item") != benchRows {
		b.Fatal("rows missing")
	}
	runtime.KeepAlive(r)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / benchRows
}
