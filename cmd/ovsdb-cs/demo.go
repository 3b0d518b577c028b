package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

const demoHelp = `Usage: ovsdb-cs demo [flags]

Shows leader-only failover with nothing installed: starts a 3-member fake
OVSDB cluster in this process (on 127.0.0.1 TCP ports), connects a
leader-only client to it, writes rows from another writer all along, and
moves the cluster leadership --transfers times. It prints a timeline of what
the client did and a summary table: the recovery time of each transfer, the
connection attempts it took, whether a backoff wait was used, and the rows
the client saw versus the rows written. The exit status is 0 when the
client's replica matches the cluster's data and no row was missed or
duplicated, 1 otherwise.

Examples:
  ovsdb-cs demo
  ovsdb-cs demo --transfers=3 --election-delay=200ms
  ovsdb-cs demo --failover=ovs --election-delay=5ms
`

// demoConfig is the parsed command line of "demo".
type demoConfig struct {
	members       int
	transfers     int
	interval      time.Duration
	writeInterval time.Duration
	electionDelay time.Duration
	timeout       time.Duration
	failover      string
	verbose       verbosity
}

func parseDemoArgs(e *env, args []string) (*demoConfig, error) {
	cfg := &demoConfig{}
	fs := newFlagSet(e, "demo", demoHelp)
	fs.IntVar(&cfg.members, "n", 3, "number of cluster `members`")
	fs.IntVar(&cfg.transfers, "transfers", 10, "number of leadership `transfers`")
	fs.DurationVar(&cfg.interval, "interval", 100*time.Millisecond, "`time` between a recovery and the next transfer")
	fs.DurationVar(&cfg.writeInterval, "write-interval", 2*time.Millisecond, "`time` between two row writes")
	fs.DurationVar(&cfg.electionDelay, "election-delay", 0, "`window` with no leader after each transfer")
	fs.DurationVar(&cfg.timeout, "timeout", 8*time.Second, "longest `wait` for the client to recover or catch up")
	fs.StringVar(&cfg.failover, "failover", "watch", "how the client finds the leader: `policy` watch, election-aware, or ovs (try --failover=ovs --election-delay=5ms)")
	addVerbose(fs, &cfg.verbose)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 0 {
		return nil, usageErrorf("unexpected arguments %q", pos)
	}
	if _, err := policyOption(cfg.failover); err != nil {
		return nil, err
	}
	switch {
	case cfg.members < 2:
		return nil, usageErrorf("-n must be at least 2 to transfer leadership")
	case cfg.transfers < 0:
		return nil, usageErrorf("--transfers must not be negative")
	case cfg.interval < 0 || cfg.writeInterval <= 0 || cfg.electionDelay < 0 || cfg.timeout <= 0:
		return nil, usageErrorf("--interval and --election-delay must not be negative, --write-interval and --timeout must be positive")
	}
	return cfg, nil
}

// transferResult is one leadership transfer and the client's recovery.
type transferResult struct {
	from, to  int
	recovered bool
	rec       cs.Recovery
}

// demoWatch follows the client's events for the demo: it prints the
// timeline and counts the rows seen.
type demoWatch struct {
	out     io.Writer
	start   time.Time
	verbose bool

	mu          sync.Mutex
	live        map[monitor.UUID]bool // rows present, by insert/delete events
	seen        map[monitor.UUID]bool // every row ever inserted
	duplicates  int
	clears      int
	recoveries  []cs.Recovery
	changed     chan struct{} // closed and replaced on every recovery and MONITORING
	monitoring  bool
	remoteIndex map[string]int
}

func (w *demoWatch) timeline(format string, args ...any) {
	fmt.Fprintf(w.out, "  %+8.3fs  %s\n", time.Since(w.start).Seconds(), fmt.Sprintf(format, args...))
}

func (w *demoWatch) member(remote string) string {
	if i, ok := w.remoteIndex[remote]; ok {
		return fmt.Sprintf("member %d", i)
	}
	return remote
}

func (w *demoWatch) handle(ev cs.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	notify := false
	switch ev := ev.(type) {
	case cs.StateChange:
		if w.verbose {
			w.timeline("state %s (%s)", ev.To, w.member(ev.Remote))
		}
		if ev.To == cs.Monitoring && !w.monitoring {
			w.monitoring = true
			w.timeline("client MONITORING on %s (the leader)", w.member(ev.Remote))
			notify = true
		}
	case cs.Reconnect:
		switch {
		case errors.Is(ev.Reason, jsonrpc.ErrForcedReconnect):
			w.timeline("client leaves %s (not usable)", w.member(ev.Remote))
		case ev.Reason != nil:
			w.timeline("client leaves %s: %v", w.member(ev.Remote), ev.Reason)
		default:
			w.timeline("client leaves %s", w.member(ev.Remote))
		}
	case cs.Recovered:
		r := ev.Recovery
		w.recoveries = append(w.recoveries, r)
		w.timeline("client MONITORING on %s again after %s (%d attempts, %d sweeps, backoff used: %s); it left %s: %s",
			w.member(r.Remote), fmtMillis(r.Duration), r.Attempts, r.Sweeps, yesNo(r.BackoffUsed), w.member(r.From), r.Reason)
		notify = true
	case cs.Update:
		if ev.Clear {
			w.clears++
			if w.clears > 1 {
				w.timeline("full resync (%d rows changed)", ev.Changes.Len())
			}
		}
		for c := range ev.Changes.All() {
			if c.Table != "Item" {
				continue
			}
			switch c.Op {
			case monitor.ChangeInsert:
				if w.live[c.UUID] {
					w.duplicates++
				}
				w.live[c.UUID] = true
				w.seen[c.UUID] = true
			case monitor.ChangeDelete:
				delete(w.live, c.UUID)
			}
		}
	}
	if notify {
		close(w.changed)
		w.changed = make(chan struct{})
	}
	return nil
}

// waitFor waits until cond (called under the lock) holds, up to timeout.
func (w *demoWatch) waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		ok, ch := cond(), w.changed
		w.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

func runDemo(ctx context.Context, e *env, args []string) error {
	cfg, err := parseDemoArgs(e, args)
	if err != nil {
		return err
	}
	log := logger(e.stderr, cfg.verbose)
	e.progressf("starting a %d-member fake cluster on 127.0.0.1", cfg.members)
	cluster, err := testserver.NewCluster(cfg.members, testserver.LabSchema(),
		testserver.WithElectionDelay(cfg.electionDelay),
		testserver.WithLogger(log.WithName("testserver")))
	if err != nil {
		return fmt.Errorf("start the fake cluster: %w", err)
	}
	defer cluster.Close()

	w := &demoWatch{
		out: e.stdout, start: time.Now(), verbose: cfg.verbose > 0,
		live: map[monitor.UUID]bool{}, seen: map[monitor.UUID]bool{},
		changed: make(chan struct{}), remoteIndex: map[string]int{},
	}
	for i := range cluster.Size() {
		w.remoteIndex[cluster.Member(i).Remote()] = i
	}
	policy, _ := policyOption(cfg.failover)
	client, err := cs.New(cluster.Database(), cluster.Remotes(),
		cs.WithLeaderOnly(true), policy,
		cs.WithLogger(log.WithName("cs")))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Fake cluster: %s (leader: member %d, election delay %v)\nClient: leader-only, %s failover policy\nTimeline:\n",
		cluster.Remotes(), cluster.Leader(), cfg.electionDelay, strings.ToLower(cfg.failover))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	clientDone := make(chan error, 1)
	s := newSession(&common{e: e, leaderOnly: true}, client, w.handle)
	s.quiet = true
	go func() { clientDone <- s.run(ctx, log) }()
	defer func() {
		cancel()
		<-clientDone
	}()

	if !w.waitFor(ctx, cfg.timeout, func() bool { return w.monitoring }) {
		if ctx.Err() != nil {
			e.progressf("interrupted")
			return nil
		}
		return fmt.Errorf("the client did not reach MONITORING within %v (last error: %v)", cfg.timeout, client.LastError())
	}

	// The writer: one row at a time through the leader, all along.
	var (
		wmu     sync.Mutex
		written []monitor.UUID
		wErr    error
	)
	stopWriter := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		t := time.NewTicker(cfg.writeInterval)
		defer t.Stop()
		for i := 0; ; i++ {
			op := fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":"row-%05d","n":%d}}]`, i, i)
			res, err := cluster.Transact(ctx, op)
			if ctx.Err() != nil {
				return // interrupted
			}
			id, perr := insertedUUID(res)
			wmu.Lock()
			if err == nil {
				err = perr
			}
			if err != nil {
				wErr = err
				wmu.Unlock()
				return
			}
			written = append(written, id)
			wmu.Unlock()
			select {
			case <-stopWriter:
				return
			case <-t.C:
			}
		}
	}()

	pause := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(cfg.interval):
			return true
		}
	}
	var results []transferResult
	for i := 1; i <= cfg.transfers && pause(); i++ {
		w.mu.Lock()
		before := len(w.recoveries)
		w.mu.Unlock()
		from := cluster.Leader()
		w.timeline("transfer %d: leadership leaves member %d", i, from)
		if err := cluster.TransferLeadership(testserver.AnyOther); err != nil {
			close(stopWriter)
			<-writerDone
			return fmt.Errorf("transfer %d: %w", i, err)
		}
		tr := transferResult{from: from, to: cluster.Leader()}
		w.timeline("transfer %d: member %d is the leader", i, tr.to)
		tr.recovered = w.waitFor(ctx, cfg.timeout, func() bool { return len(w.recoveries) > before })
		if tr.recovered {
			w.mu.Lock()
			tr.rec = w.recoveries[before]
			w.mu.Unlock()
		} else {
			w.timeline("transfer %d: the client did not recover within %v", i, cfg.timeout)
		}
		results = append(results, tr)
		if !tr.recovered {
			break
		}
	}
	pause()
	close(stopWriter)
	<-writerDone
	if ctx.Err() != nil {
		e.progressf("interrupted")
		return nil
	}

	// Wait for the client to catch up with the cluster.
	var diffs []string
	deadline := time.Now().Add(cfg.timeout)
	for {
		diffs = compareReplica(client.Replica(), cluster.Snapshot())
		if len(diffs) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}

	wmu.Lock()
	defer wmu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	missed := 0
	for _, id := range written {
		if !w.seen[id] {
			missed++
		}
	}
	committed := len(cluster.Snapshot()["Item"])
	ok := printDemoSummary(e.stdout, results, len(written), committed, len(w.seen), missed, w.duplicates, w.clears-1, diffs)
	switch {
	case wErr != nil:
		return fmt.Errorf("writer failed: %w", wErr)
	case !ok:
		return errors.New("demo failed: the client's replica does not match the cluster (see the summary)")
	}
	e.progressf("demo passed")
	return nil
}

// printDemoSummary prints the per-transfer table and the row counts, and
// reports whether everything matched.
func printDemoSummary(out io.Writer, results []transferResult, written, committed, seen, missed, dups, resyncs int, diffs []string) bool {
	fmt.Fprintln(out, "\nSummary:")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "transfer\tleader\trecovery\tattempts\tsweeps\tbackoff used\tnew remote\t")
	ok := true
	var durations []time.Duration
	for i, r := range results {
		if !r.recovered {
			ok = false
			fmt.Fprintf(tw, "%d\t%d -> %d\tnone\t-\t-\t-\t-\t\n", i+1, r.from, r.to)
			continue
		}
		durations = append(durations, r.rec.Duration)
		fmt.Fprintf(tw, "%d\t%d -> %d\t%s\t%d\t%d\t%s\t%s\t\n", i+1, r.from, r.to,
			fmtMillis(r.rec.Duration), r.rec.Attempts, r.rec.Sweeps, yesNo(r.rec.BackoffUsed), r.rec.Remote)
	}
	tw.Flush()
	if len(durations) > 0 {
		slices.Sort(durations)
		fmt.Fprintf(out, "recovery: median %s, max %s over %d transfers\n",
			fmtMillis(durations[len(durations)/2]), fmtMillis(durations[len(durations)-1]), len(durations))
	}
	fmt.Fprintf(out, "rows: written %d (committed %d), seen by the client %d, missed %d, duplicated %d; full resyncs after the first sync: %d\n",
		written, committed, seen, missed, dups, resyncs)
	if missed > 0 || dups > 0 {
		ok = false
	}
	if len(diffs) == 0 {
		fmt.Fprintf(out, "replica matches the cluster: yes (%d rows)\n", committed)
	} else {
		ok = false
		fmt.Fprintf(out, "replica matches the cluster: NO (%d differences)\n", len(diffs))
		for i, d := range diffs {
			if i == 10 {
				fmt.Fprintf(out, "  ... and %d more\n", len(diffs)-i)
				break
			}
			fmt.Fprintf(out, "  %s\n", d)
		}
	}
	return ok
}

// insertedUUID returns the uuid an insert's result names.
func insertedUUID(res []json.RawMessage) (monitor.UUID, error) {
	if len(res) == 0 {
		return monitor.UUID{}, errors.New("insert: no result")
	}
	var r struct {
		UUID [2]string `json:"uuid"`
	}
	if err := json.Unmarshal(res[0], &r); err != nil || r.UUID[0] != "uuid" {
		return monitor.UUID{}, fmt.Errorf("insert: unexpected result %s", res[0])
	}
	return monitor.ParseUUID(r.UUID[1])
}

// compareReplica lists the differences between a replica and a cluster
// snapshot (table -> uuid -> column -> value), for the replica's tables.
func compareReplica(r *monitor.Replica, snap map[string]map[string]map[string]json.RawMessage) []string {
	if r == nil {
		return []string{"no replica (the client never got the schema)"}
	}
	var diffs []string
	r.View(func(tx monitor.ReadTx) {
		for _, ts := range r.Schema().Tables {
			want := snap[ts.Name]
			for id, row := range tx.Rows(ts.Name) {
				cols, ok := want[id.String()]
				if !ok {
					diffs = append(diffs, fmt.Sprintf("%s %s: in the replica, not in the cluster", ts.Name, id))
					continue
				}
				for _, col := range ts.Columns {
					got := row.At(col.Index)
					raw, ok := cols[col.Name]
					if !ok {
						if !got.IsDefault() {
							diffs = append(diffs, fmt.Sprintf("%s %s %s: replica %s, cluster default", ts.Name, id, col.Name, got))
						}
						continue
					}
					w, err := monitor.ParseDatum(&col.Type, raw)
					if err != nil {
						diffs = append(diffs, fmt.Sprintf("%s %s %s: cluster value %s: %v", ts.Name, id, col.Name, raw, err))
					} else if !w.Equal(got) {
						diffs = append(diffs, fmt.Sprintf("%s %s %s: replica %s, cluster %s", ts.Name, id, col.Name, got, raw))
					}
				}
			}
			for id := range want {
				u, err := monitor.ParseUUID(id)
				if err != nil {
					diffs = append(diffs, fmt.Sprintf("%s %s: bad uuid in the cluster snapshot", ts.Name, id))
					continue
				}
				if _, ok := tx.Get(ts.Name, u); !ok {
					diffs = append(diffs, fmt.Sprintf("%s %s: in the cluster, not in the replica", ts.Name, id))
				}
			}
		}
	})
	sort.Strings(diffs)
	return diffs
}

func fmtMillis(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000)
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
