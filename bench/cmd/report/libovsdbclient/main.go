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
	"time"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/clients"
	"github.com/ovsdbcs/ovsdbcs/bench/internal/procmem"
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
	base := procmem.HeapAfterGC()
	fmt.Printf("BASERSS %d\n", procmem.Status(0, "VmRSS"))
	c := clients.NewLibovsdb(clients.Config{Remotes: remotes})
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return err
	}
	for c.Rows() < rows {
		if ctx.Err() != nil {
			return fmt.Errorf("%d of %d rows: %w", c.Rows(), rows, ctx.Err())
		}
		time.Sleep(time.Millisecond) // as internal/clients polls it
	}
	fmt.Println("SYNCED")
	// Let the cache's event queue drain before measuring what stays.
	time.Sleep(100 * time.Millisecond)
	retained := int64(procmem.HeapAfterGC()) - int64(base)
	if c.Rows() < 0 { // keeps the client alive until here
		return fmt.Errorf("bad row count")
	}
	fmt.Printf("RETAINED %d\n", retained)
	fmt.Printf("PEAKRSS %d\n", procmem.Status(0, "VmHWM"))
	return nil
}
