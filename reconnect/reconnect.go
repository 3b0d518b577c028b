package reconnect

import (
	"errors"
	"io"
	"math"
	"time"

	"github.com/go-logr/logr"
)

// Unlimited is the max-tries value that means "retry forever" (C's
// UINT_MAX). It is the default.
const Unlimited uint32 = math.MaxUint32

// FSM is the reconnect state machine of one connection (or one listener in
// passive mode). See the package documentation for the model.
//
// An FSM is not safe for concurrent use: the goroutine that owns the
// connection owns the FSM. The zero value is not usable; call [New].
type FSM struct {
	// Configuration.
	name          string
	minBackoff    time.Duration
	maxBackoff    time.Duration
	probeInterval time.Duration
	passive       bool
	quiet         bool
	log           logr.Logger

	// State.
	state            State
	stateEntered     time.Time
	backoff          time.Duration
	lastActivity     time.Time
	lastConnected    time.Time // valid if everConnected
	everConnected    bool
	lastDisconnected time.Time // valid if everDisconnected
	everDisconnected bool
	lastRecvAttempt  time.Time // valid unless recvGuardOff
	recvGuardOff     bool      // C: last_receive_attempt == LLONG_MAX
	maxTries         uint32
	freeTries        uint32

	// Statistics only.
	creationTime   time.Time
	nAttempted     uint64
	nSuccessful    uint64
	totalConnected time.Duration
	seqno          uint64
}

// New returns an FSM created at now, with the defaults of Open vSwitch:
// state [Void] (disabled), name "void", min and max backoff
// [DefaultMinBackoff] and [DefaultMaxBackoff], probe interval
// [DefaultProbeInterval], active (not passive) mode, [Unlimited] tries and no
// backoff-free tries. Call [FSM.Enable] to start it.
func New(now time.Time) *FSM {
	return &FSM{
		name:            "void",
		minBackoff:      DefaultMinBackoff,
		maxBackoff:      DefaultMaxBackoff,
		probeInterval:   DefaultProbeInterval,
		state:           Void,
		stateEntered:    now,
		lastActivity:    now,
		lastRecvAttempt: now,
		maxTries:        Unlimited,
		creationTime:    now,
	}
}

// SetLogger sets the logger. The zero Logger (the default) discards
// everything. Messages are constant; the FSM's name is logged under the key
// "name". Connections made, dropped or timed out by the probe log at V(0);
// attempts, failures and backoff waits at V(1); state entries and probes at
// V(2).
func (f *FSM) SetLogger(l logr.Logger) { f.log = l }

// SetQuiet moves the informational messages (V(0) and V(1)) to V(2), for
// connections expected to be short-lived (C: reconnect_set_quiet).
func (f *FSM) SetQuiet(quiet bool) { f.quiet = quiet }

// Name returns the name used in log messages.
func (f *FSM) Name() string { return f.name }

// SetName sets the name used in log messages. An empty name means "void",
// as a NULL name does in C.
func (f *FSM) SetName(name string) {
	if name == "" {
		name = "void"
	}
	f.name = name
}

// MinBackoff returns the minimum backoff between attempts.
func (f *FSM) MinBackoff() time.Duration { return f.minBackoff }

// MaxBackoff returns the maximum backoff between attempts.
func (f *FSM) MaxBackoff() time.Duration { return f.maxBackoff }

// SetBackoff sets the minimum and maximum backoff, clamped exactly as C's
// reconnect_set_backoff: the minimum is at least 1 s; the maximum is at
// least 1 s, or [DefaultMaxBackoff] when maxBackoff is 0; a maximum below the
// minimum is raised to it. Values are truncated to whole milliseconds.
//
// In [Backoff], a current backoff larger than the max argument is lowered
// to the maxBackoff argument as given, before the defaulting: so SetBackoff(x, 0)
// while backing off makes the next attempt due at once, as in C. (A negative
// argument lowers it to 0, where C would store the negative number.)
func (f *FSM) SetBackoff(minBackoff, maxBackoff time.Duration) {
	f.minBackoff, f.maxBackoff = clampBackoff(minBackoff, maxBackoff)
	if maxBackoff = truncMillis(maxBackoff); f.state == Backoff && f.backoff > maxBackoff {
		f.backoff = max(maxBackoff, 0)
	}
}

// ProbeInterval returns the inactivity probe interval; 0 means no probes.
func (f *FSM) ProbeInterval() time.Duration { return f.probeInterval }

// SetProbeInterval sets the inactivity probe interval. 0 disables probing;
// any other value is raised to at least 1 s. The value is truncated to whole
// milliseconds.
func (f *FSM) SetProbeInterval(d time.Duration) { f.probeInterval = clampProbeInterval(d) }

// BackoffFreeTries returns the number of backoff-free tries left.
func (f *FSM) BackoffFreeTries() uint32 { return f.freeTries }

// SetBackoffFreeTries sets how many connection attempts are made without
// backoff. Each disconnection (a failed attempt, a dropped connection, a
// forced disconnect) spends one while more than one is left, and backs off
// 0 instead of the normal backoff; so n free tries give n-1 immediate
// retries, and 0 and 1 both mean none.
func (f *FSM) SetBackoffFreeTries(n uint32) { f.freeTries = n }

// MaxTries returns the number of connection attempts left, [Unlimited] when
// there is no limit.
func (f *FSM) MaxTries() uint32 { return f.maxTries }

// SetMaxTries limits the number of attempts. Enable and every disconnection
// that would retry spend one; when none is left the FSM goes to [Void]
// instead of backing off. [Unlimited] (the default) never runs out.
func (f *FSM) SetMaxTries(n uint32) { f.maxTries = n }

// IsPassive reports whether the FSM is in passive (listening) mode.
func (f *FSM) IsPassive() bool { return f.passive }

// SetPassive switches between active mode (the default: the caller
// connects to a peer) and passive mode (the caller listens for a peer; the
// [Connect] action then means "listen"). Switching to passive in
// [Connecting] or [Reconnect] moves to [Backoff] with no backoff; switching
// to active in [Listening] does the same if a try is left.
func (f *FSM) SetPassive(passive bool, now time.Time) {
	if f.passive == passive {
		return
	}
	f.passive = passive
	var restart bool
	if passive {
		restart = f.state == Connecting || f.state == Reconnect
	} else {
		restart = f.state == Listening && f.mayRetry()
	}
	if restart {
		f.transition(now, Backoff)
		f.backoff = 0
	}
}

// IsEnabled reports whether the FSM is enabled, that is not in [Void].
func (f *FSM) IsEnabled() bool { return f.state != Void }

// Enable moves a disabled FSM to [Backoff] with no backoff, so that the next
// Run returns [Connect]. It spends a try, and does nothing if none is left
// or if the FSM is already enabled.
func (f *FSM) Enable(now time.Time) {
	if f.state == Void && f.mayRetry() {
		f.transition(now, Backoff)
		f.backoff = 0
	}
}

// Disable moves the FSM to [Void], where Run always returns [None]. It
// records no disconnection time.
func (f *FSM) Disable(now time.Time) {
	if f.state != Void {
		f.transition(now, Void)
	}
}

// ForceReconnect moves a connected or connecting FSM ([Connecting],
// [Active], [Idle]) to [Reconnect], so that Run returns [Disconnect]. In any
// other state it does nothing.
//
// The backoff is kept: the disconnection that follows is counted as a failed
// attempt, never as the end of a healthy connection, so the backoff grows.
// Give the FSM backoff-free tries first to reconnect at once.
// Activity does not cancel a forced reconnect.
func (f *FSM) ForceReconnect(now time.Time) {
	switch f.state {
	case Connecting, Active, Idle:
		f.transition(now, Reconnect)
	}
}

// Disconnected reports that the connection dropped, or that an attempt (or
// listen) failed; err is the reason (nil for none, io.EOF for a close by
// the peer). It is ignored in [Backoff] and [Void].
//
// Otherwise: a disconnection from [Active] or [Idle] is recorded; if no try
// is left the FSM goes to [Void] with its backoff unchanged; else it picks
// the next backoff (a free try gives 0; after a connection whose activity
// lasted at least the current backoff it restarts at the minimum, or 0 in
// passive mode; otherwise the minimum, doubled, up to the maximum) and goes
// to [Backoff].
func (f *FSM) Disconnected(now time.Time, err error) {
	if f.state == Backoff || f.state == Void {
		return
	}
	f.logDisconnect(err)

	wasConnected := f.state.IsConnected()
	if wasConnected {
		f.lastDisconnected = now
		f.everDisconnected = true
	}

	if !f.mayRetry() {
		f.transition(now, Void)
		return
	}

	next, free, step := nextBackoff(f.backoff, f.minBackoff, f.maxBackoff, f.freeTries,
		wasConnected, f.passive, f.lastActivity.Sub(f.lastConnected))
	switch step {
	case stepDouble:
		if f.passive {
			f.info(1, "waiting before trying to listen again", "backoff", next)
		} else {
			f.info(1, "waiting before reconnect", "backoff", next)
		}
	case stepMax:
		if f.backoff < f.maxBackoff {
			if f.passive {
				f.info(1, "continuing to try to listen in the background but suppressing further logging", "backoff", next)
			} else {
				f.info(1, "continuing to reconnect in the background but suppressing further logging", "backoff", next)
			}
		}
	}
	f.backoff, f.freeTries = next, free
	f.transition(now, Backoff)
}

// logDisconnect logs why the connection or attempt ended, as C does.
func (f *FSM) logDisconnect(err error) {
	eof := errors.Is(err, io.EOF)
	switch {
	case f.state.IsConnected():
		switch {
		case err != nil && !eof:
			f.info(0, "connection dropped", "err", err)
		case eof:
			f.info(0, "connection closed by peer")
		default:
			f.info(0, "connection dropped")
		}
	case f.state == Listening:
		if err != nil {
			f.info(0, "error listening for connections", "err", err)
		} else {
			f.info(0, "error listening for connections")
		}
	case f.backoff < f.maxBackoff:
		// At the maximum backoff C stops logging failed attempts.
		msgFailed, msgTimeout := "connection attempt failed", "connection attempt timed out"
		if f.passive {
			msgFailed, msgTimeout = "listen attempt failed", "listen attempt timed out"
		}
		if err != nil && !eof {
			f.info(1, msgFailed, "err", err)
		} else {
			f.info(1, msgTimeout)
		}
	}
}

// Connecting reports that a connection (or listen) attempt is in progress.
// The FSM moves to [Connecting]; Run returns [Disconnect] if the attempt
// takes longer than max(1 s, backoff).
func (f *FSM) Connecting(now time.Time) {
	if f.state == Connecting {
		return
	}
	if f.passive {
		f.info(1, "listening...")
	} else if f.backoff < f.maxBackoff {
		f.info(1, "connecting...")
	}
	f.transition(now, Connecting)
}

// Listening reports that the caller is listening for a peer (passive
// mode). [Listening] has no deadline; report the accepted connection with
// Connected, or a failure with ListenError.
func (f *FSM) Listening(now time.Time) {
	if f.state != Listening {
		f.info(1, "listening...")
		f.transition(now, Listening)
	}
}

// ListenError reports that listening failed (for example accept returned an
// unexpected error). In [Listening] it acts as Disconnected; in any other
// state it is ignored.
func (f *FSM) ListenError(now time.Time, err error) {
	if f.state == Listening {
		f.Disconnected(now, err)
	}
}

// Connected reports that a connection is established. From any state that
// is not connected, the FSM passes through [Connecting] (so this counts as an
// attempt) to [Active], and records now as the connection time. It does
// nothing in [Active] or [Idle].
func (f *FSM) Connected(now time.Time) {
	if f.state.IsConnected() {
		return
	}
	f.Connecting(now)
	f.info(0, "connected")
	f.transition(now, Active)
	f.lastConnected = now
	f.everConnected = true
}

// ConnectFailed reports that a connection attempt failed: Connecting, then
// Disconnected.
func (f *FSM) ConnectFailed(now time.Time, err error) {
	f.Connecting(now)
	f.Disconnected(now, err)
}

// Activity reports that the peer was heard from (or that queued output
// drained). It resets the probe timer and moves [Idle] back to [Active]. In
// any other state it only records the time: in particular it never cancels
// a forced [Reconnect] (OVS commit 23b16a03f; OVS's Python port lacks this).
func (f *FSM) Activity(now time.Time) {
	if f.state == Idle {
		f.transition(now, Active)
	}
	f.lastActivity = now
}

// ReceiveAttempted reports that the caller tried to receive at now. A probe
// deadline that has passed fires only once a receive attempt was made at or
// after it; until then Timeout asks to be woken 1 ms later. This stops a
// long pause in the caller's loop from looking like a silent peer.
func (f *FSM) ReceiveAttempted(now time.Time) {
	f.lastRecvAttempt = now
	f.recvGuardOff = false
}

// ReceiveAttemptedNever turns the receive-attempted guard off, so probe
// deadlines fire as soon as they pass (C: reconnect_receive_attempted with
// LLONG_MAX). A later ReceiveAttempted turns it back on.
func (f *FSM) ReceiveAttemptedNever() {
	f.recvGuardOff = true
}

// Deadline returns when Run should next be called if nothing else happens;
// ok is false when there is no deadline ([Void], [Listening], or connected
// with probes off). The deadline may already have passed.
func (f *FSM) Deadline(now time.Time) (deadline time.Time, ok bool) {
	switch f.state {
	case Backoff:
		return f.stateEntered.Add(f.backoff), true
	case Connecting:
		return f.stateEntered.Add(max(connectTimeoutMin, f.backoff)), true
	case Active, Idle:
		if f.probeInterval == 0 {
			return time.Time{}, false
		}
		base := f.stateEntered
		if f.state == Active && f.lastActivity.After(base) {
			base = f.lastActivity
		}
		expiry := base.Add(f.probeInterval)
		if now.Before(expiry) || f.recvGuardOff || !f.lastRecvAttempt.Before(expiry) {
			return expiry, true
		}
		// Expired, but nobody has tried to receive since: wake up soon so
		// the caller can try, and fire only after that.
		return now.Add(time.Millisecond), true
	case Reconnect:
		return f.stateEntered, true
	default: // Void, Listening
		return time.Time{}, false
	}
}

// Timeout returns how long after now Run should be called if nothing else
// happens (0 when due already); ok is false when there is no deadline.
func (f *FSM) Timeout(now time.Time) (d time.Duration, ok bool) {
	deadline, ok := f.Deadline(now)
	if !ok {
		return 0, false
	}
	return max(deadline.Sub(now), 0), true
}

// Run returns what the caller should do now. It returns [None] until the
// deadline; then [Connect] in [Backoff], [Disconnect] in [Connecting],
// [Idle] and [Reconnect], and [Probe] in [Active] (moving to [Idle]). Apart
// from that move, Run changes no state, so it repeats its answer until the
// caller reports what it did.
func (f *FSM) Run(now time.Time) Action {
	deadline, ok := f.Deadline(now)
	if !ok || now.Before(deadline) {
		return None
	}
	switch f.state {
	case Backoff:
		return Connect
	case Connecting:
		return Disconnect
	case Active:
		base := f.stateEntered
		if f.lastActivity.After(base) {
			base = f.lastActivity
		}
		f.debug("sending inactivity probe", "idle", now.Sub(base))
		f.transition(now, Idle)
		return Probe
	case Idle:
		f.info(0, "no response to inactivity probe, disconnecting", "idle", now.Sub(f.stateEntered))
		return Disconnect
	case Reconnect:
		return Disconnect
	default:
		return None
	}
}

// State returns the current state.
func (f *FSM) State() State { return f.state }

// IsConnected reports whether the FSM is connected ([Active] or [Idle]).
func (f *FSM) IsConnected() bool { return f.state.IsConnected() }

// LastConnected returns when the FSM last connected; ok is false if it
// never has.
func (f *FSM) LastConnected() (t time.Time, ok bool) {
	return f.lastConnected, f.everConnected
}

// LastDisconnected returns when a connection was last lost (a disconnection
// from [Active] or [Idle]); ok is false if that never happened.
func (f *FSM) LastDisconnected() (t time.Time, ok bool) {
	return f.lastDisconnected, f.everDisconnected
}

// Seqno returns a number that grows by one every time the FSM moves
// between connected and not connected.
func (f *FSM) Seqno() uint64 { return f.seqno }

// mayRetry reports whether a try is left, spending it if the number is
// finite.
func (f *FSM) mayRetry() bool {
	if f.maxTries == 0 {
		return false
	}
	if f.maxTries != Unlimited {
		f.maxTries--
	}
	return true
}

// transition enters state s at now, keeping the statistics. Every state
// change goes through here.
func (f *FSM) transition(now time.Time, s State) {
	if f.state == Connecting {
		f.nAttempted++
		if s == Active {
			f.nSuccessful++
		}
	}
	if was := f.state.IsConnected(); was != s.IsConnected() {
		if was {
			f.totalConnected += now.Sub(f.lastConnected)
		}
		f.seqno++
	}
	f.debug("entering state", "from", f.state, "to", s)
	f.state = s
	f.stateEntered = now
}

// info logs an informational message at V(v), or at V(2) when quiet.
func (f *FSM) info(v int, msg string, kv ...any) {
	if f.quiet {
		v = 2
	}
	if l := f.log.V(v); l.Enabled() {
		l.Info(msg, append([]any{"name", f.name}, kv...)...)
	}
}

// debug logs a detail message at V(2).
func (f *FSM) debug(msg string, kv ...any) {
	if l := f.log.V(2); l.Enabled() {
		l.Info(msg, append([]any{"name", f.name}, kv...)...)
	}
}
