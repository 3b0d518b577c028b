package testserver

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// This file is one client connection to a member: a reader goroutine that
// decodes messages and handles each one under the cluster lock, and a
// writer goroutine that drains the session's outgoing queue, so a slow
// client never holds up the cluster. Everything a member sends is queued
// under the cluster lock, which gives the ordering ovsdb-server has: the
// updates a commit causes are queued before the reply to the transaction.

type outMsg struct {
	data      []byte
	notBefore time.Time // the ReplyDelay fault: not written before then
	truncate  bool      // write the first half, then close
}

type session struct {
	c    *Cluster
	m    *Member
	conn net.Conn
	id   uint64

	outMu sync.Mutex
	out   []outMsg
	wake  chan struct{}
	done  chan struct{}

	// Guarded by c.mu.
	closed      bool
	monitors    map[string]*monitor
	waiters     map[string]*lockWaiter
	changeAware bool
	lastRecv    time.Time
	probeSent   bool
	probeTimer  *time.Timer
}

func (c *Cluster) newSession(m *Member, conn net.Conn) *session {
	c.nextSession++
	return &session{
		c: c, m: m, conn: conn, id: c.nextSession,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		monitors: map[string]*monitor{},
		waiters:  map[string]*lockWaiter{},
		lastRecv: time.Now(),
	}
}

// accept starts serving conn on m. Called with c.mu held.
func (c *Cluster) accept(m *Member, conn net.Conn) {
	m.counters.accept()
	if c.closed || !m.running {
		conn.Close()
		return
	}
	if m.faults.DropConnections {
		c.log.V(1).Info("connection dropped by fault", "member", m.idx)
		conn.Close()
		return
	}
	s := c.newSession(m, conn)
	m.sessions[s] = struct{}{}
	c.log.V(1).Info("connection accepted", "member", m.idx, "session", s.id, "remote", conn.RemoteAddr().String())
	c.wg.Add(2)
	go s.readLoop()
	go s.writeLoop()
	c.armProbe(s)
}

// closeSession ends s. Called with c.mu held.
func (c *Cluster) closeSession(s *session, reason string) {
	if s.closed {
		return
	}
	s.closed = true
	delete(s.m.sessions, s)
	for _, name := range sortedKeys(s.waiters) {
		c.unlock(s.waiters[name])
	}
	c.dropPending(s)
	if s.probeTimer != nil {
		c.stopTimer(s.probeTimer)
		s.probeTimer = nil
	}
	close(s.done)
	s.conn.Close()
	c.log.V(1).Info("connection closed", "member", s.m.idx, "session", s.id, "reason", reason)
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (cr countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n.Add(int64(n))
	return n, err
}

func (s *session) readLoop() {
	c := s.c
	defer c.wg.Done()
	fr := newFrameReader(countingReader{s.conn, &s.m.counters.received})
	for {
		raw, sc, err := fr.next()
		c.mu.Lock()
		if s.closed {
			c.mu.Unlock()
			return
		}
		if err != nil {
			reason := "read error"
			var se *ovsjson.SyntaxError
			switch {
			case errors.Is(err, io.EOF):
				reason = "client closed"
			case errors.As(err, &se):
				reason = "malformed JSON-RPC message: " + se.Msg
			}
			c.closeSession(s, reason)
			c.mu.Unlock()
			return
		}
		if !c.awaitThaw(s) {
			c.mu.Unlock()
			return
		}
		s.lastRecv = time.Now()
		s.probeSent = false
		msg, err := parseMessage(raw, sc)
		if err != nil {
			c.closeSession(s, err.Error())
			c.mu.Unlock()
			return
		}
		c.handle(s, msg)
		c.mu.Unlock()
	}
}

func (s *session) writeLoop() {
	c := s.c
	defer c.wg.Done()
	for {
		s.outMu.Lock()
		batch := s.out
		s.out = nil
		s.outMu.Unlock()
		if len(batch) == 0 {
			select {
			case <-s.wake:
				continue
			case <-s.done:
				return
			}
		}
		for _, msg := range batch {
			if d := time.Until(msg.notBefore); !msg.notBefore.IsZero() && d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-s.done:
					t.Stop()
					return
				}
			}
			data := msg.data
			if msg.truncate {
				data = data[:len(data)/2]
			}
			n, err := s.conn.Write(data)
			s.m.counters.sent.Add(int64(n))
			if err != nil || msg.truncate {
				c.mu.Lock()
				reason := "write error"
				if err == nil {
					reason = "closed mid-message by fault"
				}
				c.closeSession(s, reason)
				c.mu.Unlock()
				return
			}
		}
	}
}

// send queues one message for s, applying m's faults. Called with c.mu held.
func (c *Cluster) send(s *session, data []byte) {
	if s.closed {
		return
	}
	f := &s.m.faults
	if f.Hang {
		return
	}
	c.log.V(2).Info("send", "member", s.m.idx, "session", s.id, "message", string(data))
	switch {
	case f.MalformedJSON:
		data = []byte(`{"id":null,"method":"update2","params":[{]}`)
	case f.WrongTypes:
		data = wrongTypes(data)
	}
	msg := outMsg{data: data, truncate: f.CloseMidMessage}
	if f.ReplyDelay > 0 {
		msg.notBefore = time.Now().Add(f.ReplyDelay)
	}
	s.outMu.Lock()
	s.out = append(s.out, msg)
	s.outMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// wrongTypes replaces the result of a reply, or the table updates of an
// update notification, with a string.
func wrongTypes(data []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return data
	}
	wrong := json.RawMessage(`"wrong type"`)
	if !isNull(m["result"]) {
		return encodeReply(m["id"], wrong)
	}
	var method string
	_ = json.Unmarshal(m["method"], &method)
	switch method {
	case "update", "update2", "update3":
		var params []json.RawMessage
		if json.Unmarshal(m["params"], &params) == nil && len(params) > 0 {
			params[len(params)-1] = wrong
			return encodeNotify(method, marshal(params))
		}
	}
	return data
}

func (c *Cluster) reply(s *session, id, result json.RawMessage) {
	c.send(s, encodeReply(id, result))
}

func (c *Cluster) replyError(s *session, id json.RawMessage, e *ovsError) {
	c.send(s, encodeError(id, marshal(e)))
}

// replyErrorString sends an error reply whose error is a bare string, as
// ovsdb-server does for "unknown method", "unknown monitor" and others.
func (c *Cluster) replyErrorString(s *session, id json.RawMessage, msg string) {
	c.send(s, encodeError(id, marshal(msg)))
}

func (c *Cluster) notify(s *session, method string, params json.RawMessage) {
	c.send(s, encodeNotify(method, params))
}

// armProbe (re)starts the inactivity probe timer of s.
func (c *Cluster) armProbe(s *session) {
	d := c.cfg.echoInterval
	if d <= 0 {
		return
	}
	s.probeTimer = c.afterFunc(d, func() {
		if s.closed {
			return
		}
		if s.m.frozen {
			s.probeTimer = nil
			c.armProbe(s) // a stopped process probes nobody
			return
		}
		idle := time.Since(s.lastRecv)
		switch {
		case idle < d:
			s.probeTimer = nil
			c.armProbeIn(s, d-idle)
			return
		case s.probeSent:
			c.log.V(1).Info("no response to inactivity probe, disconnecting", "member", s.m.idx, "session", s.id)
			c.closeSession(s, "inactivity probe")
			return
		}
		s.probeSent = true
		s.lastRecv = time.Now()
		c.send(s, echoProbe)
		s.probeTimer = nil
		c.armProbe(s)
	})
}

func (c *Cluster) armProbeIn(s *session, d time.Duration) {
	s.probeTimer = c.afterFunc(d, func() {
		if s.closed {
			return
		}
		s.probeTimer = nil
		c.armProbe(s)
	})
}

// handle dispatches one message. Called with c.mu held.
func (c *Cluster) handle(s *session, msg *rpcMessage) {
	m := s.m
	kind := msg.kind()
	if kind == kindRequest || kind == kindNotification {
		m.counters.request(msg.Method)
	}
	c.log.V(2).Info("receive", "member", m.idx, "session", s.id, "method", msg.Method)
	if m.faults.Hang {
		return
	}
	switch kind {
	case kindReply, kindError:
		return // answers to our echo probes
	case kindNotification:
		if msg.Method == "cancel" && len(msg.Params) == 1 {
			c.cancelPending(s, msg.Params[0])
		}
		return
	}
	switch msg.Method {
	case "echo":
		if !m.faults.IgnoreEcho {
			c.reply(s, msg.ID, msg.ParamsRaw)
		}
	case "list_dbs":
		c.reply(s, msg.ID, marshal(sortedStrings(c.schema.name, ServerDatabase)))
	case "get_schema":
		if db, _, ok := c.lookupDB(s, msg); ok {
			c.reply(s, msg.ID, db.schema.json)
		}
	case "get_server_id":
		c.reply(s, msg.ID, marshal(m.serverID))
	case "set_db_change_aware":
		var b bool
		if len(msg.Params) != 1 || json.Unmarshal(msg.Params[0], &b) != nil {
			c.replyError(s, msg.ID, syntaxError(msg.ParamsRaw, "set_db_change_aware: true or false parameter expected"))
			return
		}
		s.changeAware = b
		c.reply(s, msg.ID, []byte("{}"))
	case "transact":
		c.handleTransact(s, msg)
	case "monitor":
		c.handleMonitor(s, msg, monitorV1)
	case "monitor_cond":
		c.handleMonitor(s, msg, monitorV2)
	case "monitor_cond_since":
		c.handleMonitor(s, msg, monitorV3)
	case "monitor_cond_change":
		c.handleCondChange(s, msg)
	case "monitor_cancel":
		c.handleMonitorCancel(s, msg)
	case "lock":
		c.handleLock(s, msg, lockWait)
	case "steal":
		c.handleLock(s, msg, lockSteal)
	case "unlock":
		c.handleUnlock(s, msg)
	default:
		c.replyErrorString(s, msg.ID, "unknown method")
	}
}

func sortedStrings(a, b string) []string {
	if b < a {
		a, b = b, a
	}
	return []string{a, b}
}

// lookupDB returns the database a request names in its first param.
func (c *Cluster) lookupDB(s *session, msg *rpcMessage) (db *dbState, isServer bool, ok bool) {
	var name string
	if len(msg.Params) == 0 || json.Unmarshal(msg.Params[0], &name) != nil {
		c.replyError(s, msg.ID, syntaxError(msg.ParamsRaw, "%s request params must begin with <db-name>", msg.Method))
		return nil, false, false
	}
	switch name {
	case c.schema.name:
		return s.m.db, false, true
	case ServerDatabase:
		return s.m.server, true, true
	}
	e := &ovsError{Tag: "unknown database", Details: msg.Method + " request specifies unknown database " + name}
	c.replyError(s, msg.ID, e.withSyntax(msg.ParamsRaw))
	return nil, false, false
}

func (c *Cluster) handleMonitor(s *session, msg *rpcMessage, version int) {
	db, isServer, ok := c.lookupDB(s, msg)
	if !ok {
		return
	}
	want := 3
	if version == monitorV3 {
		want = 4
	}
	if len(msg.Params) != want {
		c.replyError(s, msg.ID, syntaxError(msg.ParamsRaw, "invalid parameters"))
		return
	}
	if v, err := jsonnum.Decode(msg.Params[2]); err != nil {
		c.replyError(s, msg.ID, syntaxError(msg.Params[2], "monitor-requests must be object"))
		return
	} else if _, isObj := v.(map[string]any); !isObj {
		c.replyError(s, msg.ID, syntaxError(msg.Params[2], "monitor-requests must be object"))
		return
	}
	key := canonical(msg.Params[1])
	if s.monitors[key] != nil {
		c.replyError(s, msg.ID, syntaxError(msg.Params[1], "duplicate monitor ID"))
		return
	}
	tables, err := parseMonitorRequests(db.schema, version, msg.Params[2])
	if err != nil {
		c.replyError(s, msg.ID, ovsErrorOf(err))
		return
	}
	var lastID string
	if version == monitorV3 {
		if json.Unmarshal(msg.Params[3], &lastID) != nil || !isUUID(lastID) {
			c.replyError(s, msg.ID, syntaxError(msg.Params[3], "last-txn-id must be UUID format."))
			return
		}
	}
	mon := &monitor{id: msg.Params[1], key: key, db: db.schema.name, version: version, tables: tables}
	s.monitors[key] = mon
	if version != monitorV3 {
		c.reply(s, msg.ID, marshal(mon.initialUpdates(db)))
		return
	}
	found, current, updates := false, zeroUUID, map[string]any(nil)
	if !isServer && s.m.model != ModelStandalone {
		if s.m.lastTxnID != "" {
			current = s.m.lastTxnID
		}
		if delta, ok := s.m.changesSince(lastID); ok {
			found = true
			updates = mon.changeUpdates(delta)
		}
	}
	if !found {
		updates = mon.initialUpdates(db)
	}
	if updates == nil {
		updates = map[string]any{}
	}
	c.reply(s, msg.ID, marshal([]any{found, current, updates}))
}

func (c *Cluster) handleCondChange(s *session, msg *rpcMessage) {
	if len(msg.Params) != 3 {
		c.replyError(s, msg.ID, syntaxError(msg.ParamsRaw, "invalid parameters"))
		return
	}
	mon := s.monitors[canonical(msg.Params[0])]
	if mon == nil {
		c.replyError(s, msg.ID, syntaxError(msg.Params[0], "unknown monitor session"))
		return
	}
	v, _ := jsonnum.Decode(msg.Params[2])
	reqs, ok := v.(map[string]any)
	if !ok {
		c.replyError(s, msg.ID, newError("syntax error", "monitor-cond-change-requests must be object"))
		return
	}
	db := s.m.db
	if mon.db == ServerDatabase {
		db = s.m.server
	}
	newConds := map[string]condition{}
	for _, name := range sortedKeys(reqs) {
		ts := db.schema.tables[name]
		if ts == nil {
			c.replyError(s, msg.ID, newError("syntax error", "no table named %s", name))
			return
		}
		if mon.tables[name] == nil {
			c.replyError(s, msg.ID, newError("syntax error", "no table named %s in monitor session", name))
			return
		}
		arr, ok := reqs[name].([]any)
		if !ok {
			c.replyError(s, msg.ID, newError("syntax error", "table %s no monitor-cond-change JSON array", name))
			return
		}
		cond := mon.tables[name].cond
		for _, e := range arr {
			obj, ok := e.(map[string]any)
			if !ok {
				c.replyError(s, msg.ID, syntaxError(e, "Parsing table %s failed: Type mismatch.", name))
				return
			}
			for _, k := range sortedKeys(obj) {
				if k != "columns" && k != "where" {
					c.replyError(s, msg.ID, syntaxError(e, "Parsing table %s failed: Member '%s' is present but not allowed here.", name, k))
					return
				}
			}
			if _, ok := obj["columns"]; ok {
				c.replyError(s, msg.ID, syntaxError(e, "changing columns is unsupported"))
				return
			}
			if wv, ok := obj["where"]; ok {
				parsed, err := parseConditionValue(wv, ts, nil)
				if err != nil {
					c.replyError(s, msg.ID, ovsErrorOf(err))
					return
				}
				cond = parsed
			}
		}
		newConds[name] = cond
	}
	newKey := canonical(msg.Params[1])
	if newKey != mon.key && s.monitors[newKey] != nil {
		c.replyError(s, msg.ID, syntaxError(msg.Params[1], "duplicate monitor ID"))
		return
	}
	delete(s.monitors, mon.key)
	mon.id, mon.key = msg.Params[1], newKey
	s.monitors[newKey] = mon
	if mon.version == monitorV1 {
		// Plain monitors have no condition; ovsdb-server accepts and
		// ignores the change.
		c.reply(s, msg.ID, []byte("{}"))
		return
	}
	old := map[string]condition{}
	for name, cond := range newConds {
		old[name] = mon.tables[name].cond
		mon.tables[name].cond = cond
	}
	if updates := mon.condChangeUpdates(db, old); len(updates) > 0 {
		c.sendUpdate(s, mon, updates, s.m.txnIDFor(mon.db))
	}
	c.reply(s, msg.ID, []byte("{}"))
}

func (c *Cluster) handleMonitorCancel(s *session, msg *rpcMessage) {
	if len(msg.Params) != 1 {
		c.replyErrorString(s, msg.ID, "invalid parameters")
		return
	}
	key := canonical(msg.Params[0])
	if s.monitors[key] == nil {
		c.replyErrorString(s, msg.ID, "unknown monitor")
		return
	}
	delete(s.monitors, key)
	c.reply(s, msg.ID, []byte("{}"))
}

// sendUpdate sends one update, update2 or update3 notification.
func (c *Cluster) sendUpdate(s *session, mon *monitor, updates map[string]any, txnID string) {
	var params []any
	if mon.version == monitorV3 {
		params = []any{mon.id, txnID, updates}
	} else {
		params = []any{mon.id, updates}
	}
	c.notify(s, updateMethod[mon.version], marshal(params))
}

// deliver sends the updates a change set of database dbName causes to every
// monitor of every session of m. Called with c.mu held.
func (c *Cluster) deliver(m *Member, dbName string, cs changeSet, txnID string) {
	if !m.running || m.frozen {
		return
	}
	for _, s := range m.sortedSessions() {
		for _, mon := range sortedMonitors(s.monitors) {
			if mon.db != dbName {
				continue
			}
			if updates := mon.changeUpdates(cs); updates != nil {
				c.sendUpdate(s, mon, updates, txnID)
			}
		}
	}
}
