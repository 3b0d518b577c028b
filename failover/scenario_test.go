package failover_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/reconnect"
)

// rtt is the time one attempt on a loopback member takes to a verdict
// (connect, get_schema, _Server monitor): a sweep of 3 takes 6 ms, in the
// 4-11 ms measured on a real 3.1 cluster (see the failover package
// documentation).
const rtt = 2 * time.Millisecond

const minBackoff = reconnect.DefaultMinBackoff

func seeded(seed uint64) func() float64 { return rand.New(rand.NewPCG(seed, 7)).Float64 }

// transferCluster: members[0] is the old leader (a follower from t0),
// members[1] the new leader after election, tried first by the session,
// members[2] a follower.
func transferCluster(election time.Duration) []member {
	return []member{
		{"tcp:127.0.0.1:6641", always(follower)},
		{"tcp:127.0.0.1:6642", leaderAfter(election)},
		{"tcp:127.0.0.1:6643", always(follower)},
	}
}

func TestElectionDelays(t *testing.T) {
	const n = 3
	long := failover.Config{MaxSweeps: 6} // covers 200 ms, at 7 attempts per member
	for _, tc := range []struct {
		name     string
		cfg      failover.Config
		election time.Duration
		covered  bool // found by a zero-backoff sweep, without backoff
	}{
		{"default/0ms", failover.Config{}, 0, true},
		{"default/5ms", failover.Config{}, 5 * time.Millisecond, true},
		{"default/20ms", failover.Config{}, 20 * time.Millisecond, true},
		{"default/200ms", failover.Config{}, 200 * time.Millisecond, false},
		{"sweeps6/0ms", long, 0, true},
		{"sweeps6/5ms", long, 5 * time.Millisecond, true},
		{"sweeps6/20ms", long, 20 * time.Millisecond, true},
		{"sweeps6/200ms", long, 200 * time.Millisecond, true},
	} {
		for seed := range uint64(20) {
			cfg := tc.cfg
			cfg.Rand = seeded(seed)
			s := newSim(t, cfg, rtt, transferCluster(tc.election)...)
			s.transfer()
			s.runUntil(time.Minute, true)
			if len(s.recoveries) != 1 {
				t.Fatalf("%s seed %d: no recovery; attempts%s", tc.name, seed, s.trace())
			}
			rec := s.recoveries[0]
			pc := s.pol.Config()
			// One retry step: the sweep under way when the leader appears
			// ends (n attempts), the wait (the largest jittered delay, or the
			// minimum backoff once the fast path is over), then the new
			// leader is tried first.
			last := min(pc.FirstDelay<<(pc.MaxSweeps-1), pc.MaxDelay) // the longest wait
			step := time.Duration(float64(last)*(1+pc.Jitter)) + n*rtt + rtt
			if !tc.covered {
				step = minBackoff + n*rtt + rtt
			}
			if rec.Duration > tc.election+step {
				t.Errorf("%s seed %d: recovery %v > election %v + step %v; attempts%s",
					tc.name, seed, rec.Duration, tc.election, step, s.trace())
			}
			if seed == 0 {
				t.Logf("%s: recovery %v, %d attempts, %d sweeps, backoff %v; bound %d",
					tc.name, rec.Duration, rec.Attempts, rec.Sweeps, rec.BackoffUsed, s.pol.WorstCaseAttempts())
			}
			if rec.Remote != "tcp:127.0.0.1:6642" || rec.From != "tcp:127.0.0.1:6641" {
				t.Errorf("%s: recovery %+v", tc.name, rec)
			}
			if rec.BackoffUsed == tc.covered {
				t.Errorf("%s seed %d: BackoffUsed = %v; attempts%s", tc.name, seed, rec.BackoffUsed, s.trace())
			}
			if rec.Attempts != len(s.attempts) {
				t.Errorf("%s: Recovery.Attempts %d, simulated %d", tc.name, rec.Attempts, len(s.attempts))
			}
			bound := s.pol.WorstCaseAttempts()
			if !tc.covered {
				bound++ // the attempt after the backoff
			}
			if rec.Attempts > bound {
				t.Errorf("%s seed %d: %d attempts > bound %d; attempts%s", tc.name, seed, rec.Attempts, bound, s.trace())
			}
			if tc.cfg.MaxSweeps == 0 && tc.covered { // the target
				for remote, c := range s.perMember() {
					if c > 3 {
						t.Errorf("%s seed %d: %d attempts on %s", tc.name, seed, c, remote)
					}
				}
			}
		}
	}
}

// The numbers of one default run, fixed jitter (Rand = 0.5: no spread).
func TestElectionTimeline(t *testing.T) {
	s := newSim(t, failover.Config{Rand: func() float64 { return 0.5 }}, rtt, transferCluster(20*time.Millisecond)...)
	s.transfer()
	s.runUntil(time.Minute, true)
	// sweep 1: 0, 2, 4 ms (ends at 6); wait 5 ms; sweep 2: 11, 13, 15 (ends
	// at 17); wait 10 ms; sweep 3: the new leader at 27, leader since 20.
	want := " 0s:tcp:127.0.0.1:6642 2ms:tcp:127.0.0.1:6643 4ms:tcp:127.0.0.1:6641" +
		" 11ms:tcp:127.0.0.1:6642 13ms:tcp:127.0.0.1:6643 15ms:tcp:127.0.0.1:6641" +
		" 27ms:tcp:127.0.0.1:6642"
	if got := s.trace(); got != want {
		t.Fatalf("attempts\n got%s\nwant%s", got, want)
	}
	rec := s.recoveries[0]
	if rec.Duration != 29*time.Millisecond || rec.Attempts != 7 || rec.Sweeps != 3 || rec.BackoffUsed {
		t.Fatalf("recovery %+v", rec)
	}
}

// OVS mode is OVS: one zero-backoff sweep; when it loses the race with the
// election, the minimum backoff (1 s), as the Python IDL did in 9 of 80
// transfers.
func TestOVSModeLosesTheRace(t *testing.T) {
	for _, tc := range []struct {
		election time.Duration
		want     time.Duration
		attempts int
		backoff  bool
	}{
		{0, rtt, 1, false},
		{5 * time.Millisecond, 3*rtt + minBackoff + rtt, 4, true},
		{200 * time.Millisecond, 3*rtt + minBackoff + rtt, 4, true},
	} {
		s := newSim(t, failover.Config{Mode: failover.OVS}, rtt, transferCluster(tc.election)...)
		s.transfer()
		s.runUntil(time.Minute, true)
		rec := s.recoveries[0]
		if rec.Duration != tc.want || rec.Attempts != tc.attempts || rec.Sweeps != 1 || rec.BackoffUsed != tc.backoff {
			t.Errorf("election %v: recovery %+v, want %v, %d attempts; attempts%s",
				tc.election, rec, tc.want, tc.attempts, s.trace())
		}
	}
}

// No leader ever: every member a follower from t0. Over 10 minutes the
// election-aware policy makes no more attempts than OVS's plus its bounded
// budget, and its "no usable server" reports are rate-limited.
func TestNoLeaderEver(t *testing.T) {
	const horizon = 10 * time.Minute
	cluster := func() []member {
		return []member{
			{"tcp:127.0.0.1:6641", always(follower)},
			{"tcp:127.0.0.1:6642", always(follower)},
			{"tcp:127.0.0.1:6643", always(follower)},
		}
	}
	ovs := newSim(t, failover.Config{Mode: failover.OVS}, rtt, cluster()...)
	ovs.transfer()
	ovs.runUntil(horizon, false)

	// OVS's count from the arithmetic: a sweep of 3 at 0 backoff, then one
	// attempt per backoff step 1, 2, 4, 8, 8, ... s, each step counted from
	// the end of the attempt before (rtt).
	want := 3
	at := 3 * rtt
	for b := minBackoff; ; b = min(2*b, reconnect.DefaultMaxBackoff) {
		at += b
		if at > horizon {
			break
		}
		want++
		at += rtt
	}
	if len(ovs.attempts) != want {
		t.Fatalf("OVS mode: %d attempts in %v, OVS arithmetic says %d", len(ovs.attempts), horizon, want)
	}

	for seed := range uint64(10) {
		s := newSim(t, failover.Config{Rand: seeded(seed)}, rtt, cluster()...)
		s.transfer()
		s.runUntil(horizon, false)
		budget := s.pol.WorstCaseAttempts() - 3 // the re-sweeps
		if got := len(s.attempts); got > want+budget {
			t.Errorf("seed %d: %d attempts > OVS %d + budget %d", seed, got, want, budget)
		}
		if len(s.recoveries) != 0 {
			t.Fatalf("recovered with no leader")
		}
		if seed == 0 {
			t.Logf("10 min, no leader: OVS %d attempts, election-aware %d (bound %d); reports %d, logged %d, suppressed %d",
				want, len(s.attempts), want+budget, s.noServer, s.logged, s.suppressed)
		}
		// Rate-limited reports: burst 3, then 1 a minute.
		pc := s.pol.Config()
		maxLogged := pc.LogBurst + int(horizon/pc.LogInterval)
		if s.logged > maxLogged || s.logged == 0 {
			t.Errorf("seed %d: %d reports logged (max %d) of %d", seed, s.logged, maxLogged, s.noServer)
		}
		// Every report is logged or counted in a later logged one, except
		// those after the last logged one.
		if s.logged+s.suppressed > s.noServer || s.noServer-s.logged-s.suppressed > s.noServer/2 {
			t.Errorf("seed %d: %d reports, %d logged, %d suppressed", seed, s.noServer, s.logged, s.suppressed)
		}
		if s.noServer < len(s.attempts)/3 {
			t.Errorf("seed %d: %d reports for %d attempts", seed, s.noServer, len(s.attempts))
		}
	}
}

// A graceful exit of the leader: EOF first, no _Server update. The other
// members are tried at once, the dropped one last, then backoff.
func TestLeaderDropsAtTransport(t *testing.T) {
	exitCluster := func(election time.Duration) []member {
		return []member{
			{"tcp:127.0.0.1:6641", always(refusing)}, // exited
			{"tcp:127.0.0.1:6642", leaderAfter(election)},
			{"tcp:127.0.0.1:6643", always(follower)},
		}
	}
	t.Run("others-first-then-backoff", func(t *testing.T) {
		// No re-sweeps: exactly the zero-backoff sweep, then backoff.
		s := newSim(t, failover.Config{MaxSweeps: -1}, rtt, exitCluster(time.Hour)...)
		s.drop()
		s.runUntil(10*time.Second, false)
		want := " 0s:tcp:127.0.0.1:6642 2ms:tcp:127.0.0.1:6643 4ms:tcp:127.0.0.1:6641" +
			" 1.0042s:tcp:127.0.0.1:6642 3.0062s:tcp:127.0.0.1:6643 7.0082s:tcp:127.0.0.1:6641"
		if got := s.trace(); got != want {
			t.Fatalf("attempts\n got%s\nwant%s", got, want)
		}
	})
	t.Run("election-covered", func(t *testing.T) {
		for seed := range uint64(10) {
			s := newSim(t, failover.Config{Rand: seeded(seed)}, rtt, exitCluster(3*time.Millisecond)...)
			s.drop()
			s.runUntil(time.Minute, true)
			rec := s.recoveries[0]
			if rec.BackoffUsed || rec.Duration > 20*time.Millisecond || rec.Cause != failover.DroppedWhileMonitoring {
				t.Errorf("seed %d: recovery %+v; attempts%s", seed, rec, s.trace())
			}
			if s.attempts[2].remote != "tcp:127.0.0.1:6641" {
				t.Errorf("dropped member not last: %s", s.trace())
			}
		}
	})
	t.Run("doc-timeline", func(t *testing.T) {
		s := newSim(t, failover.Config{Rand: func() float64 { return 0.5 }}, rtt, exitCluster(3*time.Millisecond)...)
		s.drop()
		s.runUntil(time.Minute, true)
		want := " 0s:tcp:127.0.0.1:6642 2ms:tcp:127.0.0.1:6643 4ms:tcp:127.0.0.1:6641 9.2ms:tcp:127.0.0.1:6642"
		if got := s.trace(); got != want {
			t.Fatalf("attempts\n got%s\nwant%s", got, want)
		}
		if rec := s.recoveries[0]; rec.Duration != ms(11.2) || rec.Sweeps != 2 || rec.Attempts != 4 {
			t.Fatalf("recovery %+v", rec)
		}
	})
	t.Run("ovs-mode-waits", func(t *testing.T) {
		// OVS: no reset on a transport drop; the connection was healthy long
		// enough, so reconnect_disconnected waits the minimum backoff.
		s := newSim(t, failover.Config{Mode: failover.OVS}, rtt, exitCluster(3*time.Millisecond)...)
		s.drop()
		s.runUntil(time.Minute, true)
		rec := s.recoveries[0]
		if rec.Duration != minBackoff+rtt || !rec.BackoffUsed || rec.Sweeps != 0 || rec.Attempts != 1 {
			t.Errorf("recovery %+v; attempts%s", rec, s.trace())
		}
	})
}

// A member that refuses, hangs or answers garbage ends the fast sweeps: the
// rest goes at OVS's backoff.
func TestSickMemberEndsFastSweeps(t *testing.T) {
	for _, tc := range []struct {
		name string
		role role
		// end of the first sweep: the sick member's attempt takes rtt/10
		// (refused), 1 s (the connect timeout) or rtt.
		sweepEnd time.Duration
	}{
		{"refusing", refusing, rtt + rtt/10 + rtt},
		{"hanging", hanging, rtt + time.Second + rtt},
		{"garbage", garbage, 3 * rtt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, failover.Config{}, rtt,
				member{"tcp:127.0.0.1:6641", always(follower)},
				member{"tcp:127.0.0.1:6642", leaderAfter(20 * time.Millisecond)},
				member{"tcp:127.0.0.1:6643", always(tc.role)},
			)
			s.transfer()
			s.runUntil(time.Minute, true)
			rec := s.recoveries[0]
			if rec.Sweeps != 1 || !rec.BackoffUsed || rec.Attempts != 4 {
				t.Errorf("recovery %+v; attempts%s", rec, s.trace())
			}
			if got := s.attempts[3].at; got != tc.sweepEnd+minBackoff {
				t.Errorf("4th attempt at %v, want %v (sweep end + min backoff); attempts%s",
					got, tc.sweepEnd+minBackoff, s.trace())
			}
		})
	}
}

// A user ForceReconnect while MONITORING a healthy leader: one sweep, the
// leader itself last; it is still leader, so the client returns to it.
func TestUserForceReconnect(t *testing.T) {
	s := newSim(t, failover.Config{}, rtt,
		member{"tcp:127.0.0.1:6641", always(isLeader)},
		member{"tcp:127.0.0.1:6642", always(follower)},
		member{"tcp:127.0.0.1:6643", always(follower)},
	)
	s.transfer()
	s.runUntil(time.Minute, true)
	rec := s.recoveries[0]
	if rec.Remote != "tcp:127.0.0.1:6641" || rec.Attempts != 3 || rec.BackoffUsed || rec.Duration != 3*rtt {
		t.Errorf("recovery %+v; attempts%s", rec, s.trace())
	}
}

// Random clusters and configurations: the attempts one leader change makes
// without waiting for the FSM's backoff never exceed WorstCaseAttempts.
func TestWorstCaseHolds(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	var atBound, aboveOne, recovered int
	defer func() {
		t.Logf("300 cases: %d reached the bound, %d made more than one sweep, %d recovered", atBound, aboveOne, recovered)
	}()
	roles := []role{follower, refusing, hanging, garbage}
	for i := range 300 {
		n := 1 + rng.IntN(5)
		cfg := failover.Config{
			MaxSweeps:  rng.IntN(9) - 1,
			FirstDelay: time.Duration(1+rng.IntN(20)) * time.Millisecond,
			MaxDelay:   time.Duration(1+rng.IntN(400)) * time.Millisecond,
			Budget:     time.Duration(1+rng.IntN(1000)) * time.Millisecond,
			Rand:       seeded(uint64(i)),
		}
		members := make([]member, n)
		for j := range members {
			r := roles[rng.IntN(len(roles))]
			if rng.IntN(3) == 0 {
				r = follower
			}
			fn := always(r)
			if j == 1%n && rng.IntN(2) == 0 {
				fn = leaderAfter(time.Duration(rng.IntN(3000)) * time.Millisecond)
			}
			members[j] = member{fmt.Sprintf("tcp:127.0.0.1:%d", 6641+j), fn}
		}
		if members[0].roleAt(0) == hanging || rng.IntN(2) == 0 {
			members[0].roleAt = always(refusing)
		}
		s := newSim(t, cfg, time.Duration(1+rng.IntN(4))*time.Millisecond, members...)
		drop := members[0].roleAt(0) == refusing && rng.IntN(2) == 0
		if drop {
			s.drop()
		} else {
			s.transfer()
		}
		s.runUntil(5*time.Minute, true)
		if w := s.pol.WorstCaseAttempts(); s.fast > w {
			t.Fatalf("case %d (%+v, drop %v): %d fast attempts > worst case %d; attempts%s",
				i, cfg, drop, s.fast, w, s.trace())
		}
		if s.fast == s.pol.WorstCaseAttempts() {
			atBound++
		}
		if s.fast > n {
			aboveOne++
		}
		if len(s.recoveries) > 0 {
			recovered++
		}
	}
}
