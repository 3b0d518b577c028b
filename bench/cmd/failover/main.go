// Command failover measures how fast leader-only clients follow a leadership
// change on a real 3-member ovsdb-server cluster (Lab schema, table Item):
// ovsdbcs's cs.Client and libovsdb v0.7.0's client (leader-only, see
// internal/clients), side by side on the same transfers.
//
// Methods (--method):
//
//   - failure-test: `cluster/failure-test transfer-leadership` on the leader
//     (a hand-over; the election takes a few ms);
//   - exit: `ovs-appctl exit` on the leader (graceful, hands over), then a
//     restart;
//   - term, kill: SIGTERM or SIGKILL to the leader (no hand-over: a follower
//     is elected when its election timer expires), then a restart;
//   - stop: SIGSTOP to the leader for --freeze (default 3 s), then SIGCONT:
//     the others elect a leader while it is frozen, and it steps down when
//     it resumes.
//
// For every change the election time is also read from the servers' logs
// (the first "term N: elected leader by ..." or "server X is leader for
// term N" line after t0, to the logs' millisecond), and each client's
// MONITORING time is reported from it too (after_election).
//
// Per transfer k: t0 just before the transfer is issued; once another member
// is leader, mark-k is inserted through the cluster's leader; then each
// client is waited for (up to --timeout) until it is monitoring the new
// leader and its replica (cache) has mark-k.
// recovery = max(t_monitoring_new_leader, t_row) - t0;
// attempts = connection attempts the client started in (t0, done].
//
//	go run ./cmd/failover --transfers 30 --method failure-test --json /tmp/fo.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/clients"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/runctx"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/stats"
	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

type options struct {
	transfers int
	method    string
	gap       time.Duration
	timeout   time.Duration
	clients   []string
	together  bool
	jsonPath  string
	verbose   bool
	csLog     string
	csLogV    int
	freeze    time.Duration
}

// ClientResult is one client's figures for one transfer.
type ClientResult struct {
	Client       string  `json:"client"`
	RecoveryMs   float64 `json:"recovery_ms"` // +Inf on timeout (-1 in the JSON file)
	MonitoringMs float64 `json:"monitoring_new_leader_ms"`
	RowMs        float64 `json:"row_ms"`
	LeftMs       float64 `json:"left_old_leader_ms"`
	Attempts     int     `json:"attempts"`
	MaxPerMember int     `json:"max_attempts_one_member"`
	TimedOut     bool    `json:"timed_out"`
	// AfterElectionMs is MonitoringMs less the election time from the
	// servers' logs (NaN when either is unknown).
	AfterElectionMs float64 `json:"monitoring_after_election_ms"`
	// ovsdbcs only: its own Recovered events after t0.
	OwnAttempts int  `json:"own_attempts,omitempty"`
	Sweeps      int  `json:"sweeps,omitempty"`
	BackoffUsed bool `json:"backoff_used,omitempty"`
}

// TransferResult is one transfer.
type TransferResult struct {
	K         int     `json:"k"`
	Method    string  `json:"method"`
	From      int     `json:"from"`
	To        int     `json:"to"`
	ElectedMs float64 `json:"elected_polled_ms"`
	// ElectedLogMs is the election time from the servers' logs (-1 when
	// no election line was found).
	ElectedLogMs float64        `json:"elected_log_ms"`
	WrittenMs    float64        `json:"written_ms"`
	Clients      []ClientResult `json:"clients"`
	Err          string         `json:"error,omitempty"`
}

// Summary is one client's figures over a run.
type Summary struct {
	Client    string      `json:"client"`
	Method    string      `json:"method"`
	N         int         `json:"n"`
	Timeouts  int         `json:"timeouts"`
	MedianMs  float64     `json:"median_ms"`
	P90Ms     float64     `json:"p90_ms"`
	MaxMs     float64     `json:"max_ms"`
	Attempts  map[int]int `json:"attempts_histogram"`
	PerMember map[int]int `json:"max_attempts_one_member_histogram"`
	BackoffN  int         `json:"backoff_used,omitempty"`
	MonMedian float64     `json:"monitoring_median_ms"`
	// The election from the servers' logs, and MONITORING after it.
	ElectionMedian float64 `json:"election_log_median_ms"`
	AfterElMedian  float64 `json:"monitoring_after_election_median_ms"`
	AfterElMax     float64 `json:"monitoring_after_election_max_ms"`
}

// Output is the JSON file.
type Output struct {
	Started   time.Time        `json:"started"`
	Method    string           `json:"method"`
	Transfers []TransferResult `json:"transfers"`
	Summaries []Summary        `json:"summaries"`
}

func main() {
	var o options
	var clientList string
	flag.IntVar(&o.transfers, "transfers", 30, "leadership transfers per run")
	flag.StringVar(&o.method, "method", "failure-test", "how leadership moves: failure-test, exit, term, kill (SIGKILL, then restart) or stop (SIGSTOP for --freeze, then SIGCONT)")
	flag.DurationVar(&o.freeze, "freeze", 3*time.Second, "with --method stop: how long the leader stays frozen (longer than an election: ~1-2 s by default)")
	flag.DurationVar(&o.gap, "gap", 2*time.Second, "pause between transfers")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-transfer wait for each client before it counts as a timeout")
	flag.StringVar(&clientList, "clients", "ovsdbcs,libovsdb", "clients to measure: ovsdbcs (default: the leader watch), ovsdbcs-ea (the election-aware failover policy), ovsdbcs-ovs (Open vSwitch's exact rule), libovsdb")
	flag.BoolVar(&o.together, "together", true, "all clients on one cluster, watching the same transfers (false: one fresh cluster per client, one after the other)")
	flag.StringVar(&o.jsonPath, "json", "", "write per-transfer results and summaries to this file")
	flag.BoolVar(&o.verbose, "v", false, "print every transfer")
	flag.StringVar(&o.csLog, "cs-log", "", "write the ovsdbcs clients' logs (funcr, with timestamps) to this file")
	flag.IntVar(&o.csLogV, "cs-log-v", 2, "verbosity of --cs-log")
	flag.Parse()
	o.clients = strings.Split(clientList, ",")
	runctx.Main("failover", func(ctx context.Context) error { return run(ctx, o) })
}

func newClient(name string, cfg clients.Config, extra ...clients.OursOption) (clients.Client, error) {
	switch name {
	case "ovsdbcs", "ours":
		return clients.NewOurs(cfg, extra...), nil
	case "ovsdbcs-ovs":
		return clients.NewOurs(cfg, append(extra, clients.OursOVSPolicy())...), nil
	case "ovsdbcs-ea":
		return clients.NewOurs(cfg, append(extra, clients.OursElectionAware())...), nil
	case "libovsdb":
		return clients.NewLibovsdb(cfg), nil
	}
	return nil, fmt.Errorf("unknown client %q", name)
}

func run(ctx context.Context, o options) error {
	if err := ovsdbserver.Available(); err != nil {
		return err
	}
	method := ovsdbserver.TransferMethod(o.method)
	out := Output{Started: time.Now(), Method: o.method}
	groups := [][]string{o.clients}
	if !o.together {
		groups = nil
		for _, c := range o.clients {
			groups = append(groups, []string{c})
		}
	}
	var runErr error
	for _, g := range groups {
		res, err := runGroup(ctx, o, method, g)
		out.Transfers = append(out.Transfers, res...)
		if err != nil {
			runErr = err
			break
		}
	}
	out.Summaries = summarize(out.Transfers, o.clients, o.method)
	printTable(os.Stdout, out.Summaries)
	if o.jsonPath != "" {
		b, err := json.MarshalIndent(jsonSafe(out), "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonPath, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "failover: wrote %s\n", o.jsonPath)
	}
	return runErr
}

func runGroup(ctx context.Context, o options, method ovsdbserver.TransferMethod, names []string) (results []TransferResult, err error) {
	fmt.Fprintf(os.Stderr, "failover: starting a 3-member ovsdb-server cluster for %s\n", strings.Join(names, ","))
	cl, err := ovsdbserver.NewCluster(ctx, 3, ovsdbserver.LabSchema())
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := cl.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	var cs []clients.Client
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	var logFor func(client string) []clients.OursOption
	if o.csLog != "" {
		f, err := os.OpenFile(o.csLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var mu sync.Mutex
		logFor = func(client string) []clients.OursOption {
			return []clients.OursOption{clients.OursLogger(funcr.New(func(prefix, args string) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(f, "%s %s %s %s\n", time.Now().Format("15:04:05.000000"), client, prefix, args)
			}, funcr.Options{Verbosity: o.csLogV}))}
		}
	}
	for _, n := range names {
		var ex []clients.OursOption
		if logFor != nil {
			ex = logFor(n)
		}
		c, err := newClient(n, clients.Config{Remotes: cl.Remotes(), WatchPrefix: "mark-"}, ex...)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
		if err := c.Start(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
	}
	// Wait until every client is monitoring the leader.
	lead, err := cl.WaitLeader(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if err := waitUntil(ctx, 30*time.Second, func() bool {
			up, r := c.Recorder().Current()
			return up && r == cl.Member(lead).Remote()
		}); err != nil {
			up, r := c.Recorder().Current()
			return nil, fmt.Errorf("%s never monitored the leader %s (monitoring=%v remote=%q, %d attempts, %d rows): %w",
				c.Name(), cl.Member(lead).Remote(), up, r, c.Recorder().TotalAttempts(), c.Rows(), err)
		}
	}
	fmt.Fprintf(os.Stderr, "failover: clients monitoring %s; %d transfers (%s), %v apart\n", cl.Remotes(), o.transfers, method, o.gap)

	for k := 1; k <= o.transfers; k++ {
		if err := sleepCtx(ctx, o.gap); err != nil {
			return results, err
		}
		r, err := oneTransfer(ctx, o, cl, method, k, cs)
		results = append(results, r)
		if o.verbose || r.Err != "" {
			printTransfer(r)
		}
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

func oneTransfer(ctx context.Context, o options, cl *ovsdbserver.Cluster, method ovsdbserver.TransferMethod, k int, cs []clients.Client) (TransferResult, error) {
	r := TransferResult{K: k, Method: string(method)}
	old, err := cl.Leader(ctx)
	if err != nil {
		return r, err
	}
	type trOut struct {
		tr  ovsdbserver.Transfer
		err error
	}
	trc := make(chan trOut, 1)
	t0 := time.Now()
	go func() {
		tr, err := moveLeader(ctx, cl, method, o.freeze)
		trc <- trOut{tr, err}
	}()
	newLead, err := cl.WaitLeader(ctx, old)
	if err != nil {
		<-trc
		return r, fmt.Errorf("transfer %d: %w", k, err)
	}
	newRemote := cl.Member(newLead).Remote()
	mark := fmt.Sprintf("mark-%d", k)
	op := fmt.Sprintf(`{"op":"insert","table":"Item","row":{"name":%q,"n":%d}}`, mark, k)
	if _, err := cl.Transact(ctx, op); err != nil {
		// The leader moved under the write (or it failed): write once more.
		fmt.Fprintf(os.Stderr, "failover: transfer %d: write: %v (retrying)\n", k, err)
		if _, err := cl.Transact(ctx, op); err != nil {
			r.Err = "write: " + err.Error()
		}
	}
	r.WrittenMs = stats.Ms(time.Since(t0))

	// Wait for every client (or its timeout).
	deadline := t0.Add(o.timeout)
	done := make([]bool, len(cs))
	r.Clients = make([]ClientResult, len(cs))
	for i, c := range cs {
		r.Clients[i] = ClientResult{Client: c.Name(), RecoveryMs: math.Inf(1), MonitoringMs: math.NaN(), RowMs: math.NaN(), LeftMs: math.NaN(), AfterElectionMs: math.NaN()}
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for remaining := len(cs); remaining > 0; {
		now := time.Now()
		for i, c := range cs {
			if done[i] {
				continue
			}
			rec := c.Recorder()
			tm, okM := rec.UpAfter(t0, newRemote)
			tr, okR := rec.RowTime(mark)
			if okM && okR {
				end := tm
				if tr.After(end) {
					end = tr
				}
				cr := &r.Clients[i]
				cr.RecoveryMs = stats.Ms(end.Sub(t0))
				cr.MonitoringMs = stats.Ms(tm.Sub(t0))
				cr.RowMs = stats.Ms(tr.Sub(t0))
				if tl, ok := rec.DownAfter(t0); ok {
					cr.LeftMs = stats.Ms(tl.Sub(t0))
				}
				cr.Attempts = rec.AttemptsIn(t0, end)
				cr.MaxPerMember = rec.MaxPerAddrIn(t0, end)
				done[i] = true
				remaining--
			}
		}
		if remaining == 0 || now.After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-tick.C:
		}
	}
	for i, c := range cs {
		cr := &r.Clients[i]
		if !done[i] {
			cr.TimedOut = true
			cr.Attempts = c.Recorder().AttemptsIn(t0, time.Now())
			cr.MaxPerMember = c.Recorder().MaxPerAddrIn(t0, time.Now())
		}
		for _, rv := range c.Recorder().RecoveriesAfter(t0) {
			cr.OwnAttempts += rv.Attempts
			cr.Sweeps += rv.Sweeps
			cr.BackoffUsed = cr.BackoffUsed || rv.BackoffUsed
		}
	}
	tro := <-trc
	if tro.err != nil {
		return r, fmt.Errorf("transfer %d: %w", k, tro.err)
	}
	r.From, r.To = tro.tr.From, tro.tr.To
	r.ElectedMs = stats.Ms(tro.tr.Elected.Sub(t0))
	r.ElectedLogMs = math.NaN()
	if e, ok := cl.FirstElection(t0); ok {
		r.ElectedLogMs = stats.Ms(e.T.Sub(t0))
		for i := range r.Clients {
			if cr := &r.Clients[i]; !math.IsNaN(cr.MonitoringMs) {
				cr.AfterElectionMs = cr.MonitoringMs - r.ElectedLogMs
			}
		}
	}
	if tro.tr.To != newLead {
		r.Err = fmt.Sprintf("transfer ended on member %d, clients were waited for on %d", tro.tr.To, newLead)
	}
	return r, nil
}

func summarize(trs []TransferResult, names []string, method string) []Summary {
	var out []Summary
	for _, name := range names {
		if name == "ours" {
			name = "ovsdbcs"
		}
		s := Summary{Client: name, Method: method, Attempts: map[int]int{}, PerMember: map[int]int{}}
		var rec, mon, el, after []float64
		for _, tr := range trs {
			for _, c := range tr.Clients {
				if c.Client != name {
					continue
				}
				s.N++
				if !math.IsNaN(tr.ElectedLogMs) {
					el = append(el, tr.ElectedLogMs)
				}
				if !math.IsNaN(c.AfterElectionMs) {
					after = append(after, c.AfterElectionMs)
				}
				rec = append(rec, c.RecoveryMs)
				if !math.IsNaN(c.MonitoringMs) {
					mon = append(mon, c.MonitoringMs)
				}
				if c.TimedOut {
					s.Timeouts++
				}
				if c.BackoffUsed {
					s.BackoffN++
				}
				s.Attempts[c.Attempts]++
				s.PerMember[c.MaxPerMember]++
			}
		}
		if s.N == 0 {
			continue
		}
		s.MedianMs, s.P90Ms, s.MaxMs = stats.Median(rec), stats.Percentile(rec, 90), stats.Max(rec)
		s.MonMedian = stats.Median(mon)
		s.ElectionMedian, s.AfterElMedian, s.AfterElMax = stats.Median(el), stats.Median(after), stats.Max(after)
		out = append(out, s)
	}
	return out
}

// jsonSafe replaces the +Inf (timeout) and NaN (not reached) figures, which
// JSON cannot carry, by -1.
func jsonSafe(out Output) Output {
	c := func(x *float64) {
		if math.IsNaN(*x) || math.IsInf(*x, 0) {
			*x = -1
		}
	}
	out.Transfers = append([]TransferResult(nil), out.Transfers...)
	for i := range out.Transfers {
		cl := append([]ClientResult(nil), out.Transfers[i].Clients...)
		for j := range cl {
			c(&cl[j].RecoveryMs)
			c(&cl[j].MonitoringMs)
			c(&cl[j].RowMs)
			c(&cl[j].LeftMs)
			c(&cl[j].AfterElectionMs)
		}
		c(&out.Transfers[i].ElectedLogMs)
		out.Transfers[i].Clients = cl
	}
	out.Summaries = append([]Summary(nil), out.Summaries...)
	for i := range out.Summaries {
		c(&out.Summaries[i].MedianMs)
		c(&out.Summaries[i].P90Ms)
		c(&out.Summaries[i].MaxMs)
		c(&out.Summaries[i].MonMedian)
		c(&out.Summaries[i].ElectionMedian)
		c(&out.Summaries[i].AfterElMedian)
		c(&out.Summaries[i].AfterElMax)
	}
	return out
}

func printTable(w io.Writer, ss []Summary) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "client\tmethod\tn\trecovery median\tp90\tmax\ttimeouts\treconnect median\telection (logs) median\tmonitoring after election median\tmax\tattempts (count: transfers)\tmost on one member\tbackoff used")
	for _, s := range ss {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Client, s.Method, s.N,
			stats.FmtMs(s.MedianMs), stats.FmtMs(s.P90Ms), stats.FmtMs(s.MaxMs), s.Timeouts,
			stats.FmtMs(s.MonMedian), stats.FmtMs(s.ElectionMedian), stats.FmtMs(s.AfterElMedian), stats.FmtMs(s.AfterElMax),
			stats.HistogramOf(s.Attempts), stats.HistogramOf(s.PerMember), backoffCol(s))
	}
	// No ratio between clients is printed: with 10-20 leader changes, a
	// peer's median and tail depend on where its backoff stood at each
	// change, and such a ratio moves by several times from one run to the
	// next. The distributions above (and the backoff and timeout counts)
	// are what repeats.
	tw.Flush()
}

func backoffCol(s Summary) string {
	if !strings.HasPrefix(s.Client, "ovsdbcs") {
		return "n/a"
	}
	return fmt.Sprintf("%d of %d", s.BackoffN, s.N)
}

func printTransfer(r TransferResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "k=%d %d->%d elected+%.1fms (logs %s) written+%.1fms", r.K, r.From, r.To, r.ElectedMs, stats.FmtMs(r.ElectedLogMs), r.WrittenMs)
	for _, c := range r.Clients {
		fmt.Fprintf(&b, " | %s %s (mon %s row %s left %s) att=%d (max/member %d)", c.Client, stats.FmtMs(c.RecoveryMs),
			stats.FmtMs(c.MonitoringMs), stats.FmtMs(c.RowMs), stats.FmtMs(c.LeftMs), c.Attempts, c.MaxPerMember)
		if c.Sweeps > 0 {
			fmt.Fprintf(&b, " sweeps=%d", c.Sweeps)
		}
		if c.BackoffUsed {
			b.WriteString(" BACKOFF")
		}
	}
	if r.Err != "" {
		fmt.Fprintf(&b, " ERR %s", r.Err)
	}
	fmt.Fprintln(os.Stderr, b.String())
}

func waitUntil(ctx context.Context, d time.Duration, ok func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for !ok() {
		if err := sleepCtx(ctx, time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
