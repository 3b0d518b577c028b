package cs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/hunt/watcher"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// maxRecoveries bounds the recoveries kept in Stats.
const maxRecoveries = 64

// Client keeps a replica of one OVSDB database in step with a (clustered)
// ovsdb-server, following the leader. Create it with New and drive it with
// Run. All methods are safe for concurrent use.
//
// One goroutine owns the state machine, the session controls and the retry
// policy: Run's (the driver) while Run runs. A user call that changes
// something (SetCondition, Transact's send, ForceReconnect, ...) is a
// command the driver runs (exec); before Run starts and after it returns
// there is no driver, and the caller runs the command itself under c.mu.
// Readers (State, Stats, Replica, ...) read the view the owner publishes
// after every change.
type Client struct {
	cfg      config
	database string
	log      logr.Logger
	events   chan Event

	// cmds carries user commands to the driver.
	cmds chan command
	// The inbox: calls other goroutines (the session's observer, the
	// leader watch) queue for the driver, run in order before its next
	// input (inboxWake: the inbox is not empty).
	inboxMu   sync.Mutex
	inbox     []func()
	inboxWake chan struct{}
	// manual: the leader watch finds the servers; the session only
	// carries the connections it adopts.
	manual bool
	// minIndex mirrors the state machine's highest accepted Raft index
	// (set with the view), for the leader watch's checks (read by its
	// goroutines).
	minIndex atomic.Int64
	// observers are the functions registered with Observe, called by the
	// owner for every event (replaced as a whole under obsMu, read
	// without a lock).
	obsMu     sync.Mutex
	observers atomic.Pointer[[]*observer]

	// Owned by the driver while Run runs, else by the holder of c.mu.
	m       *machine
	policy  retryPolicy
	remotes []jsonrpc.Remote
	conn    *jsonrpc.Conn
	pending []Event
	waiters map[int64]chan txnOutcome
	// updates counts the Update events (replica changes).
	updates uint64
	// fatal is the terminal configuration error.
	fatal error
	// reqDeadlines are the deadlines of the requests under the request
	// timeout, by request id.
	reqDeadlines map[int64]time.Time
	// Statistics.
	reconnects int
	recovered  int // recoveries so far (recoveries keeps the latest)
	// recvClosed counts the bytes received on the connections that ended.
	recvClosed   uint64
	recoveries   []Recovery // replaced, never changed in place (the view shares it)
	inRecovery   bool
	recLeft      time.Time
	recFrom      string
	recReason    string
	recAttempts  int
	recBackoffs  int
	everMonitors bool
	// monSeq is the seqno of the connection the client last reached
	// MONITORING on: a transport drop of it counts as leaving MONITORING
	// even if the server canceled the monitors first (a graceful exit
	// of ovsdb-server sends monitor_canceled, then closes).
	monSeq       uint64
	stepAttempts int
	stepBackoffs int
	// Counts from the session's observations.
	attempts       int
	backoffs       int
	attemptsAtDrop int
	backoffsAtDrop int
	// dropSeqno is the session's seqno after the drop attemptsAtDrop
	// counts to (higher than the seqno of the connection dropped).
	dropSeqno uint64

	// applyMu is held by the driver while it steps the machine on a
	// session event, the only step that changes the replica (an update
	// applied, a new replica for a new schema) and counts Update events.
	// DatabaseSchema and TryReplicaState read those under it, so a reader
	// sees the replica and the count of the updates it holds together.
	applyMu sync.Mutex

	// mu guards the fields below and, while no driver runs, owner.
	mu sync.Mutex
	// running is true while the driver runs (commands go to it); ran once
	// Run was called; runDone is closed when the driver stops taking
	// commands.
	running bool
	ran     bool
	runDone chan struct{}
	sess    *jsonrpc.Session
	view    view
	// changed is closed (and replaced) whenever the view changes, or Run
	// ends: WaitMonitoring and TransactFunc wait on it.
	changed chan struct{}
	// Counted by the callers of Transact and TransactFunc.
	maybeCommitted int
	tryAgain       int
	rebuilds       int
}

// command is a user call run by the owner of the machine; done is closed
// once it ran and the view was published.
type command struct {
	fn   func()
	done chan struct{}
}

// view is what readers see of the owner's state, published after every
// change.
type view struct {
	state         State
	connected     bool
	synced        bool
	remote        string
	condSeqno     uint64
	lastID        string
	minIndex      int64
	hasLock       bool
	lockContended bool
	lastErr       error
	fatal         error
	mayTransact   error
	replica       *monitor.Replica
	updates       uint64
	reconnects    int
	recovered     int
	recoveries    []Recovery
	leader        bool
	monitorVer    int
	// conn is the live connection (its received bytes are read at Stats
	// time), recvClosed the bytes of those that ended.
	conn       *jsonrpc.Conn
	recvClosed uint64
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
		cfg:       cfg,
		database:  database,
		remotes:   rs,
		log:       log,
		events:    make(chan Event, cfg.eventBuffer),
		cmds:      make(chan command),
		inboxWake: make(chan struct{}, 1),
		waiters:   map[int64]chan txnOutcome{},
		changed:   make(chan struct{}),
	}
	fp := newFailoverPolicy(cfg.failover, len(rs), log.WithName("failover"))
	c.policy = fp
	if !cfg.failoverSet && huntable(rs, cfg.leaderOnly) {
		c.manual = true
		if err := cfg.watch.Validate(); err != nil {
			return nil, fmt.Errorf("cs: WithLeaderWatch: %w", err)
		}
		if cfg.watch.MaxBackoff == 0 && cfg.maxBackoff > 0 {
			// WithMaxBackoff caps the members' backoff too (one below the
			// 1 s floor makes Run fail with jsonrpc.ErrInvalidConfig).
			cfg.watch.MaxBackoff = cfg.maxBackoff
		}
		c.policy = newHuntPolicy(watcher.Config{
			Database:  database,
			ClusterID: cid,
			Remotes:   rs,
			Dial:      cfg.dial,
			Watch:     cfg.watch,
			MinIndex:  c.minIndex.Load,
		}, c.post, c.watchRejected, log.WithName("watch"))
	}
	c.m = newMachine(machineConfig{
		database:      database,
		clusterID:     cid,
		leaderOnly:    cfg.leaderOnly,
		maxVersion:    cfg.maxVersion,
		dbChangeAware: cfg.dbChangeAware,
		resyncOrder:   cfg.resyncOrder,
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
	c.view = c.snapshot()
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

// observer is one function registered with Observe.
type observer struct{ f func(Event) }

// Observe calls f with every event the client produces from now on, in
// the order of Events, whether or not events are enabled
// (WithEventBuffer(-1)) and whether or not anyone reads Events: it is how
// a metrics collector or a log counts what happens without taking events
// from the application. It returns a function that stops the calls; an
// event being handed out while stop runs may still reach f, no later one
// does.
//
// f runs on the goroutine that owns the state machine (Run's, the
// driver; before Run starts and after it returns, the goroutine of the
// call that produced the event, with the client's lock held), at the
// moment the event is produced, before Events delivers it. So f must
// return quickly, must not block, and must not call the Client's methods
// (Stats, Transact, ...): the client waits for it, and such a call would
// deadlock. The events are shared with the Events stream: f must not
// change them.
func (c *Client) Observe(f func(Event)) (stop func()) {
	o := &observer{f: f}
	c.obsMu.Lock()
	defer c.obsMu.Unlock()
	var obs []*observer
	if p := c.observers.Load(); p != nil {
		obs = slices.Clone(*p)
	}
	obs = append(obs, o)
	c.observers.Store(&obs)
	return func() {
		c.obsMu.Lock()
		defer c.obsMu.Unlock()
		p := c.observers.Load()
		if p == nil {
			return
		}
		rest := slices.DeleteFunc(slices.Clone(*p), func(x *observer) bool { return x == o })
		c.observers.Store(&rest)
	}
}

// Run connects and keeps the replica in step until ctx ends; it then closes
// the connection, fails pending transactions with ErrClosed, closes the
// Events channel and returns ctx.Err(). It also returns, with an error
// wrapping ErrConfig, when the server's schema lacks a table or column the
// configuration names (WithTables, WithColumns, WithCondition): that cannot
// heal by itself. Every goroutine it started has ended when it returns. A
// Client runs once.
//
// Run's goroutine is the driver: it owns the state machine, the session
// controls and the retry policy, and carries out, one at a time, session
// events, session observations, timers and user commands.
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
		Manual: c.manual,
	})
	if err != nil {
		c.publishLocked()
		c.mu.Unlock()
		close(c.events)
		return fmt.Errorf("cs: %w", err)
	}
	c.sess = sess
	c.running = true
	c.runDone = make(chan struct{})
	c.publishLocked()
	c.mu.Unlock()
	c.policy.bind(sess)

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
		c.policy.close()
		// What the policy handed over before it stopped (a connection
		// to adopt) is carried out, or closed with the session.
		c.runInbox()
		stopReader()
		sess.Close()
		wg.Wait()
		c.mu.Lock()
		// From here on the callers run their commands themselves.
		c.running = false
		close(c.runDone)
		if c.conn != nil {
			c.recvClosed += c.conn.ReceivedBytes()
			c.conn = nil
		}
		for id, w := range c.waiters {
			w <- txnOutcome{id: id, err: ErrClosed}
			delete(c.waiters, id)
			c.m.forgetTxn(id)
		}
		c.publishLocked()
		c.mu.Unlock()
		close(c.events)
	}()

	// The request timeout's timer and the retry policy's (a pending
	// re-sweep).
	reqTimer := newDriverTimer()
	defer reqTimer.stop()
	policyTimer := newDriverTimer()
	defer policyTimer.stop()

	for {
		if !c.deliver(ctx) {
			return ctx.Err()
		}
		if c.fatal != nil {
			return c.fatal
		}
		at, ok := c.policy.deadline()
		policyTimer.set(at, ok)
		at, ok = c.nextRequestDeadline()
		reqTimer.set(at, ok)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case cmd := <-c.cmds:
			c.runInbox()
			c.runCommand(cmd)
			continue
		case <-c.inboxWake:
			c.runInbox()
		case now := <-reqTimer.c:
			c.runInbox()
			c.expireRequests(now)
		case <-policyTimer.c:
			c.runInbox()
			c.policy.run(sess)
		case ev, ok := <-recvCh:
			if !ok {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("cs: session ended: %w", jsonrpc.ErrSessionClosed)
			}
			c.runInbox()
			c.applyMu.Lock()
			c.step(time.Now(), ev)
			c.applyMu.Unlock()
		}
		c.publish()
	}
}

// driverTimer is a timer the driver re-arms to a deadline.
type driverTimer struct {
	t *time.Timer
	c <-chan time.Time
}

func newDriverTimer() *driverTimer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &driverTimer{t: t}
}

// set arms the timer for at (ok) or disarms it.
func (d *driverTimer) set(at time.Time, ok bool) {
	d.t.Stop()
	d.c = nil
	if ok {
		d.t.Reset(time.Until(at))
		d.c = d.t.C
	}
}

func (d *driverTimer) stop() { d.t.Stop() }

// deliver hands queued events to the user, waiting while the channel is
// full (and running the user's commands and its inbox meanwhile). It returns false if
// ctx ended.
func (c *Client) deliver(ctx context.Context) bool {
	for len(c.pending) > 0 {
		ev := c.pending[0]
		select {
		case c.events <- ev:
			c.pending[0] = nil
			c.pending = c.pending[1:]
		case cmd := <-c.cmds:
			c.runInbox()
			c.runCommand(cmd)
		case <-c.inboxWake:
			c.runInbox()
			c.publish()
		case <-ctx.Done():
			return false
		}
	}
	c.pending = nil
	return true
}

// runCommand runs a user command on the driver and publishes its effects
// before the caller resumes.
func (c *Client) runCommand(cmd command) {
	cmd.fn()
	c.publish()
	close(cmd.done)
}

// exec runs fn as the owner of the machine: on the driver while Run runs
// (fn must not block), else on the caller's goroutine under c.mu. It
// returns ctx.Err() if ctx ends before the driver took the command.
func (c *Client) exec(ctx context.Context, fn func()) error {
	for {
		c.mu.Lock()
		if !c.running {
			fn()
			c.publishLocked()
			c.mu.Unlock()
			return nil
		}
		runDone := c.runDone
		c.mu.Unlock()
		cmd := command{fn: fn, done: make(chan struct{})}
		select {
		case c.cmds <- cmd:
			<-cmd.done
			return nil
		case <-runDone:
			// Run ended before taking the command: run it here.
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// publish makes the owner's state visible to readers.
func (c *Client) publish() {
	c.mu.Lock()
	c.publishLocked()
	c.mu.Unlock()
}

// publishLocked is publish with c.mu held; it wakes WaitMonitoring and
// TransactFunc.
func (c *Client) publishLocked() {
	c.view = c.snapshot()
	c.minIndex.Store(c.view.minIndex)
	close(c.changed)
	c.changed = make(chan struct{})
}

// snapshot returns the view of the owner's state.
func (c *Client) snapshot() view {
	m := c.m
	v := view{
		state:         m.state,
		connected:     m.connected,
		synced:        m.synced,
		condSeqno:     m.conds.Seqno(),
		lastID:        m.conds.LastID(),
		minIndex:      m.checker.MinIndex(),
		hasLock:       m.hasLock,
		lockContended: m.lockContended,
		lastErr:       m.lastErr,
		fatal:         c.fatal,
		mayTransact:   m.mayTransact(),
		replica:       m.replica,
		updates:       c.updates,
		reconnects:    c.reconnects,
		recovered:     c.recovered,
		recoveries:    c.recoveries,
		conn:          c.conn,
		recvClosed:    c.recvClosed,
	}
	if m.connected {
		v.remote = m.remote
		if !m.leaving {
			v.monitorVer = m.dataMonitorVersion
			v.leader = m.serverLeader
		}
	}
	return v
}

// step feeds one session event to the machine.
func (c *Client) step(now time.Time, ev jsonrpc.Event) {
	switch ev.Kind {
	case jsonrpc.EventConnected:
		c.conn = ev.Conn
		c.log.V(1).Info("connected", "remote", ev.Remote)
		c.apply(now, c.m.connect(ev.Seqno, ev.Remote))
	case jsonrpc.EventMessage:
		if ev.Conn != c.conn {
			return
		}
		c.policy.heard()
		c.apply(now, c.m.message(now, ev.Msg))
	case jsonrpc.EventDisconnected:
		if ev.Conn != c.conn {
			return
		}
		c.conn = nil
		c.recvClosed += ev.Conn.ReceivedBytes()
		wasMonitoring := c.m.state == Monitoring || (c.monSeq != 0 && ev.Seqno == c.monSeq)
		c.monSeq = 0
		c.apply(now, c.m.connectionLost(ev.Err))
		if !errors.Is(ev.Err, jsonrpc.ErrForcedReconnect) && c.sess != nil {
			// The session logged the drop ("connection dropped").
			c.policy.dropped(c.sess, ev.Seqno, ev.Remote, wasMonitoring, ev.Err)
		}
	}
}

// apply carries out a machine output at now; the caller owns the machine.
func (c *Client) apply(now time.Time, o output) {
	// The counters before the actions run: the baseline of a recovery
	// that starts in this step (the session starts its next attempt as soon
	// as it is forced to reconnect).
	c.stepAttempts, c.stepBackoffs = c.attempts, c.backoffs
	for _, st := range o.streams {
		if c.conn != nil {
			c.conn.ExpectResult(uint64(st.id), st.dec)
		}
	}
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
	// Events first: an observer has seen a transaction's TxnReply when
	// Transact returns its outcome.
	for _, ev := range o.events {
		c.track(now, ev)
	}
	for _, t := range o.txns {
		if w, ok := c.waiters[t.id]; ok {
			w <- t
			delete(c.waiters, t.id)
		}
	}
	c.trackRequests(now)
}

// trackRequests starts the request timeout of every request the machine
// now waits for and forgets the answered ones.
func (c *Client) trackRequests(now time.Time) {
	timeout := c.cfg.requestTimeout
	if timeout <= 0 {
		return
	}
	var buf [2]int64
	ids := c.m.pendingRequests(buf[:0])
	for id := range c.reqDeadlines {
		if !slices.Contains(ids, id) {
			delete(c.reqDeadlines, id)
		}
	}
	for _, id := range ids {
		if _, ok := c.reqDeadlines[id]; !ok {
			if c.reqDeadlines == nil {
				c.reqDeadlines = map[int64]time.Time{}
			}
			c.reqDeadlines[id] = now.Add(timeout)
		}
	}
}

// nextRequestDeadline returns the earliest request deadline, if any.
func (c *Client) nextRequestDeadline() (time.Time, bool) {
	var at time.Time
	for _, d := range c.reqDeadlines {
		if at.IsZero() || d.Before(at) {
			at = d
		}
	}
	return at, !at.IsZero()
}

// expireRequests makes the server unusable for every request past its
// deadline at now.
func (c *Client) expireRequests(now time.Time) {
	for id, d := range c.reqDeadlines {
		if d.After(now) {
			continue
		}
		delete(c.reqDeadlines, id)
		c.apply(now, c.m.requestExpired(id, c.cfg.requestTimeout))
	}
}

// connSeq returns the seqno of the live connection, or 0.
func (c *Client) connSeq() uint64 {
	if !c.m.connected {
		return 0
	}
	return c.m.seqno
}

func (c *Client) queue(ev Event) {
	if obs := c.observers.Load(); obs != nil {
		for _, o := range *obs {
			o.f(ev)
		}
	}
	if !c.cfg.events {
		return
	}
	c.pending = append(c.pending, ev)
}

// track updates the statistics for ev and queues it (with a Recovered event
// after the StateChange that ends a recovery).
func (c *Client) track(now time.Time, ev Event) {
	c.queue(ev)
	switch e := ev.(type) {
	case Update:
		c.updates++
	case Reconnect:
		c.reconnects++
	case StateChange:
		if e.From == Monitoring && e.To != Monitoring && !c.inRecovery {
			c.inRecovery = true
			c.recLeft = now
			c.recFrom = e.Remote
			c.recReason = ""
			if c.m.lastErr != nil {
				c.recReason = c.m.lastErr.Error()
			}
			switch {
			case c.m.connected:
				c.recAttempts, c.recBackoffs = c.stepAttempts, c.stepBackoffs
			case c.dropSeqno > c.m.seqno:
				// The session reported the drop: count from it.
				c.recAttempts, c.recBackoffs = c.attemptsAtDrop, c.backoffsAtDrop
			default:
				// The session's report of the drop is still on its way
				// (observations are handed over after the session's
				// event): no attempt after the drop was counted yet.
				c.recAttempts, c.recBackoffs = c.attempts, c.backoffs
			}
		}
		if e.To == Monitoring {
			prec, tracked := c.policy.monitoring(c.m.seqno, e.Remote)
			c.monSeq = c.m.seqno
			if c.inRecovery {
				c.inRecovery = false
				r := Recovery{
					Left:        c.recLeft,
					Duration:    now.Sub(c.recLeft),
					From:        c.recFrom,
					Remote:      e.Remote,
					Reason:      c.recReason,
					Attempts:    c.attempts - c.recAttempts,
					BackoffUsed: c.backoffs > c.recBackoffs,
				}
				switch {
				case tracked && prec.own:
					// The leader watch made every attempt itself.
					r.Attempts, r.BackoffUsed = prec.attempts, prec.backoffUsed
					if w := prec.watch; w != nil {
						r.Left, r.Duration = w.Start, w.Duration
						r.Watchers, r.Found, r.Suspected = w.Watchers, w.Found.String(), w.Suspected
					}
				case tracked:
					// The session also reports backoffs it scheduled that a
					// re-sweep cut short, and the policy assumes the backoff
					// after a drop in OVS mode (the session may still have
					// free tries): a backoff was used if both say so.
					r.Sweeps = prec.sweeps
					r.BackoffUsed = r.BackoffUsed && prec.backoffUsed
				}
				// A new slice: the published view shares the old one.
				keep := c.recoveries
				if len(keep) == maxRecoveries {
					keep = keep[1:]
				}
				c.recoveries = append(slices.Clone(keep), r)
				c.recovered++
				c.log.Info("monitoring again", "remote", r.Remote, "recovery", r.Duration, "attempts", r.Attempts, "sweeps", r.Sweeps, "backoffUsed", r.BackoffUsed, "from", r.From, "reason", r.Reason)
				c.queue(Recovered{r})
			} else if !c.everMonitors {
				c.log.Info("monitoring", "remote", e.Remote)
			}
			c.everMonitors = true
		}
	}
}

// watchRejected tells the user that the leader watch rejected remote's
// server (its _Server row failed the check with err), as the state
// machine does for a server it rejects on its own connection. It runs on
// the driver.
func (c *Client) watchRejected(remote string, err error) {
	now := time.Now()
	c.apply(now, c.m.watchRejected(now, remote, err))
}

// post queues fn for the driver, which runs it before its next input; it
// is how a goroutine other than the owner (the session's observer) hands
// the owner work. Before Run starts nothing calls it.
func (c *Client) post(fn func()) {
	c.inboxMu.Lock()
	c.inbox = append(c.inbox, fn)
	c.inboxMu.Unlock()
	select {
	case c.inboxWake <- struct{}{}:
	default:
	}
}

// runInbox runs the queued calls, in order. The driver calls it before
// every other input, so that (for example) the counters and the retry
// policy see every observation the session made before the event it
// handles.
func (c *Client) runInbox() {
	c.inboxMu.Lock()
	q := c.inbox
	c.inbox = nil
	c.inboxMu.Unlock()
	for _, fn := range q {
		fn()
	}
}

// observe is the session's Observer: it runs on the session's goroutine
// and hands o to the driver.
func (c *Client) observe(o jsonrpc.Observation) { c.post(func() { c.observed(o) }) }

// observed counts o and shows it to the retry policy.
func (c *Client) observed(o jsonrpc.Observation) {
	switch o.Kind {
	case jsonrpc.ObserveConnecting:
		c.attempts++
	case jsonrpc.ObserveBackoff:
		if o.Backoff > 0 {
			c.backoffs++
		}
	case jsonrpc.ObserveDisconnected:
		c.attemptsAtDrop, c.backoffsAtDrop = c.attempts, c.backoffs
		c.dropSeqno = o.Seqno
	}
	c.policy.observe(o)
}

// Replica returns the replica of the monitored tables. It is nil until the
// schema is known (the first connection), and is replaced by a new one when
// the server's schema changes (signalled by an Update with Clear). Read it
// with Replica.View for a consistent view.
func (c *Client) Replica() *monitor.Replica { return c.read().replica }

// read returns the published view.
func (c *Client) read() view {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.view
}

// State returns the state of the state machine.
func (c *Client) State() State { return c.read().state }

// IsConnected reports whether the client has a connection to a server.
func (c *Client) IsConnected() bool { return c.read().connected }

// IsAlive reports whether the client runs and may still connect.
func (c *Client) IsAlive() bool {
	c.mu.Lock()
	running, sess := c.running, c.sess
	c.mu.Unlock()
	return running && sess.IsAlive()
}

// LastError returns why the last connection ended or the last server was
// rejected (ErrForced after ForceReconnect, ErrRequestTimeout, ...), or
// the terminal configuration error (ErrConfig), or nil.
func (c *Client) LastError() error {
	c.mu.Lock()
	v, sess := c.view, c.sess
	c.mu.Unlock()
	switch {
	case v.fatal != nil:
		return v.fatal
	case v.lastErr != nil:
		return v.lastErr
	case sess != nil:
		return sess.LastError()
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
	var (
		seq uint64
		err error
	)
	c.do(func(now time.Time) {
		var o output
		seq, o, err = c.m.setCondition(table, cond)
		if err == nil {
			c.apply(now, o)
		}
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// do runs a user command that cannot be canceled (see exec).
func (c *Client) do(fn func(now time.Time)) {
	_ = c.exec(context.Background(), func() { fn(time.Now()) })
}

// ConditionSeqno returns the number of condition changes the server has
// acknowledged.
func (c *Client) ConditionSeqno() uint64 { return c.read().condSeqno }

// SetLock replaces the lock the client asks for ("" for none), releasing the
// old one.
func (c *Client) SetLock(name string) {
	c.do(func(now time.Time) { c.apply(now, c.m.setLock(name)) })
}

// HasLock reports whether the client holds its lock.
func (c *Client) HasLock() bool { return c.read().hasLock }

// IsLockContended reports whether another client holds the lock.
func (c *Client) IsLockContended() bool { return c.read().lockContended }

// SetLeaderOnly changes whether only the leader is acceptable. Turning it on
// re-runs the check against the current server at once.
func (c *Client) SetLeaderOnly(v bool) {
	c.do(func(now time.Time) { c.apply(now, c.m.setLeaderOnly(now, v)) })
}

// SetRemotes replaces the remote list. The live connection is kept if its
// remote is still listed and the cluster id is unchanged.
func (c *Client) SetRemotes(remotes string) error {
	rs, cid, err := jsonrpc.ParseRemotes(remotes)
	if err != nil {
		return fmt.Errorf("cs: %w", err)
	}
	c.do(func(time.Time) {
		cidChanged := cid != c.m.cfg.clusterID
		if err = c.policy.setRemotes(rs, cid); err != nil {
			err = fmt.Errorf("cs: %w", err)
			return
		}
		c.remotes = rs
		c.m.cfg.clusterID = cid
		if c.sess == nil || !c.running {
			return
		}
		if err = c.sess.SetRemotes(rs); err != nil {
			err = fmt.Errorf("cs: %w", err)
			return
		}
		if cidChanged && c.m.connected {
			c.log.Info("cluster id changed; reconnecting", "cid", cid)
			c.sess.ForceReconnect()
		}
	})
	return err
}

// ResetMinIndex forgets the highest Raft index seen, for a cluster rebuilt
// from scratch.
func (c *Client) ResetMinIndex() {
	c.do(func(time.Time) { c.m.checker.ResetMinIndex() })
}

// FlagInconsistency tells the client that the replica does not match the
// server: it clears the last transaction id and reconnects for a full
// resync.
func (c *Client) FlagInconsistency() {
	c.do(func(now time.Time) {
		var o output
		c.m.flagInconsistency(&o, errors.New("flagged by the user"))
		c.apply(now, o)
	})
}

// ForceReconnect drops the connection and reconnects: from MONITORING every
// remote is tried once at once; otherwise the backoff applies.
func (c *Client) ForceReconnect() {
	c.do(func(now time.Time) { c.apply(now, c.m.forceReconnect(ErrForced)) })
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
	// Leader is the leader flag of the _Server.Database row of the
	// connected server, as last checked: true for the cluster leader (and
	// for a standalone server), false for a follower or a relay, and false
	// while not connected, while leaving a server, or when the server has
	// no _Server database.
	Leader bool
	// MonitorVersion is the version of the data monitor in use on the
	// connection: 3 (monitor_cond_since), 2 (monitor_cond), 1 (monitor),
	// or 0 when there is none (not connected, not MONITORING yet, or
	// leaving the server).
	MonitorVersion int
	// ReceivedBytes counts the bytes received from servers over every
	// connection of the client (Session.ReceivedBytes counts the current
	// connection only). The leader watch's own connections count once
	// they are adopted.
	ReceivedBytes uint64
	// Reconnects counts connections lost.
	Reconnects int
	// RecoveryCount counts the recoveries (stays outside MONITORING that
	// ended in MONITORING again) since the client was created; Recoveries
	// keeps only the latest.
	RecoveryCount int
	// MaybeCommitted counts the transactions that ended with an error
	// matching ErrMaybeCommitted.
	MaybeCommitted int
	// TryAgain counts the transactions that ended with an error matching
	// ErrTryAgain (not sent, or refused: safe to send again).
	TryAgain int
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
	v, sess := c.view, c.sess
	s := Stats{
		State:          v.state,
		Remote:         v.remote,
		Connected:      v.connected,
		Synced:         v.synced,
		ConditionSeqno: v.condSeqno,
		LastID:         v.lastID,
		MinIndex:       v.minIndex,
		HasLock:        v.hasLock,
		Leader:         v.leader,
		MonitorVersion: v.monitorVer,
		ReceivedBytes:  v.recvClosed,
		Reconnects:     v.reconnects,
		RecoveryCount:  v.recovered,
		MaybeCommitted: c.maybeCommitted,
		TryAgain:       c.tryAgain,
		Rebuilds:       c.rebuilds,
		Recoveries:     slices.Clone(v.recoveries),
	}
	c.mu.Unlock()
	if v.conn != nil {
		s.ReceivedBytes += v.conn.ReceivedBytes()
	}
	if sess != nil {
		s.Session = sess.Stats()
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
	raw, err := marshalOperations(make([]json.RawMessage, 0, len(ops)), ops)
	if err != nil {
		return nil, err
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

// countOutcome counts a transaction's outcome in Stats.
func (c *Client) countOutcome(err error) {
	maybe, again := errors.Is(err, ErrMaybeCommitted), errors.Is(err, ErrTryAgain)
	if !maybe && !again {
		return
	}
	c.mu.Lock()
	if maybe {
		c.maybeCommitted++
	} else {
		c.tryAgain++
	}
	c.mu.Unlock()
}

// transact sends ops (a command of the driver) and waits for the outcome
// on the caller's goroutine.
func (c *Client) transact(ctx context.Context, ops []json.RawMessage) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan txnOutcome, 1)
	var (
		id  int64
		err error
	)
	if xerr := c.exec(ctx, func() {
		if !c.running {
			if !c.ran {
				err = fmt.Errorf("%w: Run has not started yet", ErrNotMonitoring)
			} else {
				err = ErrClosed
			}
			return
		}
		var o output
		id, o, err = c.m.transact(ops)
		if err != nil {
			return
		}
		c.waiters[id] = ch
		c.apply(time.Now(), o)
	}); xerr != nil {
		return nil, xerr
	}
	if err != nil {
		c.countOutcome(err)
		return nil, err
	}
	var r txnOutcome
	select {
	case r = <-ch:
	case <-ctx.Done():
		c.do(func(time.Time) {
			delete(c.waiters, id)
			c.m.forgetTxn(id)
		})
		select {
		case r = <-ch:
		default:
			r.err = fmt.Errorf("%w: %w", ErrMaybeCommitted, ctx.Err())
		}
	}
	c.countOutcome(r.err)
	return r.result, r.err
}
