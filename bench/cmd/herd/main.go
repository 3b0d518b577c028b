// Command herd starts many ovsdbcs clients (cs.Client, leader-only) in one
// process against the in-process fake cluster (testserver, 3 members), moves
// the leadership (--method transfer: a hand-over; crash: the leader's
// connections end and another member is elected after --election-delay),
// and measures how the herd follows: the time until
// every client is MONITORING the new leader again (per client p50/p90/max and
// the last one), and the connection attempts each member received per
// second meanwhile (testserver Member.Counters().Accepted).
//
// By default the members listen on real loopback TCP (2 sockets per
// connection, up to one connection per member and client while the leader
// watch hunts;
// Go raises the soft RLIMIT_NOFILE to the hard limit at start, and the
// program checks it is enough); --inmemory uses the fake's in-memory
// connections through cs.WithDialer(cluster.DialContext) instead.
//
//	go run ./cmd/herd --clients 1000 --json /tmp/herd.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/clients"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/runctx"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/stats"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

type options struct {
	n             int
	inMemory      bool
	electionDelay time.Duration
	changes       int
	rows          int
	timeout       time.Duration
	poll          time.Duration
	jsonPath      string
	ovsPolicy     bool
	policy        string
	method        string
}

// Change is one leader change.
type Change struct {
	K               int       `json:"k"`
	From            int       `json:"from"`
	To              int       `json:"to"`
	TransferMs      float64   `json:"transfer_returned_ms"`
	AllMonitoringMs float64   `json:"all_monitoring_ms"` // -1 when some never came back
	Done            int       `json:"clients_back"`
	P50Ms           float64   `json:"p50_ms"`
	P90Ms           float64   `json:"p90_ms"`
	MaxMs           float64   `json:"max_ms"`
	Accepted        []int     `json:"accepted_per_member"`
	AcceptedPerS    []float64 `json:"accepted_per_member_per_s"`
	WindowMs        float64   `json:"window_ms"`
	Attempts        string    `json:"attempts_per_client_histogram"`
	MostOnOne       string    `json:"most_attempts_one_client_one_member_histogram"`
	BackoffUsed     int       `json:"clients_backoff_used"`
}

// Output is the JSON file.
type Output struct {
	Clients       int      `json:"clients"`
	InMemory      bool     `json:"in_memory"`
	Policy        string   `json:"policy"`
	ElectionDelay string   `json:"election_delay"`
	Method        string   `json:"method"`
	InitialMs     float64  `json:"initial_all_monitoring_ms"`
	InitialAccept []int    `json:"initial_accepted_per_member"`
	Changes       []Change `json:"changes"`
}

func main() {
	var o options
	flag.IntVar(&o.n, "clients", 1000, "number of clients")
	flag.BoolVar(&o.inMemory, "inmemory", false, "in-memory connections (cs.WithDialer(cluster.DialContext)) instead of loopback TCP")
	flag.DurationVar(&o.electionDelay, "election-delay", 0, "the fake cluster's window with no leader after a transfer")
	flag.IntVar(&o.changes, "changes", 1, "leader changes")
	flag.IntVar(&o.rows, "rows", 100, "Item rows in the database")
	flag.DurationVar(&o.timeout, "timeout", 60*time.Second, "bound on each wait for the herd")
	flag.DurationVar(&o.poll, "poll", 2*time.Millisecond, "how often the clients' states are polled")
	flag.StringVar(&o.jsonPath, "json", "", "write the results to this file")
	flag.StringVar(&o.method, "method", "transfer", "how the leader changes: transfer (a hand-over) or crash (the leader's connections end with EOF, it refuses new ones, another member is elected after --election-delay; it is started again afterwards)")
	flag.BoolVar(&o.ovsPolicy, "ovs-policy", false, "clients use Open vSwitch's exact retry rule instead of the default leader watch (the same as --policy ovs)")
	flag.StringVar(&o.policy, "policy", "watch", "the clients' policy: watch (the default leader watch), election-aware or ovs")
	flag.Parse()
	runctx.Main("herd", func(ctx context.Context) error { return run(ctx, o) })
}

func run(ctx context.Context, o options) (err error) {
	if !o.inMemory {
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(6*o.n+256) {
			lim.Cur = min(uint64(3*o.n+256), lim.Max)
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < uint64(6*o.n+64) {
				return fmt.Errorf("RLIMIT_NOFILE %d is too low for %d clients on TCP (use --inmemory): %v", lim.Cur, o.n, err)
			}
		}
	}
	opts := []testserver.Option{testserver.WithElectionDelay(o.electionDelay)}
	if o.inMemory {
		opts = append(opts, testserver.InMemory())
	}
	ts, err := testserver.NewCluster(3, testserver.LabSchema(), opts...)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := ts.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if o.rows > 0 {
		ops := make([]json.RawMessage, o.rows)
		for i := range ops {
			ops[i] = json.RawMessage(fmt.Sprintf(`{"op":"insert","table":"Item","row":{"name":"item-%07d","n":%d,"data":"payload-%024d"}}`, i, i, i))
		}
		if _, err := ts.Transact(ctx, ops); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	if o.ovsPolicy {
		o.policy = "ovs"
	}
	out := Output{Clients: o.n, InMemory: o.inMemory, ElectionDelay: o.electionDelay.String(), Method: o.method, Policy: o.policy}
	defer func() {
		print(out)
		if o.jsonPath != "" {
			if b, jerr := json.MarshalIndent(out, "", "  "); jerr == nil {
				if jerr := os.WriteFile(o.jsonPath, b, 0o644); jerr != nil && err == nil {
					err = jerr
				}
			}
		}
	}()

	var copts []clients.OursOption
	copts = append(copts, clients.OursQuiet())
	switch o.policy {
	case "watch":
	case "ovs":
		copts = append(copts, clients.OursOVSPolicy())
	case "election-aware":
		copts = append(copts, clients.OursElectionAware())
	default:
		return fmt.Errorf("unknown --policy %q", o.policy)
	}
	if o.inMemory {
		copts = append(copts, clients.OursDialer(ts.DialContext))
	}
	herd := make([]*clients.Ours, o.n)
	defer func() {
		// Close in parallel: each Close waits for its client's goroutines.
		done := make(chan struct{}, len(herd))
		for _, c := range herd {
			go func() {
				if c != nil {
					c.Close()
				}
				done <- struct{}{}
			}()
		}
		for range herd {
			<-done
		}
	}()
	ts.ResetCounters()
	t0 := time.Now()
	for i := range herd {
		herd[i] = clients.NewOurs(clients.Config{Remotes: ts.Remotes()}, copts...)
		if err := herd[i].Start(ctx); err != nil {
			return err
		}
	}
	lead := ts.Leader()
	if _, _, err := waitHerd(ctx, o, herd, ts.Member(lead).Remote(), t0); err != nil {
		return fmt.Errorf("initial connect: %w", err)
	}
	out.InitialMs = stats.Ms(time.Since(t0))
	for i := range 3 {
		out.InitialAccept = append(out.InitialAccept, ts.Member(i).Counters().Accepted)
	}
	fmt.Fprintf(os.Stderr, "herd: %d clients monitoring member %d after %.0f ms (accepted per member %v)\n", o.n, lead, out.InitialMs, out.InitialAccept)

	for k := 1; k <= o.changes; k++ {
		time.Sleep(500 * time.Millisecond)
		ch := Change{K: k, From: ts.Leader()}
		before := accepted(ts)
		t0 := time.Now()
		switch o.method {
		case "transfer":
			if err := ts.TransferLeadership(testserver.AnyOther); err != nil {
				return err
			}
		case "crash":
			done, err := ts.Crash(ch.From, testserver.CrashEOF, o.electionDelay)
			if err != nil {
				return err
			}
			<-done
		default:
			return fmt.Errorf("unknown --method %q", o.method)
		}
		ch.TransferMs = stats.Ms(time.Since(t0))
		ch.To = ts.Leader()
		newRemote := ts.Member(ch.To).Remote()
		polled, tAll, werr := waitHerd(ctx, o, herd, newRemote, t0)
		ch.WindowMs = stats.Ms(time.Since(t0))
		after := accepted(ts)
		ch.AllMonitoringMs = -1
		if werr == nil {
			ch.AllMonitoringMs = stats.Ms(tAll.Sub(t0))
		}
		var recs []float64
		var atts, most []int
		for i, c := range herd {
			if polled[i].IsZero() {
				continue
			}
			ch.Done++
			end := polled[i]
			if r, ok := c.LastRecovery(); ok && r.At.After(t0) && !r.At.After(polled[i]) {
				end = r.At // the client's own (exact) time, not the poll's
				if r.BackoffUsed {
					ch.BackoffUsed++
				}
			}
			recs = append(recs, stats.Ms(end.Sub(t0)))
			atts = append(atts, c.Recorder().AttemptsIn(t0, polled[i]))
			most = append(most, c.Recorder().MaxPerAddrIn(t0, polled[i]))
		}
		ch.P50Ms, ch.P90Ms, ch.MaxMs = stats.Median(recs), stats.Percentile(recs, 90), stats.Max(recs)
		ch.Attempts = stats.Histogram(atts)
		ch.MostOnOne = stats.Histogram(most)
		for i := range after {
			d := after[i] - before[i]
			ch.Accepted = append(ch.Accepted, d)
			ch.AcceptedPerS = append(ch.AcceptedPerS, float64(d)/time.Duration(ch.WindowMs*float64(time.Millisecond)).Seconds())
		}
		out.Changes = append(out.Changes, ch)
		if o.method == "crash" {
			if err := ts.Start(ch.From); err != nil {
				return err
			}
		}
		if werr != nil {
			return fmt.Errorf("leader change %d: %d of %d clients back: %w", k, ch.Done, o.n, werr)
		}
	}
	return nil
}

func accepted(ts *testserver.Cluster) []int {
	out := make([]int, ts.Size())
	for i := range out {
		out[i] = ts.Member(i).Counters().Accepted
	}
	return out
}

// waitHerd polls until every client is MONITORING remote, and returns when
// each was first seen so and when the last was.
func waitHerd(ctx context.Context, o options, herd []*clients.Ours, remote string, t0 time.Time) ([]time.Time, time.Time, error) {
	seen := make([]time.Time, len(herd))
	left := len(herd)
	deadline := t0.Add(o.timeout)
	var last time.Time
	for {
		for i, c := range herd {
			if !seen[i].IsZero() {
				continue
			}
			if up, r := c.Status(); up && r == remote {
				seen[i] = time.Now()
				last = seen[i]
				left--
			}
		}
		if left == 0 {
			return seen, last, nil
		}
		if time.Now().After(deadline) {
			return seen, last, fmt.Errorf("%d clients not monitoring %s after %v", left, remote, o.timeout)
		}
		select {
		case <-ctx.Done():
			return seen, last, ctx.Err()
		case <-time.After(o.poll):
		}
	}
}

func print(out Output) {
	mode := "loopback TCP"
	if out.InMemory {
		mode = "in-memory"
	}
	fmt.Printf("herd: %d ovsdbcs clients (%s policy), fake 3-member cluster (%s), election delay %s; initial connect of all: %.0f ms\n",
		out.Clients, out.Policy, mode, out.ElectionDelay, out.InitialMs)
	tw := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "change\tleader\tall monitoring after\tper client p50\tp90\tmax\tattempts per client (n: clients)\tmost on one member\tbackoff used\taccepted per member\tper member per s")
	for _, c := range out.Changes {
		fmt.Fprintf(tw, "%d\t%d->%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%v\t%s\n", c.K, c.From, c.To, stats.FmtMs(c.AllMonitoringMs),
			stats.FmtMs(c.P50Ms), stats.FmtMs(c.P90Ms), stats.FmtMs(c.MaxMs), c.Attempts, c.MostOnOne, c.BackoffUsed, c.Accepted, fmtRates(c.AcceptedPerS))
	}
	tw.Flush()
}

func fmtRates(xs []float64) string {
	s := "["
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.0f", x)
	}
	return s + "]"
}
