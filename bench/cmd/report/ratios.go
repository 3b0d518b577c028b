package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
)

// namedRatio is one ratio the report states.
type namedRatio struct {
	Name  string
	Value float64
}

// keyRatios are the ratios of a run that docs/benchmarks.md states, in
// order: the ones --compare checks against an earlier run.
func keyRatios(o options, res results) []namedRatio {
	var out []namedRatio
	add := func(name string, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && v != 0 {
			out = append(out, namedRatio{name, v})
		}
	}
	for _, size := range o.sizes {
		for _, kind := range o.clients {
			if kind != "floor" {
				add(fmt.Sprintf("sync %s: %s ÷ floor", fmtRows(size), kind), syncMedian(res.Sync, kind, size, vsFloorOf))
			}
		}
		add(fmt.Sprintf("sync %s: ovsdbcs ÷ C client, time", fmtRows(size)),
			syncMedian(res.Sync, "ovsdbcs", size, vsFloorOf)/syncMedian(res.Sync, "c-monitor", size, vsFloorOf))
		add(fmt.Sprintf("sync %s: ovsdbcs ÷ C client, peak RSS", fmtRows(size)),
			syncMedian(res.Sync, "ovsdbcs", size, rssOf)/syncMedian(res.Sync, "c-monitor", size, rssOf))
		add(fmt.Sprintf("sync %s: ovsdbcs (peak − start) ÷ retained", fmtRows(size)), syncMedian(res.Sync, "ovsdbcs", size, growthOf))
	}
	if res.Decode != nil {
		for _, mode := range []string{"stream", "fresh"} {
			p := "BenchmarkDecodeMonitorReply/reader=" + mode + "/decoder="
			add("decode "+mode+": encoding/json ÷ jsonrpc, time", pairedRatio(res.Decode.Results, p+"encoding-json", p+"jsonrpc", "ns/op"))
		}
	}
	if res.Replica != nil {
		for _, b := range []string{"Initial", "Modify"} {
			for _, unit := range []string{"ns/op", "B/op"} {
				add(fmt.Sprintf("replica %s: libovsdb ÷ ovsdbcs, %s", b, unit),
					pairedRatio(res.Replica.Results, "Benchmark"+b+"/impl=libovsdb", "Benchmark"+b+"/impl=ovsdbcs", unit))
			}
		}
		add("replica: libovsdb ÷ ovsdbcs, retained B/row",
			pairedRatio(res.Replica.Results, "BenchmarkRetained/impl=libovsdb", "BenchmarkRetained/impl=ovsdbcs", "retained-B/row"))
	}
	return out
}

// compareRuns prints, for every key ratio of this run also in the earlier
// run's JSON (--json of that run), both values and the change.
func compareRuns(w io.Writer, o options, res results, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var prev results
	if err := json.Unmarshal(b, &prev); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	old := map[string]float64{}
	for _, r := range keyRatios(o, prev) {
		old[r.Name] = r.Value
	}
	fmt.Fprintf(w, "ratios against %s (run of %s):\n", path, prev.Env.Date.Format("2006-01-02 15:04"))
	worst := 0.0
	for _, r := range keyRatios(o, res) {
		p, ok := old[r.Name]
		if !ok {
			continue
		}
		d := r.Value/p - 1
		worst = max(worst, math.Abs(d))
		fmt.Fprintf(w, "  %-48s %8.3f  was %8.3f  %+6.1f%%\n", r.Name, r.Value, p, 100*d)
	}
	fmt.Fprintf(w, "largest change: %.1f%%\n", 100*worst)
	return nil
}
