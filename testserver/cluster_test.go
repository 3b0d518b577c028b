package testserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-logr/logr/funcr"
)

// serverRow decodes the Database row of a _Server monitor reply.
func serverRow(t testing.TB, reply json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var tu map[string]map[string]map[string]map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(reply, &tu))
	require.Len(t, tu["Database"], 1)
	for _, ru := range tu["Database"] {
		return ru["initial"]
	}
	return nil
}

func modify(t testing.TB, msg json.RawMessage) string {
	t.Helper()
	p := params(t, msg, "update2")
	var tu map[string]map[string]map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(p[1], &tu))
	for _, ru := range tu["Database"] {
		return string(ru["modify"])
	}
	t.Fatalf("no Database row in %s", msg)
	return ""
}

func TestServerDatabaseRows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3, WithCID("46bdbcff-6a1d-4b3f-ab64-1781d998199e"), WithMemberCID(2, "11111111-1111-4111-8111-111111111111"))
		schema := string(marshal(string(c.schema.json)))
		for i := 0; i < 3; i++ {
			w := dialWire(t, c, i)
			row := serverRow(t, serverMonitor(w))
			leader := ""
			if i == 0 {
				leader = `"leader":true,`
			}
			cid := "46bdbcff-6a1d-4b3f-ab64-1781d998199e"
			if i == 2 {
				cid = "11111111-1111-4111-8111-111111111111"
			}
			// Defaults (leader false) are left out of "initial", as
			// ovsdb-server does.
			require.JSONEq(t, fmt.Sprintf(`{%s"connected":true,"model":"clustered","name":"Lab","schema":%s,"cid":["uuid",%q],"sid":["uuid",%q],"index":1}`,
				leader, schema, cid, c.Member(i).SID()), string(marshal(row)))
		}
		// The row for _Server itself, and all rows with all columns.
		w := dialWire(t, c, 1)
		res := w.result("monitor_cond", "_Server", []string{"monid", "_Server"}, map[string]any{"Database": []any{map[string]any{"columns": []string{"name", "model", "connected", "leader", "index", "cid"}}}})
		require.JSONEq(t, normJSON(t, `{"Database":{"U1":{"initial":{"connected":true,"model":"clustered","name":"Lab","cid":["uuid","U"],"index":1}},"U2":{"initial":{"connected":true,"leader":true,"model":"standalone","name":"_Server"}}}}`),
			normJSON(t, string(res)))
		require.Contains(t, string(res), `46bdbcff-6a1d-4b3f-ab64-1781d998199e`)
	})
}

func TestServerModels(t *testing.T) {
	for _, tc := range []struct {
		model string
		want  string
	}{
		{ModelStandalone, `{"connected":true,"leader":true,"model":"standalone","name":"Lab"}`},
		{ModelRelay, `{"connected":true,"model":"relay","name":"Lab"}`},
	} {
		t.Run(tc.model, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := labCluster(t, 1, WithModel(tc.model))
				w := dialWire(t, c, 0)
				res := w.result("monitor_cond", "_Server", []string{"monid", "_Server"}, map[string]any{"Database": []any{map[string]any{
					"columns": []string{"name", "model", "connected", "leader", "cid", "sid", "index"}, "where": []any{[]any{"name", "==", "Lab"}}}}})
				require.JSONEq(t, tc.want, string(marshal(serverRow(t, res))))
				insertItem(t, c, "a", 1)
				res = w.result("monitor_cond_since", "Lab", "m", map[string]any{"Item": []any{map[string]any{"columns": []string{"name"}}}}, zeroUUID)
				if tc.model == ModelStandalone {
					// No history: found=false and the zero id, always.
					require.Equal(t, zeroUUID, uuidRE.FindString(string(res)))
					require.JSONEq(t, `[false,"U",{"Item":{"U":{"initial":{"name":"a"}}}}]`, norm(string(res)))
				} else {
					require.NotContains(t, string(res), zeroUUID)
				}
			})
		})
	}
}

func TestLeaderTransferOldLeaderFlipsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3, WithElectionDelay(20*time.Millisecond))
		var ws []*wire
		for i := 0; i < 3; i++ {
			w := dialWire(t, c, i)
			serverMonitor(w)
			ws = append(ws, w)
		}
		start := time.Now()
		done, err := c.TransferLeadershipAfter(1, 20*time.Millisecond)
		require.NoError(t, err)
		synctest.Wait()
		require.Equal(t, -1, c.Leader())
		require.Equal(t, `{"leader":false}`, modify(t, ws[0].read()))
		// During the election window nothing else happens.
		ws[1].expectNothing(10 * time.Millisecond)
		<-done
		require.Equal(t, 20*time.Millisecond, time.Since(start))
		require.Equal(t, 1, c.Leader())
		require.Equal(t, `{"leader":true}`, modify(t, ws[1].read()))
		// The new leader's first entry raises every member's index.
		for i := 0; i < 3; i++ {
			require.Equal(t, `{"index":2}`, modify(t, ws[i].read()))
		}
		// Transfers to "any other" go round.
		require.NoError(t, c.TransferLeadership(AnyOther))
		require.Equal(t, 2, c.Leader())
		require.ErrorIs(t, c.TransferLeadership(2), ErrNoCandidate)
		require.ErrorIs(t, c.TransferLeadership(7), ErrBadMember)
	})
}

func TestFollowerForwardingAndNoLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3, WithElectionDelay(time.Second))
		w := dialWire(t, c, 2)
		_, err := c.TransferLeadershipAfter(1, time.Second)
		require.NoError(t, err)
		// No leader: a write waits, a read is answered.
		start := time.Now()
		id := w.request("transact", "Lab", map[string]any{"op": "insert", "table": "Item", "row": map[string]any{"name": "a"}})
		require.JSONEq(t, `[{"rows":[]}]`, string(w.result("transact", "Lab", map[string]any{"op": "select", "table": "Item", "where": []any{}})))
		reply, _ := w.until(id)
		require.Equal(t, time.Second, time.Since(start))
		require.JSONEq(t, `[{"uuid":["uuid","U"]}]`, norm(string(field(t, reply, "result"))))
		require.Len(t, c.Snapshot()["Item"], 1)
	})
}

func TestCommitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3, WithCommitTimeout(5*time.Second))
		w := dialWire(t, c, 2)
		require.NoError(t, c.DisconnectFromCluster(2))
		start := time.Now()
		reply := w.call("transact", "Lab", map[string]any{"op": "insert", "table": "Item", "row": map[string]any{"name": "a"}})
		require.Equal(t, 5*time.Second, time.Since(start))
		require.JSONEq(t, `{"id":1,"error":{"error":"cluster error","details":"not leader"}}`, string(reply))
	})
}

func TestLagServesStaleDataThenCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		w := dialWire(t, c, 2)
		serverMonitor(w)
		w.result("monitor_cond_since", "Lab", []string{"monid", "Lab"}, map[string]any{"Item": []any{map[string]any{"columns": []string{"name"}}}}, zeroUUID)
		require.NoError(t, c.Lag(2, true))
		insertItem(t, c, "a", 1)
		insertItem(t, c, "b", 2)
		require.Equal(t, uint64(3), c.Index())
		require.Equal(t, uint64(1), c.Member(2).AppliedIndex())
		require.Len(t, c.Member(2).Snapshot()["Item"], 0)
		// A read on the lagging member sees its stale data.
		require.JSONEq(t, `[{"rows":[]}]`, string(w.result("transact", "Lab", map[string]any{"op": "select", "table": "Item", "where": []any{}})))
		// A write from it commits, but the reply waits for the member.
		id := w.request("transact", "Lab", map[string]any{"op": "insert", "table": "Item", "row": map[string]any{"name": "c"}})
		w.expectNothing(time.Second)
		require.Len(t, c.Snapshot()["Item"], 3)
		require.NoError(t, c.Lag(2, false))
		// The missed commits arrive one by one, in order, then the reply.
		reply, before := w.until(id)
		var names []string
		for _, m := range before {
			var p []json.RawMessage
			if json.Unmarshal(field(t, m, "params"), &p) == nil && string(field(t, m, "method")) == `"update3"` {
				names = append(names, norm(string(p[2])))
			} else {
				names = append(names, modify(t, m))
			}
		}
		require.Equal(t, []string{
			`{"index":2}`, `{"Item":{"U":{"insert":{"name":"a"}}}}`,
			`{"index":3}`, `{"Item":{"U":{"insert":{"name":"b"}}}}`,
			`{"index":4}`, `{"Item":{"U":{"insert":{"name":"c"}}}}`,
		}, names)
		require.JSONEq(t, `[{"uuid":["uuid","U"]}]`, norm(string(field(t, reply, "result"))))
	})
}

func TestDisconnectFromCluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3, WithElectionDelay(10*time.Millisecond))
		w := dialWire(t, c, 0)
		serverMonitor(w)
		require.NoError(t, c.DisconnectFromCluster(0))
		require.Equal(t, `{"leader":false}`, modify(t, w.read()))
		require.Equal(t, `{"connected":false}`, modify(t, w.read()))
		l, err := c.WaitLeader(context.Background())
		require.NoError(t, err)
		require.Equal(t, 1, l)
		insertItem(t, c, "a", 1)
		require.Equal(t, uint64(1), c.Member(0).AppliedIndex())
		require.NoError(t, c.ReconnectToCluster(0))
		require.Equal(t, `{"connected":true}`, modify(t, w.read()))
		require.Equal(t, `{"index":2}`, modify(t, w.read()))
		require.Equal(t, `{"index":3}`, modify(t, w.read()))

		// Losing the majority: the leader steps down, nobody is connected.
		w1 := dialWire(t, c, 1)
		serverMonitor(w1)
		require.NoError(t, c.DisconnectFromCluster(0))
		require.NoError(t, c.DisconnectFromCluster(2))
		require.Equal(t, `{"leader":false}`, modify(t, w1.read()))
		require.Equal(t, `{"connected":false}`, modify(t, w1.read()))
		require.Equal(t, -1, c.Leader())
		require.NoError(t, c.ReconnectToCluster(2))
		l, err = c.WaitLeader(context.Background())
		require.NoError(t, err)
		require.True(t, l == 1 || l == 2)
	})
}

func TestStopStartAndRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		w := dialWire(t, c, 0)
		serverMonitor(w)
		require.NoError(t, c.Stop(0))
		w.expectEOF()
		_, err := c.DialContext(context.Background(), "tcp", c.Member(0).Address())
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		require.Equal(t, 1, c.Member(0).Counters().Refused)
		require.Equal(t, 1, c.Leader())
		insertItem(t, c, "a", 1)
		require.NoError(t, c.Start(0))
		w = dialWire(t, c, 0)
		row := serverRow(t, serverMonitor(w))
		require.Equal(t, "3", string(row["index"]))
		require.Equal(t, "", string(row["leader"]))
		require.Equal(t, 2, c.Member(0).Counters().Accepted)
		// Unknown addresses are refused too.
		_, err = c.DialContext(context.Background(), "tcp", "127.0.0.1:1")
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
	})
}

func TestGracefulExitSendsEOFFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3, WithElectionDelay(5*time.Millisecond))
		w0 := dialWire(t, c, 0)
		serverMonitor(w0)
		w1 := dialWire(t, c, 1)
		serverMonitor(w1)
		start := time.Now()
		require.NoError(t, c.GracefulExit(0))
		require.Equal(t, 5*time.Millisecond, time.Since(start))
		// The exiting leader's clients see EOF and nothing else.
		w0.expectEOF()
		require.Equal(t, 1, c.Leader())
		require.Equal(t, `{"leader":true}`, modify(t, w1.read()))
		require.Equal(t, `{"index":2}`, modify(t, w1.read()))
		_, err := c.DialContext(context.Background(), "tcp", c.Member(0).Address())
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		require.NoError(t, c.Start(0))
		require.Equal(t, uint64(2), c.Member(0).AppliedIndex())
	})
}

func TestLocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 2)
		a := dialWire(t, c, 0)
		b := dialWire(t, c, 0)
		other := dialWire(t, c, 1)
		require.JSONEq(t, `{"locked":true}`, string(a.result("lock", "L")))
		// Locks belong to one member, as with ovsdb-server.
		require.JSONEq(t, `{"locked":true}`, string(other.result("lock", "L")))
		require.JSONEq(t, `{"id":2,"error":{"syntax":"[\"L\"]","details":"must issue \"unlock\" before new \"lock\"","error":"syntax error"}}`, string(a.call("lock", "L")))
		require.JSONEq(t, `{"locked":false}`, string(b.result("lock", "L")))
		require.JSONEq(t, `[{}]`, string(a.result("transact", "Lab", map[string]any{"op": "assert", "lock": "L"})))
		require.JSONEq(t, `[{"details":"Asserted lock L not held.","error":"not owner"}]`, string(b.result("transact", "Lab", map[string]any{"op": "assert", "lock": "L"})))
		// b leaves the queue: the owner gets a (redundant) "locked", as
		// ovsdb-server 3.1 sends.
		require.JSONEq(t, `{}`, string(b.result("unlock", "L")))
		require.Equal(t, `["L"]`, string(marshal(params(t, a.read(), "locked"))))
		// Steal: the owner gets "stolen" but stays queued.
		require.JSONEq(t, `{"locked":true}`, string(b.result("steal", "L")))
		require.Equal(t, `["L"]`, string(marshal(params(t, a.read(), "stolen"))))
		require.JSONEq(t, `{}`, string(b.result("unlock", "L")))
		require.Equal(t, `["L"]`, string(marshal(params(t, a.read(), "locked"))))
		// A client that disconnects gives the lock to the next in line.
		require.JSONEq(t, `{"locked":false}`, string(b.result("lock", "L")))
		a.conn.Close()
		require.Equal(t, `["L"]`, string(marshal(params(t, b.read(), "locked"))))
		require.JSONEq(t, `{"syntax":"[\"M\"]","details":"unlock: \"unlock\" without \"lock\" or \"steal\"","error":"syntax error"}`, string(field(t, b.call("unlock", "M"), "error")))
		require.JSONEq(t, `{"syntax":"[1]","details":"lock request params must be <id>","error":"syntax error"}`, string(field(t, b.call("lock", 1), "error")))
		require.JSONEq(t, `{"syntax":"[]","details":"steal request params must be <id>","error":"syntax error"}`, string(field(t, b.call("steal"), "error")))
	})
}

func TestChangeSchema(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		a := insertItem(t, c, "a", 1)
		aware := dialWire(t, c, 1)
		serverMonitor(aware)
		require.JSONEq(t, `{}`, string(aware.result("set_db_change_aware", true)))
		aware.result("monitor_cond_since", "Lab", []string{"monid", "Lab"}, map[string]any{"Item": []any{map[string]any{}}}, zeroUUID)
		aware.result("monitor", "Lab", "m1", map[string]any{"Item": map[string]any{"columns": []string{"name"}}})
		unaware := dialWire(t, c, 1)
		unaware.result("monitor_cond", "Lab", "x", map[string]any{"Item": []any{map[string]any{}}})

		newSchema := strings.Replace(string(LabSchema()), `"1.0.0"`, `"1.1.0"`, 1)
		newSchema = strings.Replace(newSchema, `"data": {"type": "string"}`, `"data": {"type": "string"}, "extra": {"type": "integer"}`, 1)
		require.NoError(t, c.ChangeSchema([]byte(newSchema)))
		unaware.expectEOF()
		canceled := map[string]bool{}
		for i := 0; i < 2; i++ {
			canceled[string(marshal(params(t, aware.read(), "monitor_canceled")))] = true
		}
		require.Equal(t, map[string]bool{`[["monid","Lab"]]`: true, `["m1"]`: true}, canceled)
		mod := modify(t, aware.read())
		require.Contains(t, mod, `extra`)
		require.Contains(t, mod, `"index":3`)
		// The data survived and has the new column.
		res := aware.result("monitor_cond_since", "Lab", []string{"monid", "Lab"}, map[string]any{"Item": []any{map[string]any{"columns": []string{"name", "extra"}}}}, zeroUUID)
		require.Contains(t, string(res), fmt.Sprintf(`%q:{"initial":{"name":"a"}}`, a))
		require.Error(t, c.ChangeSchema([]byte(`{"name":"Other","tables":{"T":{"columns":{"c":{"type":"string"}}}}}`)))
	})
}

func TestFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 2)
		m := c.Member(0)
		list := `{"method":"list_dbs","params":[],"id":1}`

		require.NoError(t, m.SetFaults(Faults{RefuseConnections: true}))
		_, err := c.DialContext(context.Background(), "tcp", m.Address())
		require.ErrorIs(t, err, syscall.ECONNREFUSED)

		w := dialWire(t, c, 1)
		require.NoError(t, c.Member(1).SetFaults(Faults{DropConnections: true}))
		w.expectEOF()
		w = dialWire(t, c, 1)
		w.expectEOF()
		require.Equal(t, 2, c.Member(1).Counters().Accepted)
		require.NoError(t, c.Member(1).SetFaults(Faults{}))

		require.NoError(t, m.SetFaults(Faults{CloseMidMessage: true}))
		w = dialWire(t, c, 0)
		w.send(list)
		buf := make([]byte, 100)
		n, _ := w.conn.Read(buf)
		require.Equal(t, `{"id":1,"result":["Lab",`, string(buf[:n]))
		w.expectEOF()

		require.NoError(t, m.SetFaults(Faults{ReplyDelay: 250 * time.Millisecond}))
		w = dialWire(t, c, 0)
		start := time.Now()
		w.send(list)
		w.read()
		require.Equal(t, 250*time.Millisecond, time.Since(start))

		require.NoError(t, m.SetFaults(Faults{Hang: true}))
		w = dialWire(t, c, 0)
		w.send(list)
		w.expectNothing(time.Minute)

		require.NoError(t, m.SetFaults(Faults{IgnoreEcho: true}))
		w = dialWire(t, c, 0)
		w.send(`{"method":"echo","params":[],"id":"e"}`)
		w.expectNothing(time.Minute)
		w.send(list)
		require.Equal(t, `{"id":1,"result":["Lab","_Server"],"error":null}`, string(w.read()))

		require.NoError(t, m.SetFaults(Faults{MalformedJSON: true}))
		w = dialWire(t, c, 0)
		w.send(list)
		_, err = w.readRaw()
		var se *json.SyntaxError
		require.True(t, errors.As(err, &se), "%v", err)

		require.NoError(t, m.SetFaults(Faults{WrongTypes: true}))
		w = dialWire(t, c, 0)
		w.send(list)
		require.Equal(t, `{"id":1,"result":"wrong type","error":null}`, string(w.read()))
		w.send(`{"method":"monitor_cond","params":["Lab","m",{"Item":[{}]}],"id":2}`)
		w.read()
		insertItem(t, c, "a", 1)
		require.Equal(t, `{"id":null,"method":"update2","params":["m","wrong type"]}`, string(w.read()))

		require.NoError(t, m.SetFaults(Faults{}))
		w = dialWire(t, c, 0)
		w.send(list)
		w.read()
		require.Equal(t, m.Connections(), m.Inject([]byte(`{"id":null,"method":"update2","params":["m",{"Item":"x"}]}`)))
		require.Equal(t, `{"id":null,"method":"update2","params":["m",{"Item":"x"}]}`, string(w.read()))
	})
}

func TestEchoProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 1, WithEchoInterval(5*time.Second))
		w := dialWire(t, c, 0)
		start := time.Now()
		require.Equal(t, `{"id":"echo","method":"echo","params":[]}`, string(w.read()))
		require.Equal(t, 5*time.Second, time.Since(start))
		w.send(`{"id":"echo","result":[],"error":null}`)
		require.Equal(t, `{"id":"echo","method":"echo","params":[]}`, string(w.read()))
		require.Equal(t, 10*time.Second, time.Since(start))
		// No answer: the member hangs up one interval later.
		w.expectEOF()
		require.Equal(t, 15*time.Second, time.Since(start))
	})
}

// TestWholeClusterUnderSynctest drives a cluster the way the cs tests will:
// created inside the bubble, clients over in-memory connections, leadership
// moving with an election delay, a member stopped and started, and Close
// leaving no goroutine behind (synctest fails the test otherwise).
func TestWholeClusterUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := NewCluster(3, LabSchema(), InMemory(), WithElectionDelay(50*time.Millisecond), WithEchoInterval(5*time.Second), WithUnixSockets("/fake"))
		require.NoError(t, err)
		require.Equal(t, "tcp:127.0.0.1:6641,tcp:127.0.0.1:6642,tcp:127.0.0.1:6643", c.Remotes())
		require.Equal(t, "unix:/fake/s2.sock", c.Member(1).UnixRemote())
		uconn, err := c.DialContext(context.Background(), "unix", "/fake/s2.sock")
		require.NoError(t, err)
		require.Equal(t, "/fake/s2.sock", uconn.RemoteAddr().String())
		u := newWire(t, uconn)
		require.JSONEq(t, `["Lab","_Server"]`, string(u.result("list_dbs")))
		var ws []*wire
		for i := 0; i < 3; i++ {
			w := dialWire(t, c, i)
			serverMonitor(w)
			ws = append(ws, w)
		}
		for i := 0; i < 10; i++ {
			insertItem(t, c, fmt.Sprintf("r%d", i), i)
			require.NoError(t, c.TransferLeadership(AnyOther))
		}
		require.NoError(t, c.Stop(1))
		time.Sleep(time.Minute)
		require.NoError(t, c.Start(1))
		require.NoError(t, c.Close())
		for _, w := range ws {
			for {
				if _, err := w.readRaw(); err != nil {
					break
				}
			}
		}
		_, err = c.DialContext(context.Background(), "tcp", c.Member(0).Address())
		require.Error(t, err)
	})
}

// TestRealSockets runs a cluster on real loopback TCP ports and unix
// sockets.
func TestRealSockets(t *testing.T) {
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	c, err := NewCluster(3, LabSchema(), WithUnixSockets(dir))
	require.NoError(t, err)
	defer c.Close()
	for i := 0; i < 3; i++ {
		require.True(t, strings.HasPrefix(c.Member(i).Remote(), "tcp:127.0.0.1:"))
		require.NotEqual(t, "tcp:127.0.0.1:0", c.Member(i).Remote())
	}
	require.Equal(t, 3, len(strings.Split(c.Remotes(), ",")))
	conn, err := net.Dial("tcp", c.Member(1).Address())
	require.NoError(t, err)
	w := newWire(t, conn)
	w.timeout = 10 * time.Second
	require.JSONEq(t, `["Lab","_Server"]`, string(w.result("list_dbs")))
	uconn, err := net.Dial("unix", strings.TrimPrefix(c.Member(2).UnixRemote(), "unix:"))
	require.NoError(t, err)
	u := newWire(t, uconn)
	require.JSONEq(t, `["Lab","_Server"]`, string(u.result("list_dbs")))
	require.NoError(t, c.Stop(1))
	w.expectEOF()
	_, err = net.Dial("tcp", c.Member(1).Address())
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.NoError(t, c.Start(1))
	conn, err = c.DialContext(context.Background(), "tcp", c.Member(1).Address())
	require.NoError(t, err)
	w = newWire(t, conn)
	require.JSONEq(t, `["Lab","_Server"]`, string(w.result("list_dbs")))
	require.NoError(t, c.Close())
	w.expectEOF()
	w.conn.Close()
	u.conn.Close()
	// Close waited for every goroutine of the cluster; give the runtime a
	// bounded moment to reap them before counting.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	require.True(t, runtime.NumGoroutine() <= before, "goroutines before %d, after %d", before, runtime.NumGoroutine())
}

func TestLogging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lines []string
		log := funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) }, funcr.Options{Verbosity: 1})
		c := labCluster(t, 3, WithLogger(log))
		w := dialWire(t, c, 0)
		w.result("list_dbs")
		require.NoError(t, c.TransferLeadership(1))
		require.NoError(t, c.Close())
		all := strings.Join(lines, "\n")
		require.Contains(t, all, `testserver "level"=0 "msg"="leader elected" "member"=1`)
		require.Contains(t, all, `"msg"="connection accepted" "member"=0`)
		require.NotContains(t, all, `"msg"="send"`)
	})
}

// TestHundredTransfers moves leadership 100 times on a 3-member cluster on
// real sockets with a client monitoring _Server on every member, and reports
// the wall time (the target is under a second; it is not asserted).
func TestHundredTransfers(t *testing.T) {
	c, err := NewCluster(3, LabSchema())
	require.NoError(t, err)
	defer c.Close()
	var ws []*wire
	for i := 0; i < 3; i++ {
		conn, err := c.DialContext(context.Background(), "tcp", c.Member(i).Address())
		require.NoError(t, err)
		w := newWire(t, conn)
		serverMonitor(w)
		ws = append(ws, w)
	}
	start := time.Now()
	for i := 0; i < 100; i++ {
		require.NoError(t, c.TransferLeadership(AnyOther))
	}
	elapsed := time.Since(start)
	t.Logf("100 leadership transfers on a 3-member cluster: %v", elapsed)
	require.Equal(t, 100%3, c.Leader())
	// Every member's client saw every flip: check the last index.
	want := fmt.Sprintf(`{"index":%d}`, c.Index())
	for _, w := range ws {
		for {
			if m := modify(t, w.read()); m == want {
				break
			}
		}
	}
}

func TestStepDownHoldsTheElection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		w := dialWire(t, c, 0)
		serverMonitor(w)
		require.NoError(t, c.StepDown())
		require.Equal(t, `{"leader":false}`, modify(t, w.read()))
		id := w.request("transact", "Lab", map[string]any{"op": "insert", "table": "Item", "row": map[string]any{"name": "a"}})
		time.Sleep(10 * time.Minute)
		require.Equal(t, -1, c.Leader())
		// A member coming back does not end a held election.
		require.NoError(t, c.Stop(2))
		require.NoError(t, c.Start(2))
		require.Equal(t, -1, c.Leader())
		require.NoError(t, c.Elect(2))
		require.Equal(t, 2, c.Leader())
		require.Equal(t, `{"index":2}`, modify(t, w.read()))
		reply, before := w.until(id)
		require.Len(t, before, 1)
		require.JSONEq(t, `[{"uuid":["uuid","U"]}]`, norm(string(field(t, reply, "result"))))
		require.Error(t, c.Elect(1))
	})
}
