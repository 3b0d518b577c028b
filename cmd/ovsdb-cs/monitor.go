package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/eventfmt"
	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
)

const monitorHelp = `Usage: ovsdb-cs monitor [flags] REMOTES DATABASE [TABLE[,TABLE...]]

Monitors DATABASE on the servers in REMOTES (comma-separated OVSDB remotes,
e.g. tcp:10.0.0.1:6641,tcp:10.0.0.2:6641, or ssl:, unix:, [IPv6]; a cid:UUID
item pins the cluster) and prints every change: like "ovsdb-client monitor",
but with --leader-only (the default) it stays with the RAFT cluster leader
and follows it to the new leader when leadership moves, without waiting out
a reconnect backoff. Without TABLE every table is monitored.

Events (state changes, reconnects, recoveries, full resyncs, row changes) go
to stdout: readable tables by default, or with --format=json one JSON object
per line, each with "ts" (RFC 3339, nanoseconds) and "event":
  {"event":"state","state":"MONITORING","remote":"tcp:127.0.0.1:6641"}
  {"event":"reconnect","reason":"...","remote":"..."}
  {"event":"clear"}                  (a full resync's rows follow)
  {"event":"update","table":"T","uuid":"...","op":"insert|modify|delete","row":{...}}
  {"event":"recovered","ms":1.23,"remote":"...","from":"...","reason":"...",
   "attempts":2,"sweeps":1,"backoff_used":false}
"row" is the whole row after the change (absent for delete) in OVSDB JSON
notation. Logs (-v) and errors go to stderr. Runs until SIGINT or SIGTERM.
`

// monitorConfig is the parsed command line of "monitor".
type monitorConfig struct {
	remotes  string
	database string
	tables   []string

	leaderOnly    bool
	format        string
	probeInterval time.Duration
	maxBackoff    time.Duration
	noShuffle     bool
	failover      string
	privateKey    string
	certificate   string
	caCert        string
	verbose       verbosity
}

func parseMonitorArgs(e *env, args []string) (*monitorConfig, error) {
	cfg := &monitorConfig{}
	fs := newFlagSet(e, "monitor", monitorHelp)
	fs.BoolVar(&cfg.leaderOnly, "leader-only", true, "accept only the cluster leader (--leader-only=false: any member in the cluster)")
	fs.StringVar(&cfg.format, "format", "text", "output `format`: text or json")
	fs.DurationVar(&cfg.probeInterval, "probe-interval", 5*time.Second, "inactivity probe `interval` (0 disables probes)")
	fs.DurationVar(&cfg.maxBackoff, "max-backoff", 8*time.Second, "longest `wait` between connection attempts")
	fs.BoolVar(&cfg.noShuffle, "no-shuffle", false, "try the remotes in the order given instead of a random one")
	fs.StringVar(&cfg.failover, "failover", "watch", "how the leader is found: `policy` watch (watch every member's _Server row), election-aware, or ovs (Open vSwitch's rule exactly)")
	fs.StringVar(&cfg.privateKey, "private-key", "", "private key `FILE` (PEM) for ssl: remotes")
	fs.StringVar(&cfg.certificate, "certificate", "", "certificate `FILE` (PEM) for ssl: remotes")
	fs.StringVar(&cfg.caCert, "ca-cert", "", "CA certificate `FILE` (PEM) that must sign the server's certificate")
	fs.alias("p", "private-key")
	fs.alias("c", "certificate")
	fs.alias("C", "ca-cert")
	addVerbose(fs, &cfg.verbose)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	switch len(pos) {
	case 2, 3:
	default:
		return nil, usageErrorf("want REMOTES DATABASE [TABLE[,TABLE...]], got %d arguments", len(pos))
	}
	cfg.remotes, cfg.database = pos[0], pos[1]
	if cfg.database == "" {
		return nil, usageErrorf("empty DATABASE")
	}
	if len(pos) == 3 {
		for t := range strings.SplitSeq(pos[2], ",") {
			if t = strings.TrimSpace(t); t != "" {
				cfg.tables = append(cfg.tables, t)
			}
		}
		if len(cfg.tables) == 0 {
			return nil, usageErrorf("no table named in %q", pos[2])
		}
	}
	if _, err := eventfmt.ParseFormat(cfg.format); err != nil {
		return nil, usageErrorf("--format: %v", err)
	}
	if _, err := policyOption(cfg.failover); err != nil {
		return nil, err
	}
	if cfg.maxBackoff <= 0 {
		return nil, usageErrorf("--max-backoff must be positive")
	}
	if _, _, err := jsonrpc.ParseRemotes(cfg.remotes); err != nil {
		return nil, usageErrorf("REMOTES: %v", err)
	}
	hasSSL := false
	for _, r := range jsonrpc.SplitRemotes(cfg.remotes) {
		if strings.HasPrefix(strings.TrimSpace(r), "ssl:") {
			hasSSL = true
		}
	}
	tlsGiven := cfg.privateKey != "" || cfg.certificate != "" || cfg.caCert != ""
	if hasSSL && (cfg.privateKey == "" || cfg.certificate == "" || cfg.caCert == "") {
		return nil, usageErrorf("ssl: remotes need --private-key, --certificate and --ca-cert")
	}
	if tlsGiven && !hasSSL {
		return nil, usageErrorf("--private-key, --certificate and --ca-cert apply only to ssl: remotes")
	}
	return cfg, nil
}

func runMonitor(ctx context.Context, e *env, args []string) error {
	cfg, err := parseMonitorArgs(e, args)
	if err != nil {
		return err
	}
	format, _ := eventfmt.ParseFormat(cfg.format)
	log := logger(e.stderr, cfg.verbose).WithName("cs")
	policy, _ := policyOption(cfg.failover)
	opts := []cs.Option{
		policy,
		cs.WithLeaderOnly(cfg.leaderOnly),
		cs.WithShuffle(!cfg.noShuffle),
		cs.WithMaxBackoff(cfg.maxBackoff),
		cs.WithLogger(log),
	}
	if cfg.probeInterval > 0 {
		opts = append(opts, cs.WithProbeInterval(cfg.probeInterval))
	} else {
		opts = append(opts, cs.WithProbeInterval(-1))
	}
	if len(cfg.tables) > 0 {
		opts = append(opts, cs.WithTables(cfg.tables...))
	}
	if cfg.caCert != "" {
		tc, err := loadTLS(cfg.privateKey, cfg.certificate, cfg.caCert)
		if err != nil {
			return err
		}
		opts = append(opts, cs.WithTLS(tc))
	}
	client, err := cs.New(cfg.database, cfg.remotes, opts...)
	if err != nil {
		return err
	}
	e.progressf("monitoring database %s on %s (leader only: %t)", cfg.database, cfg.remotes, cfg.leaderOnly)
	p := eventfmt.New(e.stdout, format)
	err = runClient(ctx, client, func(ev cs.Event) error { return printEvent(p, ev) }, log)
	st := client.Stats()
	e.progressf("stopped: %d connections lost, %d recoveries%s", st.Reconnects, len(st.Recoveries), recoverySummary(st.Recoveries))
	return err
}

// recoverySummary describes recovery times as ", median X, max Y", or "".
func recoverySummary(recs []cs.Recovery) string {
	if len(recs) == 0 {
		return ""
	}
	d := make([]time.Duration, len(recs))
	for i, r := range recs {
		d[i] = r.Duration
	}
	slices.Sort(d)
	return fmt.Sprintf(" (median %s, max %s)", fmtMillis(d[len(d)/2]), fmtMillis(d[len(d)-1]))
}

// policyOption returns the client option for the policy called name:
// watch (the leader watch, the default), election-aware or ovs.
func policyOption(name string) (cs.Option, error) {
	switch strings.ToLower(name) {
	case "watch":
		return cs.WithLeaderWatch(hunt.Config{}), nil
	case failover.ElectionAware.String():
		return cs.WithFailoverPolicy(failover.Config{}), nil
	case failover.OVS.String():
		return cs.WithFailoverPolicy(failover.Config{Mode: failover.OVS}), nil
	}
	return nil, usageErrorf("--failover: unknown policy %q (want watch, %s or %s)", name, failover.ElectionAware, failover.OVS)
}

// runClient runs client until ctx ends, passing every event to handle. An
// error from handle stops the client and is returned; the end of ctx is a
// clean exit (nil).
func runClient(ctx context.Context, client *cs.Client, handle func(cs.Event) error, log logr.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- client.Run(ctx) }()
	var handleErr error
	for ev := range client.Events() {
		if handleErr != nil {
			continue // drain until Run returns and closes the channel
		}
		if handleErr = handle(ev); handleErr != nil {
			log.Error(handleErr, "stopping")
			cancel()
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

// printEvent prints one cs event.
func printEvent(p *eventfmt.Printer, ev cs.Event) error {
	switch ev := ev.(type) {
	case cs.StateChange:
		return p.State(ev.To.String(), ev.Remote)
	case cs.Reconnect:
		reason := "connection closed"
		if ev.Reason != nil {
			reason = ev.Reason.Error()
		}
		return p.Reconnect(reason, ev.Remote)
	case cs.Recovered:
		return p.Recovered(recovery(ev.Recovery))
	case cs.Update:
		if ev.Clear {
			if err := p.Clear(); err != nil {
				return err
			}
		}
		return p.Update(ev.Changes)
	}
	return p.Err()
}

// recovery converts a cs recovery for printing.
func recovery(r cs.Recovery) eventfmt.Recovery {
	return eventfmt.Recovery{
		Duration:    r.Duration,
		Remote:      r.Remote,
		From:        r.From,
		Reason:      r.Reason,
		Detailed:    true,
		Attempts:    r.Attempts,
		Sweeps:      r.Sweeps,
		BackoffUsed: r.BackoffUsed,
		Found:       r.Found,
		Watchers:    r.Watchers,
		Suspected:   r.Suspected,
	}
}

// loadTLS builds the TLS configuration for ssl: remotes the way OVS does:
// the client presents its certificate and checks that the server's
// certificate chains to the CA certificate; host names are not checked
// (OVS peers are identified by their certificate, not their address).
func loadTLS(keyFile, certFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load --certificate/--private-key: %w", err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("load --ca-cert: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("load --ca-cert: no PEM certificate in %s", caFile)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// Verification is done below against the CA, without a host name.
		InsecureSkipVerify: true, //nolint:gosec // chain checked in VerifyPeerCertificate
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, pool)
		},
	}, nil
}

// verifyChain checks that the peer's certificate chains to a root in pool.
func verifyChain(raw [][]byte, pool *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, b := range raw {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return fmt.Errorf("tls: bad server certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("tls: server certificate not signed by --ca-cert: %w", err)
	}
	return nil
}
