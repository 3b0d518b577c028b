package testserver

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// A crash (EOF) with each election delay: the old leader's clients see EOF
// and no _Server update; a follower's watcher sees leader=true exactly the
// delay later, pushed at once.
func TestCrashEOFElectsAfterDelay(t *testing.T) {
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 200 * time.Millisecond, 1500 * time.Millisecond, 5 * time.Second} {
		t.Run(delay.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := labCluster(t, 3)
				w0 := dialWire(t, c, 0)
				serverMonitor(w0)
				w1 := dialWire(t, c, 1)
				serverMonitor(w1)
				start := time.Now()
				done, err := c.Crash(0, CrashEOF, delay)
				require.NoError(t, err)
				w0.expectEOF()
				_, err = c.DialContext(context.Background(), "tcp", c.Member(0).Address())
				require.ErrorIs(t, err, syscall.ECONNREFUSED)
				// Until the election, the watcher hears nothing.
				if delay > 0 {
					w1.expectNothing(delay - time.Nanosecond)
				}
				<-done
				require.Equal(t, delay, time.Since(start))
				require.Equal(t, `{"leader":true}`, modify(t, w1.read()))
				require.Equal(t, delay, time.Since(start), "pushed at the election")
				require.Equal(t, 1, c.Leader())
				require.NoError(t, c.Start(0))
				require.Equal(t, c.Member(1).AppliedIndex(), c.Member(0).AppliedIndex())
			})
		})
	}
}

// A silent crash: the old leader's connections stay open and say nothing;
// new connections are accepted and never answered; Start resets them.
func TestCrashSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		w0 := dialWire(t, c, 0)
		serverMonitor(w0)
		w2 := dialWire(t, c, 2)
		serverMonitor(w2)
		done, err := c.Crash(0, CrashSilent, 1500*time.Millisecond)
		require.NoError(t, err)
		w0.request("echo")
		late := dialWire(t, c, 0)
		late.request("list_dbs")
		<-done
		require.Equal(t, 1, c.Leader())
		// m2's watcher: m1 is leader now (m2 stays a follower).
		require.Equal(t, `{"index":2}`, modify(t, w2.read()))
		w0.expectNothing(time.Minute)
		late.expectNothing(time.Second)
		require.NoError(t, c.Start(0))
		w0.expectEOF()
		late.expectEOF()
		w := dialWire(t, c, 0)
		row := serverRow(t, serverMonitor(w))
		require.True(t, string(row["leader"]) != "true", "a restarted member is not leader")
		require.Equal(t, "2", string(row["index"]))
	})
}

// A frozen leader keeps saying leader=true and answers nothing, echo
// included; another member is elected after the delay; when it thaws it
// first says leader=false, then answers what waited, in order.
func TestFreezeThaw(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3, WithEchoInterval(5*time.Second))
		w0 := dialWire(t, c, 0)
		serverMonitor(w0)
		w1 := dialWire(t, c, 1)
		serverMonitor(w1)
		start := time.Now()
		done, err := c.Freeze(0, time.Second)
		require.NoError(t, err)
		id := w0.request("echo", "ping")
		<-done
		require.Equal(t, time.Second, time.Since(start))
		require.Equal(t, `{"leader":true}`, modify(t, w1.read()))
		require.Equal(t, `{"index":2}`, modify(t, w1.read()))
		// Writes go on without it.
		insertItem(t, c, "while-frozen", 1)
		w0.expectNothing(30 * time.Second) // no probes either
		// A new client of the frozen member gets its old row... once it
		// thaws: the connection is accepted, the request waits.
		late := dialWire(t, c, 0)
		late.request("list_dbs")
		late.expectNothing(time.Second)
		require.NoError(t, c.Thaw(0))
		// Its monitor hears the truth first, then the echo is answered.
		require.Equal(t, `{"leader":false}`, modify(t, w0.read()))
		var seenEcho bool
		for !seenEcho {
			msg := w0.read()
			var m struct {
				ID     json.RawMessage `json:"id"`
				Result json.RawMessage `json:"result"`
			}
			require.NoError(t, json.Unmarshal(msg, &m))
			seenEcho = string(m.ID) == fmt.Sprint(id)
		}
		late.read()
		require.Equal(t, c.Member(1).AppliedIndex(), c.Member(0).AppliedIndex())
		require.Equal(t, 1, c.Leader())
	})
}

// Freezing a follower elects nobody; the leader keeps leading.
func TestFreezeFollower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 3)
		done, err := c.Freeze(2, time.Second)
		require.NoError(t, err)
		<-done
		require.Equal(t, 0, c.Leader())
		insertItem(t, c, "a", 1)
		require.True(t, c.Member(2).AppliedIndex() < c.Member(0).AppliedIndex())
		require.NoError(t, c.Thaw(2))
		require.Equal(t, c.Member(0).AppliedIndex(), c.Member(2).AppliedIndex())
	})
}
