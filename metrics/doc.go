// Package metrics exports the state of one ovsdbcs client (cs.Client) to
// Prometheus through client_golang. It is a Go module of its own, so that
// the library's go.mod does not pull in client_golang.
//
// # Use
//
//	client, _ := cs.New("OVN_Northbound", remotes)
//	col := metrics.NewCollector(client) // before Run: it observes every event
//	go metrics.Serve(ctx, ":9476", col) // GET /metrics
//	go client.Run(ctx)
//	// ... the application reads client.Events() as it needs (or disables
//	// them with cs.WithEventBuffer(-1)); nothing is forwarded to col.
//
// Or register the collector with a registry of your own:
// prometheus.MustRegister(col). Several clients in one process need
// WithConstLabels to tell their series apart.
//
// The collector observes the client itself (cs.Client.Observe): it counts
// every event as the client produces it, on the client's goroutine, whether
// events are enabled and read or not. Collector.Close stops that.
//
// # Metrics
//
// Read from Client.Stats and Client.Replica at scrape time:
//
//	ovsdbcs_state{state}                      gauge    1 for the current state (MONITORING, RETRY, ...), 0 for the others
//	ovsdbcs_connected                         gauge    1 while connected to a server
//	ovsdbcs_connected_remote_info{remote}     gauge    1, labelled with the connected remote (absent when not connected)
//	ovsdbcs_connected_leader                  gauge    1 while connected to a server whose _Server row says leader (Stats.Leader)
//	ovsdbcs_monitor_method_info{method}       gauge    1, labelled monitor_cond_since, monitor_cond or monitor (absent without a data monitor)
//	ovsdbcs_synced                            gauge    1 once a monitor reply was received
//	ovsdbcs_lock_held                         gauge    1 while the lock (cs.WithLock) is held
//	ovsdbcs_backoff_seconds                   gauge    the reconnect backoff in force
//	ovsdbcs_replica_rows{table}               gauge    rows in the replica
//	ovsdbcs_connection_attempts_total         counter  connection attempts finished
//	ovsdbcs_received_bytes_total              counter  bytes received, over every connection (Stats.ReceivedBytes)
//	ovsdbcs_transaction_rebuilds_total        counter  times TransactFunc ran its builder again
//
// Counted from the events as the client produces them:
//
//	ovsdbcs_reconnects_total{reason}          counter  connections lost, by reason ("unknown": lost before the collector was created)
//	ovsdbcs_recovery_duration_seconds         histogram  time from leaving MONITORING to MONITORING again (cs.Recovered)
//	ovsdbcs_recovery_attempts_total           counter  connection attempts made during recoveries
//	ovsdbcs_recoveries_with_backoff_total     counter  recoveries that waited a non-zero backoff
//	ovsdbcs_updates_total{table}              counter  monitor replies and update notifications applied, per table touched
//	ovsdbcs_rows_applied_total{table,op}      counter  row changes applied (op: insert, modify, delete)
//	ovsdbcs_transactions_total{outcome}       counter  committed, failed (cs.TxnReply.Err is a *cs.TxnError), error: from the replies;
//	                                                   retry (cs.ErrTryAgain) and maybe_committed (cs.ErrMaybeCommitted): from Stats
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
// Events produced before NewCollector are not counted (reconnects before it
// show as reason "unknown"): create the collector before Client.Run. The
// received bytes are those of the client's connection (and of the leader
// watch's connections once adopted), not those of the watch's other
// connections.
package metrics
