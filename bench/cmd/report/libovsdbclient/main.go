// Command libovsdbclient is the libovsdb side of the report's sync
// comparison, a program of its own (see ../client, whose output it
// shares): libovsdb v0.7.0 configured as bench/internal/clients does
// (leader-only, MonitorAll), its cache polled every 1 ms.
//
//	libovsdbclient -remotes R -rows N
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/clients"
)

func main() {
	remotes := flag.String("remotes", "", "remotes")
	rows := flag.Int("rows", 0, "rows to wait for")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *remotes, *rows); err != nil {
		fmt.Fprintf(os.Stderr, "libovsdbclient: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, remotes string, rows int) error {
	base := heapAfterGC()
	c := clients.NewLibovsdb(clients.Config{Remotes: remotes})
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return err
	}
	for c.Rows() < rows {
		if ctx.Err() != nil {
			return fmt.Errorf("%d of %d rows: %w", c.Rows(), rows, ctx.Err())
		}
		time.Sleep(time.Millisecond) // as the lab's go-peer polled
	}
	fmt.Println("SYNCED")
	// Let the cache's event queue drain before measuring what stays.
	time.Sleep(100 * time.Millisecond)
	retained := int64(heapAfterGC()) - int64(base)
	if c.Rows() < 0 { // keeps the client alive until here
		return fmt.Errorf("bad row count")
	}
	fmt.Printf("RETAINED %d\n", retained)
	fmt.Printf("PEAKRSS %d\n", peakRSS())
	return nil
}

func heapAfterGC() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// peakRSS returns this process's peak resident set size (VmHWM) in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if f := strings.Fields(v); len(f) == 2 && f[1] == "kB" {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}
