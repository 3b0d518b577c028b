package hunt_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/hunt"
)

// ovsAttempts is the number of connection attempts OVS's session makes in
// [0, horizon] when no member can be used, after a forced reconnect from
// MONITORING (the worst case: one free try per remote at 0, then one
// attempt per backoff step of 1, 2, 4, 8, 8, ... s).
func ovsAttempts(remotes int, horizon time.Duration) int {
	n := remotes
	b := time.Duration(0)
	for t := time.Duration(0); ; {
		b = min(max(2*b, time.Second), 8*time.Second)
		t += b
		if t > horizon {
			return n
		}
		n++
	}
}

// Every member refuses for ten minutes: per member, the Watch tries no more
// often than OVS's session tries that member (its attempts spread over the
// members), over the whole outage, in the first minute, and per minute
// after the backoff reached its maximum.
func TestAllDownAttempts(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		w := hunt.New(hunt.Config{}, n)
		now := epoch
		perMember := make([]int, n)
		var opens []time.Time
		logged := 0
		var apply func(s hunt.Step)
		apply = func(s hunt.Step) {
			if s.NoServer && s.Log {
				logged++
			}
			for _, a := range s.Actions {
				if a.Kind != hunt.ActionOpen {
					continue
				}
				perMember[a.Member]++
				opens = append(opens, now)
				// Refused at once.
				apply(w.Failed(now, a.Member, failover.Refused))
			}
		}
		apply(w.Start(now))
		end := epoch.Add(10 * time.Minute)
		for {
			next, ok := w.Next()
			if !ok || next.After(end) {
				break
			}
			now = next
			apply(w.Tick(now))
		}
		bound := (ovsAttempts(n, 10*time.Minute) + n - 1) / n
		firstMinute := (ovsAttempts(n, time.Minute) + n - 1) / n
		for m, c := range perMember {
			if c > bound {
				t.Errorf("n=%d: member %d tried %d times in 10 min, OVS bound %d per member", n, m, c, bound)
			}
		}
		inFirst := 0
		for _, at := range opens {
			if at.Sub(epoch) <= time.Minute {
				inFirst++
			}
		}
		if inFirst > firstMinute*n {
			t.Errorf("n=%d: %d attempts in the first minute, OVS bound %d", n, inFirst, firstMinute*n)
		}
		// Logs: 3 at once, then one a minute: at most 3 + 10.
		if logged > 3+10 {
			t.Errorf("n=%d: %d reports logged in 10 minutes", n, logged)
		}
		t.Logf("n=%d: per member %v in 10 min (OVS per member ≤ %d), first minute %d (≤ %d), %d logged",
			n, perMember, bound, inFirst, firstMinute*n, logged)
	}
}

// Random inputs never give a member two connections at once, never open a
// member before its backoff ends (but at the start of a recovery), and a recovery's Attempts match the
// opens.
func TestRandomInvariants(t *testing.T) {
	recoveries := 0
	defer func() {
		if recoveries < 100 {
			t.Errorf("only %d recoveries: the inputs exercise little", recoveries)
		}
	}()
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 1))
		n := 1 + rng.IntN(5)
		w := hunt.New(hunt.Config{}, n)
		now := epoch
		conn := make([]bool, n) // the driver's view: member has a connection
		dataOn := -1
		promoted := -1
		backoffUntil := make([]time.Time, n)
		opens := 0
		check := func(s hunt.Step) {
			t.Helper()
			for _, a := range s.Actions {
				switch a.Kind {
				case hunt.ActionOpen:
					if conn[a.Member] {
						t.Fatalf("seed %d: open m%d with a connection", seed, a.Member)
					}
					if dataOn >= 0 {
						// A suspicion starts a recovery: every member
						// is tried once more.
						clear(backoffUntil)
					}
					if now.Before(backoffUntil[a.Member]) {
						t.Fatalf("seed %d: open m%d before its backoff ends", seed, a.Member)
					}
					conn[a.Member] = true
					opens++
				case hunt.ActionClose:
					if a.Member == dataOn {
						t.Fatalf("seed %d: close on the data connection", seed)
					}
					conn[a.Member] = false
					if a.Member == promoted {
						promoted = -1
					}
				case hunt.ActionLeave:
					if a.Member != dataOn {
						t.Fatalf("seed %d: leave m%d, data on m%d", seed, a.Member, dataOn)
					}
					conn[a.Member] = false
					dataOn = -1
				case hunt.ActionDemote:
					if a.Member == dataOn {
						dataOn = -1
					}
					if a.Member == promoted {
						promoted = -1
					}
				case hunt.ActionPromote:
					if !conn[a.Member] {
						t.Fatalf("seed %d: promote m%d without a watcher", seed, a.Member)
					}
					promoted = a.Member
				}
			}
			if r := s.Recovery; r != nil {
				if r.Attempts > opens {
					t.Fatalf("seed %d: recovery counts %d attempts, %d opens", seed, r.Attempts, opens)
				}
				opens = 0
				dataOn, promoted = r.To, -1
				recoveries++
			}
		}
		check(w.Start(now))
		for range 400 {
			now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			m := rng.IntN(n)
			switch rng.IntN(9) {
			case 0:
				if next, ok := w.Next(); ok && now.Before(next) {
					now = next
				}
				check(w.Tick(now))
			case 1, 2:
				check(w.Report(now, m, hunt.Verdict(1+rng.IntN(3))))
			case 3:
				if conn[m] && m != dataOn {
					backoffUntil[m] = now.Add(w.MemberBackoff(1))
				}
				check(w.Failed(now, m, failover.Refused))
				conn[m] = m == dataOn && conn[m]
			case 4:
				if promoted >= 0 {
					check(w.Monitoring(now, promoted))
				}
			case 5:
				check(w.Heard(now))
			case 6:
				if dataOn >= 0 {
					cause := []hunt.Cause{hunt.Dropped, hunt.ProbeFailed, hunt.NotLeader, hunt.Forced}[rng.IntN(4)]
					clear(backoffUntil) // a new recovery tries every member once more
					from := dataOn
					if cause == hunt.Dropped || cause == hunt.ProbeFailed {
						conn[from] = false
						dataOn = -1
					}
					check(w.Lost(now, from, cause))
				}
			default:
				check(w.Tick(now))
			}
		}
	}
}
