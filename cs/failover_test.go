package cs

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// Scenarios of the retry policies against the fake cluster, in fake time.
// Remotes are not shuffled and member 0 leads, so the client leaving member 0
// tries member 1 first: the transfer target, the new leader.

// centered is the default election-aware policy with the jitter pinned to
// its centre, so that the re-sweeps happen at their nominal times.
func centered() failover.Config {
	return failover.Config{Rand: func() float64 { return 0.5 }}
}

var ovsMode = failover.Config{Mode: failover.OVS}

// resweepTimes returns when the re-sweeps of cfg start after the first
// sweep (sweeps are instant in the fake cluster).
func resweepTimes(cfg failover.Config) []time.Duration {
	p := failover.New(cfg, 3)
	c := p.Config()
	var out []time.Duration
	var t time.Duration
	d := c.FirstDelay
	for range p.Sweeps() - 1 {
		t += d
		out = append(out, t)
		d = min(2*d, c.MaxDelay)
	}
	return out
}

// transfer moves the leadership from member 0 to member 1 with the given
// election delay and returns the recovery.
func transfer(t *testing.T, cfg failover.Config, delay time.Duration) (Recovery, int) {
	h := newHarness(t, 3, nil, WithFailoverPolicy(cfg)).run()
	h.waitMonitoring(0)
	base := sum(h.accepted())
	done, err := h.c.TransferLeadershipAfter(1, delay)
	if err != nil {
		t.Fatal(err)
	}
	h.waitFor("MONITORING on the new leader", 30*time.Second, h.monitoringOn(1))
	<-done
	r := h.cl.Stats().Recoveries
	if len(r) != 1 {
		t.Fatalf("recoveries %+v", r)
	}
	if r[0].From != h.c.Member(0).Remote() || r[0].Remote != h.c.Member(1).Remote() {
		t.Fatalf("recovery %+v", r[0])
	}
	if ev := h.eventsOf(func(e Event) bool { _, ok := e.(Recovered); return ok }); len(ev) != 1 || ev[0].(Recovered).Recovery != r[0] {
		t.Fatalf("Recovered events %+v, want one with %+v", ev, r[0])
	}
	return r[0], sum(h.accepted()) - base
}

func TestElectionAwareFollowsTransferWithinDelayPlusOneStep(t *testing.T) {
	times := resweepTimes(centered()) // 5 ms, 15 ms
	worst := failover.New(centered(), 3).WorstCaseAttempts()
	for _, delay := range []time.Duration{0, 5 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				r, accepted := transfer(t, centered(), delay)
				// The first re-sweep that starts after the election ends
				// (at the same instant, the election may win or lose).
				bound := time.Duration(0)
				if delay > 0 {
					for _, at := range times {
						if at > delay {
							bound = at
							break
						}
					}
				}
				if r.Duration < delay || r.Duration > bound || r.BackoffUsed {
					t.Fatalf("recovery %+v, want within [%v, %v] without backoff", r, delay, bound)
				}
				if r.Attempts > worst || accepted > worst {
					t.Fatalf("recovery %+v, %d connections accepted, want at most %d", r, accepted, worst)
				}
				if delay == 0 && (r.Sweeps != 1 || r.Attempts != 1) {
					t.Fatalf("recovery %+v, want the new leader at the first attempt", r)
				}
				if delay > 0 && r.Sweeps < 2 {
					t.Fatalf("recovery %+v, want a re-sweep", r)
				}
			})
		})
	}
}

func TestElectionAwareOutlastedElectionFallsBackToBackoff(t *testing.T) {
	// 20 ms and 200 ms outlast the default window (re-sweeps at 5 and 15
	// ms): after the last re-sweep, the minimum backoff (1 s), then the new
	// leader, tried first, at one more attempt.
	times := resweepTimes(centered())
	last := times[len(times)-1]
	worst := failover.New(centered(), 3).WorstCaseAttempts()
	for _, delay := range []time.Duration{20 * time.Millisecond, 200 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				r, accepted := transfer(t, centered(), delay)
				if want := last + time.Second; r.Duration != want || !r.BackoffUsed {
					t.Fatalf("recovery %+v, want %v with backoff", r, want)
				}
				if r.Sweeps != 1+len(times) || r.Attempts != worst+1 || accepted != worst+1 {
					t.Fatalf("recovery %+v, %d accepted, want %d sweeps and %d attempts", r, accepted, 1+len(times), worst+1)
				}
			})
		})
	}
}

func TestElectionAwareWiderWindowCoversLongElections(t *testing.T) {
	// Trading attempts for coverage: MaxSweeps 6 re-sweeps at 5, 15, 35,
	// 75, 155 and 315 ms (package failover's documented trade-off).
	cfg := centered()
	cfg.MaxSweeps = 6
	times := resweepTimes(cfg)
	worst := failover.New(cfg, 3).WorstCaseAttempts()
	for _, delay := range []time.Duration{20 * time.Millisecond, 200 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				r, accepted := transfer(t, cfg, delay)
				bound := times[len(times)-1]
				for _, at := range times {
					if at > delay {
						bound = at
						break
					}
				}
				if r.Duration < delay || r.Duration > bound || r.BackoffUsed || r.Attempts > worst || accepted > worst {
					t.Fatalf("recovery %+v (%d accepted), want within [%v, %v], no backoff, at most %d attempts", r, accepted, delay, bound, worst)
				}
			})
		})
	}
}

func TestElectionAwareJitterStaysInBound(t *testing.T) {
	// The extreme jitters: waits of 4, 8 ms (early) and 6, 12 ms (late).
	for _, rnd := range []float64{0, 0.999} {
		t.Run(fmt.Sprint(rnd), func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				cfg := failover.Config{Rand: func() float64 { return rnd }}
				delay := 5 * time.Millisecond
				r, accepted := transfer(t, cfg, delay)
				worst := failover.New(cfg, 3).WorstCaseAttempts()
				if r.Duration < delay || r.Duration > 18*time.Millisecond || r.BackoffUsed || accepted > worst {
					t.Fatalf("recovery %+v (%d accepted)", r, accepted)
				}
			})
		})
	}
}

func TestOVSModeLosesTheRaceAndWaitsTheBackoff(t *testing.T) {
	for _, delay := range []time.Duration{5 * time.Millisecond, 20 * time.Millisecond, 200 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				r, accepted := transfer(t, ovsMode, delay)
				// One sweep (members 1, 2, 0) at once, all followers; then
				// the minimum backoff and member 1 again.
				if r.Duration != time.Second || !r.BackoffUsed || r.Sweeps != 1 || r.Attempts != 4 || accepted != 4 {
					t.Fatalf("recovery %+v (%d accepted), want 1s, backoff, 1 sweep, 4 attempts", r, accepted)
				}
			})
		})
	}
	t.Run("0s", func(t *testing.T) {
		scenario(t, func(t *testing.T) {
			r, _ := transfer(t, ovsMode, 0)
			if r.Duration != 0 || r.BackoffUsed || r.Attempts != 1 {
				t.Fatalf("recovery %+v", r)
			}
		})
	})
}

// gracefulExit makes the leader (member 0) exit with the given election
// delay; member 1 takes over.
func gracefulExit(t *testing.T, cfg failover.Config, delay time.Duration) (Recovery, int) {
	h := newHarness(t, 3, []testserver.Option{testserver.WithElectionDelay(delay)}, WithFailoverPolicy(cfg)).run()
	h.waitMonitoring(0)
	base := sum(h.accepted())
	done, err := h.c.GracefulExitAfter(0, delay)
	if err != nil {
		t.Fatal(err)
	}
	<-done
	next := h.c.Leader()
	h.waitFor("MONITORING on the new leader", 30*time.Second, h.monitoringOn(next))
	r := h.cl.Stats().Recoveries
	if len(r) != 1 {
		t.Fatalf("recoveries %+v", r)
	}
	return r[0], sum(h.accepted()) - base
}

func TestGracefulExitRecoversWithoutBackoff(t *testing.T) {
	times := resweepTimes(centered())
	worst := failover.New(centered(), 3).WorstCaseAttempts()
	for _, delay := range []time.Duration{0, 3 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				r, accepted := gracefulExit(t, centered(), delay)
				bound := time.Duration(0)
				if delay > 0 {
					bound = times[0]
				}
				if r.Duration > bound || r.BackoffUsed || r.Attempts > worst || accepted > worst {
					t.Fatalf("recovery %+v (%d accepted), want within %v without backoff", r, accepted, bound)
				}
			})
		})
	}
}

func TestGracefulExitOVSModeWaitsTheBackoff(t *testing.T) {
	scenario(t, func(t *testing.T) {
		r, _ := gracefulExit(t, ovsMode, 3*time.Millisecond)
		if r.Duration < time.Second || !r.BackoffUsed || r.Sweeps != 0 {
			t.Fatalf("recovery %+v, want the 1s backoff", r)
		}
	})
}

// lineCounter counts log lines by message and level.
type lineCounter struct {
	mu    sync.Mutex
	lines []string
}

func (c *lineCounter) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		c.mu.Lock()
		c.lines = append(c.lines, args)
		c.mu.Unlock()
	}, funcr.Options{Verbosity: 1})
}

// count returns the lines at level with message msg.
func (c *lineCounter) count(level int, msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lines {
		if strings.Contains(l, fmt.Sprintf(`"level"=%d `, level)) && strings.Contains(l, fmt.Sprintf(`"msg"=%q`, msg)) {
			n++
		}
	}
	return n
}

// noLeader runs a client against a cluster with no leader for 10 minutes
// of fake time and returns the connections accepted, and the log.
func noLeader(t *testing.T, cfg failover.Config) (int, *lineCounter) {
	logs := &lineCounter{}
	h := newHarness(t, 3, nil, WithFailoverPolicy(cfg), WithLogger(logs.logger())).run()
	h.waitMonitoring(0)
	base := sum(h.accepted())
	if err := h.c.StepDown(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Minute)
	h.settle()
	if h.cl.State() == Monitoring {
		t.Fatal("monitoring a follower")
	}
	return sum(h.accepted()) - base, logs
}

func TestNoLeaderEverCostsAtMostTheBudgetMoreThanOVS(t *testing.T) {
	var ovs, ea int
	var eaLogs *lineCounter
	scenario(t, func(t *testing.T) { ovs, _ = noLeader(t, ovsMode) })
	scenario(t, func(t *testing.T) { ea, eaLogs = noLeader(t, failover.Config{}) })
	p := failover.New(failover.Config{}, 3)
	extra := p.WorstCaseAttempts() - 3 // R×(S−1)
	t.Logf("connections over 10 minutes without a leader: OVS %d, election-aware %d (bound +%d)", ovs, ea, extra)
	if ea < ovs || ea > ovs+extra {
		t.Fatalf("election-aware made %d connections, OVS %d: want at most %d more", ea, ovs, extra)
	}
	// Rate-limited reports: a burst, then one a minute.
	c := p.Config()
	limit := c.LogBurst + int(10*time.Minute/c.LogInterval)
	for _, msg := range []string{"no usable server", "server rejected"} {
		v0, v1 := eaLogs.count(0, msg), eaLogs.count(1, msg)
		t.Logf("%q: %d lines at V(0), %d at V(1)", msg, v0, v1)
		if v0 == 0 || v0 > limit {
			t.Fatalf("%q logged %d times at V(0) in 10 minutes, want 1 to %d", msg, v0, limit)
		}
		if v1 == 0 {
			t.Fatalf("%q: nothing held back to V(1)", msg)
		}
	}
}

func TestGracefulExitAfterMonitorCanceledRecoversWithoutBackoff(t *testing.T) {
	// A real ovsdb-server exiting gracefully cancels the monitors
	// (monitor_canceled) before it closes: the client restarts on the same
	// connection, so it is no longer MONITORING when the EOF comes. The
	// drop still counts as leaving the server it was monitoring.
	for _, tc := range []struct {
		cfg     failover.Config
		backoff bool
	}{{centered(), false}, {ovsMode, true}} {
		t.Run(failover.New(tc.cfg, 3).Config().Mode.String(), func(t *testing.T) {
			scenario(t, func(t *testing.T) {
				h := newHarness(t, 3, nil, WithFailoverPolicy(tc.cfg)).run()
				h.waitMonitoring(0)
				h.holdUpdates(0)
				newSchema := strings.Replace(string(testserver.LabSchema()), `"1.0.0"`, `"1.1.0"`, 1)
				if err := h.c.ChangeSchema([]byte(newSchema)); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond) // monitor_canceled arrives; the replies to the restart are held
				h.settle()
				if s := h.cl.State(); s == Monitoring {
					t.Fatalf("state %s after monitor_canceled", s)
				}
				done, err := h.c.GracefulExitAfter(0, 3*time.Millisecond)
				if err != nil {
					t.Fatal(err)
				}
				<-done
				next := h.c.Leader()
				h.waitFor("MONITORING on the new leader", 30*time.Second, h.monitoringOn(next))
				r := h.cl.Stats().Recoveries
				if len(r) != 1 || r[0].BackoffUsed != tc.backoff {
					t.Fatalf("recoveries %+v, want backoff %t", r, tc.backoff)
				}
				if !tc.backoff && (r[0].Duration > 10*time.Millisecond || r[0].Sweeps < 1) {
					t.Fatalf("recovery %+v", r[0])
				}
			})
		})
	}
}
