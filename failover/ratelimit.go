package failover

import "time"

// LogLimiter rate-limits a repeated log message, as OVS's VLOG_RATE_LIMIT
// does: up to burst messages at once, then one more per interval, and a
// count of the messages it held back. It reads no clock: now is passed in.
// The zero value is not usable; call NewLogLimiter. It is not safe for
// concurrent use.
type LogLimiter struct {
	burst      int
	interval   time.Duration
	tokens     int
	last       time.Time // when tokens were last refilled
	started    bool
	suppressed int
}

// NewLogLimiter returns a limiter that allows burst messages at once and
// earns one more every interval, up to burst (burst < 1 counts as 1). An
// interval of 0 or less means no limit.
func NewLogLimiter(burst int, interval time.Duration) *LogLimiter {
	if burst < 1 {
		burst = 1
	}
	return &LogLimiter{burst: burst, interval: interval, tokens: burst}
}

// Allow reports whether to log a message at now. When it does, suppressed
// is the number of messages held back since the last one logged (say so in
// the message); when it does not, the message is counted and suppressed is
// 0.
func (l *LogLimiter) Allow(now time.Time) (ok bool, suppressed int) {
	if l.interval <= 0 {
		return true, 0
	}
	if !l.started {
		l.started = true
		l.last = now
	}
	if l.tokens < l.burst {
		if earned := int(now.Sub(l.last) / l.interval); earned > 0 {
			l.tokens = min(l.burst, l.tokens+earned)
			l.last = l.last.Add(time.Duration(earned) * l.interval)
		}
	}
	if l.tokens == 0 {
		l.suppressed++
		return false, 0
	}
	if l.tokens == l.burst {
		// A full bucket earns nothing: start the clock at this spend.
		l.last = now
	}
	l.tokens--
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}

// Suppressed returns the number of messages held back since the last one
// logged.
func (l *LogLimiter) Suppressed() int { return l.suppressed }
