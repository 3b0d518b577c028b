package main

import (
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// refuseAll makes every member of c stop listening (a connection attempt is
// refused, as when no server runs) or, with on false, listen again on the
// same port.
func refuseAll(t *testing.T, c *testserver.Cluster, on bool) {
	t.Helper()
	for i := range c.Size() {
		if err := c.Member(i).SetFaults(testserver.Faults{RefuseConnections: on}); err != nil {
			t.Fatal(err)
		}
	}
}

// wait waits for the command to end by itself and returns its exit status.
func (r *cmdRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code // for stop and the cleanup
		return code
	case <-time.After(waitTimeout):
		t.Fatalf("the command did not end; stderr:\n%s", r.stderr)
		return -1
	}
}

// waitCond waits until cond holds, or fails t.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const blindLine = "ovsdb-cs: no server reachable yet, retrying in 1 s\n"

func TestStartBeforeServers(t *testing.T) {
	// Started while no member listens, each command reports that it waits,
	// keeps trying with the backoff, and goes on once the servers are up.
	// A misspelt name is still an error at once when a server answers.
	c := newCluster(t)
	remotes := c.Remotes()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int    // exit status; -1: runs until interrupted
		stdout string // in stdout
		stderr string // in stderr
	}{
		{"list-dbs", []string{"list-dbs", remotes}, exitOK, "Lab\n", ""},
		{"list-tables", []string{"list-tables", remotes, "Lab"}, exitOK, "Item", ""},
		{"dump", []string{"dump", remotes, "Lab", "Item", "name"}, exitOK, "Item table\n", "using "},
		{"transact", []string{"transact", remotes, `["Lab",{"op":"insert","table":"Item","row":{"name":"late"}}]`}, exitOK, `[{"uuid":["uuid",`, "using "},
		{"monitor", []string{"monitor", remotes, "Lab", "Item", "name"}, -1, "", "monitoring "},
		{"unknown table", []string{"monitor", remotes, "Lab", "Itme"}, exitFail, "", `Lab does not have a table named "Itme" (did you mean "Item"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refuseAll(t, c, true)
			args := append([]string{tc.args[0], "--max-backoff=1s"}, tc.args[1:]...)
			r := start(t, args...)
			r.stderr.waitFor(t, "the blind line", func(s string) bool { return strings.Contains(s, blindLine) })
			refuseAll(t, c, false)
			if tc.code < 0 {
				r.stderr.waitFor(t, "the leader", func(s string) bool {
					return strings.Contains(s, "monitoring "+c.Member(c.Leader()).Remote()+" (leader)\n")
				})
				if code := r.stop(t); code != exitOK {
					t.Fatalf("exit %d after interrupt; stderr:\n%s", code, r.stderr)
				}
			} else if code := r.wait(t); code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, r.stdout, r.stderr)
			}
			if out := r.stdout.String(); !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, out)
			}
			errOut := r.stderr.String()
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
			// One line per change of the wait, not one per attempt.
			if n := strings.Count(errOut, "no server reachable yet"); n != 1 {
				t.Errorf("%d \"no server reachable yet\" lines, want 1:\n%s", n, errOut)
			}
			t.Logf("stderr:\n%s", errOut)
		})
	}
}

func TestStartTimeout(t *testing.T) {
	// With no server to reach, --timeout ends the wait: exit status 1, and
	// the message names the remotes and the last failure.
	c := newCluster(t)
	refuseAll(t, c, true)
	for _, cmd := range [][]string{
		{"dump", c.Remotes(), "Lab"},
		{"monitor", c.Remotes(), "Lab", "Item"},
		{"transact", c.Remotes(), `["Lab",{"op":"comment","comment":"x"}]`},
	} {
		args := append([]string{cmd[0], "--timeout=1500ms", "--max-backoff=1s"}, cmd[1:]...)
		code, out, errOut := runSync(t, args...)
		want := "ovsdb-cs " + cmd[0] + ": error: timed out (--timeout): no server of " + c.Remotes() + " answered; last error: "
		if code != exitFail || out != "" || !strings.Contains(errOut, blindLine) || !strings.Contains(errOut, want) ||
			!strings.Contains(errOut, "connection refused") {
			t.Errorf("%q: exit %d, want %d; stdout %q\nstderr (want %q and \"connection refused\"):\n%s", args, code, exitFail, out, want, errOut)
		}
	}
}

func TestMonitorInterruptedWhileBlind(t *testing.T) {
	// monitor interrupted before any server answered ends cleanly, as it
	// does once monitoring.
	c := newCluster(t)
	refuseAll(t, c, true)
	r := start(t, "monitor", "--max-backoff=1s", c.Remotes(), "Lab", "Item")
	r.stderr.waitFor(t, "the blind line", func(s string) bool { return strings.Contains(s, blindLine) })
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d after interrupt; stderr:\n%s", code, r.stderr)
	}
}

func TestStartSkipsSilentServer(t *testing.T) {
	// A server that accepts the connection but never answers is left for
	// the next remote once the inactivity probe gives up on it.
	c := newCluster(t)
	if err := c.Member(0).SetFaults(testserver.Faults{Hang: true}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runSync(t, "list-dbs", "--probe-interval=1s", c.Remotes())
	want := "ovsdb-cs: " + c.Member(0).Remote() + ": list_dbs: no answer: "
	if code != exitOK || out != "Lab\n_Server\n" || !strings.Contains(errOut, want) || !strings.Contains(errOut, "; trying another server\n") {
		t.Fatalf("exit %d, stdout %q\nstderr (want %q):\n%s", code, out, want, errOut)
	}
	t.Logf("stderr:\n%s", errOut)
}
