package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/ovstable"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// The golden tests replay recorded server messages through the printers
// and compare the output with files written by the real ovsdb-client on
// the same messages. "go test -run TestGolden -oracle" records both again
// from ovsdb-server and ovsdb-client (Open vSwitch must be installed); the
// plain test needs neither.
var oracleFlag = flag.Bool("oracle", false, "record testdata/golden again from the real ovsdb-server and ovsdb-client")

const goldenDir = "testdata/golden"

// goldenStyles are the output flags every golden case is printed with.
var goldenStyles = []struct {
	name  string
	flags []string
}{
	{"table", nil},
	{"list", []string{"-f", "list"}},
	{"csv", []string{"-f", "csv"}},
	{"html", []string{"-f", "html"}},
	{"json", []string{"-f", "json"}},
	{"json-pretty", []string{"-f", "json", "--pretty"}},
	{"bare", []string{"--bare"}},
	{"data-json", []string{"-d", "json"}},
	{"data-bare-no-headings", []string{"-d", "bare", "--no-headings"}},
}

// goldenMonitors are the monitor commands recorded: name, whether it is
// monitor-cond (with the condition), and the TABLE [COLUMNS] arguments.
//
// With the _uuid column, html is not recorded: ovsdb-client's html printer
// reads past the end of the empty _uuid cell of an "old" row
// (table_print_html__ in lib/table.c copies 8 bytes of it) and prints
// whatever memory follows.
var goldenMonitors = []struct {
	name   string
	cond   string
	args   []string
	noHTML bool
}{
	{"monitor-switch", "", []string{"Switch", "name,ports,external_ids,vlan,ratio,enabled"}, false},
	{"monitor-port", "", []string{"Port", "name,addresses,tags,kind,options,peer,_uuid"}, true},
	{"monitor-selectors", "", []string{"Switch", "name,!initial,!delete", "ratio,enabled"}, false},
	{"monitor-selectors-modify", "", []string{"Switch", "name,vlan,!modify,!insert", "ratio"}, false},
	{"monitor-cond-switch", `[["enabled","==",true]]`, []string{"Switch", "name,ports,external_ids,vlan,ratio"}, false},
	{"monitor-cond-port", `[true]`, []string{"Port", "name,addresses,tags,kind,options,peer"}, false},
}

// Fixed row uuids, so that recordings are reproducible.
const (
	uS0 = "00000000-5afe-4000-8000-000000000000"
	uS1 = "11111111-5afe-4000-8000-000000000001"
	uS2 = "22222222-5afe-4000-8000-000000000002"
	uS3 = "33333333-5afe-4000-8000-000000000003"
	uP0 = "a0000000-0000-4000-8000-00000000000a"
	uP1 = "a1111111-0000-4000-8000-00000000000b"
	uP2 = "a2222222-0000-4000-8000-00000000000c"
)

func ins(table, id, row string) string {
	return fmt.Sprintf(`{"op":"insert","table":%q,"uuid":%q,"row":%s}`, table, id, row)
}

// goldenSeed is the contents before the monitors start; goldenChanges are
// the transactions made while they run.
var (
	goldenSeed = []string{
		ins("Port", uP0, `{"name":"p0","addresses":["set",["00:00:00:00:00:01 10.0.0.1","router"]],"kind":"access"}`),
		ins("Switch", uS0, `{"name":"s0","ports":["uuid","`+uP0+`"],"external_ids":["map",[["owner","ops team"],["zone","1"]]],"ratio":0.25,"enabled":true}`),
	}
	goldenChanges = [][]string{
		{ins("Port", uP1, `{"name":"p1","tags":["set",[3,1]],"options":["map",[["mtu",1500]]]}`),
			ins("Port", uP2, `{"name":"needs \"quotes\", <html> & commas","kind":"trunk","peer":["uuid","`+uP1+`"]}`),
			ins("Switch", uS1, `{"name":"s1","ports":["set",[["uuid","`+uP1+`"],["uuid","`+uP2+`"]]],"vlan":10,"ratio":1e-5,"enabled":true}`)},
		{`{"op":"update","table":"Switch","where":[["_uuid","==",["uuid","` + uS1 + `"]]],"row":{"external_ids":["map",[["a","b"]]],"ratio":123456789.125}}`},
		{`{"op":"mutate","table":"Port","where":[["name","==","p1"]],"mutations":[["tags","insert",["set",[2]]],["tags","delete",["set",[3]]],["options","insert",["map",[["speed",10]]]]]}`},
		{`{"op":"update","table":"Port","where":[["name","==","p0"]],"row":{"kind":"trunk","peer":["uuid","` + uP2 + `"],"addresses":["set",[]]}}`},
		{ins("Switch", uS2, `{"name":"true","enabled":false,"vlan":4095}`),
			ins("Switch", uS3, `{"name":"`+uS0+`","enabled":true}`)},
		{`{"op":"update","table":"Switch","where":[],"row":{"enabled":false}}`},
		{`{"op":"delete","table":"Switch","where":[["name","!=","s0"]]}`,
			`{"op":"mutate","table":"Port","where":[],"mutations":[["options","delete",["set",["mtu"]]]]}`},
	}
)

// recording is what the server sent one monitor: its reply, then the
// params of each update notification.
type recording struct {
	Reply   json.RawMessage   `json:"reply"`
	Updates []json.RawMessage `json:"updates"`
}

func goldenPath(name string) string { return filepath.Join(goldenDir, name) }

func goldenTarget(t *testing.T) *target {
	t.Helper()
	raw, err := os.ReadFile(goldenPath("golden.ovsschema"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := monitor.ParseDatabaseSchema(raw)
	if err != nil {
		t.Fatal(err)
	}
	return &target{name: "unix:golden", database: "Golden", schema: db, raw: raw}
}

func TestGolden(t *testing.T) {
	if *oracleFlag {
		recordGolden(t)
	}
	tg := goldenTarget(t)
	for _, gm := range goldenMonitors {
		var rec recording
		data, err := os.ReadFile(goldenPath(gm.name + ".json"))
		if err != nil {
			t.Fatalf("%v (go test -run TestGolden -oracle records it)", err)
		}
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatal(err)
		}
		for _, st := range goldenStyles {
			if gm.noHTML && st.name == "html" {
				continue
			}
			got := replayMonitor(t, tg, gm.cond != "", gm.args, rec, st.flags)
			compareGolden(t, fmt.Sprintf("%s.%s.golden", gm.name, st.name), got)
		}
	}
	var reply json.RawMessage
	data, err := os.ReadFile(goldenPath("dump.json"))
	if err != nil {
		t.Fatalf("%v (go test -run TestGolden -oracle records it)", err)
	}
	if err := json.Unmarshal(data, &reply); err != nil {
		t.Fatal(err)
	}
	for _, st := range goldenStyles {
		compareGolden(t, "dump."+st.name+".golden", replayDump(t, tg, reply, st.flags))
	}
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(goldenPath(name))
	if err != nil {
		t.Fatalf("%v (go test -run TestGolden -oracle records it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: ovsdb-cs prints\n%s\nwhere ovsdb-client printed\n%s", name, got, want)
	}
}

// styleOf parses output flags as the commands do.
func styleOf(t *testing.T, flags []string) ovstable.Style {
	t.Helper()
	c := &common{e: &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}}
	fs := newFlagSet(c.e, "golden", "")
	c.addOutputFlags(fs, false, true)
	if _, err := parseArgs(fs, flags); err != nil {
		t.Fatal(err)
	}
	if _, err := c.checkOutput(); err != nil {
		t.Fatal(err)
	}
	return c.style
}

func replayMonitor(t *testing.T, tg *target, cond bool, args []string, rec recording, flags []string) []byte {
	t.Helper()
	tables, err := parseMonitorTables(tg, args, cond, true)
	if err != nil {
		t.Fatal(err)
	}
	sel := map[string][]string{}
	for _, mt := range tables {
		sel[mt.name] = mt.columnNames()
	}
	sch, err := monitor.NewSchema(tg.schema, sel)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tp := &tablePrinter{p: ovstable.NewPrinter(&out, styleOf(t, flags)), tables: tables, v2: cond, now: time.Now}
	r := monitor.NewReplica(sch)
	apply := func(u *monitor.Update, err error, initial bool) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		changes, err := r.Apply(u)
		if err != nil {
			t.Fatal(err)
		}
		if err := tp.print(changes.Slice(), initial); err != nil {
			t.Fatal(err)
		}
	}
	if cond {
		u, err := monitor.ParseMonitorCondReply(sch, rec.Reply)
		apply(u, err, true)
	} else {
		u, err := monitor.ParseMonitorReply(sch, rec.Reply)
		apply(u, err, true)
	}
	for _, params := range rec.Updates {
		if cond {
			u, err := monitor.ParseUpdate2(sch, params)
			apply(u, err, false)
		} else {
			u, err := monitor.ParseUpdate(sch, params)
			apply(u, err, false)
		}
	}
	return out.Bytes()
}

func replayDump(t *testing.T, tg *target, reply json.RawMessage, flags []string) []byte {
	t.Helper()
	tables, _, err := dumpSelection(tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cols := dumpColumns(t, tg, tables)
	var replies []struct {
		Rows []map[string]json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(reply, &replies); err != nil || len(replies) != len(tables) {
		t.Fatalf("dump reply: %v", err)
	}
	var out bytes.Buffer
	p := ovstable.NewPrinter(&out, styleOf(t, flags))
	for i, table := range tables {
		tbl, err := dumpTable(table, cols[i], replies[i].Rows)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Print(tbl); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func dumpColumns(t *testing.T, tg *target, tables []string) [][]dumpColumn {
	t.Helper()
	sch, err := monitor.NewSchema(tg.schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]dumpColumn, len(tables))
	for i, table := range tables {
		out[i] = []dumpColumn{{name: "_uuid", typ: uuidType}}
		for _, c := range sch.Table(table).Columns {
			out[i] = append(out[i], dumpColumn{name: c.Name, typ: &c.Type})
		}
		slices.SortFunc(out[i], func(a, b dumpColumn) int { return strings.Compare(a.name, b.name) })
	}
	return out
}

// recordGolden runs a standalone ovsdb-server with the golden schema, and
// for each golden monitor a raw monitor connection (recording what the
// server sends) beside one ovsdb-client per output style, makes the golden
// changes, and writes the recordings and ovsdb-client's outputs.
func recordGolden(t *testing.T) {
	schema, err := os.ReadFile(goldenPath("golden.ovsschema"))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := exec.LookPath("ovsdb-client")
	if err != nil {
		t.Fatalf("-oracle needs ovsdb-client: %v", err)
	}
	srv := ovsdbserver.StartStandalone(t, schema)
	remote := srv.Remote()
	ctx := t.Context()
	transact := func(ops ...string) {
		t.Helper()
		args := make([]any, len(ops))
		for i, op := range ops {
			args[i] = json.RawMessage(op)
		}
		if _, err := srv.Transact(ctx, args...); err != nil {
			t.Fatal(err)
		}
	}
	transact(goldenSeed...)

	type run struct {
		name string
		out  *outBuf
		stop func()
	}
	var runs []run
	var conns []*jsonrpc.Conn
	recs := make([]recording, len(goldenMonitors))
	tg := goldenTarget(t)
	for i, gm := range goldenMonitors {
		cmdName := "monitor"
		args := []string{remote, "Golden"}
		if gm.cond != "" {
			cmdName = "monitor-cond"
			args = append(args, gm.cond)
		}
		args = append(args, gm.args...)
		for _, st := range goldenStyles {
			if gm.noHTML && st.name == "html" {
				continue
			}
			out, stop := oracle(t, bin, append(append([]string{cmdName}, st.flags...), args...)...)
			runs = append(runs, run{gm.name + "." + st.name + ".golden", out, stop})
		}
		conn := dialRaw(t, remote)
		conns = append(conns, conn)
		tables, err := parseMonitorTables(tg, gm.args, gm.cond != "", true)
		if err != nil {
			t.Fatal(err)
		}
		reqs := map[string]any{}
		for _, mt := range tables {
			req := map[string]any{"columns": mt.columnNamesWithUUID()}
			if gm.cond != "" {
				var where any
				if err := json.Unmarshal([]byte(gm.cond), &where); err != nil {
					t.Fatal(err)
				}
				req["where"] = where
			}
			reqs[mt.name] = req
		}
		method := "monitor"
		if gm.cond != "" {
			method = "monitor_cond"
		}
		reply, err := conn.Call(ctx, method, "Golden", gm.name, reqs)
		if err != nil {
			t.Fatal(err)
		}
		recs[i].Reply = reply
	}
	// ovsdb-client prints the initial rows.
	waitGrowth := func(before []int) {
		deadline := time.Now().Add(3 * time.Second)
		for _, r := range runs {
			for time.Now().Before(deadline) && len(r.out.String()) == before[slices.IndexFunc(runs, func(x run) bool { return x.name == r.name })] {
				time.Sleep(10 * time.Millisecond)
			}
		}
		time.Sleep(200 * time.Millisecond) // the rest of a burst
	}
	sizes := func() []int {
		s := make([]int, len(runs))
		for i, r := range runs {
			s[i] = len(r.out.String())
		}
		return s
	}
	waitGrowth(make([]int, len(runs)))
	for _, ch := range goldenChanges {
		before := sizes()
		transact(ch...)
		for i, conn := range conns {
			rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			for {
				m, err := conn.Recv(rctx)
				if err != nil {
					break // no (more) update for this monitor
				}
				if m.Method == "update" || m.Method == "update2" {
					var params []json.RawMessage
					if err := json.Unmarshal(m.Params, &params); err != nil || len(params) != 2 {
						t.Fatalf("bad %s params %s", m.Method, m.Params)
					}
					recs[i].Updates = append(recs[i].Updates, m.Params)
					break
				}
			}
			cancel()
		}
		waitGrowth(before)
	}
	for _, r := range runs {
		r.stop()
		if err := os.WriteFile(goldenPath(r.name), []byte(r.out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, gm := range goldenMonitors {
		data, err := json.MarshalIndent(recs[i], "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath(gm.name+".json"), append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// dump: the select reply and ovsdb-client's outputs.
	tables, _, err := dumpSelection(tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ops []any
	for i, table := range tables {
		var names []string
		for _, c := range dumpColumns(t, tg, tables)[i] {
			names = append(names, c.name)
		}
		ops = append(ops, map[string]any{"op": "select", "table": table, "where": []any{}, "columns": names})
	}
	reply, err := conns[0].Call(ctx, "transact", append([]any{"Golden"}, ops...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenPath("dump.json"), append(reply, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, st := range goldenStyles {
		out, err := exec.CommandContext(ctx, bin, append(append([]string{"dump"}, st.flags...), remote, "Golden")...).Output()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath("dump."+st.name+".golden"), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// dialRaw opens a JSON-RPC connection to remote.
func dialRaw(t *testing.T, remote string) *jsonrpc.Conn {
	t.Helper()
	r, err := jsonrpc.ParseRemote(remote)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial(r.Network(), r.Address())
	if err != nil {
		t.Fatal(err)
	}
	c := jsonrpc.NewConn(nc, jsonrpc.ConnConfig{})
	t.Cleanup(func() { c.Close() })
	return c
}
