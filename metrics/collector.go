package metrics

import (
	"errors"
	"io"
	"sort"
	"sync"

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

// methodNames names the monitor methods by version (cs.Stats.MonitorVersion).
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

// Collector is a prometheus.Collector over one cs.Client. What the client's
// Stats report (state, remote, leader flag, monitor method, reconnects,
// bytes, backoff, transactions not sent or maybe committed) and its
// replica's row counts are read at scrape time; what events carry
// (reconnect reasons, recoveries, updates and rows applied per table,
// transaction replies) is counted as the client produces them: the
// collector observes the client itself (cs.Client.Observe), so the
// application need not forward events, and events may be disabled
// (cs.WithEventBuffer(-1)).
//
// A Collector is safe for concurrent use.
type Collector struct {
	c           *cs.Client
	stop        func()
	constLabels prometheus.Labels
	buckets     []float64

	state, connected, synced, leader, remote, method,
	backoff, replicaRows, received, attempts, recAttempts,
	recBackoff, lockHeld, reconnects, rebuilds, txns *prometheus.Desc

	recoveries prometheus.Histogram
	updates    *prometheus.CounterVec
	rows       *prometheus.CounterVec

	// Counted by observe (under mu).
	mu              sync.Mutex
	reasons         map[string]float64
	recAttemptsSum  float64
	recBackoffCount float64
	txnReplies      map[string]float64 // committed, failed, error
}

// NewCollector returns a collector over c, observing c's events from now
// on (create it before c.Run, so that nothing is missed). Register it with
// a prometheus.Registerer, or use Serve. Close stops the observation.
func NewCollector(c *cs.Client, opts ...Option) *Collector {
	m := &Collector{c: c, buckets: DefaultRecoveryBuckets, reasons: map[string]float64{},
		txnReplies: map[string]float64{"committed": 0, "failed": 0, "error": 0}}
	for _, o := range opts {
		o(m)
	}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(Namespace+"_"+name, help, labels, m.constLabels)
	}
	m.state = desc("state", "1 for the client's current state (cs.State, OVS's names), 0 for the others.", "state")
	m.connected = desc("connected", "1 while the client has a connection to a server.")
	m.synced = desc("synced", "1 once the client has received a monitor reply (the replica holds the server's data).")
	m.leader = desc("connected_leader", "1 while the client is connected to a server whose _Server row says it is the cluster leader (or a standalone server).")
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
	m.txns = desc("transactions_total", "Transactions finished, by outcome: committed, failed (an operation failed, nothing committed), retry (not sent, or refused by the server: safe to send again), maybe_committed (in flight when the connection ended, canceled by the server, or abandoned by the caller), error.", "outcome")

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
	m.stop = c.Observe(m.observe)
	return m
}

// Close stops observing the client: the event-based metrics stop
// counting. What is read from Stats at scrape time is still reported.
func (m *Collector) Close() { m.stop() }

// Observe does nothing.
//
// Deprecated: the collector observes the client itself since NewCollector
// (cs.Client.Observe); forwarding events is no longer needed.
func (m *Collector) Observe(cs.Event) {}

// observe counts one event; the client calls it on its driver goroutine,
// so it only updates counters.
func (m *Collector) observe(ev cs.Event) {
	switch e := ev.(type) {
	case cs.Reconnect:
		m.mu.Lock()
		m.reasons[ReconnectReason(e.Reason)]++
		m.mu.Unlock()
	case cs.Recovered:
		m.recoveries.Observe(e.Duration.Seconds())
		m.mu.Lock()
		m.recAttemptsSum += float64(e.Attempts)
		if e.BackoffUsed {
			m.recBackoffCount++
		}
		m.mu.Unlock()
	case cs.Update:
		if e.Raw != nil {
			for _, t := range e.Raw.Tables() {
				m.updates.WithLabelValues(t).Inc()
			}
		}
		type tableOp struct {
			table string
			op    monitor.ChangeOp
		}
		counts := map[tableOp]int{}
		for ch := range e.Changes.All() {
			counts[tableOp{ch.Table, ch.Op}]++
		}
		for k, n := range counts {
			m.rows.WithLabelValues(k.table, k.op.String()).Add(float64(n))
		}
	case cs.TxnReply:
		// Outcomes that may be retried or may have committed are
		// counted by the client's Stats, with those that got no reply.
		switch o := TxnOutcome(e.Err); o {
		case "committed", "failed", "error":
			m.mu.Lock()
			m.txnReplies[o]++
			m.mu.Unlock()
		}
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
		m.backoff, m.replicaRows, m.received, m.attempts, m.recAttempts, m.recBackoff, m.lockHeld, m.reconnects, m.rebuilds, m.txns} {
		ch <- d
	}
	m.recoveries.Describe(ch)
	m.updates.Describe(ch)
	m.rows.Describe(ch)
}

// Collect implements prometheus.Collector: it reads the client's Stats and
// replica, and reports them with what the observed events counted.
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
	gauge(m.leader, b2f(st.Leader))
	if st.Connected && st.Remote != "" {
		gauge(m.remote, 1, st.Remote)
	}
	if name, ok := methodNames[st.MonitorVersion]; ok {
		gauge(m.method, 1, name)
	}
	gauge(m.backoff, st.Session.Backoff.Seconds())
	counter(m.attempts, float64(st.Session.Attempted))
	counter(m.received, float64(st.ReceivedBytes))
	gauge(m.lockHeld, b2f(st.HasLock))
	counter(m.rebuilds, float64(st.Rebuilds))
	if r := m.c.Replica(); r != nil {
		for _, t := range r.Schema().Tables {
			gauge(m.replicaRows, float64(r.Len(t.Name)), t.Name)
		}
	}
	counter(m.txns, float64(st.TryAgain), "retry")
	counter(m.txns, float64(st.MaybeCommitted), "maybe_committed")

	m.mu.Lock()
	for _, o := range []string{"committed", "failed", "error"} {
		counter(m.txns, m.txnReplies[o], o)
	}
	counter(m.recAttempts, m.recAttemptsSum)
	counter(m.recBackoff, m.recBackoffCount)
	// Reconnects: by reason from the events observed; those Stats counts
	// that no observed event explains (before the collector was created)
	// are reason "unknown".
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
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
