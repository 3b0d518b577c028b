package testserver

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"
)

type txnCase struct {
	name string
	ops  string // the params after the database name, as JSON array members
	want string // the expected result, UUIDs replaced by U
}

// runTxnCases sends each case as one transact on one connection, in order,
// and compares the results. The expectations are what ovsdb-server 3.1
// answered to the same sequence.
func runTxnCases(t *testing.T, schema []byte, db string, cases []txnCase) {
	synctest.Test(t, func(t *testing.T) {
		c, err := NewCluster(3, schema, InMemory())
		require.NoError(t, err)
		defer c.Close()
		w := dialWire(t, c, 1) // a follower: writes are forwarded
		for _, tc := range cases {
			reply := w.call("transact", append([]any{db}, rawList(t, tc.ops)...)...)
			require.JSONEq(t, norm(tc.want), norm(string(field(t, reply, "result"))), "case %s: %s", tc.name, reply)
		}
	})
}

func rawList(t testing.TB, ops string) []any {
	var list []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte("["+ops+"]"), &list))
	out := make([]any, len(list))
	for i, r := range list {
		out[i] = r
	}
	return out
}

func TestTransactLab(t *testing.T) {
	runTxnCases(t, LabSchema(), "Lab", []txnCase{
		{"insert", `{"op":"insert","table":"Item","row":{"name":"a","n":1,"data":"x"},"uuid-name":"r"}`,
			`[{"uuid":["uuid","U"]}]`},
		{"insert and update", `{"op":"insert","table":"Item","row":{"name":"b","n":2,"data":"y"},"uuid-name":"r"},{"op":"update","table":"Item","where":[["name","==","a"]],"row":{"data":"zz"}}`,
			`[{"uuid":["uuid","U"]},{"count":1}]`},
		{"unique index", `{"op":"insert","table":"Item","row":{"name":"a","n":0,"data":""}}`,
			`[{"uuid":["uuid","U"]},{"details":"Transaction causes multiple rows in \"Item\" table to have identical values (a) for index on column \"name\".  First row, with UUID U, existed in the database before this transaction and was not modified by the transaction.  Second row, with UUID U, was inserted by this transaction.","error":"constraint violation"}]`},
		{"no table", `{"op":"insert","table":"Nope","row":{}}`,
			`[{"syntax":"{\"op\":\"insert\",\"row\":{},\"table\":\"Nope\"}","details":"Parsing ovsdb operation 1 of 1 failed: No table named Nope.","error":"syntax error"}]`},
		{"no column", `{"op":"insert","table":"Item","row":{"bogus":1}}`,
			`[{"syntax":"{\"bogus\":1}","details":"No column bogus in table Item.","error":"unknown column"}]`},
		{"wrong type", `{"op":"insert","table":"Item","row":{"n":"str"}}`,
			`[{"syntax":"\"str\"","details":"expected integer","error":"syntax error"}]`},
		{"no operation", `{"op":"frob","table":"Item"}`,
			`[{"syntax":"{\"op\":\"frob\",\"table\":\"Item\"}","details":"Parsing ovsdb operation 1 of 1 failed: No operation \"frob\"","error":"syntax error"}]`},
		{"comment abort", `{"op":"comment","comment":"hello"},{"op":"abort"},{"op":"insert","table":"Item","row":{"name":"zz"}}`,
			`[{},{"details":"aborted by request","error":"aborted"},null]`},
		{"wait fails at once", `{"op":"wait","table":"Item","where":[["name","==","a"]],"columns":["n"],"until":"==","rows":[{"n":5}],"timeout":0}`,
			`[{"details":"\"where\" clause test failed","error":"timed out"}]`},
		{"assert", `{"op":"assert","lock":"L"}`,
			`[{"details":"Asserted lock L not held.","error":"not owner"}]`},
		{"select", `{"op":"select","table":"Item","where":[["name","==","a"]],"columns":["name","n","_uuid","_version"]}`,
			`[{"rows":[{"_version":["uuid","U"],"name":"a","_uuid":["uuid","U"],"n":1}]}]`},
		{"commit", `{"op":"commit","durable":true}`, `[{}]`},
		{"mutate", `{"op":"commit","durable":false},{"op":"mutate","table":"Item","where":[],"mutations":[["n","+=",1]]}`,
			`[{},{"count":2}]`},
		{"empty", ``, `[]`},
		{"delete nothing", `{"op":"delete","table":"Item","where":[["name","==","nonexistent"]]}`, `[{"count":0}]`},
		{"duplicate uuid-name", `{"op":"insert","table":"Item","row":{"name":"c","n":1},"uuid-name":"x"},{"op":"insert","table":"Item","row":{"name":"c2","n":1},"uuid-name":"x"}`,
			`[{"uuid":["uuid","U"]},{"syntax":"\"x\"","details":"This \"uuid-name\" appeared on an earlier \"insert\" operation.","error":"duplicate uuid-name"}]`},
		{"immutable _uuid", `{"op":"update","table":"Item","where":[["name","==","c"]],"row":{"_uuid":["uuid","97a56646-2461-4c32-a5f2-88063c3623db"]}}`,
			`[{"syntax":"{\"op\":\"update\",\"row\":{\"_uuid\":[\"uuid\",\"U\"]},\"table\":\"Item\",\"where\":[[\"name\",\"==\",\"c\"]]}","details":"Cannot update immutable column _uuid in table Item.","error":"constraint violation"}]`},
		{"division by zero", `{"op":"mutate","table":"Item","where":[],"mutations":[["n","/=",0]]}`,
			`[{"details":"Division by zero.","error":"domain error"}]`},
		{"includes", `{"op":"select","table":"Item","where":[["n","includes",1]],"columns":["name"]}`, `[{"rows":[]}]`},
		{"select all", `{"op":"select","table":"Item","where":[["n","<=",3]],"columns":["name","n"]}`,
			`[{"rows":[{"name":"a","n":2},{"name":"b","n":3}]}]`},
		{"delete", `{"op":"delete","table":"Item","where":[["name","==","b"]]}`, `[{"count":1}]`},
		{"missing member", `{"op":"select","table":"Item"}`,
			`[{"syntax":"{\"op\":\"select\",\"table\":\"Item\"}","details":"Parsing ovsdb operation 1 of 1 failed: Required 'where' member is missing.","error":"syntax error"}]`},
		{"extra member", `{"op":"delete","table":"Item","where":[],"bogus":1}`,
			`[{"syntax":"{\"bogus\":1,\"op\":\"delete\",\"table\":\"Item\",\"where\":[]}","details":"Parsing ovsdb operation 1 of 1 failed: Member 'bogus' is present but not allowed here.","error":"syntax error"}]`},
	})
}

func TestTransactTypes(t *testing.T) {
	runTxnCases(t, testSchema(t), "Test", []txnCase{
		{"enum default rejected", `{"op":"insert","table":"R","row":{"name":"r1"},"uuid-name":"r1"},{"op":"insert","table":"T","row":{"s":"x","ref":["named-uuid","r1"],"smap":["map",[["k","v"]]],"iset":["set",[3,1,2]]}}`,
			`[{"uuid":["uuid","U"]},{"details":"\"\" is not one of the allowed values ([a, b, c])","error":"constraint violation"}]`},
		{"insert with refs", `{"op":"insert","table":"R","row":{"name":"q"}},{"op":"insert","table":"T","row":{"e":"a","imm":"x"}}`,
			`[{"uuid":["uuid","U"]},{"uuid":["uuid","U"]}]`},
		{"unreferenced non-root row collected", `{"op":"select","table":"R","where":[]}`, `[{"rows":[]}]`},
		{"immutable", `{"op":"update","table":"T","where":[],"row":{"imm":"y"}}`,
			`[{"syntax":"{\"op\":\"update\",\"row\":{\"imm\":\"y\"},\"table\":\"T\",\"where\":[]}","details":"Cannot update immutable column imm in table T.","error":"constraint violation"}]`},
		{"range", `{"op":"update","table":"T","where":[],"row":{"lim":11}}`,
			`[{"details":"11 is not in the valid range 0 to 10 (inclusive)","error":"constraint violation"}]`},
		{"set size", `{"op":"update","table":"T","where":[],"row":{"two":["set",[1,2,3]]}}`,
			`[{"syntax":"[\"set\",[1,2,3]]","details":"set must have 0 to 2 members but 3 are present","error":"syntax error"}]`},
		{"enum", `{"op":"update","table":"T","where":[],"row":{"e":"z"}}`,
			`[{"details":"z is not one of the allowed values ([a, b, c])","error":"constraint violation"}]`},
		{"dangling strong ref", `{"op":"update","table":"T","where":[],"row":{"ref":["uuid","11111111-8877-4e6b-bdf2-498b50e40fda"]}}`,
			`[{"count":1},{"details":"Table T column ref row U references nonexistent row U in table R.","error":"referential integrity violation"}]`},
		{"duplicate default index", `{"op":"insert","table":"T","row":{"e":"b"}}`,
			`[{"uuid":["uuid","U"]},{"details":"Transaction causes multiple rows in \"T\" table to have identical values (\"\") for index on column \"s\".  First row, with UUID U, existed in the database before this transaction and was not modified by the transaction.  Second row, with UUID U, was inserted by this transaction.","error":"constraint violation"}]`},
		{"two-column index", `{"op":"insert","table":"T","row":{"e":"b","s":"uniq","i":1}},{"op":"insert","table":"T","row":{"e":"b","s":"uniq2","i":1}}`,
			`[{"uuid":["uuid","U"]},{"uuid":["uuid","U"]},{"details":"Transaction causes multiple rows in \"T\" table to have identical values (1 and false) for index on columns \"i\" and \"b\".  First row, with UUID U, was inserted by this transaction.  Second row, with UUID U, was inserted by this transaction.","error":"constraint violation"}]`},
		{"unknown named uuid", `{"op":"select","table":"T","where":[["_uuid","==",["named-uuid","x"]]]}`, `[{"rows":[]}]`},
		{"wait satisfied", `{"op":"wait","table":"T","where":[],"columns":["e"],"until":"==","rows":[{"e":"a"}]}`, `[{}]`},
		{"conditions", `{"op":"select","table":"T","where":[["iset","includes",["set",[]]],["smap","excludes",["map",[["a","b"]]]],["r","<",1],["e","!=","b"]],"columns":["e","r"]}`,
			`[{"rows":[{"e":"a","r":0}]}]`},
		{"strong ref keeps row", `{"op":"insert","table":"R","row":{"name":"kept"},"uuid-name":"k"},{"op":"mutate","table":"T","where":[],"mutations":[["ref","insert",["set",[["named-uuid","k"]]]],["wref","insert",["named-uuid","k"]]]}`,
			`[{"uuid":["uuid","U"]},{"count":1}]`},
		{"referenced row kept", `{"op":"select","table":"R","where":[],"columns":["name"]}`, `[{"rows":[{"name":"kept"}]}]`},
		{"delete referenced", `{"op":"delete","table":"R","where":[]}`,
			`[{"count":1},{"details":"cannot delete R row U because of 1 remaining reference(s)","error":"referential integrity violation"}]`},
		{"drop strong ref collects row and weak ref", `{"op":"update","table":"T","where":[],"row":{"ref":["set",[]]}},{"op":"select","table":"T","where":[],"columns":["wref"]}`,
			`[{"count":1},{"rows":[{"wref":["uuid","U"]}]}]`},
		{"weak ref removed at commit", `{"op":"select","table":"T","where":[],"columns":["wref","ref"]},{"op":"select","table":"R","where":[]}`,
			`[{"rows":[{"wref":["set",[]],"ref":["set",[]]}]},{"rows":[]}]`},
		{"map mutate", `{"op":"mutate","table":"T","where":[],"mutations":[["smap","insert",["map",[["k","v"],["k2","v2"]]]],["smap","delete",["set",["k"]]],["iset","insert",["set",[5,6]]],["iset","delete",5],["i","*=",3],["r","+=",2.5]]},{"op":"select","table":"T","where":[],"columns":["smap","iset","i","r"]}`,
			`[{"count":1},{"rows":[{"smap":["map",[["k2","v2"]]],"iset":6,"i":0,"r":2.5}]}]`},
		{"mutate range", `{"op":"mutate","table":"T","where":[],"mutations":[["lim","+=",20]]}`,
			`[{"details":"20 is not in the valid range 0 to 10 (inclusive)","error":"constraint violation"}]`},
		{"mutate immutable", `{"op":"mutate","table":"T","where":[],"mutations":[["imm","insert","x"]]}`,
			`[{"syntax":"[\"imm\",\"insert\",\"x\"]","details":"Cannot mutate immutable column imm in table T.","error":"constraint violation"}]`},
		{"relational on string", `{"op":"select","table":"T","where":[["s","<","x"]]}`,
			`[{"syntax":"[\"s\",\"<\",\"x\"]","details":"Type mismatch: \"<\" operator may not be applied to column s of type string.","error":"syntax error"}]`},
		{"unknown function", `{"op":"select","table":"T","where":[["s","~","x"]]}`,
			`[{"details":"No function named ~.","error":"unknown function"}]`},
	})
}

func TestTransactReadOnlyServerDB(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 1)
		w := dialWire(t, c, 0)
		res := w.result("transact", "_Server", map[string]any{"op": "select", "table": "Database", "where": []any{[]any{"name", "==", "Lab"}}, "columns": []string{"name", "index"}})
		require.JSONEq(t, `[{"rows":[{"name":"Lab","index":1}]}]`, string(res))
		res = w.result("transact", "_Server", map[string]any{"op": "update", "table": "Database", "where": []any{}, "row": map[string]any{"leader": true}})
		require.JSONEq(t, `[{"details":"update operation not allowed on table in reserved database _Server","error":"not allowed"}]`, string(res))
	})
}

func TestWaitBlocksUntilSatisfiedOrTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		insertItem(t, c, "a", 1)
		w := dialWire(t, c, 2)
		start := time.Now()
		id := w.request("transact", "Lab", map[string]any{"op": "wait", "table": "Item", "where": []any{}, "columns": []string{"n"},
			"until": "!=", "rows": []any{map[string]any{"n": 1}}, "timeout": 100})
		reply, _ := w.until(id)
		require.JSONEq(t, `[{"details":"\"wait\" timed out after 100 ms","error":"timed out"}]`, string(field(t, reply, "result")))
		require.Equal(t, 100*time.Millisecond, time.Since(start))

		// Without a timeout the wait holds the transaction until a
		// commit satisfies it; then the rest of the transaction runs.
		id = w.request("transact", "Lab",
			map[string]any{"op": "wait", "table": "Item", "where": []any{}, "columns": []string{"n"}, "until": "==", "rows": []any{map[string]any{"n": 7}}},
			map[string]any{"op": "insert", "table": "Item", "row": map[string]any{"name": "after"}})
		time.Sleep(time.Second)
		_, err := c.Transact(context.Background(), `[{"op":"update","table":"Item","where":[],"row":{"n":7}}]`)
		require.NoError(t, err)
		reply, _ = w.until(id)
		require.JSONEq(t, `[{},{"uuid":["uuid","U"]}]`, norm(string(field(t, reply, "result"))))
	})
}

func TestClusterTransactAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		ops := []ovsdb.Operation{{Op: ovsdb.OperationInsert, Table: "Item", Row: ovsdb.Row{"name": "x", "n": 3}}}
		res, err := c.Transact(context.Background(), ops)
		require.NoError(t, err)
		require.Len(t, res, 1)
		res, err = c.Transact(context.Background(), ops)
		var te *TxnError
		require.True(t, asTxnError(err, &te), "%v", err)
		require.Equal(t, 1, te.Op)
		require.Equal(t, "constraint violation", te.Err)
		require.Len(t, res, 2)
		res, err = c.Transact(context.Background(), json.RawMessage(`[{"op":"select","table":"Item","where":[],"columns":["name","n"]}]`))
		require.NoError(t, err)
		require.JSONEq(t, `{"rows":[{"name":"x","n":3}]}`, string(res[0]))
		_, err = c.Transact(context.Background(), 42)
		require.Error(t, err)
		// An insert without a Row is a row of defaults, and ovsdb.Operation
		// leaves the empty "row" out: Transact puts it back.
		_, err = c.Transact(context.Background(), []ovsdb.Operation{
			{Op: ovsdb.OperationInsert, Table: "Item"},
			{Op: ovsdb.OperationAbort},
		})
		require.True(t, asTxnError(err, &te), "%v", err)
		require.Equal(t, 1, te.Op)
		require.Equal(t, "aborted", te.Err)
		snap := c.Snapshot()
		require.Len(t, snap["Item"], 1)
		for _, m := range []int{0, 1, 2} {
			require.Equal(t, snap, c.Member(m).Snapshot())
		}
		require.Contains(t, c.Dump(), `"name":"x"`)
	})
}

func asTxnError(err error, target **TxnError) bool {
	te, ok := err.(*TxnError)
	if ok {
		*target = te
	}
	return ok
}

func TestServerDBWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		w := dialWire(t, c, 1)
		// Wait on _Server until the member's index reaches 2.
		id := w.request("transact", "_Server", map[string]any{"op": "wait", "table": "Database", "where": []any{[]any{"name", "==", "Lab"}},
			"columns": []string{"index"}, "until": "==", "rows": []any{map[string]any{"index": 2}}})
		insertItem(t, c, "a", 1)
		reply, _ := w.until(id)
		require.JSONEq(t, `[{}]`, string(field(t, reply, "result")))
	})
}

// TestTransactParsesLikeOVSDB covers how ovsdb-server 3.1 reads values and
// operations: numbers by value rather than spelling, the exact wording of
// notation errors, duplicates, mutation arguments and counts, a missing
// "row", an unknown mutator and the index-clash wording for a modified row.
func TestTransactParsesLikeOVSDB(t *testing.T) {
	runTxnCases(t, testSchema(t), "Test", []txnCase{
		{"setup", `{"op":"insert","table":"T","row":{"e":"a","s":"one","i":1}},{"op":"insert","table":"T","row":{"e":"a","s":"two","i":2}}`,
			`[{"uuid":["uuid","U"]},{"uuid":["uuid","U"]}]`},
		{"integral numbers are integers", `{"op":"insert","table":"T","row":{"e":"a","s":"x","i":3.0,"lim":1e1,"r":2}},{"op":"select","table":"T","where":[["s","==","x"]],"columns":["i","lim","r"]},{"op":"abort"}`,
			`[{"uuid":["uuid","U"]},{"rows":[{"i":3,"lim":10,"r":2}]},{"details":"aborted by request","error":"aborted"}]`},
		{"numbers echoed by value", `{"op":"insert","table":"T","row":{"e":"a","b":["set",[2.0,1.50,-0.0]]}}`,
			`[{"syntax":"[\"set\",[2,1.5,0]]","details":"set must have 1 to 1 members but 3 are present","error":"syntax error"}]`},
		{"count before elements", `{"op":"insert","table":"T","row":{"e":"a","two":["set",[1,"x",3]]}}`,
			`[{"syntax":"[\"set\",[1,\"x\",3]]","details":"set must have 0 to 2 members but 3 are present","error":"syntax error"}]`},
		{"set tag with an object", `{"op":"select","table":"T","where":[["iset","==",["set",{}]]]}`,
			`[{"syntax":"[\"set\",{}]","details":"expected [\"set\", <array>]","error":"syntax error"}]`},
		{"fraction", `{"op":"insert","table":"T","row":{"e":"a","i":1.5}}`,
			`[{"syntax":"1.5","details":"expected integer","error":"syntax error"}]`},
		{"set without array", `{"op":"insert","table":"T","row":{"e":"a","iset":["set",1]}}`,
			`[{"syntax":"[\"set\",1]","details":"expected [\"set\", <array>]","error":"syntax error"}]`},
		{"map without tag", `{"op":"insert","table":"T","row":{"e":"a","smap":{"k":"v"}}}`,
			`[{"syntax":"{\"k\":\"v\"}","details":"expected [\"map\", <array>]","error":"syntax error"}]`},
		{"map pair", `{"op":"insert","table":"T","row":{"e":"a","smap":["map",[["k","v","w"]]]}}`,
			`[{"syntax":"[\"k\",\"v\",\"w\"]","details":"expected 2-element array","error":"syntax error"}]`},
		{"bad uuid", `{"op":"insert","table":"T","row":{"e":"a","u":["uuid","nope"]}}`,
			`[{"syntax":"[\"uuid\",\"nope\"]","details":"\"nope\" is not a valid UUID","error":"syntax error"}]`},
		{"untagged uuid", `{"op":"insert","table":"T","row":{"e":"a","u":"11111111-2222-4333-8444-555555555555"}}`,
			`[{"syntax":"\"U\"","details":"expected [\"uuid\", <string>]","error":"syntax error"}]`},
		{"duplicate set element", `{"op":"insert","table":"T","row":{"e":"a","iset":["set",[1,1]]}}`,
			`[{"details":"set contains duplicate","error":"ovsdb error"}]`},
		{"duplicate map key", `{"op":"insert","table":"T","row":{"e":"a","smap":["map",[["k","1"],["k","2"]]]}}`,
			`[{"details":"map contains duplicate key","error":"ovsdb error"}]`},
		{"insert without row", `{"op":"insert","table":"T"}`,
			`[{"syntax":"{\"op\":\"insert\",\"table\":\"T\"}","details":"Parsing ovsdb operation 1 of 1 failed: Required 'row' member is missing.","error":"syntax error"}]`},
		{"unknown mutator", `{"op":"mutate","table":"T","where":[],"mutations":[["i","frob",1]]}`,
			`[{"details":"No mutator named frob.","error":"unknown mutator"}]`},
		{"insert argument over max", `{"op":"mutate","table":"T","where":[],"mutations":[["two","insert",["set",[1,2,3]]]]}`,
			`[{"syntax":"[\"set\",[1,2,3]]","details":"set must have 0 to 2 members but 3 are present","error":"syntax error"}]`},
		{"insert result over max", `{"op":"mutate","table":"T","where":[["s","==","one"]],"mutations":[["two","insert",["set",[1,2]]],["two","insert",3]]}`,
			`[{"details":"Attempted to store 3 elements in set of up to 2 integers.","error":"constraint violation"}]`},
		{"delete argument may exceed max", `{"op":"mutate","table":"T","where":[],"mutations":[["two","delete",["set",[7,8,9]]]]}`,
			`[{"count":2}]`},
		{"index clash with a modified row", `{"op":"update","table":"T","where":[["s","==","two"]],"row":{"s":"one"}}`,
			`[{"count":1},{"details":"Transaction causes multiple rows in \"T\" table to have identical values (one) for index on column \"s\".  First row, with UUID U, existed in the database before this transaction and was not modified by the transaction.  Second row, with UUID U, had the following index values before the transaction: two.","error":"constraint violation"}]`},
	})
}

func TestJSONInteger(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"-0", 0, true},
		{"0.0", 0, true},
		{"0e99", 0, true},
		{"2.0", 2, true},
		{"1e3", 1000, true},
		{"1E+3", 1000, true},
		{"-12.500e1", -125, true},
		{"1500e-3", 0, false},
		{"15000e-3", 15, true},
		{"1.5", 0, false},
		{"1e-3", 0, false},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"9.223372036854775807e18", math.MaxInt64, true},
		{"1e19", 0, false},
		{"1e300", 0, false},
		{"123456789012345678901234567890e-10", 0, false},
		{"12345678901234567890000000000e-10", 1234567890123456789, true},
	} {
		got, ok := jsonInteger(json.Number(tc.in))
		require.Equal(t, tc.ok, ok, "%s", tc.in)
		require.Equal(t, tc.want, got, "%s", tc.in)
	}
}

func TestTypeEnglish(t *testing.T) {
	s, err := parseSchema(testSchema(t))
	require.NoError(t, err)
	for col, want := range map[string]string{
		"s":    "string",
		"e":    "string",
		"iset": "set of integers",
		"smap": "map of (string, string) pairs",
		"ref":  "set of uuids",
		"opt":  "set of up to 1 strings",
		"two":  "set of up to 2 integers",
	} {
		require.Equal(t, want, s.tables["T"].columns[col].typ.english(), "%s", col)
	}
	one := colType{key: newBaseType(atomInteger), min: 1, max: unlimited}
	require.Equal(t, "set of 1 or more integers", one.english())
	some := colType{key: newBaseType(atomReal), min: 2, max: 3}
	require.Equal(t, "set of 2 to 3 reals", some.english())
}

func TestUnlimitedMaximumInCountError(t *testing.T) {
	typ := colType{key: newBaseType(atomString), min: 1, max: unlimited}
	_, err := parseDatumRaw([]byte(`["set",[]]`), &typ, nil)
	require.Error(t, err)
	require.Equal(t, "syntax error: set must have 1 to 4294967295 members but 0 are present", err.Error())
}
