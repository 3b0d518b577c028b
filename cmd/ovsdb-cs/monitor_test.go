package main

import (
	"context"
	"encoding/json"
	"fmt"
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
	r := start(t, "monitor", "--format=json", "--no-shuffle", remotes, "Lab", "Item")
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
	if _, err := transact(t.Context(), `[{"op":"delete","table":"Item","where":[["name","==","first"]]}]`); err != nil {
		t.Fatal(err)
	}
	upd = ev.next(t, "the delete", isEvent("update", map[string]any{"uuid": id, "op": "delete"}))
	if _, ok := upd["row"]; ok {
		t.Fatalf("delete carries a row: %v", upd)
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

func TestMonitorText(t *testing.T) {
	c := newCluster(t)
	r := start(t, "monitor", c.Remotes(), "Lab")
	r.stdout.waitFor(t, "MONITORING", func(s string) bool {
		return strings.Contains(s, "state MONITORING remote="+c.Member(c.Leader()).Remote())
	})
	id := insertItem(t, c.Transact, "texty", 7)
	out := r.stdout.waitFor(t, "the insert table", func(s string) bool { return strings.Contains(s, id) })
	for _, want := range []string{"Item table\n", "row                                  action data n name\n", id + " insert \"\"   7 texty\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(r.stderr.String(), "monitoring database Lab") {
		t.Errorf("no progress line on stderr: %q", r.stderr)
	}
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

func TestMonitorVerboseLogs(t *testing.T) {
	c := newCluster(t)
	r := start(t, "monitor", "-v", "--format", "json", c.Remotes(), "Lab")
	r.stdout.waitFor(t, "MONITORING", func(s string) bool { return strings.Contains(s, `"state":"MONITORING"`) })
	r.stderr.waitFor(t, "logs on stderr", func(s string) bool { return strings.Contains(s, `"msg"=`) })
	if strings.Contains(r.stdout.String(), `"msg"=`) {
		t.Fatal("logs on stdout")
	}
	r.stop(t)
}

func TestMonitorUnknownDatabaseKeepsTrying(t *testing.T) {
	// A database the cluster does not serve is not a crash: the client keeps
	// trying (with backoff) until interrupted, and exits cleanly. (With the
	// default leader watch no connection is ever made, so there is no
	// reconnect event to wait for: the polling policy shows it.)
	c := newCluster(t)
	r := start(t, "monitor", "--format=json", "--failover=election-aware", "--max-backoff=50ms", c.Remotes(), "NoSuchDB")
	r.stdout.waitFor(t, "a reconnect", func(s string) bool { return strings.Contains(s, `"event":"reconnect"`) })
	if code := r.stop(t); code != exitOK {
		t.Fatalf("exit %d", code)
	}
}

func TestDemoElectionDelay(t *testing.T) {
	// With an election window, the leader watch takes the new leader when
	// it is elected instead of waiting out a backoff.
	code, out, errOut := runSync(t, "demo", "--transfers=3", "--interval=20ms", "--election-delay=5ms")
	if code != exitOK {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "watch failover policy") || !strings.Contains(out, "replica matches the cluster: yes") {
		t.Fatalf("demo output:\n%s", out)
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
