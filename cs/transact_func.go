package cs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// TransactFuncMaxAttempts bounds how many times TransactFunc runs its
// builder for one call.
const TransactFuncMaxAttempts = 64

// staleWait bounds how long TransactFunc waits, after a transaction failed
// on a stale read, for the replica to receive the change that made it
// stale before it rebuilds anyway.
const staleWait = time.Second

// WaitMonitoring waits until the client may send transactions: it is
// MONITORING (its replica in step with the server) and holds its lock, if
// one is configured. It may be called before Run starts. It returns nil
// then, ctx.Err() if ctx ends first, ErrClosed if Run returned, or the
// terminal configuration error (ErrConfig).
func (c *Client) WaitMonitoring(ctx context.Context) error {
	for {
		c.mu.Lock()
		ch, err, ok := c.readyLocked()
		c.mu.Unlock()
		if ok || err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// readyLocked reports whether a transaction may be sent now (ok), or why it
// never will (err), or the channel to wait on; c.mu is held.
func (c *Client) readyLocked() (ch <-chan struct{}, err error, ok bool) {
	switch {
	case c.view.fatal != nil:
		return nil, c.view.fatal, false
	case c.ran && !c.running:
		return nil, ErrClosed, false
	case c.running && c.view.mayTransact == nil:
		return nil, nil, true
	}
	return c.changed, nil, false
}

// TransactFunc runs a transaction that must happen exactly once, built from
// the replica: the write half of Open vSwitch's IDL loop (build from the
// replica, verify what was read, commit, rebuild on conflict).
//
// It waits until the client may send transactions (WaitMonitoring), then
// calls build with a consistent view of the replica and sends the
// operations build returns, preceded by one "wait" operation per row build
// read through tx (Get, found or not, and every row Rows yielded): each
// checks on the server that the row still has the values read (or still
// does not exist), over the table's monitored columns. Build must only read
// tx and must not keep it; it may run several times.
//
// The builder runs again, on the replica as it is then, when:
//   - a wait failed (the data read was stale: another client wrote it);
//   - the outcome matched ErrTryAgain (not sent);
//   - the outcome matched ErrMaybeCommitted (the connection dropped with
//     the transaction in flight, or the server answered "canceled"): the
//     client waits until it is MONITORING again, when the replica holds
//     the transaction's own changes if it committed; a builder that reads
//     what it writes (a counter, a row it creates with a known uuid or key)
//     then sees its own write and returns no operations, or waits make the
//     repeat fail on the server and it is rebuilt again.
//
// TransactFunc returns the results of build's operations (without the
// waits) when the transaction committed; build's error as is; a *TxnError
// (Op indexes build's operations) when an operation failed; ctx.Err() (or
// an error matching both ErrMaybeCommitted and ctx.Err() when ctx ended
// with the transaction in flight) when ctx ends; ErrTooManyAttempts,
// wrapping the last outcome, after TransactFuncMaxAttempts builds. A build
// that returns no operations ends the call with nil results and no error
// (nothing left to do).
//
// Only reads are verified: the absence of rows a Rows scan did not see is
// not (as in OVS). Rely on the schema's indexes for uniqueness. A row read
// that lies outside the table's monitored condition reads as absent, and
// its wait fails for as long as the row exists.
func (c *Client) TransactFunc(ctx context.Context, build func(tx monitor.ReadTx) ([]ovsdb.Operation, error)) ([]ovsdb.OperationResult, error) {
	var last error
	for attempt := range TransactFuncMaxAttempts {
		if attempt > 0 {
			c.mu.Lock()
			c.rebuilds++
			c.mu.Unlock()
		}
		if err := c.WaitMonitoring(ctx); err != nil {
			if last != nil && ctx.Err() != nil {
				return nil, fmt.Errorf("%w (last attempt: %w)", err, last)
			}
			return nil, err
		}
		c.mu.Lock()
		replica, seq := c.view.replica, c.view.updates
		c.mu.Unlock()
		if replica == nil {
			continue
		}
		var (
			ops      []ovsdb.Operation
			buildErr error
		)
		reads := replica.ViewRecorded(func(tx monitor.ReadTx) { ops, buildErr = build(tx) })
		if buildErr != nil {
			return nil, buildErr
		}
		if len(ops) == 0 {
			return nil, nil
		}
		raw := make([]json.RawMessage, 0, len(reads)+len(ops))
		for _, r := range reads {
			raw = append(raw, waitOp(r))
		}
		nWaits := len(raw)
		raw, err := marshalOperations(raw, ops)
		if err != nil {
			return nil, err
		}
		res, err := c.transact(ctx, raw)
		if err == nil {
			results, err := decodeResults(res)
			if err != nil {
				return nil, err
			}
			stale, results, err := splitResults(results, nWaits)
			if !stale {
				return results, err
			}
			last = err
			c.waitUpdate(ctx, seq)
			continue
		}
		last = err
		switch {
		case ctx.Err() != nil:
			return nil, err
		case errors.Is(err, ErrTryAgain), errors.Is(err, ErrMaybeCommitted):
			// WaitMonitoring at the top of the loop waits for the
			// replica to be in step again.
			continue
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: %d attempts: %w", ErrTooManyAttempts, TransactFuncMaxAttempts, last)
}

// decodeResults parses a transact result array.
func decodeResults(res json.RawMessage) ([]ovsdb.OperationResult, error) {
	var results []ovsdb.OperationResult
	if err := json.Unmarshal(res, &results); err != nil {
		return nil, fmt.Errorf("%w: transact reply: %w", ErrMalformed, err)
	}
	return results, nil
}

// firstError returns the TxnError of the first failed operation, or nil.
func firstError(results []ovsdb.OperationResult) *TxnError {
	for i, r := range results {
		if r.Error != "" {
			return &TxnError{Op: i, Err: r.Error, Details: r.Details}
		}
	}
	return nil
}

// splitResults separates the results of nWaits leading waits from those of
// the builder's operations: stale reports that a wait failed; otherwise the
// builder's results are returned with the TxnError of its first failed
// operation (indexed among its own operations), if any.
func splitResults(results []ovsdb.OperationResult, nWaits int) (stale bool, rest []ovsdb.OperationResult, err error) {
	te := firstError(results)
	if te != nil && te.Op < nWaits {
		return true, nil, te
	}
	if len(results) >= nWaits {
		rest = results[nWaits:]
	}
	if te != nil {
		te.Op -= nWaits
		return false, rest, te
	}
	return false, rest, nil
}

// waitUpdate waits (at most staleWait) until the replica changed since the
// update count seq, or the client left MONITORING, or ctx ended.
func (c *Client) waitUpdate(ctx context.Context, seq uint64) {
	t := time.NewTimer(staleWait)
	defer t.Stop()
	for {
		c.mu.Lock()
		done := c.view.updates != seq || c.view.mayTransact != nil || !c.running
		ch := c.changed
		c.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// waitOp returns the OVSDB wait operation that checks a read on the server:
// the row still has the values read (or still does not exist). It is
// written by hand: ovsdb.Operation leaves out an empty "rows", which the
// server requires.
func waitOp(r monitor.RowRead) json.RawMessage {
	b := []byte(`{"op":"wait","timeout":0,"table":`)
	b = appendJSON(b, r.Table)
	b = append(b, `,"where":[["_uuid","==",["uuid",`...)
	b = appendJSON(b, r.UUID.String())
	b = append(b, `]]],"until":"==","columns":`...)
	if !r.Found {
		b = append(b, `["_uuid"],"rows":[]}`...)
		return b
	}
	b = appendJSON(b, r.Columns)
	b = append(b, `,"rows":[`...)
	b = r.Row.AppendJSON(b)
	b = append(b, "]}"...)
	return b
}

func appendJSON(b []byte, v any) []byte {
	enc, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("cs: cannot encode %T: %v", v, err))
	}
	return append(b, enc...)
}
