package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/ovstable"
	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/metrics"
)

// common holds the flags every command that talks to a server shares: how
// to connect and follow the leader, and how to print tables. Commands add
// the groups they need with addConnFlags and addOutputFlags; a new shared
// flag goes here and in one of those two functions.
type common struct {
	e *env

	leaderOnly    bool
	noLeaderOnly  bool
	probeInterval time.Duration
	maxBackoff    time.Duration
	noShuffle     bool
	failover      string
	privateKey    string
	certificate   string
	caCert        string
	timeout       time.Duration
	metricsAddr   string
	verbose       verbosity
	tls           *tls.Config

	format     string
	data       string
	noHeadings bool
	pretty     bool
	bare       bool
	timestamp  bool
	style      ovstable.Style
}

// addConnFlags defines the connection flags on fs.
func (c *common) addConnFlags(fs *flagSet) {
	fs.BoolVar(&c.leaderOnly, "leader-only", true, "accept only the cluster leader (the default)")
	fs.BoolVar(&c.noLeaderOnly, "no-leader-only", false, "accept any member connected to the cluster")
	fs.DurationVar(&c.probeInterval, "probe-interval", 5*time.Second, "inactivity probe `interval` (0 disables probes)")
	fs.DurationVar(&c.maxBackoff, "max-backoff", 8*time.Second, "longest `wait` between connection attempts")
	fs.BoolVar(&c.noShuffle, "no-shuffle", false, "try the remotes in the order given instead of a random one")
	fs.StringVar(&c.failover, "failover", "watch", "how the leader is found: `policy` watch (watch every member's _Server row), election-aware, or ovs (Open vSwitch's rule exactly)")
	fs.StringVar(&c.privateKey, "private-key", "", "private key `FILE` (PEM) for ssl: remotes")
	fs.StringVar(&c.certificate, "certificate", "", "certificate `FILE` (PEM) for ssl: remotes")
	fs.StringVar(&c.caCert, "ca-cert", "", "CA certificate `FILE` (PEM) that must sign the server's certificate")
	fs.DurationVar(&c.timeout, "timeout", 0, "give up after `time` (0: never); exit status 1")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve Prometheus metrics of the client at http://`ADDR`/metrics (e.g. 127.0.0.1:9476)")
	fs.alias("p", "private-key")
	fs.alias("c", "certificate")
	fs.alias("C", "ca-cert")
	fs.alias("t", "timeout")
	addVerbose(fs, &c.verbose)
}

// addOutputFlags defines ovsdb-client's table output flags on fs; with
// events, --format also takes "events"; with timestamp, --timestamp is
// defined.
func (c *common) addOutputFlags(fs *flagSet, events, timestamp bool) {
	formats := "table, list, csv, html or json"
	if events {
		formats = "table, list, csv, html, json, or events (JSON lines with connection events)"
	}
	fs.StringVar(&c.format, "format", "table", "output `format`: "+formats)
	fs.StringVar(&c.data, "data", "string", "cell `format`: string, bare or json")
	fs.BoolVar(&c.noHeadings, "no-headings", false, "omit the table heading row")
	fs.BoolVar(&c.pretty, "pretty", false, "pretty-print JSON output")
	fs.BoolVar(&c.bare, "bare", false, `same as "--format=list --data=bare --no-headings"`)
	fs.alias("f", "format")
	fs.alias("d", "data")
	if timestamp {
		fs.BoolVar(&c.timestamp, "timestamp", false, "print the time (UTC) before each update")
	}
}

// checkConn validates the connection flags.
func (c *common) checkConn() error {
	if c.noLeaderOnly {
		c.leaderOnly = false
	}
	if _, err := policyOption(c.failover); err != nil {
		return err
	}
	if c.maxBackoff < time.Second {
		return usageErrorf("--max-backoff must be at least 1s, the shortest wait after a failure")
	}
	if c.probeInterval < 0 || (c.probeInterval > 0 && c.probeInterval < time.Second) {
		return usageErrorf("--probe-interval must be 0 (no probes) or at least 1s")
	}
	if c.timeout < 0 {
		return usageErrorf("--timeout must not be negative")
	}
	return nil
}

// checkOutput validates the output flags and sets c.style. events reports
// whether --format=events was chosen.
func (c *common) checkOutput() (events bool, err error) {
	c.style = ovstable.DefaultStyle()
	if c.format == "events" {
		events = true
	} else if c.style.Format, err = ovstable.ParseFormat(c.format); err != nil {
		return false, usageErrorf("--format: %v", err)
	}
	if c.style.Cell, err = ovstable.ParseCellFormat(c.data); err != nil {
		return false, usageErrorf("--data: %v", err)
	}
	c.style.Headings = !c.noHeadings
	c.style.Pretty = c.pretty
	if c.bare {
		c.style = c.style.Bare()
	}
	return events, nil
}

// withTimeout applies --timeout to ctx.
func (c *common) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout > 0 {
		return context.WithTimeout(ctx, c.timeout)
	}
	return context.WithCancel(ctx)
}

// clientOptions returns the cs options the connection flags ask for.
func (c *common) clientOptions(log logr.Logger) []cs.Option {
	policy, _ := policyOption(c.failover)
	opts := []cs.Option{
		policy,
		cs.WithLeaderOnly(c.leaderOnly),
		cs.WithShuffle(!c.noShuffle),
		cs.WithMaxBackoff(c.maxBackoff),
		cs.WithLogger(log),
	}
	opts = append(opts, cs.WithProbeInterval(c.probeInterval))
	if c.tls != nil {
		opts = append(opts, cs.WithTLS(c.tls))
	}
	return opts
}

// errTimeout is returned when --timeout expires.
var errTimeout = errors.New("timed out (--timeout)")

// session runs a cs.Client and reports its connection state on stderr, one
// line per change: the server monitored, a server left and why, a recovery,
// and, while no usable server is found, "no leader yet, retrying in N s"
// whenever the wait changes ("no leader yet, watching every member" once,
// with the leader watch).
type session struct {
	c       *common
	client  *cs.Client
	what    string // "leader" or "server"
	verb    string // "monitoring", or "using" for one-shot commands
	quiet   bool   // no state lines (the demo prints its own timeline)
	onEvent func(cs.Event) error

	monitoring  string // the remote monitored, "" once it was left
	blind       bool
	lastBackoff time.Duration
}

func newSession(c *common, client *cs.Client, onEvent func(cs.Event) error) *session {
	what := "leader"
	if !c.leaderOnly {
		what = "server"
	}
	return &session{c: c, client: client, what: what, verb: "monitoring", onEvent: onEvent}
}

// run runs the client until ctx ends or onEvent fails; the end of ctx is a
// clean exit (nil).
func (s *session) run(ctx context.Context, log logr.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopMetrics, err := s.serveMetrics(ctx)
	if err != nil {
		return err
	}
	defer stopMetrics()
	done := make(chan error, 1)
	go func() { done <- s.client.Run(ctx) }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var handleErr error
	events := s.client.Events()
	for events != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if handleErr != nil {
				continue // drain until Run returns and closes the channel
			}
			s.report(ev)
			if s.onEvent != nil {
				if handleErr = s.onEvent(ev); handleErr != nil {
					log.V(1).Info("stopping", "reason", handleErr.Error())
					cancel()
				}
			}
		case <-tick.C:
			s.checkBlind()
		}
	}
	runErr := <-done
	switch {
	case handleErr != nil:
		return handleErr
	case runErr == nil, errors.Is(runErr, context.Canceled), errors.Is(runErr, context.DeadlineExceeded):
		return nil
	}
	return runErr
}

// serveMetrics starts serving the client's metrics when --metrics-addr is
// set: it listens at once (so a bad address fails the command before it
// connects), says where on stderr, and serves until ctx ends or stop is
// called; stop ends the server and waits for it. The collector observes
// the client itself.
func (s *session) serveMetrics(ctx context.Context) (stop func(), err error) {
	if s.c.metricsAddr == "" {
		return func() {}, nil
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.c.metricsAddr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	col := metrics.NewCollector(s.client)
	s.c.e.progressf("serving metrics on http://%s/metrics", ln.Addr())
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- metrics.ServeListener(ctx, ln, col) }()
	return func() { cancel(); <-served; col.Close() }, nil
}

// report writes the state line an event calls for.
func (s *session) report(ev cs.Event) {
	if s.quiet {
		return
	}
	e := s.c.e
	switch ev := ev.(type) {
	case cs.StateChange:
		switch ev.To {
		case cs.Monitoring:
			s.blind, s.lastBackoff, s.monitoring = false, 0, ev.Remote
			e.progressf("%s %s (%s)", s.verb, ev.Remote, s.what)
		case cs.Retry:
			s.checkBlind()
		}
	case cs.Reconnect:
		// Only the server monitored: the attempts that follow are summed
		// up by the "no leader yet" lines.
		if s.monitoring != "" && ev.Remote == s.monitoring {
			s.monitoring = ""
			reason := "connection closed"
			if ev.Reason != nil {
				reason = ev.Reason.Error()
			}
			e.progressf("left %s: %s", ev.Remote, strings.TrimPrefix(reason, ev.Remote+": "))
		}
	case cs.Recovered:
		e.progressf("recovered in %s on %s (%d attempts)", fmtMillis(ev.Duration), ev.Remote, ev.Attempts)
	}
}

// checkBlind reports the wait before the next attempt while the client
// has no usable server, when it changed.
func (s *session) checkBlind() {
	if s.quiet {
		return
	}
	st := s.client.Stats()
	if st.State == cs.Monitoring {
		return
	}
	if strings.EqualFold(s.c.failover, "watch") {
		// The leader watch does not poll: one line until a leader is found.
		if !s.blind {
			s.blind = true
			s.c.e.progressf("no %s yet, watching every member", s.what)
		}
		return
	}
	backoff := st.Session.Backoff
	if backoff <= 0 || s.blind && backoff == s.lastBackoff {
		return // connecting, or already reported
	}
	s.blind, s.lastBackoff = true, backoff
	s.c.e.progressf("no %s yet, retrying in %s s", s.what, fmtSeconds(backoff))
}

// fmtSeconds writes d in seconds with up to 3 decimals.
func fmtSeconds(d time.Duration) string {
	v := math.Round(d.Seconds()*1000) / 1000
	return fmt.Sprintf("%g", v)
}

// waitMonitoring waits until the session reaches MONITORING (again).
func (s *session) waitMonitoring(ctx context.Context) error {
	return s.client.WaitMonitoring(ctx)
}
