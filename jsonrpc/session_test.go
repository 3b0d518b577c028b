package jsonrpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

var isErr = errors.Is

// Three remotes that refuse: the first sweep is free of backoff (one free
// try per remote), then the walk goes on round robin with 1 s, 2 s, 4 s,
// 8 s, 8 s... (the doubling of reconnect_disconnected).
func TestSessionBackoffAllRefuse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		obs := &observationLog{start: time.Now()}
		s := newTestSession(t, f, f.remotes("refuse", "refuse", "refuse"), SessionConfig{Observer: obs.observe})
		time.Sleep(40 * time.Second)
		want(t, "attempts", f.takeAttempts(), "0s A, 0s B, 0s C, 1s A, 3s B, 7s C, 15s A, 23s B, 31s C, 39s A")
		want(t, "first observations", strings.Join(strings.Split(obs.take(), "\n")[:9], "\n"), strings.Join([]string{
			"0s connecting tcp:10.0.0.1:6641",
			"0s connect-failed tcp:10.0.0.1:6641 refused",
			"0s backoff tcp:10.0.0.2:6641 0s free=2",
			"0s connecting tcp:10.0.0.2:6641",
			"0s connect-failed tcp:10.0.0.2:6641 refused",
			"0s backoff tcp:10.0.0.3:6641 0s free=1",
			"0s connecting tcp:10.0.0.3:6641",
			"0s connect-failed tcp:10.0.0.3:6641 refused",
			"0s backoff tcp:10.0.0.1:6641 1s free=1",
		}, "\n"))
		// A refused connect does not bump the seqno.
		if s.Seqno() != 0 || s.IsConnected() || !s.IsAlive() {
			t.Errorf("seqno %d connected %v alive %v", s.Seqno(), s.IsConnected(), s.IsAlive())
		}
		if err := s.LastError(); !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "tcp:10.0.0.1:6641") {
			t.Errorf("LastError = %v", err)
		}
		st := s.Stats()
		if st.Attempted != 10 || st.Successful != 0 || st.Backoff != 8*time.Second || st.Remotes != 3 {
			t.Errorf("stats %+v", st)
		}
	})
}

// A remote that refuses, one that hangs and one that accepts and closes at
// once: the connect timeout is max(1 s, backoff); a connection that
// closes with no activity preserves the backoff growth; the walk
// moves to the next remote on every teardown and every failed attempt.
func TestSessionRefuseHangClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		s := newTestSession(t, f, f.remotes("refuse", "hang", "close"), SessionConfig{})
		events := recordEvents(s)
		time.Sleep(30 * time.Second)
		want(t, "attempts", f.takeAttempts(), "0s A, 0s B, 1s C, 2s A, 4s B, 10s C, 18s A, 26s B")
		want(t, "events", events.take(), strings.Join([]string{
			"1s connected tcp:10.0.0.3:6641 #2",
			"1s disconnected tcp:10.0.0.3:6641 #2 EOF",
			"10s connected tcp:10.0.0.3:6641 #5",
			"10s disconnected tcp:10.0.0.3:6641 #5 EOF",
		}, "\n"))
		// seqno: +1 when B's attempt timed out (t=1), +1 connected, +1
		// dropped, +1 at t=6, +2 at t=10; B hangs again since t=26.
		if got := s.Seqno(); got != 6 {
			t.Errorf("seqno %d, want 6", got)
		}
		if err := s.LastError(); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("LastError = %v, want A's refusal at 18 s", err)
		}
		if got := s.Remote(); got != "tcp:10.0.0.2:6641" {
			t.Errorf("Remote() = %s while B is being tried", got)
		}
	})
}

// From a connected session, ResetBackoff + ForceReconnect tries
// every remote once with zero delay, the old one last, then backs off;
// without the reset, the sweep ends early and backoff grows.
func TestSessionResetBackoffSweep(t *testing.T) {
	for _, reset := range []bool{true, false} {
		name := "reset"
		if !reset {
			name = "no-reset"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeNet(t)
				s := newTestSession(t, f, f.remotes("serve", "serve", "serve"), SessionConfig{})
				time.Sleep(10 * time.Second) // connected to A, probes answered
				want(t, "attempts before", f.takeAttempts(), "0s A")
				if !s.IsConnected() || s.Remote() != "tcp:10.0.0.1:6641" {
					t.Fatalf("not connected to A: %s", s.Remote())
				}
				f.setAll("refuse")
				if reset {
					s.ResetBackoff()
					if st := s.Stats(); st.FreeTries != 4 {
						t.Errorf("free tries %d, want n+1 = 4 while connected", st.FreeTries)
					}
				}
				s.ForceReconnect()
				time.Sleep(20 * time.Second)
				if reset {
					want(t, "attempts", f.takeAttempts(), "10s B, 10s C, 10s A, 11s B, 13s C, 17s A, 25s B")
				} else {
					want(t, "attempts", f.takeAttempts(), "10s B, 10s C, 11s A, 13s B, 17s C, 25s A")
				}
				if err := s.LastError(); !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("LastError = %v", err)
				}
			})
		})
	}
}

// A forced sweep where a remote accepts: the session connects to it and
// the owner sees the old connection end (forced) and the new one begin.
func TestSessionForceReconnectMovesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		s := newTestSession(t, f, f.remotes("serve", "refuse", "serve"), SessionConfig{})
		events := recordEvents(s)
		time.Sleep(time.Second)
		s.ResetBackoff()
		s.ForceReconnect()
		time.Sleep(time.Second)
		want(t, "attempts", f.takeAttempts(), "0s A, 1s B, 1s C")
		want(t, "events", events.take(), strings.Join([]string{
			"0s connected tcp:10.0.0.1:6641 #1",
			"1s disconnected tcp:10.0.0.1:6641 #1 forced",
			"1s connected tcp:10.0.0.3:6641 #3",
		}, "\n"))
	})
}

// Probes: an idle connection gets {"method":"echo","params":[],
// "id":"echo"} after the probe interval, and is dropped when it stays
// unanswered for another interval.
func TestSessionProbeTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		rs := f.remotes("raw")
		s := newTestSession(t, f, rs, SessionConfig{ProbeInterval: 5 * time.Second})
		events := recordEvents(s)
		p := newPeer(t, <-f.raws)
		got := make(chan string, 10)
		go func() {
			for {
				m, err := p.rd.next()
				if err != nil {
					return
				}
				b, _ := m.MarshalJSON()
				got <- time.Since(f.start).String() + " " + string(b)
			}
		}()
		time.Sleep(12 * time.Second)
		want(t, "probe", <-got, `5s {"method":"echo","params":[],"id":"echo"}`)
		// Single remote: no free retry; the connection lasted at least the
		// backoff, so the next attempt waits the minimum, 1 s.
		want(t, "attempts", f.takeAttempts(), "0s A, 11s A")
		want(t, "events", events.take(), strings.Join([]string{
			"0s connected tcp:10.0.0.1:6641 #1",
			"10s disconnected tcp:10.0.0.1:6641 #1 probe-timeout",
			"11s connected tcp:10.0.0.1:6641 #3",
		}, "\n"))
		if err := s.LastError(); !errors.Is(err, ErrProbeTimeout) {
			t.Errorf("LastError = %v", err)
		}
	})
}

// An answered probe keeps the connection; the echo reply is swallowed.
// Traffic from the peer postpones probes; unix sockets are never probed.
func TestSessionProbesAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		s := newTestSession(t, f, f.remotes("serve"), SessionConfig{ProbeInterval: 5 * time.Second})
		events := recordEvents(s)
		srv := <-f.servers
		time.Sleep(61 * time.Second)
		want(t, "attempts", f.takeAttempts(), "0s A")
		want(t, "events", events.take(), "0s connected tcp:10.0.0.1:6641 #1")
		// The probes went out every 5 s: 12 in 61 s, each answered.
		if st := s.Stats(); st.ReceivedBytes != 12*uint64(len(`{"result":[],"error":null,"id":"echo"}`)) {
			t.Errorf("received %d bytes, want 12 echo replies", st.ReceivedBytes)
		}
		// The peer talks every 3 s: no probe at all.
		before := s.Stats().ReceivedBytes
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(3 * time.Second):
					_ = srv.Notify("tick")
				}
			}
		}()
		time.Sleep(30500 * time.Millisecond)
		close(stop)
		ticks := strings.Count(events.take(), `method="tick"`)
		if got := s.Stats().ReceivedBytes - before; got != uint64(ticks*len(`{"method":"tick","params":[],"id":null}`)) {
			t.Errorf("received %d bytes for %d ticks: probes were sent while the peer was talking", got, ticks)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		r := Remote{Method: "unix", Path: "/run/db.sock"}
		f.set(r, "U", "silent")
		s := newTestSession(t, f, []Remote{r}, SessionConfig{})
		time.Sleep(5 * time.Minute)
		want(t, "attempts", f.takeAttempts(), "0s U")
		if !s.IsConnected() || s.Stats().ProbeInterval != 0 {
			t.Errorf("unix: connected %v, probe interval %v", s.IsConnected(), s.Stats().ProbeInterval)
		}
	})
}

// The peer's echo requests are answered at once even when the owner does
// not read events.
func TestSessionAnswersPeerEcho(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		newTestSession(t, f, f.remotes("raw"), SessionConfig{})
		p := newPeer(t, <-f.raws)
		p.write(`{"method":"update","params":[1],"id":null}{"method":"echo","params":[42],"id":7}`)
		want(t, "echo reply", p.read(), `{"result":[42],"error":null,"id":7}`)
	})
}

// SetRemotes keeps the live connection when its remote is still
// listed (no events, same seqno), and the settings survive; otherwise it
// drops it and starts over with a free sweep.
func TestSessionSetRemotes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		rs := f.remotes("serve", "refuse", "refuse", "serve")
		s := newTestSession(t, f, rs[:1], SessionConfig{})
		events := recordEvents(s)
		if err := s.SetMaxBackoff(2 * time.Second); err != nil {
			t.Fatal(err)
		}
		if err := s.SetProbeInterval(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		conn := s.Conn()

		if err := s.SetRemotes([]Remote{rs[1], rs[0]}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if s.Conn() != conn || s.Seqno() != 1 {
			t.Fatalf("connection not kept: seqno %d", s.Seqno())
		}
		st := s.Stats()
		if st.MaxBackoff != 2*time.Second || st.ProbeInterval != 3*time.Second || st.FreeTries != 2 {
			t.Errorf("settings after SetRemotes: max backoff %v, probe %v, free tries %d", st.MaxBackoff, st.ProbeInterval, st.FreeTries)
		}
		// Same set in another order: nothing happens.
		if err := s.SetRemotes([]Remote{rs[0], rs[1]}); err != nil {
			t.Fatal(err)
		}
		// The kept connection drops: the walk continues after it, with a
		// free try.
		f.set(rs[0], "", "refuse")
		s.ForceReconnect()
		time.Sleep(10 * time.Second)
		want(t, "attempts", f.takeAttempts(), "0s A, 2s B, 3s A, 5s B, 7s A, 9s B, 11s A")

		// A list without the current remote drops the connection.
		f.set(rs[0], "", "serve")
		time.Sleep(4 * time.Second) // B refuses at 13 s, A accepts at 15 s
		if err := s.SetRemotes([]Remote{rs[2], rs[3]}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		want(t, "attempts", f.takeAttempts(), "13s B, 15s A, 16s C, 16s D")
		want(t, "events", events.take(), strings.Join([]string{
			"0s connected tcp:10.0.0.1:6641 #1",
			"2s disconnected tcp:10.0.0.1:6641 #1 forced",
			"15s connected tcp:10.0.0.1:6641 #3",
			"16s disconnected tcp:10.0.0.1:6641 #3 forced",
			"16s connected tcp:10.0.0.4:6641 #5",
		}, "\n"))
	})
}

// A one-shot session tries each remote once, then gives up.
func TestSessionOneShot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		obs := &observationLog{start: time.Now()}
		s := newTestSession(t, f, f.remotes("refuse", "hang", "refuse"), SessionConfig{OneShot: true, Observer: obs.observe})
		time.Sleep(time.Hour)
		want(t, "attempts", f.takeAttempts(), "0s A, 0s B, 1s C")
		if s.IsAlive() || s.IsConnected() {
			t.Errorf("alive %v connected %v after one pass", s.IsAlive(), s.IsConnected())
		}
		if got := obs.take(); !strings.HasSuffix(got, "1s gave-up ") {
			t.Errorf("observations end with\n%s", got)
		}
		// Owner requests do not revive it.
		s.ConnectNow()
		s.ForceReconnect()
		time.Sleep(time.Hour)
		want(t, "attempts after", f.takeAttempts(), "")
	})
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		rs := f.remotes("refuse", "serve")
		s := newTestSession(t, f, rs, SessionConfig{OneShot: true})
		time.Sleep(time.Second)
		if !s.IsConnected() || !s.IsAlive() {
			t.Fatal("one-shot session did not connect to B")
		}
		(<-f.servers).Close()
		time.Sleep(time.Hour)
		want(t, "attempts", f.takeAttempts(), "0s A, 0s B")
		if s.IsAlive() {
			t.Error("one-shot session alive after its connection ended")
		}
	})
}

// A peer that stops reading while we keep sending trips the backlog
// limit; the session reports it and reconnects.
func TestSessionBacklogLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		rs := f.remotes("raw")
		s := newTestSession(t, f, rs, SessionConfig{Conn: ConnConfig{MaxBacklogMessages: 10}})
		events := recordEvents(s)
		<-f.raws // never read
		synctest.Wait()
		var err error
		for i := 0; i < 20 && err == nil; i++ {
			err = s.Send(&Message{Kind: KindNotification, Method: "n", Params: jsonEmptyArray})
		}
		if !errors.Is(err, ErrBacklogExceeded) {
			t.Fatalf("Send = %v", err)
		}
		f.set(rs[0], "", "serve")
		time.Sleep(2 * time.Second)
		want(t, "events", events.take(), strings.Join([]string{
			"0s connected tcp:10.0.0.1:6641 #1",
			"0s disconnected tcp:10.0.0.1:6641 #1 backlog-exceeded",
			"1s connected tcp:10.0.0.1:6641 #3",
		}, "\n"))
		// The limits can be changed at run time, on the live connection.
		s.SetBacklogLimits(0, 10)
		if err := s.Send(&Message{Kind: KindNotification, Method: "a-long-method-name", Params: jsonEmptyArray}); !errors.Is(err, ErrBacklogExceeded) {
			t.Fatalf("Send over the byte limit = %v", err)
		}
	})
}

// Events: Connected, the connection's messages in order, Disconnected;
// never mixed across connections. Sending on an old Event.Conn fails
// instead of reaching the new connection.
func TestSessionEventsPerConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		rs := f.remotes("raw", "raw")
		s := newTestSession(t, f, rs, SessionConfig{})
		ctx := context.Background()
		var lines []string
		var first *Conn
		next := func() {
			t.Helper()
			ev, err := s.Recv(ctx)
			if err != nil {
				t.Fatal(err)
			}
			line := ev.Kind.String() + " " + ev.Remote
			if ev.Msg != nil {
				line += " " + string(ev.Msg.Params)
			}
			if ev.Kind == EventDisconnected {
				line += " " + errorKind(ev.Err)
			}
			if first == nil {
				first = ev.Conn
			}
			lines = append(lines, line)
		}
		p := newPeer(t, <-f.raws)
		next()
		// The peer sends two messages and closes; the session reconnects
		// to B, which sends one, before the owner reads any of them.
		go func() {
			_, _ = p.nc.Write([]byte(`{"method":"n","params":[1]}{"method":"n","params":[2]}`))
			p.nc.Close()
		}()
		p2 := newPeer(t, <-f.raws)
		p2.write(`{"method":"n","params":[3]}`)
		synctest.Wait()
		for range 5 {
			next()
		}
		want(t, "events", strings.Join(lines, "\n"), strings.Join([]string{
			"connected tcp:10.0.0.1:6641",
			"message tcp:10.0.0.1:6641 [1]",
			"message tcp:10.0.0.1:6641 [2]",
			"disconnected tcp:10.0.0.1:6641 EOF",
			"connected tcp:10.0.0.2:6641",
			"message tcp:10.0.0.2:6641 [3]",
		}, "\n"))
		if err := first.Notify("late"); !errors.Is(err, io.EOF) {
			t.Errorf("send on the old connection = %v, want its EOF", err)
		}
		if err := s.Send(&Message{Kind: KindNotification, Method: "now", Params: jsonEmptyArray}); err != nil {
			t.Errorf("send on the session = %v", err)
		}
		want(t, "B received", p2.read(), `{"method":"now","params":[],"id":null}`)
	})
}

// A slow owner: connections that came and went before it looked are
// skipped; the one it is reading is finished first.
func TestSessionSlowOwnerSkipsUnseenConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		s := newTestSession(t, f, f.remotes("raw"), SessionConfig{})
		for i := range 3 {
			p := newPeer(t, <-f.raws)
			p.write(`{"method":"n","params":[` + itoa(i) + `]}`)
			synctest.Wait()
			if i < 2 {
				p.nc.Close()
			}
		}
		ev, err := s.Recv(context.Background())
		if err != nil || ev.Kind != EventConnected || ev.Seqno != 5 {
			t.Fatalf("first event %v seqno %d, %v; want the 3rd connection (#5)", ev.Kind, ev.Seqno, err)
		}
		ev, err = s.Recv(context.Background())
		if err != nil || ev.Msg == nil || string(ev.Msg.Params) != "[2]" {
			t.Fatalf("second event %+v, %v", ev, err)
		}
	})
}

// ConnectNow skips the wait and tries the next remote at once; from a
// connection it drops it first.
func TestSessionConnectNow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		obs := &observationLog{start: time.Now()}
		rs := f.remotes("refuse", "refuse")
		s := newTestSession(t, f, rs, SessionConfig{Observer: func(o Observation) {
			obs.observe(o)
		}})
		time.Sleep(2 * time.Second) // A, B at 0; A at 1 s; now waiting 2 s for B
		s.ConnectNow()
		time.Sleep(100 * time.Millisecond)
		f.set(rs[0], "", "serve")
		time.Sleep(1500 * time.Millisecond) // after B (2 s), backoff restarts at 1 s
		want(t, "attempts", f.takeAttempts(), "0s A, 0s B, 1s A, 2s B, 3s A")
		if !s.IsConnected() {
			t.Fatal("not connected")
		}
		s.ConnectNow()
		time.Sleep(time.Millisecond)
		want(t, "attempts", f.takeAttempts(), "3.6s B")
		_ = obs.take()
	})
}

// An Observer may steer the session from inside the callback: here a
// policy that answers every backoff with ConnectNow until a budget runs
// out (the shape issue 8's election-aware policy needs).
func TestSessionObserverSteers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		var s *Session
		var mu sync.Mutex
		budget := 3
		ready := make(chan struct{})
		s = newTestSession(t, f, f.remotes("refuse", "refuse"), SessionConfig{Observer: func(o Observation) {
			<-ready
			mu.Lock()
			defer mu.Unlock()
			if o.Kind == ObserveBackoff && o.Backoff > 0 && budget > 0 {
				budget--
				go func() { // a policy would wait a few ms here
					time.Sleep(10 * time.Millisecond)
					s.ConnectNow()
				}()
			}
		}})
		close(ready)
		time.Sleep(3100 * time.Millisecond)
		want(t, "attempts", f.takeAttempts(), "0s A, 0s B, 10ms A, 20ms B, 30ms A, 1.03s B, 3.03s A")
	})
}

// A passive session listens; each accepted connection replaces the
// current one.
func TestSessionPassive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newPipeListener()
		r, _ := ParseRemote("ptcp:6641:127.0.0.1")
		s, err := NewSession([]Remote{r}, SessionConfig{
			Listen: func(ctx context.Context, network, address string) (net.Listener, error) {
				if network != "tcp" || address != "127.0.0.1:6641" {
					t.Errorf("listen %s %s", network, address)
				}
				return l, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		events := recordEvents(s)
		synctest.Wait()
		if s.ListenAddr() == nil {
			t.Fatal("not listening")
		}
		c1 := newPeer(t, l.dial())
		c1.write(`{"method":"hello","params":[1]}`)
		time.Sleep(time.Second)
		c2 := newPeer(t, l.dial())
		c2.write(`{"method":"hello","params":[2]}`)
		time.Sleep(time.Second)
		if _, err := c1.rd.next(); !errors.Is(err, io.EOF) {
			t.Errorf("replaced connection: peer read %v, want EOF", err)
		}
		want(t, "events", events.take(), strings.Join([]string{
			"0s connected tcp:pipe #1",
			`0s message tcp:pipe #1 notification method="hello" params=3B`,
			"1s disconnected tcp:pipe #1 forced",
			"1s connected tcp:pipe #3",
			`1s message tcp:pipe #3 notification method="hello" params=3B`,
		}, "\n"))
		// The connection drops: the session listens again, no backoff.
		c2.nc.Close()
		synctest.Wait()
		c3 := l.dial()
		go func() { _, _ = io.Copy(io.Discard, c3) }()
		time.Sleep(time.Second)
		if !s.IsConnected() || s.Stats().State.String() != "ACTIVE" {
			t.Errorf("not connected after a new accept: %v", s.Stats().State)
		}
	})
}

// Close ends everything, wherever the session is; synctest fails the test
// if any goroutine is left behind when the bubble ends.
func TestSessionCloseLeavesNothing(t *testing.T) {
	for _, mode := range []string{"refuse", "hang", "serve", "silent", "close"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeNet(t)
				s := newTestSession(t, f, f.remotes(mode, mode), SessionConfig{})
				events := recordEvents(s)
				time.Sleep(1500 * time.Millisecond)
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				<-events.done
				if _, err := s.Recv(context.Background()); !errors.Is(err, ErrSessionClosed) {
					t.Errorf("Recv after Close = %v", err)
				}
				if s.IsAlive() || s.IsConnected() {
					t.Error("closed session alive")
				}
				if err := s.Send(newEcho()); !errors.Is(err, ErrNotConnected) {
					t.Errorf("Send after Close = %v", err)
				}
				if err := s.SetRemotes(f.remotes("refuse")); !errors.Is(err, ErrSessionClosed) {
					t.Errorf("SetRemotes after Close = %v", err)
				}
				s.Close() // idempotent
				close(f.servers)
				for c := range f.servers {
					c.Close()
				}
			})
		})
	}
}

func TestSessionConfigErrors(t *testing.T) {
	r1, _ := ParseRemote("tcp:1.1.1.1:1")
	p, _ := ParseRemote("ptcp:1")
	tlsR, _ := ParseRemote("ssl:1.1.1.1:1")
	for _, tt := range []struct {
		rs   []Remote
		want string
	}{
		{nil, "no remote"},
		{[]Remote{r1, p}, "a passive remote must be the only one"},
		{[]Remote{tlsR}, "TLS remote without SessionConfig.TLSConfig"},
	} {
		_, err := NewSession(tt.rs, SessionConfig{})
		if !errors.Is(err, ErrInvalidRemote) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSession(%v) = %v, want %q", tt.rs, err, tt.want)
		}
	}
}

// Call on the session goes to the current connection.
func TestSessionCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		s := newTestSession(t, f, f.remotes("raw"), SessionConfig{})
		if _, err := s.Call(context.Background(), "x"); !errors.Is(err, ErrNotConnected) {
			t.Fatalf("Call before connecting = %v", err)
		}
		p := newPeer(t, <-f.raws)
		synctest.Wait()
		res := make(chan json.RawMessage, 1)
		go func() {
			v, err := s.Call(context.Background(), "list_dbs")
			if err != nil {
				t.Error(err)
			}
			res <- v
		}()
		m := p.readMsg()
		p.write(`{"id":` + string(m.ID) + `,"result":["db"],"error":null}`)
		if v := <-res; string(v) != `["db"]` {
			t.Errorf("Call = %s", v)
		}
	})
}

// A peer that sends garbage is dropped with a protocol error that says
// where; the session reconnects.
func TestSessionPeerSendsGarbage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		s := newTestSession(t, f, f.remotes("raw"), SessionConfig{Conn: ConnConfig{MaxMessageSize: 100}})
		events := recordEvents(s)
		p := newPeer(t, <-f.raws)
		p.write(`{"method":"update","params":[1]}{"method":"update","params":[}`)
		p2 := newPeer(t, <-f.raws)
		p2.write(`{"method":"update","params":["` + strings.Repeat("x", 100) + `"]}`)
		<-f.raws
		synctest.Wait()
		want(t, "events", events.take(), strings.Join([]string{
			"0s connected tcp:10.0.0.1:6641 #1",
			`0s message tcp:10.0.0.1:6641 #1 notification method="update" params=3B`,
			"0s disconnected tcp:10.0.0.1:6641 #1 protocol",
			"1s connected tcp:10.0.0.1:6641 #3",
			"1s disconnected tcp:10.0.0.1:6641 #3 too-large",
			"3s connected tcp:10.0.0.1:6641 #5",
		}, "\n"))
		if err := s.LastError(); !strings.Contains(err.Error(), "larger than 100 bytes") {
			t.Errorf("LastError = %v", err)
		}
		events.mu.Lock()
		ev := events.events[2]
		events.mu.Unlock()
		if !strings.Contains(ev.Err.Error(), "tcp:10.0.0.1:6641: unexpected character '}' (expecting a value) at byte 61") {
			t.Errorf("protocol error = %v", ev.Err)
		}
	})
}

// A peer that is slowly reading a large backlog is alive even if it
// sends nothing (f97cae299): no probe fires while the backlog drains.
func TestSessionDrainIsActivity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		s := newTestSession(t, f, f.remotes("raw"), SessionConfig{})
		raw := <-f.raws
		synctest.Wait()
		big := strings.Repeat("x", 16*writeChunk)
		if err := s.Send(&Message{Kind: KindNotification, Method: "big", Params: json.RawMessage(`["` + big + `"]`)}); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			buf := make([]byte, writeChunk)
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Second):
				}
				if _, err := io.ReadFull(raw, buf); err != nil {
					return
				}
			}
		}()
		time.Sleep(30 * time.Second)
		if !s.IsConnected() || s.Seqno() != 1 {
			t.Fatalf("dropped while the peer was reading: connected %v seqno %d, %v", s.IsConnected(), s.Seqno(), s.LastError())
		}
		if st := s.Stats(); st.State.String() != "ACTIVE" {
			t.Errorf("state %v while draining", st.State)
		}
		if n, _ := s.Conn().Backlog(); n == 0 {
			t.Error("the backlog drained too early for this test")
		}
	})
}

// Listening fails, then works: the failure backs off like a failed
// connection attempt.
func TestSessionListenError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newPipeListener()
		var mu sync.Mutex
		var tries []string
		start := time.Now()
		r, _ := ParseRemote("punix:/run/x.sock")
		s, err := NewSession([]Remote{r}, SessionConfig{
			Listen: func(ctx context.Context, network, address string) (net.Listener, error) {
				mu.Lock()
				defer mu.Unlock()
				tries = append(tries, time.Since(start).String())
				if len(tries) < 3 {
					return nil, syscall.EADDRINUSE
				}
				return l, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		time.Sleep(10 * time.Second)
		mu.Lock()
		want(t, "listen tries", strings.Join(tries, ", "), "0s, 1s, 3s")
		mu.Unlock()
		if s.ListenAddr() == nil || !errors.Is(s.LastError(), syscall.EADDRINUSE) {
			t.Errorf("listening %v, last error %v", s.ListenAddr(), s.LastError())
		}
		c := l.dial()
		defer c.Close()
		synctest.Wait()
		if !s.IsConnected() {
			t.Error("not connected")
		}
	})
}

// The passive listener is opened without the session lock: the session's
// methods answer while Listen blocks.
func TestSessionListensWithoutLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		r, _ := ParseRemote("ptcp:6641:127.0.0.1")
		s, err := NewSession([]Remote{r}, SessionConfig{
			Listen: func(ctx context.Context, network, address string) (net.Listener, error) {
				close(entered)
				<-release
				return nil, errors.New("address in use")
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		<-entered
		if got := s.Remote(); got != "ptcp:6641:127.0.0.1" {
			t.Errorf("Remote() = %q while listening", got)
		}
		close(release)
		synctest.Wait()
		if err := s.LastError(); err == nil || !strings.Contains(err.Error(), "address in use") {
			t.Errorf("LastError() = %v, want the listen error", err)
		}
	})
}

// One meaning per setting: a probe interval of 0 disables probes, a max
// backoff of 0 is the default; values the reconnect FSM would raise are
// rejected instead.
func TestSessionConfigRanges(t *testing.T) {
	tests := []struct {
		name              string
		cfg               SessionConfig
		wantErr           bool
		probe, maxBackoff time.Duration
	}{
		{name: "zero value", cfg: SessionConfig{}, probe: 0, maxBackoff: 8 * time.Second},
		{name: "probes", cfg: SessionConfig{ProbeInterval: 5 * time.Second}, probe: 5 * time.Second, maxBackoff: 8 * time.Second},
		{name: "negative probe", cfg: SessionConfig{ProbeInterval: -1}, probe: 0, maxBackoff: 8 * time.Second},
		{name: "probe below 1s", cfg: SessionConfig{ProbeInterval: 500 * time.Millisecond}, wantErr: true},
		{name: "max backoff", cfg: SessionConfig{MaxBackoff: 2 * time.Second}, maxBackoff: 2 * time.Second},
		{name: "max backoff below 1s", cfg: SessionConfig{MaxBackoff: 50 * time.Millisecond}, wantErr: true},
		{name: "negative max backoff", cfg: SessionConfig{MaxBackoff: -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeNet(t)
				tt.cfg.Dial = f.Dial
				s, err := NewSession(f.remotes("refuse"), tt.cfg)
				if tt.wantErr {
					if !errors.Is(err, ErrInvalidConfig) {
						t.Fatalf("NewSession = %v, want ErrInvalidConfig", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				st := s.Stats()
				if st.ProbeInterval != tt.probe || st.MaxBackoff != tt.maxBackoff {
					t.Errorf("probe %v, max backoff %v; want %v, %v", st.ProbeInterval, st.MaxBackoff, tt.probe, tt.maxBackoff)
				}
				if err := s.SetMaxBackoff(999 * time.Millisecond); !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("SetMaxBackoff(999ms) = %v, want ErrInvalidConfig", err)
				}
				if err := s.SetProbeInterval(time.Millisecond); !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("SetProbeInterval(1ms) = %v, want ErrInvalidConfig", err)
				}
				if err := s.SetProbeInterval(0); err != nil || s.Stats().ProbeInterval != 0 {
					t.Errorf("SetProbeInterval(0) = %v, probe %v; want probes off", err, s.Stats().ProbeInterval)
				}
			})
		})
	}
}
