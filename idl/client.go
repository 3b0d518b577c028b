package idl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Client is a typed client: a cs.Client monitoring the tables and columns of
// a libovsdb ClientDBModel, with a typed view (reads, indexes), per-table
// event handlers and checked operation builders. Its API embeds the reads
// and builders of libovsdb's client.API.
type Client struct {
	*Cache
	core    *cs.Client
	onEvent func(cs.Event)
	ran     atomic.Bool
}

// Cache is the typed view with its indexes and handlers, kept in step by
// Client.Run, or by Process for a replica the caller keeps itself. Its API
// reads it.
type Cache struct {
	API
	db  *dbModel
	log logr.Logger

	mu sync.RWMutex
	st *state // nil until the schema has arrived and fits the model

	subMu sync.Mutex
	subs  []*subscription

	syncMu   sync.Mutex
	synced   bool
	err      error // model validation failure: Run stops
	syncedCh chan struct{}

	applied chan struct{} // closed (and replaced) when the view changes and waiting > 0; under mu
	waiting atomic.Int32  // goroutines in awaitRows
	// processed counts the cs.Update events Client.Run has processed.
	processed atomic.Uint64
	stopOnce  sync.Once
	stopped   chan struct{} // closed when Run has returned (never for a bare Cache)
}

// Option configures New.
type Option func(*options)

type options struct {
	cs      []cs.Option
	log     logr.Logger
	buffer  int
	onEvent func(cs.Event)
}

// WithCoreOptions passes options to the cs.Client underneath (remotes
// policy, TLS, dialer, conditions, ...). The monitored tables and columns
// are the model's, and the event buffer is WithEventBuffer's: options
// changing them are overridden.
func WithCoreOptions(opts ...cs.Option) Option {
	return func(o *options) { o.cs = append(o.cs, opts...) }
}

// WithEventBuffer sets how many updates the cs.Client may queue ahead of
// the handlers (default 64, at least 1); when they are queued the client
// stops reading from the server (backpressure).
func WithEventBuffer(n int) Option { return func(o *options) { o.buffer = max(n, 1) } }

// WithEventFunc makes Run call f with every event of the cs.Client other
// than updates (state changes, reconnects, recoveries, locks, transaction
// replies), in order, on Run's goroutine (so, like a handler, f must not
// wait for a transaction).
func WithEventFunc(f func(cs.Event)) Option { return func(o *options) { o.onEvent = f } }

// WithLogger sets the logger, also given to the cs.Client.
func WithLogger(l logr.Logger) Option {
	return func(o *options) { o.log = l; o.cs = append(o.cs, cs.WithLogger(l)) }
}

// New returns a client for the database of m at remotes (a comma-separated
// list, as for cs.New). It monitors every table of m with every column its
// models name. Call Run.
func New(m model.ClientDBModel, remotes string, opts ...Option) (*Client, error) {
	db, err := newDBModel(m)
	if err != nil {
		return nil, err
	}
	o := options{log: logr.Discard(), buffer: 64}
	for _, opt := range opts {
		opt(&o)
	}
	var copts []cs.Option
	copts = append(copts, o.cs...)
	copts = append(copts, cs.WithEventBuffer(o.buffer))
	for table, cols := range db.columns() {
		copts = append(copts, cs.WithColumns(table, cols...))
	}
	core, err := cs.New(m.Name(), remotes, copts...)
	if err != nil {
		return nil, err
	}
	return &Client{Cache: newCache(db, o.log), core: core, onEvent: o.onEvent}, nil
}

// NewCache returns an empty typed view of m, to be fed with Process.
func NewCache(m model.ClientDBModel, log logr.Logger) (*Cache, error) {
	db, err := newDBModel(m)
	if err != nil {
		return nil, err
	}
	return newCache(db, log), nil
}

func newCache(db *dbModel, log logr.Logger) *Cache {
	c := &Cache{db: db, log: log, syncedCh: make(chan struct{}), applied: make(chan struct{}), stopped: make(chan struct{})}
	c.API = API{r: c}
	return c
}

// Core returns the cs.Client underneath (state, stats, conditions, raw
// replica). Do not read its Events: Run does.
func (c *Client) Core() *cs.Client { return c.core }

// AddEventHandler subscribes h to the changes of the given tables (every
// table of the model if none). Handlers are called on Run's goroutine, in
// the order the server sent the changes, after the view holds them; each
// subscriber sees every change (none is dropped), and a slow handler holds
// back the client (as cs.Client.Events does). A handler must not wait for
// a transaction: queue the work for another goroutine.
func (c *Cache) AddEventHandler(h EventHandler, tables ...string) {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	s := &subscription{h: h}
	if len(tables) > 0 {
		s.tables = append([]string(nil), tables...)
	}
	c.subs = append(c.subs, s)
}

func (c *Cache) subscribers() []*subscription {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	return c.subs
}

// Run runs the cs.Client and keeps the typed view in step until ctx ends or
// the server's schema does not fit the model (an error matching ErrModel
// that names the table and column: from the model check, or from the core
// when the server lacks a table or column the model monitors).
func (c *Client) Run(ctx context.Context) error {
	if c.ran.Swap(true) {
		return errors.New("idl: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.stopOnce.Do(func() { close(c.stopped) })
	done := make(chan error, 1)
	go func() { done <- c.core.Run(ctx) }()
	var runErr error
	for ev := range c.core.Events() {
		u, ok := ev.(cs.Update)
		if !ok {
			if c.onEvent != nil && runErr == nil {
				c.onEvent(ev)
			}
			continue
		}
		if runErr != nil {
			continue
		}
		odb, rep := c.core.DatabaseSchema()
		err := c.Process(odb, rep, u)
		c.processed.Add(1)
		if err != nil {
			c.log.Error(err, "server schema does not fit the model; stopping")
			c.fail(err)
			runErr = err
			cancel()
		}
	}
	err := <-done
	if runErr != nil {
		return runErr
	}
	if errors.Is(err, cs.ErrConfig) {
		// The core refused the server's schema for the tables and columns
		// the model asked for: the model does not fit it.
		err = fmt.Errorf("%w: %w", ErrModel, err)
		c.fail(err)
	}
	return err
}

// Process applies one update of replica rep (whose server schema is odb) to
// the typed view and calls the handlers. It binds the model to the schema
// on the first update and after a schema change (an error matching
// ErrModel if it does not fit). Client.Run calls it for every cs.Update;
// call it yourself only for a Cache of your own.
func (c *Cache) Process(odb *ovsdb.DatabaseSchema, rep *monitor.Replica, u cs.Update) error {
	c.mu.RLock()
	cur := c.st
	c.mu.RUnlock()
	if cur == nil || (u.Clear && cur.si.replica != rep) {
		return c.rebind(cur, odb, rep, u)
	}
	if !cur.fits(u.Changes) {
		// Made with a schema that was replaced since; the resync that
		// follows the replacement brings the view up to date.
		return nil
	}
	c.mu.Lock()
	cur.apply(u.Changes)
	c.bump()
	c.mu.Unlock()
	dispatchRowChanges(c.subscribers(), cur, u.Changes)
	if u.MonitorReply {
		c.markSynced()
	}
	return nil
}

// rebind binds the model to a new schema (the first, or a changed one) and
// replaces the view with the update's rows, reporting the difference from
// the old view.
func (c *Cache) rebind(cur *state, odb *ovsdb.DatabaseSchema, rep *monitor.Replica, u cs.Update) error {
	si, err := c.db.bind(odb, rep)
	if err != nil {
		return err
	}
	st := newState(si)
	if !st.fits(u.Changes) {
		return nil
	}
	st.apply(u.Changes)
	c.mu.Lock()
	c.st = st
	c.bump()
	c.mu.Unlock()
	c.log.V(1).Info("typed view bound to the server schema", "database", odb.Name, "version", odb.Version)
	dispatch(c.subscribers(), diffStates(cur, st))
	if u.MonitorReply {
		c.markSynced()
	}
	return nil
}

// bump wakes the goroutines in awaitRows; c.mu is held for writing. (A
// goroutine that starts waiting after the check reads the view under c.mu
// after this change, so it misses nothing.)
func (c *Cache) bump() {
	if c.waiting.Load() > 0 {
		close(c.applied)
		c.applied = make(chan struct{})
	}
}

func (c *Cache) markSynced() {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if !c.synced && c.err == nil {
		c.synced = true
		close(c.syncedCh)
	}
}

func (c *Cache) fail(err error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if c.err == nil && !c.synced {
		c.err = err
		close(c.syncedCh)
	} else if c.err == nil {
		c.err = err
	}
}

// WaitSynced waits until the typed view holds the server's contents (the
// first monitor reply has been processed), or returns the model error that
// stopped Run, or ctx's error.
func (c *Cache) WaitSynced(ctx context.Context) error {
	select {
	case <-c.syncedCh:
	case <-ctx.Done():
		return ctx.Err()
	}
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	return c.err
}

// Synced reports whether the typed view has been synced once.
func (c *Cache) Synced() bool {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	return c.synced
}

// read runs fn on the typed view, under its read lock: keep fn short.
func (c *Cache) read(fn func(src source) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.st == nil {
		return ErrNotSynced
	}
	return fn(stateSource{c.st})
}

// View calls fn with a consistent view: every read through v sees the same
// state of the typed view (no update is applied while fn runs, so keep fn
// short, and do not call Transact or TransactFunc from it).
func (c *Cache) View(fn func(v API) error) error {
	return c.read(func(src source) error { return fn(API{r: fixed{src}}) })
}

// fixed is a reader over a source already locked.
type fixed struct{ src source }

func (f fixed) read(fn func(src source) error) error { return fn(f.src) }

// Tx is the view of the replica a transaction is built on (TransactFunc):
// its reads and selections see the replica as of the transaction, and the
// retry helper checks at commit that what was read has not changed.
type Tx struct {
	API
	src txSource
}

func (t *Tx) read(fn func(src source) error) error { return fn(t.src) }

// ReadTx returns the typed API over a replica read transaction, for use
// inside cs.Client.TransactFunc's build function: typed reads go through tx,
// so the retry helper sees (and verifies) them.
func (c *Cache) ReadTx(tx monitor.ReadTx) (*Tx, error) {
	c.mu.RLock()
	st := c.st
	c.mu.RUnlock()
	if st == nil {
		return nil, ErrNotSynced
	}
	t := &Tx{src: txSource{si: st.si, tx: tx, c: c, stale: new(bool)}}
	t.API = API{r: t}
	return t, nil
}

// Transact sends ops as one transaction and returns the results; a failed
// operation gives a *cs.TxnError. Wait operations keep "rows" and inserts
// "row" when empty (see MarshalOperations).
func (c *Client) Transact(ctx context.Context, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	raw, err := MarshalOperations(ops)
	if err != nil {
		return nil, err
	}
	res, err := c.core.TransactRaw(ctx, raw)
	if err != nil {
		return nil, err
	}
	var results []ovsdb.OperationResult
	if err := json.Unmarshal(res, &results); err != nil {
		return nil, fmt.Errorf("idl: transact reply: %w", err)
	}
	for i, r := range results {
		if r.Error != "" {
			return results, &cs.TxnError{Op: i, Err: r.Error, Details: r.Details}
		}
	}
	if err := c.awaitRows(ctx, touched(ops, results)); err != nil {
		return results, err
	}
	return results, nil
}

// rowRef names a row a transaction wrote.
type rowRef struct {
	table string
	id    monitor.UUID
}

// touched lists the rows ops wrote that it names: the rows inserted, and
// the rows updated, mutated or deleted by _uuid (as the builders select
// rows the view holds).
func touched(ops []ovsdb.Operation, results []ovsdb.OperationResult) []rowRef {
	var out []rowRef
	add := func(table, id string) {
		if u, err := monitor.ParseUUID(id); err == nil {
			out = append(out, rowRef{table, u})
		}
	}
	for i, op := range ops {
		switch op.Op {
		case ovsdb.OperationInsert:
			if i < len(results) {
				add(op.Table, results[i].UUID.GoUUID)
			}
		case ovsdb.OperationUpdate, ovsdb.OperationMutate, ovsdb.OperationDelete:
			for _, w := range op.Where {
				if u, ok := w.Value.(ovsdb.UUID); ok && w.Column == "_uuid" && w.Function == ovsdb.ConditionEqual {
					add(op.Table, u.GoUUID)
				}
			}
		}
	}
	return out
}

// awaitRows waits until the view holds, for each of rows, what the replica
// holds (the replica has a transaction's changes when Transact returns;
// the view has them once Run has processed the update that carried them),
// so that reads after Transact see the transaction's writes. It gives up
// without error when Run has stopped or the schema changed.
func (c *Cache) awaitRows(ctx context.Context, rows []rowRef) error {
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	for len(rows) > 0 {
		// The view's rows are taken under c.mu and the replica's read
		// after it is released: c.mu is never held while waiting for the
		// replica's lock (a transaction's build holds the replica's lock
		// and may take c.mu for an index lookup).
		c.mu.RLock()
		st, wake := c.st, c.applied
		var view []viewRow
		if st != nil {
			view = st.rowsOf(rows)
		}
		c.mu.RUnlock()
		if st == nil || replicaHolds(st.si.replica, view) {
			return nil
		}
		select {
		case <-wake:
		case <-c.stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// MarshalOperations writes ops as a JSON array for the transact method,
// each with cs.MarshalOperation, which keeps what libovsdb's
// ovsdb.Operation drops when empty and ovsdb-server requires: "rows" of a
// wait, "row" of an insert (a row of defaults).
func MarshalOperations(ops []ovsdb.Operation) (json.RawMessage, error) {
	b := []byte{'['}
	for i := range ops {
		if i > 0 {
			b = append(b, ',')
		}
		o, err := cs.MarshalOperation(&ops[i])
		if err != nil {
			return nil, fmt.Errorf("idl: operation %d: %w", i, err)
		}
		b = append(b, o...)
	}
	return append(b, ']'), nil
}

// TransactFunc runs a transaction that must happen exactly once with the
// core's retry helper (cs.Client.TransactFunc): build runs on a consistent
// view of the replica (Tx, whose typed reads go through the replica's
// ReadTx, so the helper verifies on the server that what was read has not
// changed), and runs again on the fresh replica after a stale read, a
// try-again or an outcome that may have committed; a build that reads
// whether its work is done then returns no operations, so each write lands
// once. It returns once the view holds the rows written (see Transact). A
// build that returns no operations sends nothing and returns nil results.
func (c *Client) TransactFunc(ctx context.Context, build func(tx *Tx) ([]ovsdb.Operation, error)) ([]ovsdb.OperationResult, error) {
	var sent []ovsdb.Operation
	res, err := c.core.TransactFunc(ctx, func(rtx monitor.ReadTx) ([]ovsdb.Operation, error) {
		sent = nil
		t, err := c.ReadTx(rtx)
		if err != nil {
			return nil, err
		}
		// The core's lock is not waited for here: an update may hold it
		// while it waits for this view of the replica to end.
		if rep, queued, ok := c.core.TryReplicaState(); ok {
			if rep != t.src.si.replica {
				return nil, fmt.Errorf("%w: the typed view is not bound to the current schema yet", ErrNotSynced)
			}
			// The replica cannot change while build runs: if Run has
			// processed every update it holds, the view's indexes are
			// exact for it, and lookups use them instead of scanning.
			t.src.caughtUp = c.processed.Load() == queued
		}
		ops, err := build(t)
		if err == nil && *t.src.stale {
			err = fmt.Errorf("%w: the server's schema changed; the typed view is not bound to it yet", ErrNotSynced)
		}
		if err != nil {
			return nil, err
		}
		sent = ops
		return ops, nil
	})
	if err != nil || len(sent) == 0 {
		return res, err
	}
	return res, c.awaitRows(ctx, touched(sent, res))
}
