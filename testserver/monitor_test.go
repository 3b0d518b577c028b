package testserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
)

// TestMonitorUpdateShapes replays a sequence captured against
// ovsdb-server 3.1 (standalone, the Test schema): a plain monitor and a
// monitor_cond on the same connection see the same commits as update and
// update2 notifications, before the transaction's reply.
func TestMonitorUpdateShapes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := NewCluster(1, testSchema(t), InMemory())
		require.NoError(t, err)
		defer c.Close()
		w := dialWire(t, c, 0)
		require.JSONEq(t, `{}`, string(w.result("monitor", "Test", "v1", map[string]any{"T": map[string]any{}, "R": map[string]any{}})))
		require.JSONEq(t, `{}`, string(w.result("monitor_cond", "Test", "v2", map[string]any{"T": []any{map[string]any{}}, "R": []any{map[string]any{}}})))

		steps := []struct {
			ops              string
			v1, v2, response string
		}{
			{
				`{"op":"insert","table":"R","row":{"name":"r1"},"uuid-name":"r1"},{"op":"insert","table":"T","row":{"s":"x","e":"a","ref":["named-uuid","r1"],"smap":["map",[["k","v"]]],"iset":["set",[3,1,2]]}}`,
				`{"R":{"U":{"new":{"_version":["uuid","U"],"name":"r1"}}},"T":{"U":{"new":{"u":["uuid","U"],"two":["set",[]],"e":"a","smap":["map",[["k","v"]]],"b":false,"lim":0,"s":"x","_version":["uuid","U"],"imm":"","iset":["set",[1,2,3]],"opt":["set",[]],"wref":["set",[]],"r":0,"eph":0,"ref":["uuid","U"],"i":0}}}}`,
				`{"R":{"U":{"insert":{"_version":["uuid","U"],"name":"r1"}}},"T":{"U":{"insert":{"_version":["uuid","U"],"e":"a","iset":["set",[1,2,3]],"ref":["uuid","U"],"s":"x","smap":["map",[["k","v"]]]}}}}`,
				`[{"uuid":["uuid","U"]},{"uuid":["uuid","U"]}]`,
			},
			{
				`{"op":"mutate","table":"T","where":[],"mutations":[["iset","insert",["set",[7]]],["iset","delete",2],["smap","insert",["map",[["k2","v2"]]]],["smap","delete",["set",["k"]]]]},{"op":"update","table":"T","where":[],"row":{"s":"y","b":true,"r":1.5,"opt":"o"}}`,
				`{"T":{"U":{"new":{"u":["uuid","U"],"two":["set",[]],"e":"a","smap":["map",[["k2","v2"]]],"b":true,"lim":0,"s":"y","_version":["uuid","U"],"imm":"","iset":["set",[1,3,7]],"opt":"o","wref":["set",[]],"r":1.5,"eph":0,"ref":["uuid","U"],"i":0},"old":{"_version":["uuid","U"],"b":false,"smap":["map",[["k","v"]]],"iset":["set",[1,2,3]],"opt":["set",[]],"s":"x","r":0}}}}`,
				`{"T":{"U":{"modify":{"_version":["uuid","U"],"b":true,"iset":["set",[2,7]],"opt":"o","r":1.5,"s":"y","smap":["map",[["k","v"],["k2","v2"]]]}}}}`,
				`[{"count":1},{"count":1}]`,
			},
			{
				`{"op":"update","table":"T","where":[],"row":{"smap":["map",[["k2","v3"]]], "opt":["set",[]]}}`,
				`{"T":{"U":{"new":{"u":["uuid","U"],"two":["set",[]],"e":"a","smap":["map",[["k2","v3"]]],"b":true,"lim":0,"s":"y","_version":["uuid","U"],"imm":"","iset":["set",[1,3,7]],"opt":["set",[]],"wref":["set",[]],"r":1.5,"eph":0,"ref":["uuid","U"],"i":0},"old":{"_version":["uuid","U"],"smap":["map",[["k2","v2"]]],"opt":"o"}}}}`,
				`{"T":{"U":{"modify":{"_version":["uuid","U"],"opt":["set",[]],"smap":["map",[["k2","v3"]]]}}}}`,
				`[{"count":1}]`,
			},
			{
				`{"op":"delete","table":"T","where":[]}`,
				`{"R":{"U":{"old":{"_version":["uuid","U"],"name":"r1"}}},"T":{"U":{"old":{"u":["uuid","U"],"two":["set",[]],"e":"a","smap":["map",[["k2","v3"]]],"b":true,"lim":0,"s":"y","_version":["uuid","U"],"imm":"","iset":["set",[1,3,7]],"opt":["set",[]],"wref":["set",[]],"r":1.5,"eph":0,"ref":["uuid","U"],"i":0}}}}`,
				`{"R":{"U1":{"delete":null}},"T":{"U2":{"delete":null}}}`,
				`[{"count":1}]`,
			},
		}
		for i, st := range steps {
			id := w.request("transact", append([]any{"Test"}, rawList(t, st.ops)...)...)
			reply, before := w.until(id)
			require.Len(t, before, 2, "step %d", i)
			p := params(t, before[0], "update")
			require.Equal(t, `"v1"`, string(p[0]))
			require.JSONEq(t, normJSON(t, st.v1), normJSON(t, string(p[1])), "step %d v1", i)
			p = params(t, before[1], "update2")
			require.Equal(t, `"v2"`, string(p[0]))
			require.JSONEq(t, normJSON(t, st.v2), normJSON(t, string(p[1])), "step %d v2", i)
			require.JSONEq(t, norm(st.response), norm(string(field(t, reply, "result"))), "step %d reply", i)
		}
	})
}

func TestMonitorRequestErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 1)
		insertItem(t, c, "a", 3)
		insertItem(t, c, "b", 2)
		w := dialWire(t, c, 0)
		mon := func(method string, p ...any) string { return string(w.call(method, p...)) }
		item := func(req ...any) map[string]any { return map[string]any{"Item": req} }
		req := func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		}
		for _, tc := range []struct {
			name string
			got  func() string
			want string
		}{
			{"columns [] monitors no column", func() string {
				return mon("monitor_cond", "Lab", "m1", item(req("columns", []string{})))
			}, `{"id":1,"result":{"Item":{"U1":{"initial":{}},"U2":{"initial":{}}}},"error":null}`},
			{"duplicate id", func() string {
				return mon("monitor_cond", "Lab", "m1", item(req("columns", []string{"name"})))
			}, `{"id":2,"error":{"syntax":"\"m1\"","details":"duplicate monitor ID","error":"syntax error"}}`},
			{"where true", func() string {
				return mon("monitor_cond", "Lab", "m2", item(req("columns", []string{"name"}, "where", []any{true})))
			}, `{"id":3,"result":{"Item":{"U1":{"initial":{"name":"a"}},"U2":{"initial":{"name":"b"}}}},"error":null}`},
			{"where false", func() string {
				return mon("monitor_cond", "Lab", "m3", item(req("columns", []string{"name"}, "where", []any{false})))
			}, `{"id":4,"result":{},"error":null}`},
			{"argument type", func() string {
				return mon("monitor_cond", "Lab", "m4", item(req("where", []any{[]any{"n", "<", "x"}})))
			}, `{"id":5,"error":{"syntax":"\"x\"","details":"expected integer","error":"syntax error"}}`},
			{"relational on string", func() string {
				return mon("monitor_cond", "Lab", "m5", item(req("where", []any{[]any{"name", "<", "x"}})))
			}, `{"id":6,"error":{"syntax":"[\"name\",\"<\",\"x\"]","details":"Type mismatch: \"<\" operator may not be applied to column name of type string.","error":"syntax error"}}`},
			{"unknown column in where", func() string {
				return mon("monitor_cond", "Lab", "m6", item(req("where", []any{[]any{"nope", "==", "x"}})))
			}, `{"id":7,"error":{"syntax":"[\"nope\",\"==\",\"x\"]","details":"No column nope in table Item.","error":"unknown column"}}`},
			{"unknown function", func() string {
				return mon("monitor_cond", "Lab", "m7", item(req("where", []any{[]any{"name", "~", "x"}})))
			}, `{"id":8,"error":{"details":"No function named ~.","error":"unknown function"}}`},
			{"unknown member", func() string {
				return mon("monitor_cond", "Lab", "m8", item(req("columns", []string{"name"}, "foo", 1)))
			}, `{"id":9,"error":{"syntax":"{\"columns\":[\"name\"],\"foo\":1}","details":"Parsing table Item failed: Member 'foo' is present but not allowed here.","error":"syntax error"}}`},
			{"select initial false", func() string {
				return mon("monitor_cond", "Lab", "m9", item(req("columns", []string{"name"}, "select", map[string]any{"initial": false})))
			}, `{"id":10,"result":{},"error":null}`},
			{"first where wins", func() string {
				return mon("monitor_cond", "Lab", "m10", item(req("columns", []string{"name"}), req("columns", []string{"n"}, "where", []any{[]any{"n", "==", 2}})))
			}, `{"id":11,"result":{"Item":{"U1":{"initial":{"name":"a","n":3}},"U2":{"initial":{"name":"b","n":2}}}},"error":null}`},
			{"column twice", func() string {
				return mon("monitor_cond", "Lab", "m11", item(req("columns", []string{"name"}), req("columns", []string{"name"})))
			}, `{"id":12,"error":{"syntax":"[\"name\"]","details":"column name mentioned more than once","error":"syntax error"}}`},
			{"requests not an object", func() string { return mon("monitor_cond", "Lab", "m12", []any{}) },
				`{"id":13,"error":{"syntax":"[]","details":"monitor-requests must be object","error":"syntax error"}}`},
			{"too few params", func() string { return mon("monitor_cond", "Lab", "m12") },
				`{"id":14,"error":{"syntax":"[\"Lab\",\"m12\"]","details":"invalid parameters","error":"syntax error"}}`},
			{"db not a string", func() string { return mon("monitor_cond", 1, "m12", map[string]any{}) },
				`{"id":15,"error":{"syntax":"[1,\"m12\",{}]","details":"monitor_cond request params must begin with <db-name>","error":"syntax error"}}`},
			{"where in plain monitor", func() string {
				return mon("monitor", "Lab", "y", map[string]any{"Item": req("columns", []string{"name"}, "where", []any{})})
			}, `{"id":16,"error":{"syntax":"{\"columns\":[\"name\"],\"where\":[]}","details":"Parsing table Item failed: Member 'where' is present but not allowed here.","error":"syntax error"}}`},
			{"no table", func() string { return mon("monitor_cond", "Lab", "m13", map[string]any{"Nope": []any{req()}}) },
				`{"id":17,"error":{"details":"no table named Nope","error":"syntax error"}}`},
			{"bad column", func() string {
				return mon("monitor_cond", "Lab", "m14", item(req("columns", []string{"name", "nope"})))
			}, `{"id":18,"error":{"syntax":"[\"name\",\"nope\"]","details":"nope is not a valid column name","error":"syntax error"}}`},
			{"since: no last id", func() string {
				return mon("monitor_cond_since", "Lab", "m15", item(req("columns", []string{"name"})))
			}, `{"id":19,"error":{"syntax":"[\"Lab\",\"m15\",{\"Item\":[{\"columns\":[\"name\"]}]}]","details":"invalid parameters","error":"syntax error"}}`},
			{"since: bad last id", func() string {
				return mon("monitor_cond_since", "Lab", "m16", item(req("columns", []string{"name"})), "notauuid")
			}, `{"id":20,"error":{"syntax":"\"notauuid\"","details":"last-txn-id must be UUID format.","error":"syntax error"}}`},
			{"cancel", func() string { return mon("monitor_cancel", "m1") }, `{"id":21,"result":{},"error":null}`},
			{"cancel unknown", func() string { return mon("monitor_cancel", "m1") }, `{"id":22,"error":"unknown monitor"}`},
			{"cancel bad params", func() string { return mon("monitor_cancel") }, `{"id":23,"error":"invalid parameters"}`},
			{"cond change unknown", func() string {
				return mon("monitor_cond_change", []string{"monid", "nolab"}, []string{"monid", "x"}, map[string]any{"Item": []any{req("where", []any{})}})
			}, `{"id":24,"error":{"syntax":"[\"monid\",\"nolab\"]","details":"unknown monitor session","error":"syntax error"}}`},
			{"cond change on plain monitor is accepted", func() string {
				mon("monitor", "Lab", "x", map[string]any{"Item": req("columns", []string{"name"})})
				return mon("monitor_cond_change", "x", "x", map[string]any{"Item": []any{req("where", []any{})}})
			}, `{"id":26,"result":{},"error":null}`},
			{"cond change columns", func() string {
				return mon("monitor_cond_change", "m2", "m2", map[string]any{"Item": []any{req("columns", []string{"n"})}})
			}, `{"id":27,"error":{"syntax":"{\"columns\":[\"n\"]}","details":"changing columns is unsupported","error":"syntax error"}}`},
			{"cond change not an array", func() string {
				return mon("monitor_cond_change", "m2", "m2", map[string]any{"Item": req("where", []any{})})
			}, `{"id":28,"error":{"details":"table Item no monitor-cond-change JSON array","error":"syntax error"}}`},
		} {
			require.JSONEq(t, normJSON(t, tc.want), normJSON(t, tc.got()), tc.name)
		}
	})
}

// TestMonitorCondChange checks that rows entering or leaving a condition
// are sent as insert or delete, in an update3 carrying the new monitor id
// and the current transaction id, before the reply.
func TestMonitorCondChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		a := insertItem(t, c, "a", 1)
		b := insertItem(t, c, "b", 2)
		w := dialWire(t, c, 1)
		res := w.result("monitor_cond_since", "Lab", []string{"monid", "Lab"},
			map[string]any{"Item": []any{map[string]any{"columns": []string{"name", "n"}, "where": []any{[]any{"n", "==", 1}}}}}, zeroUUID)
		var r []json.RawMessage
		require.NoError(t, json.Unmarshal(res, &r))
		last := string(r[1])
		require.JSONEq(t, fmt.Sprintf(`{"Item":{%q:{"initial":{"name":"a","n":1}}}}`, a), string(r[2]))

		id := w.request("monitor_cond_change", []string{"monid", "Lab"}, []string{"monid", "Lab2"},
			map[string]any{"Item": []any{map[string]any{"where": []any{[]any{"n", "==", 2}}}}})
		reply, before := w.until(id)
		require.JSONEq(t, fmt.Sprintf(`{"id":%d,"result":{},"error":null}`, id), string(reply))
		require.Len(t, before, 1)
		p := params(t, before[0], "update3")
		require.JSONEq(t, `["monid","Lab2"]`, string(p[0]))
		require.Equal(t, last, string(p[1]))
		require.JSONEq(t, fmt.Sprintf(`{"Item":{%q:{"delete":null},%q:{"insert":{"name":"b","n":2}}}}`, a, b), string(p[2]))

		// The old id is gone, the new one works.
		require.JSONEq(t, `"unknown monitor"`, string(field(t, w.call("monitor_cancel", []string{"monid", "Lab"}), "error")))
		require.JSONEq(t, `{}`, string(w.result("monitor_cancel", []string{"monid", "Lab2"})))
	})
}

// TestMonitorCondSinceResume checks the bounded transaction history: a known
// id resumes with found=true and only the delta (the byte counter proves the
// reply is small), an unknown or zero id gets everything.
func TestMonitorCondSinceResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3, WithHistorySize(5))
		for i := 0; i < 200; i++ {
			insertItem(t, c, fmt.Sprintf("row-%03d", i), i)
		}
		req := map[string]any{"Item": []any{map[string]any{"columns": []string{"name", "n", "data"}}}}
		since := func(member int, last string) (found bool, id string, updates map[string]map[string]json.RawMessage, bytes int64) {
			w := dialWire(t, c, member)
			before := c.Member(member).Counters().BytesSent
			res := w.result("monitor_cond_since", "Lab", []string{"monid", "Lab"}, req, last)
			synctest.Wait() // the writer counts after each write
			bytes = c.Member(member).Counters().BytesSent - before
			var r []json.RawMessage
			require.NoError(t, json.Unmarshal(res, &r))
			require.NoError(t, json.Unmarshal(r[0], &found))
			require.NoError(t, json.Unmarshal(r[1], &id))
			require.NoError(t, json.Unmarshal(r[2], &updates))
			return found, id, updates, bytes
		}
		found, last, updates, fullBytes := since(1, zeroUUID)
		require.False(t, found)
		require.Len(t, updates["Item"], 200)

		// Two more commits; resume on another member from the id we had.
		a := insertItem(t, c, "new-a", 1000)
		_, err := c.Transact(context.Background(), `[{"op":"update","table":"Item","where":[["name","==","row-000"]],"row":{"n":-1}}]`)
		require.NoError(t, err)
		found, current, updates, deltaBytes := since(2, last)
		require.True(t, found)
		require.NotEqual(t, last, current)
		require.Len(t, updates["Item"], 2)
		require.JSONEq(t, `{"insert":{"name":"new-a","n":1000,"data":"d"}}`, string(updates["Item"][a]))
		require.Less(t, deltaBytes*20, fullBytes, "a resume must send the delta, not the database")
		t.Logf("full monitor reply %d bytes, delta resume %d bytes", fullBytes, deltaBytes)

		// The current id: found, nothing to send.
		found, _, updates, _ = since(0, current)
		require.True(t, found)
		require.Len(t, updates, 0)

		// An id the member never saw, and one that left the history.
		found, _, updates, _ = since(0, "11111111-8877-4e6b-bdf2-498b50e40fda")
		require.False(t, found)
		require.Len(t, updates["Item"], 201)
		for i := 0; i < 5; i++ {
			insertItem(t, c, fmt.Sprintf("more-%d", i), i)
		}
		found, _, _, _ = since(0, current)
		require.False(t, found, "the id left the bounded history")
	})
}

// TestUpdatesBeforeReply checks the order a writer sees on a follower: the
// _Server index update, the data update3, then the transaction's reply;
// and that every member's monitors get the commit.
func TestUpdatesBeforeReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		var ws []*wire
		for i := 0; i < 3; i++ {
			w := dialWire(t, c, i)
			serverMonitor(w)
			w.result("monitor_cond_since", "Lab", []string{"monid", "Lab"}, map[string]any{"Item": []any{map[string]any{"columns": []string{"name", "n"}}}}, zeroUUID)
			ws = append(ws, w)
		}
		id := ws[1].request("transact", "Lab", map[string]any{"op": "insert", "table": "Item", "row": map[string]any{"name": "a", "n": 1}})
		reply, before := ws[1].until(id)
		require.Len(t, before, 2)
		require.JSONEq(t, `{"Database":{"U":{"modify":{"index":2}}}}`, norm(string(params(t, before[0], "update2")[1])))
		p := params(t, before[1], "update3")
		require.JSONEq(t, `{"Item":{"U":{"insert":{"name":"a","n":1}}}}`, norm(string(p[2])))
		require.JSONEq(t, `[{"uuid":["uuid","U"]}]`, norm(string(field(t, reply, "result"))))
		for _, i := range []int{0, 2} {
			params(t, ws[i].read(), "update2")
			require.Equal(t, string(p[1]), string(params(t, ws[i].read(), "update3")[1]))
		}
	})
}

// TestHistoryBoundedByDatabaseSize checks the second bound ovsdb-server 3.1
// puts on its transaction history: it forgets the oldest transactions while
// they hold more atoms than the database, always keeping the newest. A row
// of Item holds 5 atoms (_uuid, _version and three columns); a transaction
// counts the old and the new version of every row it changes.
func TestHistoryBoundedByDatabaseSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		req := map[string]any{"Item": []any{map[string]any{"columns": []string{"name", "n"}}}}
		since := func(last string) (found bool, id string, updates map[string]map[string]json.RawMessage) {
			w := dialWire(t, c, 1)
			res := w.result("monitor_cond_since", "Lab", []string{"monid", "Lab"}, req, last)
			var r []json.RawMessage
			require.NoError(t, json.Unmarshal(res, &r))
			require.NoError(t, json.Unmarshal(r[0], &found))
			require.NoError(t, json.Unmarshal(r[1], &id))
			require.NoError(t, json.Unmarshal(r[2], &updates))
			return found, id, updates
		}
		transact := func(ops string) {
			t.Helper()
			_, err := c.Transact(context.Background(), ops)
			require.NoError(t, err)
		}

		var ops []string
		for i := 0; i < 50; i++ {
			ops = append(ops, fmt.Sprintf(`{"op":"insert","table":"Item","row":{"name":"bulk-%02d","n":%d,"data":"d"}}`, i, i))
		}
		transact("[" + strings.Join(ops, ",") + "]") // history 250, database 250
		_, bulk, _ := since(zeroUUID)
		transact(`[{"op":"insert","table":"Item","row":{"name":"a","n":0,"data":"d"}}]`) // 255, 255
		found, small, _ := since(bulk)
		require.True(t, found, "a history as large as the database is kept")

		for i := 1; i <= 25; i++ { // +250: the bulk insert goes, 255 remain
			transact(fmt.Sprintf(`[{"op":"update","table":"Item","where":[["name","==","a"]],"row":{"n":%d}}]`, i))
		}
		found, _, _ = since(bulk)
		require.False(t, found, "the oldest transaction goes once the history outgrows the database")
		found, _, updates := since(small)
		require.True(t, found)
		require.Len(t, updates["Item"], 1, "only row a changed since")
		transact(`[{"op":"update","table":"Item","where":[["name","==","a"]],"row":{"n":100}}]`) // 265 > 255
		found, _, updates = since(small)
		require.False(t, found)
		require.Len(t, updates["Item"], 51, "found=false sends the whole database")

		transact(`[{"op":"delete","table":"Item","where":[["name","!=","a"]]}]`) // database 5, entry 250
		_, current, _ := since(zeroUUID)
		found, _, _ = since(current)
		require.True(t, found, "the newest transaction is always kept, however large")
	})
}
