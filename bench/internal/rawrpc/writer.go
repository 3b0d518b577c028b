// Package rawrpc is a minimal pipelined OVSDB JSON-RPC writer: one TCP
// connection, many transact requests in flight, so that a write stream is
// limited by the server, not by round trips.
package rawrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
)

// Writer sends transactions on one connection.
type Writer struct {
	conn net.Conn
	db   string

	wmu sync.Mutex
	enc *json.Encoder

	mu      sync.Mutex
	nextID  int
	pending map[int]chan error
	err     error
	done    chan struct{}
}

// Dial connects to remote ("tcp:127.0.0.1:P") for database db.
func Dial(ctx context.Context, remote, db string) (*Writer, error) {
	addr, ok := strings.CutPrefix(remote, "tcp:")
	if !ok {
		return nil, fmt.Errorf("rawrpc: only tcp: remotes, got %q", remote)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	w := &Writer{conn: conn, db: db, enc: json.NewEncoder(conn), pending: map[int]chan error{}, done: make(chan struct{})}
	go w.read()
	return w, nil
}

type message struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params json.RawMessage   `json:"params"`
	Result []json.RawMessage `json:"result"`
	Error  json.RawMessage   `json:"error"`
}

func (w *Writer) read() {
	defer close(w.done)
	dec := json.NewDecoder(w.conn)
	for {
		var m message
		if err := dec.Decode(&m); err != nil {
			w.fail(err)
			return
		}
		if m.Method == "echo" {
			w.send(map[string]any{"id": m.ID, "result": m.Params, "error": nil})
			continue
		}
		var id int
		if json.Unmarshal(m.ID, &id) != nil {
			continue
		}
		var err error
		if len(m.Error) > 0 && string(m.Error) != "null" {
			err = fmt.Errorf("rawrpc: transact %d: %s", id, m.Error)
		}
		for _, r := range m.Result {
			if strings.Contains(string(r), `"error"`) {
				err = fmt.Errorf("rawrpc: transact %d: %s", id, r)
			}
		}
		w.mu.Lock()
		ch := w.pending[id]
		delete(w.pending, id)
		w.mu.Unlock()
		if ch != nil {
			ch <- err
		}
	}
}

func (w *Writer) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	for id, ch := range w.pending {
		ch <- err
		delete(w.pending, id)
	}
}

func (w *Writer) send(v any) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.enc.Encode(v)
}

// Start sends one transaction of ops (JSON operations) and returns a channel
// that receives its outcome.
func (w *Writer) Start(ops ...json.RawMessage) <-chan error {
	ch := make(chan error, 1)
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		ch <- w.err
		return ch
	}
	w.nextID++
	id := w.nextID
	w.pending[id] = ch
	w.mu.Unlock()
	params := make([]any, 0, len(ops)+1)
	params = append(params, w.db)
	for _, op := range ops {
		params = append(params, op)
	}
	if err := w.send(map[string]any{"id": id, "method": "transact", "params": params}); err != nil {
		w.fail(err)
	}
	return ch
}

// Stream sends n transactions, transaction i holding the operations ops(i),
// keeping at most window of them in flight, and returns when every reply has
// arrived (with the errors of those that failed).
func (w *Writer) Stream(ctx context.Context, n, window int, ops func(i int) []json.RawMessage) error {
	// When ctx ends, closing the connection fails every pending request.
	stop := context.AfterFunc(ctx, func() { w.conn.Close() })
	defer stop()
	sem := make(chan struct{}, window)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		ch := w.Start(ops(i)...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := <-ch
			<-sem
			if err != nil {
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	return errors.Join(drain(errc)...)
}

func drain(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

// Close closes the connection.
func (w *Writer) Close() error {
	err := w.conn.Close()
	<-w.done
	return err
}
