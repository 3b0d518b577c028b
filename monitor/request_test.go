package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// -update rewrites the golden files under testdata/requests from the current
// output. Review the diff before committing it.
var reqUpdateGoldens = flag.Bool("update", false, "rewrite the golden files in testdata/requests")

// reqGolden compares got with testdata/requests/<name>.json, which holds the
// exact bytes plus a final newline.
func reqGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	if !json.Valid(got) {
		t.Fatalf("%s: not valid JSON: %s", name, got)
	}
	path := filepath.Join("testdata", "requests", name+".json")
	if *reqUpdateGoldens {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(bytes.Clone(got), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(append(bytes.Clone(got), '\n'), want) {
		t.Errorf("%s differs from %s (run with -update to rewrite it)\n got %s\nwant %s", name, path, got, bytes.TrimSuffix(want, []byte("\n")))
	}
}

func TestMethod(t *testing.T) {
	tests := []struct {
		m       Method
		name    string
		version int
		next    Method
		hasNext bool
	}{
		{MethodMonitorCondSince, "monitor_cond_since", 3, MethodMonitorCond, true},
		{MethodMonitorCond, "monitor_cond", 2, MethodMonitor, true},
		{MethodMonitor, "monitor", 1, 0, false},
	}
	for _, tt := range tests {
		if tt.m.String() != tt.name || tt.m.Version() != tt.version || !tt.m.Valid() {
			t.Errorf("%d: %q version %d valid %v", tt.m, tt.m, tt.m.Version(), tt.m.Valid())
		}
		if next, ok := tt.m.Next(); next != tt.next || ok != tt.hasNext {
			t.Errorf("%v.Next() = %v, %v", tt.m, next, ok)
		}
	}
	for bad, name := range map[Method]string{0: "Method(0)", 4: "Method(4)", 255: "Method(255)"} {
		if bad.Valid() || bad.String() != name {
			t.Errorf("%d valid or named %q", bad, bad)
		}
		if _, ok := bad.Next(); ok {
			t.Errorf("%d has a fallback", bad)
		}
	}
	// The whole fallback walk from the default cap.
	var walk []string
	for m, ok := FirstMethod(3), true; ok; m, ok = m.Next() {
		walk = append(walk, m.String())
	}
	if got := jsonString(walk); got != `["monitor_cond_since","monitor_cond","monitor"]` {
		t.Errorf("fallback walk %s", got)
	}
	for max, want := range map[int]Method{-1: MethodMonitor, 0: MethodMonitor, 1: MethodMonitor, 2: MethodMonitorCond, 3: MethodMonitorCondSince, 9: MethodMonitorCondSince} {
		if got := FirstMethod(max); got != want {
			t.Errorf("FirstMethod(%d) = %v, want %v", max, got, want)
		}
	}
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// nbTables is a small selection in the order a caller might list it.
var nbTables = []TableRequest{
	{Table: "Logical_Switch_Port", Columns: []string{"name", "addresses", "options", "up"}},
	{Table: "Logical_Switch", Columns: []string{"name", "ports", "other_config"}},
	{Table: "NB_Global"}, // every column
}

func TestMonitorRequestGolden(t *testing.T) {
	lspWhere := []ovsdb.Condition{
		{Column: "name", Function: ovsdb.ConditionEqual, Value: "lsp1"},
		{Column: "options", Function: ovsdb.ConditionIncludes, Value: ovsdb.OvsMap{GoMap: map[any]any{"requested-chassis": "hv1", "a": "b", "z": "y"}}},
	}
	tests := []struct {
		name string
		req  MonitorRequest
	}{
		{"monitor", MonitorRequest{Method: MethodMonitor, Database: "OVN_Northbound", Tables: nbTables,
			Where: map[string][]ovsdb.Condition{"Logical_Switch_Port": lspWhere}}},
		{"monitor-cond", MonitorRequest{Method: MethodMonitorCond, Database: "OVN_Northbound", Tables: nbTables,
			Where: map[string][]ovsdb.Condition{"Logical_Switch_Port": lspWhere, "Logical_Switch": nil}}},
		{"monitor-cond-since-zero", MonitorRequest{Method: MethodMonitorCondSince, Database: "OVN_Northbound", Tables: nbTables}},
		{"monitor-cond-since-last-id", MonitorRequest{Method: MethodMonitorCondSince, Database: "OVN_Northbound", Tables: nbTables,
			Where:  map[string][]ovsdb.Condition{"Logical_Switch_Port": lspWhere, "Logical_Switch": {}},
			LastID: "A0FACEC9-A039-4227-B9C9-B97A96410DCD"}},
		{"monitor-cond-since-explicit-zero", MonitorRequest{Method: MethodMonitorCondSince, Database: "db", Tables: []TableRequest{{Table: "T"}},
			LastID: ZeroLastID}},
		{"conditioned-table-not-selected", MonitorRequest{Method: MethodMonitorCond, Database: "OVN_Southbound",
			Tables: []TableRequest{{Table: "Chassis", Columns: []string{"name"}}},
			Where: map[string][]ovsdb.Condition{
				"Port_Binding": {{Column: "datapath", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: "83757c15-a3b7-4a3c-8dd6-3fbabb3badd5"}}},
				"Chassis":      {{Column: "name", Function: ovsdb.ConditionEqual, Value: "hv1"}},
			}}},
		{"columns-none-and-all", MonitorRequest{Method: MethodMonitorCond, Database: "db",
			Tables: []TableRequest{{Table: "Exists", Columns: []string{}}, {Table: "All"}},
			Where:  map[string][]ovsdb.Condition{"All": {}}}},
		{"no-tables", MonitorRequest{Method: MethodMonitorCondSince, Database: "db"}},
		{"escaping", MonitorRequest{Method: MethodMonitorCond, Database: "d\"b\\",
			Tables: []TableRequest{{Table: "T\n\t\x01", Columns: []string{"c\u00e9\u2028", "<&>"}}},
			Where:  map[string][]ovsdb.Condition{"T\n\t\x01": {{Column: "c\u00e9\u2028", Function: ovsdb.ConditionNotEqual, Value: "\"\\/\x7f\x1f"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.Params()
			if err != nil {
				t.Fatal(err)
			}
			reqGolden(t, tt.name, got)
			// Byte-deterministic: composing again gives the same bytes.
			for range 10 {
				again, err := tt.req.Params()
				if err != nil || !bytes.Equal(again, got) {
					t.Fatalf("second composition differs: %s", again)
				}
			}
		})
	}
}

// The golden output means what it should: decode it generically and check
// the structure against the request.
func TestMonitorRequestStructure(t *testing.T) {
	req := MonitorRequest{Method: MethodMonitorCondSince, Database: "OVN_Northbound", Tables: nbTables,
		Where: map[string][]ovsdb.Condition{
			"Logical_Switch_Port": {{Column: "up", Function: ovsdb.ConditionEqual, Value: true}},
			"ACL":                 nil,
		},
		LastID: "a0facec9-a039-4227-b9c9-b97a96410dcd"}
	b, err := req.Params()
	if err != nil {
		t.Fatal(err)
	}
	var params []json.RawMessage
	if err := json.Unmarshal(b, &params); err != nil || len(params) != 4 {
		t.Fatalf("params %s: %v", b, err)
	}
	if string(params[0]) != `"OVN_Northbound"` || string(params[1]) != `["monid","OVN_Northbound"]` ||
		string(params[3]) != `"a0facec9-a039-4227-b9c9-b97a96410dcd"` {
		t.Errorf("params %s", b)
	}
	var mrs map[string][]map[string]json.RawMessage
	if err := json.Unmarshal(params[2], &mrs); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Logical_Switch_Port": `{"columns":["name","addresses","options","up"],"where":[["up","==",true]]}`,
		"Logical_Switch":      `{"columns":["name","ports","other_config"]}`,
		"NB_Global":           `{}`,
		"ACL":                 `{"columns":[],"where":[true]}`,
	}
	if len(mrs) != len(want) {
		t.Errorf("tables %v", mrs)
	}
	for table, w := range want {
		if len(mrs[table]) != 1 || jsonString(mrs[table][0]) != w {
			t.Errorf("%s: %v, want %s", table, mrs[table], w)
		}
	}
}

func TestMonitorRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		req  MonitorRequest
		want error
	}{
		{"no method", MonitorRequest{Database: "db"}, ErrBadRequest},
		{"method 4", MonitorRequest{Method: 4, Database: "db"}, ErrBadRequest},
		{"no database", MonitorRequest{Method: MethodMonitor}, ErrBadRequest},
		{"database not UTF-8", MonitorRequest{Method: MethodMonitor, Database: "\xff"}, ErrBadRequest},
		{"table with no name", MonitorRequest{Method: MethodMonitor, Database: "db", Tables: []TableRequest{{}}}, ErrBadRequest},
		{"table twice", MonitorRequest{Method: MethodMonitor, Database: "db", Tables: []TableRequest{{Table: "T"}, {Table: "T", Columns: []string{"a"}}}}, ErrBadRequest},
		{"column with no name", MonitorRequest{Method: MethodMonitor, Database: "db", Tables: []TableRequest{{Table: "T", Columns: []string{""}}}}, ErrBadRequest},
		{"column twice", MonitorRequest{Method: MethodMonitor, Database: "db", Tables: []TableRequest{{Table: "T", Columns: []string{"a", "b", "a"}}}}, ErrBadRequest},
		{"column not UTF-8", MonitorRequest{Method: MethodMonitor, Database: "db", Tables: []TableRequest{{Table: "T", Columns: []string{"a\xc0"}}}}, ErrBadRequest},
		{"table not UTF-8", MonitorRequest{Method: MethodMonitor, Database: "db", Tables: []TableRequest{{Table: "\xc0"}}}, ErrBadRequest},
		{"condition on unnamed table", MonitorRequest{Method: MethodMonitorCond, Database: "db", Where: map[string][]ovsdb.Condition{"": nil}}, ErrBadRequest},
		{"bad condition", MonitorRequest{Method: MethodMonitorCond, Database: "db",
			Where: map[string][]ovsdb.Condition{"T": {{Column: "a", Function: "~", Value: 1}}}}, ErrBadCondition},
		{"bad last id", MonitorRequest{Method: MethodMonitorCondSince, Database: "db", LastID: "not-a-uuid"}, ErrBadLastID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.req.Params()
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrBadRequest) {
				t.Errorf("error %v, want %v and ErrBadRequest", err, tt.want)
			}
			if got != nil {
				t.Errorf("params %s with an error", got)
			}
		})
	}
	// Plain monitor ignores conditions, even bad ones, and the last id.
	req := MonitorRequest{Method: MethodMonitor, Database: "db", Tables: []TableRequest{{Table: "T"}},
		Where: map[string][]ovsdb.Condition{"T": {{Column: "a", Function: "~"}}, "": nil}, LastID: "bad"}
	if got, err := req.Params(); err != nil || string(got) != `["db",["monid","db"],{"T":[{}]}]` {
		t.Errorf("plain monitor: %s, %v", got, err)
	}
	// monitor_cond ignores the last id.
	req = MonitorRequest{Method: MethodMonitorCond, Database: "db", LastID: "bad"}
	if got, err := req.Params(); err != nil || string(got) != `["db",["monid","db"],{}]` {
		t.Errorf("monitor_cond: %s, %v", got, err)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\ slash/", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "é ☃ 𝄞 \u2028\u2029", "<script>&"} {
		b, err := reqAppendString(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%q -> %s -> %q, %v", s, b, back, err)
		}
	}
	if b, _ := reqAppendString(nil, "<&>\u2028"); string(b) != "\"<&>\u2028\"" {
		t.Errorf("HTML-escaped: %s", b)
	}
	if _, err := reqAppendString(nil, "a\xffb"); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
}
