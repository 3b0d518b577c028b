package testserver

import (
	"encoding/json"
)

// This file implements the lock, steal and unlock methods (RFC 7047
// section 4.1.8-4.1.10) as ovsdb-server 3.1 does. Locks belong to one
// member (one ovsdb-server process), not to the cluster. Two quirks of the
// real server are kept on purpose: when any waiter leaves a lock (unlock or
// disconnect), the current owner is sent a "locked" notification even if it
// already owned the lock; and a client whose lock was stolen stays in the
// lock's queue (and needs "unlock") unless it had itself obtained the lock
// by stealing.

type lockMode uint8

const (
	lockWait lockMode = iota
	lockSteal
)

type lockWaiter struct {
	name  string
	mode  lockMode
	s     *session
	queue *lockQueue // nil once removed from the queue
}

type lockQueue struct {
	name    string
	waiters []*lockWaiter // waiters[0] owns the lock
}

func (q *lockQueue) owner() *lockWaiter { return q.waiters[0] }

// remove takes w out of its queue and returns the session that owns the
// lock afterwards, or nil if nobody waits any more.
func (m *Member) removeWaiter(w *lockWaiter) *session {
	q := w.queue
	w.queue = nil
	for i, x := range q.waiters {
		if x == w {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			break
		}
	}
	if len(q.waiters) == 0 {
		delete(m.locks, q.name)
		return nil
	}
	return q.owner().s
}

// holdsLock reports whether s owns the named lock.
func (s *session) holdsLock(name string) bool {
	w := s.waiters[name]
	return w != nil && w.queue != nil && w.queue.owner() == w
}

func (c *Cluster) lockName(s *session, msg *rpcMessage) (string, bool) {
	var name string
	if len(msg.Params) != 1 || json.Unmarshal(msg.Params[0], &name) != nil || !idPattern.MatchString(name) {
		c.replyError(s, msg.ID, syntaxError(msg.ParamsRaw, "%s request params must be <id>", msg.Method))
		return "", false
	}
	return name, true
}

func (c *Cluster) handleLock(s *session, msg *rpcMessage, mode lockMode) {
	name, ok := c.lockName(s, msg)
	if !ok {
		return
	}
	if s.waiters[name] != nil {
		c.replyError(s, msg.ID, syntaxError(msg.ParamsRaw, "must issue \"unlock\" before new \"%s\"", msg.Method))
		return
	}
	m := s.m
	q := m.locks[name]
	if q == nil {
		q = &lockQueue{name: name}
		m.locks[name] = q
	}
	w := &lockWaiter{name: name, mode: mode, s: s, queue: q}
	s.waiters[name] = w
	var victim *lockWaiter
	if mode == lockSteal {
		if len(q.waiters) > 0 {
			victim = q.owner()
		}
		q.waiters = append([]*lockWaiter{w}, q.waiters...)
		if victim != nil && victim.mode == lockSteal {
			m.removeWaiter(victim)
		}
	} else {
		q.waiters = append(q.waiters, w)
	}
	if victim != nil {
		c.notify(victim.s, "stolen", marshal([]string{name}))
	}
	c.reply(s, msg.ID, marshal(map[string]bool{"locked": q.owner() == w}))
	c.log.V(1).Info("lock request", "member", m.idx, "session", s.id, "lock", name, "steal", mode == lockSteal, "locked", q.owner() == w)
}

func (c *Cluster) handleUnlock(s *session, msg *rpcMessage) {
	name, ok := c.lockName(s, msg)
	if !ok {
		return
	}
	w := s.waiters[name]
	if w == nil {
		c.replyError(s, msg.ID, syntaxError(msg.ParamsRaw, "unlock: \"unlock\" without \"lock\" or \"steal\""))
		return
	}
	c.unlock(w)
	c.reply(s, msg.ID, []byte("{}"))
}

// unlock removes w from its lock and from its session, notifying whoever
// owns the lock afterwards.
func (c *Cluster) unlock(w *lockWaiter) {
	if w.queue != nil {
		if owner := w.s.m.removeWaiter(w); owner != nil {
			c.notify(owner, "locked", marshal([]string{w.name}))
		}
	}
	delete(w.s.waiters, w.name)
}
