package watcher_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/hunt/watcher"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// owner plays the client-sync layer: it takes the promoted connection as
// its data connection (MONITORING at once: the data monitor is not this
// package's business), reports its loss, answers the Watch's echo
// requests and leaves a suspect leader when told.
type owner struct {
	t  *testing.T
	h  *watcher.Hunter
	ns chan watcher.Notice

	recs     chan hunt.Recovery
	noServer chan watcher.Notice

	mu     sync.Mutex
	data   *jsonrpc.Conn
	member int
}

func startHunt(t *testing.T, c *testserver.Cluster, cfg watcher.Config) (*owner, func()) {
	t.Helper()
	cfg.Dial = c.DialContext
	return startHuntOn(t, c.Remotes(), cfg)
}

// startHuntOn starts a Hunter on remotes for the Lab database, with its
// owner.
func startHuntOn(t *testing.T, remotes string, cfg watcher.Config) (*owner, func()) {
	t.Helper()
	rs, _, err := jsonrpc.ParseRemotes(remotes)
	require.NoError(t, err)
	o := &owner{t: t, ns: make(chan watcher.Notice, 1000), recs: make(chan hunt.Recovery, 100),
		noServer: make(chan watcher.Notice, 1000), member: -1}
	cfg.Database = "Lab"
	cfg.Remotes = rs
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = watcher.DefaultProbeInterval
	}
	cfg.Notify = func(n watcher.Notice) { o.ns <- n }
	o.h, err = watcher.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = o.h.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		o.loop(ctx)
	}()
	o.h.Start()
	return o, func() {
		cancel()
		wg.Wait()
		o.mu.Lock()
		if o.data != nil {
			o.data.Close()
		}
		o.mu.Unlock()
	}
}

func (o *owner) loop(ctx context.Context) {
	for {
		var n watcher.Notice
		select {
		case <-ctx.Done():
			return
		case n = <-o.ns:
		}
		switch n.Kind {
		case watcher.Promote:
			o.mu.Lock()
			o.data, o.member = n.Conn, n.Member
			o.mu.Unlock()
			go func(conn *jsonrpc.Conn, m int) {
				select {
				case <-conn.Done():
				case <-ctx.Done():
					return
				}
				o.mu.Lock()
				current := o.data == conn
				if current {
					o.data, o.member = nil, -1
				}
				o.mu.Unlock()
				if current {
					o.h.Lost(m, hunt.Dropped)
				}
			}(n.Conn, n.Member)
			if rec, ok := o.h.Monitoring(n.Member); ok {
				o.recs <- rec
			}
		case watcher.Leave:
			o.mu.Lock()
			if o.data != nil {
				o.data.Close()
				o.data, o.member = nil, -1
			}
			o.mu.Unlock()
		case watcher.Echo:
			o.mu.Lock()
			conn := o.data
			o.mu.Unlock()
			if conn != nil {
				go func() {
					if _, err := conn.Call(ctx, "echo"); err == nil {
						o.h.Heard()
					}
				}()
			}
		case watcher.NoServer:
			o.noServer <- n
		}
	}
}

func (o *owner) recovery() hunt.Recovery {
	o.t.Helper()
	select {
	case r := <-o.recs:
		return r
	case <-time.After(time.Hour):
		o.t.Fatal("no recovery within an hour")
	}
	return hunt.Recovery{}
}

func lab(t *testing.T, opts ...testserver.Option) *testserver.Cluster {
	t.Helper()
	c, err := testserver.NewCluster(3, testserver.LabSchema(), append([]testserver.Option{testserver.InMemory()}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// A crashed leader (EOF, then refused) with each election delay: the new
// leader is found when it is elected (in-memory connections take no time:
// one round trip is 0), with no backoff waited, one attempt per member.
func TestCrashElectionDelays(t *testing.T) {
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 200 * time.Millisecond, 1500 * time.Millisecond, 5 * time.Second} {
		t.Run(delay.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := lab(t)
				o, stop := startHunt(t, c, watcher.Config{})
				defer stop()
				first := o.recovery()
				require.Equal(t, hunt.Initial, first.Cause)
				require.Equal(t, 0, first.To)
				start := time.Now()
				done, err := c.Crash(0, testserver.CrashEOF, delay)
				require.NoError(t, err)
				rec := o.recovery()
				<-done
				require.Equal(t, hunt.Dropped, rec.Cause)
				require.Equal(t, c.Leader(), rec.To)
				require.Equal(t, start, rec.Start)
				require.Equal(t, delay, rec.Duration, "recovery = the election")
				require.False(t, rec.BackoffUsed)
				require.Equal(t, 3, rec.Attempts, "one per member")
				require.Equal(t, 1, rec.BackedOff, "the crashed member refused")
				// The only connections: the data connection and no watcher.
				synctest.Wait()
				require.Equal(t, 1, c.Member(rec.To).Connections())
				require.Equal(t, 0, c.Member(3-rec.To).Connections())
			})
		})
	}
}

// A silent crash: the data connection stays open and says nothing. The
// Watch's echo goes unanswered, the others are watched, and the new leader
// is taken as soon as it is elected (the frozen one is left).
func TestSilentCrashAndFreeze(t *testing.T) {
	for _, silent := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			c := lab(t)
			o, stop := startHunt(t, c, watcher.Config{})
			defer stop()
			o.recovery()
			time.Sleep(10 * time.Second) // echoes answered meanwhile
			select {
			case r := <-o.recs:
				t.Fatalf("recovery while healthy: %+v", r)
			default:
			}
			start := time.Now()
			var done <-chan struct{}
			var err error
			if silent {
				done, err = c.Crash(0, testserver.CrashSilent, 1200*time.Millisecond)
			} else {
				done, err = c.Freeze(0, 1200*time.Millisecond)
			}
			require.NoError(t, err)
			rec := o.recovery()
			<-done
			require.Equal(t, hunt.Frozen, rec.Cause)
			require.True(t, rec.Suspected)
			require.Equal(t, c.Leader(), rec.To)
			// Found at max(election, Idle + Suspicion after the last
			// echo answered), never later than both added.
			end := rec.Start.Add(rec.Duration)
			require.LessOrEqual(t, end.Sub(start), hunt.DefaultIdle+hunt.DefaultSuspicion+1200*time.Millisecond)
			require.GreaterOrEqual(t, end.Sub(start), 1200*time.Millisecond)
			require.False(t, rec.BackoffUsed)
			if !silent {
				require.NoError(t, c.Thaw(0))
			} else {
				require.NoError(t, c.Start(0))
			}
			time.Sleep(time.Minute)
			select {
			case r := <-o.recs:
				t.Fatalf("recovery after the old leader resumed: %+v", r)
			default:
			}
		})
	}
}

// A member that reports leader=true with an index below the highest seen
// (it lagged) is not chosen until it catches up.
func TestStaleLeaderNotChosen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := lab(t)
		require.NoError(t, c.Lag(1, true))
		for i := range 3 {
			_, err := c.Transact(context.Background(), fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":"r%d"}}]`, i))
			require.NoError(t, err)
		}
		o, stop := startHunt(t, c, watcher.Config{})
		defer stop()
		o.recovery()
		done, err := c.Crash(0, testserver.CrashEOF, 100*time.Millisecond)
		require.NoError(t, err)
		<-done
		require.Equal(t, 1, c.Leader(), "the lagging member won the election")
		time.Sleep(time.Second)
		select {
		case r := <-o.recs:
			t.Fatalf("a stale leader was chosen: %+v", r)
		default:
		}
		caughtUp := time.Now()
		require.NoError(t, c.Lag(1, false))
		rec := o.recovery()
		require.Equal(t, 1, rec.To)
		require.Equal(t, caughtUp, rec.Start.Add(rec.Duration))
	})
}

// Every member down for ten minutes, then the whole cluster back: the
// attempts per member stay within OVS's (hunt's bound, 27 for 3 members),
// "no usable server" is logged 3 times then once a minute, and the client
// is back within one member backoff of the restart.
func TestAllDownTenMinutesThenRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := lab(t)
		o, stop := startHunt(t, c, watcher.Config{})
		defer stop()
		o.recovery()
		for i := range 3 {
			require.NoError(t, c.Stop(i))
		}
		// Count from the moment all are down (a member stopped after
		// another may have led for an instant: a recovery of its own).
		synctest.Wait()
		c.ResetCounters()
		time.Sleep(10 * time.Minute)
		for i := range 3 {
			cn := c.Member(i).Counters()
			t.Logf("member %d: %d attempts refused in 10 minutes", i, cn.Refused)
			require.LessOrEqual(t, cn.Refused, 27, "member %d", i)
			require.GreaterOrEqual(t, cn.Refused, 20, "member %d", i)
		}
		logged := 0
		for len(o.noServer) > 0 {
			if n := <-o.noServer; n.Log {
				logged++
			}
		}
		require.LessOrEqual(t, logged, 3+10)
		t.Logf("%d \"no usable server\" reports logged", logged)
		back := time.Now()
		for i := range 3 {
			require.NoError(t, c.Start(i))
		}
		rec := o.recovery()
		require.Equal(t, c.Leader(), rec.To)
		t.Logf("back %v after the restart: %+v", rec.Start.Add(rec.Duration).Sub(back), rec)
		require.LessOrEqual(t, rec.Start.Add(rec.Duration).Sub(back), 24*time.Second)
		require.True(t, rec.BackoffUsed)
	})
}

// With CancelServerMonitor the promoted connection comes without its
// _Server monitor: the owner can set up its own, with the same id, at
// once.
func TestCancelServerMonitorOnPromote(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		_, ns := bareHunter(t, lab(t), watcher.Config{CancelServerMonitor: true})
		n := <-ns
		require.Equal(t, watcher.Promote, n.Kind)
		require.Nil(t, n.Rows)
		defer n.Conn.Close()
		schema, err := n.Conn.Call(ctx, "get_schema", "_Server")
		require.NoError(t, err)
		params, _, err := leader.MonitorParams(schema)
		require.NoError(t, err)
		var p []any
		require.NoError(t, json.Unmarshal(params, &p))
		_, err = n.Conn.Call(ctx, "monitor_cond", p...)
		require.NoError(t, err, "the watcher's monitor was cancelled")
	})
}

// The owner's own check rejects the promoted connection as stale (its data
// connection had seen a higher index): the member is watched again at
// once, not backed off, and chosen when its row passes.
func TestPromotedRejectedAsStaleIsWatchedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, ns := bareHunter(t, lab(t), watcher.Config{})
		n := <-ns
		require.Equal(t, watcher.Promote, n.Kind)
		n.Conn.Close()
		start := time.Now()
		h.PromotedFailed(n.Member, &leader.CheckError{Reason: leader.Stale, Index: 1, MinIndex: 2})
		again := <-ns
		require.Equal(t, watcher.Promote, again.Kind)
		require.Equal(t, n.Member, again.Member)
		require.Equal(t, start, time.Now(), "no backoff")
		again.Conn.Close()
	})
}

// bareHunter starts a Hunter on c with no owner: the test reads the
// notices and plays the owner itself.
func bareHunter(t *testing.T, c *testserver.Cluster, cfg watcher.Config) (*watcher.Hunter, chan watcher.Notice) {
	t.Helper()
	rs, _, err := jsonrpc.ParseRemotes(c.Remotes())
	require.NoError(t, err)
	ns := make(chan watcher.Notice, 100)
	cfg.Database, cfg.Remotes, cfg.Dial = "Lab", rs, c.DialContext
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = watcher.DefaultProbeInterval
	}
	cfg.Notify = func(n watcher.Notice) { ns <- n }
	h, err := watcher.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	h.Start()
	return h, ns
}
