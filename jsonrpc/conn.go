package jsonrpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// DefaultMaxQueuedBytes is the default bound on received messages that
// wait for the consumer ([Conn.Recv]): 64 MiB.
const DefaultMaxQueuedBytes = 64 << 20

// The default bounds of the send backlog (see ConnConfig.MaxBacklogBytes).
// A client's output is small (requests, transactions); a backlog this large
// means the peer stopped reading, and the connection is better dropped
// than grown without bound.
const (
	DefaultMaxBacklogMessages = 1 << 16
	DefaultMaxBacklogBytes    = 64 << 20
)

const (
	// backlogWarn: at this many queued messages the connection logs that
	// its backlog is excessive (OVS: 50).
	backlogWarn = 50
	// writeChunk is the largest single write. Output is written in chunks
	// so that a large backlog draining counts as activity as it goes.
	writeChunk = 64 << 10
	// immediateWrite: the bytes written right after the writer wakes up
	// are taken to be absorbed by the kernel without the peer reading them,
	// so they do not count as activity; what is written beyond them had to
	// wait for the peer to read, and counts (OVS f97cae299).
	immediateWrite = writeChunk
)

// ConnConfig configures a [Conn]. The zero value gives the defaults.
type ConnConfig struct {
	// Name identifies the connection in logs and errors; default the
	// peer's address.
	Name string

	// MaxMessageSize bounds one received message; a larger one closes the
	// connection with ErrMessageTooLarge. Default DefaultMaxMessageSize.
	// For a reply whose result goes through a ResultDecoder
	// (Conn.ExpectResult) it bounds what the reader holds at once, not the
	// result's length.
	MaxMessageSize int

	// MaxQueuedBytes bounds the received messages waiting for Recv (a
	// message always fits in an empty queue). When the queue is full the
	// reader stops reading until the consumer catches up; see the package
	// documentation. Default DefaultMaxQueuedBytes.
	MaxQueuedBytes int

	// MaxBacklogMessages and MaxBacklogBytes bound the send backlog (the
	// messages given to Send and not yet written); exceeding either closes
	// the connection with ErrBacklogExceeded. 0 means the default
	// (DefaultMaxBacklogMessages, DefaultMaxBacklogBytes); a negative value
	// means no limit (as in OVS, where jsonrpc_session has none unless
	// jsonrpc_session_set_backlog_threshold is called).
	MaxBacklogMessages int
	MaxBacklogBytes    int

	// Logger receives the connection's logs: V(0) an excessive send
	// backlog, V(1) why it closed (unless a Session owns it: the session
	// logs that), V(2) one line per message sent or received, V(4) with
	// the messages themselves. The zero Logger discards everything.
	Logger logr.Logger

	// NextID returns the id for the next request made with Call or
	// Request. Default: a counter of this Conn, from 1.
	NextID func() uint64

	// DropEchoReplies drops received replies whose id is "echo": the
	// answers to the inactivity probes a Session sends (OVS swallows them in
	// jsonrpc_session_recv).
	DropEchoReplies bool
}

// Conn is one JSON-RPC 1.0 connection over a stream: concatenated JSON
// objects with no delimiter, as lib/jsonrpc.c reads them. It owns two
// goroutines: a reader that parses incoming messages, answers "echo"
// requests at once, hands replies to the matching Call and queues every
// other message for Recv; and a writer that drains the send backlog. All
// methods are safe for concurrent use.
//
// A Conn does not reconnect; [Session] does that.
type Conn struct {
	nc      net.Conn  // reads and writes
	closer  io.Closer // closes the transport (under TLS: the raw conn)
	name    string
	log     logr.Logger
	cfg     ConnConfig
	nextID  func() uint64
	ids     atomic.Uint64
	rd      *reader
	wg      *sync.WaitGroup // optional: also tracks the goroutines
	owned   bool            // a Session's: it logs the close itself
	recvd   atomic.Uint64
	done    chan struct{} // closed when the connection is finished
	rdone   chan struct{} // closed when the reader has returned
	wdone   chan struct{} // closed when the writer has returned
	act     chan struct{} // activity signal (cap 1)
	inReady chan struct{} // a message was queued (cap 1)
	inSpace chan struct{} // the queue shrank (cap 1)
	outWake chan struct{} // output was queued (cap 1)

	mu      sync.Mutex
	err     error // terminal error; set once
	pending map[uint64]*pendingCall
	// expect holds the result decoders registered with ExpectResult, by
	// request id, until the reply arrives.
	expect map[uint64]ResultDecoder
	// canceled holds the ids of the latest canceled requests, so that
	// their late replies are dropped; canceledIDs is their order, oldest
	// first, at most maxCanceled long.
	canceled    map[uint64]struct{}
	canceledIDs []uint64
	out         [][]byte // messages queued, not yet taken by the writer
	nOut        int      // backlog: messages queued or being written
	outB        int      // backlog bytes
	warned      bool     // "excessive backlog" logged since the backlog was low
	in          []*Message
	inHead      int
	inBytes     int
}

type pendingCall struct {
	method string
	ch     chan callResult // buffered, 1
}

// maxCanceled is how many canceled requests a Conn remembers, to drop
// their replies should they arrive later. A reply to an older one is
// handed to Recv like any reply nobody waits for.
const maxCanceled = 256

type callResult struct {
	msg *Message
	err error
}

// NewConn starts a Conn on nc. Close it with [Conn.Close].
func NewConn(nc net.Conn, cfg ConnConfig) *Conn {
	return newConn(nc, cfg, nil)
}

// newConn starts a Conn; wg, when set, counts its goroutines and marks the
// Conn as a Session's.
func newConn(nc net.Conn, cfg ConnConfig, wg *sync.WaitGroup) *Conn {
	if cfg.Name == "" && nc.RemoteAddr() != nil {
		cfg.Name = nc.RemoteAddr().String()
	}
	if cfg.MaxQueuedBytes <= 0 {
		cfg.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	cfg.MaxBacklogMessages, cfg.MaxBacklogBytes = backlogLimits(cfg.MaxBacklogMessages, cfg.MaxBacklogBytes)
	c := &Conn{
		nc:      nc,
		closer:  nc,
		name:    cfg.Name,
		log:     cfg.Logger,
		cfg:     cfg,
		nextID:  cfg.NextID,
		wg:      wg,
		owned:   wg != nil,
		done:    make(chan struct{}),
		rdone:   make(chan struct{}),
		wdone:   make(chan struct{}),
		act:     make(chan struct{}, 1),
		inReady: make(chan struct{}, 1),
		inSpace: make(chan struct{}, 1),
		outWake: make(chan struct{}, 1),
		pending: make(map[uint64]*pendingCall),
	}
	if tc, ok := nc.(*tls.Conn); ok {
		// Closing the raw connection never blocks on a close_notify alert.
		c.closer = tc.NetConn()
	}
	if c.nextID == nil {
		c.nextID = func() uint64 { return c.ids.Add(1) }
	}
	c.rd = newReader(nc, c.name, cfg.MaxMessageSize)
	c.rd.decoderFor = c.decoderFor
	c.rd.onRead = func(n int) {
		c.recvd.Add(uint64(n))
		signal(c.act)
	}
	if wg != nil {
		wg.Add(2)
	}
	go c.readLoop()
	go c.writeLoop()
	return c
}

// signal does a non-blocking send on a channel of capacity 1.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Name returns the connection's name (see ConnConfig.Name).
func (c *Conn) Name() string { return c.name }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Done returns a channel that is closed when the connection is finished
// (closed locally, by the peer, or on an error). Messages already received
// can still be read with Recv.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection finished, or nil while it is up. It wraps
// ErrClosed after Close, io.EOF when the peer closed the connection
// between messages, or the error that ended it (ErrProtocol,
// ErrMessageTooLarge, ErrBacklogExceeded, a network error...).
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Activity returns a channel that receives a value (coalesced, never
// blocking the connection) whenever bytes are received or queued output
// drains to the peer (OVS's jsonrpc_session_run and
// jsonrpc_session_recv count both). A Session uses it to feed its probe timer;
// only one goroutine should read it.
func (c *Conn) Activity() <-chan struct{} { return c.act }

// ReceivedBytes returns the number of bytes received so far.
func (c *Conn) ReceivedBytes() uint64 { return c.recvd.Load() }

// Backlog returns the messages and bytes given to Send and not yet
// written; 0, 0 once the connection is finished.
func (c *Conn) Backlog() (messages, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, 0
	}
	return c.nOut, c.outB
}

// SetBacklogLimits changes the send backlog limits, as
// ConnConfig.MaxBacklogMessages and MaxBacklogBytes do: 0 means the
// default, a negative value no limit. The limits are checked at the next
// Send.
func (c *Conn) SetBacklogLimits(messages, bytes int) {
	messages, bytes = backlogLimits(messages, bytes)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg.MaxBacklogMessages, c.cfg.MaxBacklogBytes = messages, bytes
}

// backlogLimits returns the limits that configured values stand for: 0 is
// the default, a negative value no limit (returned as -1).
func backlogLimits(messages, bytes int) (int, int) {
	pick := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return -1
		}
		return v
	}
	return pick(messages, DefaultMaxBacklogMessages), pick(bytes, DefaultMaxBacklogBytes)
}

// Close closes the connection: pending calls fail, the goroutines stop
// (Close waits for them), and Err returns an error wrapping ErrClosed
// unless the connection had already failed. Messages already received
// stay readable with Recv. Close is idempotent.
func (c *Conn) Close() error {
	c.shutdown(fmt.Errorf("%w: %s", ErrClosed, c.name))
	<-c.rdone
	<-c.wdone
	return nil
}

// shutdown ends the connection with err without waiting for the
// goroutines.
func (c *Conn) shutdown(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	c.expect = nil
	c.out = nil
	c.mu.Unlock()

	close(c.done)
	_ = c.closer.Close()
	for _, p := range pending {
		p.ch <- callResult{err: err}
	}
	if l := c.log.V(1); l.Enabled() && !c.owned {
		l.Info("connection closed", "conn", c.name, "err", err)
	}
}

// Send queues m for sending and returns at once; the writer goroutine
// writes it. It fails if m is invalid (ErrInvalidMessage; the connection
// stays up), if the connection is finished (its Err), or if m takes the
// backlog over a limit (ErrBacklogExceeded; the connection is closed).
func (c *Conn) Send(m *Message) error {
	b, err := m.AppendJSON(nil)
	if err != nil {
		return err
	}
	c.logMessage("send", m)
	return c.sendBytes(b)
}

// Notify sends a notification.
func (c *Conn) Notify(method string, params ...any) error {
	m, err := NewNotification(method, params...)
	if err != nil {
		return err
	}
	return c.Send(m)
}

func (c *Conn) sendBytes(b []byte) error {
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.out = append(c.out, b)
	c.nOut++
	c.outB += len(b)
	var over error
	switch {
	case c.cfg.MaxBacklogMessages > 0 && c.nOut > c.cfg.MaxBacklogMessages:
		over = fmt.Errorf("%w: %s: %d messages queued, more than the limit of %d",
			ErrBacklogExceeded, c.name, c.nOut, c.cfg.MaxBacklogMessages)
	case c.cfg.MaxBacklogBytes > 0 && c.outB > c.cfg.MaxBacklogBytes:
		over = fmt.Errorf("%w: %s: %d bytes queued, more than the limit of %d",
			ErrBacklogExceeded, c.name, c.outB, c.cfg.MaxBacklogBytes)
	}
	warn := c.nOut >= backlogWarn && !c.warned
	if warn {
		c.warned = true
	}
	n, nb := c.nOut, c.outB
	c.mu.Unlock()

	if warn {
		c.log.Info("excessive sending backlog", "conn", c.name, "messages", n, "bytes", nb)
	}
	if over != nil {
		c.shutdown(over)
		return over
	}
	signal(c.outWake)
	return nil
}

// Request sends the request m with a fresh id (m's own ID is ignored and
// m is not modified) and waits for the matching reply or error reply,
// which it returns. It fails if ctx ends first or the connection finishes
// first. A canceled request is forgotten at once; its reply, should it
// arrive later, is dropped (for the latest 256 canceled requests).
func (c *Conn) Request(ctx context.Context, m *Message) (*Message, error) {
	if m == nil || m.Kind != KindRequest {
		return nil, fmt.Errorf("%w: Request needs a request", ErrInvalidMessage)
	}
	id := c.nextID()
	req := *m
	req.ID = strconv.AppendUint(nil, id, 10)
	b, err := req.AppendJSON(nil)
	if err != nil {
		return nil, err
	}
	p := &pendingCall{method: m.Method, ch: make(chan callResult, 1)}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.pending[id] = p
	c.mu.Unlock()

	c.logMessage("send", &req)
	if err := c.sendBytes(b); err != nil {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, err
	}
	select {
	case r := <-p.ch:
		return r.msg, r.err
	case <-ctx.Done():
		c.forget(id, p)
		return nil, fmt.Errorf("jsonrpc: %s: %s: %w", c.name, m.Method, ctx.Err())
	}
}

// forget removes the canceled request id, if it is still pending as p,
// and remembers id so that a late reply to it is dropped.
func (c *Conn) forget(id uint64, p *pendingCall) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[id] != p {
		return // answered or failed meanwhile
	}
	delete(c.pending, id)
	if c.canceled == nil {
		c.canceled = make(map[uint64]struct{})
	}
	if len(c.canceledIDs) == maxCanceled {
		delete(c.canceled, c.canceledIDs[0])
		c.canceledIDs = append(c.canceledIDs[:0], c.canceledIDs[1:]...)
	}
	c.canceled[id] = struct{}{}
	c.canceledIDs = append(c.canceledIDs, id)
}

// Call sends a request for method with params (encoded as a JSON array)
// and returns the result of the reply. An error reply is returned as a
// *ServerError.
func (c *Conn) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	req, err := NewRequest(0, method, params...)
	if err != nil {
		return nil, err
	}
	reply, err := c.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	if reply.Kind == KindError {
		return nil, &ServerError{Method: method, Value: reply.Error}
	}
	return reply.Result, nil
}

// Recv returns the next received message that is not an echo request nor
// a reply to a Call: requests and notifications from the peer, and
// replies to requests sent with Send. Once the connection is finished and
// every queued message has been returned, it returns the connection's
// error (see Err). Only one goroutine should call Recv.
func (c *Conn) Recv(ctx context.Context) (*Message, error) {
	for {
		m, err, ok := c.tryRecv()
		if ok {
			return m, err
		}
		select {
		case <-c.inReady:
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// tryRecv returns the next queued message, or the terminal error once the
// queue is empty; ok is false when there is neither yet.
func (c *Conn) tryRecv() (m *Message, err error, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inHead < len(c.in) {
		m = c.in[c.inHead]
		c.in[c.inHead] = nil
		c.inHead++
		c.inBytes -= m.size()
		switch {
		case c.inHead == len(c.in):
			c.in, c.inHead = c.in[:0], 0
		default:
			signal(c.inReady) // more to come: wake another waiter
			if c.inHead > 64 && c.inHead > len(c.in)/2 {
				n := copy(c.in, c.in[c.inHead:])
				clear(c.in[n:])
				c.in, c.inHead = c.in[:n], 0
			}
		}
		signal(c.inSpace)
		return m, nil, true
	}
	if c.err != nil {
		return nil, c.err, true
	}
	return nil, nil, false
}

// size is the memory a queued message accounts for. A reply whose result
// went through a ResultDecoder counts the result's length, as if it were
// kept: the decoded value is of the same order.
func (m *Message) size() int {
	return 64 + len(m.Method) + len(m.Params) + len(m.Result) + m.decodedLen + len(m.Error) + len(m.ID)
}

// readLoop is the reader goroutine.
func (c *Conn) readLoop() {
	defer func() {
		close(c.rdone)
		if c.wg != nil {
			c.wg.Done()
		}
	}()
	for {
		m, err := c.rd.next()
		if err != nil {
			c.shutdown(err)
			return
		}
		c.logMessage("received", m)
		switch m.Kind {
		case KindRequest:
			if m.Method == "echo" {
				// Answer at once, whatever the consumer is doing, with the
				// request's params and id (jsonrpc_session_recv).
				reply := &Message{Kind: KindReply, Result: m.Params, ID: m.ID}
				_ = c.Send(reply) // fails only if the connection is finished
				continue
			}
		case KindReply, KindError:
			if c.deliverReply(m) {
				continue
			}
			if m.Kind == KindReply && c.cfg.DropEchoReplies && bytes.Equal(m.ID, echoID) {
				continue
			}
		}
		if !c.enqueue(m) {
			return
		}
	}
}

// deliverReply hands a reply to the Call waiting for it, or drops the
// late reply to a canceled one; it reports whether m was either. It drops
// the ExpectResult registration for m's id, if any.
func (c *Conn) deliverReply(m *Message) bool {
	id, ok := uintID(m.ID)
	if !ok {
		return false
	}
	c.mu.Lock()
	delete(c.expect, id)
	p := c.pending[id]
	_, canceled := c.canceled[id]
	switch {
	case p != nil:
		delete(c.pending, id)
	case canceled:
		// canceledIDs keeps the id until it ages out; it is unique, so
		// the map entry is what counts.
		delete(c.canceled, id)
	}
	c.mu.Unlock()
	if p != nil {
		p.ch <- callResult{msg: m}
	}
	return p != nil || canceled
}

// enqueue queues m for Recv, waiting while the queue is full. It reports
// false when the connection finished meanwhile.
func (c *Conn) enqueue(m *Message) bool {
	size := m.size()
	c.mu.Lock()
	for c.err == nil && c.inBytes > 0 && c.inBytes+size > c.cfg.MaxQueuedBytes {
		c.mu.Unlock()
		if l := c.log.V(1); l.Enabled() {
			l.Info("receive queue full, waiting for the consumer", "conn", c.name, "queued", c.inBytes)
		}
		select {
		case <-c.inSpace:
		case <-c.done:
		}
		c.mu.Lock()
	}
	if c.err != nil {
		c.mu.Unlock()
		return false
	}
	c.in = append(c.in, m)
	c.inBytes += size
	c.mu.Unlock()
	signal(c.inReady)
	return true
}

// writeLoop is the writer goroutine.
func (c *Conn) writeLoop() {
	defer func() {
		close(c.wdone)
		if c.wg != nil {
			c.wg.Done()
		}
	}()
	var (
		spare     [][]byte
		buf       []byte
		sinceIdle int
	)
	for {
		c.mu.Lock()
		if c.err != nil {
			c.mu.Unlock()
			return
		}
		if len(c.out) == 0 {
			c.mu.Unlock()
			sinceIdle = 0
			select {
			case <-c.outWake:
				continue
			case <-c.done:
				return
			}
		}
		batch := c.out
		c.out = spare[:0]
		c.mu.Unlock()

		if buf == nil {
			buf = make([]byte, 0, writeChunk)
		}
		total := 0
		write := func(p []byte) error {
			if _, err := c.nc.Write(p); err != nil {
				return err
			}
			sinceIdle += len(p)
			if sinceIdle > immediateWrite {
				signal(c.act) // queued output drained: the peer reads
			}
			return nil
		}
		var err error
		for _, b := range batch {
			total += len(b)
			for len(b) > 0 && err == nil {
				if len(buf) == 0 && len(b) >= writeChunk {
					err = write(b[:writeChunk])
					b = b[writeChunk:]
					continue
				}
				k := copy(buf[len(buf):cap(buf)], b)
				buf, b = buf[:len(buf)+k], b[k:]
				if len(buf) == cap(buf) {
					err = write(buf)
					buf = buf[:0]
				}
			}
		}
		if err == nil && len(buf) > 0 {
			err = write(buf)
			buf = buf[:0]
		}
		if err != nil {
			c.shutdown(fmt.Errorf("jsonrpc: %s: send error: %w", c.name, err))
			return
		}
		clear(batch)
		spare = batch
		c.mu.Lock()
		c.nOut -= len(spare)
		c.outB -= total
		if c.nOut < backlogWarn {
			c.warned = false
		}
		c.mu.Unlock()
	}
}

// logMessage logs a message sent or received (dir) at V(2): its summary,
// or at V(4) its contents.
func (c *Conn) logMessage(dir string, m *Message) {
	l := c.log.V(2)
	if !l.Enabled() {
		return
	}
	if l4 := c.log.V(4); l4.Enabled() && !m.IsDecoded() {
		b, _ := m.AppendJSON(nil)
		l4.Info("message", "conn", c.name, "dir", dir, "message", ovsjson.Truncate(string(b), 4096))
		return
	}
	l.Info("message", "conn", c.name, "dir", dir, "message", m.String())
}
