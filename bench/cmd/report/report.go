package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/stats"
)

func writeReport(o options, res results) error {
	var b bytes.Buffer
	writeHeader(&b, res.Env)
	if o.sections["sync"] {
		writeSync(&b, o, res.Sync)
	}
	if o.out == "-" {
		_, err := os.Stdout.Write(b.Bytes())
		return err
	}
	logf("wrote %s", o.out)
	return os.WriteFile(o.out, b.Bytes(), 0o644)
}

func writeHeader(w io.Writer, e environment) {
	fmt.Fprintf(w, `# Benchmarks

This file is generated: every figure below comes from one run of

    %s

on %s UTC, commit %s (%s; %s).
Machine: %s, **%d cores shared with other jobs** (load average %s when the run started),
%s of memory, loopback only. Other work was running at the same time: treat absolute times as
noisy, quote the ratios (both sides of each ratio come from the same run, interleaved), and
re-run before comparing with anything.

**Medians**: one convention everywhere: the middle value of the sorted runs, or the mean of
the two middle values for an even count (as benchstat and Python's statistics.median compute
it). Other percentiles (p90) are nearest rank.

`, e.Command, e.Date.Format("2006-01-02 15:04"), e.Commit, e.Go, e.OVS, e.CPU, e.Cores, e.Load, e.MemTotal)
}

// median of f over the runs that pass keep.
func medianOf[T any](xs []T, keep func(T) bool, f func(T) float64) (float64, int) {
	var v []float64
	for _, x := range xs {
		if keep(x) {
			v = append(v, f(x))
		}
	}
	return stats.Median(v), len(v)
}

var syncNames = map[string]string{
	"floor":           "server floor (raw `monitor_cond`, columns named, reply read as bytes)",
	"ovsdbcs":         "ovsdbcs, defaults (`cs.New(\"Lab\", remotes)`)",
	"ovsdbcs-columns": "ovsdbcs, `WithColumns(\"Item\", \"name\", \"n\", \"data\")`",
	"c-monitor":       "C `ovsdb-client -f csv monitor` (OVS)",
	"libovsdb":        "libovsdb v0.7.0 (`MonitorAll`)",
}

func writeSync(w io.Writer, o options, runs []syncRun) {
	fmt.Fprintf(w, `## Initial sync on a real cluster (sync)

A real ovsdb-server cluster of 3 members on loopback (Lab schema: table Item with columns
name, n, data; row i is name "item-%%07d", n i, data "payload-%%024d", loaded 10,000 rows per
transaction; RAFT election timer 10 s so that serving 100,000 rows on 2 busy cores does not
start elections). Every client runs as a **process of its own**, spawned by the report, one
at a time; the order rotates from one repetition to the next. %d repetitions per size.

How the comparison is made equal:

- **sync** = from spawning the process to the replica being complete: for the Go clients,
  the moment the process prints that its replica holds every row (ovsdbcs: checked on each
  Update event; libovsdb: its cache polled every 1 ms); for the C client, the moment it has
  printed the last row of its initial dump (it is then stopped). The floor process prints
  once the last byte of the reply has arrived. Process start-up is inside every figure.
- **the same request**: the floor, the C client and ovsdbcs-columns name the columns
  name, n, data in the monitor request. ovsdbcs with its defaults sends what its defaults
  send (every column of every table: the same request, once the library names the columns
  itself; without "columns" ovsdb-server also sends each row's _version, a larger reply).
  libovsdb monitors what its model names.
- The Go clients and the C client are given all three remotes and follow the leader (the
  C client by default, the Go clients leader-only); the floor talks to the leader directly.
- **peak RSS** is the process's maximum resident set size (getrusage ru_maxrss), the same
  measure for every client; **CPU** is its user + system time.
- **retained B/row** (Go clients): the heap kept with the client alive and synced (after two
  collections) minus the heap before the client was created, divided by the rows.

`, o.reps)
	fmt.Fprintln(w, "| rows | client | sync (median) | vs floor | peak RSS | CPU | retained B/row | runs (ms) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, size := range o.sizes {
		is := func(kind string) func(syncRun) bool {
			return func(r syncRun) bool { return r.Rows == size && r.Client == kind }
		}
		floor, _ := medianOf(runs, is("floor"), func(r syncRun) float64 { return r.WallMs })
		for _, kind := range o.clients {
			wall, n := medianOf(runs, is(kind), func(r syncRun) float64 { return r.WallMs })
			if n == 0 {
				continue
			}
			rss, _ := medianOf(runs, is(kind), func(r syncRun) float64 { return mib(r.PeakRSS) })
			cpu, _ := medianOf(runs, is(kind), func(r syncRun) float64 { return r.CPUMs })
			ret, _ := medianOf(runs, is(kind), func(r syncRun) float64 { return float64(r.Retained) / float64(r.Rows) })
			var all []string
			for _, r := range runs {
				if is(kind)(r) {
					all = append(all, fmt.Sprintf("%.0f", r.WallMs))
				}
			}
			retS := "–"
			if kind != "floor" && kind != "c-monitor" {
				retS = fmt.Sprintf("%.0f", ret)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %.1f MiB | %.0f ms | %s | %s |\n", fmtRows(size), syncNames[kind],
				stats.FmtMs(wall), stats.Ratio(wall, floor), rss, cpu, retS, strings.Join(all, ", "))
		}
	}
	fmt.Fprintln(w)
}

func fmtRows(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
