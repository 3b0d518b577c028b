package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver"
)

const testServerHelp = `Usage: ovsdb-cs testserver [-n 3] [--schema FILE] [flags]

Runs the in-process fake clustered OVSDB server (package testserver) with n
members, each on its own 127.0.0.1 TCP port, serving one database with the
given schema (default: the embedded Lab schema, database "Lab", table Item).
It prints the remotes on stdout as one comma-separated line, ready to pass
to "ovsdb-cs monitor", and the member list on stderr, then runs until
SIGINT or SIGTERM.

Example:
  ovsdb-cs testserver -n 3 --transfer-every 2s
  ovsdb-cs monitor tcp:127.0.0.1:P1,tcp:127.0.0.1:P2,tcp:127.0.0.1:P3 Lab Item
`

// testServerConfig is the parsed command line of "testserver".
type testServerConfig struct {
	n             int
	schemaFile    string
	electionDelay time.Duration
	transferEvery time.Duration
	seed          uint64
	verbose       verbosity
}

func runTestServer(ctx context.Context, e *env, args []string) error {
	var cfg testServerConfig
	fs := newFlagSet(e, "testserver", testServerHelp)
	fs.IntVar(&cfg.n, "n", 3, "number of cluster `members`")
	fs.StringVar(&cfg.schemaFile, "schema", "", "schema `FILE` (.ovsschema); default the embedded Lab schema")
	fs.DurationVar(&cfg.electionDelay, "election-delay", 0, "`window` with no leader after each leadership change")
	fs.DurationVar(&cfg.transferEvery, "transfer-every", 0, "move the leadership to the next member every `interval` (0: never)")
	fs.Uint64Var(&cfg.seed, "seed", 0, "seed for the UUIDs the cluster makes (0: random)")
	addVerbose(fs, &cfg.verbose)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErrorf("unexpected arguments %q", pos)
	}
	if cfg.n < 1 {
		return usageErrorf("-n must be at least 1, got %d", cfg.n)
	}
	if cfg.electionDelay < 0 || cfg.transferEvery < 0 {
		return usageErrorf("durations must not be negative")
	}

	c, err := startTestServer(e, cfg)
	if err != nil {
		return err
	}
	defer func() {
		e.progressf("stopping the cluster")
		_ = c.Close()
	}()
	fmt.Fprintln(e.stdout, c.Remotes())
	e.progressf("fake cluster of %d serving database %q:", c.Size(), c.Database())
	for i := range c.Size() {
		m := c.Member(i)
		role := "follower"
		if c.Leader() == i {
			role = "leader"
		}
		e.progressf("  member %d  %-22s  sid %s  %s", i, m.Remote(), m.SID(), role)
	}
	e.progressf("running until SIGINT or SIGTERM")

	var tick <-chan time.Time
	if cfg.transferEvery > 0 {
		t := time.NewTicker(cfg.transferEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
			from := c.Leader()
			if err := c.TransferLeadership(testserver.AnyOther); err != nil {
				if errors.Is(err, testserver.ErrClosed) {
					return nil
				}
				e.progressf("transfer leadership: %v", err)
				continue
			}
			e.progressf("leadership moved from member %d to member %d", from, c.Leader())
		}
	}
}

// startTestServer makes the fake cluster of cfg on loopback TCP.
func startTestServer(e *env, cfg testServerConfig) (*testserver.Cluster, error) {
	schema := testserver.LabSchema()
	if cfg.schemaFile != "" {
		var err error
		if schema, err = testserver.LoadSchemaFile(cfg.schemaFile); err != nil {
			return nil, err
		}
	}
	opts := []testserver.Option{
		testserver.WithElectionDelay(cfg.electionDelay),
		testserver.WithLogger(logger(e.stderr, cfg.verbose).WithName("testserver")),
	}
	if cfg.seed != 0 {
		opts = append(opts, testserver.WithSeed(cfg.seed))
	}
	c, err := testserver.NewCluster(cfg.n, schema, opts...)
	if err != nil {
		return nil, fmt.Errorf("start the fake cluster: %w", err)
	}
	return c, nil
}
