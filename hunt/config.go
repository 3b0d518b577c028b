package hunt

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config, explained in the package documentation.
const (
	// DefaultIdle: ask for an echo on the data connection after a second
	// of silence from the leader (ovsdb-server's default election timer is
	// 1 s, so a frozen leader is suspected about when the others elect).
	DefaultIdle = time.Second
	// DefaultSuspicion: an echo unanswered this long starts the watch of
	// the other members.
	DefaultSuspicion = 500 * time.Millisecond
	// DefaultAttemptTimeout: a watcher that has not reported a _Server row
	// this long after it was opened counts as hung: two of OVS's 5 s probe
	// intervals, the silence after which OVS drops a connection. A hung
	// watcher holds up nothing (the others go on), while a shorter
	// timeout would back off members that are only slow, under a herd.
	DefaultAttemptTimeout = 10 * time.Second
	// DefaultMinBackoff and DefaultMaxBackoff are the reconnect FSM's
	// (OVS's) backoff bounds; see Config.
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 8 * time.Second
	// DefaultLogBurst and DefaultLogInterval rate-limit the "no usable
	// server" reports: 3 at once, then one a minute.
	DefaultLogBurst    = 3
	DefaultLogInterval = time.Minute
)

// Config configures a Watch. The zero value is the default.
type Config struct {
	// Idle: while MONITORING, the Watch asks for an echo (ActionEcho) on
	// the data connection when the leader has been silent this long (0:
	// DefaultIdle; negative: never; the driver's own probes still count,
	// see Watch.EchoSent).
	Idle time.Duration
	// Suspicion: an echo unanswered this long makes the leader suspect:
	// watchers are opened to the other members, and the leader is left as
	// soon as one of them reports leader=true (0: DefaultSuspicion).
	Suspicion time.Duration
	// AttemptTimeout bounds the wait for a new watcher's first _Server row
	// (0: DefaultAttemptTimeout). A watcher past it is hung: closed and
	// backed off.
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff set the backoff of a member that refused,
	// hung, or answered garbage or an unusable row (0: defaults). Its k-th
	// consecutive failure (k = 1, 2, ...) keeps it closed for
	// R × min(MinBackoff·2^k, MaxBackoff), R the number of members: each
	// member is tried no more often than OVS's session, which tries one
	// member per backoff step, spreads its tries.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// LogBurst and LogInterval rate-limit Step.Log (0: defaults).
	LogBurst    int
	LogInterval time.Duration
}

// Validate reports a configuration the Watch cannot honour: a MaxBackoff
// below MinBackoff (after the defaults for zero values). It wraps
// ErrInvalidConfig.
func (c Config) Validate() error {
	d := c.withDefaults()
	if d.MaxBackoff < d.MinBackoff {
		return fmt.Errorf("%w: MaxBackoff %v is below MinBackoff %v", ErrInvalidConfig, d.MaxBackoff, d.MinBackoff)
	}
	return nil
}

// ErrInvalidConfig is wrapped by the errors of Config.Validate.
var ErrInvalidConfig = errors.New("hunt: invalid configuration")

func (c Config) withDefaults() Config {
	if c.Idle == 0 {
		c.Idle = DefaultIdle
	}
	if c.Suspicion <= 0 {
		c.Suspicion = DefaultSuspicion
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.LogBurst <= 0 {
		c.LogBurst = DefaultLogBurst
	}
	if c.LogInterval <= 0 {
		c.LogInterval = DefaultLogInterval
	}
	return c
}
