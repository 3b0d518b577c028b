// Package ovsdbserver starts and steers real ovsdb-server processes for tests
// and benchmarks: standalone servers and RAFT clusters on 127.0.0.1.
//
// The core API (NewCluster, NewStandalone) takes a context and options and
// works anywhere, e.g. in benchmark programs; StartCluster and
// StartStandalone wrap it for tests: they skip the test when Open vSwitch is
// not installed (fail it when OVSDBCS_REQUIRE_OVSDB_SERVER=1), print the
// tail of the server logs when the test failed, and close everything at
// cleanup.
//
//	c := ovsdbserver.StartCluster(t, 3, ovsdbserver.LabSchema())
//	client := connect(c.Remotes())              // "tcp:127.0.0.1:P1,tcp:..."
//	tr, err := c.TransferLeadership(ctx, ovsdbserver.TransferFailureTest)
//	// tr.From, tr.To, tr.Issued: the old and new leader, when it was asked
//	_, err = c.Transact(ctx, `{"op":"insert","table":"Item","row":{"name":"a"}}`)
//	want, err := c.Dump(ctx)                    // compare with the client's replica
//
// Every server runs as a child of the calling process (not --detach): it is
// stopped by pid (Close: SIGCONT, SIGTERM, then SIGKILL), reaped, and killed
// by the kernel if the calling process dies first, so none outlives a test.
// Unixctl commands (cluster/status, cluster/failure-test, exit) are sent
// over the member's control socket directly, which takes well under a
// millisecond, instead of spawning ovs-appctl.
//
// Member files live in one directory (a temporary one by default, removed
// by Close): sI.db, sI.log, sI.ctl, sI.pid, sI.sock and sI.out for member
// index I (from 0).
package ovsdbserver
