// Command client is the sync client the report spawns for the Go sides of
// the sync comparison: a small program of its own, as a user's would be,
// so that its peak RSS is that of the library and the Go runtime, not of
// the report's own dependencies. The report builds and runs it; it is not
// meant to be run by hand.
//
//	client -kind ovsdbcs|ovsdbcs-columns|floor -remotes R -rows N [-memprofile F]
//
// It prints "SYNCED" the moment the replica holds N rows of Lab Item (the
// floor: the moment the last byte of its raw monitor_cond reply arrived),
// then "RETAINED <bytes>" (heap kept with the client alive and synced,
// after two collections, minus the heap before it was created) and
// "PEAKRSS <bytes>" (VmHWM).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/procmem"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/rawrpc"
	"github.com/ovsdbcs/ovsdbcs/cs"
)

// labColumns are the Lab Item columns.
var labColumns = []string{"name", "n", "data"}

func main() {
	kind := flag.String("kind", "ovsdbcs", "ovsdbcs, ovsdbcs-columns or floor")
	remotes := flag.String("remotes", "", "remotes (the floor: the leader)")
	rows := flag.Int("rows", 0, "rows to wait for")
	memprofile := flag.String("memprofile", "", "write an allocation profile (pprof) here after the sync")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *kind, *remotes, *rows, *memprofile); err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kind, remotes string, rows int, memprofile string) error {
	base := procmem.HeapAfterGC()
	fmt.Printf("BASERSS %d\n", procmem.Status(0, "VmRSS"))
	var keep func() int
	switch kind {
	case "floor":
		_, n, err := rawrpc.MonitorFloor(ctx, remotes, "Lab", "Item", labColumns)
		if err != nil {
			return err
		}
		fmt.Println("SYNCED")
		fmt.Printf("REPLY %d\n", n)
		keep = func() int { return 0 }
	case "ovsdbcs", "ovsdbcs-columns":
		var opts []cs.Option
		if kind == "ovsdbcs-columns" {
			opts = append(opts, cs.WithColumns("Item", labColumns...))
		}
		c, err := cs.New("Lab", remotes, opts...)
		if err != nil {
			return err
		}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.Run(rctx) }()
		defer func() { stop(); <-done }()
		count := func() int {
			if r := c.Replica(); r != nil {
				return r.Len("Item")
			}
			return 0
		}
		// Read events, as a user of the defaults does; the replica is
		// checked on each Update.
		synced := false
		for !synced {
			select {
			case ev, ok := <-c.Events():
				if !ok {
					return fmt.Errorf("client stopped: %w", <-done)
				}
				if _, isUpdate := ev.(cs.Update); isUpdate && count() >= rows {
					synced = true
				}
			case <-ctx.Done():
				return fmt.Errorf("%d of %d rows: %w", count(), rows, ctx.Err())
			}
		}
		fmt.Println("SYNCED")
		// Keep taking events while measuring.
		go func() {
			for range c.Events() {
			}
		}()
		keep = count
	default:
		return fmt.Errorf("unknown kind %q", kind)
	}
	if memprofile != "" {
		f, err := os.Create(memprofile)
		if err != nil {
			return err
		}
		runtime.GC() // the profile is as of the last collection
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
		f.Close()
	}
	retained := int64(procmem.HeapAfterGC()) - int64(base)
	if keep() < 0 { // keeps the client alive until here
		return fmt.Errorf("bad row count")
	}
	fmt.Printf("RETAINED %d\n", retained)
	fmt.Printf("PEAKRSS %d\n", procmem.Status(0, "VmHWM"))
	return nil
}
