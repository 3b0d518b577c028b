package watcher

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
)

// DefaultProbeInterval is OVS's default inactivity probe interval (5 s),
// for Config.ProbeInterval.
const DefaultProbeInterval = 5 * time.Second

// Config configures a Hunter.
type Config struct {
	// Database is the data database, for example "OVN_Northbound".
	Database string
	// ClusterID pins the cluster (a cid: item of the remote list); "" for
	// none.
	ClusterID string
	// Remotes are the members, in the order of the member numbers the
	// Hunter reports.
	Remotes []jsonrpc.Remote
	// Dial opens a transport (nil: a net.Dialer). For an ssl: remote the
	// watcher then runs the TLS handshake itself (jsonrpc.DialRemote).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// TLSConfig is the client TLS configuration for ssl: remotes, as
	// jsonrpc.SessionConfig.TLSConfig (an empty ServerName is set to the
	// remote's host). Required when a remote uses TLS.
	TLSConfig *tls.Config
	// Check decides on a watcher's rows (nil: a leader.Checker of the
	// Hunter's own, leader-only, for Database and ClusterID, whose minimum
	// index is raised to MinIndex).
	Check func(remote string, rows *leader.Replica) error
	// MinIndex returns the highest Raft index the client has accepted
	// (on its data connection too), for the default Check: a member whose
	// index is below it is stale, not chosen. nil: only the indexes the
	// Hunter's own checks accepted. It must not block.
	MinIndex func() int64
	// ConnConfig returns the configuration of a watcher's connection to
	// remote (nil: the defaults, named after the remote). An owner that
	// adopts promoted connections into a jsonrpc.Session gives the
	// session's (Session.ConnConfig).
	ConnConfig func(remote string) jsonrpc.ConnConfig
	// CancelServerMonitor: before a promoted connection is handed over,
	// cancel its _Server monitor (one round trip) and drop what it
	// received, for an owner that sets up its own _Server monitor on it
	// (Notice.Rows is then nil).
	CancelServerMonitor bool
	// Watch configures the decisions.
	Watch hunt.Config
	// ProbeInterval is how long a watcher's connection may stay silent
	// before the watcher sends an echo, and then how long the echo may go
	// unanswered before the member counts as failed. As everywhere in this
	// module, 0 (or a negative value) disables probes: give
	// DefaultProbeInterval for OVS's default (cs passes the client's
	// interval, which is that unless cs.WithProbeInterval says otherwise).
	// Connections over unix sockets are never probed, as the session's
	// (jsonrpc.Remote.NeedsProbes).
	ProbeInterval time.Duration
	// Notify receives the notices for the owner of the data connection,
	// in order, with the Hunter's lock held: it must not block, nor call
	// the Hunter.
	Notify func(Notice)
	// Logger receives the Hunter's logs.
	Logger logr.Logger
}

// NoticeKind is the kind of a Notice.
type NoticeKind uint8

const (
	// Promote: carry on on Conn, member Member's watcher (its _Server
	// monitor is in place, its rows in Rows): monitor the data database
	// on it, then call Monitoring, or PromotedFailed.
	Promote NoticeKind = iota + 1
	// Leave: close the data connection (a suspect leader was replaced).
	Leave
	// Echo: send an echo on the data connection.
	Echo
	// NoServer: no member is usable; Log says whether to log it, and
	// Suppressed how many reports were held back before.
	NoServer
	// Rejected: member Member's _Server row was unusable (LastErr says
	// why: no such database, another cluster, a relay ...); it is backed
	// off. Sent for a member's first rejection in each recovery only
	// (hunt.Step.Rejected), so that the owner can tell the user without
	// flooding.
	Rejected
)

// Notice is something the owner of the data connection must do or know.
type Notice struct {
	Kind       NoticeKind
	Member     int
	Remote     string
	Conn       *jsonrpc.Conn
	Rows       *leader.Replica
	Log        bool
	Suppressed int
	LastErr    error
}

// Hunter runs a hunt.Watch on real connections: it opens the watchers,
// monitors _Server.Database on each, feeds their verdicts and failures to
// the Watch, runs its timers, and hands the promoted connection to the
// owner. Create it with New and run its timers with Run. The owner's
// methods are safe for concurrent use and return at once.
type Hunter struct {
	cfg    Config
	log    logr.Logger
	ctx    context.Context // the watchers' context
	cancel context.CancelFunc
	events chan event    // from the watchers
	kick   chan struct{} // the Watch's next deadline may have changed
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	w        *hunt.Watch
	watchers map[int]*watcher
	gen      uint64
	lastErr  error
	// setCID changes the cluster id of the default Check (nil with the
	// owner's own Check).
	setCID func(string)
}

type event struct {
	gen     uint64 // the watcher's generation, which names it
	failed  bool   // else a report, or a handover
	verdict hunt.Verdict
	err     error // the failure, or the check's verdict on a report
	at      time.Time
	// handover: the promoted watcher's connection, ready for the owner.
	handover bool
	conn     *jsonrpc.Conn
	rows     *leader.Replica
}

// checkRemotes returns why remotes cannot be watched, or nil.
func checkRemotes(remotes []jsonrpc.Remote, tlsConfig *tls.Config) error {
	if len(remotes) == 0 {
		return errors.New("watcher: no remotes")
	}
	for _, r := range remotes {
		if r.IsPassive() {
			return fmt.Errorf("watcher: remote %s: only active (tcp, ssl, unix) remotes can be watched", r)
		}
		if r.IsTLS() && tlsConfig == nil {
			return fmt.Errorf("watcher: remote %s: no TLS configuration", r)
		}
	}
	return nil
}

// New returns a Hunter; Start begins the hunt, Run runs its timers.
func New(cfg Config) (*Hunter, error) {
	if err := checkRemotes(cfg.Remotes, cfg.TLSConfig); err != nil {
		return nil, err
	}
	if err := cfg.Watch.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	var setCID func(string)
	if cfg.Check == nil {
		var checker leader.Checker
		var mu sync.Mutex
		db, cid, floor := cfg.Database, cfg.ClusterID, cfg.MinIndex
		setCID = func(id string) {
			mu.Lock()
			defer mu.Unlock()
			cid = id
		}
		cfg.Check = func(remote string, rows *leader.Replica) error {
			mu.Lock()
			defer mu.Unlock()
			res, err := checker.Check(rows, leader.Target{Remote: remote, Database: db, ClusterID: cid, LeaderOnly: true})
			if err != nil || floor == nil {
				return err
			}
			if seen := floor(); res.Row.Model == leader.Clustered && res.Index < seen {
				return &leader.CheckError{Remote: remote, Database: db, ClusterID: cid,
					Reason: leader.Stale, Index: res.Index, MinIndex: seen}
			}
			return nil
		}
	}
	if cfg.ConnConfig == nil {
		cfg.ConnConfig = func(remote string) jsonrpc.ConnConfig { return jsonrpc.ConnConfig{Name: remote} }
	}
	if cfg.Notify == nil {
		cfg.Notify = func(Notice) {}
	}
	log := cfg.Logger
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hunter{
		cfg:      cfg,
		log:      log,
		ctx:      ctx,
		cancel:   cancel,
		events:   make(chan event, 64),
		kick:     make(chan struct{}, 1),
		w:        hunt.New(cfg.Watch, len(cfg.Remotes)),
		watchers: map[int]*watcher{},
		setCID:   setCID,
	}, nil
}

// Watch returns the configuration of the decisions, defaults filled in.
func (h *Hunter) Watch() hunt.Config { return h.w.Config() }

// Start begins the first hunt: every member is watched.
func (h *Hunter) Start() { h.do(func(now time.Time) hunt.Step { return h.w.Start(now) }) }

// Lost reports that the data connection to member m was lost for cause
// (the owner closes it; for hunt.NotLeader, m is watched again on a new
// connection).
func (h *Hunter) Lost(m int, cause hunt.Cause) {
	h.do(func(now time.Time) hunt.Step { return h.w.Lost(now, m, cause) })
}

// Monitoring reports that the promoted member m is MONITORING, and returns
// the recovery that ended, if any.
func (h *Hunter) Monitoring(m int) (rec hunt.Recovery, ok bool) {
	h.do(func(now time.Time) hunt.Step {
		s := h.w.Monitoring(now, m)
		if s.Recovery != nil {
			rec, ok = *s.Recovery, true
		}
		return s
	})
	return rec, ok
}

// PromotedFailed reports that the promoted connection to m failed before
// MONITORING (the owner closed it). When the owner's own leader check
// rejected it for a reason that may pass (not leader any more, stale:
// hunt.VerdictOf says Waiting), m is watched again on a new connection;
// any other failure backs it off.
func (h *Hunter) PromotedFailed(m int, err error) {
	h.do(func(now time.Time) hunt.Step {
		h.lastErr = err
		if hunt.VerdictOf(err) == hunt.Waiting {
			return h.w.Report(now, m, hunt.Waiting)
		}
		return h.w.Failed(now, m, failover.OutcomeOf(err))
	})
}

// SetRemotes replaces the members (the owner's remote list changed; the
// members are then numbered in the order of remotes). A member whose
// remote is still listed keeps its watcher, backoff and failures; one
// added is watched at once while the client has no leader (or suspects
// it), else from the next recovery; one removed has its watcher (or
// promoted connection not handed over yet) closed and is never dialled
// again. The data connection is the owner's: if its remote is removed,
// the owner leaves it (as jsonrpc.Session.SetRemotes does) and the hunt
// starts, with no Leave notice.
//
// A new clusterID (the cid: item of the list) makes every member new: all
// watchers are closed and the default Check pins the new cluster; the
// owner leaves the data connection (it was checked against the old
// cluster) and the hunt starts. An owner with its own Check changes it
// itself.
func (h *Hunter) SetRemotes(remotes []jsonrpc.Remote, clusterID string) error {
	if err := checkRemotes(remotes, h.cfg.TLSConfig); err != nil {
		return err
	}
	remotes = slices.Clone(remotes)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	was := map[string]int{}
	if clusterID == h.cfg.ClusterID {
		for i, r := range h.cfg.Remotes {
			was[r.String()] = i
		}
	} else {
		h.cfg.ClusterID = clusterID
		if h.setCID != nil {
			h.setCID(clusterID)
		}
	}
	prev := make([]int, len(remotes))
	watchers := map[int]*watcher{}
	for i, r := range remotes {
		prev[i] = -1
		if old, ok := was[r.String()]; ok {
			prev[i] = old
			delete(was, r.String())
			if wt := h.watchers[old]; wt != nil {
				watchers[i] = wt
				delete(h.watchers, old)
			}
		}
	}
	h.closeAll() // the removed members' watchers
	h.watchers = watchers
	h.cfg.Remotes = remotes
	h.log.V(1).Info("remotes changed", "remotes", len(remotes), "removed", len(was), "cid", clusterID)
	h.apply(h.w.SetMembers(time.Now(), prev))
	signal(h.kick)
	return nil
}

// Heard reports that the leader sent something on the data connection.
func (h *Hunter) Heard() { h.do(func(now time.Time) hunt.Step { return h.w.Heard(now) }) }

// EchoSent reports an echo the owner sent on the data connection on its own.
func (h *Hunter) EchoSent() {
	h.do(func(now time.Time) hunt.Step {
		h.w.EchoSent(now)
		return hunt.Step{}
	})
}

// Recovering reports whether a recovery is under way.
func (h *Hunter) Recovering() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.w.Recovering()
}

// do runs one input of the Watch under the lock and carries out its Step.
func (h *Hunter) do(f func(now time.Time) hunt.Step) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.apply(f(time.Now()))
	signal(h.kick)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Run runs the Watch's timers and the watchers' reports until ctx ends,
// then closes every watcher (not a connection already handed to the
// owner) and returns ctx.Err() once every goroutine it started has ended.
func (h *Hunter) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		h.mu.Lock()
		next, ok := h.w.Next()
		h.mu.Unlock()
		if ok {
			timer.Reset(time.Until(next))
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			h.mu.Lock()
			h.closed = true
			h.closeAll()
			h.mu.Unlock()
			h.cancel()
			h.wg.Wait()
			return ctx.Err()
		case ev := <-h.events:
			h.handle(ev)
		case <-h.kick:
		case <-timer.C:
			h.do(h.w.Tick)
		}
	}
}

// handle takes a watcher's report or failure.
func (h *Hunter) handle(ev event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.memberOf(ev.gen)
	if h.closed || m < 0 {
		if ev.conn != nil {
			_ = ev.conn.Close() // a watcher closed meanwhile
		}
		return
	}
	remote := h.cfg.Remotes[m].String()
	if ev.handover {
		delete(h.watchers, m)
		h.log.V(1).Info("leader found", "remote", remote)
		h.cfg.Notify(Notice{Kind: Promote, Member: m, Remote: remote, Conn: ev.conn, Rows: ev.rows})
		return
	}
	if !ev.failed {
		if ev.verdict == hunt.Unusable && ev.err != nil {
			h.lastErr = ev.err
		}
		s := h.w.Report(ev.at, m, ev.verdict)
		if s.Rejected {
			h.cfg.Notify(Notice{Kind: Rejected, Member: m, Remote: remote, LastErr: ev.err})
		}
		h.apply(s)
		return
	}
	h.lastErr = ev.err
	h.log.V(1).Info("watcher failed", "remote", remote, "error", ev.err.Error())
	h.apply(h.w.Failed(ev.at, m, failover.OutcomeOf(ev.err)))
}

// memberOf returns the member whose watcher has generation gen, or -1 if
// that watcher was closed. h.mu is held.
func (h *Hunter) memberOf(gen uint64) int {
	for m, wt := range h.watchers {
		if wt.gen == gen {
			return m
		}
	}
	return -1
}

// apply carries out a Step. h.mu is held.
func (h *Hunter) apply(s hunt.Step) {
	for _, a := range s.Actions {
		remote := h.cfg.Remotes[a.Member].String()
		switch a.Kind {
		case hunt.ActionOpen:
			h.open(a.Member)
		case hunt.ActionClose:
			if wt := h.watchers[a.Member]; wt != nil {
				delete(h.watchers, a.Member)
				wt.close()
			}
		case hunt.ActionDemote:
			// The owner closes the data connection; watch m anew. Its
			// failures reach the Watch as the watcher's.
			h.open(a.Member)
		case hunt.ActionPromote:
			// The watcher's goroutine hands its connection over (no I/O
			// under the lock): a handover event, or a failure.
			if wt := h.watchers[a.Member]; wt != nil {
				wt.startHandover()
			}
		case hunt.ActionLeave:
			h.cfg.Notify(Notice{Kind: Leave, Member: a.Member, Remote: remote})
		case hunt.ActionEcho:
			h.cfg.Notify(Notice{Kind: Echo, Member: a.Member, Remote: remote})
		}
	}
	if s.NoServer {
		h.cfg.Notify(Notice{Kind: NoServer, Member: -1, Log: s.Log, Suppressed: s.Suppressed, LastErr: h.lastErr})
	}
}

// open starts a watcher for member m. h.mu is held.
func (h *Hunter) open(m int) {
	if old := h.watchers[m]; old != nil {
		old.close()
	}
	h.gen++
	wt := newWatcher(h, h.cfg.Remotes[m], h.gen)
	h.watchers[m] = wt
	h.wg.Add(1)
	go wt.run(h.ctx)
}

func (h *Hunter) closeAll() {
	for m, wt := range h.watchers {
		delete(h.watchers, m)
		wt.close()
	}
}

// send posts a watcher's event unless the watcher was stopped.
func (h *Hunter) send(wt *watcher, ev event) {
	ev.at = time.Now()
	ev.gen = wt.gen
	select {
	case h.events <- ev:
	case <-wt.stop:
	}
}
