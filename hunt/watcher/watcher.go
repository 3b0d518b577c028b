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
// Its goroutine owns the connection: it closes it when stopped, and hands
// it over (an event to the Hunter) when promoted.
type watcher struct {
	h      *Hunter
	member int
	gen    uint64
	remote jsonrpc.Remote

	stop        chan struct{} // closed to stop the goroutine
	stopOnce    sync.Once
	promote     chan struct{} // closed to hand the connection over
	promoteOnce sync.Once

	conn *jsonrpc.Conn // owned by the goroutine
	rows *leader.Replica
}

func newWatcher(h *Hunter, m int, gen uint64) *watcher {
	return &watcher{h: h, member: m, gen: gen, remote: h.cfg.Remotes[m],
		stop: make(chan struct{}), promote: make(chan struct{})}
}

// close stops the watcher and closes its connection (also after a
// promotion, if the connection was not handed over yet).
func (wt *watcher) close() { wt.stopOnce.Do(func() { close(wt.stop) }) }

// startHandover asks the goroutine to stop watching and hand its
// connection over: the Hunter gets a handover event (or a failure).
func (wt *watcher) startHandover() { wt.promoteOnce.Do(func() { close(wt.promote) }) }

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (wt *watcher) run(parent context.Context) {
	h := wt.h
	defer h.wg.Done()
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	go func() {
		select {
		case <-wt.stop:
		case <-wt.promote:
		case <-ctx.Done():
		}
		cancel()
	}()
	err := wt.watch(ctx)
	if err == nil && closed(wt.promote) && !closed(wt.stop) && parent.Err() == nil {
		err = wt.handOver(parent)
		if err == nil {
			return // the Hunter (or the owner) has the connection now
		}
	}
	if wt.conn != nil {
		_ = wt.conn.Close()
	}
	if err != nil && !closed(wt.stop) && parent.Err() == nil {
		h.send(wt, event{failed: true, err: err})
	}
}

// handOver prepares the connection for its owner (with
// CancelServerMonitor: cancel the _Server monitor, bounded by the attempt
// timeout, and drop what it sent) and gives it to the Hunter.
func (wt *watcher) handOver(parent context.Context) error {
	conn, rows := wt.conn, wt.rows
	if conn == nil || conn.Err() != nil {
		return fmt.Errorf("%s: connection ended before the handover", wt.remote)
	}
	if wt.h.cfg.CancelServerMonitor {
		ctx, cancel := context.WithTimeout(parent, wt.h.w.Config().AttemptTimeout)
		defer cancel()
		go func() {
			select {
			case <-wt.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		if _, err := callRaw(ctx, conn, "monitor_cancel", append(append([]byte("["), leader.MonitorID()...), ']')); err != nil {
			return err
		}
		// Drop the updates the monitor sent before its cancellation.
		drained, stop := context.WithCancel(context.Background())
		stop()
		for {
			if _, err := conn.Recv(drained); err != nil {
				break
			}
		}
		rows = nil
	}
	select {
	case wt.h.events <- event{member: wt.member, gen: wt.gen, handover: true, conn: conn, rows: rows}:
		return nil
	case <-wt.stop:
		return errors.New("watcher: stopped during the handover")
	}
}

// watch connects, monitors _Server.Database and reports every row change
// until ctx ends (nil: stopped) or the connection fails.
func (wt *watcher) watch(ctx context.Context) error {
	h := wt.h
	remote := wt.remote.String()
	nc, err := jsonrpc.DialRemote(ctx, wt.remote, h.cfg.Dial, h.cfg.TLSConfig)
	if err != nil {
		return stopped(ctx, fmt.Errorf("%s: %w", remote, err))
	}
	cc := h.cfg.ConnConfig(remote)
	if cc.Logger.GetSink() == nil {
		cc.Logger = h.log.WithName("conn")
	}
	conn := jsonrpc.NewConn(nc, cc)
	wt.conn = conn
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
	wt.rows = rows
	wt.report(rows)
	monID := leader.MonitorID()
	probe := h.cfg.ProbeInterval
	if !wt.remote.NeedsProbes() {
		probe = 0
	}
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
