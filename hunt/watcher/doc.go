// Package watcher runs a hunt.Watch over real connections: a Hunter opens
// the watchers the Watch asks for (a connection per member that monitors
// only _Server.Database for the database: get_schema of _Server, then
// monitor_cond with leader.MonitorParams), judges every row it receives
// with leader.Checker (hunt.VerdictOf), reports failures (refused, hung,
// garbage, dropped, an echo unanswered for Config.ProbeInterval), runs the
// Watch's timers, and hands the promoted watcher's open connection, with
// its _Server rows, to the owner of the data connection, which monitors
// the data database on it.
//
// Members are reached over tcp:, unix: or ssl: remotes, dialled as a
// jsonrpc.Session's attempts are (jsonrpc.DialRemote: Config.Dial, then
// for ssl: the TLS handshake with Config.TLSConfig); passive remotes
// cannot be watched.
//
// The owner tells the Hunter what happens on the data connection (Lost,
// Monitoring, which returns the recovery's record, PromotedFailed, Heard)
// and gets Notices (Promote, Leave, Echo, NoServer), in order, with the
// Hunter's lock held. No I/O happens under that lock: a promoted watcher's
// own goroutine prepares the handover (with CancelServerMonitor, one
// monitor_cancel round trip) and passes the open connection back.
//
// All decisions are the Watch's; this package only carries them out.
package watcher
