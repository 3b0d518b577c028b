package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// waitTimeout bounds every wait for a condition; the conditions are
// normally met within milliseconds.
const waitTimeout = 20 * time.Second

// outBuf is an io.Writer that tests can wait on.
type outBuf struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newOutBuf() *outBuf { return &outBuf{changed: make(chan struct{})} }

func (o *outBuf) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.changed)
	o.changed = make(chan struct{})
	return o.b.Write(p)
}

func (o *outBuf) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// waitFor waits until cond holds for the whole output so far, or fails t.
func (o *outBuf) waitFor(t *testing.T, what string, cond func(out string) bool) string {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		out, ch := o.b.String(), o.changed
		o.mu.Unlock()
		if cond(out) {
			return out
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; output so far:\n%s", what, out)
		}
	}
}

// cmdRun is one in-process run of the command.
type cmdRun struct {
	stdout, stderr *outBuf
	cancel         context.CancelFunc
	done           chan int
}

// start runs the command with args in the background; stop ends it.
func start(t *testing.T, args ...string) *cmdRun {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r := &cmdRun{stdout: newOutBuf(), stderr: newOutBuf(), cancel: cancel, done: make(chan int, 1)}
	go func() { r.done <- run(ctx, args, r.stdout, r.stderr) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// stop interrupts the command (as SIGINT would) and returns its exit status.
func (r *cmdRun) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code // for the cleanup
		return code
	case <-time.After(waitTimeout):
		t.Fatalf("the command did not stop; stderr:\n%s", r.stderr)
		return -1
	}
}

// runSync runs the command to its end.
func runSync(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(t.Context(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelp(t *testing.T) {
	code, out, _ := runSync(t, "--help")
	if code != exitOK || !strings.Contains(out, "Usage: ovsdb-cs COMMAND") {
		t.Fatalf("--help: exit %d, stdout:\n%s", code, out)
	}
	for _, c := range commands {
		if !strings.Contains(out, c.name) {
			t.Errorf("--help does not list %s", c.name)
		}
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			code, out, errOut := runSync(t, args...)
			if code != exitOK || !strings.Contains(out, "Usage: ovsdb-cs "+c.name) || !strings.Contains(out, "--help") || errOut != "" ||
				!strings.Contains(out, "Example") {
				t.Errorf("%q: exit %d, stdout:\n%s\nstderr:\n%s", args, code, out, errOut)
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage: ovsdb-cs COMMAND"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"testserver", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"testserver", "-n", "0"}, "-n must be at least 1"},
		{[]string{"testserver", "extra"}, "unexpected arguments"},
		{[]string{"monitor"}, "want [SERVER] [DATABASE] TABLE"},
		{[]string{"monitor-cond", "Item"}, "want [SERVER] [DATABASE] CONDITION TABLE"},
		{[]string{"monitor", "--format=yaml", "tcp:127.0.0.1:1", "Lab", "Item"}, `--format: unknown output format "yaml"`},
		{[]string{"monitor", "--data=yaml", "tcp:127.0.0.1:1", "Lab", "Item"}, `--data: unknown data format "yaml"`},
		{[]string{"monitor", "bogus:remote", "Lab", "Item"}, "SERVER"},
		{[]string{"monitor", "ssl:127.0.0.1:1", "Lab", "Item"}, "ssl: remotes need"},
		{[]string{"monitor", "--ca-cert=x", "tcp:127.0.0.1:1", "Lab", "Item"}, "apply only to ssl:"},
		{[]string{"monitor", "--max-backoff=0s", "tcp:127.0.0.1:1", "Lab", "Item"}, "--max-backoff"},
		{[]string{"dump", "--format=yaml", "tcp:127.0.0.1:1"}, "--format"},
		{[]string{"transact"}, "want [SERVER] TRANSACTION"},
		{[]string{"demo", "-n", "1"}, "-n must be at least 2"},
		{[]string{"demo", "--failover=fast"}, "--failover: unknown policy"},
		{[]string{"monitor", "--failover=fast", "tcp:127.0.0.1:1", "Lab", "Item"}, "--failover: unknown policy"},
	} {
		code, out, errOut := runSync(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%q: exit %d, want %d; stderr %q should contain %q; stdout %q", tc.args, code, exitUsage, errOut, tc.want, out)
		}
	}
}

func TestParseArgsInterspersed(t *testing.T) {
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	fs := newFlagSet(e, "x", "")
	f := fs.String("format", "", "")
	var v verbosity
	addVerbose(fs, &v)
	pos, err := parseArgs(fs, []string{"a", "--format", "json", "b", "-v", "-v", "--", "-c"})
	if err != nil {
		t.Fatal(err)
	}
	if *f != "json" || v != 2 || strings.Join(pos, " ") != "a b -c" {
		t.Fatalf("format %q, verbosity %d, positional %q", *f, v, pos)
	}
}

func TestTestServerCommand(t *testing.T) {
	r := start(t, "testserver", "-n", "3")
	out := r.stdout.waitFor(t, "the remotes", func(out string) bool { return strings.HasSuffix(out, "\n") })
	remotes := strings.Split(strings.TrimSpace(out), ",")
	if len(remotes) != 3 {
		t.Fatalf("remotes %q, want 3", out)
	}
	errOut := r.stderr.waitFor(t, "the member list", func(s string) bool { return strings.Contains(s, "running until") })
	for i, rem := range remotes {
		if !strings.Contains(errOut, fmt.Sprintf("member %d  %s", i, rem)) {
			t.Errorf("stderr does not list member %d at %s:\n%s", i, rem, errOut)
		}
		// Each member answers OVSDB requests on its port.
		addr, ok := strings.CutPrefix(rem, "tcp:")
		if !ok || !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Fatalf("remote %q is not a loopback tcp: remote", rem)
		}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(waitTimeout))
		fmt.Fprint(conn, `{"id":1,"method":"list_dbs","params":[]}`)
		var reply struct {
			Result []string `json:"result"`
		}
		if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&reply); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		if !strings.Contains(strings.Join(reply.Result, ","), "Lab") {
			t.Errorf("member %d list_dbs = %q", i, reply.Result)
		}
	}
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d after interrupt; stderr:\n%s", code, r.stderr)
	}
}

func TestTestServerBadSchema(t *testing.T) {
	code, _, errOut := runSync(t, "testserver", "--schema", t.TempDir()+"/missing.ovsschema")
	if code != exitFail || !strings.Contains(errOut, "missing.ovsschema") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// newCluster starts a 3-member fake cluster on loopback TCP.
func newCluster(t *testing.T) *testserver.Cluster {
	t.Helper()
	c, err := testserver.NewCluster(3, testserver.LabSchema())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
