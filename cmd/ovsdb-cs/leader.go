package main

import (
	"context"
	"errors"
	"slices"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/cs"
)

// withLeader runs a client of t's database that monitors no rows (one
// table, with a condition no row matches), waits until it is monitoring
// the leader (any member with --no-leader-only), and calls fn with it.
// fn is called again, after the client is monitoring again, as long as it
// returns an error matching errRetry.
func (c *common) withLeader(ctx context.Context, t *target, fn func(ctx context.Context, client *cs.Client) error) error {
	var tables []string
	for name := range t.schema.Tables {
		tables = append(tables, name)
	}
	slices.Sort(tables)
	log := logger(c.e.stderr, c.verbose).WithName("cs")
	opts := c.clientOptions(log)
	if len(tables) > 0 {
		opts = append(opts, cs.WithTables(tables[0]), cs.WithCondition(tables[0], []ovsdb.Condition{}))
	}
	client, err := cs.New(t.database, t.remotes, opts...)
	if err != nil {
		return err
	}
	s := newSession(c, client, nil)
	s.verb = "using"
	// The client outlives ctx until fn has returned: a transaction in
	// flight when ctx ends (--timeout, an interrupt) then gets its own
	// outcome (it may have committed) rather than the client's end.
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- s.run(runCtx, log) }()
	defer func() {
		stop()
		<-done
	}()
	for {
		if err := s.waitMonitoring(ctx); err != nil {
			return err
		}
		err := fn(ctx, client)
		if !errors.Is(err, errRetry) {
			return err
		}
		c.e.progressf("%v", err)
	}
}

// errRetry marks an error after which withLeader calls its function again.
var errRetry = errors.New("retrying")

// isMaybeCommitted reports whether a transaction failed without telling
// whether it committed: the connection was lost while it was in flight, or
// the server answered "canceled" (a leadership change can cancel a
// transaction that was already replicated and later commits).
func isMaybeCommitted(err error) bool {
	return errors.Is(err, cs.ErrMaybeCommitted)
}
