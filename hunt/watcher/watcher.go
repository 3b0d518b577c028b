package watcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
)

// errNoAnswer: a watcher's member left an echo unanswered.
var errNoAnswer = errors.New("watcher: no answer to echo (inactivity probe)")

// watcher is one connection that monitors a member's _Server.Database.
type watcher struct {
	h      *Hunter
	member int
	gen    uint64
	remote jsonrpc.Remote

	stop     chan struct{} // closed to stop the goroutine
	stopOnce sync.Once
	done     chan struct{} // closed when the goroutine has returned

	mu       sync.Mutex
	conn     *jsonrpc.Conn
	rows     *leader.Replica
	keepConn bool // handed over: the goroutine leaves conn open
}

func newWatcher(h *Hunter, m int, gen uint64) *watcher {
	return &watcher{h: h, member: m, gen: gen, remote: h.cfg.Remotes[m],
		stop: make(chan struct{}), done: make(chan struct{})}
}

// close stops the watcher and closes its connection.
func (wt *watcher) close() { wt.stopOnce.Do(func() { close(wt.stop) }) }

// handOver stops the watcher, waits for its goroutine, and returns its
// open connection and rows (nil if it had none, or it already ended).
func (wt *watcher) handOver() (*jsonrpc.Conn, *leader.Replica) {
	wt.mu.Lock()
	wt.keepConn = true
	wt.mu.Unlock()
	wt.close()
	<-wt.done
	wt.mu.Lock()
	conn, rows := wt.conn, wt.rows
	wt.mu.Unlock()
	if conn == nil || conn.Err() != nil {
		return nil, nil
	}
	if !wt.h.cfg.CancelServerMonitor {
		return conn, rows
	}
	ctx, cancel := context.WithTimeout(context.Background(), wt.h.w.Config().AttemptTimeout)
	defer cancel()
	if _, err := callRaw(ctx, conn, "monitor_cancel", append(append([]byte("["), leader.MonitorID()...), ']')); err != nil {
		_ = conn.Close()
		return nil, nil
	}
	// Drop the updates the monitor sent before its cancellation.
	drained, stop := context.WithCancel(context.Background())
	stop()
	for {
		if _, err := conn.Recv(drained); err != nil {
			break
		}
	}
	return conn, nil
}

func (wt *watcher) run(parent context.Context) {
	h := wt.h
	defer h.wg.Done()
	defer close(wt.done)
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	go func() {
		select {
		case <-wt.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := wt.watch(ctx)
	wt.mu.Lock()
	keep := wt.keepConn && err == nil
	conn := wt.conn
	wt.mu.Unlock()
	if !keep && conn != nil {
		_ = conn.Close()
	}
	if err != nil && ctx.Err() == nil {
		h.send(wt, event{failed: true, err: err})
	}
}

// watch connects, monitors _Server.Database and reports every row change
// until ctx ends (nil: stopped) or the connection fails.
func (wt *watcher) watch(ctx context.Context) error {
	h := wt.h
	remote := wt.remote.String()
	nc, err := h.cfg.Dial(ctx, wt.remote.Network(), wt.remote.Address())
	if err != nil {
		return stopped(ctx, fmt.Errorf("%s: %w", remote, err))
	}
	cc := h.cfg.ConnConfig(remote)
	if cc.Logger.GetSink() == nil {
		cc.Logger = h.log.WithName("conn")
	}
	conn := jsonrpc.NewConn(nc, cc)
	wt.mu.Lock()
	wt.conn = conn
	wt.mu.Unlock()
	schema, err := callRaw(ctx, conn, "get_schema", leader.SchemaParams())
	if err != nil {
		return stopped(ctx, err)
	}
	params, _, err := leader.MonitorParams(schema)
	if err != nil {
		return stopped(ctx, err)
	}
	initial, err := callRaw(ctx, conn, "monitor_cond", params)
	if err != nil {
		return stopped(ctx, err)
	}
	rows := leader.NewReplica()
	if err := rows.Reset(initial); err != nil {
		return stopped(ctx, err)
	}
	wt.mu.Lock()
	wt.rows = rows
	wt.mu.Unlock()
	wt.report(rows)
	monID := leader.MonitorID()
	probe := h.cfg.ProbeInterval
	for {
		rctx, rcancel := ctx, context.CancelFunc(func() {})
		if probe > 0 {
			rctx, rcancel = context.WithTimeout(ctx, probe)
		}
		msg, err := conn.Recv(rctx)
		rcancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && rctx.Err() != nil:
			// Silent for a probe interval: is it alive?
			pctx, pcancel := context.WithTimeout(ctx, probe)
			_, perr := conn.Call(pctx, "echo")
			pcancel()
			if ctx.Err() != nil {
				return nil
			}
			if perr != nil {
				return fmt.Errorf("%s: %w", remote, errNoAnswer)
			}
			continue
		case err != nil:
			return err
		}
		if msg.Kind != jsonrpc.KindNotification || msg.Method != "update2" {
			continue
		}
		var p []json.RawMessage
		if err := json.Unmarshal(msg.Params, &p); err != nil || len(p) != 2 {
			return fmt.Errorf("%s: %w: update2 params", remote, jsonrpc.ErrProtocol)
		}
		if !bytes.Equal(compact(p[0]), monID) {
			continue
		}
		if err := rows.Apply(p[1]); err != nil {
			return err
		}
		wt.report(rows)
	}
}

func (wt *watcher) report(rows *leader.Replica) {
	v := hunt.VerdictOf(wt.h.cfg.Check(wt.remote.String(), rows))
	wt.h.send(wt, event{verdict: v})
}

// stopped returns nil when ctx ended (the watcher was stopped), err
// otherwise.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// callRaw calls method with params, a JSON array, as they are.
func callRaw(ctx context.Context, conn *jsonrpc.Conn, method string, params []byte) (json.RawMessage, error) {
	reply, err := conn.Request(ctx, &jsonrpc.Message{Kind: jsonrpc.KindRequest, Method: method, Params: params})
	if err != nil {
		return nil, err
	}
	if reply.Kind == jsonrpc.KindError {
		return nil, &jsonrpc.ServerError{Method: method, Value: reply.Error}
	}
	return reply.Result, nil
}

func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}
