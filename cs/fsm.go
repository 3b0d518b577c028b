package cs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// State is a state of the client-sync state machine (OVS OVSDB_CS_STATES in
// lib/ovsdb-cs.c). OVS's ERROR state is unreachable and not ported.
type State uint8

// The states, in the order a connection goes through them.
const (
	ServerSchemaRequested State = iota + 1
	ServerMonitorRequested
	DataSchemaRequested
	DataMonitorCondSinceRequested
	DataMonitorCondRequested
	DataMonitorRequested
	Monitoring
	Retry
)

var stateNames = [...]string{
	ServerSchemaRequested:         "SERVER_SCHEMA_REQUESTED",
	ServerMonitorRequested:        "SERVER_MONITOR_REQUESTED",
	DataSchemaRequested:           "DATA_SCHEMA_REQUESTED",
	DataMonitorCondSinceRequested: "DATA_MONITOR_COND_SINCE_REQUESTED",
	DataMonitorCondRequested:      "DATA_MONITOR_COND_REQUESTED",
	DataMonitorRequested:          "DATA_MONITOR_REQUESTED",
	Monitoring:                    "MONITORING",
	Retry:                         "RETRY",
}

// String returns the OVS name of the state, such as "MONITORING".
func (s State) String() string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// actionKind is what the machine asks of the session.
type actionKind uint8

const (
	// actRetry: the server is unusable (or the data inconsistent, or the
	// user asked): force a reconnect. fromMonitoring tells the retry policy
	// whether the state was MONITORING when it was decided (OVS resets the
	// backoff only then).
	actRetry actionKind = iota + 1
	// actDisconnect: the server sent something unusable (malformed): drop
	// the connection, keeping the backoff.
	actDisconnect
	// actFatal: the configuration cannot work with the server's schema
	// (ErrConfig): stop the client; Run returns the reason.
	actFatal
)

type action struct {
	kind           actionKind
	fromMonitoring bool
	reason         error
}

// txnOutcome is the end of a transaction the machine tracked.
type txnOutcome struct {
	id     int64
	result json.RawMessage
	err    error
}

// output is what one step of the machine produced, to be carried out by
// the driver in this order: sends, then actions; events are queued for the
// user; txns resolve waiting Transact calls.
type output struct {
	// streams are the replies to stream through a decoder as they arrive
	// (registered on the connection before sends go out).
	streams []resultStream
	sends   []*jsonrpc.Message
	actions []action
	events  []Event
	txns    []txnOutcome
}

func (o *output) send(m *jsonrpc.Message) { o.sends = append(o.sends, m) }

// resultStream asks for the result of the reply to request id to be parsed
// by dec while it arrives (jsonrpc.Conn.ExpectResult): a monitor reply of a
// large database is then never held whole.
type resultStream struct {
	id  int64
	dec *monitor.ReplyDecoder
}

// machineConfig is the fixed part of the machine's configuration.
type machineConfig struct {
	database      string
	clusterID     string
	leaderOnly    bool
	maxVersion    int
	dbChangeAware bool
	resyncOrder   bool                // monitor.Schema.KeepingResyncOrder
	selection     map[string][]string // nil: every table and column
	lock          string
	log           logr.Logger
	// rejectLimit rate-limits the V(0) "server rejected" lines (nil: no
	// limit); the lines it holds back are logged at V(1).
	rejectLimit *failover.LogLimiter
}

// machine is the pure client-sync state machine: no goroutines, no I/O, no
// clock (the inputs that may need the time are given it). Its inputs are
// connection events, messages and user commands; its outputs (type output)
// are messages to send, actions on the session, events for the user, and
// transaction outcomes. It is not safe for concurrent use: one goroutine
// (the Client's Run) owns it.
type machine struct {
	cfg machineConfig
	log logr.Logger

	state     State
	connected bool
	seqno     uint64
	remote    string
	lastErr   error

	// leaving is set once the machine (or the user) decided to leave the
	// current connection: from then on nothing that connection sends
	// reaches the replica, the last transaction id or the events, as OVS
	// gets by closing the connection at once (jsonrpc_session_force_reconnect
	// in ovsdb_cs_retry). leaveReason is why; leftMonitoring whether the
	// state was MONITORING when it was decided.
	leaving        bool
	leaveReason    error
	leftMonitoring bool
	// fatal is a terminal configuration error (ErrConfig).
	fatal error

	nextID    int64
	requestID int64 // the one outstanding FSM or cond-change request; 0: none

	// _Server side.
	serverMonID          []byte
	serverMonitorVersion int
	serverRows           *leader.Replica
	checker              leader.Checker
	// serverLeader is the leader flag of the server's _Server row, as
	// last checked (false until a check passed on this connection).
	serverLeader bool

	// Data side.
	dataMonID          []byte
	dataMonitorVersion int
	method             monitor.Method
	schemaText         string
	schemaDB           *ovsdb.DatabaseSchema
	schema             *monitor.Schema
	tables             []monitor.TableRequest
	replica            *monitor.Replica
	conds              *monitor.Conditions
	synced             bool // a monitor reply was applied since the start
	// condColumns are the columns each table's condition names, checked
	// against the schema once it is known.
	condColumns map[string][]string

	// Locks.
	lockReqID     int64
	hasLock       bool
	lockContended bool

	// Transactions in flight, by request id.
	txns map[int64]struct{}
	// Requests whose replies are not tracked (monitor_cancel,
	// set_db_change_aware, unlock), to keep the log quiet.
	untracked map[int64]string
}

func newMachine(cfg machineConfig) *machine {
	if cfg.maxVersion == 0 {
		cfg.maxVersion = 3
	}
	dataMonID, _ := json.Marshal([]string{"monid", cfg.database})
	return &machine{
		cfg:         cfg,
		log:         cfg.log,
		state:       ServerSchemaRequested,
		serverMonID: leader.MonitorID(),
		serverRows:  leader.NewReplica(),
		dataMonID:   dataMonID,
		conds:       monitor.NewConditions(cfg.database),
		txns:        map[int64]struct{}{},
		untracked:   map[int64]string{},
	}
}

func (m *machine) setState(o *output, s State) {
	if m.state == s {
		return
	}
	from := m.state
	m.state = s
	m.log.V(1).Info("state change", "from", from, "to", s, "remote", m.remote)
	o.events = append(o.events, StateChange{From: from, To: s, Remote: m.remote})
}

func (m *machine) request(o *output, method string, params any) int64 {
	m.nextID++
	id := m.nextID
	var p json.RawMessage
	switch v := params.(type) {
	case []byte:
		p = v
	case json.RawMessage:
		p = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("cs: cannot encode params of %s: %v", method, err))
		}
		p = b
	}
	o.send(&jsonrpc.Message{Kind: jsonrpc.KindRequest, Method: method, Params: p, ID: json.RawMessage(strconv.FormatInt(id, 10))})
	return id
}

// retry is OVS's ovsdb_cs_retry: force the reconnect first (deciding on the
// backoff with the state as it is), then enter RETRY.
func (m *machine) retry(o *output, reason error) { m.leave(o, actRetry, reason) }

// disconnect drops a connection that sent unusable input, keeping the
// backoff (as a transport error does in OVS).
func (m *machine) disconnect(o *output, reason error) {
	if m.state != Retry && !m.leaving {
		m.log.Info("dropping connection: server sent unusable data", "remote", m.remote, "err", reason)
	}
	m.leave(o, actDisconnect, reason)
}

// leave decides to leave the current connection: the session is asked to
// drop it (kind), nothing more from it is used, and the state is RETRY.
func (m *machine) leave(o *output, kind actionKind, reason error) {
	if m.state == Retry || m.leaving {
		// The reconnect is already forced; messages still queued from
		// this connection must not force another one (that would abandon
		// the next attempt and spend a backoff-free try).
		m.log.V(1).Info("already retrying", "err", reason)
		return
	}
	m.lastErr = reason
	m.markLeaving(reason)
	o.actions = append(o.actions, action{kind: kind, fromMonitoring: m.state == Monitoring, reason: reason})
	m.setState(o, Retry)
}

// markLeaving records the decision to leave the live connection, if any.
func (m *machine) markLeaving(reason error) {
	if !m.connected || m.leaving {
		return
	}
	m.leaving = true
	m.leaveReason = reason
	m.leftMonitoring = m.state == Monitoring
}

// fail stops the client for good: the configuration cannot work with the
// server's schema.
func (m *machine) fail(o *output, err error) {
	m.log.Error(err, "configuration does not match the server's schema; stopping")
	m.lastErr = err
	m.fatal = err
	m.markLeaving(err)
	o.actions = append(o.actions, action{kind: actFatal, reason: err})
	m.setState(o, Retry)
}

// schemaFailed handles an error of setSchema.
func (m *machine) schemaFailed(o *output, err error) {
	if errors.Is(err, ErrConfig) {
		m.fail(o, err)
		return
	}
	m.disconnect(o, err)
}

// connected starts the FSM on a new connection (OVS restart_fsm on a seqno
// change).
func (m *machine) connect(seqno uint64, remote string) output {
	var o output
	m.connected = true
	m.seqno = seqno
	m.remote = remote
	m.leaving, m.leaveReason, m.leftMonitoring = false, nil, false
	m.dropTxns(&o, ErrReconnected)
	m.hasLock = false
	m.lockContended = false
	m.restart(&o)
	if m.cfg.lock != "" {
		m.lockReqID = m.request(&o, "lock", []string{m.cfg.lock})
	}
	return o
}

// restart sends get_schema for _Server and enters SERVER_SCHEMA_REQUESTED.
func (m *machine) restart(o *output) {
	m.serverMonitorVersion = 0
	m.dataMonitorVersion = 0
	m.serverLeader = false
	m.serverRows.Clear()
	if m.state == ServerSchemaRequested {
		// Make the restart visible even when the state does not change.
		o.events = append(o.events, StateChange{From: m.state, To: m.state, Remote: m.remote})
	}
	m.setState(o, ServerSchemaRequested)
	m.requestID = m.request(o, "get_schema", json.RawMessage(leader.SchemaParams()))
}

// disconnected records the end of the connection: every transaction in
// flight fails with ErrReconnected and the FSM waits for the next one.
func (m *machine) connectionLost(err error) output {
	var o output
	// A connection left from MONITORING was being monitored even though
	// the state reads RETRY now.
	wasMonitoring := m.state == Monitoring || (m.leaving && m.leftMonitoring)
	m.connected = false
	// A connection this machine (or the user) decided to leave keeps the
	// reason of that decision (the rejection, ErrForced) as the last
	// error: tell the user why the server was left, not how the drop
	// happened.
	reason := err
	switch {
	case m.leaving && m.leaveReason != nil:
		reason = m.leaveReason
		m.lastErr = reason
	case err != nil && (m.state != Retry || m.lastErr == nil || !errors.Is(err, jsonrpc.ErrForcedReconnect)):
		m.lastErr = err
	case err != nil:
		reason = m.lastErr
	}
	m.leaving, m.leaveReason, m.leftMonitoring = false, nil, false
	m.requestID = 0
	m.lockReqID = 0
	m.serverMonitorVersion = 0
	m.dataMonitorVersion = 0
	m.serverLeader = false
	m.hasLock = false
	m.dropTxns(&o, ErrReconnected)
	clear(m.untracked)
	o.events = append(o.events, Reconnect{Reason: reason, Remote: m.remote, WasMonitoring: wasMonitoring})
	m.setState(&o, ServerSchemaRequested)
	return o
}

func (m *machine) dropTxns(o *output, err error) {
	for id := range m.txns {
		o.txns = append(o.txns, txnOutcome{id: id, err: err})
	}
	clear(m.txns)
}

// message handles one received message at now, in OVS's order
// (ovsdb_cs_run). Nothing from a connection the machine decided to leave is
// used.
func (m *machine) message(now time.Time, msg *jsonrpc.Message) output {
	var o output
	if !m.connected || m.leaving {
		m.log.V(2).Info("message from a connection being left; dropped", "method", msg.Method, "remote", m.remote)
		return o
	}
	switch msg.Kind {
	case jsonrpc.KindReply, jsonrpc.KindError:
		id, ok := parseID(msg.ID)
		switch {
		case ok && id == m.requestID && id != 0:
			m.requestID = 0
			m.response(&o, now, msg)
		case ok && id == m.lockReqID && id != 0:
			m.lockReqID = 0
			m.lockReply(&o, msg)
		case ok && m.isTxn(id):
			m.txnReply(&o, id, msg)
		default:
			if ok {
				if what, found := m.untracked[id]; found {
					delete(m.untracked, id)
					if msg.Kind == jsonrpc.KindError {
						m.log.V(1).Info("request failed", "err", &jsonrpc.ServerError{Method: what, Value: msg.Error})
					}
					return o
				}
			}
			m.log.V(1).Info("received unexpected message", "msg", msg.String())
		}
	case jsonrpc.KindNotification, jsonrpc.KindRequest:
		switch msg.Method {
		case "update", "update2", "update3":
			m.updateNotification(&o, now, msg)
		case "monitor_canceled":
			m.monitorCanceled(&o, msg)
		case "locked", "stolen":
			m.lockNotification(&o, msg)
		default:
			m.log.V(1).Info("received unexpected message", "msg", msg.String())
		}
	}
	return o
}

func parseID(raw json.RawMessage) (int64, bool) {
	id, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	return id, err == nil
}

func (m *machine) isTxn(id int64) bool {
	_, ok := m.txns[id]
	return ok
}

// response handles the reply to the outstanding FSM request.
func (m *machine) response(o *output, now time.Time, msg *jsonrpc.Message) {
	isErr := msg.Kind == jsonrpc.KindError
	if isErr {
		switch m.state {
		case ServerSchemaRequested, ServerMonitorRequested, DataMonitorCondRequested, DataMonitorCondSinceRequested:
		default:
			err := fmt.Errorf("%w: %s in state %s", ErrServerError, msg.Error, m.state)
			m.log.Info("server rejected", "remote", m.remote, "err", err)
			m.retry(o, err)
			return
		}
	}
	switch m.state {
	case ServerSchemaRequested:
		if !isErr {
			params, missing, err := leader.MonitorParams(msg.Result)
			if err == nil {
				if len(missing) > 0 {
					m.log.Info("server's _Server schema lacks columns; upgrade the server", "remote", m.remote, "missing", missing)
				}
				m.requestID = m.request(o, leader.MonitorMethod, json.RawMessage(params))
				m.setState(o, ServerMonitorRequested)
				return
			}
			m.log.V(1).Info("unusable _Server schema; falling back to get_schema", "remote", m.remote, "err", err)
		}
		m.requestDataSchema(o)
	case ServerMonitorRequested:
		if isErr {
			m.requestDataSchema(o)
			return
		}
		m.serverMonitorVersion = 2
		if err := m.serverRows.Reset(msg.Result); err != nil {
			m.disconnect(o, fmt.Errorf("%w: _Server monitor reply: %w", ErrMalformed, err))
			return
		}
		m.checkServer(o, now)
	case DataSchemaRequested:
		if err := m.setSchema(string(msg.Result)); err != nil {
			m.schemaFailed(o, err)
			return
		}
		method := monitor.MethodMonitor
		if m.cfg.maxVersion >= 2 {
			method = monitor.MethodMonitorCond
		}
		m.sendMonitor(o, method)
	case DataMonitorCondSinceRequested, DataMonitorCondRequested, DataMonitorRequested:
		if isErr {
			next, _ := m.method.Next()
			m.log.V(1).Info("monitor method rejected; falling back", "method", m.method, "next", next, "remote", m.remote)
			m.sendMonitor(o, next)
			return
		}
		m.monitorReply(o, msg)
	case Monitoring:
		// The reply to a monitor_cond_change.
		if err := m.conds.Ack(); err != nil {
			m.log.V(1).Info("unexpected condition ack", "err", err)
		}
		m.sendCondChange(o)
	case Retry:
		// Nothing to do: the connection is being dropped.
	}
}

func (m *machine) requestDataSchema(o *output) {
	m.requestID = m.request(o, "get_schema", []string{m.cfg.database})
	m.setState(o, DataSchemaRequested)
}

// allowRejectLog applies cfg.rejectLimit at now.
func (m *machine) allowRejectLog(now time.Time) (bool, int) {
	if m.cfg.rejectLimit == nil {
		return true, 0
	}
	return m.cfg.rejectLimit.Allow(now)
}

// logRejected logs the rejection of remote's server, rate-limited.
func (m *machine) logRejected(now time.Time, remote string, err error) {
	switch ok, suppressed := m.allowRejectLog(now); {
	case errors.Is(err, leader.ErrStale):
		m.log.Info("server rejected", "remote", remote, "err", err)
	case ok && suppressed > 0:
		m.log.Info("server rejected", "remote", remote, "err", err, "suppressed", suppressed)
	case ok:
		m.log.Info("server rejected", "remote", remote, "err", err)
	default:
		m.log.V(1).Info("server rejected", "remote", remote, "err", err)
	}
}

// watchRejected reports a server the leader watch rejected (its _Server
// row failed the check with err) on a connection of its own, at most once
// per member and recovery: while the machine has no connection, err
// becomes the last error and the user gets the Reconnect event a
// rejection on the machine's own connection gives (no transaction was in
// flight there). While connected (the leader is suspect and the others
// are watched) it is only logged: the connection in use is not concerned.
func (m *machine) watchRejected(now time.Time, remote string, err error) output {
	var o output
	m.logRejected(now, remote, err)
	if !m.connected {
		m.lastErr = err
		o.events = append(o.events, Reconnect{Reason: err, Remote: remote})
	}
	return o
}

// checkServer is OVS's ovsdb_cs_check_server_db: on failure, retry. A
// stale server is always reported (OVS logs it as a warning, the others at
// a rate-limited info level).
func (m *machine) checkServer(o *output, now time.Time) bool {
	res, err := m.checker.Check(m.serverRows, leader.Target{
		Remote:     m.remote,
		Database:   m.cfg.database,
		ClusterID:  m.cfg.clusterID,
		LeaderOnly: m.cfg.leaderOnly,
	})
	m.serverLeader = err == nil && res.Row.Leader
	if err != nil {
		m.logRejected(now, m.remote, err)
		m.retry(o, err)
		return false
	}
	if m.state == ServerMonitorRequested {
		if err := m.setSchema(res.Schema); err != nil {
			m.schemaFailed(o, err)
			return false
		}
		m.sendMonitor(o, monitor.FirstMethod(m.cfg.maxVersion))
		if m.cfg.dbChangeAware {
			id := m.request(o, "set_db_change_aware", []bool{true})
			m.untracked[id] = "set_db_change_aware"
		}
	}
	return true
}

// setSchema installs the data schema (JSON text), keeping the replica when
// the schema is unchanged. A changed schema means a new replica and a full
// resync.
func (m *machine) setSchema(text string) error {
	if m.schema != nil && text == m.schemaText {
		return nil
	}
	db, err := monitor.ParseDatabaseSchema([]byte(text))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if m.schema != nil && reflect.DeepEqual(db, m.schemaDB) {
		// The same schema, written differently by another server.
		m.schemaText = text
		return nil
	}
	if db.Name != m.cfg.database {
		return fmt.Errorf("%w: schema is for database %q, not %q", ErrMalformed, db.Name, m.cfg.database)
	}
	if err := m.checkConfig(db); err != nil {
		return err
	}
	sel := m.cfg.selection
	if sel == nil {
		sel = map[string][]string{}
		for name := range db.Tables {
			sel[name] = nil
		}
	}
	schema, err := monitor.NewSchema(db, sel)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if m.cfg.resyncOrder {
		schema = schema.KeepingResyncOrder()
	}
	// Every table's columns are named in the request (ovsdb-server would
	// otherwise add _version to every row); WithColumns narrows them, and
	// names _version when it lists it. An explicit list of none (WithColumns
	// with only _uuid) asks for none.
	var tables []monitor.TableRequest
	for _, ts := range schema.Tables {
		cols := make([]string, 0, len(ts.Columns))
		for _, col := range ts.Columns {
			cols = append(cols, col.Name)
		}
		tables = append(tables, monitor.TableRequest{Table: ts.Name, Columns: cols})
	}
	if m.schema != nil {
		m.log.Info("database schema changed; full resync", "database", m.cfg.database, "version", db.Version)
		m.conds.ResetLastID()
	}
	m.schemaText = text
	m.schemaDB = db
	m.schema = schema
	m.tables = tables
	m.replica = monitor.NewReplica(schema)
	return nil
}

// checkConfig checks the tables and columns the configuration names
// (selection, conditions) against the server's schema: an unknown name is
// an error wrapping ErrConfig that names the closest valid one.
func (m *machine) checkConfig(db *ovsdb.DatabaseSchema) error {
	for _, name := range sortedKeys(m.cfg.selection) {
		ts, ok := db.Tables[name]
		if !ok {
			return unknownTable(db, name)
		}
		for _, c := range m.cfg.selection[name] {
			if c == "_uuid" || c == "_version" {
				continue
			}
			if _, ok := ts.Columns[c]; !ok {
				return unknownColumn(db, name, c)
			}
		}
	}
	for _, name := range m.conds.Tables() {
		if err := checkCondition(db, name, m.condColumns[name]); err != nil {
			return err
		}
	}
	return nil
}

// checkCondition checks a condition's table and columns against db.
func checkCondition(db *ovsdb.DatabaseSchema, table string, cols []string) error {
	ts, ok := db.Tables[table]
	if !ok {
		return unknownTable(db, table)
	}
	for _, c := range cols {
		if c == "_uuid" || c == "_version" {
			continue
		}
		if _, ok := ts.Columns[c]; !ok {
			return unknownColumn(db, table, c)
		}
	}
	return nil
}

func unknownTable(db *ovsdb.DatabaseSchema, name string) error {
	return fmt.Errorf("%w: database %q has no table %q%s", ErrConfig, db.Name, name,
		didYouMean(name, sortedKeys(db.Tables)))
}

func unknownColumn(db *ovsdb.DatabaseSchema, table, col string) error {
	return fmt.Errorf("%w: table %q of database %q has no column %q%s", ErrConfig, table, db.Name, col,
		didYouMean(col, sortedKeys(db.Tables[table].Columns)))
}

func (m *machine) sendMonitor(o *output, method monitor.Method) {
	params, err := m.conds.StartMonitor(method, m.tables)
	if err != nil {
		m.retry(o, fmt.Errorf("cs: cannot compose %s: %w", method, err))
		return
	}
	m.method = method
	m.requestID = m.request(o, method.String(), json.RawMessage(params))
	o.streams = append(o.streams, resultStream{id: m.requestID, dec: monitor.NewReplyDecoder(m.schema, method)})
	switch method {
	case monitor.MethodMonitorCondSince:
		m.setState(o, DataMonitorCondSinceRequested)
	case monitor.MethodMonitorCond:
		m.setState(o, DataMonitorCondRequested)
	default:
		m.setState(o, DataMonitorRequested)
	}
}

// monitorReply applies the reply to the monitor request: parsed while it
// arrived (msg.Decoded, from the ReplyDecoder of sendMonitor) or, when the
// connection could not stream it, parsed here from its bytes; the two give
// the same Update.
func (m *machine) monitorReply(o *output, msg *jsonrpc.Message) {
	var (
		u   *monitor.Update
		err error
	)
	switch {
	case msg.DecodeErr != nil:
		err = msg.DecodeErr
	case msg.Decoded != nil:
		var ok bool
		if u, ok = msg.Decoded.(*monitor.Update); !ok {
			err = fmt.Errorf("cs: internal error: monitor reply decoded as %T", msg.Decoded)
		}
	case m.method == monitor.MethodMonitorCondSince:
		u, err = monitor.ParseMonitorCondSinceReply(m.schema, msg.Result)
	case m.method == monitor.MethodMonitorCond:
		u, err = monitor.ParseMonitorCondReply(m.schema, msg.Result)
	default:
		u, err = monitor.ParseMonitorReply(m.schema, msg.Result)
	}
	ev, ok := m.applyData(o, u, err, m.method.String()+" reply", true, func(ev Update) error {
		return m.conds.MonitorReplied(ev.LastID)
	})
	if !ok {
		return
	}
	m.synced = true
	m.dataMonitorVersion = m.method.Version()
	ev.Version = m.dataMonitorVersion
	m.setState(o, Monitoring)
	o.events = append(o.events, ev)
	m.sendCondChange(o)
}

// applyData applies a parsed data update u (parseErr: why it did not
// parse) and then, only once it applied, commits its last transaction id
// with commit. A failure of either leaves the connection (what names the
// message in the error); the event describing the update is returned, not
// yet queued.
func (m *machine) applyData(o *output, u *monitor.Update, parseErr error, what string, reply bool, commit func(Update) error) (Update, bool) {
	err := parseErr
	if err == nil {
		ev, ok := m.applyUpdate(o, u, reply)
		if !ok {
			return Update{}, false
		}
		if err = commit(ev); err == nil {
			return ev, true
		}
	}
	m.dataFailed(o, fmt.Errorf("%w: %s: %w", ErrMalformed, what, err))
	return Update{}, false
}

// applyUpdate applies u to the replica and returns the event describing
// it (not yet queued). On failure the replica is unchanged, the last id is
// forgotten (the next monitor reply is a full resync, signalled by Clear)
// and the connection is left.
func (m *machine) applyUpdate(o *output, u *monitor.Update, reply bool) (Update, bool) {
	changes, err := m.replica.Apply(u)
	if err != nil {
		if errors.Is(err, monitor.ErrInconsistent) {
			m.log.Info("replica inconsistent with the server; resyncing", "remote", m.remote, "err", err)
			m.flagInconsistency(o, err)
			return Update{}, false
		}
		m.dataFailed(o, fmt.Errorf("%w: %w", ErrMalformed, err))
		return Update{}, false
	}
	ev := Update{
		Clear:        u.Clear,
		MonitorReply: reply,
		Found:        u.Found,
		Version:      m.dataMonitorVersion,
		Changes:      changes,
		Raw:          u,
	}
	if u.HasLastID {
		ev.LastID = u.LastID.String()
	}
	return ev, true
}

// dataFailed leaves a connection whose data update could not be used: the
// changes it carried are lost, so the last id is forgotten and the next
// monitor reply is a full resync.
func (m *machine) dataFailed(o *output, err error) {
	m.conds.ResetLastID()
	m.disconnect(o, err)
}

func (m *machine) updateNotification(o *output, now time.Time, msg *jsonrpc.Message) {
	id, err := monitor.NotificationMonitorID(msg.Params)
	if err != nil {
		m.dataFailed(o, fmt.Errorf("%w: %s: %w", ErrMalformed, msg.Method, err))
		return
	}
	switch {
	case bytes.Equal(id, m.dataMonID):
		if m.dataMonitorVersion == 0 || m.replica == nil {
			m.log.V(1).Info("data update with no active monitor; ignored", "method", msg.Method)
			return
		}
		u, err := monitor.ParseNotification(m.schema, msg.Method, msg.Params)
		ev, ok := m.applyData(o, u, err, msg.Method, false, func(ev Update) error {
			if !u.HasLastID {
				return nil
			}
			return m.conds.SetLastID(ev.LastID)
		})
		if ok {
			o.events = append(o.events, ev)
		}
	case bytes.Equal(id, m.serverMonID):
		if m.serverMonitorVersion == 0 {
			return
		}
		var params []json.RawMessage
		if err := json.Unmarshal(msg.Params, &params); err != nil || len(params) != 2 || msg.Method != "update2" {
			m.disconnect(o, fmt.Errorf("%w: _Server %s: bad params", ErrMalformed, msg.Method))
			return
		}
		if err := m.serverRows.Apply(params[1]); err != nil {
			if errors.Is(err, leader.ErrInconsistent) {
				m.retry(o, fmt.Errorf("cs: _Server replica: %w", err))
				return
			}
			m.disconnect(o, fmt.Errorf("%w: _Server update: %w", ErrMalformed, err))
			return
		}
		m.checkServer(o, now)
	default:
		m.log.V(1).Info("update for an unknown monitor; ignored", "monitor", string(id))
	}
}

func (m *machine) monitorCanceled(o *output, msg *jsonrpc.Message) {
	var params []json.RawMessage
	if err := json.Unmarshal(msg.Params, &params); err != nil || len(params) != 1 {
		m.disconnect(o, fmt.Errorf("%w: monitor_canceled: bad params", ErrMalformed))
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, params[0]); err != nil {
		m.disconnect(o, fmt.Errorf("%w: monitor_canceled: %w", ErrMalformed, err))
		return
	}
	id := compact.Bytes()
	var other []byte
	switch {
	case bytes.Equal(id, m.dataMonID):
		m.dataMonitorVersion = 0
		if m.serverMonitorVersion != 0 {
			other = m.serverMonID
		}
	case bytes.Equal(id, m.serverMonID):
		m.serverMonitorVersion = 0
		if m.dataMonitorVersion != 0 {
			other = m.dataMonID
		}
	default:
		m.log.V(1).Info("monitor_canceled for an unknown monitor; ignored", "monitor", string(id))
		return
	}
	m.log.Info("server canceled the monitor (database changed?); restarting on the same connection", "monitor", string(id), "remote", m.remote)
	if other != nil {
		rid := m.request(o, "monitor_cancel", []json.RawMessage{other})
		m.untracked[rid] = "monitor_cancel"
	}
	m.restart(o)
}

// Locks.

func (m *machine) setLock(name string) output {
	var o output
	if name == m.cfg.lock {
		return o
	}
	if m.connected && m.cfg.lock != "" {
		id := m.request(&o, "unlock", []string{m.cfg.lock})
		m.untracked[id] = "unlock"
	}
	m.cfg.lock = name
	m.hasLock = false
	m.lockContended = false
	m.lockReqID = 0
	if m.connected && name != "" {
		m.lockReqID = m.request(&o, "lock", []string{name})
	}
	return o
}

func (m *machine) lockReply(o *output, msg *jsonrpc.Message) {
	if msg.Kind == jsonrpc.KindError {
		m.log.Info("lock request failed", "lock", m.cfg.lock, "err", &jsonrpc.ServerError{Method: "lock", Value: msg.Error})
		return
	}
	var r struct {
		Locked bool `json:"locked"`
	}
	if err := json.Unmarshal(msg.Result, &r); err != nil {
		m.disconnect(o, fmt.Errorf("%w: lock reply: %w", ErrMalformed, err))
		return
	}
	m.updateLock(o, r.Locked)
}

func (m *machine) updateLock(o *output, locked bool) {
	if locked && !m.hasLock {
		m.log.Info("lock acquired", "lock", m.cfg.lock, "remote", m.remote)
		o.events = append(o.events, Locked{Lock: m.cfg.lock})
	}
	if !locked && m.hasLock {
		m.log.Info("lock lost", "lock", m.cfg.lock, "remote", m.remote)
		o.events = append(o.events, LockLost{Lock: m.cfg.lock})
	}
	m.hasLock = locked
	m.lockContended = !locked
}

func (m *machine) lockNotification(o *output, msg *jsonrpc.Message) {
	var params []string
	if err := json.Unmarshal(msg.Params, &params); err != nil || len(params) != 1 {
		m.disconnect(o, fmt.Errorf("%w: %s: bad params", ErrMalformed, msg.Method))
		return
	}
	if params[0] != m.cfg.lock || m.cfg.lock == "" {
		return
	}
	m.updateLock(o, msg.Method == "locked")
}

// Conditions.

// setCondition sets the condition of table. Once the schema is known, an
// unknown table or column is an error wrapping ErrConfig (and
// monitor.ErrBadCondition) naming the closest valid name; before, it is
// checked when the schema arrives (a terminal error then).
func (m *machine) setCondition(table string, cond []ovsdb.Condition) (uint64, output, error) {
	var o output
	if m.cfg.selection != nil {
		if _, ok := m.cfg.selection[table]; !ok {
			return 0, o, fmt.Errorf("%w: table %q is not monitored%s", monitor.ErrBadCondition, table,
				didYouMean(table, sortedKeys(m.cfg.selection)))
		}
	}
	cols := make([]string, 0, len(cond))
	for _, c := range cond {
		cols = append(cols, c.Column)
	}
	if m.schemaDB != nil {
		if err := checkCondition(m.schemaDB, table, cols); err != nil {
			return 0, o, fmt.Errorf("%w: %w", monitor.ErrBadCondition, err)
		}
	}
	seq, err := m.conds.Set(table, cond)
	if err != nil {
		return 0, o, err
	}
	if m.condColumns == nil {
		m.condColumns = map[string][]string{}
	}
	m.condColumns[table] = cols
	m.sendCondChange(&o)
	return seq, o, nil
}

func (m *machine) sendCondChange(o *output) {
	if !m.connected || m.leaving || m.state != Monitoring || m.requestID != 0 || m.dataMonitorVersion < 2 {
		return
	}
	params, ok := m.conds.ComposeChange()
	if !ok {
		return
	}
	m.requestID = m.request(o, "monitor_cond_change", json.RawMessage(params))
}

// User commands.

// forceReconnect is the user's ForceReconnect: the connection is left (its
// Reconnect event and LastError carry reason) without entering RETRY, as
// OVS's ovsdb_cs_force_reconnect.
func (m *machine) forceReconnect(reason error) output {
	var o output
	m.lastErr = reason
	fromMonitoring := m.state == Monitoring && !m.leaving
	m.markLeaving(reason)
	o.actions = append(o.actions, action{kind: actRetry, fromMonitoring: fromMonitoring, reason: reason})
	return o
}

// pendingRequests appends the ids of the requests that run under the
// request timeout: the outstanding bootstrap request and the lock request.
func (m *machine) pendingRequests(ids []int64) []int64 {
	if !m.connected || m.leaving {
		return ids
	}
	if m.requestID != 0 && m.state != Monitoring {
		ids = append(ids, m.requestID)
	}
	if m.lockReqID != 0 {
		ids = append(ids, m.lockReqID)
	}
	return ids
}

// requestExpired handles a request of pendingRequests left unanswered for
// the request timeout (after): the server is unusable.
func (m *machine) requestExpired(id int64, after fmt.Stringer) output {
	var o output
	if !m.connected || m.leaving || id == 0 {
		return o
	}
	var what string
	switch {
	case id == m.requestID && m.state != Monitoring:
		what = "request in state " + m.state.String()
	case id == m.lockReqID:
		what = "lock request"
	default:
		return o
	}
	err := fmt.Errorf("%w: %s unanswered after %s", ErrRequestTimeout, what, after)
	m.log.Info("server rejected", "remote", m.remote, "err", err)
	m.retry(&o, err)
	return o
}

func (m *machine) flagInconsistency(o *output, reason error) {
	m.conds.ResetLastID()
	m.retry(o, fmt.Errorf("%w: %w", ErrInconsistent, reason))
}

func (m *machine) setLeaderOnly(now time.Time, v bool) output {
	var o output
	m.cfg.leaderOnly = v
	if v && m.connected && !m.leaving && m.serverMonitorVersion != 0 && m.state != Retry {
		m.checkServer(&o, now)
	}
	return o
}

// mayTransact reports why a transaction may not be sent now, or nil.
func (m *machine) mayTransact() error {
	if !m.connected || m.leaving || m.state != Monitoring {
		return fmt.Errorf("%w (state %s)", ErrNotMonitoring, m.state)
	}
	if m.cfg.lock != "" && !m.hasLock {
		return fmt.Errorf("%w: %q", ErrNotLocked, m.cfg.lock)
	}
	return nil
}

// transact sends a transaction of ops (a JSON array of operations) and
// returns its id.
func (m *machine) transact(ops []json.RawMessage) (int64, output, error) {
	var o output
	if err := m.mayTransact(); err != nil {
		return 0, o, err
	}
	params := make([]json.RawMessage, 0, len(ops)+2)
	db, _ := json.Marshal(m.cfg.database)
	params = append(params, db)
	params = append(params, ops...)
	if m.cfg.lock != "" {
		a, _ := json.Marshal(map[string]string{"op": "assert", "lock": m.cfg.lock})
		params = append(params, a)
	}
	id := m.request(&o, "transact", params)
	m.txns[id] = struct{}{}
	return id, o, nil
}

func (m *machine) forgetTxn(id int64) { delete(m.txns, id) }

// txnErrorCode returns the error code of a transact error response: the
// "error" member of an object, or a bare JSON string (ovsdb-server sends
// "canceled" that way).
func txnErrorCode(se *jsonrpc.ServerError) string {
	if code := se.Code(); code != "" {
		return code
	}
	var s string
	if json.Unmarshal(se.Value, &s) == nil {
		return s
	}
	return ""
}

func (m *machine) txnReply(o *output, id int64, msg *jsonrpc.Message) {
	delete(m.txns, id)
	if msg.Kind == jsonrpc.KindError {
		se := &jsonrpc.ServerError{Method: "transact", Value: msg.Error}
		var err error = se
		switch txnErrorCode(se) {
		case "canceled":
			// ovsdb-server 3.1 sends the bare string "canceled" (schema
			// conversion, remove-db, a leader that exits); the
			// transaction may have committed all the same.
			err = fmt.Errorf("%w: %w", ErrCanceled, se)
		case "unknown database":
			err = fmt.Errorf("%w: %w", ErrTryAgain, se)
			m.flagInconsistency(o, se)
		}
		o.txns = append(o.txns, txnOutcome{id: id, err: err})
		o.events = append(o.events, TxnReply{ID: id, Err: err})
		return
	}
	var results []struct {
		Error   string `json:"error"`
		Details string `json:"details"`
	}
	// The event's Err is the error Transact returns: the first failed
	// operation (ovsdb-server also appends a result for a transaction
	// that failed as a whole).
	var failed error
	if err := json.Unmarshal(msg.Result, &results); err == nil {
		for i, r := range results {
			if r.Error == "" {
				continue
			}
			if failed == nil {
				failed = &TxnError{Op: i, Err: r.Error, Details: r.Details}
			}
			if r.Error == "unknown database" {
				m.flagInconsistency(o, errors.New("transaction: unknown database"))
				break
			}
		}
	} else {
		failed = fmt.Errorf("%w: transact reply: %w", ErrMalformed, err)
	}
	o.txns = append(o.txns, txnOutcome{id: id, result: msg.Result})
	o.events = append(o.events, TxnReply{ID: id, Result: msg.Result, Err: failed})
}
