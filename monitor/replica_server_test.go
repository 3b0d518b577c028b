package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAgainstOVSDBServer checks the parsers and the replica against a real
// ovsdb-server: three monitors on one connection (monitor, monitor_cond,
// monitor_cond_since, so update, update2 and update3 notifications) follow
// random transactions on testdata/test.ovsschema, and after each transaction
// every replica must equal what "select" returns.
func TestAgainstOVSDBServer(t *testing.T) {
	srv := startOVSDBServer(t, "testdata/test.ovsschema")
	c := dialRPC(t, srv)
	s := testSchema(t)

	replicas := map[string]*Replica{}
	for i, m := range []struct{ method, id string }{{"monitor", "v1"}, {"monitor_cond", "v2"}, {"monitor_cond_since", "v3"}} {
		reqs := map[string]any{}
		for _, ts := range s.Tables {
			reqs[ts.Name] = map[string]any{} // all columns: the server adds _version
		}
		params := []any{"Test", []string{m.id}, reqs}
		if m.method == "monitor_cond_since" {
			params = append(params, "00000000-0000-0000-0000-000000000000")
		}
		result := c.call(t, m.method, params, nil)
		var u *Update
		var err error
		switch m.method {
		case "monitor":
			u, err = ParseMonitorReply(s, result)
		case "monitor_cond":
			u, err = ParseMonitorCondReply(s, result)
		default:
			u, err = ParseMonitorCondSinceReply(s, result)
		}
		require.NoError(t, err)
		r := NewReplica(s)
		_, err = r.Apply(u)
		require.NoError(t, err)
		replicas[fmt.Sprintf(`["v%d"]`, i+1)] = r
	}
	apply := func(method string, params []byte) {
		id, err := NotificationMonitorID(params)
		require.NoError(t, err)
		r := replicas[string(id)]
		if r == nil {
			t.Fatalf("notification for unknown monitor %s", id)
		}
		u, err := ParseNotification(s, method, params)
		if err != nil {
			t.Fatalf("%v\n%s", err, params)
		}
		if _, err := r.Apply(u); err != nil {
			t.Fatalf("%v\n%s", err, params)
		}
	}

	g := &gen{rng: rand.New(rand.NewPCG(7, 7)), s: s}
	live := map[string][]string{} // table -> uuids
	txns := 120
	if testing.Short() {
		txns = 30
	}
	for range txns {
		var ops []string
		var inserted []string
		for range 1 + g.rng.IntN(3) {
			ts := s.Tables[g.rng.IntN(len(s.Tables))]
			ids := live[ts.Name]
			var b bytes.Buffer
			switch k := g.rng.IntN(10); {
			case k < 4 || len(ids) == 0:
				row := g.newRow(ts)
				for _, c := range ts.Columns {
					// ovsdb-server checks the default of a column left
					// out against its constraints.
					if c.Type.IsScalar() && c.Type.Key.constrained() {
						row[c.Name] = g.datum(&c.Type)
					}
				}
				fmt.Fprintf(&b, `{"op":"insert","table":%q,"row":`, ts.Name)
				g.writeRow(&b, ts, nonDefault(ts, row), func(c *ColumnSchema) refDatum { return row[c.Name] })
				b.WriteByte('}')
				inserted = append(inserted, ts.Name)
			case k < 8:
				id := ids[g.rng.IntN(len(ids))]
				var cols []string
				for _, c := range ts.Columns {
					if g.rng.IntN(3) == 0 {
						cols = append(cols, c.Name)
					}
				}
				fmt.Fprintf(&b, `{"op":"update","table":%q,"where":[["_uuid","==",["uuid",%q]]],"row":`, ts.Name, id)
				g.writeRow(&b, ts, cols, func(c *ColumnSchema) refDatum { return g.datum(&c.Type) })
				b.WriteByte('}')
			default:
				id := ids[g.rng.IntN(len(ids))]
				fmt.Fprintf(&b, `{"op":"delete","table":%q,"where":[["_uuid","==",["uuid",%q]]]}`, ts.Name, id)
			}
			ops = append(ops, b.String())
		}
		result := c.call(t, "transact", json.RawMessage(`["Test",`+strings.Join(ops, ",")+`]`), apply)
		var results []map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(result, &results))
		n := 0
		for i, res := range results {
			if e, bad := res["error"]; bad {
				t.Fatalf("transaction op %d failed: %s %s\n%s", i, e, res["details"], ops[i])
			}
			if uuid, ok := res["uuid"]; ok {
				var pair []string
				require.NoError(t, json.Unmarshal(uuid, &pair))
				live[inserted[n]] = append(live[inserted[n]], pair[1])
				n++
			}
		}
		// The updates of the transaction come before the reply to a later
		// echo.
		c.call(t, "echo", []any{}, apply)
		for table := range live {
			live[table] = c.selectUUIDs(t, table)
		}
		for id, r := range replicas {
			compareWithServer(t, c, s, id, r, apply)
		}
	}
}

// compareWithServer checks r against a select of every table.
func compareWithServer(t *testing.T, c *rpcClient, s *Schema, name string, r *Replica, apply func(string, []byte)) {
	t.Helper()
	for _, ts := range s.Tables {
		result := c.call(t, "transact", []any{"Test", map[string]any{"op": "select", "table": ts.Name, "where": []any{}}}, apply)
		var res []struct {
			Rows []map[string]json.RawMessage `json:"rows"`
		}
		require.NoError(t, json.Unmarshal(result, &res))
		rows := res[0].Rows
		if r.Len(ts.Name) != len(rows) {
			t.Fatalf("monitor %s: table %s has %d rows, the server %d", name, ts.Name, r.Len(ts.Name), len(rows))
		}
		for _, sr := range rows {
			var pair []string
			require.NoError(t, json.Unmarshal(sr["_uuid"], &pair))
			row, ok := r.Get(ts.Name, MustParseUUID(pair[1]))
			if !ok {
				t.Fatalf("monitor %s: row %s %s missing", name, ts.Name, pair[1])
			}
			for _, col := range ts.Columns {
				want, err := ParseDatum(&col.Type, sr[col.Name])
				require.NoError(t, err)
				if got := row.At(col.Index); !got.Equal(want) {
					t.Fatalf("monitor %s: %s %s column %s = %s, server has %s", name, ts.Name, pair[1], col.Name, got, want)
				}
			}
		}
	}
}

// startOVSDBServer runs a standalone ovsdb-server on a unix socket in a
// temporary directory and returns the socket path. The server is killed by
// its pid when the test ends.
func startOVSDBServer(t *testing.T, schema string) string {
	t.Helper()
	server, err1 := exec.LookPath("ovsdb-server")
	tool, err2 := exec.LookPath("ovsdb-tool")
	if err1 != nil || err2 != nil {
		if os.Getenv("OVSDBCS_REQUIRE_OVSDB_SERVER") == "1" {
			t.Fatal("ovsdb-server and ovsdb-tool are required (OVSDBCS_REQUIRE_OVSDB_SERVER=1) but not installed")
		}
		t.Skip("ovsdb-server or ovsdb-tool not installed (Debian package openvswitch-switch); skipping")
	}
	dir, err := os.MkdirTemp("", "ovsmon")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "t.db")
	if out, err := exec.Command(tool, "create", db, schema).CombinedOutput(); err != nil {
		t.Fatalf("ovsdb-tool create: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "db.sock")
	cmd := exec.Command(server, "--no-chdir", "-vconsole:off", "-vfile:info",
		"--log-file="+filepath.Join(dir, "server.log"), "--unixctl="+filepath.Join(dir, "server.ctl"),
		"--remote=punix:"+sock, db)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("ovsdb-server did not open %s within 10s\n%s", sock, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rpcClient is a minimal JSON-RPC 1.0 client for the test.
type rpcClient struct {
	conn net.Conn
	dec  *json.Decoder
	next int
}

type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func dialRPC(t *testing.T, sock string) *rpcClient {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &rpcClient{conn: conn, dec: json.NewDecoder(conn)}
}

// call sends a request and returns its result; notifications that arrive
// meanwhile go to notify (an error if notify is nil).
func (c *rpcClient) call(t *testing.T, method string, params any, notify func(method string, params []byte)) json.RawMessage {
	t.Helper()
	c.next++
	req, err := json.Marshal(map[string]any{"method": method, "params": params, "id": c.next})
	require.NoError(t, err)
	require.NoError(t, c.conn.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = c.conn.Write(req)
	require.NoError(t, err)
	for {
		var m rpcMessage
		require.NoError(t, c.dec.Decode(&m))
		if m.Method != "" {
			if m.Method == "echo" {
				continue
			}
			if notify == nil {
				t.Fatalf("unexpected %s notification", m.Method)
			}
			notify(m.Method, m.Params)
			continue
		}
		if string(m.ID) != fmt.Sprint(c.next) {
			t.Fatalf("reply to id %s, want %d", m.ID, c.next)
		}
		if len(m.Error) > 0 && string(m.Error) != "null" {
			t.Fatalf("%s: error %s", method, m.Error)
		}
		return m.Result
	}
}

// selectUUIDs lists the rows of a table.
func (c *rpcClient) selectUUIDs(t *testing.T, table string) []string {
	t.Helper()
	result := c.call(t, "transact", []any{"Test", map[string]any{"op": "select", "table": table, "where": []any{}, "columns": []string{"_uuid"}}}, func(string, []byte) {
		t.Fatal("notification during select")
	})
	var res []struct {
		Rows []struct {
			UUID []string `json:"_uuid"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal(result, &res))
	var out []string
	for _, r := range res[0].Rows {
		out = append(out, r.UUID[1])
	}
	return out
}
