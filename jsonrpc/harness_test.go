package jsonrpc

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
)

// fakeNet is an in-memory network for Session tests under synctest: each
// address behaves as the test sets it, and every dial is recorded with
// its (fake) time.
type fakeNet struct {
	t     testing.TB
	start time.Time

	mu       sync.Mutex
	mode     map[string]string // address -> behaviour, see Dial
	names    map[string]string // address -> short name for the log
	attempts []string          // "<elapsed> <name>"
	servers  chan *Conn        // the server ends of "serve" connections
	raws     chan net.Conn     // the server ends of "silent" and "raw" connections
}

func newFakeNet(t testing.TB) *fakeNet {
	return &fakeNet{
		t:       t,
		start:   time.Now(),
		mode:    map[string]string{},
		names:   map[string]string{},
		servers: make(chan *Conn, 100),
		raws:    make(chan net.Conn, 100),
	}
}

// remotes returns n remotes named A, B, C... with the given modes.
func (f *fakeNet) remotes(modes ...string) []Remote {
	var rs []Remote
	for i, m := range modes {
		r := Remote{Method: "tcp", Host: fmt.Sprintf("10.0.0.%d", i+1), Port: 6641}
		f.set(r, string(rune('A'+i)), m)
		rs = append(rs, r)
	}
	return rs
}

func (f *fakeNet) set(r Remote, name, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode[r.Address()] = mode
	if name != "" {
		f.names[r.Address()] = name
	}
}

// setAll changes the behaviour of every address.
func (f *fakeNet) setAll(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for a := range f.mode {
		f.mode[a] = mode
	}
}

// Dial behaves as the address's mode says:
//   - refuse: fails at once (connection refused);
//   - hang: blocks until ctx ends;
//   - close: connects, and the peer closes at once;
//   - serve: connects to a Conn that answers echo requests (sent on
//     f.servers);
//   - silent: connects to a peer that reads everything and never writes;
//   - raw: connects; the server end is sent on f.raws for the test.
func (f *fakeNet) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	f.mu.Lock()
	mode := f.mode[address]
	name := f.names[address]
	if name == "" {
		name = address
	}
	f.attempts = append(f.attempts, fmt.Sprintf("%v %s", time.Since(f.start), name))
	f.mu.Unlock()
	switch mode {
	case "refuse":
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	case "hang":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	client, server := net.Pipe()
	switch mode {
	case "close":
		server.Close()
	case "serve":
		f.servers <- NewConn(server, ConnConfig{Name: "server-" + name})
	case "silent":
		go func() { _, _ = io.Copy(io.Discard, server) }()
	case "raw":
		f.raws <- server
	default:
		f.t.Errorf("dial %s: no mode set", address)
		return nil, syscall.ECONNREFUSED
	}
	return client, nil
}

// takeAttempts returns the dials since the last call.
func (f *fakeNet) takeAttempts() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.Join(f.attempts, ", ")
	f.attempts = nil
	return s
}

// newTestSession starts a session on the fake network, keeping the order
// of the remotes, and closes it at the end of the test.
func newTestSession(t *testing.T, f *fakeNet, remotes []Remote, cfg SessionConfig) *Session {
	t.Helper()
	cfg.KeepOrder = true
	cfg.Dial = f.Dial
	if cfg.Logger.GetSink() == nil {
		cfg.Logger = testr.NewWithOptions(t, testr.Options{Verbosity: 1})
	}
	s, err := NewSession(remotes, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eventLog collects a session's events on a goroutine, with their time.
type eventLog struct {
	start  time.Time
	mu     sync.Mutex
	events []Event
	lines  []string
	done   chan struct{}
}

func recordEvents(s *Session) *eventLog {
	l := &eventLog{start: time.Now(), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for {
			ev, err := s.Recv(context.Background())
			if err != nil {
				return
			}
			line := fmt.Sprintf("%v %s %s #%d", time.Since(l.start), ev.Kind, ev.Remote, ev.Seqno)
			switch ev.Kind {
			case EventMessage:
				line += " " + ev.Msg.String()
			case EventDisconnected:
				line += " " + errorKind(ev.Err)
			}
			l.mu.Lock()
			l.events = append(l.events, ev)
			l.lines = append(l.lines, line)
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *eventLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.Join(l.lines, "\n")
	l.lines = nil
	return s
}

// errorKind names the sentinel an error wraps, for compact expectations.
func errorKind(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{io.ErrUnexpectedEOF, "unexpected-EOF"},
		{io.EOF, "EOF"},
		{ErrProbeTimeout, "probe-timeout"},
		{ErrConnectTimeout, "connect-timeout"},
		{ErrForcedReconnect, "forced"},
		{ErrBacklogExceeded, "backlog-exceeded"},
		{ErrProtocol, "protocol"},
		{ErrMessageTooLarge, "too-large"},
		{ErrSessionClosed, "session-closed"},
		{syscall.ECONNREFUSED, "refused"},
	} {
		if isErr(err, k.err) {
			return k.name
		}
	}
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// observationLog records a session's observations.
type observationLog struct {
	start time.Time
	mu    sync.Mutex
	lines []string
}

func (o *observationLog) observe(ob Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	line := fmt.Sprintf("%v %s %s", ob.Time.Sub(o.start), ob.Kind, ob.Remote)
	switch ob.Kind {
	case ObserveBackoff:
		line += fmt.Sprintf(" %v free=%d", ob.Backoff, ob.FreeTries)
	case ObserveConnectFailed, ObserveDisconnected:
		line += " " + errorKind(ob.Err)
	case ObserveConnected:
		line += fmt.Sprintf(" #%d", ob.Seqno)
	}
	o.lines = append(o.lines, line)
}

func (o *observationLog) take() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := strings.Join(o.lines, "\n")
	o.lines = nil
	return s
}

func want(t testing.TB, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got: %s\nwant: %s", what, strings.ReplaceAll(got, "\n", "\n      "), strings.ReplaceAll(want, "\n", "\n      "))
	}
}

// pipeListener is an in-memory net.Listener: dial hands the server end of
// a net.Pipe to Accept.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial connects to the listener and returns the client end.
func (l *pipeListener) dial() net.Conn {
	server, client := net.Pipe()
	l.conns <- server
	return client
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
