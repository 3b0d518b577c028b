// Command sync measures, side by side in one process, ovsdbcs's cs.Client
// and libovsdb v0.7.0's client (leader-only, see internal/clients) on a real
// 3-member ovsdb-server cluster holding Lab Item rows:
//
//   - initial sync: wall time from creating the client to a replica (cache)
//     holding every row, and the heap it retains per row (HeapAlloc after
//     runtime.GC with the client alive and synced, minus HeapAlloc after
//     runtime.GC before it was created, divided by the rows). The clients run
//     one at a time, interleaved (the order alternates per rep); medians over
//     the reps.
//   - update throughput: both clients connected at once while a writer
//     streams single-row inserts to the leader as fast as it can (one
//     connection, a window of requests in flight); rows/s each client saw,
//     from the first write sent to the last row in its replica.
//
// Rows are loaded in a fixed shape: row i is name
// "item-%07d", n i, data "payload-%024d", 10,000 inserts per transaction.
//
//	go run ./cmd/sync --sizes 10000,100000 --reps 3 --stream 5000 --json /tmp/sync.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/clients"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/rawrpc"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/runctx"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/stats"
	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

type options struct {
	sizes    []int
	reps     int
	clients  []string
	stream   int
	window   int
	batch    int
	timeout  time.Duration
	jsonPath string

	electionTimer time.Duration
	floor         bool
}

// SyncRun is one initial sync.
type SyncRun struct {
	Client       string  `json:"client"`
	Rows         int     `json:"rows"`
	Rep          int     `json:"rep"`
	WallMs       float64 `json:"wall_ms"`
	RowsPerS     float64 `json:"rows_per_s"`
	RetainedB    int64   `json:"retained_bytes"`
	BytesPerRow  float64 `json:"retained_bytes_per_row"`
	AllocatedB   uint64  `json:"allocated_bytes"` // TotalAlloc delta during the sync
	TimedOut     bool    `json:"timed_out,omitempty"`
	RowsReplica  int     `json:"rows_in_replica"`
	StartedAfter float64 `json:"start_returned_ms"` // when Start returned
}

// StreamRun is one throughput run.
type StreamRun struct {
	Rep          int                `json:"rep"`
	Rows         int                `json:"rows"`
	Window       int                `json:"window"`
	Batch        int                `json:"batch"`
	WriterMs     float64            `json:"writer_ms"`
	WriterRowsPS float64            `json:"writer_rows_per_s"`
	Clients      map[string]float64 `json:"client_rows_per_s"`
	LastRowMs    map[string]float64 `json:"client_last_row_ms"`
	Seen         map[string]int     `json:"client_rows_seen"`
}

// Output is the JSON file.
type Output struct {
	Started time.Time   `json:"started"`
	Syncs   []SyncRun   `json:"syncs"`
	Streams []StreamRun `json:"streams"`
}

func main() {
	var o options
	var sizes, names string
	flag.StringVar(&sizes, "sizes", "10000,100000", "row counts to sync (loaded cumulatively into one cluster)")
	flag.IntVar(&o.reps, "reps", 3, "repetitions per size and client (and of the stream)")
	flag.StringVar(&names, "clients", "ovsdbcs,libovsdb", "clients to measure")
	flag.IntVar(&o.stream, "stream", 5000, "single-row inserts in the throughput stream (0: skip)")
	flag.IntVar(&o.window, "window", 64, "writer: transactions in flight")
	flag.IntVar(&o.batch, "batch", 1, "writer: inserts per transaction (1: a stream of single-row inserts)")
	flag.DurationVar(&o.timeout, "timeout", 120*time.Second, "bound on one sync or one stream")
	flag.StringVar(&o.jsonPath, "json", "", "write the results to this file")
	flag.BoolVar(&o.floor, "floor", true, "also time a raw monitor_cond reply read as bytes (no client): the floor any client pays")
	flag.DurationVar(&o.electionTimer, "election-timer", 10*time.Second, "the cluster's RAFT election timer")
	flag.Parse()
	var err error
	if o.sizes, err = stats.ParseSizes(sizes); err != nil {
		fmt.Fprintf(os.Stderr, "sync: --sizes: %v\n", err)
		os.Exit(2)
	}
	o.clients = strings.Split(names, ",")
	runctx.Main("sync", func(ctx context.Context) error { return run(ctx, o) })
}

func newClient(name string, cfg clients.Config) (clients.Client, error) {
	switch name {
	case "ovsdbcs", "ours":
		return clients.NewOurs(cfg), nil
	case "ovsdbcs-ovs":
		return clients.NewOurs(cfg, clients.OursOVSPolicy()), nil
	case "libovsdb":
		return clients.NewLibovsdb(cfg), nil
	}
	return nil, fmt.Errorf("unknown client %q", name)
}

func run(ctx context.Context, o options) (err error) {
	if err := ovsdbserver.Available(); err != nil {
		return err
	}
	out := Output{Started: time.Now()}
	defer func() {
		printSync(os.Stdout, out.Syncs, o.clients)
		printStream(os.Stdout, out.Streams, o.clients)
		if o.jsonPath != "" {
			b, jerr := json.MarshalIndent(out, "", "  ")
			if jerr == nil {
				jerr = os.WriteFile(o.jsonPath, b, 0o644)
			}
			if jerr != nil && err == nil {
				err = jerr
			}
			fmt.Fprintf(os.Stderr, "sync: wrote %s\n", o.jsonPath)
		}
	}()
	fmt.Fprintln(os.Stderr, "sync: starting a 3-member ovsdb-server cluster")
	// A long election timer: loading and serving 100,000 rows keeps a
	// member busy for more than the default 1 s on 2 shared cores, which
	// would start elections in the middle of a measurement.
	cl, err := ovsdbserver.NewCluster(ctx, 3, ovsdbserver.LabSchema(), ovsdbserver.WithElectionTimer(o.electionTimer))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := cl.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	loaded := 0
	for _, size := range o.sizes {
		if size > loaded {
			t := time.Now()
			if err := load(ctx, cl, loaded, size); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "sync: loaded rows %d..%d in %v\n", loaded, size-1, time.Since(t).Round(time.Millisecond))
			loaded = size
		}
		for rep := 1; rep <= o.reps; rep++ {
			order := o.clients
			if rep%2 == 0 {
				order = reversed(order)
			}
			if o.floor {
				order = append([]string{"raw"}, order...)
			}
			for _, name := range order {
				if name == "raw" {
					r, err := floorOnce(ctx, cl, loaded, rep)
					if err != nil {
						return err
					}
					out.Syncs = append(out.Syncs, r)
					continue
				}
				r, err := syncOnce(ctx, o, cl, name, loaded, rep)
				if err != nil {
					return err
				}
				out.Syncs = append(out.Syncs, r)
				fmt.Fprintf(os.Stderr, "sync: %s rows=%d rep=%d wall=%.1fms retained=%.0fB/row\n", name, loaded, rep, r.WallMs, r.BytesPerRow)
			}
		}
	}
	if o.stream > 0 {
		for rep := 1; rep <= o.reps; rep++ {
			r, err := streamOnce(ctx, o, cl, rep, loaded)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "sync: stream rep %d failed: %v\n", rep, err)
				continue
			}
			out.Streams = append(out.Streams, r)
		}
	}
	return nil
}

func reversed(s []string) []string {
	r := make([]string, len(s))
	for i, v := range s {
		r[len(s)-1-i] = v
	}
	return r
}

// load inserts rows [from, to) into Item, 10,000 per transaction.
func load(ctx context.Context, cl *ovsdbserver.Cluster, from, to int) error {
	for lo := from; lo < to; lo += 10000 {
		hi := min(lo+10000, to)
		ops := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			ops = append(ops, json.RawMessage(rowOp("item", i)))
		}
		if _, err := cl.Transact(ctx, ops...); err != nil {
			return fmt.Errorf("load rows %d..%d: %w", lo, hi-1, err)
		}
	}
	return nil
}

func rowOp(prefix string, i int) string {
	return fmt.Sprintf(`{"op":"insert","table":"Item","row":{"name":"%s-%07d","n":%d,"data":"payload-%024d"}}`, prefix, i, i, i)
}

func heap() (alloc, total uint64) {
	runtime.GC()
	debug.FreeOSMemory() // a second full collection, and the heap scavenged
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.TotalAlloc
}

// floorOnce times a raw monitor_cond of the Item table on the leader, read
// as bytes and not parsed: the "raw" row of the table.
func floorOnce(ctx context.Context, cl *ovsdbserver.Cluster, rows, rep int) (SyncRun, error) {
	lead, err := cl.WaitLeader(ctx)
	if err != nil {
		return SyncRun{}, err
	}
	d, n, err := rawrpc.MonitorFloor(ctx, cl.Member(lead).Remote(), cl.DB(), "Item", []string{"name", "n", "data"})
	if err != nil {
		return SyncRun{}, fmt.Errorf("raw monitor_cond: %w", err)
	}
	fmt.Fprintf(os.Stderr, "sync: raw monitor_cond rows=%d rep=%d %.1fms %d bytes\n", rows, rep, stats.Ms(d), n)
	return SyncRun{Client: "raw monitor_cond (floor)", Rows: rows, Rep: rep, WallMs: stats.Ms(d),
		RowsPerS: float64(rows) / d.Seconds(), RowsReplica: rows}, nil
}

func syncOnce(ctx context.Context, o options, cl *ovsdbserver.Cluster, name string, rows, rep int) (SyncRun, error) {
	r := SyncRun{Client: name, Rows: rows, Rep: rep}
	h0, tot0 := heap()
	c, err := newClient(name, clients.Config{Remotes: cl.Remotes()})
	if err != nil {
		return r, err
	}
	defer c.Close()
	r.Client = c.Name()
	t0 := time.Now()
	if err := c.Start(ctx); err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	r.StartedAfter = stats.Ms(time.Since(t0))
	deadline := t0.Add(o.timeout)
	for c.Rows() < rows {
		if time.Now().After(deadline) {
			r.TimedOut = true
			break
		}
		if err := ctx.Err(); err != nil {
			return r, err
		}
		time.Sleep(100 * time.Microsecond)
	}
	wall := time.Since(t0)
	r.WallMs = stats.Ms(wall)
	r.RowsPerS = float64(rows) / wall.Seconds()
	// Let the client finish what the sync set off (libovsdb's cache event
	// queue, ovsdbcs's Update event) before measuring what stays.
	time.Sleep(200 * time.Millisecond)
	h1, tot1 := heap()
	r.RowsReplica = c.Rows() // keeps c (and its replica) alive across heap()
	r.RetainedB = int64(h1) - int64(h0)
	r.BytesPerRow = float64(r.RetainedB) / float64(rows)
	r.AllocatedB = tot1 - tot0
	return r, nil
}

func streamOnce(ctx context.Context, o options, cl *ovsdbserver.Cluster, rep, loaded int) (StreamRun, error) {
	r := StreamRun{Rep: rep, Rows: o.stream, Window: o.window, Batch: max(o.batch, 1), Clients: map[string]float64{},
		LastRowMs: map[string]float64{}, Seen: map[string]int{}}
	prefix := fmt.Sprintf("tp%d", rep)
	var cs []clients.Client
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	for _, name := range o.clients {
		c, err := newClient(name, clients.Config{Remotes: cl.Remotes(), WatchPrefix: prefix + "-"})
		if err != nil {
			return r, err
		}
		cs = append(cs, c)
		if err := c.Start(ctx); err != nil {
			return r, fmt.Errorf("%s: %w", name, err)
		}
	}
	// Wait until every client holds what is there already.
	for _, c := range cs {
		deadline := time.Now().Add(o.timeout)
		for c.Rows() < loaded && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	lead, err := cl.WaitLeader(ctx)
	if err != nil {
		return r, err
	}
	w, err := rawrpc.Dial(ctx, cl.Member(lead).Remote(), cl.DB())
	if err != nil {
		return r, err
	}
	defer w.Close()
	sctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	t0 := time.Now()
	batch := max(o.batch, 1)
	txns := (o.stream + batch - 1) / batch
	err = w.Stream(sctx, txns, o.window, func(t int) []json.RawMessage {
		var ops []json.RawMessage
		for i := t * batch; i < min((t+1)*batch, o.stream); i++ {
			ops = append(ops, json.RawMessage(rowOp(prefix, i)))
		}
		return ops
	})
	wdur := time.Since(t0)
	if err != nil {
		return r, fmt.Errorf("stream: %w", err)
	}
	r.WriterMs = stats.Ms(wdur)
	r.WriterRowsPS = float64(o.stream) / wdur.Seconds()
	deadline := time.Now().Add(o.timeout)
	for _, c := range cs {
		for {
			n, last := c.Recorder().RowCount()
			if n >= o.stream || time.Now().After(deadline) {
				r.Seen[c.Name()] = n
				r.LastRowMs[c.Name()] = stats.Ms(last.Sub(t0))
				if n > 0 {
					r.Clients[c.Name()] = float64(n) / last.Sub(t0).Seconds()
				}
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	fmt.Fprintf(os.Stderr, "sync: stream rep=%d writer %.0f rows/s; %v rows/s; last row at %v ms\n", rep, r.WriterRowsPS, r.Clients, r.LastRowMs)
	return r, nil
}

func printSync(w io.Writer, runs []SyncRun, names []string) {
	if len(runs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "rows\tclient\treps\tsync median\trows/s median\tretained B/row median\tallocated B/row median\truns (ms)")
	type key struct {
		rows   int
		client string
	}
	med := map[key][2]float64{}
	var order []key
	for _, r := range runs {
		k := key{r.Rows, r.Client}
		if _, ok := med[k]; !ok {
			order = append(order, k)
			med[k] = [2]float64{}
		}
	}
	for _, k := range order {
		var wall, rps, bpr, apr []float64
		var ms []string
		for _, r := range runs {
			if r.Rows == k.rows && r.Client == k.client {
				wall = append(wall, r.WallMs)
				rps = append(rps, r.RowsPerS)
				bpr = append(bpr, r.BytesPerRow)
				apr = append(apr, float64(r.AllocatedB)/float64(r.Rows))
				s := fmt.Sprintf("%.0f", r.WallMs)
				if r.TimedOut {
					s += "(timeout)"
				}
				ms = append(ms, s)
			}
		}
		m := [2]float64{stats.Median(rps), stats.Median(bpr)}
		med[k] = m
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%.0f\t%.0f\t%.0f\t%s\n", k.rows, k.client, len(wall),
			stats.FmtMs(stats.Median(wall)), m[0], m[1], stats.Median(apr), strings.Join(ms, " "))
	}
	tw.Flush()
	for _, k := range order {
		if k.client != "ovsdbcs" {
			continue
		}
		peer, ok := med[key{k.rows, "libovsdb"}]
		if !ok {
			continue
		}
		ours := med[k]
		fmt.Fprintf(w, "rows=%d: ovsdbcs/libovsdb rows/s %s (target >= 3x), retained B/row %s (target <= 0.5x)",
			k.rows, stats.Ratio(ours[0], peer[0]), stats.Ratio(ours[1], peer[1]))
		if raw, ok := med[key{k.rows, "raw monitor_cond (floor)"}]; ok && raw[0] > 0 {
			// Time beyond the floor: rows/(rows/s) - rows/(floor rows/s).
			f := float64(k.rows) / raw[0]
			a, b := float64(k.rows)/ours[0]-f, float64(k.rows)/peer[0]-f
			fmt.Fprintf(w, "; time beyond the raw floor: ovsdbcs %.0f ms, libovsdb %.0f ms (%s)", a*1000, b*1000, stats.Ratio(b, a))
		}
		fmt.Fprintln(w)
	}
}

func printStream(w io.Writer, runs []StreamRun, names []string) {
	if len(runs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "stream\tclient\treps\trows/s seen median\tlast row after median\twriter rows/s median")
	var writer []float64
	for _, r := range runs {
		writer = append(writer, r.WriterRowsPS)
	}
	meds := map[string]float64{}
	for _, name := range names {
		if name == "ours" {
			name = "ovsdbcs"
		}
		var rps, last []float64
		for _, r := range runs {
			if v, ok := r.Clients[name]; ok {
				rps = append(rps, v)
				last = append(last, r.LastRowMs[name])
			}
		}
		meds[name] = stats.Median(rps)
		fmt.Fprintf(tw, "%d inserts, %d per txn, window %d\t%s\t%d\t%.0f\t%s\t%.0f\n", runs[0].Rows, runs[0].Batch, runs[0].Window, name, len(rps),
			stats.Median(rps), stats.FmtMs(stats.Median(last)), stats.Median(writer))
	}
	tw.Flush()
	if a, ok := meds["ovsdbcs"]; ok {
		if b, ok := meds["libovsdb"]; ok {
			fmt.Fprintf(w, "stream: ovsdbcs/libovsdb rows/s %s\n", stats.Ratio(a, b))
		}
	}
}
