package leader

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The testdata files were captured from a real ovsdb-server 3.1 cluster of
// three members serving the "Lab" database: the monitor_cond reply of _Server
// on the leader, on a follower and on a relay, and the update2 notifications
// each member sent while leadership moved from the first to the second.

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

func readLines(t *testing.T, name string) [][]byte {
	t.Helper()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, name)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	return out
}

func TestRealServerRows(t *testing.T) {
	r := NewReplica()
	if err := r.Reset(readFile(t, "leader-reply.json")); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 2 {
		t.Fatalf("%d rows, want 2 (Lab and _Server)", r.Len())
	}
	lab, ok := r.Find("Lab", "")
	if !ok {
		t.Fatal("no Lab row")
	}
	want := Database{
		UUID: "83757c15-a3b7-4a3c-8dd6-3fbabb3badd5", Name: "Lab", Model: Clustered,
		Connected: true, Leader: true, HasSchema: true,
		CID: "cc568949-9b70-427e-a9bd-886b210785c8", SID: "d1d9bcaf-9b3d-4883-b580-755abbffa6e9",
		Index: 6, HasIndex: true,
	}
	if !strings.HasPrefix(lab.Schema, `{"name":"Lab"`) {
		t.Errorf("schema %.40q", lab.Schema)
	}
	lab.Schema = ""
	if lab != want {
		t.Errorf("Lab row\n got %+v\nwant %+v", lab, want)
	}
	srv, ok := r.Find("_Server", "")
	if !ok || srv.Model != Standalone || !srv.Leader || !srv.Connected || srv.HasIndex || srv.CID != "" || srv.SID != "" || !srv.HasSchema {
		t.Errorf("_Server row %+v", srv)
	}

	c := &Checker{}
	target := Target{Remote: "tcp:127.0.0.1:24253", Database: "Lab", LeaderOnly: true}
	res, err := c.Check(r, target)
	if err != nil {
		t.Fatal(err)
	}
	if res.Index != 6 || c.MinIndex() != 6 || !strings.HasPrefix(res.Schema, `{"name":"Lab"`) {
		t.Errorf("result index %d, min %d, schema %.20q", res.Index, c.MinIndex(), res.Schema)
	}
	// Pinned to the cluster id, the row is found too.
	if _, err := c.Check(r, Target{Database: "whatever", ClusterID: want.CID, LeaderOnly: true}); err != nil {
		t.Errorf("pinned check: %v", err)
	}

	// Leadership moves away: leader:false, then the index of the new term.
	updates := readLines(t, "leader-transfer-updates.json")
	if err := r.Apply(updates[0]); err != nil {
		t.Fatal(err)
	}
	_, err = c.Check(r, target)
	wantErr(t, err, ErrNotLeader)
	if err.Error() != "tcp:127.0.0.1:24253: clustered database server is not cluster leader; trying another server" {
		t.Errorf("message %q", err)
	}
	if err := r.Apply(updates[1]); err != nil {
		t.Fatal(err)
	}
	if lab, _ := r.Find("Lab", ""); lab.Index != 7 || lab.Leader {
		t.Errorf("after transfer: %+v", lab)
	}
	// Without leader-only the old leader is fine.
	if _, err := c.Check(r, Target{Database: "Lab"}); err != nil {
		t.Error(err)
	}
}

func TestRealFollowerBecomesLeader(t *testing.T) {
	r := NewReplica()
	if err := r.Reset(readFile(t, "follower-reply.json")); err != nil {
		t.Fatal(err)
	}
	c := &Checker{}
	target := Target{Database: "Lab", LeaderOnly: true}
	// The follower's initial row has no "leader" member at all: it reads as
	// false.
	_, err := c.Check(r, target)
	wantErr(t, err, ErrNotLeader)
	for _, u := range readLines(t, "follower-transfer-updates.json") {
		if err := r.Apply(u); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.Check(r, target)
	wantErr(t, err, nil)
	if res.Index != 7 {
		t.Errorf("index %d, want 7", res.Index)
	}
}

func TestRealRelay(t *testing.T) {
	r := NewReplica()
	if err := r.Reset(readFile(t, "relay-reply.json")); err != nil {
		t.Fatal(err)
	}
	_, err := (&Checker{}).Check(r, Target{Database: "Lab", LeaderOnly: true})
	wantErr(t, err, ErrRelayLeaderOnly)
	if _, err := (&Checker{}).Check(r, Target{Database: "Lab"}); err != nil {
		t.Error(err)
	}
}

const rowA = "83757c15-a3b7-4a3c-8dd6-3fbabb3badd5"

// base is a full row, as an "initial" member.
const baseRow = `{"name":"Lab","model":"clustered","connected":true,"leader":true,"schema":"S1",` +
	`"cid":["uuid","cc568949-9b70-427e-a9bd-886b210785c8"],"sid":["uuid","d1d9bcaf-9b3d-4883-b580-755abbffa6e9"],"index":6}`

func baseDatabase() Database {
	return Database{
		UUID: rowA, Name: "Lab", Model: Clustered, Connected: true, Leader: true,
		Schema: "S1", HasSchema: true,
		CID: "cc568949-9b70-427e-a9bd-886b210785c8", SID: "d1d9bcaf-9b3d-4883-b580-755abbffa6e9",
		Index: 6, HasIndex: true,
	}
}

func update(op, body string) string {
	return `{"Database":{"` + rowA + `":{"` + op + `":` + body + `}}}`
}

func TestApplyModify(t *testing.T) {
	tests := []struct {
		name   string
		start  string // initial row body; baseRow if empty
		modify string
		want   func(*Database)
	}{
		{"nothing", "", `{}`, func(*Database) {}},
		{"unknown columns ignored", "", `{"_version":["uuid","00000000-0000-0000-0000-000000000000"],"future":[1,2,{"x":null}]}`, func(*Database) {}},
		{"leader replaced", "", `{"leader":false}`, func(d *Database) { d.Leader = false }},
		{"connected replaced", "", `{"connected":false}`, func(d *Database) { d.Connected = false }},
		{"name replaced", "", `{"name":"Other"}`, func(d *Database) { d.Name = "Other" }},
		{"model replaced", "", `{"model":"relay"}`, func(d *Database) { d.Model = Relay }},
		{"bool as one-element set", "", `{"leader":["set",[false]]}`, func(d *Database) { d.Leader = false }},
		{"index replaced", "", `{"index":7}`, func(d *Database) { d.Index = 7 }},
		{"index replaced as set", "", `{"index":["set",[8]]}`, func(d *Database) { d.Index = 8 }},
		{"index cleared by empty set", "", `{"index":["set",[]]}`, func(d *Database) { d.Index, d.HasIndex = 0, false }},
		{"index cleared by its own value", "", `{"index":6}`, func(d *Database) { d.Index, d.HasIndex = 0, false }},
		{"index set from absent", `{"name":"Lab","model":"clustered"}`, `{"index":3}`, func(d *Database) {
			*d = Database{UUID: rowA, Name: "Lab", Model: Clustered, Index: 3, HasIndex: true}
		}},
		{"index two-element diff", "", `{"index":["set",[6,9]]}`, func(d *Database) { d.Index = 9 }},
		{"index two-element diff reversed", "", `{"index":["set",[9,6]]}`, func(d *Database) { d.Index = 9 }},
		{"index 0 present", "", `{"index":0}`, func(d *Database) { d.Index, d.HasIndex = 0, true }},
		{"index exact int64", "", `{"index":9007199254740993}`, func(d *Database) { d.Index = 9007199254740993 }},
		{"index max int64", "", `{"index":9223372036854775807}`, func(d *Database) { d.Index = 9223372036854775807 }},
		{"index negative", "", `{"index":-1}`, func(d *Database) { d.Index = -1 }},
		{"schema replaced", "", `{"schema":"S2"}`, func(d *Database) { d.Schema = "S2" }},
		{"schema cleared by own value", "", `{"schema":"S1"}`, func(d *Database) { d.Schema, d.HasSchema = "", false }},
		{"schema cleared by empty set", "", `{"schema":["set",[]]}`, func(d *Database) { d.Schema, d.HasSchema = "", false }},
		{"schema joined", `{"name":"Lab","model":"clustered","connected":false}`, `{"schema":"S9","connected":true}`, func(d *Database) {
			*d = Database{UUID: rowA, Name: "Lab", Model: Clustered, Connected: true, Schema: "S9", HasSchema: true}
		}},
		{"empty schema string present", "", `{"schema":""}`, func(d *Database) { d.Schema = "" }},
		{"cid replaced, upper case input", "", `{"cid":["uuid","0F0F0F0F-0000-4000-8000-000000000001"]}`, func(d *Database) { d.CID = cidB }},
		{"cid cleared by own value", "", `{"cid":["uuid","cc568949-9b70-427e-a9bd-886b210785c8"]}`, func(d *Database) { d.CID = "" }},
		{"cid cleared by empty set", "", `{"cid":["set",[]]}`, func(d *Database) { d.CID = "" }},
		{"sid two-element diff", "", `{"sid":["set",[["uuid","d1d9bcaf-9b3d-4883-b580-755abbffa6e9"],["uuid","` + cidB + `"]]]}`, func(d *Database) { d.SID = cidB }},
		{"several columns at once", "", `{"leader":false,"index":10,"connected":false}`, func(d *Database) {
			d.Leader, d.Index, d.Connected = false, 10, false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := tt.start
			if start == "" {
				start = baseRow
			}
			r := NewReplica()
			if err := r.Reset([]byte(update("initial", start))); err != nil {
				t.Fatal(err)
			}
			want, _ := r.Row(rowA)
			if tt.start == "" && want != baseDatabase() {
				t.Fatalf("initial row %+v", want)
			}
			if err := r.Apply([]byte(update("modify", tt.modify))); err != nil {
				t.Fatal(err)
			}
			tt.want(&want)
			if got, _ := r.Row(rowA); got != want {
				t.Errorf("\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestApplyInsertDelete(t *testing.T) {
	r := NewReplica()
	u := func(s string) []byte { return []byte(s) }
	const rowB = "00000000-0000-4000-8000-00000000000b"
	if err := r.Apply(u(`{"Database":{"` + rowA + `":{"insert":` + baseRow + `},"` + rowB + `":{"initial":{"name":"B"}}}}`)); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 2 {
		t.Fatalf("len %d", r.Len())
	}
	if b, ok := r.Row(strings.ToUpper(rowB)); !ok || b != (Database{UUID: rowB, Name: "B"}) {
		t.Errorf("row B %+v %v", b, ok)
	}
	rows := r.Rows()
	if len(rows) != 2 || rows[0].UUID != rowB || rows[1].UUID != rowA {
		t.Errorf("Rows not sorted: %v", rows)
	}
	if err := r.Apply(u(`{"Database":{"` + rowB + `":{"delete":null}}}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Row(rowB); ok || r.Len() != 1 {
		t.Error("row B still there")
	}
	// A delete may carry the row instead of null: it is checked, then
	// ignored, as monitor does for every database.
	if err := r.Apply(u(`{"Database":{"` + rowB + `":{"insert":{"name":"B"}}}}`)); err != nil {
		t.Fatal(err)
	}
	if err := r.Apply(u(`{"Database":{"` + rowB + `":{"delete":{"name":"B"}}}}`)); err != nil || r.Len() != 1 {
		t.Fatalf("delete with a row: %v, len %d", err, r.Len())
	}
	if _, ok := r.Row("nonsense"); ok {
		t.Error("found a row by a bad UUID")
	}
	// Other tables, and an empty update, change nothing.
	for _, in := range []string{`{}`, `{"Other":{}}`, `{"Other":{"x":1}}`, ` {"Database":{}} `} {
		if err := r.Apply(u(in)); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	if r.Len() != 1 {
		t.Errorf("len %d", r.Len())
	}
	r.Clear()
	if r.Len() != 0 || len(r.Rows()) != 0 {
		t.Error("Clear left rows")
	}
	// Clear works on a zero Replica, and a zero Replica accepts updates.
	var z Replica
	z.Clear()
	if err := z.Apply(u(update("insert", baseRow))); err != nil || z.Len() != 1 {
		t.Errorf("zero replica: %v, len %d", err, z.Len())
	}
}

func TestResetReplacesEverything(t *testing.T) {
	r := NewReplica()
	if err := r.Reset(readFile(t, "leader-reply.json")); err != nil {
		t.Fatal(err)
	}
	if err := r.Reset([]byte(update("initial", baseRow))); err != nil {
		t.Fatal(err)
	}
	if rows := r.Rows(); len(rows) != 1 || rows[0] != baseDatabase() {
		t.Errorf("rows after reset: %+v", rows)
	}
	// A reply with a modify or delete cannot be applied to nothing.
	for _, op := range []string{"modify", "delete"} {
		body := `{}`
		if op == "delete" {
			body = "null"
		}
		err := r.Reset([]byte(update(op, body)))
		wantErr(t, err, ErrInconsistent)
	}
	// A bad reply leaves the old rows.
	wantErr(t, r.Reset([]byte(`[]`)), ErrMalformed)
	if rows := r.Rows(); len(rows) != 1 || rows[0] != baseDatabase() {
		t.Errorf("rows after failed reset: %+v", rows)
	}
}

func TestApplyInconsistent(t *testing.T) {
	const rowB = "00000000-0000-4000-8000-00000000000b"
	tests := []struct{ name, in string }{
		{"insert existing", update("insert", `{}`)},
		{"initial existing", update("initial", `{}`)},
		{"modify missing", `{"Database":{"` + rowB + `":{"modify":{}}}}`},
		{"delete missing", `{"Database":{"` + rowB + `":{"delete":null}}}`},
		{"two-element diff without current value", update("modify", `{"index":["set",[1,2]]}`)},
		{"index three elements on modify", update("modify", `{"index":["set",[1,2,3]]}`)},
		// All or nothing: the first row is fine, the second fails.
		{"atomic", `{"Database":{"` + rowA + `":{"modify":{"leader":false}},"` + rowB + `":{"delete":null}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReplica()
			if err := r.Reset([]byte(update("initial", baseRow))); err != nil {
				t.Fatal(err)
			}
			before := r.Rows()
			err := r.Apply([]byte(tt.in))
			wantErr(t, err, ErrInconsistent)
			if errors.Is(err, ErrMalformed) {
				t.Errorf("%v is also malformed", err)
			}
			if after := r.Rows(); !reflect.DeepEqual(before, after) {
				t.Errorf("rows changed by a failed update:\n%+v\n%+v", before, after)
			}
		})
	}
}

func TestApplyTwoElementDiffOnAbsentValue(t *testing.T) {
	r := NewReplica()
	if err := r.Reset([]byte(update("initial", `{"name":"Lab"}`))); err != nil {
		t.Fatal(err)
	}
	wantErr(t, r.Apply([]byte(update("modify", `{"index":["set",[1,2]]}`))), ErrInconsistent)
	// One element sets it, the same element clears it again.
	for i, want := range []bool{true, false} {
		if err := r.Apply([]byte(update("modify", `{"index":["set",[4]]}`))); err != nil {
			t.Fatal(err)
		}
		if got, _ := r.Row(rowA); got.HasIndex != want || (want && got.Index != 4) {
			t.Errorf("step %d: %+v", i, got)
		}
	}
}

func TestApplyMalformed(t *testing.T) {
	row := func(body string) string { return `{"Database":{"` + rowA + `":` + body + `}}` }
	tests := []struct{ name, in string }{
		{"empty", ``},
		{"null", `null`},
		{"array", `[]`},
		{"string", `"x"`},
		{"truncated", `{"Database":{`},
		{"trailing garbage", `{} x`},
		{"other table not an object", `{"Other":[]}`},
		{"table null", `{"Database":null}`},
		{"table array", `{"Database":[]}`},
		{"bad row uuid", `{"Database":{"xyz":{"insert":{}}}}`},
		{"row uuid too short", `{"Database":{"83757c15-a3b7-4a3c-8dd6-3fbabb3badd":{"insert":{}}}}`},
		{"row uuid bad dash", `{"Database":{"83757c15a-3b7-4a3c-8dd6-3fbabb3badd5":{"insert":{}}}}`},
		{"same row in two cases", `{"Database":{"` + rowA + `":{"insert":{}},"` + strings.ToUpper(rowA) + `":{"insert":{}}}}`},
		{"row update not object", row(`[]`)},
		{"row update empty", row(`{}`)},
		{"row update two members", row(`{"insert":{},"modify":{}}`)},
		{"row update unknown member", row(`{"upsert":{}}`)},
		{"row update old style", row(`{"new":{}}`)},
		{"delete with a bad value", row(`{"delete":{"index":"x"}}`)},
		{"bool as empty set", row(`{"modify":{"leader":["set",[]]}}`)},
		{"insert null", row(`{"insert":null}`)},
		{"modify array", row(`{"modify":[]}`)},
		{"name number", row(`{"insert":{"name":1}}`)},
		{"name null", row(`{"insert":{"name":null}}`)},
		{"model bool", row(`{"insert":{"model":true}}`)},
		{"connected string", row(`{"insert":{"connected":"true"}}`)},
		{"leader number", row(`{"insert":{"leader":1}}`)},
		{"schema object", row(`{"insert":{"schema":{}}}`)},
		{"index string", row(`{"insert":{"index":"5"}}`)},
		{"index real", row(`{"insert":{"index":5.0}}`)},
		{"index exponent", row(`{"insert":{"index":1e3}}`)},
		{"index overflow", row(`{"insert":{"index":9223372036854775808}}`)},
		{"index underflow", row(`{"insert":{"index":-9223372036854775809}}`)},
		{"index two elements on insert", row(`{"insert":{"index":["set",[1,2]]}}`)},
		{"leader two elements on modify", row(`{"modify":{"leader":["set",[true,false]]}}`)},
		{"index duplicate elements", row(`{"modify":{"index":["set",[1,1]]}}`)},
		{"set second not array", row(`{"insert":{"index":["set",1]}}`)},
		{"set bad element", row(`{"insert":{"index":["set",["x"]]}}`)},
		{"map for scalar", row(`{"insert":{"name":["map",[]]}}`)},
		{"cid bare string", row(`{"insert":{"cid":"cc568949-9b70-427e-a9bd-886b210785c8"}}`)},
		{"cid bad uuid", row(`{"insert":{"cid":["uuid","cc568949"]}}`)},
		{"cid uuid number", row(`{"insert":{"cid":["uuid",5]}}`)},
		{"cid named-uuid", row(`{"insert":{"cid":["named-uuid","x"]}}`)},
		{"cid wrong arity", row(`{"insert":{"cid":["uuid","cc568949-9b70-427e-a9bd-886b210785c8",1]}}`)},
		{"sid set of bare strings", row(`{"insert":{"sid":["set",["cc568949-9b70-427e-a9bd-886b210785c8"]]}}`)},
		{"deep nesting", row(`{"insert":{"name":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReplica()
			if err := r.Reset([]byte(update("initial", baseRow))); err != nil {
				t.Fatal(err)
			}
			err := r.Apply([]byte(tt.in))
			wantErr(t, err, ErrMalformed)
			if got, _ := r.Row(rowA); r.Len() != 1 || got != baseDatabase() {
				t.Errorf("replica changed by a malformed update")
			}
		})
	}
}
