package ovsdbserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// testCtx bounds one test step.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func insertItem(name string, n int) string {
	return fmt.Sprintf(`{"op":"insert","table":"Item","row":{"name":%q,"n":%d,"data":"d-%s"}}`, name, n, name)
}

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	return !strings.Contains(string(b), ") Z ") && !strings.Contains(string(b), ") X ")
}

func itemNames(t *testing.T, c ovsdbserver.Contents) map[string]bool {
	t.Helper()
	names := make(map[string]bool)
	for _, row := range c["Item"] {
		s, ok := row["name"].(string)
		require.True(t, ok, "name column %v", row["name"])
		names[s] = true
	}
	return names
}

func TestStandalone(t *testing.T) {
	s := ovsdbserver.StartStandalone(t, ovsdbserver.LabSchema())
	ctx := testCtx(t, 30*time.Second)
	assert.Equal(t, "Lab", s.DB())
	assert.Regexp(t, `^tcp:127\.0\.0\.1:\d+$`, s.Remote())
	assert.Empty(t, s.RaftAddress())

	res, err := s.Transact(ctx, insertItem("a", 1), map[string]any{
		"op": "insert", "table": "Item", "row": map[string]any{"name": "b", "n": 2},
	})
	require.NoError(t, err)
	require.Len(t, res, 2)

	// The unix socket remote serves the same database.
	conn, err := net.Dial("unix", strings.TrimPrefix(s.UnixRemote(), "unix:"))
	require.NoError(t, err)
	_, err = conn.Write([]byte(`{"id":1,"method":"list_dbs","params":[]}`))
	require.NoError(t, err)
	var reply struct{ Result []string }
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, json.NewDecoder(conn).Decode(&reply))
	assert.Equal(t, []string{"Lab", "_Server"}, reply.Result)
	_ = conn.Close()

	// A failing operation comes back as a *TxnError with the results.
	res, err = s.Transact(ctx, `{"op":"insert","table":"Item","row":{"n":"not an integer"}}`)
	var te *ovsdbserver.TxnError
	require.ErrorAs(t, err, &te, "results %s", res)
	assert.Equal(t, 0, te.Op)
	assert.Equal(t, "syntax error", te.Err)

	d, err := s.Dump(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"a": true, "b": true}, itemNames(t, d))
	for _, row := range d["Item"] {
		if row["name"] == "a" {
			assert.Equal(t, json.Number("1"), row["n"])
			assert.Equal(t, "d-a", row["data"])
		}
	}

	// The data survives a kill and restart; the remote stays the same.
	remote, pid := s.Remote(), s.Pid()
	require.NoError(t, s.Kill())
	assert.False(t, s.Running())
	assert.False(t, pidAlive(pid))
	require.NoError(t, s.Restart(ctx))
	assert.Equal(t, remote, s.Remote())
	assert.NotEqual(t, pid, s.Pid())
	d2, err := s.Dump(ctx)
	require.NoError(t, err)
	assert.Equal(t, d, d2)

	// Close stops the process and is idempotent.
	pid = s.Pid()
	dir := s.Dir()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	assert.False(t, pidAlive(pid), "pid %d survived Close", pid)
	_, err = os.Stat(dir)
	assert.True(t, errors.Is(err, os.ErrNotExist), "temporary dir %s left behind", dir)
}

func TestStandaloneKeepsUserDir(t *testing.T) {
	dir, err := os.MkdirTemp("", "ovsdbs-user-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s := ovsdbserver.StartStandalone(t, ovsdbserver.LabSchema(), ovsdbserver.WithDir(dir))
	logPath := s.LogPath()
	require.NoError(t, s.Close())
	_, err = os.Stat(logPath)
	assert.NoError(t, err, "Close removed a file in the user's directory")

	// A directory that already holds a database is refused.
	_, err = ovsdbserver.NewStandalone(context.Background(), ovsdbserver.LabSchema(), ovsdbserver.WithDir(dir))
	assert.ErrorContains(t, err, "already holds a database")
}

func TestBadSchema(t *testing.T) {
	ovsdbserver.Require(t)
	_, err := ovsdbserver.NewCluster(context.Background(), 3, []byte(`{"name":"X"`))
	assert.ErrorContains(t, err, "bad schema")
	// Valid JSON that ovsdb-tool rejects: nothing is started.
	_, err = ovsdbserver.NewCluster(context.Background(), 3,
		[]byte(`{"name":"X","version":"1.0.0","tables":{"T":{"columns":{"c":{"type":"nosuchtype"}}}}}`))
	assert.ErrorContains(t, err, "ovsdb-tool create-cluster")
	_, err = ovsdbserver.NewCluster(context.Background(), 0, ovsdbserver.LabSchema())
	assert.Error(t, err)
}

// memberRoles returns the role of each member ("" when it cannot answer).
func memberRoles(ctx context.Context, c *ovsdbserver.Cluster) []string {
	var out []string
	for _, s := range c.Status(ctx) {
		out = append(out, s.Role)
	}
	return out
}

func TestCluster(t *testing.T) {
	// A short election timer makes the term, kill and stop steps elect in
	// well under a second.
	c := ovsdbserver.StartCluster(t, 3, ovsdbserver.LabSchema(),
		ovsdbserver.WithElectionTimer(300*time.Millisecond))
	require.Equal(t, 3, c.N())
	require.Len(t, c.RemoteList(), 3)
	written := map[string]bool{}
	write := func(t *testing.T, ctx context.Context, name string) {
		t.Helper()
		_, err := c.Transact(ctx, insertItem(name, len(written)))
		require.NoError(t, err)
		written[name] = true
	}
	checkDump := func(t *testing.T, ctx context.Context) {
		t.Helper()
		d, err := c.Dump(ctx)
		require.NoError(t, err)
		assert.Equal(t, written, itemNames(t, d))
	}

	t.Run("status", func(t *testing.T) {
		ctx := testCtx(t, 10*time.Second)
		leader, err := c.Leader(ctx)
		require.NoError(t, err)
		sts := c.Status(ctx)
		cid := sts[0].ClusterID
		for i, s := range sts {
			require.NoError(t, s.Err)
			assert.Equal(t, i, s.Index)
			assert.Equal(t, "cluster member", s.Status)
			assert.Equal(t, ovsdbserver.ProcRunning, s.Process)
			assert.Equal(t, cid, s.ClusterID)
			assert.Equal(t, c.Member(i).Remote(), s.Remote)
			assert.Equal(t, i == leader, s.IsLeader(), "member %d: %s", i, s.Role)
		}
		write(t, ctx, "first")
		checkDump(t, ctx)
	})

	transfer := func(t *testing.T, method ovsdbserver.TransferMethod) ovsdbserver.Transfer {
		t.Helper()
		ctx := testCtx(t, 20*time.Second)
		before, err := c.Leader(ctx)
		require.NoError(t, err)
		oldPid := c.Member(before).Pid()
		tr, err := c.TransferLeadership(ctx, method)
		require.NoError(t, err)
		assert.Equal(t, before, tr.From)
		assert.NotEqual(t, tr.From, tr.To)
		assert.False(t, tr.Elected.Before(tr.Issued))
		now, err := c.Leader(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, tr.From, now, "old leader is leader again")
		if method == ovsdbserver.TransferFailureTest {
			assert.Equal(t, oldPid, c.Member(tr.From).Pid())
			assert.True(t, tr.Restarted.IsZero())
		} else {
			assert.NotEqual(t, oldPid, c.Member(tr.From).Pid(), "old leader not restarted")
			assert.False(t, pidAlive(oldPid))
			assert.False(t, tr.Restarted.IsZero())
		}
		for i, s := range c.Status(ctx) {
			require.NoError(t, s.Err, "member %d after %s", i, method)
		}
		write(t, ctx, "after-"+string(method)+"-"+strconv.FormatUint(tr.Term, 10))
		return tr
	}

	t.Run("failure-test", func(t *testing.T) {
		var last uint64
		for range 3 {
			tr := transfer(t, ovsdbserver.TransferFailureTest)
			Greater(t, tr.Term, last)
			last = tr.Term
		}
		checkDump(t, testCtx(t, 10*time.Second))
	})
	t.Run("exit", func(t *testing.T) { transfer(t, ovsdbserver.TransferExit) })
	t.Run("term", func(t *testing.T) { transfer(t, ovsdbserver.TransferTerm) })
	t.Run("kill", func(t *testing.T) { transfer(t, "kill") })

	t.Run("stop-cont-follower", func(t *testing.T) {
		ctx := testCtx(t, 20*time.Second)
		leader, err := c.Leader(ctx)
		require.NoError(t, err)
		f := (leader + 1) % 3
		require.NoError(t, c.Stop(f))
		st := c.Member(f).ClusterStatus(ctx)
		assert.Equal(t, ovsdbserver.ProcStopped, st.Process)
		assert.Error(t, st.Err)
		// Two of three still commit.
		write(t, ctx, "while-stopped")
		require.NoError(t, c.Cont(f))
		require.NoError(t, c.Member(f).ClusterStatus(ctx).Err)
		checkDump(t, ctx)
	})

	t.Run("stop-leader", func(t *testing.T) {
		ctx := testCtx(t, 20*time.Second)
		old, err := c.Leader(ctx)
		require.NoError(t, err)
		require.NoError(t, c.Stop(old))
		// The others elect a leader once their election timer expires.
		leader, err := c.WaitLeader(ctx, old)
		require.NoError(t, err)
		assert.NotEqual(t, old, leader)
		write(t, ctx, "leader-stopped")
		require.NoError(t, c.Cont(old))
		// The old leader steps down when it hears the higher term.
		_, err = c.Member(old).WaitStatus(ctx, func(st ovsdbserver.MemberStatus) bool {
			return st.Role == ovsdbserver.RoleFollower
		})
		require.NoError(t, err, "old leader never stepped down")
		checkDump(t, ctx)
	})

	t.Run("kill-restart-follower", func(t *testing.T) {
		ctx := testCtx(t, 20*time.Second)
		leader, err := c.Leader(ctx)
		require.NoError(t, err)
		f := (leader + 2) % 3
		require.NoError(t, c.Kill(f))
		assert.False(t, c.Member(f).Running())
		st := c.Member(f).ClusterStatus(ctx)
		assert.Equal(t, ovsdbserver.ProcExited, st.Process)
		write(t, ctx, "while-killed")
		require.Error(t, c.Cont(f), "signalling an exited member")
		require.NoError(t, c.Restart(ctx, f))
		assert.Equal(t, []string{"cluster member"}, []string{c.Member(f).ClusterStatus(ctx).Status})
		require.Error(t, c.Restart(ctx, f), "restarting a running member")
		checkDump(t, ctx)
	})

	t.Run("sigterm-follower", func(t *testing.T) {
		ctx := testCtx(t, 20*time.Second)
		leader, err := c.Leader(ctx)
		require.NoError(t, err)
		f := (leader + 1) % 3
		require.NoError(t, c.Stop(f))
		// SIGTERM reaches a stopped member too: Kill continues it.
		require.NoError(t, c.Kill(f, syscall.SIGTERM))
		require.NoError(t, c.Restart(ctx, f))
	})

	if t.Failed() {
		return // keep the logs for the cleanup to print
	}
	t.Run("close", func(t *testing.T) {
		var pids []int
		for i := range c.N() {
			pids = append(pids, c.Member(i).Pid())
		}
		// One member left stopped: Close must still end it.
		require.NoError(t, c.Stop(0))
		dir := c.Dir()
		require.NoError(t, c.Close())
		for _, pid := range pids {
			assert.False(t, pidAlive(pid), "pid %d survived Close", pid)
		}
		_, err := os.Stat(dir)
		assert.True(t, errors.Is(err, os.ErrNotExist))
		assert.Equal(t, []string{"", "", ""}, memberRoles(context.Background(), c))
	})
}
