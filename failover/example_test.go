package failover_test

import (
	"fmt"
	"time"

	"github.com/ovsdbcs/ovsdbcs/failover"
)

// A leadership transfer with 3 remotes: the first sweep meets only
// followers (the election is not visible yet), so the policy asks to be
// woken 5 ms later and sweeps again, where the new leader is found.
func Example() {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	start := now
	p := failover.New(failover.Config{Rand: func() float64 { return 0.5 }}, 3) // no jitter, for the output
	fmt.Println("worst case:", p.WorstCaseAttempts(), "attempts; window", p.ElectionWindow())

	show := func(what string, d failover.Decision) {
		wake := "-"
		if !d.Wake.IsZero() {
			wake = d.Wake.Sub(start).String()
		}
		fmt.Printf("%-6v %-22s reset=%-5v connect-now=%-5v wake=%s\n", now.Sub(start), what, d.ResetBackoff, d.ConnectNow, wake)
	}
	show("left A (not leader)", p.LeftServer(now, "A", failover.ForcedWhileMonitoring))
	// The caller now calls session.ForceReconnect(); the session tries B, C, A.
	for _, r := range []string{"B", "C", "A"} {
		now = now.Add(2 * time.Millisecond)
		show(r+": not leader", p.Attempt(now, r, failover.NotLeader))
	}
	now, _ = p.Deadline()
	show("run", p.Run(now))
	now = now.Add(2 * time.Millisecond)
	rec, _ := p.Monitoring(now, "B")
	fmt.Printf("recovered on %s in %v: %d attempts, %d sweeps, backoff used: %v\n",
		rec.Remote, rec.Duration, rec.Attempts, rec.Sweeps, rec.BackoffUsed)
	// Output:
	// worst case: 9 attempts; window 12ms
	// 0s     left A (not leader)    reset=true  connect-now=false wake=-
	// 2ms    B: not leader          reset=false connect-now=false wake=-
	// 4ms    C: not leader          reset=false connect-now=false wake=-
	// 6ms    A: not leader          reset=false connect-now=false wake=11ms
	// 11ms   run                    reset=true  connect-now=true  wake=-
	// recovered on B in 13ms: 4 attempts, 2 sweeps, backoff used: false
}
