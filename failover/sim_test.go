package failover_test

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/reconnect"
)

// This file holds a small discrete-event simulation: a cluster of members
// whose role changes over fake time, and a session that does what
// jsonrpc.Session does with the real reconnect FSM (round-robin remotes,
// free tries, backoff, ResetBackoff, ConnectNow), driven by a Policy the way
// the cs layer drives it.

// role is what a member does with a connection attempt.
type role uint8

const (
	follower role = iota // connects; the _Server check says "not leader"
	isLeader             // connects; passes the check
	refusing             // connection refused
	hanging              // the attempt never completes
	garbage              // connects, then answers garbage
)

// member is one cluster member; roleAt gives its role at t after t0.
type member struct {
	name   string
	roleAt func(t time.Duration) role
}

func always(r role) func(time.Duration) role { return func(time.Duration) role { return r } }

// leaderAfter: a follower until d, then the leader.
func leaderAfter(d time.Duration) func(time.Duration) role {
	return func(t time.Duration) role {
		if t >= d {
			return isLeader
		}
		return follower
	}
}

// attemptRec is one connection attempt seen by the simulation.
type attemptRec struct {
	at     time.Duration // start, after t0
	remote string
}

var errGarbage = errors.New("garbage")

type sim struct {
	t       *testing.T
	t0, now time.Time
	rtt     time.Duration // connect + _Server check on a loopback member
	members []member
	pol     *failover.Policy
	fsm     *reconnect.FSM

	next      int // remote of the next attempt
	cur       int // remote of the attempt or connection; -1: none
	pending   bool
	doneAt    time.Time // when the pending attempt completes; zero: never
	connected bool

	lastEnd    time.Time // when the last attempt (or connection) ended
	fast       int       // attempts that started less than the minimum backoff after lastEnd
	attempts   []attemptRec
	recoveries []failover.Recovery
	noServer   int // NoServer reports
	logged     int // of which logged
	suppressed int // sum of Suppressed over logged reports
}

// newSim starts with the client MONITORING members[0] since 10 s before t0.
func newSim(t *testing.T, cfg failover.Config, rtt time.Duration, members ...member) *sim {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	start := t0.Add(-10 * time.Second)
	fsm := reconnect.New(start)
	fsm.SetProbeInterval(0)
	fsm.Enable(start)
	if a := fsm.Run(start); a != reconnect.Connect {
		t.Fatalf("run at start = %v", a)
	}
	fsm.Connecting(start)
	fsm.Connected(start)
	fsm.Activity(t0.Add(-time.Millisecond))
	return &sim{
		t: t, t0: t0, now: t0, rtt: rtt, members: members,
		pol: failover.New(cfg, len(members)), fsm: fsm,
		next: 0, cur: 0, connected: true, lastEnd: t0,
	}
}

func (s *sim) since() time.Duration { return s.now.Sub(s.t0) }

// apply does what the cs layer does with a Decision.
func (s *sim) apply(d failover.Decision) {
	if d.ResetBackoff { // Session.ResetBackoff
		n := uint32(len(s.members))
		if s.connected {
			n++
		}
		s.fsm.SetBackoffFreeTries(n)
	}
	if d.ConnectNow { // Session.ConnectNow
		if s.pending {
			s.t.Fatalf("t=%v: ConnectNow during an attempt", s.since())
		}
		free := s.fsm.BackoffFreeTries()
		s.fsm.Disable(s.now)
		s.fsm.Enable(s.now)
		s.fsm.SetBackoffFreeTries(free)
	}
	if d.NoServer {
		s.noServer++
		if d.Log {
			s.logged++
			s.suppressed += d.Suppressed
		}
	}
}

// transfer: at t0 the monitored leader reports leader=false.
func (s *sim) transfer() {
	s.apply(s.pol.LeftServer(s.now, s.members[s.cur].name, failover.ForcedWhileMonitoring))
	s.fsm.ForceReconnect(s.now)
}

// drop: at t0 the monitored leader's connection ends with EOF.
func (s *sim) drop() {
	s.fsm.Disconnected(s.now, io.EOF)
	name := s.members[s.cur].name
	s.endConn()
	s.apply(s.pol.LeftServer(s.now, name, failover.DroppedWhileMonitoring))
}

func (s *sim) endConn() {
	s.lastEnd = s.now
	s.connected = false
	s.pending = false
	s.next = (s.cur + 1) % len(s.members)
	s.cur = -1
}

func (s *sim) report(o failover.Outcome) {
	name := s.members[s.cur].name
	s.apply(s.pol.Attempt(s.now, name, o))
}

// complete ends the pending attempt at s.now.
func (s *sim) complete() {
	m := s.members[s.cur]
	switch m.roleAt(s.since()) {
	case isLeader:
		s.fsm.Connected(s.now)
		s.pending, s.connected = false, true
		rec, ok := s.pol.Monitoring(s.now, m.name)
		if ok {
			s.recoveries = append(s.recoveries, rec)
		}
	case follower:
		s.fsm.Connected(s.now)
		s.pending, s.connected = false, true
		s.report(failover.NotLeader)
		s.fsm.ForceReconnect(s.now) // not MONITORING: no reset
	case garbage:
		s.fsm.Connected(s.now)
		s.fsm.Disconnected(s.now, errGarbage)
		s.report(failover.Protocol)
		s.endConn()
	case refusing:
		s.fsm.ConnectFailed(s.now, syscall.ECONNREFUSED)
		s.report(failover.Refused)
		s.endConn()
	default:
		s.t.Fatalf("t=%v: %s completed while hanging", s.since(), m.name)
	}
}

// step handles everything due at s.now.
func (s *sim) step() {
	if s.pending && !s.doneAt.IsZero() && !s.now.Before(s.doneAt) {
		s.complete()
	}
	s.apply(s.pol.Run(s.now))
	for range 10 {
		switch s.fsm.Run(s.now) {
		case reconnect.Connect:
			s.cur = s.next
			s.fsm.Connecting(s.now)
			s.pending = true
			s.attempts = append(s.attempts, attemptRec{at: s.since(), remote: s.members[s.cur].name})
			if s.now.Sub(s.lastEnd) < reconnect.DefaultMinBackoff {
				s.fast++
			}
			switch s.members[s.cur].roleAt(s.since()) {
			case hanging:
				s.doneAt = time.Time{}
			case refusing:
				s.doneAt = s.now.Add(s.rtt / 10)
			default:
				s.doneAt = s.now.Add(s.rtt)
			}
		case reconnect.Disconnect:
			if s.connected { // forced reconnect
				s.fsm.Disconnected(s.now, nil)
				s.endConn()
			} else { // connect timeout
				s.fsm.ConnectFailed(s.now, errors.New("connect timeout"))
				s.report(failover.TimedOut)
				s.endConn()
			}
		default:
			return
		}
	}
	s.t.Fatalf("t=%v: FSM keeps asking", s.since())
}

// runUntil runs until the client is MONITORING again (when stopOnRecovery)
// or until t0+end.
func (s *sim) runUntil(end time.Duration, stopOnRecovery bool) {
	limit := s.t0.Add(end)
	for i := 0; ; i++ {
		if i > 1_000_000 {
			s.t.Fatal("simulation does not converge")
		}
		s.step()
		if stopOnRecovery && len(s.recoveries) > 0 {
			return
		}
		next, ok := time.Time{}, false
		consider := func(t time.Time) {
			if !ok || t.Before(next) {
				next, ok = t, true
			}
		}
		if t, has := s.fsm.Deadline(s.now); has {
			consider(t)
		}
		if s.pending && !s.doneAt.IsZero() {
			consider(s.doneAt)
		}
		if t, has := s.pol.Deadline(); has {
			consider(t)
		}
		if !ok || next.After(limit) {
			s.now = limit
			return
		}
		if next.After(s.now) {
			s.now = next
		}
	}
}

// perMember counts attempts per remote.
func (s *sim) perMember() map[string]int {
	m := map[string]int{}
	for _, a := range s.attempts {
		m[a.remote]++
	}
	return m
}

func (s *sim) trace() string {
	out := ""
	for _, a := range s.attempts {
		out += fmt.Sprintf(" %v:%s", a.at, a.remote)
	}
	return out
}
