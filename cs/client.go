package cs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// maxRecoveries bounds the recoveries kept in Stats.
const maxRecoveries = 64

// Client keeps a replica of one OVSDB database in step with a (clustered)
// ovsdb-server, following the leader. Create it with New and drive it with
// Run. All methods are safe for concurrent use.
type Client struct {
	cfg       config
	database  string
	remotes   []jsonrpc.Remote
	remoteStr string
	log       logr.Logger

	events chan Event
	kick   chan struct{}

	// policy steers the session's reconnections; policyWake asks the Run
	// goroutine to re-read policy.deadline.
	policy     retryPolicy
	policyWake chan struct{}

	mu      sync.Mutex
	m       *machine
	sess    *jsonrpc.Session
	conn    *jsonrpc.Conn
	running bool
	ran     bool
	pending []Event
	waiters map[int64]chan txnOutcome
	// changed is closed (and replaced) whenever the state, the lock or the
	// replica changes, or Run ends: WaitMonitoring and TransactFunc wait
	// on it.
	changed chan struct{}
	// updates counts the Update events (replica changes).
	updates uint64
	// fatal is the terminal configuration error; fatalCh is closed when
	// it is set.
	fatal   error
	fatalCh chan struct{}
	// reqDeadlines are the deadlines of the requests under the request
	// timeout, by request id.
	reqDeadlines map[int64]time.Time

	// Statistics (under mu).
	reconnects     int
	rebuilds       int
	maybeCommitted int
	recoveries     []Recovery
	inRecovery     bool
	recLeft        time.Time
	recFrom        string
	recReason      string
	recAttempts    int
	recBackoffs    int
	everMonitors   bool
	// monSeq is the seqno of the connection the client last reached
	// MONITORING on: a transport drop of it counts as leaving MONITORING
	// even if the server canceled the monitors first (a graceful exit
	// of ovsdb-server sends monitor_canceled, then closes).
	monSeq       uint64
	stepAttempts int
	stepBackoffs int

	// Session observations (under obsMu; the observer runs on the
	// session's goroutine).
	obsMu          sync.Mutex
	attempts       int
	backoffs       int
	attemptsAtDrop int
	backoffsAtDrop int
}

// TxnError reports the first failed operation of a transaction.
type TxnError struct {
	Op      int
	Err     string
	Details string
}

func (e *TxnError) Error() string {
	return fmt.Sprintf("cs: transaction operation %d failed: %s: %s", e.Op, e.Err, e.Details)
}

// New returns a client for database on the servers in remotes, a
// comma-separated OVSDB remote list ("tcp:10.0.0.1:6641,tcp:10.0.0.2:6641",
// optionally with a "cid:UUID" item pinning the cluster). It does not
// connect: call Run.
func New(database, remotes string, opts ...Option) (*Client, error) {
	if database == "" {
		return nil, errors.New("cs: no database name")
	}
	rs, cid, err := jsonrpc.ParseRemotes(remotes)
	if err != nil {
		return nil, fmt.Errorf("cs: %w", err)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	log := cfg.log
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	log = log.WithValues("database", database)
	c := &Client{
		cfg:        cfg,
		database:   database,
		remotes:    rs,
		remoteStr:  remotes,
		log:        log,
		events:     make(chan Event, cfg.eventBuffer),
		kick:       make(chan struct{}, 1),
		policyWake: make(chan struct{}, 1),
		waiters:    map[int64]chan txnOutcome{},
		changed:    make(chan struct{}),
		fatalCh:    make(chan struct{}),
	}
	fp := newFailoverPolicy(cfg.failover, len(rs), log.WithName("failover"))
	fp.notify = func() {
		select {
		case c.policyWake <- struct{}{}:
		default:
		}
	}
	c.policy = fp
	c.m = newMachine(machineConfig{
		database:      database,
		clusterID:     cid,
		leaderOnly:    cfg.leaderOnly,
		maxVersion:    cfg.maxVersion,
		dbChangeAware: cfg.dbChangeAware,
		selection:     cfg.selection,
		lock:          cfg.lock,
		log:           log,
		rejectLimit:   failover.NewLogLimiter(fp.p.Config().LogBurst, fp.p.Config().LogInterval),
	})
	for _, t := range cfg.condOrder {
		if _, _, err := c.m.setCondition(t, cfg.conditions[t]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Events returns the event stream: every event, in order, none dropped.
// The channel has a bounded buffer (WithEventBuffer); when it is full the
// client stops reading from the server until an event is taken, so a
// client whose events are not read stalls (disable events with
// WithEventBuffer(-1) if you only use the replica). Do not wait for
// Transact on the goroutine that reads Events. The channel is closed when
// Run returns.
func (c *Client) Events() <-chan Event { return c.events }

// Run connects and keeps the replica in step until ctx ends; it then closes
// the connection, fails pending transactions with ErrClosed, closes the
// Events channel and returns ctx.Err(). It also returns, with an error
// wrapping ErrConfig, when the server's schema lacks a table or column the
// configuration names (WithTables, WithColumns, WithCondition): that cannot
// heal by itself. Every goroutine it started has ended when it returns. A
// Client runs once.
func (c *Client) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.ran {
		c.mu.Unlock()
		return errors.New("cs: Run called twice")
	}
	c.ran = true
	sess, err := jsonrpc.NewSession(c.remotes, jsonrpc.SessionConfig{
		KeepOrder:     !c.cfg.shuffle,
		MaxBackoff:    c.cfg.maxBackoff,
		ProbeInterval: c.cfg.probe,
		TLSConfig:     c.cfg.tls,
		Dial:          c.cfg.dial,
		Logger:        c.log.WithName("session"),
		Observer:      c.observe,
		Conn: jsonrpc.ConnConfig{
			MaxBacklogMessages: c.cfg.backlogMessages,
			MaxBacklogBytes:    c.cfg.backlogBytes,
			MaxQueuedBytes:     c.cfg.recvQueueBytes,
		},
	})
	if err != nil {
		c.mu.Unlock()
		close(c.events)
		return fmt.Errorf("cs: %w", err)
	}
	c.sess = sess
	c.running = true
	c.mu.Unlock()

	recvCh := make(chan jsonrpc.Event)
	readerCtx, stopReader := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(recvCh)
		for {
			ev, err := sess.Recv(readerCtx)
			if err != nil {
				return
			}
			select {
			case recvCh <- ev:
			case <-readerCtx.Done():
				return
			}
		}
	}()

	defer func() {
		stopReader()
		sess.Close()
		wg.Wait()
		c.mu.Lock()
		c.running = false
		c.conn = nil
		for id, w := range c.waiters {
			w <- txnOutcome{id: id, err: ErrClosed}
			delete(c.waiters, id)
			c.m.forgetTxn(id)
		}
		c.notifyLocked()
		c.mu.Unlock()
		close(c.events)
	}()

	// The request timeout's timer.
	reqTimer := time.NewTimer(time.Hour)
	reqTimer.Stop()
	defer reqTimer.Stop()
	var reqC <-chan time.Time
	rearmReq := func() {
		reqTimer.Stop()
		reqC = nil
		if at, ok := c.nextRequestDeadline(); ok {
			reqTimer.Reset(time.Until(at))
			reqC = reqTimer.C
		}
	}

	// The retry policy's timer (a pending re-sweep).
	var policyTimer *time.Timer
	var policyC <-chan time.Time
	rearm := func() {
		at, ok := c.policy.deadline()
		if !ok {
			if policyTimer != nil {
				policyTimer.Stop()
			}
			policyC = nil
			return
		}
		if policyTimer == nil {
			policyTimer = time.NewTimer(time.Until(at))
		} else {
			policyTimer.Reset(time.Until(at))
		}
		policyC = policyTimer.C
	}
	defer func() {
		if policyTimer != nil {
			policyTimer.Stop()
		}
	}()

	for {
		if !c.deliver(ctx) {
			return ctx.Err()
		}
		rearm()
		rearmReq()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.fatalCh:
			c.mu.Lock()
			err := c.fatal
			c.mu.Unlock()
			return err
		case <-reqC:
			c.expireRequests()
		case <-c.kick:
		case <-c.policyWake:
		case <-policyC:
			c.policy.run(sess)
		case ev, ok := <-recvCh:
			if !ok {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("cs: session ended: %w", jsonrpc.ErrSessionClosed)
			}
			c.step(ev)
		}
	}
}

// deliver hands queued events to the user, waiting while the channel is
// full. It returns false if ctx ended.
func (c *Client) deliver(ctx context.Context) bool {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.pending = nil
			c.mu.Unlock()
			return true
		}
		ev := c.pending[0]
		c.pending[0] = nil
		c.pending = c.pending[1:]
		c.mu.Unlock()
		select {
		case c.events <- ev:
		case <-ctx.Done():
			return false
		}
	}
}

// step feeds one session event to the machine.
func (c *Client) step(ev jsonrpc.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev.Kind {
	case jsonrpc.EventConnected:
		c.conn = ev.Conn
		c.log.V(1).Info("connected", "remote", ev.Remote)
		c.apply(c.m.connect(ev.Seqno, ev.Remote))
	case jsonrpc.EventMessage:
		if ev.Conn != c.conn {
			return
		}
		c.apply(c.m.message(time.Now(), ev.Msg))
	case jsonrpc.EventDisconnected:
		if ev.Conn != c.conn {
			return
		}
		c.conn = nil
		wasMonitoring := c.m.state == Monitoring || (c.monSeq != 0 && ev.Seqno == c.monSeq)
		c.monSeq = 0
		c.apply(c.m.connectionLost(ev.Err))
		if !errors.Is(ev.Err, jsonrpc.ErrForcedReconnect) && c.sess != nil {
			// The session logged the drop ("connection dropped").
			c.policy.dropped(c.sess, ev.Seqno, ev.Remote, wasMonitoring, ev.Err)
		}
	}
}

// apply carries out a machine output; c.mu is held.
func (c *Client) apply(o output) {
	// The counters before the actions run: the baseline of a recovery
	// that starts in this step (the session starts its next attempt as soon
	// as it is forced to reconnect).
	c.obsMu.Lock()
	c.stepAttempts, c.stepBackoffs = c.attempts, c.backoffs
	c.obsMu.Unlock()
	for _, msg := range o.sends {
		if c.conn == nil {
			continue
		}
		if err := c.conn.Send(msg); err != nil {
			c.log.V(1).Info("send failed", "msg", msg.String(), "err", err)
		}
	}
	for _, a := range o.actions {
		if a.kind == actFatal && c.fatal == nil {
			c.fatal = a.reason
			close(c.fatalCh)
		}
		if c.sess == nil || !c.running {
			continue
		}
		switch a.kind {
		case actRetry:
			c.log.V(1).Info("forcing a reconnect", "fromMonitoring", a.fromMonitoring, "err", a.reason)
			c.policy.retry(c.sess, c.connSeq(), c.m.remote, a.fromMonitoring, a.reason)
		case actDisconnect:
			c.policy.disconnect(c.sess, c.connSeq(), c.m.remote, a.fromMonitoring, a.reason)
		}
	}
	for _, t := range o.txns {
		if w, ok := c.waiters[t.id]; ok {
			w <- t
			delete(c.waiters, t.id)
		}
	}
	for _, ev := range o.events {
		c.track(ev)
	}
	if len(o.events) > 0 || len(o.actions) > 0 {
		c.notifyLocked()
	}
	c.trackRequests()
}

// notifyLocked wakes WaitMonitoring and TransactFunc; c.mu is held.
func (c *Client) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// trackRequests starts the request timeout of every request the machine
// now waits for and forgets the answered ones; c.mu is held.
func (c *Client) trackRequests() {
	timeout := c.cfg.requestTimeout
	if timeout <= 0 {
		return
	}
	var buf [2]int64
	ids := c.m.pendingRequests(buf[:0])
	changed := false
	for id := range c.reqDeadlines {
		if !slices.Contains(ids, id) {
			delete(c.reqDeadlines, id)
			changed = true
		}
	}
	for _, id := range ids {
		if _, ok := c.reqDeadlines[id]; !ok {
			if c.reqDeadlines == nil {
				c.reqDeadlines = map[int64]time.Time{}
			}
			c.reqDeadlines[id] = time.Now().Add(timeout)
			changed = true
		}
	}
	if changed {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// nextRequestDeadline returns the earliest request deadline, if any.
func (c *Client) nextRequestDeadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var at time.Time
	for _, d := range c.reqDeadlines {
		if at.IsZero() || d.Before(at) {
			at = d
		}
	}
	return at, !at.IsZero()
}

// expireRequests makes the server unusable for every request past its
// deadline.
func (c *Client) expireRequests() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for id, d := range c.reqDeadlines {
		if d.After(now) {
			continue
		}
		delete(c.reqDeadlines, id)
		c.apply(c.m.requestExpired(id, c.cfg.requestTimeout))
	}
}

// connSeq returns the seqno of the live connection, or 0; c.mu is held.
func (c *Client) connSeq() uint64 {
	if !c.m.connected {
		return 0
	}
	return c.m.seqno
}

func (c *Client) queue(ev Event) {
	if !c.cfg.events {
		return
	}
	c.pending = append(c.pending, ev)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// track updates the statistics for ev and queues it (with a Recovered event
// after the StateChange that ends a recovery); c.mu is held.
func (c *Client) track(ev Event) {
	c.queue(ev)
	switch e := ev.(type) {
	case Update:
		c.updates++
	case Reconnect:
		c.reconnects++
	case StateChange:
		now := time.Now()
		if e.From == Monitoring && e.To != Monitoring && !c.inRecovery {
			c.inRecovery = true
			c.recLeft = now
			c.recFrom = e.Remote
			c.recReason = ""
			if c.m.lastErr != nil {
				c.recReason = c.m.lastErr.Error()
			}
			if c.m.connected {
				c.recAttempts, c.recBackoffs = c.stepAttempts, c.stepBackoffs
			} else {
				c.obsMu.Lock()
				c.recAttempts, c.recBackoffs = c.attemptsAtDrop, c.backoffsAtDrop
				c.obsMu.Unlock()
			}
		}
		if e.To == Monitoring {
			prec, tracked := c.policy.monitoring(c.m.seqno, e.Remote)
			c.monSeq = c.m.seqno
			if c.inRecovery {
				c.inRecovery = false
				c.obsMu.Lock()
				r := Recovery{
					Left:        c.recLeft,
					Duration:    now.Sub(c.recLeft),
					From:        c.recFrom,
					Remote:      e.Remote,
					Reason:      c.recReason,
					Attempts:    c.attempts - c.recAttempts,
					BackoffUsed: c.backoffs > c.recBackoffs,
				}
				c.obsMu.Unlock()
				if tracked {
					// The session also reports backoffs it scheduled that a
					// re-sweep cut short, and the policy assumes the backoff
					// after a drop in OVS mode (the session may still have
					// free tries): a backoff was used if both say so.
					r.Sweeps = prec.Sweeps
					r.BackoffUsed = r.BackoffUsed && prec.BackoffUsed
				}
				if len(c.recoveries) == maxRecoveries {
					copy(c.recoveries, c.recoveries[1:])
					c.recoveries = c.recoveries[:maxRecoveries-1]
				}
				c.recoveries = append(c.recoveries, r)
				c.log.Info("monitoring again", "remote", r.Remote, "recovery", r.Duration, "attempts", r.Attempts, "sweeps", r.Sweeps, "backoffUsed", r.BackoffUsed, "from", r.From, "reason", r.Reason)
				c.queue(Recovered{r})
			} else if !c.everMonitors {
				c.log.Info("monitoring", "remote", e.Remote)
			}
			c.everMonitors = true
		}
	}
}

// observe is the session's Observer.
func (c *Client) observe(o jsonrpc.Observation) {
	c.obsMu.Lock()
	switch o.Kind {
	case jsonrpc.ObserveConnecting:
		c.attempts++
	case jsonrpc.ObserveBackoff:
		if o.Backoff > 0 {
			c.backoffs++
		}
	case jsonrpc.ObserveDisconnected:
		c.attemptsAtDrop, c.backoffsAtDrop = c.attempts, c.backoffs
	}
	c.obsMu.Unlock()
	c.policy.observe(o)
}

// Replica returns the replica of the monitored tables. It is nil until the
// schema is known (the first connection), and is replaced by a new one when
// the server's schema changes (signalled by an Update with Clear). Read it
// with Replica.View for a consistent view.
func (c *Client) Replica() *monitor.Replica {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.replica
}

// State returns the state of the state machine.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.state
}

// IsConnected reports whether the client has a connection to a server.
func (c *Client) IsConnected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.connected
}

// IsAlive reports whether the client runs and may still connect.
func (c *Client) IsAlive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running && c.sess.IsAlive()
}

// LastError returns why the last connection ended or the last server was
// rejected (ErrForced after ForceReconnect, ErrRequestTimeout, ...), or
// the terminal configuration error (ErrConfig), or nil.
func (c *Client) LastError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fatal != nil {
		return c.fatal
	}
	if c.m.lastErr != nil {
		return c.m.lastErr
	}
	if c.sess != nil {
		return c.sess.LastError()
	}
	return nil
}

// SetCondition sets the condition of a monitored table: the replica then
// holds only the rows matching one of the clauses (nil: every row; an empty
// non-nil list: none). It returns the condition seqno at which the replica
// reflects it: wait for ConditionSeqno() >= that number. A table that is not
// monitored, or (once the schema is known) a table or column the server's
// schema lacks, is an error naming the closest valid name (matching
// monitor.ErrBadCondition, and ErrConfig for names the schema lacks).
func (c *Client) SetCondition(table string, cond []ovsdb.Condition) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seq, o, err := c.m.setCondition(table, cond)
	if err != nil {
		return 0, err
	}
	c.apply(o)
	return seq, nil
}

// ConditionSeqno returns the number of condition changes the server has
// acknowledged.
func (c *Client) ConditionSeqno() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.conds.Seqno()
}

// SetLock replaces the lock the client asks for ("" for none), releasing the
// old one.
func (c *Client) SetLock(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apply(c.m.setLock(name))
}

// HasLock reports whether the client holds its lock.
func (c *Client) HasLock() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.hasLock
}

// IsLockContended reports whether another client holds the lock.
func (c *Client) IsLockContended() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.lockContended
}

// SetLeaderOnly changes whether only the leader is acceptable. Turning it on
// re-runs the check against the current server at once.
func (c *Client) SetLeaderOnly(v bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apply(c.m.setLeaderOnly(time.Now(), v))
}

// SetRemotes replaces the remote list. The live connection is kept if its
// remote is still listed and the cluster id is unchanged.
func (c *Client) SetRemotes(remotes string) error {
	rs, cid, err := jsonrpc.ParseRemotes(remotes)
	if err != nil {
		return fmt.Errorf("cs: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cidChanged := cid != c.m.cfg.clusterID
	c.remotes = rs
	c.remoteStr = remotes
	c.m.cfg.clusterID = cid
	c.policy.setRemotes(len(rs))
	if c.sess == nil || !c.running {
		return nil
	}
	if err := c.sess.SetRemotes(rs); err != nil {
		return fmt.Errorf("cs: %w", err)
	}
	if cidChanged && c.m.connected {
		c.log.Info("cluster id changed; reconnecting", "cid", cid)
		c.sess.ForceReconnect()
	}
	return nil
}

// ResetMinIndex forgets the highest Raft index seen, for a cluster rebuilt
// from scratch.
func (c *Client) ResetMinIndex() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.checker.ResetMinIndex()
}

// FlagInconsistency tells the client that the replica does not match the
// server: it clears the last transaction id and reconnects for a full
// resync.
func (c *Client) FlagInconsistency() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var o output
	c.m.flagInconsistency(&o, errors.New("flagged by the user"))
	c.apply(o)
}

// ForceReconnect drops the connection and reconnects: from MONITORING every
// remote is tried once at once; otherwise the backoff applies.
func (c *Client) ForceReconnect() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apply(c.m.forceReconnect(ErrForced))
}

// Stats is a snapshot of a client's state.
type Stats struct {
	State          State
	Remote         string
	Connected      bool
	Synced         bool // a monitor reply was received at least once
	ConditionSeqno uint64
	LastID         string
	MinIndex       int64
	HasLock        bool
	// Reconnects counts connections lost.
	Reconnects int
	// MaybeCommitted counts the transactions that ended with an error
	// matching ErrMaybeCommitted.
	MaybeCommitted int
	// Rebuilds counts the times TransactFunc ran its builder again (after
	// a stale read, a try-again or a maybe-committed outcome).
	Rebuilds int
	// Recoveries lists the last stays outside MONITORING (at most 64),
	// oldest first.
	Recoveries []Recovery
	Session    jsonrpc.SessionStats
}

// Stats returns a snapshot of the client's state.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{
		State:          c.m.state,
		Connected:      c.m.connected,
		Synced:         c.m.synced,
		ConditionSeqno: c.m.conds.Seqno(),
		LastID:         c.m.conds.LastID(),
		MinIndex:       c.m.checker.MinIndex(),
		HasLock:        c.m.hasLock,
		Reconnects:     c.reconnects,
		MaybeCommitted: c.maybeCommitted,
		Rebuilds:       c.rebuilds,
		Recoveries:     append([]Recovery(nil), c.recoveries...),
	}
	if c.m.connected {
		s.Remote = c.m.remote
	}
	if c.sess != nil {
		s.Session = c.sess.Stats()
	}
	return s
}

// Transact runs ops as one transaction and returns the per-operation
// results. It is sent only while MONITORING (and holding the lock, if one
// is set; an assert of the lock is added); otherwise, also before Run
// started or while it connects, it fails at once with an error matching
// ErrTryAgain (see WaitMonitoring). The outcome is one of three kinds
// (docs/transactions.md):
//
//   - nil error: committed; the replica already holds the transaction's
//     changes;
//   - an error matching ErrTryAgain: not sent, safe to send again;
//   - an error matching ErrMaybeCommitted: it may have committed (the
//     connection was lost with it in flight, the server answered
//     "canceled", or ctx ended after it was sent; the latter also matches
//     ctx.Err()). Use TransactFunc for writes that must happen once;
//   - a *TxnError (with the results): an operation failed, nothing was
//     committed.
//
// After Run returned, the error is ErrClosed.
func (c *Client) Transact(ctx context.Context, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	raw := make([]json.RawMessage, len(ops))
	for i := range ops {
		b, err := json.Marshal(ops[i])
		if err != nil {
			return nil, fmt.Errorf("cs: operation %d: %w", i, err)
		}
		raw[i] = b
	}
	res, err := c.transact(ctx, raw)
	if err != nil {
		return nil, err
	}
	results, err := decodeResults(res)
	if err != nil {
		return nil, err
	}
	if te := firstError(results); te != nil {
		return results, te
	}
	return results, nil
}

// TransactRaw is Transact for operations given as a JSON array; it returns
// the raw result array.
func (c *Client) TransactRaw(ctx context.Context, ops json.RawMessage) (json.RawMessage, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(ops, &raw); err != nil {
		return nil, fmt.Errorf("cs: operations: %w", err)
	}
	return c.transact(ctx, raw)
}

func (c *Client) transact(ctx context.Context, ops []json.RawMessage) (json.RawMessage, error) {
	c.mu.Lock()
	if !c.running {
		ran := c.ran
		c.mu.Unlock()
		if !ran {
			return nil, fmt.Errorf("%w: Run has not started yet", ErrNotMonitoring)
		}
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	id, o, err := c.m.transact(ops)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	ch := make(chan txnOutcome, 1)
	c.waiters[id] = ch
	c.apply(o)
	c.mu.Unlock()
	var r txnOutcome
	select {
	case r = <-ch:
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiters, id)
		c.m.forgetTxn(id)
		c.mu.Unlock()
		select {
		case r = <-ch:
		default:
			r.err = fmt.Errorf("%w: %w", ErrMaybeCommitted, ctx.Err())
		}
	}
	if errors.Is(r.err, ErrMaybeCommitted) {
		c.mu.Lock()
		c.maybeCommitted++
		c.mu.Unlock()
	}
	return r.result, r.err
}
