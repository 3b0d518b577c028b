package cs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// Pure tests of the state machine: no goroutines, no sockets.

const serverSchema = `{"name":"_Server","version":"1.2.0","tables":{"Database":{"columns":{
"name":{"type":"string"},
"model":{"type":{"key":{"type":"string","enum":["set",["standalone","clustered","relay"]]}}},
"connected":{"type":"boolean"},"leader":{"type":"boolean"},
"schema":{"type":{"key":{"type":"string"},"min":0,"max":1}},
"cid":{"type":{"key":{"type":"uuid"},"min":0,"max":1}},
"sid":{"type":{"key":{"type":"uuid"},"min":0,"max":1}},
"index":{"type":{"key":{"type":"integer"},"min":0,"max":1}}},"isRoot":true}}}`

const rowUUID = "aaaaaaaa-0000-0000-0000-000000000001"

func serverRow(leaderFlag bool, index int) string {
	schema, _ := json.Marshal(string(testserver.LabSchema()))
	return fmt.Sprintf(`{"Database":{%q:{"initial":{"name":"Lab","model":"clustered","connected":true,"leader":%t,"schema":%s,"cid":["uuid","cccccccc-0000-0000-0000-000000000001"],"index":%d}}}}`,
		rowUUID, leaderFlag, schema, index)
}

type fsmTest struct {
	t *testing.T
	m *machine
}

func newFSM(t *testing.T, mod func(*machineConfig)) *fsmTest {
	cfg := machineConfig{database: "Lab", leaderOnly: true, maxVersion: 3, dbChangeAware: true, log: logr.Discard()}
	if mod != nil {
		mod(&cfg)
	}
	return &fsmTest{t: t, m: newMachine(cfg)}
}

// sent returns "method params" of each message sent.
func sent(o output) []string {
	var out []string
	for _, m := range o.sends {
		out = append(out, m.Method+" "+string(m.Params))
	}
	return out
}

func (f *fsmTest) reply(result string) output {
	f.t.Helper()
	return f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindReply, ID: idOf(f.m.requestID), Result: json.RawMessage(result)})
}

func (f *fsmTest) errorReply(errValue string) output {
	f.t.Helper()
	return f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindError, ID: idOf(f.m.requestID), Error: json.RawMessage(errValue)})
}

func idOf(id int64) json.RawMessage { return json.RawMessage(fmt.Sprint(id)) }

func (f *fsmTest) expectState(s State) {
	f.t.Helper()
	if f.m.state != s {
		f.t.Fatalf("state %s, want %s", f.m.state, s)
	}
}

func expectSent(t *testing.T, o output, prefixes ...string) {
	t.Helper()
	got := sent(o)
	if len(got) != len(prefixes) {
		t.Fatalf("sent %q, want %q", got, prefixes)
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(got[i], p) {
			t.Fatalf("sent[%d] = %q, want prefix %q", i, got[i], p)
		}
	}
}

// bootstrap takes a fresh machine to MONITORING through _Server.
func (f *fsmTest) bootstrap() {
	f.t.Helper()
	o := f.m.connect(1, "tcp:127.0.0.1:6641")
	expectSent(f.t, o, `get_schema ["_Server"]`)
	f.expectState(ServerSchemaRequested)
	o = f.reply(serverSchema)
	expectSent(f.t, o, `monitor_cond ["_Server",["monid","_Server"]`)
	f.expectState(ServerMonitorRequested)
	o = f.reply(serverRow(true, 5))
	expectSent(f.t, o, `monitor_cond_since ["Lab",["monid","Lab"]`, `set_db_change_aware [true]`)
	f.expectState(DataMonitorCondSinceRequested)
	o = f.reply(`[false,"bbbbbbbb-0000-0000-0000-000000000001",{}]`)
	f.expectState(Monitoring)
	if len(o.events) == 0 {
		f.t.Fatal("no events")
	}
}

func TestStateNames(t *testing.T) {
	want := []string{"SERVER_SCHEMA_REQUESTED", "SERVER_MONITOR_REQUESTED", "DATA_SCHEMA_REQUESTED",
		"DATA_MONITOR_COND_SINCE_REQUESTED", "DATA_MONITOR_COND_REQUESTED", "DATA_MONITOR_REQUESTED", "MONITORING", "RETRY"}
	for i, w := range want {
		if got := State(i + 1).String(); got != w {
			t.Errorf("State(%d) = %q, want %q", i+1, got, w)
		}
	}
	if State(99).String() != "State(99)" {
		t.Error(State(99).String())
	}
}

func TestMachineBootstrapThroughServer(t *testing.T) {
	f := newFSM(t, nil)
	f.bootstrap()
	if f.m.conds.LastID() != "bbbbbbbb-0000-0000-0000-000000000001" {
		t.Fatalf("last id %s", f.m.conds.LastID())
	}
	if f.m.checker.MinIndex() != 5 {
		t.Fatalf("min index %d", f.m.checker.MinIndex())
	}
}

func TestMachineNoDBChangeAware(t *testing.T) {
	f := newFSM(t, func(c *machineConfig) { c.dbChangeAware = false })
	f.m.connect(1, "r")
	f.reply(serverSchema)
	o := f.reply(serverRow(true, 5))
	expectSent(t, o, `monitor_cond_since`)
}

func TestMachineFallsBackToGetSchemaWithoutServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		step func(f *fsmTest) output
	}{
		{"get_schema error", func(f *fsmTest) output { return f.errorReply(`{"error":"unknown database"}`) }},
		{"monitor error", func(f *fsmTest) output {
			f.reply(serverSchema)
			return f.errorReply(`{"error":"unknown method"}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFSM(t, nil)
			f.m.connect(1, "r")
			o := tc.step(f)
			expectSent(t, o, `get_schema ["Lab"]`)
			f.expectState(DataSchemaRequested)
			o = f.reply(string(testserver.LabSchema()))
			// Never monitor_cond_since on this path.
			expectSent(t, o, `monitor_cond ["Lab"`)
			f.expectState(DataMonitorCondRequested)
			f.reply(`{}`)
			f.expectState(Monitoring)
		})
	}
}

func TestMachineMethodFallback(t *testing.T) {
	f := newFSM(t, nil)
	f.m.connect(1, "r")
	f.reply(serverSchema)
	f.reply(serverRow(true, 1))
	f.expectState(DataMonitorCondSinceRequested)
	o := f.errorReply(`{"error":"unknown method"}`)
	expectSent(t, o, `monitor_cond [`)
	f.expectState(DataMonitorCondRequested)
	o = f.errorReply(`{"error":"unknown method"}`)
	expectSent(t, o, `monitor [`)
	f.expectState(DataMonitorRequested)
	// An error to plain monitor is the guard: retry.
	o = f.errorReply(`{"error":"unknown method"}`)
	f.expectState(Retry)
	if len(o.actions) != 1 || o.actions[0].kind != actRetry || o.actions[0].fromMonitoring {
		t.Fatalf("actions %+v", o.actions)
	}
}

func TestMachineMaxVersionCapsFirstMethod(t *testing.T) {
	for v, want := range map[int]string{1: "monitor [", 2: "monitor_cond [", 3: "monitor_cond_since ["} {
		f := newFSM(t, func(c *machineConfig) { c.maxVersion = v; c.dbChangeAware = false })
		f.m.connect(1, "r")
		f.reply(serverSchema)
		expectSent(t, f.reply(serverRow(true, 1)), want)
	}
}

func TestMachineRetryFromMonitoringResetsBackoffBeforeStateChange(t *testing.T) {
	f := newFSM(t, nil)
	f.bootstrap()
	// The leader steps down.
	o := f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindNotification, Method: "update2",
		Params: json.RawMessage(`[["monid","_Server"],{"Database":{"` + rowUUID + `":{"modify":{"leader":false}}}}]`)})
	f.expectState(Retry)
	if len(o.actions) != 1 || !o.actions[0].fromMonitoring || !errors.Is(o.actions[0].reason, leader.ErrNotLeader) {
		t.Fatalf("actions %+v", o.actions)
	}
	// More messages from the doomed connection force nothing more.
	o = f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindNotification, Method: "update2",
		Params: json.RawMessage(`[["monid","_Server"],{"Database":{"` + rowUUID + `":{"modify":{"index":9}}}}]`)})
	if len(o.actions) != 0 {
		t.Fatalf("second retry %+v", o.actions)
	}
}

func TestMachineReconnectEventNamesTheRejection(t *testing.T) {
	f := newFSM(t, nil)
	f.bootstrap()
	f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindNotification, Method: "update2",
		Params: json.RawMessage(`[["monid","_Server"],{"Database":{"` + rowUUID + `":{"modify":{"leader":false}}}}]`)})
	f.expectState(Retry)
	// The session reports the drop the machine forced.
	o := f.m.connectionLost(fmt.Errorf("r: %w", jsonrpc.ErrForcedReconnect))
	var rc *Reconnect
	for _, ev := range o.events {
		if r, ok := ev.(Reconnect); ok {
			rc = &r
		}
	}
	if rc == nil || !errors.Is(rc.Reason, leader.ErrNotLeader) {
		t.Fatalf("reconnect event %+v, want the not-leader rejection", rc)
	}
	// A drop the machine did not force keeps the transport's reason.
	f.m.connect(2, "r2")
	o = f.m.connectionLost(io.EOF)
	for _, ev := range o.events {
		if r, ok := ev.(Reconnect); ok && !errors.Is(r.Reason, io.EOF) {
			t.Fatalf("reconnect reason %v, want EOF", r.Reason)
		}
	}
}

func TestMachineRejectionOutsideMonitoringKeepsBackoff(t *testing.T) {
	f := newFSM(t, nil)
	f.m.connect(1, "r")
	f.reply(serverSchema)
	o := f.reply(serverRow(false, 1))
	f.expectState(Retry)
	if len(o.actions) != 1 || o.actions[0].fromMonitoring {
		t.Fatalf("actions %+v", o.actions)
	}
}

func TestMachineStaleServerRejected(t *testing.T) {
	f := newFSM(t, nil)
	f.bootstrap()
	f.m.connectionLost(errors.New("EOF"))
	f.m.connect(3, "r2")
	f.reply(serverSchema)
	o := f.reply(serverRow(true, 4))
	if len(o.actions) != 1 || !errors.Is(o.actions[0].reason, leader.ErrStale) {
		t.Fatalf("actions %+v", o.actions)
	}
}

func TestMachineUnexpectedErrorInDataSchemaRequestedRetries(t *testing.T) {
	f := newFSM(t, nil)
	f.m.connect(1, "r")
	f.errorReply(`{"error":"x"}`)
	f.expectState(DataSchemaRequested)
	o := f.errorReply(`{"error":"unknown database"}`)
	f.expectState(Retry)
	if len(o.actions) != 1 || !errors.Is(o.actions[0].reason, ErrServerError) {
		t.Fatalf("actions %+v", o.actions)
	}
}

func TestMachineMonitorCanceledRestartsOnSameConnection(t *testing.T) {
	f := newFSM(t, nil)
	f.bootstrap()
	id, _, err := f.m.transact([]json.RawMessage{json.RawMessage(`{"op":"comment","comment":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	o := f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindNotification, Method: "monitor_canceled", Params: json.RawMessage(`[["monid", "Lab"]]`)})
	expectSent(t, o, `monitor_cancel [["monid","_Server"]]`, `get_schema ["_Server"]`)
	f.expectState(ServerSchemaRequested)
	if len(o.actions) != 0 || len(o.txns) != 0 || !f.m.isTxn(id) {
		t.Fatalf("restart touched the connection or the transactions: %+v", o)
	}
	for _, e := range o.events {
		if _, ok := e.(Reconnect); ok {
			t.Fatal("Reconnect event")
		}
	}
}

func TestMachineConnectionLostFailsTransactionsAndResendsLock(t *testing.T) {
	f := newFSM(t, func(c *machineConfig) { c.lock = "L" })
	o := f.m.connect(1, "r")
	expectSent(t, o, `get_schema`, `lock ["L"]`)
	if _, _, err := f.m.transact(nil); !errors.Is(err, ErrNotMonitoring) {
		t.Fatalf("err %v", err)
	}
	f.reply(serverSchema)
	f.reply(serverRow(true, 1))
	f.reply(`[false,"bbbbbbbb-0000-0000-0000-000000000001",{}]`)
	if _, _, err := f.m.transact(nil); !errors.Is(err, ErrNotLocked) {
		t.Fatalf("err %v", err)
	}
	if o = f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindReply, ID: idOf(f.m.lockReqID), Result: json.RawMessage(`{"locked":false}`)}); len(o.events) != 0 {
		t.Fatalf("events %+v", o.events)
	}
	if f.m.hasLock || !f.m.lockContended {
		t.Fatal("lock state after locked:false")
	}
	o = f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindNotification, Method: "locked", Params: json.RawMessage(`["L"]`)})
	if len(o.events) != 1 || !f.m.hasLock {
		t.Fatalf("locked: %+v", o.events)
	}
	id, o, err := f.m.transact([]json.RawMessage{json.RawMessage(`{"op":"comment","comment":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	expectSent(t, o, `transact ["Lab",{"op":"comment","comment":"x"},{"lock":"L","op":"assert"}]`)
	o = f.m.connectionLost(errors.New("EOF"))
	if len(o.txns) != 1 || o.txns[0].id != id || !errors.Is(o.txns[0].err, ErrReconnected) ||
		!errors.Is(o.txns[0].err, ErrMaybeCommitted) || errors.Is(o.txns[0].err, ErrTryAgain) {
		t.Fatalf("txns %+v", o.txns)
	}
	o = f.m.connect(3, "r2")
	expectSent(t, o, `get_schema`, `lock ["L"]`)
	if f.m.hasLock {
		t.Fatal("lock kept across connections")
	}
}

func TestMachineTxnErrorsCanceledAndUnknownDatabase(t *testing.T) {
	f := newFSM(t, nil)
	f.bootstrap()
	// ovsdb-server 3.1 sends the bare string; the object form is accepted
	// too. Either may have committed.
	for _, v := range []string{`"canceled"`, `{"error":"canceled"}`} {
		id, _, _ := f.m.transact(nil)
		o := f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindError, ID: idOf(id), Error: json.RawMessage(v)})
		if len(o.txns) != 1 || !errors.Is(o.txns[0].err, ErrCanceled) || !errors.Is(o.txns[0].err, ErrMaybeCommitted) ||
			errors.Is(o.txns[0].err, ErrTryAgain) {
			t.Fatalf("canceled %s: %+v", v, o.txns)
		}
	}
	id, _, _ := f.m.transact(nil)
	o := f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindReply, ID: idOf(id), Result: json.RawMessage(`[{"error":"unknown database","details":"x"}]`)})
	f.expectState(Retry)
	if f.m.conds.LastID() != "00000000-0000-0000-0000-000000000000" || len(o.actions) != 1 {
		t.Fatalf("unknown database: last id %s, actions %+v", f.m.conds.LastID(), o.actions)
	}
}

func TestMachineConditionChangeOnlyWhileMonitoring(t *testing.T) {
	f := newFSM(t, nil)
	seq, o, err := f.m.setCondition("Item", []ovsdb.Condition{{Column: "n", Function: ovsdb.ConditionEqual, Value: 1}})
	if err != nil || seq != 1 || len(o.sends) != 0 {
		t.Fatalf("before connecting: %d %v %v", seq, err, sent(o))
	}
	f.bootstrap()
	if f.m.conds.Seqno() != 1 {
		t.Fatalf("folded condition not counted: %d", f.m.conds.Seqno())
	}
	seq, o, _ = f.m.setCondition("Item", nil)
	expectSent(t, o, `monitor_cond_change [["monid","Lab"],["monid","Lab"],{"Item":[{"where":[true]}]}]`)
	if seq != 2 {
		t.Fatalf("seq %d", seq)
	}
	// A second change waits for the first reply.
	seq, o, _ = f.m.setCondition("Item", []ovsdb.Condition{})
	if len(o.sends) != 0 || seq != 3 {
		t.Fatalf("second change: %d %v", seq, sent(o))
	}
	o = f.reply(`{}`)
	expectSent(t, o, `monitor_cond_change`)
	f.reply(`{}`)
	if f.m.conds.Seqno() != 3 {
		t.Fatalf("seqno %d", f.m.conds.Seqno())
	}
}

func TestMachineSetLeaderOnlyRechecks(t *testing.T) {
	f := newFSM(t, func(c *machineConfig) { c.leaderOnly = false })
	f.m.connect(1, "r")
	f.reply(serverSchema)
	f.reply(serverRow(false, 1))
	f.reply(`[false,"bbbbbbbb-0000-0000-0000-000000000001",{}]`)
	f.expectState(Monitoring)
	o := f.m.setLeaderOnly(true)
	f.expectState(Retry)
	if len(o.actions) != 1 || !o.actions[0].fromMonitoring {
		t.Fatalf("actions %+v", o.actions)
	}
}

func TestMachineMalformedUpdateDisconnectsForAFullResync(t *testing.T) {
	f := newFSM(t, nil)
	f.bootstrap()
	o := f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindNotification, Method: "update3", Params: json.RawMessage(`[["monid","Lab"],"bbbbbbbb-0000-0000-0000-000000000002","oops"]`)})
	f.expectState(Retry)
	if len(o.actions) != 1 || o.actions[0].kind != actDisconnect || !errors.Is(o.actions[0].reason, ErrMalformed) {
		t.Fatalf("actions %+v", o.actions)
	}
	// The bad update's changes are lost: the last id is forgotten, so the
	// next monitor reply is a full resync (Clear), never a resume past it.
	if f.m.conds.LastID() != monitor.ZeroLastID {
		t.Fatalf("last id %s", f.m.conds.LastID())
	}
	// Nothing more from the connection is used.
	o = f.m.message(&jsonrpc.Message{Kind: jsonrpc.KindNotification, Method: "update3", Params: json.RawMessage(`[["monid","Lab"],"bbbbbbbb-0000-0000-0000-000000000003",{}]`)})
	if len(o.events) != 0 || len(o.actions) != 0 || f.m.conds.LastID() != monitor.ZeroLastID {
		t.Fatalf("after leaving: %+v, last id %s", o, f.m.conds.LastID())
	}
}

func TestMachineConditionOfUnknownTableIsAConfigError(t *testing.T) {
	f := newFSM(t, nil)
	if _, _, err := f.m.setCondition("Itme", []ovsdb.Condition{}); err != nil {
		t.Fatal(err)
	}
	f.m.connect(1, "r")
	f.reply(serverSchema)
	o := f.reply(serverRow(true, 1))
	if len(sent(o)) != 0 {
		t.Fatalf("sent %q", sent(o))
	}
	if len(o.actions) != 1 || o.actions[0].kind != actFatal || !errors.Is(o.actions[0].reason, ErrConfig) ||
		!strings.Contains(o.actions[0].reason.Error(), `did you mean "Item"`) {
		t.Fatalf("actions %+v", o.actions)
	}
}

func TestOVSPolicy(t *testing.T) {
	var s fakeSession
	p := newFailoverPolicy(failover.Config{Mode: failover.OVS}, 3, logr.Discard())
	p.retry(&s, 1, "a", true, leader.ErrNotLeader)
	p.retry(&s, 2, "b", false, leader.ErrNotLeader)
	p.dropped(&s, 3, "c", true, io.EOF)
	if got := strings.Join(s.calls, ","); got != "reset,force,force" {
		t.Fatalf("OVS calls %s", got)
	}
	// The election-aware policy also reconnects at once after a drop.
	s.calls = nil
	p = newFailoverPolicy(failover.Config{}, 3, logr.Discard())
	p.retry(&s, 1, "a", true, leader.ErrNotLeader)
	p.retry(&s, 2, "b", false, leader.ErrNotLeader)
	p.dropped(&s, 3, "c", true, io.EOF)
	if got := strings.Join(s.calls, ","); got != "reset,force,force,reset,now" {
		t.Fatalf("election-aware calls %s", got)
	}
}

type fakeSession struct{ calls []string }

func (s *fakeSession) ResetBackoff()   { s.calls = append(s.calls, "reset") }
func (s *fakeSession) ForceReconnect() { s.calls = append(s.calls, "force") }
func (s *fakeSession) ConnectNow()     { s.calls = append(s.calls, "now") }
