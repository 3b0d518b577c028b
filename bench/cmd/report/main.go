// Command report runs the project's benchmark comparisons and regenerates
// docs/benchmarks.md from that one run: every figure in the file, the
// machine, the date, the commit and the exact command.
//
//	cd bench && go run ./cmd/report                  # everything, a few minutes on 2 cores
//	cd bench && go run ./cmd/report --sizes 10000,100000 --reps 3 --sections sync --out /tmp/b.md
//
// Sections (--sections): decode (framing, ./jsonrpc), replica (typed
// decode + apply, this module's benchmarks), sync (real cluster: the
// server's floor, ovsdbcs with its defaults, ovsdbcs naming the columns,
// the C ovsdb-client monitor, libovsdb), failover and herd (the programs of
// the same names, run as they are, their tables quoted).
//
// Medians: one convention everywhere, the middle value of the sorted runs
// (the mean of the two middle values for an even count), as benchstat and
// Python's statistics.median compute it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/runctx"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/stats"
)

type options struct {
	sizes         []int
	reps          int
	clients       []string
	sections      map[string]bool
	benchCount    int
	benchTime     string
	timeout       time.Duration
	out           string
	jsonPath      string
	memprofileDir string
	compare       string
	childEnv      []string

	failoverTransfers int
	herdClients       int
	herdChanges       int
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "report: "+format+"\n", args...)
}

func main() {
	var o options
	var sizes, clientList, sections, env string
	flag.StringVar(&sizes, "sizes", "10000,100000", "sync: row counts (loaded cumulatively into one cluster)")
	flag.IntVar(&o.reps, "reps", 15, "sync: repetitions per size and client (the order rotates per rep)")
	flag.StringVar(&clientList, "clients", strings.Join(syncKinds, ","), "sync: clients to run")
	flag.StringVar(&sections, "sections", "decode,replica,sync,failover,herd", "sections to run")
	flag.IntVar(&o.benchCount, "bench-count", 5, "decode, replica: go test runs (each -count 1, the sides paired within a run)")
	flag.StringVar(&o.benchTime, "bench-time", "1s", "decode, replica: go test -benchtime")
	flag.DurationVar(&o.timeout, "timeout", 120*time.Second, "bound on one sync")
	flag.StringVar(&o.out, "out", "../docs/benchmarks.md", "the Markdown file to write (- for stdout)")
	flag.StringVar(&o.jsonPath, "json", "", "also write every run's figures to this JSON file")
	flag.StringVar(&o.compare, "compare", "", "print how this run's ratios differ from those of an earlier run's --json file")
	flag.StringVar(&o.memprofileDir, "memprofile-dir", "", "sync: Go clients write allocation profiles (pprof) here")
	flag.StringVar(&env, "child-env", "", "sync: extra environment for the Go clients, comma-separated (e.g. GOGC=50)")
	flag.IntVar(&o.failoverTransfers, "failover-transfers", 20, "failover: leader transfers (and graceful exits) per run")
	flag.IntVar(&o.herdClients, "herd-clients", 1000, "herd: clients")
	flag.IntVar(&o.herdChanges, "herd-changes", 3, "herd: leader changes")
	flag.Parse()
	var err error
	if o.sizes, err = stats.ParseSizes(sizes); err != nil {
		fmt.Fprintf(os.Stderr, "report: --sizes: %v\n", err)
		os.Exit(2)
	}
	o.clients = strings.Split(clientList, ",")
	o.sections = map[string]bool{}
	for _, s := range strings.Split(sections, ",") {
		o.sections[strings.TrimSpace(s)] = true
	}
	if env != "" {
		o.childEnv = strings.Split(env, ",")
	}
	runctx.Main("report", func(ctx context.Context) error { return run(ctx, o) })
}
