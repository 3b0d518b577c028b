package cs

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"

	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/hunt/watcher"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
)

// huntPolicy is the retryPolicy built on the leader watch (package hunt,
// run on real connections by hunt/watcher): the session is Manual and
// never dials; the watchers dial (over TLS for ssl: remotes, with the
// session's configuration); while the client has no leader, a watcher per member
// monitors its _Server.Database row, and the connection of the first
// member that passes the whole leader check is adopted by the session, on
// which the state machine carries on as on any new connection.
//
// What the client sees on the data connection becomes the Watch's inputs:
// leaving MONITORING is Hunter.Lost (leader.ErrNotLeader: NotLeader, a
// probe timeout: ProbeFailed, any other transport end: Dropped, any other
// forced reconnect: Forced); a failure of an adopted connection before
// MONITORING is Hunter.PromotedFailed; reaching MONITORING is
// Hunter.Monitoring, which returns the one record of the recovery; every
// message received is Hunter.Heard.
//
// Its methods run on the client's driver goroutine, and so do the
// Hunter's notices and the outcome of an echo it asked for: they are
// handed to the driver with post. The Hunter runs goroutines of its own
// (the watchers, its timers) and is safe for concurrent use.
type huntPolicy struct {
	log     logr.Logger
	cfg     watcher.Config
	remotes []jsonrpc.Remote
	index   map[string]int
	// post hands a call to the client's driver (Client.post).
	post func(func())

	h      *watcher.Hunter
	sess   *jsonrpc.Session
	cancel context.CancelFunc
	done   chan struct{}
}

// huntable reports whether the watch can serve these remotes: active
// remotes only (tcp, unix, or ssl with the client's WithTLS
// configuration), and a leader-only client.
func huntable(remotes []jsonrpc.Remote, leaderOnly bool) bool {
	if !leaderOnly {
		return false
	}
	for _, r := range remotes {
		if r.IsPassive() {
			return false
		}
	}
	return true
}

func newHuntPolicy(cfg watcher.Config, post func(func()), log logr.Logger) *huntPolicy {
	p := &huntPolicy{log: log, cfg: cfg, remotes: cfg.Remotes, index: map[string]int{}, post: post}
	for i, r := range cfg.Remotes {
		p.index[r.String()] = i
	}
	return p
}

// bind starts the hunt on sess, a Manual session. The watchers connect
// as the session would: its TLS configuration (WithTLS) for ssl: remotes,
// its probe interval (WithProbeInterval: 5 s unless set, 0 for none), its
// connection settings.
func (p *huntPolicy) bind(sess *jsonrpc.Session) {
	cfg := p.cfg
	cfg.TLSConfig = sess.TLSConfig()
	cfg.ProbeInterval = sess.ProbeInterval()
	cfg.ConnConfig = sess.ConnConfig
	cfg.CancelServerMonitor = true // the state machine sets up its own
	cfg.Logger = p.log
	cfg.Notify = func(n watcher.Notice) { p.post(func() { p.notice(sess, n) }) }
	h, err := watcher.New(cfg)
	if err != nil {
		p.log.Error(err, "cannot watch the remotes")
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p.h, p.sess, p.cancel, p.done = h, sess, cancel, done
	go func() {
		defer close(done)
		_ = h.Run(ctx)
	}()
	h.Start()
}

// close stops the hunt and waits for its goroutines.
func (p *huntPolicy) close() {
	if p.cancel != nil {
		p.cancel()
		<-p.done
	}
}

// notice carries out what the Hunter asks of the data connection, on the
// driver.
func (p *huntPolicy) notice(sess *jsonrpc.Session, n watcher.Notice) {
	switch n.Kind {
	case watcher.Promote:
		if _, err := sess.Adopt(n.Remote, n.Conn); err != nil {
			_ = n.Conn.Close()
			p.log.Error(err, "cannot carry on on the leader's connection", "remote", n.Remote)
		}
	case watcher.Leave:
		p.log.Info("leaving a silent leader: another member leads", "remote", n.Remote)
		sess.ForceReconnect()
	case watcher.Echo:
		conn := sess.Conn()
		if conn == nil {
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := conn.Call(ctx, "echo"); err == nil {
				p.post(p.heard)
			}
		}()
	case watcher.NoServer:
		kv := []any{"lastError", n.LastErr, "next", "watching every member, backed off"}
		if n.Log {
			if n.Suppressed > 0 {
				kv = append(kv, "suppressed", n.Suppressed)
			}
			p.log.Info("no usable server", kv...)
		} else {
			p.log.V(1).Info("no usable server", kv...)
		}
	}
}

func (p *huntPolicy) hunter() *watcher.Hunter { return p.h }

func (p *huntPolicy) member(remote string) (int, bool) {
	m, ok := p.index[remote]
	return m, ok
}

// leave reports the end of the data connection to remote.
func (p *huntPolicy) leave(remote string, monitoring bool, cause hunt.Cause, reason error) {
	h := p.hunter()
	m, ok := p.member(remote)
	if h == nil || !ok {
		return
	}
	if monitoring {
		h.Lost(m, cause)
	} else {
		h.PromotedFailed(m, reason)
	}
}

func (p *huntPolicy) retry(s sessionControl, _ uint64, remote string, fromMonitoring bool, reason error) {
	cause := hunt.Forced
	if errors.Is(reason, leader.ErrNotLeader) {
		cause = hunt.NotLeader
	}
	p.leave(remote, fromMonitoring, cause, reason)
	s.ForceReconnect()
}

func (p *huntPolicy) dropped(_ sessionControl, _ uint64, remote string, wasMonitoring bool, reason error) {
	cause := hunt.Dropped
	if errors.Is(reason, jsonrpc.ErrProbeTimeout) {
		cause = hunt.ProbeFailed
	}
	p.leave(remote, wasMonitoring, cause, reason)
}

func (p *huntPolicy) disconnect(s sessionControl, _ uint64, remote string, fromMonitoring bool, reason error) {
	p.leave(remote, fromMonitoring, hunt.Forced, reason)
	s.ForceReconnect()
}

func (p *huntPolicy) observe(jsonrpc.Observation) {}

// monitoring ends the recovery and returns its record, the one owner of
// its figures.
func (p *huntPolicy) monitoring(_ uint64, remote string) (policyRecord, bool) {
	h := p.hunter()
	m, ok := p.member(remote)
	if h == nil || !ok {
		return policyRecord{}, false
	}
	rec, ok := h.Monitoring(m)
	if !ok {
		return policyRecord{}, false
	}
	return policyRecord{own: true, attempts: rec.Attempts, backoffUsed: rec.BackoffUsed, watch: &rec}, true
}

func (p *huntPolicy) heard() {
	if h := p.hunter(); h != nil {
		h.Heard()
	}
}

func (p *huntPolicy) deadline() (time.Time, bool) { return time.Time{}, false }
func (p *huntPolicy) run(sessionControl)          {}

// setRemotes: the watch keeps the remotes it started with.
func (p *huntPolicy) setRemotes(int) {
	p.log.Info("remote list changed: the leader watch keeps the members it started with until the client restarts")
}
