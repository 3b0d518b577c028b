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

	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/eventfmt"
	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/ovstable"
	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/hunt"
)

const monitorHelp = `Usage: ovsdb-cs monitor [flags] [SERVER] [DATABASE] TABLE [COLUMN,...]...

Prints the contents of COLUMNs in TABLE and every change to them, like
"ovsdb-client monitor", with the same arguments and output; but SERVER may
list every member of a cluster (comma-separated remotes) and ovsdb-cs stays
with the RAFT cluster leader (--leader-only, the default), following it to
the new leader when leadership moves, where ovsdb-client exits when its
server goes away. After a leader change it prints what changed meanwhile:
no change is lost or printed twice. (The table formats monitor with
ovsdb-client's method, so that rows come in its order, and the new leader
sends every row again; --format=events uses monitor_cond_since and gets
only what changed.)

TABLE may be ALL: every table, each table captioned with its name.
Without COLUMNs every column is monitored, and the _version pseudo-column
(a uuid the server changes with every modification of the row) is shown
last, as ovsdb-client does (not with --format=events). COLUMNs may include the
selectors !initial, !insert, !delete and !modify to hide those kinds of
change. Several COLUMN arguments for one table are merged.

SERVER defaults to ` + defaultServer + `; DATABASE to Open_vSwitch or the
server's only database (required with several remotes). Table and column
names are checked against the server's schema at once: a misspelt name is
an error naming the closest valid one.

Output (stdout) is ovsdb-client's: --format table (default), list, csv,
html or json, --data string|bare|json, --no-headings, --pretty, --bare,
--timestamp. --format=events writes instead one JSON object per line for
every event, with "ts" (RFC 3339, nanoseconds) and "event":
  {"event":"state","state":"MONITORING","remote":"tcp:127.0.0.1:6641"}
  {"event":"reconnect","reason":"...","remote":"..."}
  {"event":"clear"}                  (a full resync's rows follow)
  {"event":"update","table":"T","uuid":"...","op":"insert","row":{...}}
  {"event":"update",...,"op":"modify","row":{...},"old":{changed columns}}
  {"event":"update",...,"op":"delete","old":{...}}
  {"event":"recovered","ms":1.23,"remote":"...","from":"...","reason":"...",
   "attempts":2,"sweeps":1,"backoff_used":false}
"row" is the whole row after the change, "old" the old values (for modify,
of the columns that changed), in OVSDB JSON notation.

Connection state goes to stderr, one line per change ("monitoring
tcp:...:6641 (leader)", "left ...: reason", "no leader yet, watching every
member" (or, with a polling --failover policy, "no leader yet, retrying in N
s"), "recovered in ... ms"). Runs until SIGINT or SIGTERM (exit 0).

Examples:
  ovsdb-cs monitor tcp:10.0.0.1:6641,tcp:10.0.0.2:6641,tcp:10.0.0.3:6641 \
      OVN_Northbound Logical_Switch name,ports
  ovsdb-cs monitor -f csv --timestamp unix:/run/ovn/ovnnb_db.sock \
      OVN_Northbound Logical_Switch_Port 'name,up,!initial'
  ovsdb-cs monitor --format=events tcp:10.0.0.1:6641 OVN_Northbound ALL
`

const monitorCondHelp = `Usage: ovsdb-cs monitor-cond [flags] [SERVER] [DATABASE] CONDITION TABLE [COLUMN,...]...

Like "ovsdb-cs monitor", for the rows of TABLE matching CONDITION, printed
as "ovsdb-client monitor-cond" prints them (update2: an inserted row shows
only its non-default columns, a modify the changed columns as diffs, a
delete no column). CONDITION is ovsdb-client's: a JSON array of clauses
[COLUMN, FUNCTION, VALUE] (FUNCTION one of == != < <= > >= includes
excludes), true or false; a row is monitored when it matches one clause.
ALL is not allowed.

Examples:
  ovsdb-cs monitor-cond tcp:10.0.0.1:6641,tcp:10.0.0.2:6641 OVN_Northbound \
      '[["name","==","sw0"]]' Logical_Switch name,ports
  ovsdb-cs monitor-cond -f json tcp:10.0.0.1:6641 OVN_Northbound \
      '[["up","==",true]]' Logical_Switch_Port name,up
`

func runMonitor(ctx context.Context, e *env, args []string) error {
	return monitorCommand(ctx, e, "monitor", monitorHelp, args, false)
}

func runMonitorCond(ctx context.Context, e *env, args []string) error {
	return monitorCommand(ctx, e, "monitor-cond", monitorCondHelp, args, true)
}

func monitorCommand(ctx context.Context, e *env, name, help string, args []string, cond bool) error {
	c := &common{e: e}
	fs := newFlagSet(e, name, help)
	c.addConnFlags(fs)
	c.addOutputFlags(fs, true, true)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := c.checkConn(); err != nil {
		return err
	}
	events, err := c.checkOutput()
	if err != nil {
		return err
	}
	minArgs := 1
	if cond {
		minArgs = 2
	}
	if len(pos) < minArgs {
		if cond {
			return usageErrorf("want [SERVER] [DATABASE] CONDITION TABLE [COLUMN,...]...")
		}
		return usageErrorf("want [SERVER] [DATABASE] TABLE [COLUMN,...]...")
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	t, rest, err := c.serverArgs(ctx, pos, minArgs, true)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil // interrupted before any server answered: a clean exit too
		}
		return err
	}
	if len(rest) < minArgs {
		return usageErrorf("want [SERVER] [DATABASE] TABLE [COLUMN,...]..., got no TABLE")
	}
	var condArg string
	if cond {
		condArg, rest = rest[0], rest[1:]
	}
	tables, err := parseMonitorTables(t, rest, cond, !events)
	if err != nil {
		return err
	}
	log := logger(e.stderr, c.verbose).WithName("cs")
	opts := c.clientOptions(log)
	for _, mt := range tables {
		opts = append(opts, cs.WithColumns(mt.name, mt.columnNames()...))
	}
	if !events {
		// Rows in the order ovsdb-client prints them, which follows the
		// order the server sent them in.
		opts = append(opts, cs.WithMaxMonitorVersion(monitorVersion(cond)), cs.WithResyncOrder(true))
	}
	if cond {
		where, err := parseCondition(t, tables[0].name, condArg)
		if err != nil {
			return err
		}
		if where != nil {
			opts = append(opts, cs.WithCondition(tables[0].name, where))
		}
	}
	client, err := cs.New(t.database, t.remotes, opts...)
	if err != nil {
		return err
	}
	var handle func(cs.Event) error
	if events {
		p := eventfmt.New(e.stdout)
		handle = func(ev cs.Event) error { return printEvent(p, ev) }
	} else {
		tp := &tablePrinter{p: ovstable.NewPrinter(e.stdout, c.style), tables: tables, v2: cond, timestamp: c.timestamp, now: time.Now}
		synced := false
		handle = func(ev cs.Event) error {
			u, ok := ev.(cs.Update)
			if !ok {
				return nil
			}
			initial := u.MonitorReply && !synced
			synced = true
			return tp.print(u.Changes.Slice(), initial)
		}
	}
	s := newSession(c, client, handle)
	err = s.run(ctx, log)
	if err == nil && ctx.Err() != nil && c.timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errTimeout
	}
	st := client.Stats()
	if st.Reconnects > 0 {
		e.progressf("stopped: %d connections lost, %d recoveries%s", st.Reconnects, len(st.Recoveries), recoverySummary(st.Recoveries))
	}
	return err
}

// monitorVersion is the monitor method ovsdb-client uses: "monitor" (1)
// for monitor, "monitor_cond" (2) for monitor-cond. The table formats use
// it so that the server sends the rows of an update in the order it sends
// them to ovsdb-client (it writes monitor_cond_since updates in another
// order), which decides the order ovsdb-client prints them in. The price:
// after a leader change the new leader sends every row again instead of
// what changed (ovsdb-cs prints only the difference). --format=events
// uses monitor_cond_since.
func monitorVersion(cond bool) int {
	if cond {
		return 2
	}
	return 1
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

// printEvent prints one cs event in the events format.
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
		return p.Update(ev.Changes.Slice())
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
