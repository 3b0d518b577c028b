package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/stats"
)

func writeReport(o options, res results) error {
	var b bytes.Buffer
	writeHeader(&b, res.Env)
	if rs := keyRatios(o, res); len(rs) > 0 {
		fmt.Fprintln(&b, "## Ratios at a glance")
		fmt.Fprintln(&b)
		fmt.Fprintln(&b, "Each is explained, with the figures behind it, in its section below. `--compare FILE` (the")
		fmt.Fprintln(&b, "`--json` of an earlier run) prints how much each moved between two runs.")
		fmt.Fprintln(&b)
		fmt.Fprintln(&b, "| ratio | this run |")
		fmt.Fprintln(&b, "|---|---|")
		for _, r := range rs {
			fmt.Fprintf(&b, "| %s | %.2f× |\n", r.Name, r.Value)
		}
		fmt.Fprintln(&b)
	}
	if res.Sync != nil {
		writeSync(&b, o, res.Sync)
	}
	if res.Decode != nil {
		writeDecode(&b, *res.Decode)
	}
	if res.Replica != nil {
		writeReplica(&b, *res.Replica)
	}
	if res.Failover != nil {
		writeFailover(&b, res.Failover)
	}
	if res.Herd != nil {
		writeHerd(&b, *res.Herd)
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
Machine: %s, **%d cores**, possibly shared with other jobs (load average %s when the run
started), %s of memory, loopback only. Absolute times vary from one run to the next (the
server's own time to build a 100,000-row reply varies by ±10%%: see the floor runs): quote the
ratios (both sides of each ratio come from the same run, interleaved), and re-run before
comparing with anything.

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
at a time; the order rotates from one repetition to the next. Repetitions per size and
client: %d. After each load the cluster rests 2 s and one floor run (not counted) warms it.
**Paired with the floor**: in every repetition each client runs between two floor runs, and
its ratio to the floor is its time divided by the mean of those two; the table gives the
median of these ratios. On a machine whose load changes from one second to the next (other
jobs), this cancels most of the change, which the medians of the raw times do not.

How the comparison is made equal:

- **sync** = from spawning the process to the replica being complete: for the Go clients,
  the moment the process prints that its replica holds every row (ovsdbcs: checked on each
  Update event; libovsdb: its cache polled every 1 ms); for the C client, the moment it has
  printed the last row of its initial dump (it is then stopped). The floor process prints
  once the last byte of the reply has arrived. Process start-up is inside every figure.
- **the same request**: every client names the columns name, n, data in its monitor
  request, as the floor does. ovsdbcs does so with its defaults (it names every column of
  every monitored table once it knows the schema) and with `+"`WithColumns`"+`; the C client is
  given them on its command line; libovsdb's `+"`MonitorAll`"+` names every column of the table's
  schema (newMonitorRequest in its client/client.go). Without "columns", ovsdb-server would
  also send each row's _version, a reply about half as large again.
- The Go clients and the C client are given all three remotes and follow the leader (the
  C client by default, the Go clients leader-only); the floor talks to the leader directly.
- **peak RSS** is the process's peak resident set size (VmHWM in /proc/PID/status, read by
  the Go clients themselves after the sync and by the report for the C client just before it
  is stopped), the same measure for every client (getrusage's ru_maxrss is not used: a child
  process inherits its parent's high-water mark across fork and exec). **CPU** is the
  process's user + system time (getrusage), including its start-up and, for the C client, the
  printing of every row.
- **retained B/row** (Go clients): the heap kept with the client alive and synced (after two
  collections) minus the heap before the client was created, divided by the rows.

`, o.reps)
	fmt.Fprintln(w, "| rows | client | sync (median) | ÷ floor (paired, median) | peak RSS | CPU | retained B/row | runs (ms) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, size := range o.sizes {
		is := func(kind string) func(syncRun) bool {
			return func(r syncRun) bool { return r.Rows == size && r.Client == kind }
		}
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
			vs := "1 (itself)"
			if kind != "floor" {
				vs = ratioText(syncMedian(runs, kind, size, vsFloorOf), 1)
			}
			retS := "–"
			if kind != "floor" && kind != "c-monitor" {
				retS = fmt.Sprintf("%.0f", ret)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %.1f MiB | %.0f ms | %s | %s |\n", fmtRows(size), syncNames[kind],
				stats.FmtMs(wall), vs, rss, cpu, retS, strings.Join(all, ", "))
		}
	}
	fmt.Fprintln(w)
	writeSyncTargets(w, o, runs)
	writeMemory(w, o, runs)
}

// syncMedian is the median of f over the runs of one client and size.
func syncMedian(runs []syncRun, kind string, rows int, f func(syncRun) float64) float64 {
	v, _ := medianOf(runs, func(r syncRun) bool { return r.Rows == rows && r.Client == kind }, f)
	return v
}

func vsFloorOf(r syncRun) float64 { return r.VsFloor }
func rssOf(r syncRun) float64     { return mib(r.PeakRSS) }

// growthOf is a run's peak RSS above its start, per retained byte (NaN
// without the figures).
func growthOf(r syncRun) float64 {
	if r.Retained <= 0 || r.BaseRSS <= 0 {
		return math.NaN()
	}
	return float64(r.PeakRSS-r.BaseRSS) / float64(r.Retained)
}

func check(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// writeSyncTargets states the sync targets against this run's medians.
func writeSyncTargets(w io.Writer, o options, runs []syncRun) {
	fmt.Fprintln(w, "Targets, from this run's medians (ovsdbcs with its defaults):")
	fmt.Fprintln(w)
	for _, size := range o.sizes {
		ours := syncMedian(runs, "ovsdbcs", size, vsFloorOf)
		cols := syncMedian(runs, "ovsdbcs-columns", size, vsFloorOf)
		c := syncMedian(runs, "c-monitor", size, vsFloorOf)
		limit := 1.1
		if size >= 100000 {
			limit = 1.05
		}
		fmt.Fprintf(w, "- %s rows: sync %s of the floor (target ≤ %.2f×: %s; naming the columns: %s)",
			fmtRows(size), ratioText(ours, 1), limit, check(ours <= limit), ratioText(cols, 1))
		if !math.IsNaN(c) {
			oursRSS, cRSS := syncMedian(runs, "ovsdbcs", size, rssOf), syncMedian(runs, "c-monitor", size, rssOf)
			if size >= 100000 {
				fmt.Fprintf(w, "; against the C client: time %s (target < 1×: %s), peak RSS %s (target ≤ 0.5×: %s)",
					ratioText(ours, c), check(ours < c), ratioText(oursRSS, cRSS), check(oursRSS <= cRSS/2))
			} else {
				fmt.Fprintf(w, "; against the C client: time %s, peak RSS %s (no target at this size)",
					ratioText(ours, c), ratioText(oursRSS, cRSS))
			}
		}
		fmt.Fprintln(w, ".")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "(Time ratios between two clients are ratios of their paired floor ratios.)")
	fmt.Fprintln(w)
}

// writeMemory is the memory profile of the largest sync.
func writeMemory(w io.Writer, o options, runs []syncRun) {
	size := o.sizes[len(o.sizes)-1]
	fmt.Fprintf(w, `### Memory of the %s-row sync

Peak RSS is the process's VmHWM; "at start" its RSS before the client was created (the Go
runtime and the program); retained is the heap kept with the client synced (as above).
Medians of the runs; the growth of each run is listed after the table.

How ovsdbcs keeps the peak near the replica: the reply's result is parsed while it arrives,
64 KiB at a time (jsonrpc hands the bytes to monitor.ReplyDecoder and drops them), each row
straight into the table's new map; the replica takes that map as it is; and the update's
Changes reads the inserted rows from it instead of listing them. What is left above the
replica is the map's growth (a Go map copies its tables as it grows), the collector's slack
between two cycles, and the code and runtime state the sync touches.

| client | retained | retained B/row | peak RSS | RSS at start | (peak − start) ÷ retained | peak RSS ÷ C client's |
|---|---|---|---|---|---|---|
`, fmtRows(size))
	cRSS := syncMedian(runs, "c-monitor", size, rssOf)
	for _, kind := range []string{"ovsdbcs", "ovsdbcs-columns", "libovsdb"} {
		ret := syncMedian(runs, kind, size, func(r syncRun) float64 { return mib(r.Retained) })
		if math.IsNaN(ret) {
			continue
		}
		peak := syncMedian(runs, kind, size, rssOf)
		start := syncMedian(runs, kind, size, func(r syncRun) float64 { return mib(r.BaseRSS) })
		startS, grow := "–", "–"
		if start > 0 {
			startS, grow = fmt.Sprintf("%.1f MiB", start), ratioText(peak-start, ret)
		}
		fmt.Fprintf(w, "| %s | %.1f MiB | %.0f | %.1f MiB | %s | %s | %s |\n", syncNames[kind], ret, ret*(1<<20)/float64(size),
			peak, startS, grow, ratioText(peak, cRSS))
	}
	fmt.Fprintln(w)
	for _, kind := range []string{"ovsdbcs", "ovsdbcs-columns"} {
		var each []string
		for _, r := range runs {
			if r.Client == kind && r.Rows == size && r.Retained > 0 && r.BaseRSS > 0 {
				each = append(each, ratioText(mib(r.PeakRSS)-mib(r.BaseRSS), mib(r.Retained)))
			}
		}
		if len(each) > 0 {
			g := syncMedian(runs, kind, size, growthOf)
			fmt.Fprintf(w, "- %s: (peak − start) ÷ retained %s (target ≤ 1.3×: %s); each run: %s.\n",
				syncNames[kind], ratioText(g, 1), check(g <= 1.3), strings.Join(each, ", "))
		}
	}
	fmt.Fprintln(w)
	for _, kind := range []string{"ovsdbcs", "ovsdbcs-columns"} {
		prof := filepath.Join(o.memprofileDir, fmt.Sprintf("%s-%d.pprof", kind, size))
		out, err := exec.Command("go", "tool", "pprof", "-sample_index=alloc_space", "-top", "-nodecount=6", prof).Output()
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "Biggest allocation sites of %s (bytes allocated during the sync and the measurement after it, `go tool pprof -sample_index=alloc_space -top`, last run):\n\n```\n", syncNames[kind])
		keep := false
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			if strings.HasPrefix(line, "Showing nodes") {
				fmt.Fprintln(w, line)
			}
			if strings.Contains(line, "flat%") {
				keep = true
			}
			if keep {
				if i := strings.Index(line, "[go.shape"); i >= 0 {
					line = line[:i] + "[...]"
				}
				fmt.Fprintln(w, line)
			}
		}
		fmt.Fprint(w, "```\n\n")
	}
}

func fmtRows(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func writeFailover(w io.Writer, ps []programSection) {
	fmt.Fprintf(w, `## Leader-change recovery on a real cluster (failover)

A real ovsdb-server cluster of 3 members on loopback (Lab schema). Every client is connected to
all three remotes, leader-only, and watches **the same** leader changes on one cluster (equal
conditions). For change k: t0 just before the change is issued (failure-test:
`+"`cluster/failure-test transfer-leadership`"+` on the leader's control socket; exit: the leader
exits gracefully through `+"`ovs-appctl exit`"+` and is restarted as a follower); then row mark-k is
written through the new leader. **recovery = max(the client MONITORING on the new leader, mark-k
in its replica) − t0**, the same definition for every client; attempts = connections the client
started in (t0, done]. kill: SIGKILL to the leader, then a restart; stop: SIGSTOP for 3 s, then
SIGCONT; the election time is read from the servers' logs. ovsdbcs is the default (the leader
watch), ovsdbcs-ea the election-aware failover policy, ovsdbcs-ovs Open vSwitch's
exact rule (`+"`failover.Config{Mode: failover.OVS}`"+`), libovsdb v0.7.0 is configured as its users
do for a cluster (`+"`WithLeaderOnly(true)`"+`, `+"`WithReconnect(60s, exponential backoff)`"+`). Its
monitoring status is polled every 1 ms, so it may be up to 1 ms late. Percentiles are nearest
rank, medians as above; a client not done within 30 s counts as a timeout (+Inf). The output
of the program is quoted as it printed it.

No ratio between clients is stated here, on purpose. With 10 to 20 leader changes a run, a
peer's median and tail depend on where its backoff stood at each change (OVS's rule waits
1 s, 2 s or 4 s, or nothing when the sweep happens to land on the new leader), so a ratio of
two medians, let alone of two p90s, moves several-fold from one run to the next. What repeats
is the shape: ovsdbcs needs no backoff and no timeout in any change, and recovers within a few
milliseconds of the election (the "monitoring after election" column); compare the columns,
not a quotient.

`)
	for _, p := range ps {
		writeProgram(w, p)
	}
}

func writeHerd(w io.Writer, p programSection) {
	fmt.Fprintf(w, `## A herd of clients and one leader change (herd)

ovsdbcs clients in one process against the in-process fake cluster (3 members, real loopback
TCP), one leader change at a time: the time until every client is MONITORING the new leader,
per-client percentiles, attempts and the connections each member accepted. The herd program
runs ovsdbcs only, so there is no ratio here. The output of the program is quoted as it printed it.

`)
	writeProgram(w, p)
}
