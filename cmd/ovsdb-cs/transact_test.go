package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// gateOp is a "wait" operation that holds a transaction at the server
// until an Item row named "gate" exists; with no timeout the server keeps
// it pending as long as the connection lasts.
const gateOp = `{"op":"wait","table":"Item","where":[["name","==","gate"]],"columns":["name"],"until":"==","rows":[{"name":"gate"}]}`

// startGated starts "transact" with ops behind gateOp and waits until the
// leader holds the transaction; it returns the run and the leader.
func startGated(t *testing.T, c *testserver.Cluster, ops string, flags ...string) (*cmdRun, int) {
	t.Helper()
	leader := c.Leader()
	args := append(append([]string{"transact"}, flags...), c.Remotes(), `["Lab",`+gateOp+`,`+ops+`]`)
	r := start(t, args...)
	waitCond(t, "the transaction at the leader", func() bool { return transacts(c, leader) > 0 })
	return r, leader
}

// transacts returns how many transact requests member i received.
func transacts(c *testserver.Cluster, i int) int {
	return c.Member(i).Counters().Requests["transact"]
}

const insertGated = `{"op":"insert","table":"Item","row":{"name":"maybe"}}`

func TestTransactMaybeCommitted(t *testing.T) {
	// The leader exits with a write in flight: the write may or may not
	// have committed, so it is not sent again and the exit status is 3.
	c := newCluster(t)
	r, leader := startGated(t, c, insertGated)
	if err := c.GracefulExit(leader); err != nil {
		t.Fatal(err)
	}
	code := r.wait(t)
	errOut := r.stderr.String()
	if code != exitMaybeCommitted || r.stdout.String() != "" ||
		!strings.Contains(errOut, "ovsdb-cs transact: error: transaction may or may not have committed: ") {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitMaybeCommitted, r.stdout, errOut)
	}
	for i := range c.Size() {
		if n := transacts(c, i); i != leader && n != 0 {
			t.Errorf("member %d received %d transact requests: the write was sent again", i, n)
		}
	}
	t.Logf("stderr:\n%s", errOut)
}

func TestTransactReadOnlyRetried(t *testing.T) {
	// The same with a transaction that only reads: it is sent again to the
	// new leader, and its results are printed with exit status 0.
	c := newCluster(t)
	r, leader := startGated(t, c, `{"op":"select","table":"Item","where":[["name","==","gate"]],"columns":["name"]}`)
	if err := c.GracefulExit(leader); err != nil {
		t.Fatal(err)
	}
	to := c.Leader()
	waitCond(t, "the transaction sent again to the new leader", func() bool { return transacts(c, to) > 0 })
	insertItem(t, c.Transact, "gate", 1)
	code := r.wait(t)
	errOut := r.stderr.String()
	if want := `[{},{"rows":[{"name":"gate"}]}]` + "\n"; code != exitOK || r.stdout.String() != want {
		t.Fatalf("exit %d, want %d; stdout %q, want %q\nstderr:\n%s", code, exitOK, r.stdout, want, errOut)
	}
	for _, want := range []string{
		"ovsdb-cs: using " + c.Member(leader).Remote() + " (leader)\n",
		"ovsdb-cs: retrying: transaction not committed",
		"ovsdb-cs: using " + c.Member(to).Remote() + " (leader)\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	t.Logf("stderr:\n%s", errOut)
}

func TestTransactTimeoutInFlight(t *testing.T) {
	// --timeout expiring with a write in flight: it may have committed,
	// exit status 3 (not 1).
	c := newCluster(t)
	r, _ := startGated(t, c, insertGated, "--timeout=5s")
	code := r.wait(t)
	if errOut := r.stderr.String(); code != exitMaybeCommitted ||
		!strings.Contains(errOut, "ovsdb-cs transact: error: transaction may or may not have committed: ") {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitMaybeCommitted, errOut)
	}
}

func TestDumpRetriedAfterLeaderExit(t *testing.T) {
	// dump only reads: a leader lost with its transaction in flight makes
	// it go again to the new leader. The leader holds its replies for a
	// second, so that it exits before answering (on a machine too slow for
	// that the test is skipped).
	c := newCluster(t)
	insertItem(t, c.Transact, "kept", 1)
	leader := c.Leader()
	if err := c.Member(leader).SetFaults(testserver.Faults{ReplyDelay: time.Second}); err != nil {
		t.Fatal(err)
	}
	// The schema is read from the first remote: a follower, for speed.
	var remotes []string
	for i := range c.Size() {
		remotes = append(remotes, c.Member((leader+1+i)%c.Size()).Remote())
	}
	r := start(t, "dump", "--probe-interval=0", "-f", "csv", strings.Join(remotes, ","), "Lab", "Item", "name")
	waitCond(t, "the dump at the leader", func() bool { return transacts(c, leader) > 0 })
	if err := c.GracefulExit(leader); err != nil {
		t.Fatal(err)
	}
	code := r.wait(t)
	errOut := r.stderr.String()
	if want := "Item table\nname\nkept\n"; code != exitOK || r.stdout.String() != want {
		t.Fatalf("exit %d, want %d; stdout %q, want %q\nstderr:\n%s", code, exitOK, r.stdout, want, errOut)
	}
	if !strings.Contains(errOut, "ovsdb-cs: retrying: transaction not committed") {
		t.Skipf("the leader answered before it exited; stderr:\n%s", errOut)
	}
	t.Logf("stderr:\n%s", errOut)
}
