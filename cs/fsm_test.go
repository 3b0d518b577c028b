package cs

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// The pure state machine's tests: transcripts under testdata/machine, with
// no goroutines and no sockets. Each file starts a fresh machine; every
// command is an input (a connection event, a message, a user command, the
// time) and its output lists, in the order the driver carries them out,
// the V(0) log lines, every message sent (as its full JSON), the session
// actions, the transaction outcomes and the events. Run with -rewrite to
// regenerate the expected output, and review the diff.
//
// Commands (see the files for examples):
//
//	new [lock=L] [leader-only=false] [max-version=N] [db-change-aware=false]
//	    [tables=(T,...)] [columns=(T.c,...)] [cid=UUID] [reject-limit=(burst,interval)]
//	connect [seqno=N] [remote=R]
//	bootstrap [seqno=N] [remote=R] [leader=false] [index=N] [found=true]
//	    [last-id=UUID] [same-connection]
//	                         connect (unless same-connection) and the
//	                         server's replies up to MONITORING (each one
//	                         echoed); input: the monitor reply's table
//	                         updates (default {})
//	recv                     input: one JSON-RPC message as the server sends it
//	disconnect [err=eof|forced]
//	advance d=DURATION       moves the clock the machine is given
//	set-condition table=T    input: the condition clauses (JSON), or null
//	set-lock [name=L]
//	set-leader-only [v=false]
//	transact                 input: the operations (a JSON array)
//	cancel id=N              the caller of transaction N gave up (ctx ended)
//	force-reconnect
//	flag-inconsistency
//	reset-min-index
//	pending                  the requests under the request timeout
//	expire id=N [after=D]    request N reached its deadline
//	status
//
// In inputs, $serverSchema stands for the _Server schema, $labSchema for
// the Lab schema and $labSchemaString for the latter as a JSON string.
func TestMachineTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata/machine", func(t *testing.T, path string) {
		h := &machineHarness{now: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
		datadriven.RunTest(t, path, h.handle)
	})
}

const serverSchema = `{"name":"_Server","version":"1.2.0","tables":{"Database":{"columns":{"name":{"type":"string"},"model":{"type":{"key":{"type":"string","enum":["set",["standalone","clustered","relay"]]}}},"connected":{"type":"boolean"},"leader":{"type":"boolean"},"schema":{"type":{"key":{"type":"string"},"min":0,"max":1}},"cid":{"type":{"key":{"type":"uuid"},"min":0,"max":1}},"sid":{"type":{"key":{"type":"uuid"},"min":0,"max":1}},"index":{"type":{"key":{"type":"integer"},"min":0,"max":1}}},"isRoot":true}}}`

type machineHarness struct {
	m     *machine
	now   time.Time
	seqno uint64
	log   strings.Builder
}

func (h *machineHarness) newMachine(t *testing.T, d *datadriven.TestData) {
	cfg := machineConfig{database: "Lab", leaderOnly: true, maxVersion: 3, dbChangeAware: true}
	if d != nil {
		d.MaybeScanArgs(t, "lock", &cfg.lock)
		d.MaybeScanArgs(t, "leader-only", &cfg.leaderOnly)
		d.MaybeScanArgs(t, "max-version", &cfg.maxVersion)
		d.MaybeScanArgs(t, "db-change-aware", &cfg.dbChangeAware)
		d.MaybeScanArgs(t, "cid", &cfg.clusterID)
		if d.HasArg("tables") || d.HasArg("columns") {
			cfg.selection = map[string][]string{}
			var tables, columns []string
			d.MaybeScanArgs(t, "tables", &tables)
			d.MaybeScanArgs(t, "columns", &columns)
			for _, tb := range tables {
				cfg.selection[tb] = nil
			}
			for _, tc := range columns {
				tb, c, _ := strings.Cut(tc, ".")
				cfg.selection[tb] = append(cfg.selection[tb], c)
			}
		}
		if d.HasArg("reject-limit") {
			var burst int
			var interval string
			d.ScanArgs(t, "reject-limit", &burst, &interval)
			iv, err := time.ParseDuration(interval)
			require.NoError(t, err, d.Pos)
			cfg.rejectLimit = failover.NewLogLimiter(burst, iv)
		}
	}
	cfg.log = funcr.New(func(_, args string) { fmt.Fprintf(&h.log, "log %s\n", args) }, funcr.Options{})
	h.m = newMachine(cfg)
}

func (h *machineHarness) handle(t *testing.T, d *datadriven.TestData) string {
	if d.Cmd == "new" {
		h.newMachine(t, d)
		return ""
	}
	if h.m == nil {
		h.newMachine(t, nil)
	}
	h.log.Reset()
	var o output
	var extra string
	switch d.Cmd {
	case "connect":
		h.seqno++
		seqno, remote := h.seqno, "tcp:127.0.0.1:6641"
		d.MaybeScanArgs(t, "seqno", &seqno)
		d.MaybeScanArgs(t, "remote", &remote)
		h.seqno = seqno
		o = h.m.connect(seqno, remote)
	case "bootstrap":
		return h.bootstrap(t, d)
	case "recv":
		o = h.recv(t, d.Pos, d.Input)
	case "disconnect":
		var why string
		d.MaybeScanArgs(t, "err", &why)
		err := io.EOF
		if why == "forced" {
			err = fmt.Errorf("%s: %w", h.m.remote, jsonrpc.ErrForcedReconnect)
		}
		o = h.m.connectionLost(err)
	case "advance":
		var s string
		d.ScanArgs(t, "d", &s)
		dur, err := time.ParseDuration(s)
		require.NoError(t, err, d.Pos)
		h.now = h.now.Add(dur)
		return fmt.Sprintf("now %s\n", h.now.Format(time.TimeOnly))
	case "set-condition":
		var table string
		d.ScanArgs(t, "table", &table)
		var cond []ovsdb.Condition
		require.NoError(t, json.Unmarshal([]byte(d.Input), &cond), d.Pos)
		seq, out, err := h.m.setCondition(table, cond)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		o, extra = out, fmt.Sprintf("condition seqno %d\n", seq)
	case "set-lock":
		var name string
		d.MaybeScanArgs(t, "name", &name)
		o = h.m.setLock(name)
	case "set-leader-only":
		v := true
		d.MaybeScanArgs(t, "v", &v)
		o = h.m.setLeaderOnly(h.now, v)
	case "transact":
		var ops []json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(d.Input), &ops), d.Pos)
		id, out, err := h.m.transact(ops)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		o, extra = out, fmt.Sprintf("transaction %d\n", id)
	case "cancel":
		var id int64
		d.ScanArgs(t, "id", &id)
		h.m.forgetTxn(id)
	case "force-reconnect":
		o = h.m.forceReconnect(ErrForced)
	case "flag-inconsistency":
		h.m.flagInconsistency(&o, fmt.Errorf("flagged by the user"))
	case "reset-min-index":
		h.m.checker.ResetMinIndex()
	case "pending":
		return fmt.Sprintf("pending %v\n", h.m.pendingRequests(nil))
	case "expire":
		var id int64
		after := "30s"
		d.ScanArgs(t, "id", &id)
		d.MaybeScanArgs(t, "after", &after)
		dur, err := time.ParseDuration(after)
		require.NoError(t, err, d.Pos)
		o = h.m.requestExpired(id, dur)
	case "status":
		return h.status()
	default:
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	}
	return h.log.String() + extra + describeOutput(o)
}

func (h *machineHarness) recv(t *testing.T, pos, input string) output {
	var msg jsonrpc.Message
	require.NoError(t, json.Unmarshal([]byte(expandSchemas(input)), &msg), pos)
	return h.m.message(h.now, &msg)
}

// bootstrap connects and answers the machine's requests as a leader (by
// default) would, up to the monitor reply, echoing each input.
func (h *machineHarness) bootstrap(t *testing.T, d *datadriven.TestData) string {
	h.seqno++
	seqno, remote := h.seqno, "tcp:127.0.0.1:6641"
	isLeader, index, found, lastID := true, 5, false, "bbbbbbbb-0000-0000-0000-000000000001"
	d.MaybeScanArgs(t, "seqno", &seqno)
	d.MaybeScanArgs(t, "remote", &remote)
	d.MaybeScanArgs(t, "leader", &isLeader)
	d.MaybeScanArgs(t, "index", &index)
	d.MaybeScanArgs(t, "found", &found)
	d.MaybeScanArgs(t, "last-id", &lastID)
	h.seqno = seqno
	updates := strings.TrimSpace(d.Input)
	if updates == "" {
		updates = "{}"
	}
	var b strings.Builder
	step := func(what string, o output) {
		fmt.Fprintf(&b, "> %s\n%s%s", what, h.log.String(), describeOutput(o))
		h.log.Reset()
	}
	if !d.HasArg("same-connection") {
		step(fmt.Sprintf("connect seqno=%d remote=%s", seqno, remote), h.m.connect(seqno, remote))
	}
	reply := func(result string) {
		msg := fmt.Sprintf(`{"id":%d,"result":%s,"error":null}`, h.m.requestID, result)
		step("recv "+msg, h.recv(t, d.Pos, msg))
	}
	reply("$serverSchema")
	reply(fmt.Sprintf(`{"Database":{"aaaaaaaa-0000-0000-0000-000000000001":{"initial":{"name":"Lab","model":"clustered","connected":true,"leader":%t,"schema":$labSchemaString,"cid":["uuid","cccccccc-0000-0000-0000-000000000001"],"index":%d}}}}`, isLeader, index))
	switch h.m.state {
	case DataMonitorCondSinceRequested:
		reply(fmt.Sprintf(`[%t,%q,%s]`, found, lastID, updates))
	case DataMonitorCondRequested, DataMonitorRequested:
		reply(updates)
	}
	return b.String()
}

// expandSchemas replaces the schema placeholders of an input.
func expandSchemas(s string) string {
	lab := string(testserver.LabSchema())
	labCompact, _ := json.Marshal(json.RawMessage(lab))
	labString, _ := json.Marshal(string(labCompact))
	return strings.NewReplacer(
		"$serverSchema", serverSchema,
		"$labSchemaString", string(labString),
		"$labSchema", string(labCompact),
	).Replace(s)
}

func (h *machineHarness) status() string {
	m := h.m
	var b strings.Builder
	fmt.Fprintf(&b, "state %s connected=%t leaving=%t synced=%t\n", m.state, m.connected, m.leaving, m.synced)
	fmt.Fprintf(&b, "last error: %v\n", m.lastErr)
	fmt.Fprintf(&b, "last id %s, condition seqno %d, min index %d\n", m.conds.LastID(), m.conds.Seqno(), m.checker.MinIndex())
	if m.cfg.lock != "" {
		fmt.Fprintf(&b, "lock %q held=%t contended=%t\n", m.cfg.lock, m.hasLock, m.lockContended)
	}
	if len(m.txns) > 0 {
		ids := make([]int64, 0, len(m.txns))
		for id := range m.txns {
			ids = append(ids, id)
		}
		fmt.Fprintf(&b, "transactions in flight %v\n", slices.Sorted(slices.Values(ids)))
	}
	if m.replica != nil {
		fmt.Fprintf(&b, "replica Item rows %d\n", m.replica.Len("Item"))
	}
	return b.String()
}

// describeOutput renders an output in the order the driver carries it
// out: sends, actions, transaction outcomes, events.
func describeOutput(o output) string {
	var b strings.Builder
	for _, msg := range o.sends {
		js, err := msg.MarshalJSON()
		if err != nil {
			js = []byte("invalid: " + err.Error())
		}
		fmt.Fprintf(&b, "send %s\n", js)
	}
	for _, a := range o.actions {
		name := map[actionKind]string{actRetry: "retry", actDisconnect: "disconnect", actFatal: "fatal"}[a.kind]
		fmt.Fprintf(&b, "action %s fromMonitoring=%t: %v\n", name, a.fromMonitoring, a.reason)
	}
	for _, tx := range o.txns {
		if tx.err != nil {
			fmt.Fprintf(&b, "outcome %d error: %v\n", tx.id, tx.err)
		} else {
			fmt.Fprintf(&b, "outcome %d result %s\n", tx.id, tx.result)
		}
	}
	for _, ev := range o.events {
		b.WriteString(describeEvent(ev))
	}
	return b.String()
}

func describeEvent(ev Event) string {
	switch e := ev.(type) {
	case StateChange:
		return fmt.Sprintf("event state %s -> %s (%s)\n", e.From, e.To, e.Remote)
	case Reconnect:
		return fmt.Sprintf("event reconnect %s wasMonitoring=%t: %v\n", e.Remote, e.WasMonitoring, e.Reason)
	case Locked:
		return fmt.Sprintf("event locked %q\n", e.Lock)
	case LockLost:
		return fmt.Sprintf("event lock lost %q\n", e.Lock)
	case TxnReply:
		if e.Err != nil {
			return fmt.Sprintf("event txn reply %d error: %v\n", e.ID, e.Err)
		}
		return fmt.Sprintf("event txn reply %d result %s\n", e.ID, e.Result)
	case Update:
		var b strings.Builder
		fmt.Fprintf(&b, "event update version=%d monitorReply=%t clear=%t found=%t lastID=%q\n",
			e.Version, e.MonitorReply, e.Clear, e.Found, e.LastID)
		for c := range e.Changes.All() {
			fmt.Fprintf(&b, "  %s %s %s", c.Op, c.Table, c.UUID)
			if c.Old.Valid() {
				fmt.Fprintf(&b, " old=%s", c.Old)
			}
			if c.New.Valid() {
				fmt.Fprintf(&b, " new=%s", c.New)
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	return fmt.Sprintf("event %T %+v\n", ev, ev)
}

func TestStateNames(t *testing.T) {
	want := []string{"SERVER_SCHEMA_REQUESTED", "SERVER_MONITOR_REQUESTED", "DATA_SCHEMA_REQUESTED",
		"DATA_MONITOR_COND_SINCE_REQUESTED", "DATA_MONITOR_COND_REQUESTED", "DATA_MONITOR_REQUESTED", "MONITORING", "RETRY"}
	for i, w := range want {
		require.Equal(t, w, State(i+1).String())
	}
	require.Equal(t, "State(99)", State(99).String())
}

func TestOVSPolicy(t *testing.T) {
	var s fakeSession
	p := newFailoverPolicy(failover.Config{Mode: failover.OVS}, 3, logr.Discard())
	p.retry(&s, 1, "a", true, leader.ErrNotLeader)
	p.retry(&s, 2, "b", false, leader.ErrNotLeader)
	p.dropped(&s, 3, "c", true, io.EOF)
	require.Equal(t, "reset,force,force", strings.Join(s.calls, ","), "OVS calls")
	// The election-aware policy also reconnects at once after a drop.
	s.calls = nil
	p = newFailoverPolicy(failover.Config{}, 3, logr.Discard())
	p.retry(&s, 1, "a", true, leader.ErrNotLeader)
	p.retry(&s, 2, "b", false, leader.ErrNotLeader)
	p.dropped(&s, 3, "c", true, io.EOF)
	require.Equal(t, "reset,force,force,reset,now", strings.Join(s.calls, ","), "election-aware calls")
}

type fakeSession struct{ calls []string }

func (s *fakeSession) ResetBackoff()   { s.calls = append(s.calls, "reset") }
func (s *fakeSession) ForceReconnect() { s.calls = append(s.calls, "force") }
func (s *fakeSession) ConnectNow()     { s.calls = append(s.calls, "now") }
