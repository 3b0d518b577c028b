package testserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
)

// Errors returned by the cluster verbs.
var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("testserver: cluster closed")
	// ErrNoLeader is returned by a verb that needs a leader when there is
	// none (an election is under way or no quorum).
	ErrNoLeader = errors.New("testserver: no cluster leader")
	// ErrNoCandidate is returned by TransferLeadership when no other member
	// can take the leadership.
	ErrNoCandidate = errors.New("testserver: no member can become leader")
	// ErrBadMember is returned for a member index out of range.
	ErrBadMember = errors.New("testserver: no such member")
)

// AnyOther asks [Cluster.TransferLeadership] to pick the next member after
// the current leader that can take the leadership.
const AnyOther = -1

// Cluster is an in-process fake of a clustered (RAFT) ovsdb-server: n
// members that serve one replicated database through one commit log. Each
// member speaks the OVSDB JSON-RPC protocol as ovsdb-server 3.1 does, has
// its own _Server database telling the truth about the cluster, and applies
// committed transactions at its own pace (so it can lag). Tests steer
// leadership, membership and faults with the Cluster and [Member] verbs.
//
// All methods are safe for concurrent use. The whole cluster works inside a
// testing/synctest bubble when made with [InMemory]: it waits only on
// channels and timers of package time, and Close ends every goroutine.
type Cluster struct {
	cfg          config
	log          logr.Logger
	serverSchema *dbSchema
	done         chan struct{}
	wg           sync.WaitGroup

	mu          sync.Mutex
	closed      bool
	schema      *dbSchema
	db          *dbState // committed state
	index       uint64   // last log index
	entries     []*logEntry
	rng         *rand.Rand
	members     []*Member
	leader      int  // -1: none
	quorumOK    bool // what the _Server rows say about the majority
	lastLeader  int
	leaderCh    chan struct{} // closed when a leader is elected
	election    *election
	pending     []*pendingTxn
	inRun       bool
	runAgain    bool
	timers      map[*time.Timer]struct{}
	nextSession uint64
	nextPort    int
}

type logEntry struct {
	index   uint64
	txnID   string    // "" for entries that are not data transactions
	changes changeSet // nil for no-op entries
	// atoms counts the atoms of the rows the entry changed, before and
	// after; atomsDiff is how much it grew the database (see atoms.go).
	atoms, atomsDiff int
}

type election struct {
	prefer  int
	exclude int
	timer   *time.Timer
	held    bool // StepDown: wait for Elect
	done    chan struct{}
}

// NewCluster starts n members serving one database with the given schema
// (the JSON text of an .ovsschema). Member 0 is the first leader unless
// [WithInitialLeader] says otherwise. Close it when done.
func NewCluster(n int, schema []byte, opts ...Option) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("testserver: need at least one member, got %d", n)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s, err := parseSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("testserver: bad schema: %w", err)
	}
	if s.name == ServerDatabase {
		return nil, fmt.Errorf("testserver: the database may not be named %s", ServerDatabase)
	}
	ss, err := parseSchema([]byte(serverSchemaText))
	if err != nil {
		return nil, fmt.Errorf("testserver: _Server schema: %w", err)
	}
	if cfg.leader < 0 || cfg.leader >= n {
		return nil, fmt.Errorf("testserver: initial leader %d: %w", cfg.leader, ErrBadMember)
	}
	for _, model := range append([]string{cfg.model}, mapValues(cfg.memberModel)...) {
		switch model {
		case ModelClustered, ModelStandalone, ModelRelay:
		default:
			return nil, fmt.Errorf("testserver: unknown model %q", model)
		}
	}
	c := &Cluster{
		cfg:          cfg,
		log:          cfg.log.WithName("testserver"),
		serverSchema: ss,
		done:         make(chan struct{}),
		schema:       s,
		db:           newDBState(s, true),
		index:        1,
		rng:          rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)),
		leader:       cfg.leader,
		lastLeader:   cfg.leader,
		quorumOK:     true,
		leaderCh:     make(chan struct{}),
		timers:       map[*time.Timer]struct{}{},
	}
	close(c.leaderCh)
	cid := cfg.cid
	if cid == "" {
		cid = c.newUUID()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < n; i++ {
		m := &Member{
			c: c, idx: i, host: "127.0.0.1",
			sid: c.newUUID(), serverID: c.newUUID(), cid: cid, model: cfg.model,
			serverRowUUID: c.newUUID(), serverSelfUUID: c.newUUID(),
			running: true, connected: true, applied: 1,
			db:       c.db.clone(),
			server:   newDBState(ss, false),
			sessions: map[*session]struct{}{},
			locks:    map[string]*lockQueue{},
		}
		if model, ok := cfg.memberModel[i]; ok {
			m.model = model
		}
		if mc, ok := cfg.memberCID[i]; ok {
			m.cid = mc
		}
		if cfg.inMemory {
			m.port = cfg.basePort + i
		}
		if cfg.unixDir != "" {
			m.unixPath = unixSocketPath(cfg.unixDir, i)
		}
		c.members = append(c.members, m)
	}
	for _, m := range c.members {
		c.refreshServer(m)
		if err := c.syncListeners(m); err != nil {
			c.closeLocked()
			c.mu.Unlock()
			c.wg.Wait()
			c.mu.Lock()
			return nil, err
		}
		if l, ok := m.tcp.(*net.TCPListener); ok && l != nil {
			m.port = l.Addr().(*net.TCPAddr).Port
		}
	}
	c.log.Info("cluster started", "members", n, "database", s.name, "leader", c.leader, "remotes", c.remotesLocked())
	return c, nil
}

func mapValues(m map[int]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// newUUID returns the next UUID of the cluster's seeded generator.
func (c *Cluster) newUUID() string {
	hi, lo := c.rng.Uint64(), c.rng.Uint64()
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // RFC 4122 variant
	s := fmt.Sprintf("%016x%016x", hi, lo)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// afterFunc runs f with c.mu held after d, unless stopped or the cluster
// closes first. Called with c.mu held.
func (c *Cluster) afterFunc(d time.Duration, f func()) *time.Timer {
	if c.closed {
		return nil
	}
	c.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		defer c.wg.Done()
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.timers[t]; !ok {
			return
		}
		delete(c.timers, t)
		if c.closed {
			return
		}
		f()
	})
	c.timers[t] = struct{}{}
	return t
}

// stopTimer cancels a timer made by afterFunc. Called with c.mu held.
func (c *Cluster) stopTimer(t *time.Timer) {
	if t == nil {
		return
	}
	if _, ok := c.timers[t]; !ok {
		return
	}
	delete(c.timers, t)
	if t.Stop() {
		c.wg.Done()
	}
}

// Close stops every member, closes every connection and waits for every
// goroutine of the cluster to end.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closeLocked()
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

func (c *Cluster) closeLocked() {
	c.closed = true
	close(c.done)
	for t := range c.timers {
		c.stopTimer(t)
	}
	for _, m := range c.members {
		for _, s := range m.sortedSessions() {
			c.closeSession(s, "cluster closed")
		}
		_ = c.syncListeners(m)
	}
	for _, p := range c.pending {
		if p.s == nil && !p.done {
			p.done = true
			p.finish(nil, ErrClosed)
		}
	}
	c.pending = nil
	c.log.Info("cluster closed")
}

func (c *Cluster) member(i int) (*Member, error) {
	if i < 0 || i >= len(c.members) {
		return nil, fmt.Errorf("%w: %d", ErrBadMember, i)
	}
	return c.members[i], nil
}

// Member returns member i (0-based); it panics if i is out of range.
func (c *Cluster) Member(i int) *Member {
	m, err := c.member(i)
	if err != nil {
		panic(err)
	}
	return m
}

// Size returns the number of members.
func (c *Cluster) Size() int { return len(c.members) }

// Remotes returns the remotes of every member, comma-separated, in member
// order: "tcp:127.0.0.1:P1,tcp:127.0.0.1:P2,...".
func (c *Cluster) Remotes() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remotesLocked()
}

func (c *Cluster) remotesLocked() string {
	var parts []string
	for _, m := range c.members {
		parts = append(parts, m.Remote())
	}
	return strings.Join(parts, ",")
}

// Database returns the name of the served database.
func (c *Cluster) Database() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.schema.name
}

// Index returns the index of the last committed log entry.
func (c *Cluster) Index() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.index
}

// Leader returns the leader's member index, or -1 when there is none.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

// WaitLeader waits until the cluster has a leader and returns it.
func (c *Cluster) WaitLeader(ctx context.Context) (int, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return -1, ErrClosed
		}
		if c.leader >= 0 {
			l := c.leader
			c.mu.Unlock()
			return l, nil
		}
		ch := c.leaderCh
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-c.done:
			return -1, ErrClosed
		}
	}
}

// DialContext connects to the member listening at address. In in-memory
// mode it returns one end of an in-memory connection served by that member
// (network "tcp" with "127.0.0.1:PORT", or "unix" with the socket path); a
// member that is stopped or refuses connections fails with an error that
// errors.Is syscall.ECONNREFUSED. Otherwise it dials the real address.
func (c *Cluster) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if !c.cfg.inMemory {
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	address = strings.TrimPrefix(strings.TrimPrefix(address, "tcp:"), "unix:")
	c.mu.Lock()
	defer c.mu.Unlock()
	var m *Member
	for _, x := range c.members {
		if (strings.HasPrefix(network, "tcp") && x.Address() == address) || (network == "unix" && x.unixPath != "" && x.unixPath == address) {
			m = x
		}
	}
	refused := &net.OpError{Op: "dial", Net: network, Addr: fakeAddr(network, address),
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	if c.closed || m == nil {
		return nil, refused
	}
	if !m.running || m.faults.RefuseConnections {
		m.counters.refuse()
		return nil, refused
	}
	c.nextPort++
	client, server := net.Pipe()
	local := fakeAddr(network, address)
	var remote net.Addr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000 + c.nextPort%20000}
	if network == "unix" {
		remote = &net.UnixAddr{Name: "@client" + strconv.Itoa(c.nextPort), Net: "unix"}
	}
	c.accept(m, &pipeConn{Conn: server, local: local, remote: remote})
	return &pipeConn{Conn: client, local: remote, remote: local}, nil
}

func fakeAddr(network, address string) net.Addr {
	if network == "unix" {
		return &net.UnixAddr{Name: address, Net: "unix"}
	}
	if ap, err := net.ResolveTCPAddr("tcp", address); err == nil {
		return ap
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
}

// pipeConn is an in-memory connection with the addresses of a real one.
type pipeConn struct {
	net.Conn
	local, remote net.Addr
}

func (p *pipeConn) LocalAddr() net.Addr  { return p.local }
func (p *pipeConn) RemoteAddr() net.Addr { return p.remote }

// ResetCounters zeroes every member's counters.
func (c *Cluster) ResetCounters() {
	for _, m := range c.members {
		m.counters.reset()
	}
}

// Snapshot returns the committed database contents: table -> row UUID ->
// column -> value in RFC 7047 notation (user columns only).
func (c *Cluster) Snapshot() map[string]map[string]map[string]json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.db.dump()
}

// Dump returns the committed database contents as canonical JSON (sorted
// keys, no spaces), handy to compare with a client's replica.
func (c *Cluster) Dump() string {
	return string(marshal(c.Snapshot()))
}
