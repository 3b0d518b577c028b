// Package runctx gives the benchmark programs a context that ends on
// SIGINT or SIGTERM, so that their deferred cleanup (stopping every
// ovsdb-server they started) runs on every path.
package runctx

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main runs run with a context cancelled by the first SIGINT/SIGTERM and
// exits with status 1 if it fails. A second SIGTERM is left to the default
// handler (a second SIGINT too, unless SIGINT was ignored when the program
// started, as under nohup or `&` in a script); the launcher's servers die
// with this process anyway: they are its children with a parent-death
// signal.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process
	}()
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
