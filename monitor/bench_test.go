package monitor

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// benchSchemaJSON is the table of the benchmark: string, optional
// integer, set of strings, set of uuids, string map, boolean. The same table
// and rows are in ../bench, which compares with libovsdb.
const benchSchemaJSON = `{"name":"Bench","version":"1.0.0","tables":{"Item":{"columns":{
 "name":{"type":"string"},
 "n":{"type":{"key":"integer","min":0,"max":1}},
 "tags":{"type":{"key":"string","min":0,"max":"unlimited"}},
 "refs":{"type":{"key":{"type":"uuid","refTable":"Item","refType":"weak"},"min":0,"max":"unlimited"}},
 "ext":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}},
 "enabled":{"type":"boolean"}}}}}`

func benchUUID(i int) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761&0xffffffff, i&0xffff, i&0xfff, (i>>12)&0xfff, i*7919)
}

// benchRowJSON is row i as an OVSDB <row>.
func benchRowJSON(i, rows int) string {
	// Members in OVSDB order, as ovsdb-server sends them.
	refs := []string{benchUUID((i + 1) % rows), benchUUID((i + 2) % rows), benchUUID((i + 3) % rows)}
	slices.Sort(refs)
	return fmt.Sprintf(`{"name":"item-%07d","n":%d,"tags":["set",["tag-blue","tag-green-%d","tag-red"]],`+
		`"refs":["set",[["uuid","%s"],["uuid","%s"],["uuid","%s"]]],`+
		`"ext":["map",[["neutron:id","%s"],["owner","team-%d"],["zone","zone-%d"]]],"enabled":%t}`,
		i, i*37, i%100, refs[0], refs[1], refs[2],
		benchUUID(i + rows)[:8], i%17, i%5, i%3 != 0)
}

// benchInitial is a monitor_cond reply with rows rows.
func benchInitial(rows int) []byte {
	var b strings.Builder
	b.WriteString(`{"Item":{`)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"initial":%s}`, benchUUID(i), benchRowJSON(i, rows))
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

// benchModifies is a stream of update2 params, each modifying one row: a
// new integer, one tag added (removed when applied again), one map value
// replaced.
func benchModifies(n, rows int) [][]byte {
	out := make([][]byte, n)
	for k := range n {
		// Updates come in pairs on the same row, so that the integer
		// alternates between two values and a repeated stream stays valid
		// (ovsdb-server never sends a column that did not change).
		i := k / 2 * 7 % rows
		out[k] = []byte(fmt.Sprintf(`[["monid","Bench"],{"Item":{"%s":{"modify":{"n":%d,"tags":["set",["tag-k%d"]],"ext":["map",[["zone","zone-x%d"]]]}}}}]`,
			benchUUID(i), 1000000+k%2, k%10, k%4))
	}
	return out
}

func benchSchema(b testing.TB) *Schema {
	s, err := NewSchema(parseDBSchema(b, benchSchemaJSON), nil)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

const benchRows = 10000

// BenchmarkApplyInitial parses and applies a 10,000-row monitor_cond reply
// to an empty replica.
func BenchmarkApplyInitial(b *testing.B) {
	s := benchSchema(b)
	data := benchInitial(benchRows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReplica(s)
		u, err := ParseMonitorCondReply(s, data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Apply(u); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkApplyModify parses and applies 1,000 update2 notifications, each
// modifying one row of a 10,000-row replica.
func BenchmarkApplyModify(b *testing.B) {
	s := benchSchema(b)
	r := NewReplica(s)
	u, err := ParseMonitorCondReply(s, benchInitial(benchRows))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.Apply(u); err != nil {
		b.Fatal(err)
	}
	mods := benchModifies(1000, benchRows)
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
	data := benchInitial(benchRows)
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
