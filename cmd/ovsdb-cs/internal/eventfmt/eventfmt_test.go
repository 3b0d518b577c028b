package eventfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	itemA = "11111111-1111-1111-1111-111111111111"
	itemB = "22222222-2222-2222-2222-222222222222"
	portP = "33333333-3333-3333-3333-333333333333"
)

// fixedClock returns a clock that starts at a fixed instant and advances
// 1.5 ms per reading.
func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 24, 13, 40, 0, 123456789, time.UTC)
	return func() time.Time {
		now := t
		t = t.Add(1500 * time.Microsecond)
		return now
	}
}

// changes applies the update2 table-updates in msgs to a fresh replica of
// the golden schema and returns the row changes of each.
func changes(t *testing.T, msgs ...string) [][]monitor.RowChange {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "schema.ovsschema"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := monitor.ParseDatabaseSchema(data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := monitor.NewSchema(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := monitor.NewReplica(s)
	var out [][]monitor.RowChange
	for _, m := range msgs {
		u, err := monitor.ParseUpdate2(s, []byte(`["golden",`+m+`]`))
		if err != nil {
			t.Fatalf("parse %s: %v", m, err)
		}
		cs, err := r.Apply(u)
		if err != nil {
			t.Fatalf("apply %s: %v", m, err)
		}
		out = append(out, cs.Slice())
	}
	return out
}

// script writes a session to a printer.
func script(t *testing.T) []byte {
	t.Helper()
	upd := changes(t,
		`{"Item":{"`+itemA+`":{"insert":{"name":"a","n":1}},"`+itemB+`":{"insert":{"name":"needs quotes","n":-2,"data":"x\"y"}}},`+
			`"Port":{"`+portP+`":{"insert":{"name":"p1","tags":["set",[3,1,2]],"options":["map",[["mtu","1500"],["b","two words"]]],"item":["uuid","`+itemA+`"],"ratio":0.25,"up":true}}}}`,
		`{"Item":{"`+itemA+`":{"modify":{"n":5,"data":"changed"}}}}`,
		`{"Item":{"`+itemB+`":{"delete":null}},"Port":{"`+portP+`":{"modify":{"tags":["set",[1]],"options":["map",[["mtu","9000"]]]}}}}`,
	)
	var buf bytes.Buffer
	p := New(&buf, WithClock(fixedClock()))
	steps := []error{
		p.State("server_schema_requested", "tcp:127.0.0.1:6641"),
		p.State("monitoring", "tcp:127.0.0.1:6641"),
		p.Clear(),
		p.Update(upd[0]),
		p.Update(nil),
		p.Update(upd[1]),
		p.Reconnect("server is not the cluster leader", "tcp:127.0.0.1:6641"),
		p.State("RETRY", ""),
		p.State("MONITORING", "tcp:127.0.0.1:6642"),
		p.Recovered(Recovery{Duration: 1234567 * time.Nanosecond, Remote: "tcp:127.0.0.1:6642"}),
		p.Update(upd[2]),
		p.Recovered(Recovery{Duration: 800 * time.Microsecond, Remote: "tcp:127.0.0.1:6641", From: "tcp:127.0.0.1:6643",
			Reason: "server is not the cluster leader", Detailed: true, Attempts: 1}),
		p.Recovered(Recovery{Duration: 12 * time.Millisecond, Remote: "tcp:127.0.0.1:6643",
			Detailed: true, Attempts: 3, Sweeps: 2, BackoffUsed: true}),
		p.Recovered(Recovery{Duration: 1201 * time.Millisecond, Remote: "tcp:127.0.0.1:6642",
			Detailed: true, Attempts: 3, Found: "update", Watchers: 2}),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

func TestJSONGolden(t *testing.T) {
	out := script(t)
	checkGolden(t, "session.jsonl", out)

	// Every line is a JSON object with ts (RFC 3339, nanoseconds) and event.
	for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		var obj map[string]any
		if err := json.Unmarshal(line, &obj); err != nil {
			t.Fatalf("line %d %s: %v", i+1, line, err)
		}
		ts, _ := obj["ts"].(string)
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("line %d: ts %q: %v", i+1, ts, err)
		}
		if ev, _ := obj["event"].(string); ev == "" {
			t.Errorf("line %d: no event: %s", i+1, line)
		}
		if obj["event"] == "update" && obj["op"] == "delete" {
			if _, ok := obj["row"]; ok {
				t.Errorf("line %d: delete carries a row: %s", i+1, line)
			}
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("disk full")
}

func TestWriteErrorSticks(t *testing.T) {
	w := &failWriter{}
	p := New(w)
	if err := p.Clear(); err == nil {
		t.Fatal("Clear: no error")
	}
	if err := p.State("MONITORING", "tcp:127.0.0.1:1"); err == nil || w.n != 1 {
		t.Fatalf("after a failed write: err %v, writes %d", err, w.n)
	}
	if p.Err() == nil {
		t.Fatal("Err() = nil")
	}
}

func TestJSONString(t *testing.T) {
	got := string(appendJSONString(nil, "a\"\\\n\x01é\xff<"))
	want := `"a\"\\\n\u0001é\ufffd<"`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	var s string
	if err := json.Unmarshal([]byte(got), &s); err != nil {
		t.Fatal(err)
	}
}

func TestMillis(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 1234567: "1.235", time.Millisecond: "1", 1500 * time.Microsecond: "1.5", 2 * time.Second: "2000",
	} {
		if got := string(appendMillis(nil, d)); got != want {
			t.Errorf("appendMillis(%v) = %s, want %s", d, got, want)
		}
	}
}
