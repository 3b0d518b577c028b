package jsonrpc

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// A Manual session dials nothing; an adopted connection is its connection
// (messages queued before the adoption come first), is probed, and its end
// is reported; then the session waits for the next adoption.
func TestManualSessionAdopt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeNet(t)
		rs := f.remotes("serve", "serve")
		s := newTestSession(t, f, rs, SessionConfig{Manual: true, ProbeInterval: 5 * time.Second})
		events := recordEvents(s)
		time.Sleep(time.Minute)
		want(t, "dials", f.takeAttempts(), "")
		if s.IsConnected() {
			t.Fatal("a manual session connected on its own")
		}

		client, server := net.Pipe()
		peer := NewConn(server, ConnConfig{Name: "peer"})
		c := NewConn(client, s.ConnConfig(rs[1].String()))
		// Something arrives before the adoption: it is delivered first.
		if err := peer.Notify("update2", "early"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if _, err := s.Adopt("tcp:10.9.9.9:6641", c); !errors.Is(err, ErrNotARemote) {
			t.Fatalf("Adopt of a stranger: %v", err)
		}
		seq, err := s.Adopt(rs[1].String(), c)
		if err != nil {
			t.Fatal(err)
		}
		if seq == 0 || s.Remote() != rs[1].String() || !s.IsConnected() {
			t.Fatalf("seq %d remote %q connected %v", seq, s.Remote(), s.IsConnected())
		}
		synctest.Wait()
		got := events.take()
		if !strings.Contains(got, "connected tcp:10.0.0.2:6641") || !strings.Contains(got, "message tcp:10.0.0.2:6641 #1 notification method=\"update2\"") {
			t.Fatalf("events:\n%s", got)
		}
		// The session probes it: the peer answers (NewConn answers echo).
		go func() {
			for {
				if _, err := peer.Recv(context.Background()); err != nil {
					return
				}
			}
		}()
		time.Sleep(30 * time.Second)
		if !s.IsConnected() {
			t.Fatal("a probed, answering connection was dropped")
		}
		peer.Close()
		synctest.Wait()
		if got := events.take(); !strings.Contains(got, "disconnected") {
			t.Fatalf("events after the peer closed:\n%s", got)
		}
		time.Sleep(time.Minute)
		want(t, "dials after the drop", f.takeAttempts(), "")
		if s.IsConnected() {
			t.Fatal("reconnected on its own")
		}
		s.Close()
		<-events.done
	})
}
