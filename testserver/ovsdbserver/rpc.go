package ovsdbserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// rpcConn is a minimal JSON-RPC 1.0 client used by the launcher itself
// (unixctl commands, transactions, dumps). It handles one call at a time,
// answers echo requests and drops notifications.
type rpcConn struct {
	conn   net.Conn
	dec    *json.Decoder
	nextID int
}

// RPCError is a JSON-RPC error reply: the "error" member of the response,
// as the server sent it.
type RPCError struct {
	Method string
	Raw    json.RawMessage
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("%s: server replied with error %s", e.Method, e.Raw)
}

// splitRemote turns "tcp:127.0.0.1:6641", "tcp:[::1]:6641" or "unix:/path"
// into a network and address for net.Dial.
func splitRemote(remote string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(remote, "tcp:"):
		return "tcp", remote[len("tcp:"):], nil
	case strings.HasPrefix(remote, "unix:"):
		return "unix", remote[len("unix:"):], nil
	}
	return "", "", fmt.Errorf("unsupported remote %q (want tcp: or unix:)", remote)
}

func dialRPC(ctx context.Context, network, addr string) (*rpcConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bufio.NewReader(c))
	dec.UseNumber()
	return &rpcConn{conn: c, dec: dec}, nil
}

func (c *rpcConn) close() error { return c.conn.Close() }

type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  json.RawMessage `json:"error,omitempty"`
}

func isNull(m json.RawMessage) bool {
	m = bytes.TrimSpace(m)
	return len(m) == 0 || bytes.Equal(m, []byte("null"))
}

// call sends method(params) and waits for its reply, at most until ctx is
// done. A non-null "error" member comes back as *RPCError.
func (c *rpcConn) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetDeadline(dl)
	} else {
		_ = c.conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c.nextID++
	id := c.nextID
	req, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	if _, err := c.conn.Write(req); err != nil {
		return nil, c.ctxErr(ctx, method, err)
	}
	want := []byte(fmt.Sprint(id))
	for {
		var m rpcMessage
		if err := c.dec.Decode(&m); err != nil {
			return nil, c.ctxErr(ctx, method, err)
		}
		if m.Method != "" {
			if m.Method == "echo" && !isNull(m.ID) {
				reply, _ := json.Marshal(map[string]any{"id": m.ID, "result": m.Params, "error": nil})
				if _, err := c.conn.Write(reply); err != nil {
					return nil, c.ctxErr(ctx, method, err)
				}
			}
			continue // a notification or another request: not ours
		}
		if !bytes.Equal(bytes.TrimSpace(m.ID), want) {
			continue
		}
		if !isNull(m.Error) {
			return m.Result, &RPCError{Method: method, Raw: m.Error}
		}
		return m.Result, nil
	}
}

func (c *rpcConn) ctxErr(ctx context.Context, method string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
	if errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("%s: connection closed: %w", method, err)
	}
	return fmt.Errorf("%s: %w", method, err)
}

// errDial marks errors of callOnce that happened before anything was sent.
var errDial = errors.New("cannot connect")

// callOnce dials, calls and closes.
func callOnce(ctx context.Context, network, addr, method string, params any) (json.RawMessage, error) {
	c, err := dialRPC(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", method, errDial, err)
	}
	defer c.close()
	return c.call(ctx, method, params)
}
