package testserver

import "time"

// This file holds unplanned outages: a member that crashes (its clients
// see EOF, or nothing at all) and a member that freezes (SIGSTOP) and
// later resumes. Either way the old leader sends no _Server update: the
// others elect a leader after the given delay, as ovsdb-server's followers
// do when their election timer expires.

// CrashMode says what a crashed member's clients see.
type CrashMode uint8

const (
	// CrashEOF: the process died on a live host (SIGKILL): the kernel
	// closes its connections (EOF) and refuses new ones. Start restarts it.
	CrashEOF CrashMode = iota
	// CrashSilent: the host is gone (power, cable): connections stay open
	// and silent, new ones are accepted and never answered (as a dead
	// host's connect times out). Start restarts it: its old connections
	// are reset, as a rebooted host answers them.
	CrashSilent
)

// Crash takes member i down without a hand-over, as mode says, and, if it
// was the leader, elects another member after electionDelay. No _Server
// update is ever sent for it. It returns at once with a channel closed
// when a leader is in place (at once if i was not the leader, or was
// down). Start brings it back.
func (c *Cluster) Crash(i int, mode CrashMode, electionDelay time.Duration) (<-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, down, err := c.liveMember(i)
	if err != nil || down != nil {
		return down, err
	}
	if mode == CrashSilent {
		m.crashed = true
		return c.freeze(m, "crashed (silent)", electionDelay), nil
	}
	m.running = false
	for _, s := range m.sortedSessions() {
		c.closeSession(s, "crashed")
	}
	_ = c.syncListeners(m)
	return c.leftCluster(m, "crashed", electionDelay), nil
}

// Freeze stops member i as SIGSTOP does: it answers nothing (not even an
// echo), sends nothing, applies no commit and takes no part in the
// cluster; its connections stay open, new ones are accepted, and what its
// clients send waits. Its _Server rows stay as they were: a frozen leader
// still says leader=true. If it was the leader, another member is elected
// after electionDelay. It returns at once with a channel closed when a
// leader is in place. Thaw resumes it.
func (c *Cluster) Freeze(i int, electionDelay time.Duration) (<-chan struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, down, err := c.liveMember(i)
	if err != nil || down != nil {
		return down, err
	}
	return c.freeze(m, "frozen", electionDelay), nil
}

// liveMember returns member i if it is running and not frozen; for a
// member already down it returns a closed channel instead (nothing to
// wait for). Called with c.mu held.
func (c *Cluster) liveMember(i int) (*Member, <-chan struct{}, error) {
	m, err := c.checkMember(i)
	if err != nil {
		return nil, nil, err
	}
	if !m.running || m.frozen {
		return nil, closedChan(), nil
	}
	return m, nil, nil
}

func (c *Cluster) freeze(m *Member, reason string, electionDelay time.Duration) <-chan struct{} {
	m.frozen = true
	m.thaw = make(chan struct{})
	return c.leftCluster(m, reason, electionDelay)
}

// Thaw resumes member i after Freeze, as SIGCONT does: it learns the
// cluster's state first (its _Server rows are updated and pushed to its
// monitors: a leader replaced meanwhile now says leader=false), catches
// up with the log, then answers what its clients sent meanwhile, in order.
func (c *Cluster) Thaw(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.checkMember(i)
	if err != nil {
		return err
	}
	if !m.frozen || m.crashed {
		return nil
	}
	c.unfreeze(m)
	c.log.Info("member thawed", "member", i)
	c.refreshServer(m)
	c.catchUp(m)
	c.afterMembershipChange()
	return nil
}

func (c *Cluster) unfreeze(m *Member) {
	m.frozen, m.crashed = false, false
	close(m.thaw)
	m.thaw = nil
}

// restartCrashed brings back a member crashed with CrashSilent: its old
// connections are reset, then it serves and rejoins. Called with c.mu
// held.
func (c *Cluster) restartCrashed(m *Member) {
	for _, s := range m.sortedSessions() {
		c.closeSession(s, "reset after restart")
	}
	c.unfreeze(m)
	c.log.Info("member started", "member", m.idx)
	c.refreshServer(m)
	c.catchUp(m)
	c.afterMembershipChange()
}

// awaitThaw holds session s's next message while its member is frozen.
// It returns false if the session closed meanwhile. Called with c.mu held;
// releases it while waiting.
func (c *Cluster) awaitThaw(s *session) bool {
	for s.m.frozen && !s.closed {
		ch := s.m.thaw
		c.mu.Unlock()
		select {
		case <-ch:
		case <-s.done:
		}
		c.mu.Lock()
	}
	return !s.closed
}
