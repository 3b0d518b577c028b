package monitor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// These tests send the composed requests to a real ovsdb-server (standalone,
// over a unix socket in a temporary directory) and check that it accepts
// them and that the conditions select what they say.

const reqLabSchema = `{
  "name": "Lab", "version": "1.0.0",
  "tables": {
    "Item": {
      "columns": {
        "name": {"type": "string"},
        "n": {"type": "integer"},
        "r": {"type": "real"},
        "up": {"type": "boolean"},
        "kind": {"type": {"key": {"type": "string", "enum": ["set", ["vm", "router"]]}}},
        "tags": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
        "ext": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
        "peer": {"type": {"key": "uuid", "min": 0, "max": 1}}
      },
      "isRoot": true
    },
    "Other": {"columns": {"x": {"type": "integer"}}, "isRoot": true}
  }
}`

// reqServer is a JSON-RPC connection to an ovsdb-server started for a test.
type reqServer struct {
	t      *testing.T
	conn   net.Conn
	dec    *json.Decoder
	nextID int
	notes  []reqMessage // notifications received while waiting for replies
}

type reqMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func reqStartServer(t *testing.T) *reqServer {
	t.Helper()
	server, err1 := exec.LookPath("ovsdb-server")
	tool, err2 := exec.LookPath("ovsdb-tool")
	if err := errors.Join(err1, err2); err != nil {
		if os.Getenv("OVSDBCS_REQUIRE_OVSDB_SERVER") == "1" {
			t.Fatalf("ovsdb-server is required (OVSDBCS_REQUIRE_OVSDB_SERVER=1): %v", err)
		}
		t.Skipf("ovsdb-server or ovsdb-tool not installed (Debian package openvswitch-switch): %v", err)
	}
	dir := t.TempDir()
	schema := filepath.Join(dir, "lab.ovsschema")
	db := filepath.Join(dir, "lab.db")
	sock := filepath.Join(dir, "db.sock")
	if err := os.WriteFile(schema, []byte(reqLabSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "create", db, schema).CombinedOutput(); err != nil {
		t.Fatalf("ovsdb-tool create: %v\n%s", err, out)
	}
	cmd := exec.Command(server, "--no-chdir", "-vconsole:off", "--log-file="+filepath.Join(dir, "server.log"),
		"--unixctl="+filepath.Join(dir, "server.ctl"), "--remote=punix:"+sock, db)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // by pid: the process this test started
		_ = cmd.Wait()
	})
	// Wait for the socket, with a deadline.
	deadline := time.Now().Add(15 * time.Second)
	var conn net.Conn
	for {
		var err error
		conn, err = net.Dial("unix", sock)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("ovsdb-server did not listen on %s: %v\n%s", sock, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return &reqServer{t: t, conn: conn, dec: json.NewDecoder(bufio.NewReader(conn))}
}

// call sends a request and returns its result, or fails on an error reply.
func (s *reqServer) call(method string, params []byte) json.RawMessage {
	s.t.Helper()
	res, errReply := s.tryCall(method, params)
	if errReply != "" {
		s.t.Fatalf("%s %s: error reply %s", method, params, errReply)
	}
	return res
}

// tryCall sends a request and returns its result or its error.
func (s *reqServer) tryCall(method string, params []byte) (json.RawMessage, string) {
	s.t.Helper()
	s.nextID++
	id := strconv.Itoa(s.nextID)
	msg := `{"method":"` + method + `","params":` + string(params) + `,"id":` + id + `}`
	if _, err := s.conn.Write([]byte(msg)); err != nil {
		s.t.Fatal(err)
	}
	for {
		var m reqMessage
		if err := s.dec.Decode(&m); err != nil {
			s.t.Fatalf("waiting for the reply to %s: %v", method, err)
		}
		if string(m.ID) == id {
			if len(m.Error) > 0 && string(m.Error) != "null" {
				return nil, string(m.Error)
			}
			return m.Result, ""
		}
		if m.Method == "echo" {
			continue
		}
		s.notes = append(s.notes, m)
	}
}

func (s *reqServer) transact(ops string) {
	s.t.Helper()
	res := s.call("transact", []byte(`["Lab",`+ops+`]`))
	var results []map[string]any
	if err := json.Unmarshal(res, &results); err != nil {
		s.t.Fatal(err)
	}
	for _, r := range results {
		if r["error"] != nil {
			s.t.Fatalf("transact %s: %v", ops, r)
		}
	}
}

// reqNames returns the sorted "name" of every row of table in a
// <table-updates2> (initial or insert), or of a <table-updates> ("new").
func reqNames(t *testing.T, tableUpdates json.RawMessage, table string) []string {
	t.Helper()
	var tu map[string]map[string]map[string]map[string]any
	if err := json.Unmarshal(tableUpdates, &tu); err != nil {
		t.Fatalf("%v: %s", err, tableUpdates)
	}
	var names []string
	for _, ru := range tu[table] {
		for _, op := range []string{"initial", "insert", "new"} {
			if row, ok := ru[op]; ok {
				names = append(names, fmt.Sprint(row["name"]))
			}
		}
	}
	slices.Sort(names)
	return names
}

func TestRequestsAgainstOvsdbServer(t *testing.T) {
	s := reqStartServer(t)
	const peer = "0f0f0f0f-0000-4000-8000-000000000001"
	s.transact(`{"op":"insert","table":"Item","row":{"name":"a","n":1,"r":0.5,"up":true,"kind":"vm","tags":["set",["x","y"]],"ext":["map",[["k","v"],["z","1"]]]}},` +
		`{"op":"insert","table":"Item","row":{"name":"b","n":7,"r":3.0,"up":false,"kind":"router","tags":"x","peer":["uuid","` + peer + `"]}},` +
		`{"op":"insert","table":"Item","row":{"name":"c","n":-3,"r":-1.5,"up":false,"kind":"vm"}},` +
		`{"op":"insert","table":"Other","row":{"x":1}}`)

	all := []TableRequest{{Table: "Item", Columns: []string{"name", "n", "r", "up", "kind", "tags", "ext", "peer"}}}
	// Conditions in every notation the encoder writes, each with the rows the
	// server must select.
	tests := []struct {
		name  string
		where []ovsdb.Condition
		want  []string
	}{
		{"nil: every row", nil, []string{"a", "b", "c"}},
		{"empty: no row", []ovsdb.Condition{}, nil},
		{"string", []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: "b"}}, []string{"b"}},
		{"enum via named string", []ovsdb.Condition{{Column: "kind", Function: ovsdb.ConditionEqual, Value: condTestEnum("vm")}}, []string{"a", "c"}},
		{"integer", []ovsdb.Condition{{Column: "n", Function: ovsdb.ConditionGreaterThan, Value: 0}}, []string{"a", "b"}},
		{"real written as 3.0", []ovsdb.Condition{{Column: "r", Function: ovsdb.ConditionEqual, Value: 3.0}}, []string{"b"}},
		{"real negative", []ovsdb.Condition{{Column: "r", Function: ovsdb.ConditionLessThan, Value: -1.0}}, []string{"c"}},
		{"boolean", []ovsdb.Condition{{Column: "up", Function: ovsdb.ConditionEqual, Value: true}}, []string{"a"}},
		{"alternatives", []ovsdb.Condition{
			{Column: "name", Function: ovsdb.ConditionEqual, Value: "a"},
			{Column: "n", Function: ovsdb.ConditionLessThan, Value: 0},
		}, []string{"a", "c"}},
		{"set includes", []ovsdb.Condition{{Column: "tags", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsSet{GoSet: []any{"y", "x"}}}}, []string{"a"}},
		{"set of one", []ovsdb.Condition{{Column: "tags", Function: ovsdb.ConditionIncludes, Value: []string{"x"}}}, []string{"a", "b"}},
		{"empty set equality", []ovsdb.Condition{{Column: "tags", Function: ovsdb.ConditionEqual, Value: []string{}}}, []string{"c"}},
		{"map includes", []ovsdb.Condition{{Column: "ext", Function: ovsdb.ConditionIncludes, Value: map[string]string{"z": "1", "k": "v"}}}, []string{"a"}},
		{"map excludes", []ovsdb.Condition{{Column: "ext", Function: ovsdb.ConditionExcludes, Value: ovsdb.OvsMap{GoMap: map[any]any{"k": "v"}}}}, []string{"b", "c"}},
		{"optional uuid", []ovsdb.Condition{{Column: "peer", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: peer}}}, []string{"b"}},
		{"optional absent via nil pointer", []ovsdb.Condition{{Column: "peer", Function: ovsdb.ConditionEqual, Value: (*ovsdb.UUID)(nil)}}, []string{"a", "c"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.t = t
			db := "Lab"
			c := NewConditions(db)
			if _, err := c.Set("Item", tt.where); err != nil {
				t.Fatal(err)
			}
			// Each monitor needs its own id on one connection: compose with
			// a fresh Conditions, then cancel the monitor.
			params, err := c.StartMonitor(MethodMonitorCondSince, all)
			if err != nil {
				t.Fatal(err)
			}
			res := s.call("monitor_cond_since", params)
			var reply []json.RawMessage
			if err := json.Unmarshal(res, &reply); err != nil || len(reply) != 3 {
				t.Fatalf("reply %s", res)
			}
			var last string
			if err := json.Unmarshal(reply[1], &last); err != nil {
				t.Fatal(err)
			}
			if err := c.MonitorReplied(last); err != nil {
				t.Fatalf("last id %q from the server: %v", last, err)
			}
			if got := reqNames(t, reply[2], "Item"); !slices.Equal(got, tt.want) {
				t.Errorf("case %d: rows %q, want %q", i, got, tt.want)
			}
			s.call("monitor_cancel", []byte(`[["monid","Lab"]]`))
		})
	}
	s.t = t

	// A condition change on a live monitor: the server sends the new rows
	// before the reply, and the expected seqno is reached on the ack.
	c := NewConditions("Lab")
	if _, err := c.Set("Item", []ovsdb.Condition{{Column: "name", Function: ovsdb.ConditionEqual, Value: "a"}}); err != nil {
		t.Fatal(err)
	}
	// A conditioned table that is not selected: registered with no columns.
	if _, err := c.Set("Other", []ovsdb.Condition{}); err != nil {
		t.Fatal(err)
	}
	params, err := c.StartMonitor(MethodMonitorCondSince, all)
	if err != nil {
		t.Fatal(err)
	}
	res := s.call("monitor_cond_since", params)
	var reply []json.RawMessage
	if err := json.Unmarshal(res, &reply); err != nil || len(reply) != 3 {
		t.Fatalf("reply %s", res)
	}
	if err := c.MonitorReplied(jsonUnquote(t, reply[1])); err != nil {
		t.Fatal(err)
	}
	if got := reqNames(t, reply[2], "Item"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("initial rows %q", got)
	}
	want, err := c.Set("Item", []ovsdb.Condition{{Column: "n", Function: ovsdb.ConditionGreaterThan, Value: 5}})
	if err != nil {
		t.Fatal(err)
	}
	wantOther, err := c.Set("Other", nil)
	if err != nil {
		t.Fatal(err)
	}
	change, ok := c.ComposeChange()
	if !ok {
		t.Fatal("no change composed")
	}
	s.notes = nil
	s.call("monitor_cond_change", change)
	if err := c.Ack(); err != nil {
		t.Fatal(err)
	}
	if c.Seqno() != want || c.Seqno() != wantOther {
		t.Errorf("seqno %d, want %d and %d", c.Seqno(), want, wantOther)
	}
	var inserted []string
	var otherRows int
	for _, n := range s.notes {
		if n.Method != "update3" {
			t.Errorf("unexpected %s notification", n.Method)
			continue
		}
		var p []json.RawMessage
		if err := json.Unmarshal(n.Params, &p); err != nil || len(p) != 3 {
			t.Fatalf("update3 params %s", n.Params)
		}
		if err := c.SetLastID(jsonUnquote(t, p[1])); err != nil {
			t.Fatal(err)
		}
		inserted = append(inserted, reqNames(t, p[2], "Item")...)
		var tu map[string]map[string]any
		_ = json.Unmarshal(p[2], &tu)
		otherRows += len(tu["Other"])
	}
	if !slices.Equal(inserted, []string{"b"}) || otherRows != 1 {
		t.Errorf("rows sent for the change: Item %q, Other %d; want [b] and 1", inserted, otherRows)
	}
	s.call("monitor_cancel", []byte(`[["monid","Lab"]]`))

	// monitor_cond and plain monitor with the same selection are accepted.
	for _, m := range []Method{MethodMonitorCond, MethodMonitor} {
		params, err := c.StartMonitor(m, all)
		if err != nil {
			t.Fatal(err)
		}
		res := s.call(m.String(), params)
		want := []string{"b"} // the acked condition (n > 5)
		if m == MethodMonitor {
			want = []string{"a", "b", "c"} // no conditions at all
		}
		if got := reqNames(t, res, "Item"); !slices.Equal(got, want) {
			t.Errorf("%v: rows %q, want %q", m, got, want)
		}
		if err := c.MonitorReplied(""); err != nil {
			t.Fatal(err)
		}
		s.call("monitor_cancel", []byte(`[["monid","Lab"]]`))
	}

	// Why the encoder writes [false] for "no row": to the server an empty
	// "where" means every row.
	res = s.call("monitor_cond", []byte(`["Lab",["monid","Lab"],{"Item":[{"columns":["name"],"where":[]}]}]`))
	if got := reqNames(t, res, "Item"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf(`"where":[] selected %q`, got)
	}
	s.call("monitor_cancel", []byte(`[["monid","Lab"]]`))
	// And it rejects a function the encoder refuses.
	if _, errReply := s.tryCall("monitor_cond", []byte(`["Lab",["monid","Lab"],{"Item":[{"columns":["name"],"where":[["name","~","a"]]}]}]`)); errReply == "" {
		t.Error("server accepted an unknown function")
	}
}

func jsonUnquote(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return s
}
