// Command typed measures, side by side in one process, the typed layer of
// ovsdbcs (package idl over a monitor.Replica) and libovsdb v0.7.0's cache,
// on OVN_Northbound Logical_Switch_Port rows (the generated model; the
// schema's name index and two client indexes, external_ids:owner and
// type, on both sides). Each round runs every measurement on one side, then
// on the other (the order alternates per round), so that a machine whose
// load drifts affects both; the table gives medians over the rounds and the
// median of the per-round ratios. A first warm-up round is not counted.
//
//   - sync: parse a monitor_cond reply of --rows rows and load it into
//     typed form (wall time); retained: HeapAlloc after GC with the view
//     alive minus before, per row (libovsdb's event queue is drained first).
//
//   - get-by-index: look a port up by name and return a copy (per op).
//
//   - owner-index: the ports of one owner (client index, rows/100 ports),
//     copies (per op).
//
//   - list: copy every row (per op and per row).
//
//   - updates: --updates update2 notifications on a view of --update-rows
//     rows, each moving a port to another owner, with one handler that
//     receives every update (old and new); until the last handler call.
//     The stream is applied 9 times per round; the median pass counts.
//
//     go run ./cmd/typed --rows 100000 --rounds 5
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/ovn-org/libovsdb/cache"
	"github.com/ovn-org/libovsdb/model"

	"github.com/ovsdbcs/ovsdbcs/bench"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/stats"
	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
)

type figures map[string][]float64 // measurement -> one value per round

// updatePasses is how many times a round applies the update stream (it
// may be applied again); the round's figure is the median pass.
const updatePasses = 9

func main() {
	rows := flag.Int("rows", 100000, "rows in the synced view")
	updRows := flag.Int("update-rows", 10000, "rows under the update stream")
	updates := flag.Int("updates", 1000, "update2 notifications")
	gets := flag.Int("gets", 20000, "get-by-index lookups per round")
	rounds := flag.Int("rounds", 5, "rounds")
	flag.Parse()
	if err := run(*rows, *updRows, *updates, *gets, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "typed:", err)
		os.Exit(1)
	}
}

func heap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func run(rows, updRows, updates, gets, rounds int) error {
	initial := bench.PortsInitial(rows)
	initialUpd := bench.PortsInitial(updRows)
	stream := bench.PortModifies(updates, updRows)
	ours, theirs := figures{}, figures{}
	for r := range rounds + 1 {
		sides := []func() error{
			func() error { return oursRound(ours, initial, initialUpd, stream, rows, gets) },
			func() error { return theirsRound(theirs, initial, initialUpd, stream, rows, updRows, gets) },
		}
		if r%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			if err := side(); err != nil {
				return err
			}
		}
		if r == 0 { // a warm-up round, not counted
			ours, theirs = figures{}, figures{}
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "measurement (%d rounds, medians)\tovsdbcs idl\tlibovsdb cache\tlibovsdb / ovsdbcs (median of rounds)\t\n", rounds)
	for _, k := range []string{"sync ms", "retained B/row", "get-by-index µs/op", "owner-index µs/op", "list ms/op", "list ns/row", "updates ms", "updates/s"} {
		var ratios []float64
		for i := range ours[k] {
			if k == "updates/s" {
				ratios = append(ratios, ours[k][i]/theirs[k][i])
			} else {
				ratios = append(ratios, theirs[k][i]/ours[k][i])
			}
		}
		fmt.Fprintf(w, "%s\t%.1f\t%.1f\t%.2fx\t\n", k, stats.Median(ours[k]), stats.Median(theirs[k]), stats.Median(ratios))
	}
	return w.Flush()
}

func oursRound(f figures, initial, initialUpd []byte, stream [][]byte, rows, gets int) error {
	o, err := bench.NewTypedOurs()
	if err != nil {
		return err
	}
	before := heap()
	t0 := time.Now()
	if err := o.Sync(initial); err != nil {
		return err
	}
	f["sync ms"] = append(f["sync ms"], stats.Ms(time.Since(t0)))
	f["retained B/row"] = append(f["retained B/row"], float64(int64(heap())-int64(before))/float64(rows))
	ctx := context.Background()
	t0 = time.Now()
	for i := range gets {
		m := &nbdb.LogicalSwitchPort{Name: fmt.Sprintf("port-%07d", i*7919%rows)}
		if err := o.Cache.Get(ctx, m); err != nil {
			return err
		}
	}
	f["get-by-index µs/op"] = append(f["get-by-index µs/op"], float64(time.Since(t0).Microseconds())/float64(gets))
	t0 = time.Now()
	for i := range 100 {
		got, err := idl.Lookup(o.Cache, &nbdb.LogicalSwitchPort{ExternalIDs: map[string]string{"owner": fmt.Sprintf("ctl-%d", i)}})
		if err != nil || len(got) != rows/100 {
			return fmt.Errorf("owner lookup: %d rows, %v", len(got), err)
		}
	}
	f["owner-index µs/op"] = append(f["owner-index µs/op"], float64(time.Since(t0).Microseconds())/100)
	t0 = time.Now()
	var all []*nbdb.LogicalSwitchPort
	if err := o.Cache.List(ctx, &all); err != nil || len(all) != rows {
		return fmt.Errorf("list: %d rows, %v", len(all), err)
	}
	d := time.Since(t0)
	f["list ms/op"] = append(f["list ms/op"], stats.Ms(d))
	f["list ns/row"] = append(f["list ns/row"], float64(d.Nanoseconds())/float64(rows))
	runtime.KeepAlive(o)
	all, o = nil, nil

	u, err := bench.NewTypedOurs()
	if err != nil {
		return err
	}
	if err := u.Sync(initialUpd); err != nil {
		return err
	}
	seen := 0
	u.Cache.AddEventHandler(&idl.EventHandlerFuncs{UpdateFunc: func(_ string, old, new model.Model) {
		if old.(*nbdb.LogicalSwitchPort).Name == new.(*nbdb.LogicalSwitchPort).Name {
			seen++
		}
	}})
	runtime.GC()
	var passes []float64
	for range updatePasses {
		t0 = time.Now()
		for _, p := range stream {
			if err := u.Update(p); err != nil {
				return err
			}
		}
		passes = append(passes, stats.Ms(time.Since(t0)))
	}
	if seen != updatePasses*len(stream) {
		return fmt.Errorf("ours handled %d of %d updates", seen, updatePasses*len(stream))
	}
	ms := stats.Median(passes)
	f["updates ms"] = append(f["updates ms"], ms)
	f["updates/s"] = append(f["updates/s"], float64(len(stream))/ms*1000)
	return nil
}

// runTheirs runs tc's event processor with a handler counting adds and
// updates; stop ends it.
func runTheirs(tc *cache.TableCache) (adds, upds chan struct{}, stop func()) {
	adds = make(chan struct{}, 1<<20)
	upds = make(chan struct{}, 1<<20)
	tc.AddEventHandler(&cache.EventHandlerFuncs{
		AddFunc: func(string, model.Model) { adds <- struct{}{} },
		UpdateFunc: func(_ string, old, new model.Model) {
			if old.(*bench.LSP).Name == new.(*bench.LSP).Name {
				upds <- struct{}{}
			}
		},
	})
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() { tc.Run(quit); close(done) }()
	return adds, upds, func() { close(quit); <-done }
}

func drain(ch chan struct{}, n int) error {
	timeout := time.After(time.Minute)
	for range n {
		select {
		case <-ch:
		case <-timeout:
			return fmt.Errorf("libovsdb's handlers saw fewer than %d events", n)
		}
	}
	return nil
}

func theirsRound(f figures, initial, initialUpd []byte, stream [][]byte, rows, updRows, gets int) error {
	tc, err := bench.NewTypedTheirs()
	if err != nil {
		return err
	}
	adds, _, stop := runTheirs(tc)
	before := heap()
	t0 := time.Now()
	if err := bench.TheirsSync(tc, initial); err != nil {
		stop()
		return err
	}
	f["sync ms"] = append(f["sync ms"], stats.Ms(time.Since(t0)))
	if err := drain(adds, rows); err != nil {
		stop()
		return err
	}
	f["retained B/row"] = append(f["retained B/row"], float64(int64(heap())-int64(before))/float64(rows))
	stop()
	lsps := tc.Table(nbdb.LogicalSwitchPortTable)
	t0 = time.Now()
	for i := range gets {
		_, m, err := lsps.RowByModel(&bench.LSP{Name: fmt.Sprintf("port-%07d", i*7919%rows)})
		if err != nil || m == nil {
			return fmt.Errorf("get: %v", err)
		}
	}
	f["get-by-index µs/op"] = append(f["get-by-index µs/op"], float64(time.Since(t0).Microseconds())/float64(gets))
	t0 = time.Now()
	for i := range 100 {
		got, err := lsps.RowsByModels([]model.Model{&bench.LSP{ExternalIDs: map[string]string{"owner": fmt.Sprintf("ctl-%d", i)}}})
		if err != nil || len(got) != rows/100 {
			return fmt.Errorf("owner lookup: %d rows, %v", len(got), err)
		}
	}
	f["owner-index µs/op"] = append(f["owner-index µs/op"], float64(time.Since(t0).Microseconds())/100)
	t0 = time.Now()
	if all := lsps.Rows(); len(all) != rows {
		return fmt.Errorf("list: %d rows", len(all))
	}
	d := time.Since(t0)
	f["list ms/op"] = append(f["list ms/op"], stats.Ms(d))
	f["list ns/row"] = append(f["list ns/row"], float64(d.Nanoseconds())/float64(rows))
	runtime.KeepAlive(tc)
	tc, lsps = nil, nil

	u, err := bench.NewTypedTheirs()
	if err != nil {
		return err
	}
	adds, upds, stop := runTheirs(u)
	defer stop()
	if err := bench.TheirsSync(u, initialUpd); err != nil {
		return err
	}
	if err := drain(adds, updRows); err != nil {
		return err
	}
	runtime.GC()
	var passes []float64
	for range updatePasses {
		t0 = time.Now()
		for _, p := range stream {
			if err := bench.TheirsUpdate(u, p); err != nil {
				return err
			}
		}
		if err := drain(upds, len(stream)); err != nil {
			return err
		}
		passes = append(passes, stats.Ms(time.Since(t0)))
	}
	ms := stats.Median(passes)
	f["updates ms"] = append(f["updates ms"], ms)
	f["updates/s"] = append(f["updates/s"], float64(len(stream))/ms*1000)
	return nil
}
