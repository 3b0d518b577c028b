package ovsdbserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Cluster is a RAFT cluster of real ovsdb-server processes on 127.0.0.1,
// each a child of this process. Methods are safe for concurrent use, but
// steering the same member from two goroutines at once (e.g. Restart and
// Kill) is the caller's business.
type Cluster struct {
	l         *launch
	closeOnce sync.Once
	closeErr  error
}

// NewCluster creates an n-member clustered database from schema (the JSON
// text of an .ovsschema file): `ovsdb-tool create-cluster` for member 0,
// `join-cluster` for the others, then one ovsdb-server per member with its
// own client port, RAFT port, unixctl socket, pidfile and log. It returns
// once every member is a cluster member that knows the leader and serves
// clients. Ports are picked free; if one is taken meanwhile the whole start
// is retried with new ones. On error nothing is left running. Close stops
// every process.
func NewCluster(ctx context.Context, n int, schema []byte, opts ...Option) (*Cluster, error) {
	if n < 1 || n > 9 {
		return nil, fmt.Errorf("ovsdbserver: cluster size %d out of range 1..9", n)
	}
	l, schemaPath, err := prepare(schema, opts, true)
	if err != nil {
		return nil, err
	}
	ctx, cancel := l.env.bound(ctx)
	defer cancel()
	start := time.Now()
	c := &Cluster{l: l}
	err = l.startMembers(ctx, n, func(ctx context.Context) error {
		ms := l.members
		if err := l.runTool(ctx, "create-cluster", ms[0].DBPath(), schemaPath, ms[0].RaftAddress()); err != nil {
			return err
		}
		for _, m := range ms[1:] {
			if err := l.runTool(ctx, "join-cluster", m.DBPath(), l.env.db, m.RaftAddress(), ms[0].RaftAddress()); err != nil {
				return err
			}
		}
		return nil
	}, func(ctx context.Context) error {
		// Set the election timer while member 0 is alone, so that the
		// others start with it.
		if d := l.env.cfg.electionTimer; d > 0 {
			return c.SetElectionTimer(ctx, d)
		}
		return nil
	})
	if err != nil {
		l.removeDir()
		return nil, err
	}
	l.env.cfg.logger.Info("started ovsdb-server cluster", "db", l.env.db, "members", n,
		"remotes", c.Remotes(), "dir", l.env.dir, "took", time.Since(start).String())
	return c, nil
}

// N is the number of members.
func (c *Cluster) N() int { return len(c.l.members) }

// DB is the name of the clustered database.
func (c *Cluster) DB() string { return c.l.env.db }

// Dir is the directory holding the members' files.
func (c *Cluster) Dir() string { return c.l.env.dir }

// Member returns member i (0 <= i < N()); it panics when i is out of range.
func (c *Cluster) Member(i int) *Member { return c.l.members[i] }

// RemoteList is the client remotes of all members, in index order.
func (c *Cluster) RemoteList() []string {
	out := make([]string, len(c.l.members))
	for i, m := range c.l.members {
		out[i] = m.Remote()
	}
	return out
}

// Remotes is the client remotes of all members joined by commas, the form
// ovsdb-client and OVS's remote strings take.
func (c *Cluster) Remotes() string { return strings.Join(c.RemoteList(), ",") }

func (c *Cluster) member(i int) (*Member, error) {
	if i < 0 || i >= len(c.l.members) {
		return nil, fmt.Errorf("ovsdbserver: member %d out of range 0..%d", i, len(c.l.members)-1)
	}
	return c.l.members[i], nil
}

// Status asks every member for its cluster/status, in parallel. Members
// that are stopped, exited or do not answer have Err set.
func (c *Cluster) Status(ctx context.Context) []MemberStatus {
	ctx, cancel := c.l.env.bound(ctx)
	defer cancel()
	out := make([]MemberStatus, len(c.l.members))
	var wg sync.WaitGroup
	for i, m := range c.l.members {
		wg.Go(func() { out[i] = m.ClusterStatus(ctx) })
	}
	wg.Wait()
	return out
}

// leaderOf picks the member that says it is leader with the highest term.
func leaderOf(sts []MemberStatus) (int, uint64, bool) {
	best, term := -1, uint64(0)
	for _, s := range sts {
		if s.IsLeader() && (best < 0 || s.Term > term) {
			best, term = s.Index, s.Term
		}
	}
	return best, term, best >= 0
}

// Leader returns the index of the member that says it is the leader (the
// one with the highest term if two do). It asks once; the error matches
// ErrNoLeader when none does.
func (c *Cluster) Leader(ctx context.Context) (int, error) {
	sts := c.Status(ctx)
	if i, _, ok := leaderOf(sts); ok {
		return i, nil
	}
	return -1, fmt.Errorf("%w: %s", ErrNoLeader, summary(sts))
}

// WaitLeader waits until a member other than those in exclude says it is
// the leader and returns its index. It is bounded by ctx and the
// launcher's timeout; the error then matches ErrNoLeader.
func (c *Cluster) WaitLeader(ctx context.Context, exclude ...int) (int, error) {
	ctx, cancel := c.l.env.bound(ctx)
	defer cancel()
	i, _, err := c.waitLeader(ctx, exclude, 0)
	return i, err
}

// waitLeader polls until a member not in exclude is leader with a term
// above minTerm.
func (c *Cluster) waitLeader(ctx context.Context, exclude []int, minTerm uint64) (int, uint64, error) {
	for {
		sts := c.Status(ctx)
		for _, x := range exclude {
			if x >= 0 && x < len(sts) {
				sts[x].Role = ""
			}
		}
		if i, term, ok := leaderOf(sts); ok && term > minTerm {
			return i, term, nil
		}
		if err := sleepCtx(ctx, 2*time.Millisecond); err != nil {
			return -1, 0, fmt.Errorf("%w (waited: %v): %s", ErrNoLeader, err, summary(c.Status(context.Background())))
		}
	}
}

// summary is a one-line description of the members for error messages.
func summary(sts []MemberStatus) string {
	parts := make([]string, len(sts))
	for i, s := range sts {
		if s.Err != nil {
			parts[i] = fmt.Sprintf("s%d: %v", s.Index, s.Err)
			continue
		}
		parts[i] = fmt.Sprintf("s%d: %s term %d leader %s", s.Index, s.Role, s.Term, s.Leader)
	}
	return strings.Join(parts, "; ")
}

// TransferMethod is how TransferLeadership moves leadership off the leader.
type TransferMethod string

const (
	// TransferFailureTest runs `cluster/failure-test transfer-leadership` on
	// the leader: it hands leadership to a follower (election in a few ms)
	// and stays up as a follower. The default.
	TransferFailureTest TransferMethod = "failure-test"
	// TransferExit runs `ovs-appctl exit` on the leader: a graceful exit
	// that hands leadership over first. The member is then restarted.
	TransferExit TransferMethod = "exit"
	// TransferTerm sends SIGTERM to the leader: no hand-over, a follower is
	// elected when its election timer expires (about 1-2 election timers).
	// The member is then restarted.
	TransferTerm TransferMethod = "term"
	// TransferKill sends SIGKILL to the leader, then restarts it, like
	// TransferTerm.
	TransferKill TransferMethod = "kill"
)

// Transfer describes one leadership change made by TransferLeadership.
type Transfer struct {
	Method TransferMethod
	From   int       // index of the old leader
	To     int       // index of the new leader
	Term   uint64    // the new leader's term
	Issued time.Time // just before the command or signal was sent
	// Elected is when polling first saw the new leader (an upper bound on
	// the election time; polls are ~2 ms apart). The members' logs have the
	// exact time.
	Elected time.Time
	// Restarted is when the old leader was back as a follower (zero for
	// TransferFailureTest).
	Restarted time.Time
}

// TransferLeadership moves leadership off the current leader with method
// ("" means TransferFailureTest), waits for another member to become leader
// with a higher term and, for methods that end the old leader's process,
// restarts it and waits until it has rejoined. Every wait is bounded by ctx
// and the launcher's timeout.
func (c *Cluster) TransferLeadership(ctx context.Context, method TransferMethod) (Transfer, error) {
	if method == "" {
		method = TransferFailureTest
	}
	ctx, cancel := c.l.env.bound(ctx)
	defer cancel()
	tr := Transfer{Method: method, To: -1}
	sts := c.Status(ctx)
	from, oldTerm, ok := leaderOf(sts)
	if !ok {
		return tr, fmt.Errorf("ovsdbserver: transfer: %w: %s", ErrNoLeader, summary(sts))
	}
	tr.From = from
	m := c.l.members[from]
	p := m.current()
	log := c.l.env.cfg.logger
	log.V(1).Info("transferring leadership", "method", string(method), "from", from, "term", oldTerm)

	tr.Issued = time.Now()
	switch method {
	case TransferFailureTest:
		if _, err := m.Appctl(ctx, "cluster/failure-test", "transfer-leadership"); err != nil {
			return tr, fmt.Errorf("ovsdbserver: transfer: %w", err)
		}
	case TransferExit:
		// The reply may be lost when the process exits first; its exit is
		// what counts.
		if _, err := m.Appctl(ctx, "exit"); err != nil && !p.exited() {
			log.V(1).Info("exit command reply", "member", from, "err", err)
		}
	case TransferTerm:
		if err := p.signal(syscall.SIGTERM); err != nil {
			return tr, fmt.Errorf("ovsdbserver: transfer: s%d: %w", from, err)
		}
	case TransferKill:
		if err := p.signal(syscall.SIGKILL); err != nil {
			return tr, fmt.Errorf("ovsdbserver: transfer: s%d: %w", from, err)
		}
	default:
		return tr, fmt.Errorf("ovsdbserver: unknown transfer method %q", method)
	}

	to, term, err := c.waitLeader(ctx, []int{from}, oldTerm)
	if err != nil {
		if method != TransferFailureTest {
			// Bring the old leader back even so, so the cluster stays whole.
			if p.wait(ctx) == nil {
				_ = m.Restart(context.WithoutCancel(ctx))
			}
		}
		return tr, fmt.Errorf("ovsdbserver: transfer (%s) from s%d: %w", method, from, err)
	}
	tr.To, tr.Term, tr.Elected = to, term, time.Now()
	log.Info("leadership moved", "method", string(method), "from", from, "to", to, "term", term,
		"polled", tr.Elected.Sub(tr.Issued).String())

	if method != TransferFailureTest {
		if err := p.wait(ctx); err != nil {
			return tr, fmt.Errorf("ovsdbserver: transfer (%s): old leader s%d: %w", method, from, err)
		}
		if err := m.Restart(ctx); err != nil {
			return tr, fmt.Errorf("ovsdbserver: transfer (%s): restart s%d: %w", method, from, err)
		}
		tr.Restarted = time.Now()
	}
	return tr, nil
}

// Kill sends sig (SIGKILL when none is given) to member i; see Member.Kill.
func (c *Cluster) Kill(i int, sig ...syscall.Signal) error {
	m, err := c.member(i)
	if err != nil {
		return err
	}
	return m.Kill(sig...)
}

// Stop freezes member i with SIGSTOP; see Member.Stop.
func (c *Cluster) Stop(i int) error {
	m, err := c.member(i)
	if err != nil {
		return err
	}
	return m.Stop()
}

// Cont resumes member i with SIGCONT.
func (c *Cluster) Cont(i int) error {
	m, err := c.member(i)
	if err != nil {
		return err
	}
	return m.Cont()
}

// Restart starts member i again after it exited and waits until it has
// rejoined the cluster; see Member.Restart.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	m, err := c.member(i)
	if err != nil {
		return err
	}
	return m.Restart(ctx)
}

// SetElectionTimer changes the cluster's election timer on the leader
// (cluster/change-election-timer). ovsdb-server accepts at most doubling
// per step, so larger increases are made in steps.
func (c *Cluster) SetElectionTimer(ctx context.Context, d time.Duration) error {
	ctx, cancel := c.l.env.bound(ctx)
	defer cancel()
	want := d.Milliseconds()
	for range 32 {
		leader, _, err := c.waitLeader(ctx, nil, 0)
		if err != nil {
			return err
		}
		st := c.l.members[leader].ClusterStatus(ctx)
		cur := electionTimerOf(st.Raw)
		if cur == want {
			return nil
		}
		step := want
		if cur > 0 && step > 2*cur {
			step = 2 * cur
		}
		_, err = c.l.members[leader].Appctl(ctx, "cluster/change-election-timer", c.l.env.db, strconv.FormatInt(step, 10))
		if err != nil {
			return fmt.Errorf("ovsdbserver: set election timer to %d ms: %w", step, err)
		}
		// The change is a log entry: wait until the leader reports it.
		for electionTimerOf(c.l.members[leader].ClusterStatus(ctx).Raw) != step {
			if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
				return fmt.Errorf("ovsdbserver: set election timer to %d ms: %w", step, err)
			}
		}
	}
	return errors.New("ovsdbserver: set election timer: too many steps")
}

func electionTimerOf(status string) int64 {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "Election timer:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// Transact runs one transaction on the leader and returns the results, one
// per operation (plus one for a failed commit). Each op is JSON text
// (string, []byte, json.RawMessage) or a value that encodes to an
// operation (a map, libovsdb's ovsdb.Operation...). When an operation
// failed the results are returned with a *TxnError. If no member is
// leader it waits for one (bounded); a transaction is never sent twice.
func (c *Cluster) Transact(ctx context.Context, ops ...any) ([]json.RawMessage, error) {
	ctx, cancel := c.l.env.bound(ctx)
	defer cancel()
	for {
		leader, _, err := c.waitLeader(ctx, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("ovsdbserver: transact: %w", err)
		}
		res, err := transact(ctx, c.l.members[leader].Remote(), c.l.env.db, ops)
		if errors.Is(err, errDial) && ctx.Err() == nil {
			// Nothing was sent: the leader just went away.
			if err := sleepCtx(ctx, 2*time.Millisecond); err == nil {
				continue
			}
		}
		return res, err
	}
}

// Dump returns the contents of the database as the leader has them; see
// Contents.
func (c *Cluster) Dump(ctx context.Context) (Contents, error) {
	ctx, cancel := c.l.env.bound(ctx)
	defer cancel()
	leader, _, err := c.waitLeader(ctx, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("ovsdbserver: dump: %w", err)
	}
	return dump(ctx, c.l.members[leader].Remote(), c.l.env.db, c.l.schema)
}

// LogTail returns the last n lines of every member's log, for debugging.
func (c *Cluster) LogTail(n int) string { return c.l.logTails(n) }

// Close stops every member process this cluster started (SIGCONT, SIGTERM,
// up to 5 s, then SIGKILL) and removes the directory unless it was given
// with WithDir. It is safe to call more than once.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.l.stopAll()
		c.l.removeDir()
		c.l.env.cfg.logger.V(1).Info("stopped ovsdb-server cluster", "dir", c.l.env.dir)
	})
	return c.closeErr
}
