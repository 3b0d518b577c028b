package main

import (
	"math"
	"testing"
)

func TestParseBench(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkInitial/impl=ovsdbcs-2   	     100	  10600000 ns/op	  947000 rows/s	 5300000 B/op	   10061 allocs/op
BenchmarkInitial/impl=ovsdbcs-2   	     100	  10800000 ns/op	  927000 rows/s	 5300000 B/op	   10061 allocs/op
BenchmarkRetained/impl=libovsdb-2 	       1	 1000 ns/op	       941.6 retained-B/row
PASS
`)
	r := parseBench(out)
	if got := r["BenchmarkInitial/impl=ovsdbcs"]["ns/op"]; len(got) != 2 || got[1] != 10800000 {
		t.Errorf("ns/op = %v", got)
	}
	if got := med(r, "BenchmarkInitial/impl=ovsdbcs", "ns/op"); got != 10700000 {
		t.Errorf("median = %v", got)
	}
	if got := med(r, "BenchmarkRetained/impl=libovsdb", "retained-B/row"); got != 941.6 {
		t.Errorf("retained = %v", got)
	}
	if !math.IsNaN(med(r, "BenchmarkNone", "ns/op")) {
		t.Error("a missing benchmark is not NaN")
	}
}

func TestBracketedRatios(t *testing.T) {
	runs := []syncRun{
		{Client: "ovsdbcs", Rows: 10, VsFloor: 1.2},
		{Client: "ovsdbcs", Rows: 10, VsFloor: 1.0},
		{Client: "ovsdbcs", Rows: 10, VsFloor: 1.1},
		{Client: "c-monitor", Rows: 10, VsFloor: 2.2},
	}
	o := options{sizes: []int{10}, clients: []string{"floor", "ovsdbcs", "c-monitor"}}
	got := map[string]float64{}
	for _, r := range keyRatios(o, results{Sync: runs}) {
		got[r.Name] = r.Value
	}
	if v := got["sync 10: ovsdbcs ÷ floor"]; v != 1.1 {
		t.Errorf("ovsdbcs ÷ floor = %v", v)
	}
	if v := got["sync 10: ovsdbcs ÷ C client, time"]; v != 0.5 {
		t.Errorf("ovsdbcs ÷ C = %v", v)
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{10600000, "ns/op", "10.60 ms"},
		{2.5e9, "ns/op", "2.50 s"},
		{5300000, "B/op", "5.05 MiB"},
		{3020224, "allocs/op", "3,020,224"},
		{math.NaN(), "ns/op", "–"},
	} {
		if got := fmtUnit(tc.v, tc.unit); got != tc.want {
			t.Errorf("fmtUnit(%v, %s) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
	if got := rotate([]string{"a", "b", "c"}, 4); got[0] != "b" || got[2] != "a" {
		t.Errorf("rotate = %v", got)
	}
	if ratioText(3, 0) != "–" || ratioText(3, 2) != "1.50×" {
		t.Error("ratioText")
	}
}
