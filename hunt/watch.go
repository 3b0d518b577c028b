package hunt

import (
	"time"

	"github.com/ovsdbcs/ovsdbcs/failover"
)

// Cause says why a recovery started.
type Cause uint8

const (
	// Initial: the first connection; there was no leader yet.
	Initial Cause = iota + 1
	// Dropped: the data connection ended at the transport level (EOF,
	// reset): a crash, a graceful exit, a network cut.
	Dropped
	// ProbeFailed: the data connection's inactivity probe failed (the
	// leader answered nothing for two probe intervals).
	ProbeFailed
	// NotLeader: the leader's own _Server row says it is not the leader
	// any more (a transfer, a lost majority). Its connection is healthy:
	// it becomes that member's watcher (ActionDemote).
	NotLeader
	// Forced: the client left the leader for another reason (stale data,
	// an inconsistency, the user's ForceReconnect).
	Forced
	// Frozen: the leader was suspect (an echo unanswered for the
	// suspicion window) and another member reported leader=true first.
	Frozen
)

var causeNames = [...]string{
	Initial: "initial", Dropped: "dropped", ProbeFailed: "probe-failed",
	NotLeader: "not-leader", Forced: "forced", Frozen: "frozen",
}

// String returns a short stable name for logs.
func (c Cause) String() string { return nameOf(causeNames[:], c, "cause") }

// Found says how the new leader was found.
type Found uint8

const (
	// FoundInFirstReply: the watcher's first _Server row already said
	// leader (the election was over when it connected).
	FoundInFirstReply Found = iota + 1
	// FoundByUpdate: a watcher's member reported leader=true in an update
	// pushed while the client watched it.
	FoundByUpdate
)

var foundNames = [...]string{FoundInFirstReply: "first-reply", FoundByUpdate: "update"}

// String returns "first-reply" or "update".
func (f Found) String() string { return nameOf(foundNames[:], f, "found") }

// nameOf returns names[v], or "kind(?)" for a value without a name.
func nameOf[T ~uint8](names []string, v T, kind string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return kind + "(?)"
}

// Kind is the kind of an Action.
type Kind uint8

const (
	// ActionOpen: connect to Member and monitor only its
	// _Server.Database (get_schema of _Server, monitor_cond); report its
	// rows with Report, its failure with Failed. If no row is reported by
	// Deadline, Tick counts it as hung.
	ActionOpen Kind = iota + 1
	// ActionClose: close Member's watcher (or promoted connection).
	ActionClose
	// ActionPromote: carry on on Member's watcher: monitor the data
	// database on that connection (monitor_cond_since with the last
	// transaction id), then report Monitoring, or Failed.
	ActionPromote
	// ActionDemote: the data connection to Member stays open as Member's
	// watcher; stop (or ignore) the data monitor on it and keep reporting
	// its _Server rows.
	ActionDemote
	// ActionLeave: close the data connection to Member (a frozen leader
	// left for the member that reported leader=true).
	ActionLeave
	// ActionEcho: send an echo request on the data connection (the Watch
	// counts it as sent; report any answer, or any other message, with
	// Heard).
	ActionEcho
)

var kindNames = [...]string{
	ActionOpen: "open", ActionClose: "close", ActionPromote: "promote",
	ActionDemote: "demote", ActionLeave: "leave", ActionEcho: "echo",
}

// String returns the action's name ("open", "close", ...).
func (k Kind) String() string { return nameOf(kindNames[:], k, "kind") }

// Action is one thing the driver does, in order.
type Action struct {
	Kind   Kind
	Member int
	// Deadline, for ActionOpen: when the watcher counts as hung.
	Deadline time.Time
}

// Step is the answer to one input: the actions to carry out in order, a
// "no usable server" report, and the recovery that ended, if any.
type Step struct {
	Actions []Action
	// NoServer: every member failed and none is being watched; Log says
	// to log it now (false when rate-limited) and Suppressed how many
	// such reports were not logged before this one.
	NoServer   bool
	Log        bool
	Suppressed int
	// Rejected, for Report: the member's row was Unusable and this is its
	// first rejection in this recovery: tell the user (its later
	// rejections in the same recovery are only backed off, so a member
	// that can never serve is reported once per outage, not once per
	// attempt).
	Rejected bool
	// Recovery is set by Monitoring when it ends a recovery.
	Recovery *Recovery
}

// Recovery is the one record of one recovery, from the loss of the leader
// (or the start) to MONITORING on a leader.
type Recovery struct {
	Cause Cause
	// From is the member that was left (-1 for Initial), To the new
	// leader's.
	From, To int
	// Start is when the recovery started: the loss of the leader; for
	// Frozen and ProbeFailed, the last time the leader was heard from.
	Start    time.Time
	Duration time.Duration
	// Attempts counts connections opened (watchers), all members.
	Attempts int
	// Watchers counts the members that reported a usable row (the demoted
	// data connection included).
	Watchers int
	// Found says how the leader was found.
	Found Found
	// Suspected: the leader was suspect (an unanswered echo) before it
	// was lost.
	Suspected bool
	// BackedOff counts the failures that backed a member off.
	BackedOff int
	// BackoffUsed: the new leader's member had been backed off during
	// this recovery (the recovery waited for a backoff).
	BackoffUsed bool
}

type state uint8

const (
	idle     state = iota // no connection
	opening               // watcher opened, no row yet
	watching              // watcher reported a Waiting row
	backoff               // failed; closed until deadline
	promoted              // chosen; data monitor being set up on it
	data                  // the data connection
)

type member struct {
	st       state
	deadline time.Time // opening: hung after; backoff: may reopen at
	fails    int       // consecutive failures
	backed   bool      // backed off during the current recovery
	rejected bool      // its rejection was reported in this recovery
}

type phase uint8

const (
	stopped    phase = iota // before Start
	monitoring              // on the leader
	suspicious              // on the leader, watching the others
	hunting                 // no leader
	promoting               // a leader chosen, not MONITORING yet
)

// Watch decides how a leader-only client finds the leader: which members
// to watch, when to promote a watcher, when to back a member off, and when
// a silent leader is suspect. It does no I/O, reads no clock and starts no
// goroutine: every input carries the time, and the answer is a Step. It is
// not safe for concurrent use.
type Watch struct {
	cfg     Config
	members []member
	limiter *failover.LogLimiter

	ph        phase
	leader    int // the data member (monitoring, suspicious), or the promoted one
	lastHeard time.Time
	echoOut   bool
	echoAt    time.Time

	active bool // a recovery is under way
	rec    Recovery

	// The Step being built.
	steps             []Action
	pendingNoServer   bool
	pendingLog        bool
	pendingSuppressed int
	pendingRejected   bool

	falseSuspicions int
}

// New returns a Watch over n members (at least 1), numbered from 0.
func New(cfg Config, n int) *Watch {
	cfg = cfg.withDefaults()
	if n < 1 {
		n = 1
	}
	return &Watch{cfg: cfg, members: make([]member, n), leader: -1,
		limiter: failover.NewLogLimiter(cfg.LogBurst, cfg.LogInterval)}
}

// Config returns the configuration with its defaults filled in.
func (w *Watch) Config() Config { return w.cfg }

// Members returns the number of members.
func (w *Watch) Members() int { return len(w.members) }

// Recovering reports whether a recovery is under way.
func (w *Watch) Recovering() bool { return w.active }

// FalseSuspicions counts the times the leader was suspect and then
// answered.
func (w *Watch) FalseSuspicions() int { return w.falseSuspicions }

// MemberBackoff returns the backoff a member gets after its k-th
// consecutive failure (k ≥ 1): R × min(MinBackoff·2^k, MaxBackoff).
func (w *Watch) MemberBackoff(k int) time.Duration {
	d := w.cfg.MinBackoff
	for range k {
		if d >= w.cfg.MaxBackoff {
			break
		}
		d *= 2
	}
	return time.Duration(len(w.members)) * min(d, w.cfg.MaxBackoff)
}

// Start begins the first recovery: no leader yet, watch every member.
func (w *Watch) Start(now time.Time) Step {
	if w.ph != stopped {
		return Step{}
	}
	w.begin(now, Initial, -1)
	w.openAll(now)
	return w.step()
}

// Lost reports that the client lost the leader it was MONITORING (member m)
// for cause: Dropped and ProbeFailed (its connection is gone), NotLeader
// (its connection is healthy: it is demoted to a watcher) or Forced (the
// client leaves it: ActionLeave, then it is watched again). Every other
// member not backed off is watched; members already watched (the leader
// was suspect) stay as they are.
func (w *Watch) Lost(now time.Time, m int, cause Cause) Step {
	if !w.valid(m) || (w.ph != monitoring && w.ph != suspicious) || w.leader != m {
		return Step{}
	}
	suspected := w.ph == suspicious
	start := now
	if cause == ProbeFailed || suspected {
		start = w.lastHeard
	}
	w.begin(start, cause, m)
	w.rec.Suspected = suspected
	mb := &w.members[m]
	switch cause {
	case NotLeader:
		mb.st = watching
		w.rec.Watchers++
		w.act(ActionDemote, m)
	case Forced:
		mb.st = idle
		w.act(ActionLeave, m)
	default:
		mb.st = idle
	}
	w.openAll(now)
	return w.step()
}

// SetMembers replaces the members after a change of the remote list:
// prev[i] is the number that new member i had before, or -1 for a member
// added (prev must not be empty; a number listed twice counts once).
// Members keep their state (watcher, backoff, failures) under their new
// numbers; the Actions of this and every later Step use the new numbers.
//
// A member left out of prev is removed: the caller closes its watcher or
// promoted connection itself, under the old number, and never hands its
// connection over. A promoted member removed resumes the hunt. The data
// connection to a removed member is left by the caller, as its session
// does when its remote is no longer listed (no ActionLeave): that is a
// loss (cause Forced, From -1) and the hunt starts. A member added is
// watched at once while the client has no leader or suspects it, else
// from the next recovery.
func (w *Watch) SetMembers(now time.Time, prev []int) Step {
	if len(prev) == 0 {
		return Step{}
	}
	old := w.members
	members := make([]member, len(prev))
	taken := make([]bool, len(old))
	leader, from := -1, -1
	for i, p := range prev {
		if p < 0 || p >= len(old) || taken[p] {
			continue
		}
		taken[p] = true
		members[i] = old[p]
		if p == w.leader {
			leader = i
		}
		if p == w.rec.From {
			from = i
		}
	}
	w.rec.From = from
	lost := w.leader >= 0 && leader < 0
	w.members, w.leader = members, leader
	switch {
	case w.ph == stopped:
		return Step{}
	case lost && (w.ph == monitoring || w.ph == suspicious):
		suspected := w.ph == suspicious
		start := now
		if suspected {
			start = w.lastHeard
		}
		w.begin(start, Forced, -1)
		w.rec.From = -1 // no longer a member
		w.rec.Suspected = suspected
	case lost && w.ph == promoting:
		w.ph = hunting
	}
	if w.ph == hunting || w.ph == suspicious {
		w.openAll(now)
	}
	w.noServer(now)
	return w.step()
}

// Report gives the verdict on a _Server.Database row that member m's
// watcher (or promoted connection) received: its first reply, or an
// update. A Leader verdict while the client has no leader (or suspects
// its leader) promotes m at once: ActionPromote, after closing every other
// watcher (and leaving a suspect leader).
func (w *Watch) Report(now time.Time, m int, v Verdict) Step {
	if !w.valid(m) {
		return Step{}
	}
	mb := &w.members[m]
	switch mb.st {
	case opening, watching:
		first := mb.st == opening
		if v == Unusable {
			w.pendingRejected = !mb.rejected
			mb.rejected = true
			w.fail(now, m)
			w.noServer(now)
			return w.step()
		}
		mb.fails = 0
		if first {
			w.rec.Watchers++
		}
		mb.st, mb.deadline = watching, time.Time{}
		if v == Leader {
			found := FoundByUpdate
			if first {
				found = FoundInFirstReply
			}
			w.promote(now, m, found)
		}
	case promoted:
		switch v {
		case Waiting:
			// It stepped down before MONITORING: watch it again.
			mb.st = watching
			w.ph = hunting
			w.leader = -1
			w.act(ActionDemote, m)
			w.openAll(now)
		case Unusable:
			w.fail(now, m)
			w.ph = hunting
			w.leader = -1
			w.openAll(now)
		}
	}
	w.noServer(now)
	return w.step()
}

// Failed reports that member m's watcher (or promoted connection) failed:
// refused, hung, garbage, an error reply, or dropped. The member is closed
// and backed off (Config.MinBackoff); a promoted member's failure resumes
// the hunt.
func (w *Watch) Failed(now time.Time, m int, _ Outcome) Step {
	if !w.valid(m) {
		return Step{}
	}
	switch w.members[m].st {
	case opening, watching:
		w.fail(now, m)
	case promoted:
		w.fail(now, m)
		w.ph = hunting
		w.leader = -1
		w.openAll(now)
	default:
		return Step{}
	}
	w.noServer(now)
	return w.step()
}

// Monitoring reports that the promoted member m is MONITORING: the
// recovery ends (Step.Recovery) and every other watcher is closed.
func (w *Watch) Monitoring(now time.Time, m int) Step {
	if !w.valid(m) || w.ph != promoting || w.leader != m {
		return Step{}
	}
	w.members[m].st = data
	w.members[m].fails = 0
	w.closeWatchers(m)
	w.ph = monitoring
	w.lastHeard, w.echoOut = now, false
	rec := w.rec
	rec.To = m
	rec.Duration = now.Sub(rec.Start)
	rec.BackoffUsed = w.members[m].backed
	w.active = false
	s := w.step()
	s.Recovery = &rec
	return s
}

// Heard reports that the leader sent something on the data connection (a
// reply, an update, an echo). A suspect leader is trusted again: the
// watchers opened for it are closed.
func (w *Watch) Heard(now time.Time) Step {
	switch w.ph {
	case monitoring:
	case suspicious:
		w.falseSuspicions++
		w.closeWatchers(w.leader)
		w.ph = monitoring
		w.active = false
	default:
		return Step{}
	}
	w.lastHeard, w.echoOut = now, false
	return w.step()
}

// EchoSent reports an echo request the driver sent on the data connection
// on its own (its inactivity probe). Its answer is awaited like the
// Watch's own echoes.
func (w *Watch) EchoSent(now time.Time) {
	if w.ph == monitoring && !w.echoOut {
		w.echoOut, w.echoAt = true, now
	}
}

// Next returns when Tick must be called next, if ever.
func (w *Watch) Next() (time.Time, bool) {
	var t time.Time
	take := func(x time.Time) {
		if !x.IsZero() && (t.IsZero() || x.Before(t)) {
			t = x
		}
	}
	switch w.ph {
	case monitoring:
		if w.echoOut {
			take(w.echoAt.Add(w.cfg.Suspicion))
		} else if w.cfg.Idle > 0 {
			take(w.lastHeard.Add(w.cfg.Idle))
		}
	case stopped:
		return t, false
	}
	reopen := w.ph == hunting || w.ph == suspicious
	for i := range w.members {
		mb := &w.members[i]
		if mb.st == opening || mb.st == promoted || (mb.st == backoff && reopen) {
			take(mb.deadline)
		}
	}
	return t, !t.IsZero()
}

// Tick runs the timers due at now: a watcher without a row by its deadline
// is hung (closed, backed off); a member whose backoff ended is watched
// again while the client has no leader; a silent leader is sent an echo
// (ActionEcho) and, if the echo stays unanswered for the suspicion window,
// the other members are watched.
func (w *Watch) Tick(now time.Time) Step {
	if w.ph == stopped {
		return Step{}
	}
	if w.ph == monitoring {
		switch {
		case w.echoOut && !now.Before(w.echoAt.Add(w.cfg.Suspicion)):
			w.suspect(now)
		case !w.echoOut && w.cfg.Idle > 0 && !now.Before(w.lastHeard.Add(w.cfg.Idle)):
			w.echoOut, w.echoAt = true, now
			w.act(ActionEcho, w.leader)
		}
	}
	failed := false
	for i := range w.members {
		mb := &w.members[i]
		if (mb.st == opening || mb.st == promoted) && !now.Before(mb.deadline) {
			if mb.st == promoted {
				w.ph = hunting
				w.leader = -1
			}
			w.fail(now, i)
			failed = true
		}
	}
	if w.ph == hunting || w.ph == suspicious {
		w.openAll(now)
	}
	if failed {
		w.noServer(now)
	}
	return w.step()
}

// suspect starts the watch of the other members while staying on the
// leader.
func (w *Watch) suspect(now time.Time) {
	w.begin(w.lastHeard, Frozen, w.leader)
	w.ph = suspicious
	w.rec.Suspected = true
	w.openAll(now)
}

func (w *Watch) begin(start time.Time, cause Cause, from int) {
	if w.active && w.ph == suspicious {
		// The suspicion becomes a loss: keep its counts and start.
		w.rec.Cause = cause
		w.ph = hunting
		w.leader = -1
		return
	}
	w.active = true
	w.rec = Recovery{Cause: cause, From: from, To: -1, Start: start}
	for i := range w.members {
		// Every member is tried once more at the start of a recovery (one
		// that came back since is seen at once); its failure count, the
		// length of its next backoff, is kept.
		mb := &w.members[i]
		mb.backed, mb.rejected = false, false
		if mb.st == backoff {
			mb.st = idle
		}
	}
	w.ph = hunting
	w.leader = -1
	if cause == Frozen {
		w.leader = from
	}
}

// openAll opens a watcher to every member with no connection and no
// pending backoff.
func (w *Watch) openAll(now time.Time) {
	for i := range w.members {
		mb := &w.members[i]
		if mb.st == backoff && !now.Before(mb.deadline) {
			mb.st = idle
		}
		if mb.st != idle {
			continue
		}
		mb.st = opening
		mb.deadline = now.Add(w.cfg.AttemptTimeout)
		w.rec.Attempts++
		w.steps = append(w.steps, Action{Kind: ActionOpen, Member: i, Deadline: mb.deadline})
	}
}

// fail closes member m and backs it off.
func (w *Watch) fail(now time.Time, m int) {
	mb := &w.members[m]
	w.act(ActionClose, m)
	mb.fails++
	mb.st = backoff
	mb.deadline = now.Add(w.MemberBackoff(mb.fails))
	mb.backed = true
	w.rec.BackedOff++
}

// promote chooses member m.
func (w *Watch) promote(now time.Time, m int, found Found) {
	if w.ph == suspicious {
		old := w.leader
		w.members[old].st = idle
		w.act(ActionLeave, old)
		w.rec.Cause = Frozen
	}
	w.closeWatchers(m)
	w.members[m].st = promoted
	w.members[m].deadline = now.Add(w.cfg.AttemptTimeout)
	w.rec.Found = found
	w.ph = promoting
	w.leader = m
	w.act(ActionPromote, m)
}

// closeWatchers closes every watcher but keep's.
func (w *Watch) closeWatchers(keep int) {
	for i := range w.members {
		if i == keep {
			continue
		}
		if st := w.members[i].st; st == opening || st == watching {
			w.members[i].st = idle
			w.act(ActionClose, i)
		}
	}
}

// noServer reports "no usable server" when, with no leader, no member is
// being watched or promoted.
func (w *Watch) noServer(now time.Time) {
	if w.ph != hunting {
		return
	}
	for i := range w.members {
		switch w.members[i].st {
		case opening, watching, promoted:
			return
		}
	}
	w.pendingNoServer = true
	w.pendingLog, w.pendingSuppressed = w.limiter.Allow(now)
}

func (w *Watch) act(k Kind, m int) { w.steps = append(w.steps, Action{Kind: k, Member: m}) }

func (w *Watch) step() Step {
	s := Step{Actions: w.steps, NoServer: w.pendingNoServer, Log: w.pendingLog,
		Suppressed: w.pendingSuppressed, Rejected: w.pendingRejected}
	w.steps = nil
	w.pendingNoServer, w.pendingLog, w.pendingSuppressed, w.pendingRejected = false, false, 0, false
	return s
}

func (w *Watch) valid(m int) bool { return m >= 0 && m < len(w.members) }
