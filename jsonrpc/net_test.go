package jsonrpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/ovsdbcs/ovsdbcs/internal/testpki"
)

// These tests use real sockets on loopback; they wait with deadlines,
// never on sleeps.

const realTimeout = 10 * time.Second

// rpcServer accepts connections on l and answers every request with
// ["<method>", params...]; it closes them all on cleanup.
type rpcServer struct {
	l     net.Listener
	mu    sync.Mutex
	conns []*Conn
	wg    sync.WaitGroup
}

func serveRPC(t *testing.T, l net.Listener) *rpcServer {
	s := &rpcServer{l: l}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			c := NewConn(nc, ConnConfig{Name: "server"})
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				for {
					m, err := c.Recv(context.Background())
					if err != nil {
						return
					}
					if m.Kind == KindRequest {
						reply, _ := NewReply(m.ID, []any{m.Method, m.Params})
						_ = c.Send(reply)
					}
				}
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rpcServer) close() {
	s.l.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// dropAll closes the server side of every connection.
func (s *rpcServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

// nextEvent waits for the next event of kind k (skipping others).
func nextEvent(t *testing.T, s *Session, k EventKind) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
	defer cancel()
	for {
		ev, err := s.Recv(ctx)
		if err != nil {
			t.Fatalf("waiting for %v: %v", k, err)
		}
		if ev.Kind == k {
			return ev
		}
	}
}

func callOK(t *testing.T, c *Conn, method string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
	defer cancel()
	res, err := c.Call(ctx, method, 1, "two", 9007199254740993)
	if err != nil {
		t.Fatalf("Call %s: %v", method, err)
	}
	if want := `["` + method + `",[1,"two",9007199254740993]]`; string(res) != want {
		t.Fatalf("Call %s = %s, want %s", method, res, want)
	}
}

// runSession connects a session to remote (served by l), calls over it,
// drops the server side and checks that the session reconnects.
func runSession(t *testing.T, remote string, l net.Listener, cfg SessionConfig) {
	srv := serveRPC(t, l)
	r, err := ParseRemote(remote)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = testr.NewWithOptions(t, testr.Options{Verbosity: 1})
	cfg.MaxBackoff = time.Second
	s, err := NewSession([]Remote{r}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := nextEvent(t, s, EventConnected)
	if ev.Remote != r.String() {
		t.Errorf("connected to %s, want %s", ev.Remote, r)
	}
	callOK(t, ev.Conn, "list_dbs")
	srv.dropAll()
	if ev := nextEvent(t, s, EventDisconnected); ev.Err == nil {
		t.Error("disconnected without a reason")
	}
	ev = nextEvent(t, s, EventConnected)
	callOK(t, ev.Conn, "again")
	if s.Seqno() != 3 {
		t.Errorf("seqno %d after connect, drop, connect", s.Seqno())
	}
}

func TestRealTCP(t *testing.T) {
	before := runtime.NumGoroutine()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runSession(t, "tcp:"+l.Addr().String(), l, SessionConfig{})
	// Close left nothing behind (the server side is closed by its cleanup,
	// which has not run yet: count only what the session started).
	waitGoroutines(t, before+3) // listener's accept loop + the server conn's two
}

func waitGoroutines(t *testing.T, limit int) {
	t.Helper()
	deadline := time.Now().Add(realTimeout)
	for runtime.NumGoroutine() > limit {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), limit, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func TestRealIPv6(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	runSession(t, "tcp:[::1]:"+itoa(port), l, SessionConfig{})
}

func TestRealUnix(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	runSession(t, "unix:"+path, l, SessionConfig{})
}

func TestRealTLS(t *testing.T) {
	t.Parallel()
	pki := testpki.New(t, "ovsdb")
	l, err := tls.Listen("tcp", "127.0.0.1:0", pki.ServerTLS())
	if err != nil {
		t.Fatal(err)
	}
	runSession(t, "ssl:"+l.Addr().String(), l, SessionConfig{TLSConfig: pki.ClientTLS()})
}

// A server certificate from another CA is rejected: the attempt fails with
// the verification error and the session never connects.
func TestRealTLSWrongCA(t *testing.T) {
	pki, other := testpki.New(t, "ovsdb"), testpki.New(t, "rogue")
	l, err := tls.Listen("tcp", "127.0.0.1:0", other.ServerTLS())
	if err != nil {
		t.Fatal(err)
	}
	serveRPC(t, l)
	r, _ := ParseRemote("ssl:" + l.Addr().String())
	failed := make(chan Observation, 10)
	s, err := NewSession([]Remote{r}, SessionConfig{
		TLSConfig: pki.ClientTLS(),
		OneShot:   true,
		Logger:    testr.NewWithOptions(t, testr.Options{Verbosity: 1}),
		Observer: func(o Observation) {
			if o.Kind == ObserveConnectFailed {
				failed <- o
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case o := <-failed:
		var uerr x509.UnknownAuthorityError
		if !errors.As(o.Err, &uerr) || !strings.Contains(o.Err.Error(), "TLS handshake") {
			t.Errorf("attempt failed with %v, want an unknown-authority TLS error", o.Err)
		}
	case <-time.After(realTimeout):
		t.Fatal("the attempt did not fail")
	}
	if s.IsConnected() {
		t.Error("connected to a server with a certificate from the wrong CA")
	}
}

// Passive sessions over real sockets: ptcp: with an ephemeral port,
// punix:, and pssl: with client certificates.
func TestRealPassive(t *testing.T) {
	pki := testpki.New(t, "ovsdb")
	tests := []struct {
		remote string
		dial   func(addr net.Addr) (net.Conn, error)
	}{
		{"ptcp:0:127.0.0.1", func(a net.Addr) (net.Conn, error) { return net.Dial("tcp", a.String()) }},
		{"punix:" + filepath.Join(t.TempDir(), "p.sock"), func(a net.Addr) (net.Conn, error) { return net.Dial("unix", a.String()) }},
		{"pssl:0:127.0.0.1", func(a net.Addr) (net.Conn, error) { return tls.Dial("tcp", a.String(), pki.ClientTLS()) }},
	}
	for _, tt := range tests {
		t.Run(strings.SplitN(tt.remote, ":", 2)[0], func(t *testing.T) {
			r, err := ParseRemote(tt.remote)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSession([]Remote{r}, SessionConfig{
				TLSConfig: pki.ServerTLS(),
				Logger:    testr.NewWithOptions(t, testr.Options{Verbosity: 1}),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			deadline := time.Now().Add(realTimeout)
			for s.ListenAddr() == nil {
				if time.Now().After(deadline) {
					t.Fatal("not listening")
				}
				time.Sleep(time.Millisecond)
			}
			var clients []*Conn
			for i := range 2 {
				nc, err := tt.dial(s.ListenAddr())
				if err != nil {
					t.Fatal(err)
				}
				client := NewConn(nc, ConnConfig{Name: "client"})
				defer client.Close()
				clients = append(clients, client)
				ev := nextEvent(t, s, EventConnected)
				// The session answers our echo by itself...
				ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
				res, err := client.Call(ctx, "echo", "hi", i)
				cancel()
				if err != nil || string(res) != `["hi",`+itoa(i)+`]` {
					t.Fatalf("echo = %s, %v", res, err)
				}
				// ...and hands it everything else.
				if err := client.Notify("hello", i); err != nil {
					t.Fatal(err)
				}
				msg := nextEvent(t, s, EventMessage)
				if msg.Conn != ev.Conn || msg.Msg.Method != "hello" || string(msg.Msg.Params) != "["+itoa(i)+"]" {
					t.Fatalf("message %v on %v", msg.Msg, msg.Remote)
				}
			}
			// The second connection replaced the first.
			select {
			case <-clients[0].Done():
			case <-time.After(realTimeout):
				t.Fatal("the first connection is still up")
			}
		})
	}
}
