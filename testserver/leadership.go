package testserver

import (
	"fmt"
	"time"
)

// This file holds leadership and membership: elections with their delay,
// and the verbs that move the leader or take members out and back.

func (c *Cluster) quorum() bool {
	n := 0
	for _, m := range c.members {
		if m.inCluster() {
			n++
		}
	}
	return n > len(c.members)/2
}

// refreshAll recomputes every member's _Server rows.
func (c *Cluster) refreshAll() {
	for _, m := range c.members {
		c.refreshServer(m)
	}
}

// stepDown removes the leader; its row flips to leader=false first.
func (c *Cluster) stepDown(reason string) {
	if c.leader < 0 {
		return
	}
	old := c.members[c.leader]
	c.leader = -1
	c.leaderCh = make(chan struct{})
	c.log.Info("leader stepped down", "member", old.idx, "reason", reason)
	c.refreshServer(old)
}

// startElection arranges for a new leader after delay: prefer if it can
// lead then, otherwise the next member after the old leader that can
// (never exclude). The returned channel is closed when a leader is elected.
func (c *Cluster) startElection(prefer, exclude int, delay time.Duration) *election {
	if e := c.election; e != nil {
		return e
	}
	e := &election{prefer: prefer, exclude: exclude, done: make(chan struct{})}
	c.election = e
	if delay > 0 {
		e.timer = c.afterFunc(delay, c.completeElection)
	} else {
		c.completeElection()
	}
	return e
}

func (c *Cluster) completeElection() {
	e := c.election
	if e == nil {
		return
	}
	e.timer = nil
	if c.leader >= 0 {
		c.election = nil
		close(e.done)
		return
	}
	if !c.quorum() {
		c.log.Info("no quorum, election waits", "candidates", c.candidates())
		return
	}
	cand := -1
	if e.prefer >= 0 && c.members[e.prefer].inCluster() {
		cand = e.prefer
	} else {
		n := len(c.members)
		for k := 1; k <= n; k++ {
			i := (c.lastLeader + k) % n
			if i != e.exclude && c.members[i].inCluster() {
				cand = i
				break
			}
		}
		if cand < 0 && e.exclude >= 0 && c.members[e.exclude].inCluster() {
			cand = e.exclude
		}
	}
	if cand < 0 {
		return
	}
	c.election = nil
	c.leader, c.lastLeader = cand, cand
	close(c.leaderCh)
	c.log.Info("leader elected", "member", cand)
	c.quorumOK = true
	c.refreshAll()
	// A new leader commits an entry of its term: every member's index
	// rises, as with ovsdb-server's RAFT.
	c.appendEntry("", nil)
	close(e.done)
	c.runPending()
}

func (c *Cluster) candidates() int {
	n := 0
	for _, m := range c.members {
		if m.inCluster() {
			n++
		}
	}
	return n
}

// maybeElect starts (or retries) an election when the cluster has no
// leader. Called after a member comes back.
func (c *Cluster) maybeElect() {
	if c.leader >= 0 {
		return
	}
	if e := c.election; e != nil {
		if e.timer == nil && !e.held {
			if d := c.cfg.electionDelay; d > 0 {
				e.timer = c.afterFunc(d, c.completeElection)
			} else {
				c.completeElection()
			}
		}
		return
	}
	c.startElection(-1, -1, c.cfg.electionDelay)
}

// afterMembershipChange keeps leadership and _Server rows truthful after a
// member left or joined the cluster.
func (c *Cluster) afterMembershipChange() {
	if c.leader >= 0 && (!c.members[c.leader].inCluster() || !c.quorum()) {
		old := c.leader
		c.stepDown("lost the cluster")
		c.startElection(-1, old, c.cfg.electionDelay)
	}
	// A leader losing the majority flips to leader=false first; then the
	// members show connected=false (two updates, as ovsdb-server sends).
	c.quorumOK = c.quorum()
	c.refreshAll()
	if c.leader < 0 {
		c.maybeElect()
	}
	c.runPending()
}

// TransferLeadership moves the leadership to member to (or [AnyOther]):
// the old leader's _Server row flips to leader=false at once, then, after
// the cluster's election delay, the new leader's row flips to leader=true
// and every member's index rises. It returns when the new leader is in
// place.
func (c *Cluster) TransferLeadership(to int) error {
	return c.await(c.TransferLeadershipAfter(to, c.cfg.electionDelay))
}

// TransferLeadershipAfter is TransferLeadership with its own election delay;
// it returns at once with a channel closed when the new leader is in place.
func (c *Cluster) TransferLeadershipAfter(to int, electionDelay time.Duration) (<-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.leader < 0 {
		return nil, ErrNoLeader
	}
	old := c.leader
	if to == AnyOther {
		n := len(c.members)
		for k := 1; k < n; k++ {
			if i := (old + k) % n; c.members[i].inCluster() {
				to = i
				break
			}
		}
		if to == AnyOther {
			return nil, ErrNoCandidate
		}
	}
	m, err := c.member(to)
	if err != nil {
		return nil, err
	}
	if to == old || !m.inCluster() {
		return nil, fmt.Errorf("%w: member %d", ErrNoCandidate, to)
	}
	c.log.Info("transferring leadership", "from", old, "to", to, "electionDelay", electionDelay)
	c.stepDown("leadership transfer")
	e := c.startElection(to, old, electionDelay)
	return e.done, nil
}

// StepDown makes the leader a follower and holds the election until Elect
// is called: every member stays connected to the cluster and shows
// leader=false, and writes wait. Use it for "no leader" scenarios.
func (c *Cluster) StepDown() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if c.leader < 0 {
		return ErrNoLeader
	}
	old := c.leader
	c.stepDown("step down")
	e := c.startElection(-1, old, time.Hour)
	c.stopTimer(e.timer)
	e.timer, e.held = nil, true
	return nil
}

// Elect ends the pending election (held by StepDown, or waiting for its
// delay) at once with member i as the leader.
func (c *Cluster) Elect(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.checkMember(i)
	if err != nil {
		return err
	}
	if c.leader >= 0 {
		return fmt.Errorf("testserver: member %d is already leader", c.leader)
	}
	if !m.inCluster() || !c.quorum() {
		return fmt.Errorf("%w: member %d", ErrNoCandidate, i)
	}
	e := c.election
	if e == nil {
		e = c.startElection(i, -1, time.Hour)
	}
	c.stopTimer(e.timer)
	e.timer, e.held, e.prefer = nil, false, i
	c.completeElection()
	return nil
}

// DisconnectFromCluster cuts member i off the cluster: its _Server row
// shows connected=false (a leader first flips to leader=false and another
// member is elected), it stops applying commits and its writes wait.
func (c *Cluster) DisconnectFromCluster(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.checkMember(i)
	if err != nil {
		return err
	}
	if !m.connected {
		return nil
	}
	if c.leader == i {
		c.stepDown("disconnected from cluster")
	}
	m.connected = false
	c.log.Info("member disconnected from cluster", "member", i)
	if c.election == nil && c.leader < 0 {
		c.startElection(-1, i, c.cfg.electionDelay)
	}
	c.afterMembershipChange()
	return nil
}

// ReconnectToCluster undoes DisconnectFromCluster: the member catches up
// (its clients get the updates it missed, in order).
func (c *Cluster) ReconnectToCluster(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.checkMember(i)
	if err != nil {
		return err
	}
	if m.connected {
		return nil
	}
	m.connected = true
	c.log.Info("member reconnected to cluster", "member", i)
	c.refreshServer(m)
	c.catchUp(m)
	c.afterMembershipChange()
	return nil
}

// Lag makes member i stop (on) or resume (off) applying commits. A lagging
// member serves its stale data and index; when it resumes, its clients get
// the missed updates in commit order.
func (c *Cluster) Lag(i int, on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.checkMember(i)
	if err != nil {
		return err
	}
	m.lagging = on
	c.log.Info("member lag", "member", i, "lagging", on)
	if !on {
		c.catchUp(m)
		c.runPending()
	}
	return nil
}

// Stop takes member i down like a crash: it stops listening (connections
// are refused) and drops every connection. A leader's leadership moves to
// another member after the election delay. Start brings it back.
func (c *Cluster) Stop(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.checkMember(i)
	if err != nil {
		return err
	}
	if !m.running {
		return nil
	}
	c.takeDown(m, "stopped")
	return nil
}

func (c *Cluster) takeDown(m *Member, reason string) {
	m.running = false
	for _, s := range m.sortedSessions() {
		c.closeSession(s, reason)
	}
	_ = c.syncListeners(m)
	c.log.Info("member down", "member", m.idx, "reason", reason)
	if c.leader == m.idx {
		c.stepDown(reason)
		c.startElection(-1, m.idx, c.cfg.electionDelay)
	}
	c.afterMembershipChange()
}

// Start brings a stopped member back: it listens again, catches up with the
// log and takes part in elections.
func (c *Cluster) Start(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.checkMember(i)
	if err != nil {
		return err
	}
	if m.crashed {
		c.restartCrashed(m)
		return nil
	}
	if m.running {
		return nil
	}
	m.running = true
	if err := c.syncListeners(m); err != nil {
		m.running = false
		return err
	}
	c.log.Info("member started", "member", i)
	c.catchUp(m)
	c.afterMembershipChange()
	return nil
}

// GracefulExit makes member i exit the way "ovs-appctl exit" does: its
// clients see EOF before anything else (no _Server update is ever sent to
// them), then, if it was the leader, another member becomes leader after
// the election delay. The member stays down until Start. It returns when
// the new leader is in place (at once if it was not the leader).
func (c *Cluster) GracefulExit(i int) error {
	return c.await(c.GracefulExitAfter(i, c.cfg.electionDelay))
}

// await waits for ch, the result of a ...After verb, to close, or for the
// cluster to close.
func (c *Cluster) await(ch <-chan struct{}, err error) error {
	if err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-c.done:
		return ErrClosed
	}
}

// GracefulExitAfter is GracefulExit with its own election delay; it returns
// at once with a channel closed when the new leader is in place.
func (c *Cluster) GracefulExitAfter(i int, electionDelay time.Duration) (<-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.checkMember(i)
	if err != nil {
		return nil, err
	}
	if !m.running {
		return closedChan(), nil
	}
	m.running = false
	for _, s := range m.sortedSessions() {
		c.closeSession(s, "graceful exit")
	}
	_ = c.syncListeners(m)
	return c.leftCluster(m, "graceful exit", electionDelay), nil
}

// leftCluster keeps leadership truthful after member m stopped taking part
// in the cluster (exited, crashed or frozen): if it was the leader, another
// member is elected after electionDelay, and no _Server update is sent on
// m's behalf. It returns a channel closed when a leader is in place (at
// once if m was not the leader). Called with c.mu held.
func (c *Cluster) leftCluster(m *Member, reason string, electionDelay time.Duration) <-chan struct{} {
	wasLeader := c.leader == m.idx
	c.log.Info("member left the cluster", "member", m.idx, "reason", reason, "wasLeader", wasLeader)
	if !wasLeader {
		c.afterMembershipChange()
		return closedChan()
	}
	c.stepDown(reason)
	e := c.startElection(-1, m.idx, electionDelay)
	c.afterMembershipChange()
	return e.done
}

func closedChan() <-chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

func (c *Cluster) checkMember(i int) (*Member, error) {
	if c.closed {
		return nil, ErrClosed
	}
	return c.member(i)
}
