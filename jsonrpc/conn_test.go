package jsonrpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// peer is the far end of a net.Pipe, scripted by a test: it reads what
// the Conn under test writes and writes raw bytes back.
type peer struct {
	t  testing.TB
	nc net.Conn
	rd *reader
}

func newPeer(t testing.TB, nc net.Conn) *peer {
	return &peer{t: t, nc: nc, rd: newReader(nc, "peer", 0)}
}

// read returns the next message the Conn sent, re-encoded.
func (p *peer) read() string {
	p.t.Helper()
	m, err := p.rd.next()
	if err != nil {
		p.t.Fatalf("peer read: %v", err)
	}
	b, _ := m.MarshalJSON()
	return string(b)
}

// readMsg returns the next message the Conn sent.
func (p *peer) readMsg() *Message {
	p.t.Helper()
	m, err := p.rd.next()
	if err != nil {
		p.t.Fatalf("peer read: %v", err)
	}
	return m
}

// write sends raw bytes to the Conn from a goroutine (net.Pipe writes
// block until read), so that the test goes on.
func (p *peer) write(s string) {
	go func() { _, _ = p.nc.Write([]byte(s)) }()
}

func pipeConn(t testing.TB, cfg ConnConfig) (*Conn, *peer) {
	a, b := net.Pipe()
	if cfg.Name == "" {
		cfg.Name = "pipe"
	}
	c := NewConn(a, cfg)
	t.Cleanup(func() { c.Close(); b.Close() })
	return c, newPeer(t, b)
}

func TestConnCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{})
		ctx := context.Background()
		type res struct {
			v   json.RawMessage
			err error
		}
		done := make(chan res, 1)
		go func() {
			v, err := c.Call(ctx, "list_dbs")
			done <- res{v, err}
		}()
		if got := p.read(); got != `{"method":"list_dbs","params":[],"id":1}` {
			t.Fatalf("request on the wire: %s", got)
		}
		p.write(`{"id":1,"result":["OVN_Northbound","_Server"],"error":null}`)
		r := <-done
		if r.err != nil || string(r.v) != `["OVN_Northbound","_Server"]` {
			t.Fatalf("Call = %s, %v", r.v, r.err)
		}

		go func() {
			v, err := c.Call(ctx, "get_schema", "nope")
			done <- res{v, err}
		}()
		if got := p.read(); got != `{"method":"get_schema","params":["nope"],"id":2}` {
			t.Fatalf("request on the wire: %s", got)
		}
		p.write(`{"id":2,"result":null,"error":{"error":"unknown database","details":"nope"}}`)
		r = <-done
		var se *ServerError
		if !errors.As(r.err, &se) || se.Code() != "unknown database" || se.Method != "get_schema" {
			t.Fatalf("Call error = %v, want a ServerError", r.err)
		}
	})
}

// Replies are matched by id, whatever their order.
func TestConnCallsOutOfOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{})
		results := make(chan string, 3)
		for range 3 {
			go func() {
				v, err := c.Call(context.Background(), "m")
				if err != nil {
					results <- err.Error()
					return
				}
				results <- string(v)
			}()
		}
		var ids []string
		for range 3 {
			ids = append(ids, string(p.readMsg().ID))
		}
		for i := len(ids) - 1; i >= 0; i-- {
			p.write(`{"id":` + ids[i] + `,"result":"r` + ids[i] + `","error":null}`)
			if got := <-results; got != `"r`+ids[i]+`"` {
				t.Fatalf("reply %s delivered as %s", ids[i], got)
			}
		}
	})
}

// An echo request is answered by the reader at once, even while nobody
// reads the other messages; it never reaches Recv.
func TestConnEchoAnsweredWhileConsumerIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{})
		p.write(`{"method":"update2","params":[1],"id":null}{"method":"update2","params":[2],"id":null}`)
		p.write(`{"method":"echo","params":["x",{"y":1}],"id":"e1"}`)
		if got := p.read(); got != `{"result":["x",{"y":1}],"error":null,"id":"e1"}` {
			t.Fatalf("echo reply: %s", got)
		}
		for _, want := range []string{"[1]", "[2]"} {
			m, err := c.Recv(context.Background())
			if err != nil || m.Method != "update2" || string(m.Params) != want {
				t.Fatalf("Recv = %v, %v; want update2 %s", m, err, want)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if m, err := c.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Recv = %v, %v; want nothing more", m, err)
		}
	})
}

// Replies whose id matches no pending call go to Recv; replies to "echo"
// probes are dropped when asked.
func TestConnUnmatchedReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{DropEchoReplies: true})
		p.write(`{"id":"echo","result":[],"error":null}{"id":99,"result":1,"error":null}{"id":"echo","error":"x","result":null}`)
		m, err := c.Recv(context.Background())
		if err != nil || m.Kind != KindReply || string(m.ID) != "99" {
			t.Fatalf("Recv = %v, %v", m, err)
		}
		m, err = c.Recv(context.Background())
		if err != nil || m.Kind != KindError || string(m.ID) != `"echo"` {
			t.Fatalf("Recv = %v, %v (an error reply to echo is not dropped)", m, err)
		}
	})
}

func TestConnCallContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		errc := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := c.Call(ctx, "slow")
			errc <- err
		}()
		id := string(p.readMsg().ID)
		err := <-errc
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 3*time.Second {
			t.Fatalf("Call = %v after %v, want DeadlineExceeded after 3s", err, time.Since(start))
		}
		c.mu.Lock()
		npending := len(c.pending)
		c.mu.Unlock()
		if npending != 0 {
			t.Fatalf("%d pending calls after the Call gave up, want none", npending)
		}
		// The late reply is dropped; the next message is what Recv sees.
		p.write(`{"id":` + id + `,"result":1,"error":null}{"method":"n","params":[]}`)
		m, err := c.Recv(context.Background())
		if err != nil || m.Method != "n" {
			t.Fatalf("Recv = %v, %v; want the notification", m, err)
		}
	})
}

// A Conn remembers the latest maxCanceled canceled requests, so that their
// late replies are dropped; a reply to an older one reaches Recv like any
// reply nobody waits for. The pending entries themselves go at once.
func TestConnCanceledRequestsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{})
		go func() { // the peer reads the requests and never answers
			for {
				if _, err := p.rd.next(); err != nil {
					return
				}
			}
		}()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		n := maxCanceled + 10
		for range n {
			if _, err := c.Call(ctx, "slow"); !errors.Is(err, context.Canceled) {
				t.Fatalf("Call = %v, want Canceled", err)
			}
		}
		c.mu.Lock()
		pending, canceled := len(c.pending), len(c.canceled)
		c.mu.Unlock()
		if pending != 0 || canceled != maxCanceled {
			t.Fatalf("%d pending, %d canceled remembered; want 0, %d", pending, canceled, maxCanceled)
		}
		// Ids 1..n were used: 1 was forgotten, n is remembered.
		p.write(`{"id":` + strconv.Itoa(n) + `,"result":1,"error":null}{"id":1,"result":2,"error":null}`)
		m, err := c.Recv(context.Background())
		if err != nil || string(m.ID) != "1" {
			t.Fatalf("Recv = %v, %v; want the reply to the forgotten request 1", m, err)
		}
	})
}

func TestConnCloseFailsCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{})
		errc := make(chan error, 1)
		go func() {
			_, err := c.Call(context.Background(), "m")
			errc <- err
		}()
		p.readMsg()
		c.Close()
		if err := <-errc; !errors.Is(err, ErrClosed) {
			t.Fatalf("pending Call = %v, want ErrClosed", err)
		}
		if _, err := c.Call(context.Background(), "m"); !errors.Is(err, ErrClosed) {
			t.Fatalf("Call after Close = %v", err)
		}
		if err := c.Send(newEcho()); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send after Close = %v", err)
		}
		if _, err := c.Recv(context.Background()); !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close = %v", err)
		}
	})
}

// Messages received before the peer closed are still returned, then EOF.
func TestConnRecvThenEOF(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{})
		go func() {
			_, _ = p.nc.Write([]byte(`{"method":"a","params":[]}{"method":"b","params":[]}`))
			p.nc.Close()
		}()
		<-c.Done()
		for _, want := range []string{"a", "b"} {
			m, err := c.Recv(context.Background())
			if err != nil || m.Method != want {
				t.Fatalf("Recv = %v, %v; want %s", m, err, want)
			}
		}
		_, err := c.Recv(context.Background())
		if !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "pipe: connection closed by peer") {
			t.Fatalf("Recv at the end = %v, want io.EOF", err)
		}
	})
}

func TestConnBadInputCloses(t *testing.T) {
	tests := []struct {
		name, in string
		maxSize  int
		want     error
		text     string
	}{
		{"garbage", "{\"method\":\"x\",\"params\":[}", 0, ErrProtocol, "pipe: unexpected character '}' (expecting a value) at byte 24"},
		{"not an object", "42 ", 0, ErrProtocol, "message is not a JSON object"},
		{"bad member", `{"method":"x","params":[],"ID":1}`, 0, ErrProtocol, `unexpected member "ID"`},
		{"too large", `{"method":"x","params":["` + strings.Repeat("a", 100) + `"]}`, 64, ErrMessageTooLarge, "larger than 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, p := pipeConn(t, ConnConfig{MaxMessageSize: tt.maxSize})
				errc := make(chan error, 1)
				go func() {
					_, err := c.Call(context.Background(), "m")
					errc <- err
				}()
				p.readMsg()
				p.write(tt.in)
				<-c.Done()
				for _, err := range []error{<-errc, c.Err()} {
					if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
						t.Errorf("error %v, want %v containing %q", err, tt.want, tt.text)
					}
				}
				// The connection is closed: the peer sees EOF.
				if _, err := p.rd.next(); !errors.Is(err, io.EOF) {
					t.Errorf("peer read after the error: %v", err)
				}
			})
		})
	}
}

// The send backlog limits close the connection (OVS: E2BIG in
// jsonrpc_send).
func TestConnBacklogLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The peer never reads: the first message blocks in the writer.
		c, _ := pipeConn(t, ConnConfig{MaxBacklogMessages: 3})
		for i := range 3 {
			if err := c.Notify("m", i); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		synctest.Wait()
		if n, _ := c.Backlog(); n != 3 {
			t.Fatalf("backlog %d messages, want 3", n)
		}
		err := c.Notify("m", 3)
		if !errors.Is(err, ErrBacklogExceeded) || !strings.Contains(err.Error(), "4 messages queued, more than the limit of 3") {
			t.Fatalf("4th send: %v", err)
		}
		<-c.Done()
		if !errors.Is(c.Err(), ErrBacklogExceeded) {
			t.Fatalf("Err() = %v", c.Err())
		}
		if n, b := c.Backlog(); n != 0 || b != 0 {
			t.Fatalf("backlog after close %d, %d", n, b)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		c, _ := pipeConn(t, ConnConfig{MaxBacklogBytes: 100})
		msg := strings.Repeat("x", 40) // each notification is about 70 bytes
		if err := c.Notify("m", msg); err != nil {
			t.Fatal(err)
		}
		err := c.Notify("m", msg)
		if !errors.Is(err, ErrBacklogExceeded) || !strings.Contains(err.Error(), "more than the limit of 100") {
			t.Fatalf("2nd send: %v", err)
		}
	})
}

// Received bytes and drained output are activity.
func TestConnActivity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{})
		act := c.Activity()
		synctest.Wait()
		select {
		case <-act:
			t.Fatal("activity before anything happened")
		default:
		}
		// Part of a message is activity already.
		p.write(`{"method":"a",`)
		synctest.Wait()
		select {
		case <-act:
		default:
			t.Fatal("no activity after receiving bytes")
		}
		// A small send taken at once is not activity...
		if err := c.Notify("small"); err != nil {
			t.Fatal(err)
		}
		go p.read()
		synctest.Wait()
		select {
		case <-act:
			t.Fatal("a small immediate send counted as activity")
		default:
		}
		// ...but a large backlog draining to the peer is.
		if err := c.Notify("big", strings.Repeat("x", 3*writeChunk)); err != nil {
			t.Fatal(err)
		}
		go p.read()
		synctest.Wait()
		select {
		case <-act:
		default:
			t.Fatal("no activity after the peer read a large backlog")
		}
		if c.ReceivedBytes() != uint64(len(`{"method":"a",`)) {
			t.Errorf("ReceivedBytes = %d", c.ReceivedBytes())
		}
	})
}

// When the consumer does not read, the reader stops at MaxQueuedBytes
// (back-pressure) and resumes when the consumer catches up: no message is
// lost and memory stays bounded.
func TestConnQueueBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{MaxQueuedBytes: 1000})
		const n = 50
		go func() {
			for i := range n {
				b, _ := json.Marshal(map[string]any{"method": "u", "params": []any{i, strings.Repeat("p", 60)}})
				if _, err := p.nc.Write(b); err != nil {
					return
				}
			}
		}()
		synctest.Wait()
		c.mu.Lock()
		queued, bytes := len(c.in)-c.inHead, c.inBytes
		c.mu.Unlock()
		if bytes > 1000 || queued >= n {
			t.Fatalf("queue holds %d messages, %d bytes; want at most 1000 bytes", queued, bytes)
		}
		for i := range n {
			m, err := c.Recv(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var params []json.RawMessage
			if err := m.UnmarshalParams(&params); err != nil || string(params[0]) != itoa(i) {
				t.Fatalf("message %d: params %s", i, m.Params)
			}
		}
	})
}

func TestConnSendInvalid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := pipeConn(t, ConnConfig{})
		err := c.Send(&Message{Kind: KindRequest, Method: "m", Params: json.RawMessage(`{}`), ID: json.RawMessage("1")})
		if !errors.Is(err, ErrInvalidMessage) {
			t.Fatalf("Send = %v", err)
		}
		if c.Err() != nil {
			t.Fatalf("an invalid message closed the connection: %v", c.Err())
		}
	})
}

// The send backlog is bounded by default; a negative limit removes the
// bound.
func TestConnBacklogDefaultLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := pipeConn(t, ConnConfig{})
		c.mu.Lock()
		msgs, bytes := c.cfg.MaxBacklogMessages, c.cfg.MaxBacklogBytes
		c.mu.Unlock()
		if msgs != DefaultMaxBacklogMessages || bytes != DefaultMaxBacklogBytes {
			t.Errorf("default limits %d messages, %d bytes; want %d, %d", msgs, bytes, DefaultMaxBacklogMessages, DefaultMaxBacklogBytes)
		}
		c.SetBacklogLimits(-1, -5)
		c.mu.Lock()
		msgs, bytes = c.cfg.MaxBacklogMessages, c.cfg.MaxBacklogBytes
		c.mu.Unlock()
		if msgs >= 0 || bytes >= 0 {
			t.Errorf("limits %d messages, %d bytes after SetBacklogLimits(-1, -5); want none", msgs, bytes)
		}
	})
}
