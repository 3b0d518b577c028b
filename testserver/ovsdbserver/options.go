package ovsdbserver

import (
	"time"

	"github.com/go-logr/logr"
)

// DefaultTimeout bounds every wait of the launcher (start, election, restart,
// exit) when the context passed has no earlier deadline.
const DefaultTimeout = 30 * time.Second

// Option configures NewCluster, NewStandalone and their testing helpers.
type Option func(*config)

type config struct {
	dir           string
	logger        logr.Logger
	timeout       time.Duration
	electionTimer time.Duration
	serverArgs    []string
}

func newConfig(opts []Option) config {
	c := config{logger: logr.Discard(), timeout: DefaultTimeout}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithDir puts the servers' files (databases, logs, pidfiles, control
// sockets) in dir, which must exist and stays in place after Close; only the
// files the launcher created are removed on a retried start. By default a
// new directory under os.TempDir() is used and removed by Close. Keep dir
// short: unix socket paths are limited to about 100 bytes.
func WithDir(dir string) Option { return func(c *config) { c.dir = dir } }

// WithLogger sends the launcher's own log lines (starts, signals, leader
// changes) to l: state changes at V(0), commands at V(1).
func WithLogger(l logr.Logger) Option { return func(c *config) { c.logger = l } }

// WithTimeout bounds each wait of the launcher (default DefaultTimeout) for
// contexts that have no earlier deadline.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithElectionTimer sets the RAFT election timer of a cluster once it has a
// leader (ovs-appctl cluster/change-election-timer), e.g. to make
// TransferTerm and TransferKill elect faster than the default 1 s. Values
// under 100 ms are rejected by ovsdb-server; very small values on a loaded
// machine cause spurious elections.
func WithElectionTimer(d time.Duration) Option {
	return func(c *config) { c.electionTimer = d }
}

// WithServerArgs appends arguments to every ovsdb-server command line, e.g.
// "-vraft:file:dbg" for more detail in the member logs.
func WithServerArgs(args ...string) Option {
	return func(c *config) { c.serverArgs = append(c.serverArgs, args...) }
}
