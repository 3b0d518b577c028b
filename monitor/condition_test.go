package monitor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// condDescribe renders the whole state of c on one line, tables sorted:
//
//	seqno=1 owed=0 flight=- await=- method=monitor_cond_since last=0 | T{new:- req:- ack:[true]}
func condDescribe(c *Conditions) string {
	yn := func(b bool) string {
		if b {
			return "Y"
		}
		return "-"
	}
	last := c.LastID()
	if last == ZeroLastID {
		last = "0"
	}
	method := "-"
	if c.method != 0 {
		method = c.method.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seqno=%d owed=%d flight=%s await=%s method=%s last=%s |", c.seqno, c.owed, yn(c.inFlight), yn(c.awaiting), method, last)
	slot := func(j []byte) string {
		if j == nil {
			return "-"
		}
		return string(j)
	}
	for _, name := range c.Tables() {
		tc, _ := c.Table(name)
		fmt.Fprintf(&b, " %s{new:%s req:%s ack:%s}", name, slot(tc.New), slot(tc.Requested), slot(tc.Acked))
	}
	return b.String()
}

// Conditions used in the scenarios.
var (
	cA    = []ovsdb.Condition{{Column: "n", Function: ovsdb.ConditionEqual, Value: "a"}}
	cB    = []ovsdb.Condition{{Column: "n", Function: ovsdb.ConditionEqual, Value: "b"}}
	cC    = []ovsdb.Condition{{Column: "n", Function: ovsdb.ConditionEqual, Value: "c"}}
	cNone = []ovsdb.Condition{} // matches no row: [false]
)

const (
	idL1 = "11111111-1111-4111-8111-111111111111"
	idL2 = "22222222-2222-4222-8222-222222222222"
	idL3 = "33333333-3333-4333-8333-333333333333"
)

// condStep is one call on a Conditions and what it must give.
type condStep struct {
	do     string // set, compose, ack, start, reply, update3, clear, reset
	table  string
	where  []ovsdb.Condition
	method Method // start
	id     string // reply, update3
	// want is the result: the seqno for set; the params (or "-" for none)
	// for compose and start; "" or an error's text for the others.
	want string
	// state, if not empty, is condDescribe after the step.
	state string
}

// condSel is the selection used by start steps: T and U, not V.
var condSel = []TableRequest{{Table: "T", Columns: []string{"n"}}, {Table: "U", Columns: []string{"n"}}}

func condRun(t *testing.T, c *Conditions, steps []condStep) {
	t.Helper()
	for i, s := range steps {
		var got string
		var err error
		switch s.do {
		case "set":
			var n uint64
			n, err = c.Set(s.table, s.where)
			got = strconv.FormatUint(n, 10)
		case "compose":
			b, ok := c.ComposeChange()
			got = "-"
			if ok {
				got = string(b)
			}
		case "ack":
			err = c.Ack()
		case "start":
			var b []byte
			b, err = c.StartMonitor(s.method, condSel)
			got = string(b)
		case "reply":
			err = c.MonitorReplied(s.id)
		case "update3":
			err = c.SetLastID(s.id)
		case "clear":
			c.Clear(s.table)
		case "reset":
			c.ResetLastID()
		default:
			t.Fatalf("step %d: unknown step %q", i, s.do)
		}
		if err != nil {
			got = err.Error()
		}
		if got != s.want {
			t.Errorf("step %d (%s %s): got\n\t%s\nwant\n\t%s", i, s.do, s.table, got, s.want)
		}
		if s.state != "" {
			if st := condDescribe(c); st != s.state {
				t.Errorf("step %d (%s %s): state\n\t%s\nwant\n\t%s", i, s.do, s.table, st, s.state)
			}
		}
	}
}

// Request params shortcuts.
const (
	condMonid = `["monid","db"]`
	selNoCond = `"T":[{"columns":["n"]}],"U":[{"columns":["n"]}]`
)

func since(tables, last string) string {
	return `["db",` + condMonid + `,{` + tables + `},"` + last + `"]`
}

func change(tables string) string {
	return `[` + condMonid + `,` + condMonid + `,{` + tables + `}]`
}

func TestConditionScenarios(t *testing.T) {
	const (
		whereA = `[["n","==","a"]]`
		whereB = `[["n","==","b"]]`
		whereC = `[["n","==","c"]]`
	)
	tests := []struct {
		name  string
		steps []condStep
	}{
		{"[true] is acknowledged implicitly", []condStep{
			{do: "set", table: "T", where: nil, want: "0",
				state: "seqno=0 owed=0 flight=- await=- method=- last=0 | T{new:- req:- ack:[true]}"},
			{do: "start", method: MethodMonitorCondSince,
				want: since(`"T":[{"columns":["n"],"where":[true]}],"U":[{"columns":["n"]}]`, ZeroLastID)},
			{do: "reply", id: idL1, want: "",
				state: "seqno=0 owed=0 flight=- await=- method=monitor_cond_since last=" + idL1 + " | T{new:- req:- ack:[true]}"},
			{do: "compose", want: "-"},
			{do: "set", table: "T", where: nil, want: "0"},
		}},
		{"same condition twice gives the same seqno", []condStep{
			{do: "start", method: MethodMonitorCondSince, want: since(selNoCond, ZeroLastID)},
			{do: "reply", id: idL1, want: ""},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "set", table: "T", where: cA, want: "1",
				state: "seqno=0 owed=0 flight=- await=- method=monitor_cond_since last=" + idL1 + " | T{new:" + whereA + " req:- ack:[true]}"},
			{do: "compose", want: change(`"T":[{"where":` + whereA + `}]`),
				state: "seqno=0 owed=0 flight=Y await=- method=monitor_cond_since last=" + idL1 + " | T{new:- req:" + whereA + " ack:[true]}"},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "compose", want: "-"},
			{do: "ack", want: "",
				state: "seqno=1 owed=0 flight=- await=- method=monitor_cond_since last=" + idL1 + " | T{new:- req:- ack:" + whereA + "}"},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "compose", want: "-"},
		}},
		{"changed while a change is in flight", []condStep{
			{do: "start", method: MethodMonitorCondSince, want: since(selNoCond, ZeroLastID)},
			{do: "reply", id: idL1, want: ""},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "compose", want: change(`"T":[{"where":` + whereA + `}]`)},
			// Sent after the one in flight is acked: two steps away.
			{do: "set", table: "T", where: cB, want: "2"},
			{do: "set", table: "T", where: cB, want: "2"},
			// Another table: also after the batch in flight.
			{do: "set", table: "U", where: cC, want: "2"},
			// A table whose condition is already in effect: now.
			{do: "set", table: "V", where: nil, want: "0"},
			{do: "compose", want: "-"},
			{do: "ack", want: "",
				state: "seqno=1 owed=0 flight=- await=- method=monitor_cond_since last=" + idL1 +
					" | T{new:" + whereB + " req:- ack:" + whereA + "} U{new:" + whereC + " req:- ack:[true]} V{new:- req:- ack:[true]}"},
			{do: "set", table: "T", where: cB, want: "2"},
			{do: "compose", want: change(`"T":[{"where":` + whereB + `}],"U":[{"where":` + whereC + `}]`)},
			{do: "ack", want: ""},
			{do: "set", table: "T", where: cB, want: "2"},
			{do: "set", table: "U", where: cC, want: "2",
				state: "seqno=2 owed=0 flight=- await=- method=monitor_cond_since last=" + idL1 +
					" | T{new:- req:- ack:" + whereB + "} U{new:- req:- ack:" + whereC + "} V{new:- req:- ack:[true]}"},
		}},
		{"going back to the requested condition while in flight", []condStep{
			{do: "start", method: MethodMonitorCond, want: `["db",` + condMonid + `,{` + selNoCond + `}]`},
			{do: "reply", want: ""},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "compose", want: change(`"T":[{"where":` + whereA + `}]`)},
			{do: "set", table: "T", where: cB, want: "2"},
			// Compared with the newest (B), A is a change again; it is sent
			// once more after the ack, as Open vSwitch does.
			{do: "set", table: "T", where: cA, want: "2"},
			{do: "ack", want: ""},
			{do: "compose", want: change(`"T":[{"where":` + whereA + `}]`)},
			{do: "ack", want: "", state: "seqno=2 owed=0 flight=- await=- method=monitor_cond last=0 | T{new:- req:- ack:" + whereA + "}"},
		}},
		{"reconnect with a change in flight resets the last id", []condStep{
			{do: "start", method: MethodMonitorCondSince, want: since(selNoCond, ZeroLastID)},
			{do: "reply", id: idL1, want: ""},
			{do: "update3", id: idL2, want: ""},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "compose", want: change(`"T":[{"where":` + whereA + `}]`)},
			{do: "set", table: "U", where: cB, want: "2"},
			// The connection drops. The new monitor asks for everything,
			// with the newest conditions.
			{do: "start", method: MethodMonitorCondSince,
				want:  since(`"T":[{"columns":["n"],"where":`+whereA+`}],"U":[{"columns":["n"],"where":`+whereB+`}]`, ZeroLastID),
				state: "seqno=0 owed=2 flight=- await=Y method=monitor_cond_since last=0 | T{new:- req:- ack:" + whereA + "} U{new:- req:- ack:" + whereB + "}"},
			{do: "compose", want: "-"},
			// Still the number promised before the drop: A takes effect
			// with the reply, which counts both folded changes at once.
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "set", table: "U", where: cB, want: "2"},
			{do: "reply", id: idL3, want: "",
				state: "seqno=2 owed=0 flight=- await=- method=monitor_cond_since last=" + idL3 + " | T{new:- req:- ack:" + whereA + "} U{new:- req:- ack:" + whereB + "}"},
			{do: "compose", want: "-"},
		}},
		{"fast resync sends acked conditions, then the change", []condStep{
			{do: "start", method: MethodMonitorCondSince, want: since(selNoCond, ZeroLastID)},
			{do: "reply", id: idL1, want: ""},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "compose", want: change(`"T":[{"where":` + whereA + `}]`)},
			{do: "ack", want: ""},
			{do: "update3", id: idL2, want: ""},
			{do: "set", table: "T", where: cB, want: "2"},
			// Reconnect: resume from L2 with A; B stays pending.
			{do: "start", method: MethodMonitorCondSince,
				want:  since(`"T":[{"columns":["n"],"where":`+whereA+`}],"U":[{"columns":["n"]}]`, idL2),
				state: "seqno=1 owed=0 flight=- await=Y method=monitor_cond_since last=" + idL2 + " | T{new:" + whereB + " req:- ack:" + whereA + "}"},
			// Not before the reply.
			{do: "compose", want: "-"},
			{do: "reply", id: idL2, want: ""},
			{do: "compose", want: change(`"T":[{"where":` + whereB + `}]`)},
			{do: "ack", want: "", state: "seqno=2 owed=0 flight=- await=- method=monitor_cond_since last=" + idL2 + " | T{new:- req:- ack:" + whereB + "}"},
		}},
		{"condition set before the first connection counts when the reply comes", []condStep{
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "set", table: "V", where: cNone, want: "1"},
			{do: "compose", want: "-"}, // never connected
			{do: "start", method: MethodMonitorCondSince,
				want:  since(`"T":[{"columns":["n"],"where":`+whereA+`}],"U":[{"columns":["n"]}],"V":[{"columns":[],"where":[false]}]`, ZeroLastID),
				state: "seqno=0 owed=1 flight=- await=Y method=monitor_cond_since last=0 | T{new:- req:- ack:" + whereA + "} V{new:- req:- ack:[false]}"},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "reply", id: idL1, want: ""},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "compose", want: "-", state: "seqno=1 owed=0 flight=- await=- method=monitor_cond_since last=" + idL1 + " | T{new:- req:- ack:" + whereA + "} V{new:- req:- ack:[false]}"},
		}},
		{"reconnect before the monitor reply keeps what is owed", []condStep{
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "start", method: MethodMonitorCondSince, want: since(`"T":[{"columns":["n"],"where":`+whereA+`}],"U":[{"columns":["n"]}]`, ZeroLastID)},
			{do: "set", table: "T", where: cB, want: "2"},
			{do: "start", method: MethodMonitorCondSince, want: since(`"T":[{"columns":["n"],"where":`+whereB+`}],"U":[{"columns":["n"]}]`, ZeroLastID),
				state: "seqno=0 owed=2 flight=- await=Y method=monitor_cond_since last=0 | T{new:- req:- ack:" + whereB + "}"},
			{do: "reply", id: idL1, want: "", state: "seqno=2 owed=0 flight=- await=- method=monitor_cond_since last=" + idL1 + " | T{new:- req:- ack:" + whereB + "}"},
		}},
		{"fallback to monitor_cond and monitor", []condStep{
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "start", method: MethodMonitorCondSince, want: since(`"T":[{"columns":["n"],"where":`+whereA+`}],"U":[{"columns":["n"]}]`, ZeroLastID)},
			{do: "start", method: MethodMonitorCond, want: `["db",` + condMonid + `,{"T":[{"columns":["n"],"where":` + whereA + `}],"U":[{"columns":["n"]}]}]`,
				state: "seqno=0 owed=1 flight=- await=Y method=monitor_cond last=0 | T{new:- req:- ack:" + whereA + "}"},
			{do: "start", method: MethodMonitor, want: `["db",` + condMonid + `,{` + selNoCond + `}]`},
			{do: "reply", id: idL1, want: "", state: "seqno=1 owed=0 flight=- await=- method=monitor last=0 | T{new:- req:- ack:" + whereA + "}"},
			// Plain monitor takes no condition change.
			{do: "set", table: "T", where: cB, want: "2"},
			{do: "compose", want: "-"},
		}},
		{"monitor_cond with a last id: acked conditions, change after, id dropped", []condStep{
			{do: "start", method: MethodMonitorCondSince, want: since(selNoCond, ZeroLastID)},
			{do: "reply", id: idL1, want: ""},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "start", method: MethodMonitorCondSince, want: since(`"T":[{"columns":["n"],"where":[true]}],"U":[{"columns":["n"]}]`, idL1)},
			{do: "start", method: MethodMonitorCond, want: `["db",` + condMonid + `,{"T":[{"columns":["n"],"where":[true]}],"U":[{"columns":["n"]}]}]`},
			{do: "reply", id: idL2, want: "", state: "seqno=0 owed=0 flight=- await=- method=monitor_cond last=0 | T{new:" + whereA + " req:- ack:[true]}"},
			{do: "compose", want: change(`"T":[{"where":` + whereA + `}]`)},
			{do: "ack", want: ""},
		}},
		{"clear forgets the table and the last id", []condStep{
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "set", table: "V", where: cB, want: "1"},
			{do: "start", method: MethodMonitorCondSince, want: since(`"T":[{"columns":["n"],"where":`+whereA+`}],"U":[{"columns":["n"]}],"V":[{"columns":[],"where":`+whereB+`}]`, ZeroLastID)},
			{do: "reply", id: idL1, want: ""},
			{do: "clear", table: "W", state: "seqno=1 owed=0 flight=- await=- method=monitor_cond_since last=" + idL1 + " | T{new:- req:- ack:" + whereA + "} V{new:- req:- ack:" + whereB + "}"},
			{do: "clear", table: "V", state: "seqno=1 owed=0 flight=- await=- method=monitor_cond_since last=0 | T{new:- req:- ack:" + whereA + "}"},
			{do: "start", method: MethodMonitorCondSince, want: since(`"T":[{"columns":["n"],"where":`+whereA+`}],"U":[{"columns":["n"]}]`, ZeroLastID)},
		}},
		{"clear while its change is in flight", []condStep{
			{do: "start", method: MethodMonitorCondSince, want: since(selNoCond, ZeroLastID)},
			{do: "reply", id: idL1, want: ""},
			{do: "set", table: "V", where: cA, want: "1"},
			{do: "compose", want: change(`"V":[{"where":` + whereA + `}]`)},
			{do: "clear", table: "V"},
			{do: "set", table: "T", where: cB, want: "2"},
			{do: "ack", want: "", state: "seqno=1 owed=0 flight=- await=- method=monitor_cond_since last=0 | T{new:" + whereB + " req:- ack:[true]}"},
			{do: "compose", want: change(`"T":[{"where":` + whereB + `}]`)},
			{do: "ack", want: ""},
			{do: "set", table: "T", where: cB, want: "2"},
		}},
		{"inconsistency resets the last id", []condStep{
			{do: "start", method: MethodMonitorCondSince, want: since(selNoCond, ZeroLastID)},
			{do: "reply", id: idL1, want: ""},
			{do: "update3", id: strings.ToUpper(idL2), want: "", state: "seqno=0 owed=0 flight=- await=- method=monitor_cond_since last=" + idL2 + " |"},
			{do: "reset", state: "seqno=0 owed=0 flight=- await=- method=monitor_cond_since last=0 |"},
			{do: "start", method: MethodMonitorCondSince, want: since(selNoCond, ZeroLastID)},
			{do: "reply", id: ZeroLastID, want: "", state: "seqno=0 owed=0 flight=- await=- method=monitor_cond_since last=0 |"},
			{do: "update3", id: ZeroLastID, want: ""},
		}},
		{"an error reply to the change means a reconnect with a full reload", []condStep{
			{do: "start", method: MethodMonitorCondSince, want: since(selNoCond, ZeroLastID)},
			{do: "reply", id: idL1, want: ""},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "compose", want: change(`"T":[{"where":` + whereA + `}]`)},
			// The caller drops the connection on the error and reconnects.
			{do: "start", method: MethodMonitorCondSince, want: since(`"T":[{"columns":["n"],"where":`+whereA+`}],"U":[{"columns":["n"]}]`, ZeroLastID)},
			{do: "ack", want: ErrNoChangeInFlight.Error()},
			{do: "reply", id: idL2, want: "", state: "seqno=1 owed=0 flight=- await=- method=monitor_cond_since last=" + idL2 + " | T{new:- req:- ack:" + whereA + "}"},
		}},
		{"[] means no row, nil every row", []condStep{
			{do: "set", table: "T", where: cNone, want: "1", state: "seqno=0 owed=0 flight=- await=- method=- last=0 | T{new:[false] req:- ack:[true]}"},
			{do: "set", table: "T", where: []ovsdb.Condition{}, want: "1"},
			{do: "set", table: "T", where: nil, want: "1", state: "seqno=0 owed=0 flight=- await=- method=- last=0 | T{new:[true] req:- ack:[true]}"},
			{do: "set", table: "T", where: cNone, want: "1", state: "seqno=0 owed=0 flight=- await=- method=- last=0 | T{new:[false] req:- ack:[true]}"},
		}},
		{"misuse and bad input change nothing", []condStep{
			{do: "ack", want: "monitor: no monitor_cond_change in flight"},
			{do: "reply", want: "monitor: no monitor request in flight"},
			{do: "set", table: "", where: cA, want: "monitor: bad condition: no table name"},
			{do: "set", table: "\xff", where: cA, want: "monitor: bad condition: table name: string \"\\xff\" is not valid UTF-8"},
			{do: "set", table: "T", where: []ovsdb.Condition{{Column: "n", Function: "=", Value: 1}},
				want: `table "T": monitor: bad condition: clause 0 (where column n = 1): unknown function "="`},
			{do: "update3", id: "nope", want: `monitor: bad last transaction id: "nope" is not a UUID`},
			{do: "start", method: 0, want: "monitor: bad monitor request: unknown method Method(0)",
				state: "seqno=0 owed=0 flight=- await=- method=- last=0 |"},
			{do: "set", table: "T", where: cA, want: "1"},
			{do: "start", method: MethodMonitorCondSince, want: since(`"T":[{"columns":["n"],"where":`+whereA+`}],"U":[{"columns":["n"]}]`, ZeroLastID)},
			{do: "reply", id: "nope", want: `monitor: bad last transaction id: "nope" is not a UUID`,
				state: "seqno=0 owed=1 flight=- await=Y method=monitor_cond_since last=0 | T{new:- req:- ack:" + whereA + "}"},
			{do: "reply", id: idL1, want: ""},
			{do: "reply", id: idL1, want: "monitor: no monitor request in flight"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			condRun(t, NewConditions("db"), tt.steps)
		})
	}
}

// A bad selection fails StartMonitor without folding anything.
func TestStartMonitorErrorKeepsState(t *testing.T) {
	c := NewConditions("db")
	if _, err := c.Set("T", cA); err != nil {
		t.Fatal(err)
	}
	before := condDescribe(c)
	_, err := c.StartMonitor(MethodMonitorCondSince, []TableRequest{{Table: "T"}, {Table: "T"}})
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("error %v", err)
	}
	if after := condDescribe(c); after != before {
		t.Errorf("state changed:\n%s\n%s", before, after)
	}
	// An empty database name cannot be composed either.
	if _, err := NewConditions("").StartMonitor(MethodMonitorCond, nil); !errors.Is(err, ErrBadRequest) {
		t.Errorf("empty database: %v", err)
	}
	// Nor can a change for it.
	e := NewConditions("\xff")
	if _, err := e.Set("T", cA); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.ComposeChange(); ok {
		t.Error("change composed for a database named with invalid UTF-8")
	}
}

func TestConditionsZeroValueAndAccessors(t *testing.T) {
	var c Conditions // not created with NewConditions: Set must not panic
	if n, err := c.Set("T", cA); err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
	c2 := NewConditions("OVN_Southbound")
	if c2.Database() != "OVN_Southbound" || c2.Seqno() != 0 || c2.Pending() || c2.InFlight() || c2.LastID() != ZeroLastID {
		t.Error("fresh state")
	}
	if _, ok := c2.Table("T"); ok {
		t.Error("table before Set")
	}
	if _, err := c2.Set("T", cA); err != nil {
		t.Fatal(err)
	}
	tc, ok := c2.Table("T")
	if !ok || string(tc.New) != `[["n","==","a"]]` || tc.Requested != nil || string(tc.Acked) != "[true]" {
		t.Errorf("%+v", tc)
	}
	tc.New[0] = 'X' // a copy
	if tc2, _ := c2.Table("T"); tc2.New[0] != '[' {
		t.Error("Table returned shared bytes")
	}
	if !c2.Pending() {
		t.Error("not pending")
	}
	if _, err := c2.StartMonitor(MethodMonitorCond, nil); err != nil {
		t.Fatal(err)
	}
	if err := c2.MonitorReplied(""); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Set("T", cB); err != nil {
		t.Fatal(err)
	}
	b, ok := c2.ComposeChange()
	if !ok || string(b) != `[["monid","OVN_Southbound"],["monid","OVN_Southbound"],{"T":[{"where":[["n","==","b"]]}]}]` || !c2.InFlight() {
		t.Errorf("%s %v", b, ok)
	}
}

// The expected seqno arithmetic over all tables, as a table of (state, set)
// -> expected, against an independent model of C's formula.
func TestExpectedSeqno(t *testing.T) {
	type setup struct {
		name          string
		seqno, owed   uint64
		inFlight      bool
		tReq, tNew    bool   // table T already has a requested / new condition
		otherReq      bool   // another table has a requested condition
		setSame       bool   // set T to its newest condition (no change)
		ackAt         uint64 // T's acked condition was folded, effective at ackAt
		wantIncrement uint64
	}
	tests := []setup{
		{name: "idle, new condition", wantIncrement: 1},
		{name: "idle, same as acked", setSame: true, wantIncrement: 0},
		{name: "own change in flight, same", tReq: true, inFlight: true, setSame: true, wantIncrement: 1},
		{name: "own change in flight, new", tReq: true, inFlight: true, wantIncrement: 2},
		{name: "other table in flight, new", otherReq: true, inFlight: true, wantIncrement: 2},
		{name: "other table in flight, same as acked", otherReq: true, inFlight: true, setSame: true, wantIncrement: 0},
		{name: "new pending, same again", tNew: true, setSame: true, wantIncrement: 1},
		{name: "new pending and own in flight, same again", tNew: true, tReq: true, inFlight: true, setSame: true, wantIncrement: 2},
		{name: "folded monitor request owed", owed: 1, wantIncrement: 2},
		{name: "folded monitor request owed, unchanged table", owed: 2, setSame: true, wantIncrement: 0},
		{name: "folded monitor request owed, folded table", owed: 2, ackAt: 1, setSame: true, wantIncrement: 1},
		{name: "folded long ago", seqno: 5, ackAt: 3, setSame: true, wantIncrement: 0},
		{name: "large seqno", seqno: 1 << 40, wantIncrement: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConditions("db")
			c.seqno, c.owed, c.inFlight = tt.seqno, tt.owed, tt.inFlight
			tbl := &condTable{ack: condTrueJSON, ackAt: tt.ackAt}
			newest := condTrueJSON
			if tt.tReq {
				tbl.req = []byte(`[["n","==","r"]]`)
				newest = tbl.req
			}
			if tt.tNew {
				tbl.new = []byte(`[["n","==","a"]]`)
				newest = tbl.new
			}
			c.tables["T"] = tbl
			if tt.otherReq {
				c.tables["O"] = &condTable{req: []byte("[false]"), ack: condTrueJSON}
			}
			where := []ovsdb.Condition{{Column: "n", Function: ovsdb.ConditionEqual, Value: "z"}}
			if tt.setSame {
				switch string(newest) {
				case "[true]":
					where = nil
				case `[["n","==","r"]]`:
					where = []ovsdb.Condition{{Column: "n", Function: ovsdb.ConditionEqual, Value: "r"}}
				default:
					where = cA
				}
			}
			got, err := c.Set("T", where)
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.seqno + tt.wantIncrement; got != want {
				t.Errorf("Set returned %d, want %d", got, want)
			}
		})
	}
}
