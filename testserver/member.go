package testserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// Member is one server of a [Cluster]: its own listeners and connections,
// its own view of the replicated database (which can lag behind the commit
// log), its own _Server database and its own locks.
type Member struct {
	c   *Cluster
	idx int

	// Fixed at creation.
	host     string
	port     int
	unixPath string
	sid      string
	serverID string
	cid      string
	model    string

	serverRowUUID  string
	serverSelfUUID string

	counters counters

	// Guarded by c.mu.
	running bool // serving clients (false after Stop or GracefulExit)
	// frozen: the process is stopped (Freeze, or Crash with CrashSilent):
	// it reads and sends nothing, applies nothing and takes no part in the
	// cluster; its _Server rows stay as they were. thaw is closed when it
	// resumes. crashed: frozen for good, until Start resets it.
	frozen    bool
	crashed   bool
	thaw      chan struct{}
	connected bool // connected to the cluster
	lagging   bool
	applied   uint64
	db        *dbState
	server    *dbState
	lastTxnID string
	history   []histEntry
	// dbAtoms counts the atoms in db and historyAtoms those of the
	// history's entries, for trimming the history as ovsdb-server does.
	dbAtoms      int
	historyAtoms int
	sessions     map[*session]struct{}
	locks        map[string]*lockQueue
	faults       Faults
	awaiting     []awaitReply
	tcp          net.Listener
	unix         net.Listener
}

// histEntry is one transaction a member applied, for monitor_cond_since.
type histEntry struct {
	txnID   string
	changes changeSet
	atoms   int
}

// awaitReply is a transaction reply held until the member has applied the
// commit, so the client sees the updates first.
type awaitReply struct {
	index uint64
	send  func()
}

// Index returns the member's position in the cluster (0-based).
func (m *Member) Index() int { return m.idx }

// Remote returns the member's remote, e.g. "tcp:127.0.0.1:6641".
func (m *Member) Remote() string { return "tcp:" + m.Address() }

// Address returns "host:port", the address to dial.
func (m *Member) Address() string { return net.JoinHostPort(m.host, strconv.Itoa(m.port)) }

// UnixRemote returns "unix:PATH" when the cluster was made with
// [WithUnixSockets], or "".
func (m *Member) UnixRemote() string {
	if m.unixPath == "" {
		return ""
	}
	return "unix:" + m.unixPath
}

// SID returns the member's server ID, as in its _Server row.
func (m *Member) SID() string { return m.sid }

// CID returns the cluster ID the member reports.
func (m *Member) CID() string { return m.cid }

// Model returns the database model the member reports.
func (m *Member) Model() string { return m.model }

// Counters returns a copy of the member's counters.
func (m *Member) Counters() Counters { return m.counters.snapshot() }

// AppliedIndex returns the raft-like index of the last entry the member has
// applied (what its _Server row shows).
func (m *Member) AppliedIndex() uint64 {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	return m.applied
}

// Connections returns how many client connections the member has open.
func (m *Member) Connections() int {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	return len(m.sessions)
}

// Faults returns the member's current faults.
func (m *Member) Faults() Faults {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	return m.faults
}

// SetFaults replaces the member's faults (the zero value clears them).
func (m *Member) SetFaults(f Faults) error {
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	m.faults = f
	c.log.Info("faults set", "member", m.idx, "faults", fmt.Sprintf("%+v", f))
	if f.DropConnections {
		for _, s := range m.sortedSessions() {
			c.closeSession(s, "dropped by fault")
		}
	}
	return c.syncListeners(m)
}

// Inject writes raw bytes to every open connection of the member, as if the
// member had sent them (for malformed-input tests). It returns how many
// connections got them.
func (m *Member) Inject(raw []byte) int {
	c := m.c
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range m.sortedSessions() {
		s.outMu.Lock()
		s.out = append(s.out, outMsg{data: append([]byte(nil), raw...)})
		s.outMu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
		n++
	}
	return n
}

// Snapshot returns the member's view of the database (stale if it lags),
// in the form of [Cluster.Snapshot].
func (m *Member) Snapshot() map[string]map[string]map[string]json.RawMessage {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	return m.db.dump()
}

func (m *Member) sortedSessions() []*session {
	out := make([]*session, 0, len(m.sessions))
	for s := range m.sessions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// inCluster reports whether the member takes part in the cluster.
func (m *Member) inCluster() bool { return m.running && m.connected && !m.frozen }

// canApply reports whether the member applies new log entries now.
func (m *Member) canApply() bool { return m.inCluster() && !m.lagging }

// txnIDFor is the last transaction ID a v3 monitor on database db sees.
func (m *Member) txnIDFor(db string) string {
	if db == ServerDatabase || m.model == ModelStandalone || m.lastTxnID == "" {
		return zeroUUID
	}
	return m.lastTxnID
}

// changesSince returns the composed changes after transaction id, if the
// member's history still holds it.
func (m *Member) changesSince(id string) (changeSet, bool) {
	if id == zeroUUID {
		return nil, false
	}
	for i := len(m.history) - 1; i >= 0; i-- {
		if m.history[i].txnID == id {
			sets := make([]changeSet, 0, len(m.history)-i-1)
			for _, h := range m.history[i+1:] {
				sets = append(sets, h.changes)
			}
			return composeChanges(sets), true
		}
	}
	return nil, false
}

// syncListeners opens or closes the member's real listeners to match its
// state. Called with c.mu held. In-memory members have none.
func (c *Cluster) syncListeners(m *Member) error {
	if c.cfg.inMemory {
		return nil
	}
	want := m.running && !m.faults.RefuseConnections && !c.closed
	if !want {
		for _, l := range []*net.Listener{&m.tcp, &m.unix} {
			if *l != nil {
				(*l).Close()
				*l = nil
			}
		}
		return nil
	}
	if m.tcp == nil {
		l, err := net.Listen("tcp", m.Address())
		if err != nil {
			return fmt.Errorf("testserver: member %d: listen: %w", m.idx, err)
		}
		m.tcp = l
		c.wg.Add(1)
		go c.acceptLoop(m, l)
	}
	if m.unixPath != "" && m.unix == nil {
		if err := os.Remove(m.unixPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("testserver: member %d: %w", m.idx, err)
		}
		l, err := net.Listen("unix", m.unixPath)
		if err != nil {
			return fmt.Errorf("testserver: member %d: listen: %w", m.idx, err)
		}
		l.(*net.UnixListener).SetUnlinkOnClose(true)
		m.unix = l
		c.wg.Add(1)
		go c.acceptLoop(m, l)
	}
	return nil
}

func (c *Cluster) acceptLoop(m *Member, l net.Listener) {
	defer c.wg.Done()
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.accept(m, conn)
		c.mu.Unlock()
	}
}

// applyEntry applies one log entry to m and tells its clients: the _Server
// index first, then the data updates, then the replies that waited for
// this entry. Called with c.mu held.
func (c *Cluster) applyEntry(m *Member, e *logEntry) {
	if e.changes != nil {
		m.db.apply(e.changes)
		m.dbAtoms += e.atomsDiff
	}
	m.applied = e.index
	if e.txnID != "" {
		m.lastTxnID = e.txnID
		if m.model != ModelStandalone && c.cfg.historySize > 0 {
			m.history = append(m.history, histEntry{txnID: e.txnID, changes: e.changes, atoms: e.atoms})
			m.historyAtoms += e.atoms
			m.trimHistory(c.cfg.historySize)
		}
	}
	c.refreshServer(m)
	if e.changes != nil {
		c.deliver(m, c.schema.name, e.changes, m.txnIDFor(c.schema.name))
	}
	c.flushAwaiting(m)
}

// catchUp applies every entry m has not applied yet, if it may.
func (c *Cluster) catchUp(m *Member) {
	for m.canApply() && m.applied < c.index {
		c.applyEntry(m, c.entry(m.applied+1))
	}
	c.trimLog()
}

func (c *Cluster) flushAwaiting(m *Member) {
	var keep []awaitReply
	for _, a := range m.awaiting {
		if a.index <= m.applied {
			a.send()
		} else {
			keep = append(keep, a)
		}
	}
	m.awaiting = keep
}

// unixSocketPath names member i's socket in dir.
func unixSocketPath(dir string, i int) string {
	return filepath.Join(dir, "s"+strconv.Itoa(i+1)+".sock")
}
