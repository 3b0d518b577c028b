package failover_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func noJitter() float64 { return 0.5 }

func TestLeftServer(t *testing.T) {
	for _, tc := range []struct {
		mode       failover.Mode
		cause      failover.Cause
		want       failover.Decision
		recovering bool
	}{
		{failover.ElectionAware, failover.ForcedWhileMonitoring, failover.Decision{ResetBackoff: true}, true},
		{failover.ElectionAware, failover.DroppedWhileMonitoring, failover.Decision{ResetBackoff: true, ConnectNow: true}, true},
		{failover.ElectionAware, failover.ForcedNotMonitoring, failover.Decision{}, false},
		{failover.ElectionAware, failover.Dropped, failover.Decision{}, false},
		{failover.OVS, failover.ForcedWhileMonitoring, failover.Decision{ResetBackoff: true}, true},
		{failover.OVS, failover.DroppedWhileMonitoring, failover.Decision{}, true},
		{failover.OVS, failover.ForcedNotMonitoring, failover.Decision{}, false},
		{failover.OVS, failover.Dropped, failover.Decision{}, false},
	} {
		p := failover.New(failover.Config{Mode: tc.mode}, 3)
		got := p.LeftServer(t0, "tcp:a", tc.cause)
		if got != tc.want || p.Recovering() != tc.recovering {
			t.Errorf("%v %v: %+v recovering=%v, want %+v recovering=%v",
				tc.mode, tc.cause, got, p.Recovering(), tc.want, tc.recovering)
		}
	}
}

// step is one input to a Policy in a table test.
type step struct {
	at      float64 // ms after t0
	remote  string
	outcome failover.Outcome // 0: call Run
	wake    float64          // expected Decision.Wake in ms after t0; 0: none
	resweep bool             // expected ResetBackoff+ConnectNow
}

func runSteps(t *testing.T, p *failover.Policy, steps []step) {
	t.Helper()
	for i, s := range steps {
		now := t0.Add(ms(s.at))
		var d failover.Decision
		if s.outcome == 0 {
			d = p.Run(now)
		} else {
			d = p.Attempt(now, s.remote, s.outcome)
		}
		var wake time.Time
		if s.wake != 0 {
			wake = t0.Add(ms(s.wake))
		}
		if !d.Wake.Equal(wake) || (d.ResetBackoff && d.ConnectNow) != s.resweep {
			t.Fatalf("step %d (%+v): decision %+v", i, s, d)
		}
		if dl, ok := p.Deadline(); ok != !wake.IsZero() || !dl.Equal(wake) {
			t.Fatalf("step %d: Deadline %v %v, want %v", i, dl, ok, wake)
		}
	}
}

func TestSweepRules(t *testing.T) {
	nl, ref, to, pr, un := failover.NotLeader, failover.Refused, failover.TimedOut, failover.Protocol, failover.Unusable
	for _, tc := range []struct {
		name    string
		cfg     failover.Config
		remotes int // 0: 3
		cause   failover.Cause
		steps   []step
		rec     failover.Recovery // Duration, Attempts, Sweeps, BackoffUsed checked after Monitoring at the last step + 1 ms
	}{
		{
			name: "all-not-leader-resweeps-5-then-10ms", cause: failover.ForcedWhileMonitoring,
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 4, remote: "c", outcome: nl},
				{at: 6, remote: "a", outcome: nl, wake: 11},
				{at: 11, resweep: true},
				{at: 13, remote: "b", outcome: nl}, {at: 15, remote: "c", outcome: nl},
				{at: 17, remote: "a", outcome: nl, wake: 27},
				{at: 27, resweep: true},
				{at: 29, remote: "b", outcome: nl}, {at: 31, remote: "c", outcome: nl},
				{at: 33, remote: "a", outcome: nl}, // MaxSweeps reached: backoff
				{at: 1033, remote: "b", outcome: nl},
			},
			rec: failover.Recovery{Duration: ms(1034), Attempts: 11, Sweeps: 3, BackoffUsed: true},
		},
		{
			name: "run-before-wake-does-nothing", cause: failover.ForcedWhileMonitoring,
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 4, remote: "c", outcome: nl},
				{at: 6, remote: "a", outcome: nl, wake: 11},
				{at: 10.9, wake: 11},
				{at: 11, resweep: true},
			},
			rec: failover.Recovery{Duration: ms(12), Attempts: 4, Sweeps: 2},
		},
		{
			name: "refused-ends-fast-sweeps", cause: failover.ForcedWhileMonitoring,
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 2.2, remote: "c", outcome: ref},
				{at: 4.2, remote: "a", outcome: nl},
			},
			rec: failover.Recovery{Duration: ms(5.2), Attempts: 4, Sweeps: 1, BackoffUsed: true},
		},
		{
			name: "timeout-ends-fast-sweeps", cause: failover.ForcedWhileMonitoring,
			steps: []step{
				{at: 1000, remote: "b", outcome: to}, {at: 1002, remote: "c", outcome: nl},
				{at: 1004, remote: "a", outcome: nl},
			},
			rec: failover.Recovery{Duration: ms(1005), Attempts: 4, Sweeps: 1, BackoffUsed: true},
		},
		{
			name: "protocol-ends-fast-sweeps", cause: failover.ForcedWhileMonitoring,
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 4, remote: "c", outcome: pr},
				{at: 6, remote: "a", outcome: nl},
			},
			rec: failover.Recovery{Duration: ms(7), Attempts: 4, Sweeps: 1, BackoffUsed: true},
		},
		{
			name: "unusable-ends-fast-sweeps", cause: failover.ForcedWhileMonitoring,
			steps: []step{
				{at: 2, remote: "b", outcome: un}, {at: 4, remote: "c", outcome: nl},
				{at: 6, remote: "a", outcome: nl},
			},
			rec: failover.Recovery{Duration: ms(7), Attempts: 4, Sweeps: 1, BackoffUsed: true},
		},
		{
			name: "dropped-member-may-refuse", cause: failover.DroppedWhileMonitoring,
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 4, remote: "c", outcome: nl},
				{at: 4.2, remote: "a", outcome: ref, wake: 9.2},
				{at: 9.2, resweep: true},
			},
			rec: failover.Recovery{Duration: ms(10.2), Attempts: 4, Sweeps: 2},
		},
		{
			name: "another-refusing-member-ends-fast-sweeps", cause: failover.DroppedWhileMonitoring,
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 2.2, remote: "c", outcome: ref},
				{at: 2.4, remote: "a", outcome: ref},
			},
			rec: failover.Recovery{Duration: ms(3.4), Attempts: 4, Sweeps: 1, BackoffUsed: true},
		},
		{
			name: "only-refusals-are-no-election", cause: failover.DroppedWhileMonitoring,
			remotes: 1,
			steps: []step{
				{at: 0.2, remote: "a", outcome: ref},
			},
			rec: failover.Recovery{Duration: ms(1.2), Attempts: 2, Sweeps: 1, BackoffUsed: true},
		},
		{
			name: "budget-cuts-resweeps", cause: failover.ForcedWhileMonitoring,
			cfg: failover.Config{Budget: ms(20), MaxSweeps: 6},
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 4, remote: "c", outcome: nl},
				{at: 6, remote: "a", outcome: nl, wake: 11},
				{at: 11, resweep: true},
				{at: 13, remote: "b", outcome: nl}, {at: 15, remote: "c", outcome: nl},
				{at: 17, remote: "a", outcome: nl}, // 17+10 > 20: no more
			},
			rec: failover.Recovery{Duration: ms(18), Attempts: 7, Sweeps: 2, BackoffUsed: true},
		},
		{
			name: "session-backoff-first-ends-fast-sweeps", cause: failover.ForcedWhileMonitoring,
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 4, remote: "c", outcome: nl},
				{at: 6, remote: "a", outcome: nl, wake: 11},
				{at: 8, remote: "b", outcome: nl}, // the session's own attempt
				{at: 11},                          // nothing pending any more
			},
			rec: failover.Recovery{Duration: ms(12), Attempts: 5, Sweeps: 1, BackoffUsed: true},
		},
		{
			name: "max-delay-caps-waits", cause: failover.ForcedWhileMonitoring,
			cfg: failover.Config{FirstDelay: ms(5), MaxDelay: ms(8)},
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 4, remote: "c", outcome: nl},
				{at: 6, remote: "a", outcome: nl, wake: 11},
				{at: 11, resweep: true},
				{at: 13, remote: "b", outcome: nl}, {at: 15, remote: "c", outcome: nl},
				{at: 17, remote: "a", outcome: nl, wake: 25},
			},
			rec: failover.Recovery{Duration: ms(18), Attempts: 7, Sweeps: 2},
		},
		{
			name: "ovs-one-sweep-then-backoff", cause: failover.ForcedWhileMonitoring,
			cfg: failover.Config{Mode: failover.OVS},
			steps: []step{
				{at: 2, remote: "b", outcome: nl}, {at: 4, remote: "c", outcome: nl},
				{at: 6, remote: "a", outcome: nl},
				{at: 1006, remote: "b", outcome: nl},
			},
			rec: failover.Recovery{Duration: ms(1007), Attempts: 5, Sweeps: 1, BackoffUsed: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Rand = noJitter
			remotes := tc.remotes
			if remotes == 0 {
				remotes = 3
			}
			p := failover.New(cfg, remotes)
			p.LeftServer(t0, "a", tc.cause)
			runSteps(t, p, tc.steps)
			end := t0.Add(ms(tc.steps[len(tc.steps)-1].at + 1))
			rec, ok := p.Monitoring(end, "b")
			if !ok {
				t.Fatal("no recovery")
			}
			want := tc.rec
			want.Cause, want.From, want.Remote, want.Start = tc.cause, "a", "b", t0
			if rec != want {
				t.Errorf("recovery\n got %+v\nwant %+v", rec, want)
			}
			if p.Recovering() {
				t.Error("still recovering")
			}
		})
	}
}

func TestOutsideRecovery(t *testing.T) {
	p := failover.New(failover.Config{}, 3)
	if d := p.Attempt(t0, "a", failover.NotLeader); d != (failover.Decision{}) {
		t.Errorf("Attempt: %+v", d)
	}
	if d := p.Run(t0); d != (failover.Decision{}) {
		t.Errorf("Run: %+v", d)
	}
	if _, ok := p.Deadline(); ok {
		t.Error("Deadline")
	}
	if _, ok := p.Monitoring(t0, "a"); ok {
		t.Error("Monitoring reported a recovery at start")
	}
}

func TestJitter(t *testing.T) {
	for _, tc := range []struct {
		r    float64
		wake time.Duration // after the sweep's end at 6 ms
	}{
		{0, ms(4)}, {0.5, ms(5)}, {0.999999, ms(6)},
	} {
		p := failover.New(failover.Config{Rand: func() float64 { return tc.r }}, 1)
		p.LeftServer(t0, "a", failover.ForcedWhileMonitoring)
		d := p.Attempt(t0.Add(ms(6)), "a", failover.NotLeader)
		got := d.Wake.Sub(t0.Add(ms(6)))
		if got < tc.wake-time.Microsecond || got > tc.wake {
			t.Errorf("rand %v: wait %v, want %v", tc.r, got, tc.wake)
		}
	}
}

func TestWorstCase(t *testing.T) {
	for _, tc := range []struct {
		cfg      failover.Config
		remotes  int
		attempts int
		window   time.Duration
	}{
		{failover.Config{}, 3, 9, ms(4 + 8)},
		{failover.Config{}, 1, 3, ms(12)},
		{failover.Config{}, 5, 15, ms(12)},
		{failover.Config{Mode: failover.OVS}, 3, 3, 0},
		{failover.Config{MaxSweeps: -1}, 3, 3, 0},
		{failover.Config{MaxSweeps: 6}, 3, 21, ms(4 + 8 + 16 + 32 + 64 + 128)},
		{failover.Config{MaxSweeps: 6, Jitter: -1}, 3, 21, ms(315)},
		// The budget allows only the re-sweeps whose earliest start fits.
		{failover.Config{MaxSweeps: 6, Budget: ms(100)}, 3, 15, ms(4 + 8 + 16 + 32)},
		{failover.Config{MaxSweeps: 10, MaxDelay: ms(20), Jitter: -1}, 2, 22, ms(5 + 10 + 20*8)},
	} {
		p := failover.New(tc.cfg, tc.remotes)
		if got := p.WorstCaseAttempts(); got != tc.attempts {
			t.Errorf("%+v, %d remotes: WorstCaseAttempts %d, want %d", tc.cfg, tc.remotes, got, tc.attempts)
		}
		if got := p.ElectionWindow(); got != tc.window {
			t.Errorf("%+v, %d remotes: ElectionWindow %v, want %v", tc.cfg, tc.remotes, got, tc.window)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want failover.Outcome
	}{
		{leader.ErrNotLeader, failover.NotLeader},
		{fmt.Errorf("check: %w", leader.ErrNotLeader), failover.NotLeader},
		{leader.ErrStale, failover.Unusable},
		{leader.ErrClusterDisconnected, failover.Unusable},
		{leader.ErrNotJoined, failover.Unusable},
		{leader.ErrRelayLeaderOnly, failover.Unusable},
		{&os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}, failover.Refused},
		{jsonrpc.ErrConnectTimeout, failover.TimedOut},
		{context.DeadlineExceeded, failover.TimedOut},
		{os.ErrDeadlineExceeded, failover.TimedOut},
		{io.EOF, failover.Protocol},
		{jsonrpc.ErrProtocol, failover.Protocol},
		{leader.ErrMalformed, failover.Protocol},
		{errors.New("boom"), failover.Protocol},
	} {
		if got := failover.OutcomeOf(tc.err); got != tc.want {
			t.Errorf("OutcomeOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{failover.ElectionAware.String(), "election-aware"},
		{failover.OVS.String(), "ovs"},
		{failover.ForcedWhileMonitoring.String(), "forced-while-monitoring"},
		{failover.DroppedWhileMonitoring.String(), "dropped-while-monitoring"},
		{failover.Cause(0).String(), "cause(?)"},
		{failover.NotLeader.String(), "not-leader"},
		{failover.TimedOut.String(), "timed-out"},
		{failover.Outcome(99).String(), "outcome(?)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
