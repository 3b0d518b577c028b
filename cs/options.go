package cs

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/reconnect"
)

// Option configures a Client (see New).
type Option func(*config)

type config struct {
	leaderOnly    bool
	shuffle       bool
	probe         time.Duration
	maxBackoff    time.Duration
	tls           *tls.Config
	log           logr.Logger
	selection     map[string][]string
	conditions    map[string][]ovsdb.Condition
	condOrder     []string
	lock          string
	dbChangeAware bool
	resyncOrder   bool
	maxVersion    int
	dial          func(ctx context.Context, network, address string) (net.Conn, error)
	eventBuffer   int
	events        bool
	failover      failover.Config
	// requestTimeout bounds the wait for the reply to each bootstrap
	// request and lock request (<= 0: no bound).
	requestTimeout time.Duration
	// Send backlog limits, as jsonrpc.ConnConfig's MaxBacklogMessages and
	// MaxBacklogBytes: 0 the default, negative no limit.
	backlogMessages, backlogBytes int
	// recvQueueBytes is jsonrpc.ConnConfig's MaxQueuedBytes (0: the
	// default); only tests set it, to fill the receive queue quickly.
	recvQueueBytes int
	// failoverSet: WithFailoverPolicy chose a failover policy instead of
	// the leader watch, tuned by watch.
	failoverSet bool
	watch       hunt.Config
}

// DefaultRequestTimeout is how long the client waits for the reply to each
// request of its bootstrap (get_schema, the monitor requests) and to a lock
// request before it leaves the server as unusable (WithRequestTimeout).
// The inactivity probe does not cover this: a server that answers echo and
// nothing else would keep the client waiting for ever.
const DefaultRequestTimeout = 60 * time.Second

func defaultConfig() config {
	return config{
		leaderOnly:    true,
		shuffle:       true,
		probe:         reconnect.DefaultProbeInterval,
		dbChangeAware: true,
		maxVersion:    3,
		eventBuffer:   64,
		events:        true,

		requestTimeout: DefaultRequestTimeout,
	}
}

// WithLeaderOnly accepts only the cluster leader (default true). With false,
// any member connected to the cluster, or a relay, will do.
func WithLeaderOnly(v bool) Option { return func(c *config) { c.leaderOnly = v } }

// WithShuffle shuffles the remotes (default true), to spread clients.
func WithShuffle(v bool) Option { return func(c *config) { c.shuffle = v } }

// WithProbeInterval sets the inactivity probe interval: how long the
// connection may stay silent before the client sends an echo probe, and
// how long that probe may then go unanswered. Without this option it is
// 5 s, as in OVS; 0 (or a negative value) disables probes. A value between
// 0 and 1 s makes Run fail with jsonrpc.ErrInvalidConfig. The leader
// watch probes its connections to the members with the same interval.
func WithProbeInterval(d time.Duration) Option { return func(c *config) { c.probe = d } }

// WithMaxBackoff sets the longest wait between connection attempts
// (default 8 s; 0 also means the default). The shortest wait after a
// failure is 1 s, so a value below 1 s makes Run fail with
// jsonrpc.ErrInvalidConfig.
func WithMaxBackoff(d time.Duration) Option { return func(c *config) { c.maxBackoff = d } }

// WithSendBacklog bounds the messages and bytes queued for sending and not
// yet written; a server that stops reading until a bound is exceeded is
// disconnected. 0 keeps the defaults (jsonrpc.DefaultMaxBacklogMessages,
// jsonrpc.DefaultMaxBacklogBytes), a negative value removes the bound.
func WithSendBacklog(messages, bytes int) Option {
	return func(c *config) { c.backlogMessages, c.backlogBytes = messages, bytes }
}

// WithTLS sets the TLS configuration for ssl: remotes: the data
// connection's and the leader watch's connections (an empty ServerName is
// set to the remote's host).
func WithTLS(cfg *tls.Config) Option { return func(c *config) { c.tls = cfg } }

// WithLogger sets the logger: V(0) for what an operator needs (the server
// chosen or rejected and why, recoveries), V(1) and up for details.
func WithLogger(l logr.Logger) Option { return func(c *config) { c.log = l } }

// WithTables restricts monitoring to tables (every column of each). Without
// WithTables or WithColumns every table of the server's schema is monitored.
// A table the server's schema lacks is an error wrapping ErrConfig, naming
// the closest valid name, once the schema is known: Run returns it.
func WithTables(tables ...string) Option {
	return func(c *config) {
		if c.selection == nil {
			c.selection = map[string][]string{}
		}
		for _, t := range tables {
			if _, ok := c.selection[t]; !ok {
				c.selection[t] = nil
			}
		}
	}
}

// WithColumns monitors table with only the given columns (by default every
// column is named in the monitor request, "_version" not). Listing the
// "_version" pseudo-column (monitor.VersionColumn) keeps it as a uuid
// column of each row, as ovsdb-client shows it. An unknown table or column
// is an error wrapping ErrConfig once the schema is known, as for
// WithTables.
func WithColumns(table string, columns ...string) Option {
	return func(c *config) {
		if c.selection == nil {
			c.selection = map[string][]string{}
		}
		c.selection[table] = append([]string(nil), columns...)
	}
}

// WithCondition sets the initial condition of table (see
// Client.SetCondition). A table or column the server's schema lacks is an
// error wrapping ErrConfig once the schema is known, as for WithTables.
func WithCondition(table string, cond []ovsdb.Condition) Option {
	return func(c *config) {
		if c.conditions == nil {
			c.conditions = map[string][]ovsdb.Condition{}
		}
		if _, ok := c.conditions[table]; !ok {
			c.condOrder = append(c.condOrder, table)
		}
		c.conditions[table] = cond
	}
}

// WithLock makes the client ask for the named lock on every connection;
// transactions are then sent only while it is held, with an assert.
func WithLock(name string) Option { return func(c *config) { c.lock = name } }

// WithDBChangeAware sends set_db_change_aware after a good _Server reply
// (default true), so a schema change cancels the monitors instead of
// dropping the connection.
func WithDBChangeAware(v bool) Option { return func(c *config) { c.dbChangeAware = v } }

// WithResyncOrder keeps the rows of a full resync (the first monitor reply
// of a connection, or one after a lost last-txn-id) in the order the server
// sent them, so that Update.Changes lists them in that order: 16 bytes a
// row while the Update is kept (see monitor.Schema.KeepingResyncOrder).
// By default those rows come in no particular order.
func WithResyncOrder(v bool) Option { return func(c *config) { c.resyncOrder = v } }

// WithMaxMonitorVersion caps the monitor method: 3 monitor_cond_since
// (default), 2 monitor_cond, 1 monitor.
func WithMaxMonitorVersion(v int) Option { return func(c *config) { c.maxVersion = v } }

// WithDialer sets how connections are opened (default a net.Dialer); tests
// pass testserver's Cluster.DialContext.
func WithDialer(dial func(ctx context.Context, network, address string) (net.Conn, error)) Option {
	return func(c *config) { c.dial = dial }
}

// WithEventBuffer sets the capacity of the Events channel (default 64).
// When it is full the client stops reading from the server until the user
// takes an event (backpressure), so memory stays bounded and nothing is
// dropped. A value below zero disables events: nothing is delivered and the
// client never waits for a reader.
func WithEventBuffer(n int) Option {
	return func(c *config) {
		if n < 0 {
			c.events = false
			c.eventBuffer = 0
			return
		}
		c.events = true
		c.eventBuffer = n
	}
}

// WithFailoverPolicy sets how the client moves between servers when it
// leaves the one it was monitoring (see package failover). The default,
// the zero failover.Config, is the election-aware policy: OVS's
// zero-backoff sweep after a forced reconnect, short bounded re-sweeps
// while an election is under way (every member healthy, none leader), and a
// zero-backoff sweep after the monitored server's connection drops (a
// graceful exit). failover.Config{Mode: failover.OVS} is Open vSwitch's rule
// exactly: one zero-backoff sweep after a forced reconnect from MONITORING,
// backoff otherwise.
//
// The default is the leader watch instead (see WithLeaderWatch): setting a
// failover policy selects that policy.
func WithFailoverPolicy(cfg failover.Config) Option {
	return func(c *config) { c.failover, c.failoverSet = cfg, true }
}

// WithLeaderWatch tunes the leader watch (package hunt), the default way a
// leader-only client on active remotes (tcp, unix, or ssl with WithTLS)
// finds the leader: while it has
// no leader, it keeps one connection per reachable member monitoring only
// that member's _Server.Database row, and carries on on the connection of
// the first member that reports leader=true and passes the whole leader
// check; a silent leader is suspected after an unanswered echo and left
// when another member leads. The zero hunt.Config is the default. Passive
// remotes, or WithLeaderOnly(false), use the failover policy. A
// configuration hunt.Config.Validate rejects (a MaxBackoff below
// MinBackoff) makes New fail.
func WithLeaderWatch(cfg hunt.Config) Option {
	return func(c *config) { c.watch, c.failoverSet = cfg, false }
}

// WithRequestTimeout bounds the wait for the reply to each request the
// client sends while it connects (get_schema, the _Server and data monitor
// requests) and to each lock request (default DefaultRequestTimeout; zero or
// a negative value waits for ever). When it passes, the server is left as
// unusable with a reason matching ErrRequestTimeout (the Reconnect event and
// LastError) and the next server is tried. Allow for the monitor reply of a
// large database: the server builds and sends it all at once.
func WithRequestTimeout(d time.Duration) Option { return func(c *config) { c.requestTimeout = d } }
