package reconnect

import "time"

// Defaults and limits, the same numbers as Open vSwitch's reconnect.h.
const (
	// DefaultMinBackoff is the default minimum backoff between attempts,
	// and also the smallest minimum that SetBackoff accepts.
	DefaultMinBackoff = 1000 * time.Millisecond
	// DefaultMaxBackoff is the default maximum backoff between attempts.
	// SetBackoff uses it when given a maximum of 0.
	DefaultMaxBackoff = 8000 * time.Millisecond
	// DefaultProbeInterval is the default inactivity probe interval.
	DefaultProbeInterval = 5000 * time.Millisecond
)

// Floors applied by the setters, as in C.
const (
	backoffFloor       = 1000 * time.Millisecond // min and max backoff
	probeIntervalFloor = 1000 * time.Millisecond // a nonzero probe interval
	connectTimeoutMin  = 1000 * time.Millisecond // CONNECTING lasts at least this
)

// backoffStep is the branch of the backoff rule that a disconnection took.
type backoffStep int

const (
	stepFree   backoffStep = iota // a backoff-free try was spent: 0
	stepReset                     // long-lived connection: min (passive: 0)
	stepMin                       // below the minimum: raised to min
	stepDouble                    // doubled
	stepMax                       // at or near the maximum: max
)

// nextBackoff is the backoff arithmetic of reconnect_disconnected, after the
// max-tries check. It returns the new backoff, the new number of
// backoff-free tries, and the branch taken.
//
// The order is C's: a free try first (only when more than one is left),
// then the reset after a connection that was connected (ACTIVE or IDLE) and
// saw activity for at least the current backoff (or any connection, in
// passive mode), then min, doubling, max. The comparison with max/2 uses
// C's integer division of milliseconds.
func nextBackoff(cur, minB, maxB time.Duration, freeTries uint32, wasConnected, passive bool, activeFor time.Duration) (time.Duration, uint32, backoffStep) {
	switch {
	case freeTries > 1:
		return 0, freeTries - 1, stepFree
	case wasConnected && (activeFor >= cur || passive):
		if passive {
			return 0, freeTries, stepReset
		}
		return minB, freeTries, stepReset
	case cur < minB:
		return minB, freeTries, stepMin
	case cur < halfMillis(maxB):
		return cur * 2, freeTries, stepDouble
	default:
		return maxB, freeTries, stepMax
	}
}

// halfMillis is d/2 rounded down to a whole millisecond, like C's
// "max_backoff / 2" on an int count of milliseconds.
func halfMillis(d time.Duration) time.Duration {
	return d / time.Millisecond / 2 * time.Millisecond
}

// clampBackoff returns the (min, max) pair that reconnect_set_backoff
// stores for the arguments: min at least 1 s; max at least 1 s, or the
// default when 0; max raised to min if below it. Arguments are first
// truncated to whole milliseconds, C's resolution.
func clampBackoff(minArg, maxArg time.Duration) (minB, maxB time.Duration) {
	minArg, maxArg = truncMillis(minArg), truncMillis(maxArg)
	minB = max(minArg, backoffFloor)
	if maxArg != 0 {
		maxB = max(maxArg, backoffFloor)
	} else {
		maxB = DefaultMaxBackoff
	}
	if minB > maxB {
		maxB = minB
	}
	return minB, maxB
}

// clampProbeInterval returns the probe interval that
// reconnect_set_probe_interval stores: 0 stays 0 (probes off); anything
// else is at least 1 s. Negative values, which C would raise to 1 s, are
// raised to 1 s too.
func clampProbeInterval(d time.Duration) time.Duration {
	d = truncMillis(d)
	if d == 0 {
		return 0
	}
	return max(d, probeIntervalFloor)
}

// truncMillis truncates d toward zero to a whole number of milliseconds.
func truncMillis(d time.Duration) time.Duration {
	return d.Truncate(time.Millisecond)
}
