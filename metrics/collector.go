package metrics

import (
	"encoding/json"
	"errors"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Namespace prefixes every metric name.
const Namespace = "ovsdbcs"

// DefaultRecoveryBuckets are the upper bounds, in seconds, of the
// recovery-duration histogram: from a 1 ms leader transfer to the 8 s
// maximum backoff and beyond.
var DefaultRecoveryBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// allStates lists every cs.State, so ovsdbcs_state has one series per state.
var allStates = []cs.State{
	cs.ServerSchemaRequested, cs.ServerMonitorRequested, cs.DataSchemaRequested,
	cs.DataMonitorCondSinceRequested, cs.DataMonitorCondRequested, cs.DataMonitorRequested,
	cs.Monitoring, cs.Retry,
}

// methodNames names the monitor methods by version (cs.Update.Version).
var methodNames = map[int]string{1: "monitor", 2: "monitor_cond", 3: "monitor_cond_since"}

// Option configures a Collector.
type Option func(*Collector)

// WithConstLabels adds labels to every metric of the collector, to tell
// several clients of one process apart (for example {"database": "OVN_Southbound"}).
func WithConstLabels(l prometheus.Labels) Option {
	return func(m *Collector) { m.constLabels = l }
}

// WithRecoveryBuckets sets the buckets of ovsdbcs_recovery_duration_seconds
// (default DefaultRecoveryBuckets).
func WithRecoveryBuckets(b []float64) Option {
	return func(m *Collector) { m.buckets = append([]float64(nil), b...) }
}

// WithLeaderOnly tells the collector whether the client was created with
// cs.WithLeaderOnly(true) (the default, and this option's default): only
// then does MONITORING mean that the connected server is the cluster leader
// (ovsdbcs_connected_leader). cs.Stats does not report the leader flag of
// the server's _Server row, so the collector infers it.
func WithLeaderOnly(v bool) Option { return func(m *Collector) { m.leaderOnly = v } }

// Collector is a prometheus.Collector over one cs.Client. What the client's
// Stats report (state, remote, recoveries, reconnects, bytes, backoff) and
// its replica's row counts are read at scrape time; what only events carry
// (reconnect reasons, updates and rows applied per table, transactions by
// outcome, the monitor method) is counted by Observe, which the loop that
// reads Client.Events calls for every event:
//
//	for ev := range client.Events() {
//		collector.Observe(ev)
//		// ... the application's own handling
//	}
//
// A Collector is safe for concurrent use.
type Collector struct {
	c           *cs.Client
	constLabels prometheus.Labels
	buckets     []float64
	leaderOnly  bool

	state, connected, synced, leader, remote, method,
	backoff, replicaRows, received, attempts, recAttempts,
	recBackoff, lockHeld, reconnects, rebuilds *prometheus.Desc

	recoveries prometheus.Histogram
	updates    *prometheus.CounterVec
	rows       *prometheus.CounterVec
	txns       *prometheus.CounterVec

	mu sync.Mutex
	// Scrape-time accounting (under mu).
	lastLeft        time.Time // Left of the newest recovery observed
	recAttemptsSum  float64
	recBackoffCount float64
	bytesSeqno      uint64
	bytesLast       uint64
	bytesTotal      float64
	// Event accounting (under mu).
	reasons       map[string]float64
	methodVersion int
}

// NewCollector returns a collector over c. Register it with a
// prometheus.Registerer (or use Serve), and call Observe for every event
// of c.Events.
func NewCollector(c *cs.Client, opts ...Option) *Collector {
	m := &Collector{c: c, buckets: DefaultRecoveryBuckets, leaderOnly: true, reasons: map[string]float64{}}
	for _, o := range opts {
		o(m)
	}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(Namespace+"_"+name, help, labels, m.constLabels)
	}
	m.state = desc("state", "1 for the client's current state (cs.State, OVS's names), 0 for the others.", "state")
	m.connected = desc("connected", "1 while the client has a connection to a server.")
	m.synced = desc("synced", "1 once the client has received a monitor reply (the replica holds the server's data).")
	m.leader = desc("connected_leader", "1 while the client is MONITORING a server that is the cluster leader (leader-only clients).")
	m.remote = desc("connected_remote_info", "The remote the client is connected to (value 1; absent while not connected).", "remote")
	m.method = desc("monitor_method_info", "The monitor method of the data monitor in use (value 1): monitor_cond_since, monitor_cond or monitor.", "method")
	m.backoff = desc("backoff_seconds", "The reconnect backoff in force: the wait before the next connection attempt after a failure.")
	m.replicaRows = desc("replica_rows", "Rows in the replica, per table.", "table")
	m.received = desc("received_bytes_total", "Bytes received from servers, over every connection.")
	m.attempts = desc("connection_attempts_total", "Connection attempts finished (successful or not).")
	m.recAttempts = desc("recovery_attempts_total", "Connection attempts made during recoveries (sum over recoveries; divide by ovsdbcs_recovery_duration_seconds_count for the mean).")
	m.recBackoff = desc("recoveries_with_backoff_total", "Recoveries in which the client waited a non-zero backoff before an attempt.")
	m.lockHeld = desc("lock_held", "1 while the client holds its lock (WithLock).")
	m.reconnects = desc("reconnects_total", "Connections lost, by reason.", "reason")
	m.rebuilds = desc("transaction_rebuilds_total", "Times Client.TransactFunc ran its builder again (after a stale read, a try-again or a maybe-committed outcome).")

	m.recoveries = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "recovery_duration_seconds",
		Help:        "Time from leaving MONITORING to MONITORING again (on the same or another server).",
		Buckets:     m.buckets,
		ConstLabels: m.constLabels,
	})
	m.updates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "updates_total",
		Help:        "Updates (monitor replies and update notifications) applied to the replica, per table they touched.",
		ConstLabels: m.constLabels,
	}, []string{"table"})
	m.rows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "rows_applied_total",
		Help:        "Row changes applied to the replica, per table and operation (insert, modify, delete).",
		ConstLabels: m.constLabels,
	}, []string{"table", "op"})
	m.txns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "transactions_total",
		Help:        "Transactions finished, by outcome: committed, failed (an operation failed, nothing committed), retry (refused before it was sent: not monitoring, lock not held), maybe_committed (in flight when the connection ended, or canceled by the server), error.",
		ConstLabels: m.constLabels,
	}, []string{"outcome"})
	for _, o := range []string{"committed", "failed", "retry", "maybe_committed", "error"} {
		m.txns.WithLabelValues(o)
	}
	return m
}

// Observe counts one event of the client's Events stream.
func (m *Collector) Observe(ev cs.Event) {
	switch e := ev.(type) {
	case cs.Reconnect:
		m.mu.Lock()
		m.reasons[ReconnectReason(e.Reason)]++
		m.mu.Unlock()
	case cs.Update:
		if e.Version != 0 && e.MonitorReply {
			m.mu.Lock()
			m.methodVersion = e.Version
			m.mu.Unlock()
		}
		if e.Raw != nil {
			for _, t := range e.Raw.Tables() {
				m.updates.WithLabelValues(t).Inc()
			}
		}
		for _, ch := range e.Changes {
			m.rows.WithLabelValues(ch.Table, ch.Op.String()).Inc()
		}
	case cs.TxnReply:
		outcome := TxnOutcome(e.Err)
		if outcome == "committed" && opFailed(e.Result) {
			// TxnReply carries the server's reply; a failed operation
			// is in it, not in Err.
			outcome = "failed"
		}
		m.txns.WithLabelValues(outcome).Inc()
	}
}

// ReconnectReason maps why a connection ended to the bounded set of values
// of the reason label: not_leader, unusable (another _Server check
// failed: not joined, disconnected from the cluster, stale, ...),
// inconsistent, malformed (bad input from the server), server_error,
// request_timeout (the server did not answer the bootstrap), forced (the
// user's ForceReconnect or the client's own), probe_timeout,
// connect_timeout, message_too_large, closed (the server closed the
// connection), other.
func ReconnectReason(err error) string {
	var ne interface{ Timeout() bool }
	switch {
	case err == nil:
		return "closed"
	case errors.Is(err, leader.ErrNotLeader):
		return "not_leader"
	case errors.Is(err, leader.ErrUnusable):
		return "unusable"
	case errors.Is(err, cs.ErrInconsistent), errors.Is(err, monitor.ErrInconsistent), errors.Is(err, leader.ErrInconsistent):
		return "inconsistent"
	case errors.Is(err, cs.ErrMalformed), errors.Is(err, monitor.ErrMalformed), errors.Is(err, leader.ErrMalformed),
		errors.Is(err, jsonrpc.ErrProtocol):
		return "malformed"
	case errors.Is(err, jsonrpc.ErrMessageTooLarge):
		return "message_too_large"
	case errors.Is(err, cs.ErrServerError):
		return "server_error"
	case errors.Is(err, cs.ErrRequestTimeout):
		return "request_timeout"
	case errors.Is(err, cs.ErrForced), errors.Is(err, jsonrpc.ErrForcedReconnect):
		return "forced"
	case errors.Is(err, jsonrpc.ErrProbeTimeout):
		return "probe_timeout"
	case errors.Is(err, jsonrpc.ErrConnectTimeout):
		return "connect_timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other"
}

// TxnOutcome maps a transaction's error to the outcome label: committed,
// failed (a *cs.TxnError: an operation failed, nothing was committed),
// retry (cs.ErrTryAgain: refused before it was sent), maybe_committed
// (cs.ErrMaybeCommitted: in flight when the connection ended, canceled by
// the server), error (anything else).
func TxnOutcome(err error) string {
	var te *cs.TxnError
	switch {
	case err == nil:
		return "committed"
	case errors.As(err, &te):
		return "failed"
	case errors.Is(err, cs.ErrTryAgain):
		return "retry"
	case errors.Is(err, cs.ErrMaybeCommitted):
		return "maybe_committed"
	}
	return "error"
}

// Describe implements prometheus.Collector.
func (m *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.state, m.connected, m.synced, m.leader, m.remote, m.method,
		m.backoff, m.replicaRows, m.received, m.attempts, m.recAttempts, m.recBackoff, m.lockHeld, m.reconnects, m.rebuilds} {
		ch <- d
	}
	m.recoveries.Describe(ch)
	m.updates.Describe(ch)
	m.rows.Describe(ch)
	m.txns.Describe(ch)
}

// Collect implements prometheus.Collector: it reads the client's Stats and
// replica, then reports them with what Observe counted.
func (m *Collector) Collect(ch chan<- prometheus.Metric) {
	st := m.c.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, s := range allStates {
		gauge(m.state, b2f(st.State == s), s.String())
	}
	gauge(m.connected, b2f(st.Connected))
	gauge(m.synced, b2f(st.Synced))
	monitoring := st.State == cs.Monitoring && st.Connected
	gauge(m.leader, b2f(monitoring && m.leaderOnly))
	if st.Connected && st.Remote != "" {
		gauge(m.remote, 1, st.Remote)
	}
	gauge(m.backoff, st.Session.Backoff.Seconds())
	counter(m.attempts, float64(st.Session.Attempted))
	gauge(m.lockHeld, b2f(st.HasLock))
	counter(m.rebuilds, float64(st.Rebuilds))
	if r := m.c.Replica(); r != nil {
		for _, t := range r.Schema().Tables {
			gauge(m.replicaRows, float64(r.Len(t.Name)), t.Name)
		}
	}

	m.mu.Lock()
	// Recoveries: Stats keeps the latest ones, oldest first; observe those
	// that ended since the last scrape.
	for _, r := range st.Recoveries {
		if !r.Left.After(m.lastLeft) {
			continue
		}
		m.lastLeft = r.Left
		m.recoveries.Observe(r.Duration.Seconds())
		m.recAttemptsSum += float64(r.Attempts)
		if r.BackoffUsed {
			m.recBackoffCount++
		}
	}
	// Bytes: the session counts per connection; add what this connection
	// received since the last scrape (a connection that ended between two
	// scrapes loses its bytes after the earlier one).
	if st.Session.Seqno != m.bytesSeqno || st.Session.ReceivedBytes < m.bytesLast {
		m.bytesSeqno, m.bytesLast = st.Session.Seqno, 0
	}
	m.bytesTotal += float64(st.Session.ReceivedBytes - m.bytesLast)
	m.bytesLast = st.Session.ReceivedBytes
	counter(m.received, m.bytesTotal)
	counter(m.recAttempts, m.recAttemptsSum)
	counter(m.recBackoff, m.recBackoffCount)
	if monitoring && m.methodVersion != 0 {
		gauge(m.method, 1, methodNames[m.methodVersion])
	}
	// Reconnects: by reason from the events observed; the ones Stats counts
	// that no observed event explains (Observe not wired, or events
	// disabled) are reason "unknown".
	var seen float64
	reasons := make([]string, 0, len(m.reasons))
	for r, n := range m.reasons {
		seen += n
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		counter(m.reconnects, m.reasons[r], r)
	}
	if unknown := float64(st.Reconnects) - seen; unknown > 0 {
		counter(m.reconnects, unknown, "unknown")
	}
	m.mu.Unlock()

	m.recoveries.Collect(ch)
	m.updates.Collect(ch)
	m.rows.Collect(ch)
	m.txns.Collect(ch)
}

// opFailed reports whether a transaction result (an array of operation
// results) holds an error: OVSDB reports a failed operation in its result,
// and an extra trailing one when the transaction failed as a whole.
func opFailed(result json.RawMessage) bool {
	if len(result) == 0 {
		return false
	}
	var ops []struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(result, &ops); err != nil {
		return true
	}
	for _, op := range ops {
		if op.Error != nil {
			return true
		}
	}
	return false
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
