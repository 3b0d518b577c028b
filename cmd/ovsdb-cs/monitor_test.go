package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// jsonEvents reads the JSON lines of a monitor run in order.
type jsonEvents struct {
	out    *outBuf
	cursor int // events before it were consumed
}

func parseEvents(t *testing.T, out string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for line := range strings.SplitSeq(out, "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			// The last line may be partial while the command writes.
			if !strings.HasSuffix(out, line+"\n") {
				break
			}
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		ts, _ := ev["ts"].(string)
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.Contains(ts, ".") {
			t.Fatalf("line %q: ts %q is not RFC 3339 with nanoseconds", line, ts)
		}
		if name, _ := ev["event"].(string); name == "" {
			t.Fatalf("line %q has no event", line)
		}
		evs = append(evs, ev)
	}
	return evs
}

// next waits for the next event (after the cursor) that matches and moves
// the cursor past it.
func (j *jsonEvents) next(t *testing.T, what string, match func(ev map[string]any) bool) map[string]any {
	t.Helper()
	var found map[string]any
	j.out.waitFor(t, what, func(out string) bool {
		evs := parseEvents(t, out)
		for i := j.cursor; i < len(evs); i++ {
			if match(evs[i]) {
				found, j.cursor = evs[i], i+1
				return true
			}
		}
		return false
	})
	return found
}

func isEvent(name string, fields map[string]any) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		if ev["event"] != name {
			return false
		}
		for k, v := range fields {
			if fmt.Sprint(ev[k]) != fmt.Sprint(v) {
				return false
			}
		}
		return true
	}
}

// insertItem writes one Item row through the cluster and returns its uuid.
func insertItem(t *testing.T, transact func(ctx context.Context, ops any) ([]json.RawMessage, error), name string, n int) string {
	t.Helper()
	res, err := transact(t.Context(), fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":%q,"n":%d}}]`, name, n))
	if err != nil {
		t.Fatal(err)
	}
	id, err := insertedUUID(res)
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

// checkFollowsLeader runs the JSON monitor checks shared by the fake and
// the real cluster: initial sync, a write, leadership transfers (each
// followed by a write), a modify and a delete.
func checkFollowsLeader(t *testing.T, remotes string,
	leaderRemote func() string,
	transact func(ctx context.Context, ops any) ([]json.RawMessage, error),
	transfer func() (newLeader string),
	transfers int,
) {
	r := start(t, "monitor", "--format=events", "--no-shuffle", remotes, "Lab", "Item")
	ev := &jsonEvents{out: r.stdout}

	first := ev.next(t, "MONITORING", isEvent("state", map[string]any{"state": "MONITORING"}))
	if first["remote"] != leaderRemote() {
		t.Fatalf("monitoring %v, the leader is %s", first["remote"], leaderRemote())
	}
	ev.cursor = 0
	ev.next(t, "clear (initial sync)", isEvent("clear", nil))

	id := insertItem(t, transact, "first", 1)
	upd := ev.next(t, "the insert", isEvent("update", map[string]any{"uuid": id}))
	if upd["table"] != "Item" || upd["op"] != "insert" {
		t.Fatalf("update event %v", upd)
	}
	row, _ := upd["row"].(map[string]any)
	if row["name"] != "first" || fmt.Sprint(row["n"]) != "1" || row["data"] != "" {
		t.Fatalf("insert row %v", row)
	}

	for i := range transfers {
		left := leaderRemote()
		to := transfer()
		ev.next(t, "reconnect", isEvent("reconnect", map[string]any{"remote": left}))
		rc := ev.cursor - 1
		ev.next(t, "MONITORING on the new leader", isEvent("state", map[string]any{"state": "MONITORING", "remote": to}))
		rec := ev.next(t, "recovered", isEvent("recovered", map[string]any{"remote": to}))
		if ms, ok := rec["ms"].(float64); !ok || ms < 0 {
			t.Fatalf("recovered event without ms: %v", rec)
		}
		for _, k := range []string{"attempts", "sweeps", "backoff_used", "from", "reason"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("recovered event without %s: %v", k, rec)
			}
		}
		if reason, _ := parseEvents(t, r.stdout.String())[rc]["reason"].(string); reason == "" {
			t.Errorf("reconnect without a reason")
		}
		id := insertItem(t, transact, fmt.Sprintf("after-%d", i), i)
		ev.next(t, "the insert after a transfer", isEvent("update", map[string]any{"uuid": id, "op": "insert"}))
	}

	if _, err := transact(t.Context(), `[{"op":"update","table":"Item","where":[["name","==","first"]],"row":{"n":42,"data":"x"}}]`); err != nil {
		t.Fatal(err)
	}
	upd = ev.next(t, "the modify", isEvent("update", map[string]any{"uuid": id, "op": "modify"}))
	row, _ = upd["row"].(map[string]any)
	if row["name"] != "first" || fmt.Sprint(row["n"]) != "42" || row["data"] != "x" {
		t.Fatalf("modify must carry the whole new row, got %v", row)
	}
	if old, _ := upd["old"].(map[string]any); len(old) != 2 || fmt.Sprint(old["n"]) != "1" || old["data"] != "" {
		t.Fatalf("modify must carry the old values of the changed columns (n, data), got %v", upd["old"])
	}
	if _, err := transact(t.Context(), `[{"op":"delete","table":"Item","where":[["name","==","first"]]}]`); err != nil {
		t.Fatal(err)
	}
	upd = ev.next(t, "the delete", isEvent("update", map[string]any{"uuid": id, "op": "delete"}))
	if _, ok := upd["row"]; ok {
		t.Fatalf("delete carries a row: %v", upd)
	}
	if old, _ := upd["old"].(map[string]any); old["name"] != "first" || fmt.Sprint(old["n"]) != "42" {
		t.Fatalf("delete must carry the old row, got %v", upd["old"])
	}

	// No row change was printed twice.
	seen := map[string]bool{}
	for _, e := range parseEvents(t, r.stdout.String()) {
		if e["event"] == "update" {
			k := fmt.Sprint(e["uuid"], e["op"], e["row"])
			if seen[k] {
				t.Errorf("update printed twice: %v", e)
			}
			seen[k] = true
		}
	}
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d after interrupt; stderr:\n%s", code, r.stderr)
	}
	if want := " recoveries (median"; !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
}

func TestMonitorJSONFollowsLeader(t *testing.T) {
	c := newCluster(t)
	leaderRemote := func() string { return c.Member(c.Leader()).Remote() }
	transfer := func() string {
		if err := c.TransferLeadership(testserver.AnyOther); err != nil {
			t.Fatal(err)
		}
		return leaderRemote()
	}
	checkFollowsLeader(t, c.Remotes(), leaderRemote, c.Transact, transfer, 3)
}

func TestMonitorTable(t *testing.T) {
	c := newCluster(t)
	r := start(t, "monitor", c.Remotes(), "Lab", "Item", "name,n")
	r.stderr.waitFor(t, "MONITORING", func(s string) bool {
		return strings.Contains(s, "monitoring "+c.Member(c.Leader()).Remote()+" (leader)")
	})
	id := insertItem(t, c.Transact, "texty", 7)
	out := r.stdout.waitFor(t, "the insert table", func(s string) bool { return strings.Contains(s, id) })
	want := "row                                  action name  n\n" +
		"------------------------------------ ------ ----- -\n" +
		id + " insert texty 7\n"
	if !strings.Contains(out, want) {
		t.Errorf("table output lacks\n%s\ngot:\n%s", want, out)
	}
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

func TestMonitorVerboseLogs(t *testing.T) {
	c := newCluster(t)
	r := start(t, "monitor", "-v", "--format", "events", c.Remotes(), "Lab", "ALL")
	r.stdout.waitFor(t, "MONITORING", func(s string) bool { return strings.Contains(s, `"state":"MONITORING"`) })
	r.stderr.waitFor(t, "logs on stderr", func(s string) bool { return strings.Contains(s, `"msg"=`) })
	if strings.Contains(r.stdout.String(), `"msg"=`) {
		t.Fatal("logs on stdout")
	}
	r.stop(t)
}

func TestMonitorNameErrors(t *testing.T) {
	// Unknown databases, tables and columns fail at once, naming the
	// closest valid name, like ovsdb-client.
	c := newCluster(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"monitor", c.Remotes(), "Lbb", "Item"}, `no database named "Lbb" (did you mean "Lab"?)`},
		{[]string{"monitor", c.Remotes(), "Lab", "Itme"}, `Lab does not have a table named "Itme" (did you mean "Item"?)`},
		{[]string{"monitor", c.Remotes(), "Lab", "Item", "name,nn"}, `table "Item" in Lab does not have a column named "nn" (did you mean "n"?)`},
		{[]string{"monitor", c.Remotes(), "Lab", "Item", "name,name"}, `column "name" mentioned multiple times`},
		{[]string{"monitor-cond", c.Remotes(), "Lab", "[[\"nam\",\"==\",\"a\"]]", "Item"}, `does not have a column named "nam" (did you mean "name"?)`},
		{[]string{"monitor-cond", c.Remotes(), "Lab", "[true]", "ALL"}, `ALL tables are not allowed with condition`},
		{[]string{"dump", c.Remotes(), "Lab", "Itme"}, `(did you mean "Item"?)`},
		{[]string{"list-columns", c.Remotes(), "Lab", "Itme"}, `(did you mean "Item"?)`},
		{[]string{"transact", c.Remotes(), `["Lbb",{"op":"comment","comment":"x"}]`}, `no database named "Lbb" (did you mean "Lab"?)`},
		{[]string{"transact", c.Remotes(), `{"op":"comment"}`}, `not a valid OVSDB query`},
		{[]string{"dump", "--timeout=100ms", "tcp:127.0.0.1:1", "Lab"}, `timed out (--timeout): no server of tcp:127.0.0.1:1 answered`},
	} {
		code, out, errOut := runSync(t, tc.args...)
		if code != exitFail || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%q: exit %d, want %d; stderr %q should contain %q; stdout %q", tc.args, code, exitFail, errOut, tc.want, out)
		}
	}
}

func TestDemoElectionDelay(t *testing.T) {
	// With an election window after each transfer (no member is leader for
	// 200 ms), the first sweep over the members finds every member healthy
	// and none leader. The election-aware policy then sweeps again (after
	// 5 ms, 10 ms, ...) where Open vSwitch's rule goes straight to the
	// reconnect backoff. The timeline's recovery lines prove it: with the
	// election-aware policy every recovery took two sweeps or more, with
	// --failover=ovs exactly one. The window is long enough that the first
	// sweep always falls inside it.
	re := regexp.MustCompile(`again after [^(]*\((\d+) attempts, (\d+) sweeps, backoff used: (yes|no)\)`)
	for _, tc := range []struct {
		policy string
		ok     func(sweeps int) bool
		want   string
	}{
		{"election-aware", func(n int) bool { return n >= 2 }, "2 sweeps or more (a re-sweep)"},
		{"ovs", func(n int) bool { return n == 1 }, "1 sweep"},
	} {
		code, out, errOut := runSync(t, "demo", "--transfers=3", "--interval=20ms", "--election-delay=200ms", "--failover="+tc.policy)
		if code != exitOK {
			t.Fatalf("%s: demo exit %d\nstdout:\n%s\nstderr:\n%s", tc.policy, code, out, errOut)
		}
		recs := re.FindAllStringSubmatch(out, -1)
		if len(recs) != 3 {
			t.Fatalf("%s: want 3 recovery lines in the timeline, got %d:\n%s", tc.policy, len(recs), out)
		}
		for _, m := range recs {
			if sweeps, _ := strconv.Atoi(m[2]); !tc.ok(sweeps) {
				t.Errorf("%s: a recovery took %s sweeps, want %s\n%s", tc.policy, m[2], tc.want, out)
			}
		}
	}
}

func TestDemo(t *testing.T) {
	code, out, errOut := runSync(t, "demo")
	if code != exitOK {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"Timeline:", "transfer 10:", "Summary:", "replica matches the cluster: yes", "missed 0, duplicated 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestMonitorStateLines(t *testing.T) {
	// Connection state goes to stderr, one line per change: the leader
	// monitored, the leader left and why, "no leader yet" with the wait
	// while no member leads, then the new leader and the recovery.
	c := newCluster(t)
	r := start(t, "monitor", "--max-backoff=1s", c.Remotes(), "Lab", "Item", "name")
	r.stderr.waitFor(t, "monitoring", func(s string) bool { return strings.Contains(s, "(leader)\n") })
	old := c.Member(c.Leader()).Remote()
	if err := c.StepDown(); err != nil {
		t.Fatal(err)
	}
	r.stderr.waitFor(t, "the blind line", func(s string) bool {
		return strings.Contains(s, "ovsdb-cs: left "+old+": ") && strings.Contains(s, "ovsdb-cs: no leader yet, watching every member")
	})
	if err := c.Elect(2); err != nil {
		t.Fatal(err)
	}
	to := c.Member(2).Remote()
	errOut := r.stderr.waitFor(t, "the new leader", func(s string) bool {
		return strings.Contains(s, "ovsdb-cs: monitoring "+to+" (leader)\n") && strings.Contains(s, "ovsdb-cs: recovered in ")
	})
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	// While blind, a line per change of the wait, not per attempt.
	if n := strings.Count(errOut, "no leader yet"); n > 10 {
		t.Errorf("%d \"no leader yet\" lines:\n%s", n, errOut)
	}
	if r.stdout.String() != "" && !strings.HasPrefix(r.stdout.String(), "row ") {
		t.Errorf("stdout holds more than tables:\n%s", r.stdout)
	}
	t.Logf("stderr:\n%s", errOut)
}

func TestMonitorTableFollowsLeader(t *testing.T) {
	c := newCluster(t)
	transfer := func() string {
		if err := c.TransferLeadership(testserver.AnyOther); err != nil {
			t.Fatal(err)
		}
		return c.Member(c.Leader()).Remote()
	}
	checkTableFollowsLeader(t, c.Remotes(), c.Transact, transfer, 3)
}

// checkTableFollowsLeader checks that the table formats follow the leader:
// after each transfer the rows written meanwhile are printed once, as
// inserts, and nothing else (the new leader's full reply is diffed against
// the replica). Rows already in the table are not shown (!initial).
func checkTableFollowsLeader(t *testing.T, remotes string,
	transact func(ctx context.Context, ops any) ([]json.RawMessage, error),
	transfer func() (newLeader string),
	transfers int,
) {
	r := start(t, "monitor", "-f", "csv", "--no-headings", remotes, "Lab", "Item", "name,!initial")
	r.stderr.waitFor(t, "monitoring", func(s string) bool { return strings.Contains(s, "(leader)\n") })
	var ids []string
	for i := range transfers + 1 {
		if i > 0 {
			to := transfer()
			r.stderr.waitFor(t, "the new leader", func(s string) bool {
				return strings.Contains(s, "monitoring "+to+" (leader)\n")
			})
		}
		id := insertItem(t, transact, fmt.Sprintf("row%d", i), i)
		ids = append(ids, id)
		r.stdout.waitFor(t, "the insert", func(s string) bool { return strings.Contains(s, id+",insert,row") })
	}
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var want strings.Builder
	for i, id := range ids {
		if i > 0 {
			want.WriteString("\n")
		}
		fmt.Fprintf(&want, "%s,insert,row%d\n", id, i)
	}
	if got := r.stdout.String(); got != want.String() {
		t.Fatalf("stdout:\n%s\nwant:\n%s", got, want.String())
	}
}

func TestMonitorServesMetrics(t *testing.T) {
	// --metrics-addr serves the client's Prometheus metrics while it
	// monitors; the address it bound goes to stderr.
	c := newCluster(t)
	r := start(t, "monitor", "--metrics-addr=127.0.0.1:0", c.Remotes(), "Lab", "Item", "name")
	errOut := r.stderr.waitFor(t, "monitoring", func(s string) bool { return strings.Contains(s, "(leader)\n") })
	m := regexp.MustCompile(`serving metrics on (http://\S+/metrics)`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no metrics address on stderr:\n%s", errOut)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`ovsdbcs_state{state="MONITORING"} 1`, "ovsdbcs_connected 1", `ovsdbcs_monitor_method_info{method=`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}
