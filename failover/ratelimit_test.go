package failover_test

import (
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/failover"
)

func TestLogLimiter(t *testing.T) {
	type call struct {
		at         time.Duration
		ok         bool
		suppressed int
	}
	for _, tc := range []struct {
		name     string
		burst    int
		interval time.Duration
		calls    []call
	}{
		{"burst-then-one-per-interval", 3, time.Minute, []call{
			{0, true, 0}, {time.Second, true, 0}, {2 * time.Second, true, 0},
			{3 * time.Second, false, 0}, {30 * time.Second, false, 0},
			{60 * time.Second, true, 2}, // one token earned since the first spend
			{61 * time.Second, false, 0},
			{120 * time.Second, true, 1},
		}},
		{"refills-to-burst-only", 2, time.Second, []call{
			{0, true, 0}, {0, true, 0}, {0, false, 0},
			{time.Hour, true, 1}, {time.Hour, true, 0}, {time.Hour, false, 0},
		}},
		{"burst-below-one-is-one", 0, time.Second, []call{
			{0, true, 0}, {500 * time.Millisecond, false, 0}, {time.Second, true, 1},
		}},
		{"no-interval-no-limit", 1, 0, []call{
			{0, true, 0}, {0, true, 0}, {0, true, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := failover.NewLogLimiter(tc.burst, tc.interval)
			for i, c := range tc.calls {
				ok, sup := l.Allow(t0.Add(c.at))
				if ok != c.ok || sup != c.suppressed {
					t.Fatalf("call %d at %v: (%v, %d), want (%v, %d)", i, c.at, ok, sup, c.ok, c.suppressed)
				}
			}
		})
	}
}

func TestLogLimiterSuppressedCount(t *testing.T) {
	l := failover.NewLogLimiter(1, time.Minute)
	l.Allow(t0)
	for i := range 5 {
		l.Allow(t0.Add(time.Duration(i+1) * time.Second))
	}
	if got := l.Suppressed(); got != 5 {
		t.Fatalf("Suppressed = %d, want 5", got)
	}
}
