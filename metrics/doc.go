// Package metrics exports the state of one ovsdbcs client (cs.Client) to
// Prometheus through client_golang. It is a Go module of its own, so that
// the library's go.mod does not pull in client_golang.
//
// # Use
//
//	client, _ := cs.New("OVN_Northbound", remotes)
//	col := metrics.NewCollector(client)
//	go metrics.Serve(ctx, ":9476", col) // GET /metrics
//	go client.Run(ctx)
//	for ev := range client.Events() {
//		col.Observe(ev) // reconnect reasons, rows, transactions, monitor method
//		// ... the application's own handling
//	}
//
// Or register the collector with a registry of your own:
// prometheus.MustRegister(col). Several clients in one process need
// WithConstLabels to tell their series apart.
//
// Without Observe (for example with cs.WithEventBuffer(-1)), everything read
// from Client.Stats and the replica is still exported; what only events
// carry is not: the reconnect reasons (they are counted as "unknown"),
// ovsdbcs_updates_total, ovsdbcs_rows_applied_total,
// ovsdbcs_transactions_total and ovsdbcs_monitor_method_info.
//
// # Metrics
//
// Read from Client.Stats and Client.Replica at scrape time:
//
//	ovsdbcs_state{state}                      gauge    1 for the current state (MONITORING, RETRY, ...), 0 for the others
//	ovsdbcs_connected                         gauge    1 while connected to a server
//	ovsdbcs_connected_remote_info{remote}     gauge    1, labelled with the connected remote (absent when not connected)
//	ovsdbcs_connected_leader                  gauge    1 while MONITORING the cluster leader (inferred, see WithLeaderOnly)
//	ovsdbcs_synced                            gauge    1 once a monitor reply was received
//	ovsdbcs_lock_held                         gauge    1 while the lock (cs.WithLock) is held
//	ovsdbcs_backoff_seconds                   gauge    the reconnect backoff in force
//	ovsdbcs_replica_rows{table}               gauge    rows in the replica
//	ovsdbcs_connection_attempts_total         counter  connection attempts finished
//	ovsdbcs_received_bytes_total              counter  bytes received, over every connection
//	ovsdbcs_transaction_rebuilds_total        counter  times TransactFunc ran its builder again
//	ovsdbcs_reconnects_total{reason}          counter  connections lost (reasons from Observe, else "unknown")
//	ovsdbcs_recovery_duration_seconds         histogram  time from leaving MONITORING to MONITORING again
//	ovsdbcs_recovery_attempts_total           counter  connection attempts made during recoveries
//	ovsdbcs_recoveries_with_backoff_total     counter  recoveries that waited a non-zero backoff
//
// Counted by Observe:
//
//	ovsdbcs_monitor_method_info{method}       gauge    1, labelled monitor_cond_since, monitor_cond or monitor (while MONITORING)
//	ovsdbcs_updates_total{table}              counter  monitor replies and update notifications applied, per table touched
//	ovsdbcs_rows_applied_total{table,op}      counter  row changes applied (op: insert, modify, delete)
//	ovsdbcs_transactions_total{outcome}       counter  committed, failed, retry (cs.ErrTryAgain), maybe_committed (cs.ErrMaybeCommitted), error
//
// The reason label takes a bounded set of values (see ReconnectReason):
// not_leader, unusable, inconsistent, malformed, message_too_large,
// server_error, request_timeout, forced, probe_timeout, connect_timeout,
// timeout, closed,
// other, unknown.
//
// # Scrape example
//
//	$ curl -s localhost:9476/metrics | grep '^ovsdbcs_'
//	ovsdbcs_backoff_seconds 0
//	ovsdbcs_connected 1
//	ovsdbcs_connected_leader 1
//	ovsdbcs_connected_remote_info{remote="tcp:127.0.0.1:6642"} 1
//	ovsdbcs_connection_attempts_total 3
//	ovsdbcs_monitor_method_info{method="monitor_cond_since"} 1
//	ovsdbcs_received_bytes_total 5.121007e+06
//	ovsdbcs_reconnects_total{reason="not_leader"} 1
//	ovsdbcs_recoveries_with_backoff_total 0
//	ovsdbcs_recovery_attempts_total 2
//	ovsdbcs_recovery_duration_seconds_bucket{le="0.001"} 0
//	ovsdbcs_recovery_duration_seconds_bucket{le="0.0025"} 0
//	ovsdbcs_recovery_duration_seconds_bucket{le="0.005"} 0
//	ovsdbcs_recovery_duration_seconds_bucket{le="0.01"} 1
//	...
//	ovsdbcs_recovery_duration_seconds_bucket{le="+Inf"} 1
//	ovsdbcs_recovery_duration_seconds_sum 0.0087
//	ovsdbcs_recovery_duration_seconds_count 1
//	ovsdbcs_replica_rows{table="Item"} 10001
//	ovsdbcs_rows_applied_total{op="insert",table="Item"} 20001
//	ovsdbcs_state{state="MONITORING"} 1
//	ovsdbcs_state{state="RETRY"} 0
//	...
//	ovsdbcs_synced 1
//	ovsdbcs_transactions_total{outcome="committed"} 1
//	ovsdbcs_transactions_total{outcome="error"} 0
//	ovsdbcs_transactions_total{outcome="failed"} 0
//	ovsdbcs_transactions_total{outcome="maybe_committed"} 0
//	ovsdbcs_transactions_total{outcome="retry"} 0
//	ovsdbcs_updates_total{table="Item"} 3
//
// Useful queries: rate(ovsdbcs_reconnects_total[5m]) by reason;
// histogram_quantile(0.99, rate(ovsdbcs_recovery_duration_seconds_bucket[1h]));
// ovsdbcs_connected_leader == 0 for a client that is not following the leader.
//
// # Limits
//
// Stats keeps the latest 64 recoveries: more than 64 recoveries between two
// scrapes lose the oldest from the histogram. The bytes counter adds each
// connection's received bytes at scrape time: the bytes a connection
// received after the last scrape before it ended are not counted.
package metrics
