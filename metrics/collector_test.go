package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
	"github.com/ovsdbcs/ovsdbcs/metrics"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// fixture is a client of the fake cluster (in-memory connections, fake
// time) with a collector; the application reads events without
// forwarding them.
type fixture struct {
	cluster *testserver.Cluster
	client  *cs.Client
	col     *metrics.Collector
}

func newFixture(t *testing.T) *fixture {
	cl, err := testserver.NewCluster(3, testserver.LabSchema(), testserver.InMemory())
	require.NoError(t, err)
	t.Cleanup(func() { cl.Close() })
	c, err := cs.New("Lab", cl.Remotes(), cs.WithDialer(cl.DialContext), cs.WithShuffle(false))
	require.NoError(t, err)
	col := metrics.NewCollector(c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = c.Run(ctx); done <- struct{}{} }()
	go func() {
		for range c.Events() {
		}
		done <- struct{}{}
	}()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return &fixture{cluster: cl, client: c, col: col}
}

// waitMonitoring waits (in fake time) for MONITORING after recoveries
// recoveries, and for every goroutine to settle, so that every event has
// been observed.
func (f *fixture) waitMonitoring(t *testing.T, recoveries int) {
	deadline := time.Now().Add(time.Minute)
	for f.client.State() != cs.Monitoring || len(f.client.Stats().Recoveries) != recoveries {
		require.True(t, time.Now().Before(deadline), "not monitoring after a minute")
		time.Sleep(time.Millisecond)
	}
	synctest.Wait()
}

func TestCollectorFakeCluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		f.waitMonitoring(t, 0)
		ctx := context.Background()
		insert := ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Item", Row: ovsdb.Row{"name": "a"}}
		_, err := f.client.Transact(ctx, insert)
		require.NoError(t, err)
		_, err = f.client.Transact(ctx, insert)
		var te *cs.TxnError
		require.ErrorAs(t, err, &te) // the index on name
		_, err = f.cluster.Transact(ctx, `[{"op":"insert","table":"Item","row":{"name":"b"}}]`)
		require.NoError(t, err)
		synctest.Wait()

		require.NoError(t, testutil.CollectAndCompare(f.col, strings.NewReader(`
# HELP ovsdbcs_connected 1 while the client has a connection to a server.
# TYPE ovsdbcs_connected gauge
ovsdbcs_connected 1
# HELP ovsdbcs_connected_leader 1 while the client is connected to a server whose _Server row says it is the cluster leader (or a standalone server).
# TYPE ovsdbcs_connected_leader gauge
ovsdbcs_connected_leader 1
# HELP ovsdbcs_connected_remote_info The remote the client is connected to (value 1; absent while not connected).
# TYPE ovsdbcs_connected_remote_info gauge
ovsdbcs_connected_remote_info{remote="tcp:127.0.0.1:6641"} 1
# HELP ovsdbcs_monitor_method_info The monitor method of the data monitor in use (value 1): monitor_cond_since, monitor_cond or monitor.
# TYPE ovsdbcs_monitor_method_info gauge
ovsdbcs_monitor_method_info{method="monitor_cond_since"} 1
# HELP ovsdbcs_replica_rows Rows in the replica, per table.
# TYPE ovsdbcs_replica_rows gauge
ovsdbcs_replica_rows{table="Item"} 2
# HELP ovsdbcs_rows_applied_total Row changes applied to the replica, per table and operation (insert, modify, delete).
# TYPE ovsdbcs_rows_applied_total counter
ovsdbcs_rows_applied_total{op="insert",table="Item"} 2
# HELP ovsdbcs_state 1 for the client's current state (cs.State, OVS's names), 0 for the others.
# TYPE ovsdbcs_state gauge
ovsdbcs_state{state="DATA_MONITOR_COND_REQUESTED"} 0
ovsdbcs_state{state="DATA_MONITOR_COND_SINCE_REQUESTED"} 0
ovsdbcs_state{state="DATA_MONITOR_REQUESTED"} 0
ovsdbcs_state{state="DATA_SCHEMA_REQUESTED"} 0
ovsdbcs_state{state="MONITORING"} 1
ovsdbcs_state{state="RETRY"} 0
ovsdbcs_state{state="SERVER_MONITOR_REQUESTED"} 0
ovsdbcs_state{state="SERVER_SCHEMA_REQUESTED"} 0
# HELP ovsdbcs_synced 1 once the client has received a monitor reply (the replica holds the server's data).
# TYPE ovsdbcs_synced gauge
ovsdbcs_synced 1
# HELP ovsdbcs_transactions_total Transactions finished, by outcome: committed, failed (an operation failed, nothing committed), retry (not sent, or refused by the server: safe to send again), maybe_committed (in flight when the connection ended, canceled by the server, or abandoned by the caller), error.
# TYPE ovsdbcs_transactions_total counter
ovsdbcs_transactions_total{outcome="committed"} 1
ovsdbcs_transactions_total{outcome="error"} 0
ovsdbcs_transactions_total{outcome="failed"} 1
ovsdbcs_transactions_total{outcome="maybe_committed"} 0
ovsdbcs_transactions_total{outcome="retry"} 0
# HELP ovsdbcs_updates_total Updates (monitor replies and update notifications) applied to the replica, per table they touched.
# TYPE ovsdbcs_updates_total counter
ovsdbcs_updates_total{table="Item"} 2
`), "ovsdbcs_connected", "ovsdbcs_connected_leader", "ovsdbcs_connected_remote_info",
			"ovsdbcs_monitor_method_info", "ovsdbcs_replica_rows", "ovsdbcs_rows_applied_total",
			"ovsdbcs_state", "ovsdbcs_synced", "ovsdbcs_transactions_total", "ovsdbcs_updates_total"))

		// A leader change: one reconnect (the old leader is no longer
		// leader) and one recovery, on the next member.
		require.NoError(t, f.cluster.TransferLeadership(testserver.AnyOther))
		f.waitMonitoring(t, 1)
		rec := f.client.Stats().Recoveries[0]
		require.NoError(t, testutil.CollectAndCompare(f.col, strings.NewReader(fmt.Sprintf(`
# HELP ovsdbcs_connected_remote_info The remote the client is connected to (value 1; absent while not connected).
# TYPE ovsdbcs_connected_remote_info gauge
ovsdbcs_connected_remote_info{remote="tcp:127.0.0.1:6642"} 1
# HELP ovsdbcs_reconnects_total Connections lost, by reason.
# TYPE ovsdbcs_reconnects_total counter
ovsdbcs_reconnects_total{reason="not_leader"} 1
# HELP ovsdbcs_recovery_attempts_total Connection attempts made during recoveries (sum over recoveries; divide by ovsdbcs_recovery_duration_seconds_count for the mean).
# TYPE ovsdbcs_recovery_attempts_total counter
ovsdbcs_recovery_attempts_total %d
# HELP ovsdbcs_recoveries_with_backoff_total Recoveries in which the client waited a non-zero backoff before an attempt.
# TYPE ovsdbcs_recoveries_with_backoff_total counter
ovsdbcs_recoveries_with_backoff_total 0
`, rec.Attempts)), "ovsdbcs_connected_remote_info", "ovsdbcs_reconnects_total",
			"ovsdbcs_recovery_attempts_total", "ovsdbcs_recoveries_with_backoff_total"))
		require.Equal(t, 1, testutil.CollectAndCount(f.col, "ovsdbcs_recovery_duration_seconds"))
		// A second scrape does not count the same recovery twice.
		require.Contains(t, gather(t, f.col), "ovsdbcs_recovery_duration_seconds_count 1\n")
		out := gather(t, f.col)
		require.Contains(t, out, "ovsdbcs_recovery_duration_seconds_count 1\n")
		require.Contains(t, out, "ovsdbcs_received_bytes_total ")
		problems, err := testutil.CollectAndLint(f.col)
		require.NoError(t, err)
		require.Empty(t, problems)
	})
}

// gather returns the collector's metrics in the text format.
func gather(t *testing.T, col *metrics.Collector) string {
	t.Helper()
	reg := prometheusRegistry(t, col)
	var b strings.Builder
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		writeText(&b, mf)
	}
	return b.String()
}

// With events disabled, and more recoveries than Stats.Recoveries keeps,
// the collector still counts every reason, recovery and transaction.
func TestCollectorEventsDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cl, err := testserver.NewCluster(3, testserver.LabSchema(), testserver.InMemory())
		require.NoError(t, err)
		defer cl.Close()
		c, err := cs.New("Lab", cl.Remotes(), cs.WithDialer(cl.DialContext), cs.WithShuffle(false), cs.WithEventBuffer(-1))
		require.NoError(t, err)
		col := metrics.NewCollector(c)
		defer col.Close()
		// Refused before Run: retry.
		_, err = c.TransactRaw(context.Background(), []byte(`[]`))
		require.ErrorIs(t, err, cs.ErrTryAgain)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = c.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		waitRecoveries := func(n int) {
			deadline := time.Now().Add(time.Minute)
			for c.State() != cs.Monitoring || c.Stats().RecoveryCount != n {
				require.True(t, time.Now().Before(deadline), "not monitoring after %d recoveries", n)
				time.Sleep(time.Millisecond)
			}
			synctest.Wait()
		}
		waitRecoveries(0)
		insert := ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Item", Row: ovsdb.Row{"name": "a"}}
		_, err = c.Transact(ctx, insert)
		require.NoError(t, err)
		_, err = c.Transact(ctx, insert)
		var te *cs.TxnError
		require.ErrorAs(t, err, &te)

		const transfers = 70 // more than Stats.Recoveries keeps
		for i := 1; i <= transfers; i++ {
			require.NoError(t, cl.TransferLeadership(testserver.AnyOther))
			waitRecoveries(i)
		}
		st := c.Stats()
		require.Len(t, st.Recoveries, 64)
		attempts := 0
		for _, r := range st.Recoveries {
			attempts += r.Attempts
		}
		require.NoError(t, testutil.CollectAndCompare(col, strings.NewReader(fmt.Sprintf(`
# HELP ovsdbcs_connected_leader 1 while the client is connected to a server whose _Server row says it is the cluster leader (or a standalone server).
# TYPE ovsdbcs_connected_leader gauge
ovsdbcs_connected_leader 1
# HELP ovsdbcs_monitor_method_info The monitor method of the data monitor in use (value 1): monitor_cond_since, monitor_cond or monitor.
# TYPE ovsdbcs_monitor_method_info gauge
ovsdbcs_monitor_method_info{method="monitor_cond_since"} 1
# HELP ovsdbcs_received_bytes_total Bytes received from servers, over every connection.
# TYPE ovsdbcs_received_bytes_total counter
ovsdbcs_received_bytes_total %d
# HELP ovsdbcs_reconnects_total Connections lost, by reason.
# TYPE ovsdbcs_reconnects_total counter
ovsdbcs_reconnects_total{reason="not_leader"} %d
# HELP ovsdbcs_rows_applied_total Row changes applied to the replica, per table and operation (insert, modify, delete).
# TYPE ovsdbcs_rows_applied_total counter
ovsdbcs_rows_applied_total{op="insert",table="Item"} 1
# HELP ovsdbcs_transactions_total Transactions finished, by outcome: committed, failed (an operation failed, nothing committed), retry (not sent, or refused by the server: safe to send again), maybe_committed (in flight when the connection ended, canceled by the server, or abandoned by the caller), error.
# TYPE ovsdbcs_transactions_total counter
ovsdbcs_transactions_total{outcome="committed"} 1
ovsdbcs_transactions_total{outcome="error"} 0
ovsdbcs_transactions_total{outcome="failed"} 1
ovsdbcs_transactions_total{outcome="maybe_committed"} 0
ovsdbcs_transactions_total{outcome="retry"} 1
`, st.ReceivedBytes, transfers)), "ovsdbcs_connected_leader", "ovsdbcs_monitor_method_info", "ovsdbcs_received_bytes_total",
			"ovsdbcs_reconnects_total", "ovsdbcs_rows_applied_total", "ovsdbcs_transactions_total"))
		out := gather(t, col)
		require.Contains(t, out, fmt.Sprintf("ovsdbcs_recovery_duration_seconds_count %d\n", transfers))
		// Every recovery's attempts, also of those Stats no longer keeps.
		var total float64
		_, err = fmt.Sscanf(out[strings.Index(out, "\novsdbcs_recovery_attempts_total "):], "\novsdbcs_recovery_attempts_total %g", &total)
		require.NoError(t, err)
		require.Greater(t, int(total), attempts)

		// Closed, the collector stops counting events.
		col.Close()
		require.NoError(t, cl.TransferLeadership(testserver.AnyOther))
		waitRecoveries(transfers + 1)
		require.Contains(t, gather(t, col), fmt.Sprintf("ovsdbcs_recovery_duration_seconds_count %d\n", transfers))
	})
}

func TestReconnectReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "closed"},
		{fmt.Errorf("x: %w", leader.ErrNotLeader), "not_leader"},
		{leader.ErrStale, "unusable"},
		{cs.ErrInconsistent, "inconsistent"},
		{fmt.Errorf("x: %w", jsonrpc.ErrProtocol), "malformed"},
		{jsonrpc.ErrMessageTooLarge, "message_too_large"},
		{cs.ErrForced, "forced"},
		{cs.ErrRequestTimeout, "request_timeout"},
		{jsonrpc.ErrProbeTimeout, "probe_timeout"},
		{fmt.Errorf("x: %w", io.EOF), "closed"},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, "timeout"},
		{errors.New("boom"), "other"},
	} {
		require.Equal(t, tc.want, metrics.ReconnectReason(tc.err), "%v", tc.err)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

func TestTxnOutcome(t *testing.T) {
	require.Equal(t, "committed", metrics.TxnOutcome(nil))
	require.Equal(t, "failed", metrics.TxnOutcome(&cs.TxnError{Op: 0, Err: "constraint violation"}))
	require.Equal(t, "retry", metrics.TxnOutcome(cs.ErrNotMonitoring))
	require.Equal(t, "maybe_committed", metrics.TxnOutcome(cs.ErrReconnected))
	require.Equal(t, "maybe_committed", metrics.TxnOutcome(cs.ErrCanceled))
	require.Equal(t, "error", metrics.TxnOutcome(errors.New("boom")))
}

func TestServe(t *testing.T) {
	c, err := cs.New("Lab", "tcp:127.0.0.1:1")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metrics.ServeListener(ctx, ln, metrics.NewCollector(c)) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "ovsdbcs_connected 0\n")
	require.Contains(t, string(body), "go_goroutines ")
	cancel()
	require.NoError(t, <-done)
	// A bad address is an error.
	require.Error(t, metrics.Serve(context.Background(), "127.0.0.1:-1", metrics.NewCollector(c)))
}
