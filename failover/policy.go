package failover

import (
	"math/rand/v2"
	"time"
)

// Mode selects the retry policy.
type Mode uint8

const (
	// ElectionAware is the default policy: OVS's sweep, plus short bounded
	// re-sweeps while an election is under way, plus a zero-backoff sweep
	// after a leader's connection drops at the transport level.
	ElectionAware Mode = iota
	// OVS is Open vSwitch's policy, exactly: one zero-backoff sweep after a
	// forced reconnect from MONITORING, nothing else.
	OVS
)

// String returns "election-aware" or "ovs".
func (m Mode) String() string {
	switch m {
	case ElectionAware:
		return "election-aware"
	case OVS:
		return "ovs"
	}
	return "mode(?)"
}

// Defaults of Config, justified in the package documentation.
const (
	// DefaultFirstDelay is the wait before the first re-sweep. Elections
	// after a leadership transfer take 1.5-5 ms, and the new leader shows
	// leader=true 2-4 ms later.
	DefaultFirstDelay = 5 * time.Millisecond
	// DefaultMaxDelay caps a single wait between sweeps.
	DefaultMaxDelay = 250 * time.Millisecond
	// DefaultBudget bounds how long after leaving a server a re-sweep may
	// start: OVS's minimum backoff, so the fast path never runs past the
	// moment OVS would have retried anyway.
	DefaultBudget = 1000 * time.Millisecond
	// DefaultMaxSweeps is the number of re-sweeps after the first sweep.
	// With it, every member is tried at most 3 times per leader change.
	DefaultMaxSweeps = 2
	// DefaultJitter spreads each wait by up to ±20 %.
	DefaultJitter = 0.2
	// DefaultLogBurst and DefaultLogInterval rate-limit the "no usable
	// server" reports (Decision.Log): 3 at once, then one per minute.
	DefaultLogBurst    = 3
	DefaultLogInterval = time.Minute
)

// Config configures a Policy. The zero value is the default election-aware
// policy.
type Config struct {
	// Mode: ElectionAware (the zero value) or OVS.
	Mode Mode
	// FirstDelay is the wait before the first re-sweep (0: DefaultFirstDelay).
	// Each later wait doubles, up to MaxDelay.
	FirstDelay time.Duration
	// MaxDelay caps one wait (0: DefaultMaxDelay).
	MaxDelay time.Duration
	// Budget: a re-sweep starts no later than Budget after the client left
	// the server (0: DefaultBudget). Keep it at or below the session's
	// minimum backoff (1 s by default); see Policy.Attempt.
	Budget time.Duration
	// MaxSweeps is the number of re-sweeps after the first sweep (0:
	// DefaultMaxSweeps; negative: none).
	MaxSweeps int
	// Jitter spreads each wait uniformly within ±Jitter of its nominal
	// value (0: DefaultJitter; negative: none; at most 1).
	Jitter float64
	// Rand returns a number in [0, 1) (nil: math/rand/v2.Float64). Tests
	// inject a fixed one.
	Rand func() float64
	// LogBurst and LogInterval rate-limit Decision.Log (0: defaults).
	LogBurst    int
	LogInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.FirstDelay <= 0 {
		c.FirstDelay = DefaultFirstDelay
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = DefaultMaxDelay
	}
	if c.MaxDelay < c.FirstDelay {
		c.MaxDelay = c.FirstDelay
	}
	if c.Budget <= 0 {
		c.Budget = DefaultBudget
	}
	switch {
	case c.MaxSweeps == 0:
		c.MaxSweeps = DefaultMaxSweeps
	case c.MaxSweeps < 0:
		c.MaxSweeps = 0
	}
	switch {
	case c.Jitter == 0:
		c.Jitter = DefaultJitter
	case c.Jitter < 0:
		c.Jitter = 0
	case c.Jitter > 1:
		c.Jitter = 1
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	if c.LogBurst <= 0 {
		c.LogBurst = DefaultLogBurst
	}
	if c.LogInterval <= 0 {
		c.LogInterval = DefaultLogInterval
	}
	return c
}

// Cause says why the client left a server.
type Cause uint8

const (
	// ForcedWhileMonitoring: the client-sync layer forced a reconnect while
	// MONITORING: the leader check failed (not leader, stale, ...), an
	// inconsistency, or the user's ForceReconnect.
	ForcedWhileMonitoring Cause = iota + 1
	// ForcedNotMonitoring: a forced reconnect in any other state.
	ForcedNotMonitoring
	// DroppedWhileMonitoring: the connection to the server the client was
	// MONITORING ended at the transport level (EOF, reset, probe timeout).
	DroppedWhileMonitoring
	// Dropped: a transport drop in any other state.
	Dropped
)

var causeNames = [...]string{
	ForcedWhileMonitoring:  "forced-while-monitoring",
	ForcedNotMonitoring:    "forced",
	DroppedWhileMonitoring: "dropped-while-monitoring",
	Dropped:                "dropped",
}

// String returns a short stable name for logs.
func (c Cause) String() string {
	if int(c) < len(causeNames) && causeNames[c] != "" {
		return causeNames[c]
	}
	return "cause(?)"
}

// Outcome is how a connection attempt ended without reaching MONITORING.
// OutcomeOf maps errors to outcomes.
type Outcome uint8

const (
	// NotLeader: the server is clustered, connected to its cluster and has
	// the schema, but is not the leader (leader.ErrNotLeader). The only
	// outcome that suggests an election is under way.
	NotLeader Outcome = iota + 1
	// Refused: the connection was refused (nothing listens).
	Refused
	// TimedOut: the attempt hung (connect timeout, or no answer).
	TimedOut
	// Protocol: the server answered garbage, or an error, or the
	// connection dropped before the check.
	Protocol
	// Unusable: any other reason the leader check rejected the server
	// (not joined, disconnected from the cluster, stale, relay, no schema,
	// database missing).
	Unusable
)

var outcomeNames = [...]string{
	NotLeader: "not-leader",
	Refused:   "refused",
	TimedOut:  "timed-out",
	Protocol:  "protocol",
	Unusable:  "unusable",
}

// String returns a short stable name for logs.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && outcomeNames[o] != "" {
		return outcomeNames[o]
	}
	return "outcome(?)"
}

// Decision is what the caller does on its session, in field order. The zero
// Decision means: nothing, leave it to the reconnect FSM.
type Decision struct {
	// ResetBackoff: call Session.ResetBackoff (one backoff-free try per
	// remote, plus one while connected).
	ResetBackoff bool
	// ConnectNow: then call Session.ConnectNow (attempt the next remote at
	// once). After LeftServer(ForcedWhileMonitoring) it is false: the
	// caller's own ForceReconnect starts the sweep.
	ConnectNow bool
	// Wake, when not zero, is when the caller must call Policy.Run next
	// (the same as Policy.Deadline).
	Wake time.Time
	// NoServer: a sweep of every remote ended with no usable server.
	NoServer bool
	// Log: and it should be logged now; false when rate-limited.
	Log bool
	// Suppressed: how many NoServer reports were not logged before this
	// one (meaningful when Log is true).
	Suppressed int
}

// Recovery describes one recovery, from leaving a server the client was
// MONITORING to MONITORING again.
type Recovery struct {
	Cause    Cause
	From     string        // the remote the client left
	Remote   string        // the remote it ended on
	Start    time.Time     // when it left
	Duration time.Duration // until MONITORING again
	// Attempts counts connection attempts, the successful one included.
	Attempts int
	// Sweeps counts zero-backoff sweeps started (the first one included).
	Sweeps int
	// BackoffUsed: some attempt waited for the reconnect FSM's normal
	// backoff.
	BackoffUsed bool
}

// Policy decides how a leader-only client moves between servers. It does no
// I/O, reads no clock and starts no goroutine: every input carries the time.
// It is not safe for concurrent use; the goroutine that owns the session
// owns the Policy.
type Policy struct {
	cfg     Config
	remotes int
	limiter *LogLimiter

	active bool
	rec    recovery
}

type recovery struct {
	cause   Cause
	from    string
	start   time.Time
	last    string
	attempt int // attempts so far

	sweeps   int  // zero-backoff sweeps started
	inSweep  int  // attempts seen in the current sweep; -1: not in a sweep
	fast     bool // re-sweeps still allowed
	healthy  bool // the current sweep met a NotLeader member
	resweeps int  // re-sweeps scheduled so far

	waiting bool
	wake    time.Time

	backoff  bool
	sinceLog int // attempts since the last NoServer report, outside sweeps
}

// New returns a Policy for a session with the given number of remotes
// (at least 1).
func New(cfg Config, remotes int) *Policy {
	cfg = cfg.withDefaults()
	if remotes < 1 {
		remotes = 1
	}
	return &Policy{cfg: cfg, remotes: remotes, limiter: NewLogLimiter(cfg.LogBurst, cfg.LogInterval)}
}

// Config returns the configuration with defaults filled in.
func (p *Policy) Config() Config { return p.cfg }

// SetRemotes changes the number of remotes; it takes effect at the next
// sweep.
func (p *Policy) SetRemotes(n int) {
	if n < 1 {
		n = 1
	}
	p.remotes = n
}

// Recovering reports whether a recovery is in progress.
func (p *Policy) Recovering() bool { return p.active }

// LeftServer reports that the client is leaving remote, and why. Call it
// before ForceReconnect for a forced reconnect, and as soon as the drop is
// known for a transport drop; apply the Decision at once.
//
//   - ForcedWhileMonitoring: both modes reset the backoff (OVS's rule); the
//     caller's ForceReconnect then starts a sweep of every remote, the left
//     one last.
//   - DroppedWhileMonitoring: OVS mode does nothing (the FSM backs off);
//     election-aware mode resets the backoff and connects now, so every
//     other remote is tried once at zero backoff, the dropped one last.
//   - ForcedNotMonitoring, Dropped: nothing (backoff holds, as in OVS). A
//     recovery in progress is unaffected: report its attempts with Attempt.
func (p *Policy) LeftServer(now time.Time, remote string, why Cause) Decision {
	switch why {
	case ForcedWhileMonitoring:
		p.begin(now, remote, why, true)
		p.rec.fast = p.cfg.Mode == ElectionAware
		return Decision{ResetBackoff: true}
	case DroppedWhileMonitoring:
		if p.cfg.Mode == OVS {
			p.begin(now, remote, why, false)
			return Decision{}
		}
		p.begin(now, remote, why, true)
		p.rec.fast = true
		return Decision{ResetBackoff: true, ConnectNow: true}
	}
	return Decision{}
}

func (p *Policy) begin(now time.Time, remote string, why Cause, sweep bool) {
	p.active = true
	p.rec = recovery{cause: why, from: remote, start: now, inSweep: -1}
	if sweep {
		p.rec.sweeps = 1
		p.rec.inSweep = 0
	} else {
		p.rec.backoff = true
	}
}

// Attempt reports a connection attempt to remote that ended with outcome
// (reached MONITORING is reported with Monitoring instead; an attempt that
// passed the leader check but failed before MONITORING is Protocol). Report
// every attempt exactly once. Outside a recovery it returns the zero
// Decision.
//
// In election-aware mode, a sweep (one attempt per remote after a reset)
// whose members all answered NotLeader (the member whose connection dropped
// may be Refused) means an election is under way: the Decision asks to be
// woken after a short growing delay, within Config.Budget and
// Config.MaxSweeps, and Run then starts another sweep. Any other outcome
// ends the re-sweeps for this recovery: the rest goes at the FSM's normal
// backoff. An attempt made while a re-sweep is pending (the session's own
// backoff fired first) also ends them.
func (p *Policy) Attempt(now time.Time, remote string, outcome Outcome) Decision {
	if !p.active {
		return Decision{}
	}
	r := &p.rec
	r.attempt++
	r.last = remote
	if r.waiting {
		r.waiting = false
		r.fast = false
		r.backoff = true
	}
	if r.inSweep < 0 {
		// Normal backoff: report "no usable server" once per remotes attempts.
		r.sinceLog++
		if r.sinceLog >= p.remotes {
			r.sinceLog = 0
			return p.noServer(now, Decision{})
		}
		return Decision{}
	}
	switch {
	case outcome == NotLeader:
		r.healthy = true
	case outcome == Refused && r.cause == DroppedWhileMonitoring && remote == r.from:
		// The server that just went away: expected, not a sick cluster.
	default:
		r.fast = false
	}
	r.inSweep++
	if r.inSweep < p.remotes {
		return Decision{}
	}
	// The sweep is over and nobody was usable.
	r.inSweep = -1
	if r.fast && r.healthy && r.resweeps < p.cfg.MaxSweeps {
		d := p.delay(r.resweeps)
		if now.Add(d).Sub(r.start) <= p.cfg.Budget {
			r.waiting = true
			r.wake = now.Add(d)
			return p.noServer(now, Decision{Wake: r.wake})
		}
	}
	r.fast = false
	r.backoff = true
	return p.noServer(now, Decision{})
}

func (p *Policy) noServer(now time.Time, d Decision) Decision {
	d.NoServer = true
	d.Log, d.Suppressed = p.limiter.Allow(now)
	return d
}

// delay returns the wait before re-sweep k (0-based), jittered.
func (p *Policy) delay(k int) time.Duration {
	d := p.nominalDelay(k)
	if j := p.cfg.Jitter; j > 0 {
		f := 1 + j*(2*p.cfg.Rand()-1)
		d = time.Duration(float64(d) * f)
	}
	return d
}

func (p *Policy) nominalDelay(k int) time.Duration {
	d := p.cfg.FirstDelay
	for range k {
		if d >= p.cfg.MaxDelay/2 {
			return p.cfg.MaxDelay
		}
		d *= 2
	}
	return min(d, p.cfg.MaxDelay)
}

// Deadline returns when Run must be called next, if a re-sweep is pending.
func (p *Policy) Deadline() (time.Time, bool) {
	if p.active && p.rec.waiting {
		return p.rec.wake, true
	}
	return time.Time{}, false
}

// Run returns what to do at now: when a pending re-sweep is due, reset the
// backoff and connect now, which tries every remote once at zero backoff.
// Before it is due, a Decision with only Wake set; with none pending, the
// zero Decision.
func (p *Policy) Run(now time.Time) Decision {
	if !p.active || !p.rec.waiting {
		return Decision{}
	}
	if now.Before(p.rec.wake) {
		return Decision{Wake: p.rec.wake}
	}
	r := &p.rec
	r.waiting = false
	r.resweeps++
	r.sweeps++
	r.inSweep = 0
	r.healthy = false
	return Decision{ResetBackoff: true, ConnectNow: true}
}

// Monitoring reports that the client reached MONITORING on remote. It ends
// the recovery in progress and returns it; ok is false when there was none
// (the first connection, say).
func (p *Policy) Monitoring(now time.Time, remote string) (rec Recovery, ok bool) {
	if !p.active {
		return Recovery{}, false
	}
	r := &p.rec
	p.active = false
	return Recovery{
		Cause:       r.cause,
		From:        r.from,
		Remote:      remote,
		Start:       r.start,
		Duration:    now.Sub(r.start),
		Attempts:    r.attempt + 1,
		Sweeps:      r.sweeps,
		BackoffUsed: r.backoff,
	}, true
}

// Sweeps returns the number of zero-backoff sweeps one leader change may
// start in the worst case: 1 in OVS mode; in election-aware mode 1 plus
// the re-sweeps whose earliest start (nominal delays shortened by the
// jitter, sweep durations taken as 0) fits in the budget, at most MaxSweeps.
func (p *Policy) Sweeps() int {
	if p.cfg.Mode == OVS {
		return 1
	}
	n := 1
	var t time.Duration
	for k := range p.cfg.MaxSweeps {
		t += time.Duration(float64(p.nominalDelay(k)) * (1 - p.cfg.Jitter))
		if t > p.cfg.Budget {
			break
		}
		n++
	}
	return n
}

// WorstCaseAttempts returns the most connection attempts one leader change
// can cost before normal backoff resumes: remotes × Sweeps(). Each sweep
// tries every remote exactly once. After that, attempts follow the reconnect
// FSM's backoff (1, 2, 4, 8, 8, ... s), the same in both modes.
func (p *Policy) WorstCaseAttempts() int { return p.remotes * p.Sweeps() }

// ElectionWindow returns how long after the first sweep ends the last
// re-sweep starts at the earliest: an election that makes a leader visible
// within this window is found without backoff (0 in OVS mode).
func (p *Policy) ElectionWindow() time.Duration {
	var t time.Duration
	for k := range p.Sweeps() - 1 {
		t += time.Duration(float64(p.nominalDelay(k)) * (1 - p.cfg.Jitter))
	}
	return t
}
