package testserver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// This file is the commit path: the replicated log, the transactions that
// wait for an answer (for a leader, for a "wait" operation, or for the
// member to apply their commit) and the test-side Transact.

func (c *Cluster) entry(index uint64) *logEntry {
	return c.entries[index-c.entries[0].index]
}

// appendEntry adds an entry to the log and lets every member that can
// apply it do so. Called with c.mu held.
func (c *Cluster) appendEntry(txnID string, cs changeSet) *logEntry {
	c.index++
	e := &logEntry{index: c.index, txnID: txnID, changes: cs}
	if cs != nil {
		e.atoms, e.atomsDiff = changeAtoms(c.schema, cs)
		c.db.apply(cs)
	}
	c.entries = append(c.entries, e)
	for _, m := range c.members {
		c.catchUp(m)
	}
	c.runAgain = true
	return e
}

// trimLog forgets entries every member has applied.
func (c *Cluster) trimLog() {
	min := c.index
	for _, m := range c.members {
		if m.applied < min {
			min = m.applied
		}
	}
	n := 0
	for n < len(c.entries) && c.entries[n].index <= min {
		n++
	}
	if n > 0 {
		c.entries = append([]*logEntry(nil), c.entries[n:]...)
	}
}

// pendingTxn is a transaction that has not been answered yet: it waits for
// a reachable leader or for a "wait" operation to be satisfied.
type pendingTxn struct {
	s       *session // nil for Cluster.Transact
	id      json.RawMessage
	idKey   string
	ops     []json.RawMessage
	created time.Time
	timer   *time.Timer
	done    bool
	server  bool           // on the member's read-only _Server database
	result  chan txnAnswer // for Cluster.Transact
}

type txnAnswer struct {
	results json.RawMessage
	err     error
}

func (p *pendingTxn) finish(results json.RawMessage, err error) {
	if p.result != nil {
		p.result <- txnAnswer{results, err}
	}
}

func (c *Cluster) handleTransact(s *session, msg *rpcMessage) {
	_, isServer, ok := c.lookupDB(s, msg)
	if !ok {
		return
	}
	ops := msg.Params[1:]
	key := canonical(msg.ID)
	for _, p := range c.pending {
		if p.s == s && p.idKey == key {
			c.replyErrorString(s, msg.ID, "duplicate request ID")
			return
		}
	}
	p := &pendingTxn{s: s, id: msg.ID, idKey: key, ops: ops, created: time.Now(), server: isServer}
	c.pending = append(c.pending, p)
	c.runPending()
}

// runPending tries every pending transaction, in arrival order, until a
// pass commits nothing. Called with c.mu held.
func (c *Cluster) runPending() {
	if c.inRun {
		c.runAgain = true
		return
	}
	c.inRun = true
	for {
		c.runAgain = false
		for _, p := range append([]*pendingTxn(nil), c.pending...) {
			if !p.done && c.tryPending(p) {
				p.done = true
			}
		}
		keep := c.pending[:0]
		for _, p := range c.pending {
			if !p.done {
				keep = append(keep, p)
			} else if p.timer != nil {
				c.stopTimer(p.timer)
			}
		}
		for i := len(keep); i < len(c.pending); i++ {
			c.pending[i] = nil
		}
		c.pending = keep
		if !c.runAgain || c.closed {
			break
		}
	}
	c.inRun = false
}

// tryPending runs p once; it reports whether p got its answer.
func (c *Cluster) tryPending(p *pendingTxn) bool {
	var m *Member
	if p.s != nil {
		m = p.s.m
	} else if c.leader >= 0 {
		m = c.members[c.leader]
	}
	env := &txnEnv{newUUID: c.newUUID, elapsed: time.Since(p.created)}
	if p.s != nil {
		env.hasLock = p.s.holdsLock
	}
	if p.server {
		env.base, env.readOnly = m.server, true
		out := executeTxn(env, p.ops)
		if out.wait {
			c.armRetry(p, out.retryIn)
			return false
		}
		c.answer(p, m, marshal(out.results), 0)
		return true
	}
	// Run on the member's own view first, as a follower does: reads and
	// failures are answered locally (stale if the member lags); only a
	// transaction with changes goes to the leader.
	if m != nil && m.applied < c.index {
		env.base, env.dryRun = m.db, true
	} else {
		env.base = c.db
	}
	out := executeTxn(env, p.ops)
	if out.wait {
		c.armRetry(p, out.retryIn)
		return false
	}
	if out.failed || out.changes.empty() {
		c.answer(p, m, marshal(out.results), 0)
		return true
	}
	if c.leader < 0 || (m != nil && !m.inCluster()) {
		return c.waitForLeader(p)
	}
	if env.dryRun {
		env.base, env.dryRun = c.db, false
		out = executeTxn(env, p.ops)
		if out.wait {
			c.armRetry(p, out.retryIn)
			return false
		}
		if out.failed || out.changes.empty() {
			c.answer(p, m, marshal(out.results), 0)
			return true
		}
	}
	e := c.appendEntry(c.newUUID(), out.changes)
	c.log.V(1).Info("committed", "index", e.index, "txn", e.txnID)
	c.answer(p, m, marshal(out.results), e.index)
	return true
}

func (c *Cluster) armRetry(p *pendingTxn, in time.Duration) {
	if in <= 0 || p.timer != nil {
		return
	}
	p.timer = c.afterFunc(in, func() {
		p.timer = nil
		c.runPending()
	})
}

// waitForLeader keeps p pending, or answers it when WithCommitTimeout says
// it has waited long enough.
func (c *Cluster) waitForLeader(p *pendingTxn) bool {
	d := c.cfg.commitTimeout
	if d <= 0 {
		return false
	}
	waited := time.Since(p.created)
	if waited >= d {
		if p.s != nil {
			c.replyError(p.s, p.id, newError("cluster error", "not leader"))
		} else {
			p.finish(nil, ErrNoLeader)
		}
		return true
	}
	c.armRetry(p, d-waited)
	return false
}

// answer sends the results of p, after m has applied index (0: at once).
func (c *Cluster) answer(p *pendingTxn, m *Member, results json.RawMessage, index uint64) {
	if p.s == nil {
		p.finish(results, nil)
		return
	}
	send := func() { c.reply(p.s, p.id, results) }
	if index == 0 || m.applied >= index {
		send()
		return
	}
	m.awaiting = append(m.awaiting, awaitReply{index: index, send: send})
}

// dropPending forgets the transactions of a closed session.
func (c *Cluster) dropPending(s *session) {
	for _, p := range c.pending {
		if p.s == s && !p.done {
			p.done = true
			if p.timer != nil {
				c.stopTimer(p.timer)
				p.timer = nil
			}
		}
	}
}

// cancelPending answers the "cancel" notification for request id.
func (c *Cluster) cancelPending(s *session, id json.RawMessage) {
	key := canonical(id)
	for _, p := range c.pending {
		if p.s == s && p.idKey == key && !p.done {
			p.done = true
			if p.timer != nil {
				c.stopTimer(p.timer)
				p.timer = nil
			}
			c.replyErrorString(s, p.id, "canceled")
		}
	}
}

// TxnError reports the first failed operation of a transaction.
type TxnError struct {
	// Op is the index of the failed operation; it equals the number of
	// operations when the commit itself failed.
	Op int
	// Err and Details are the error and details members of the result.
	Err     string
	Details string
}

func (e *TxnError) Error() string {
	return fmt.Sprintf("testserver: transaction operation %d failed: %s: %s", e.Op, e.Err, e.Details)
}

// Transact commits operations through the leader, as a client would, and
// returns the per-operation results. ops is a []ovsdb.Operation, a
// []json.RawMessage of operations, or the JSON text of an array of
// operations ([]byte, json.RawMessage or string). It waits for a leader if
// there is none. A failed operation gives the results and a *TxnError.
// An insert given as an ovsdb.Operation without a Row inserts a row of
// defaults (libovsdb leaves the empty "row" out; ovsdb-server rejects an
// insert without one, and so does the fake on the wire).
func (c *Cluster) Transact(ctx context.Context, ops any) ([]json.RawMessage, error) {
	list, err := operationList(ops)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	p := &pendingTxn{ops: list, created: time.Now(), result: make(chan txnAnswer, 1)}
	c.pending = append(c.pending, p)
	c.runPending()
	c.mu.Unlock()
	var ans txnAnswer
	select {
	case ans = <-p.result:
	case <-ctx.Done():
		c.mu.Lock()
		if !p.done {
			p.done = true
			if p.timer != nil {
				c.stopTimer(p.timer)
			}
			c.mu.Unlock()
			return nil, ctx.Err()
		}
		c.mu.Unlock()
		ans = <-p.result
	}
	if ans.err != nil {
		return nil, ans.err
	}
	var results []json.RawMessage
	if err := json.Unmarshal(ans.results, &results); err != nil {
		return nil, fmt.Errorf("testserver: bad results: %w", err)
	}
	for i, r := range results {
		var e struct {
			Error   *string `json:"error"`
			Details string  `json:"details"`
		}
		if json.Unmarshal(r, &e) == nil && e.Error != nil {
			return results, &TxnError{Op: i, Err: *e.Error, Details: e.Details}
		}
	}
	return results, nil
}

func operationList(ops any) ([]json.RawMessage, error) {
	var raw []byte
	switch x := ops.(type) {
	case []json.RawMessage:
		return x, nil
	case []ovsdb.Operation:
		out := make([]json.RawMessage, len(x))
		for i, op := range x {
			b, err := json.Marshal(op)
			if err != nil {
				return nil, fmt.Errorf("testserver: operation %d: %w", i, err)
			}
			if op.Op == ovsdb.OperationInsert && len(op.Row) == 0 {
				// libovsdb leaves out an empty "row", which ovsdb-server
				// requires on an insert: a row of defaults is meant.
				b = append(b[:len(b)-1], `,"row":{}}`...)
			}
			out[i] = b
		}
		return out, nil
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	case string:
		raw = []byte(x)
	default:
		return nil, fmt.Errorf("testserver: unsupported operations type %T", ops)
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("testserver: operations must be a JSON array: %w", err)
	}
	return out, nil
}
