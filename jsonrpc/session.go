package jsonrpc

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/ovsdbcs/ovsdbcs/reconnect"
)

// oneShotBackoff is the backoff of a one-shot session (C: INT_MAX ms), so
// that it never makes a second pass.
const oneShotBackoff = time.Duration(math.MaxInt32) * time.Millisecond

// maxRunSteps bounds the FSM actions taken in one step of the session loop.
const maxRunSteps = 16

// SessionConfig configures a [Session]. The zero value gives the defaults
// of OVS's jsonrpc_session, except that probes are off until ProbeInterval
// is set: as everywhere in this module, a probe interval of 0 disables
// probes.
type SessionConfig struct {
	// KeepOrder keeps the remotes in the order given. By default they are
	// shuffled (OVS does, to spread clients over a cluster).
	KeepOrder bool

	// OneShot makes one pass over the remotes and gives up (OVS's
	// jsonrpc_session_open_multiple with retry=false): no retry
	// once every remote failed, and none after a connection ends. IsAlive
	// then reports false.
	OneShot bool

	// MaxBackoff is the longest wait between attempts; 0 means the default,
	// 8 s (reconnect.DefaultMaxBackoff). The reconnect FSM never waits less
	// than 1 s (reconnect.DefaultMinBackoff) after a failure, so a value
	// below 1 s is rejected with ErrInvalidConfig rather than raised.
	MaxBackoff time.Duration

	// ProbeInterval is how long a connection may stay silent before the
	// session sends an echo probe, and then how long the probe may go
	// unanswered before the session drops the connection. 0 (or a negative
	// value) disables probes; OVS's default is reconnect.DefaultProbeInterval
	// (5 s). A value between 0 and 1 s is rejected with ErrInvalidConfig
	// (the reconnect FSM would raise it to 1 s). Connections over unix
	// sockets are never probed, as in OVS's jsonrpc_session_open, because
	// the kernel reports a dead peer there.
	ProbeInterval time.Duration

	// TLSConfig is used for ssl: (as a client) and pssl: (as a server; it
	// needs Certificates). For ssl:, an empty ServerName is set to the
	// remote's host. Required when a remote uses TLS.
	TLSConfig *tls.Config

	// Dial opens a connection; default a net.Dialer. It must return soon
	// after ctx ends.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)

	// Listen opens a listener for a passive remote; default a
	// net.ListenConfig.
	Listen func(ctx context.Context, network, address string) (net.Listener, error)

	// Logger receives the session's logs, one line per event, with
	// constant messages: V(0) connections made, failed and dropped and the
	// wait before the next attempt (V(1) while the backoff stays at its
	// maximum); V(1) attempts, probes and owner requests; the connections
	// log messages below that (see ConnConfig.Logger). A cause is an error
	// under the key "err". Failures the session recovers from by itself are
	// Info lines; Error is used for what needs an operator (a passive
	// remote that cannot listen or accept). The zero Logger discards
	// everything.
	Logger logr.Logger

	// Conn holds the limits for each connection. Its Name, NextID,
	// DropEchoReplies and Logger are set by the session.
	// Its MaxBacklogMessages and MaxBacklogBytes bound the send backlog;
	// 0 gives the defaults (DefaultMaxBacklogMessages,
	// DefaultMaxBacklogBytes), a negative value no limit.
	Conn ConnConfig

	// Observer, if set, is called on the session's goroutine for every
	// connection step, in order (see Observation), with no lock held. It
	// must return quickly; it may call the session's methods, except Close
	// (which waits for that goroutine).
	Observer func(Observation)

	// Manual: the session never connects on its own; its connections come
	// from Adopt (a caller that finds the server itself, such as a leader
	// hunt). It probes an adopted connection and reports its end like any
	// other, then waits for the next Adopt. See session_adopt.go.
	Manual bool
}

// Session keeps a JSON-RPC connection to one of several remotes up,
// driven by the reconnect FSM as OVS's jsonrpc_session is (lib/jsonrpc.c): it
// walks the remotes round robin, backs off, probes idle connections, and
// reconnects. The owner reads an ordered event stream with Recv and talks
// with Send and Call, or on the Conn of an event.
//
// A Session runs one goroutine (the loop) that waits for timers, dial
// results, accepted connections, activity and connection ends. All state
// is under one mutex, which the loop and the public methods take briefly;
// nothing blocking happens under it (dials run on their own goroutines,
// and connection I/O on the connections' goroutines). All methods are safe
// for concurrent use. Close stops everything.
type Session struct {
	cfg  SessionConfig
	log  logr.Logger
	ids  atomic.Uint64
	wg   sync.WaitGroup // dial, accept and connection goroutines
	once sync.Once

	wake     chan struct{} // cap 1: a method changed the state
	evReady  chan struct{} // cap 1: a connection record was added
	dialc    chan dialResult
	acceptc  chan acceptResult
	closing  chan struct{} // closed by Close
	loopDone chan struct{}

	mu      sync.Mutex
	closed  bool
	fsm     *reconnect.FSM
	remotes []Remote
	next    int // C: next_remote; the remote picked next is remotes[next%n]
	cur     int // the remote being connected (or to connect next)
	conn    *Conn
	connRec *connRecord
	attempt *attempt
	lis     *listener
	seqno   uint64
	lastErr error
	records []*connRecord
	obs     []Observation
	// Work the loop does once it has released the lock: closing
	// connections and listeners (a TLS close sends an alert) and opening
	// the passive listener.
	toClose   []io.Closer
	listenReq *listenRequest
	quiet     bool // at the maximum backoff: log failures at V(1)

	// Settings that survive SetRemotes.
	minBackoff, maxBackoff time.Duration
	probe                  time.Duration
	backlogMsgs            int
	backlogBytes           int
}

// attempt is a connection attempt in progress.
type attempt struct {
	remote Remote
	cancel context.CancelFunc
}

type dialResult struct {
	a   *attempt
	nc  net.Conn
	err error
}

// listener is an open passive listener.
type listener struct {
	remote Remote
	l      net.Listener
}

// listenRequest asks the loop to open the listener of remote for fsm.
type listenRequest struct {
	fsm    *reconnect.FSM
	remote Remote
}

type acceptResult struct {
	lis *listener
	nc  net.Conn
	err error
}

// NewSession starts a session over remotes (see ParseRemotes). A passive
// remote (ptcp:, pssl:, punix:) must be the only one: the session then
// listens, and each accepted connection replaces the current one.
// The session starts connecting at once; Close it when done.
func NewSession(remotes []Remote, cfg SessionConfig) (*Session, error) {
	if cfg.Dial == nil {
		d := &net.Dialer{}
		cfg.Dial = d.DialContext
	}
	if cfg.Listen == nil {
		lc := &net.ListenConfig{}
		cfg.Listen = lc.Listen
	}
	s := &Session{
		cfg:        cfg,
		log:        cfg.Logger,
		wake:       make(chan struct{}, 1),
		evReady:    make(chan struct{}, 1),
		dialc:      make(chan dialResult),
		acceptc:    make(chan acceptResult),
		closing:    make(chan struct{}),
		loopDone:   make(chan struct{}),
		minBackoff: reconnect.DefaultMinBackoff,

		backlogMsgs:  cfg.Conn.MaxBacklogMessages,
		backlogBytes: cfg.Conn.MaxBacklogBytes,
	}
	var err error
	if s.maxBackoff, err = checkMaxBackoff(cfg.MaxBackoff); err != nil {
		return nil, err
	}
	if s.probe, err = checkProbeInterval(cfg.ProbeInterval); err != nil {
		return nil, err
	}
	if err := s.checkRemotes(remotes); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.startFSMLocked(time.Now(), remotes, nil)
	s.mu.Unlock()
	go s.loop()
	return s, nil
}

func (s *Session) checkRemotes(remotes []Remote) error {
	if len(remotes) == 0 {
		return fmt.Errorf("%w: no remote", ErrInvalidRemote)
	}
	for _, r := range remotes {
		if r.IsPassive() && len(remotes) > 1 {
			return fmt.Errorf("%w %q: a passive remote must be the only one", ErrInvalidRemote, r)
		}
		if r.IsTLS() && s.cfg.TLSConfig == nil {
			return fmt.Errorf("%w %q: TLS remote without SessionConfig.TLSConfig", ErrInvalidRemote, r)
		}
	}
	return nil
}

// startFSMLocked installs remotes (shuffled unless KeepOrder) and a new
// reconnect FSM set up as jsonrpc_session_open_multiple does (one
// backoff-free try per remote; one-shot and passive modes),
// with the session's settings. keep, if set, is the live connection's
// remote, which the new FSM adopts as connected (as jsonrpc_session_replace
// does).
func (s *Session) startFSMLocked(now time.Time, remotes []Remote, keep *Remote) {
	rs := slices.Clone(remotes)
	if !s.cfg.KeepOrder {
		rand.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	}
	s.remotes = rs
	s.next = 0

	// The FSM gets no logger: the session logs each connection event
	// once, with the remote and the error.
	f := reconnect.New(now)
	f.SetBackoff(s.minBackoff, s.maxBackoff)
	s.fsm = f
	s.pickRemoteLocked()
	if !s.cfg.Manual {
		f.Enable(now)
	}
	f.SetBackoffFreeTries(uint32(len(rs)))
	if rs[0].IsPassive() {
		f.SetPassive(true, now)
	} else if s.cfg.OneShot {
		f.SetMaxTries(uint32(len(rs)))
		f.SetBackoff(oneShotBackoff, oneShotBackoff)
	}
	if keep != nil {
		i := slices.IndexFunc(rs, func(r Remote) bool { return r.String() == keep.String() })
		s.cur, s.next = i, i+1
		f.SetName(rs[i].String())
		f.Connected(now)
	}
	s.applyProbeLocked()
}

// pickRemoteLocked moves to the next remote, round robin
// (jsonrpc_session_pick_remote).
func (s *Session) pickRemoteLocked() {
	s.cur = s.next % len(s.remotes)
	s.next++
	s.fsm.SetName(s.remotes[s.cur].String())
}

// applyProbeLocked sets the FSM's probe interval for the current remote:
// off for unix sockets (checked per remote, where C checks the first).
func (s *Session) applyProbeLocked() {
	p := s.probe
	if !s.remotes[s.cur].NeedsProbes() {
		p = 0
	}
	s.fsm.SetProbeInterval(p)
}

// loop is the session's goroutine.
func (s *Session) loop() {
	defer close(s.loopDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		s.runLocked(now)
		d, hasDeadline := s.fsm.Timeout(now)
		var act, connDone <-chan struct{}
		if s.conn != nil {
			act, connDone = s.conn.Activity(), s.conn.Done()
		}
		req := s.listenReq
		s.listenReq = nil
		s.unlockAndFlush()
		if req != nil {
			l, err := s.openListener(req.remote)
			s.mu.Lock()
			s.handleListenLocked(time.Now(), req, l, err)
			s.unlockAndFlush()
			continue
		}

		var timerC <-chan time.Time
		if hasDeadline {
			timer.Reset(d)
			timerC = timer.C
		}
		select {
		case <-timerC:
		case <-s.wake:
		case <-connDone:
		case <-act:
			s.mu.Lock()
			s.fsm.Activity(time.Now())
			s.mu.Unlock()
		case r := <-s.dialc:
			s.mu.Lock()
			s.handleDialLocked(time.Now(), r)
			s.unlockAndFlush()
		case a := <-s.acceptc:
			s.mu.Lock()
			s.handleAcceptLocked(time.Now(), a)
			s.unlockAndFlush()
		case <-s.closing:
			timer.Stop()
			s.mu.Lock()
			s.closed = true
			s.disconnectLocked(time.Now(), ErrSessionClosed)
			s.closeListenerLocked()
			s.unlockAndFlush()
			return
		}
		timer.Stop()
	}
}

// unlockAndFlush releases the lock, then closes what was given up under
// it and reports the observations made, in order.
func (s *Session) unlockAndFlush() {
	obs, closers := s.obs, s.toClose
	s.obs, s.toClose = nil, nil
	s.mu.Unlock()
	for _, c := range closers {
		_ = c.Close()
	}
	if s.cfg.Observer == nil {
		return
	}
	for _, o := range obs {
		s.cfg.Observer(o)
	}
}

func (s *Session) observeLocked(now time.Time, kind ObservationKind, remote string, err error) {
	if s.cfg.Observer == nil {
		return
	}
	s.obs = append(s.obs, Observation{
		Kind: kind, Time: now, Remote: remote, Seqno: s.seqno, Err: err,
		FreeTries: s.fsm.BackoffFreeTries(),
	})
}

// runLocked is jsonrpc_session_run: it notices a finished connection, then
// does what the FSM asks until it asks nothing.
func (s *Session) runLocked(now time.Time) {
	if c := s.conn; c != nil {
		select {
		case <-c.Done():
			err := c.Err()
			s.fsm.Disconnected(now, err)
			s.lastErr = err
			s.disconnectLocked(now, err)
			s.afterFailureLocked(now)
		default:
		}
	}
	for range maxRunSteps {
		if c := s.conn; c != nil {
			select {
			case <-c.Activity():
				s.fsm.Activity(now)
			default:
			}
			// The reader goroutine is always receiving, so a probe
			// deadline is never held back waiting for a receive attempt.
			s.fsm.ReceiveAttempted(now)
		}
		state := s.fsm.State()
		switch s.fsm.Run(now) {
		case reconnect.None:
			return
		case reconnect.Connect:
			s.connectLocked(now)
			if s.listenReq != nil {
				return // the loop opens the listener, then steps again
			}
		case reconnect.Disconnect:
			reason := ErrForcedReconnect
			switch state {
			case reconnect.Connecting:
				reason = ErrConnectTimeout
			case reconnect.Idle:
				reason = ErrProbeTimeout
			}
			err := fmt.Errorf("%s: %w", s.remotes[s.cur], reason)
			s.fsm.Disconnected(now, nil)
			s.lastErr = err
			s.disconnectLocked(now, err)
			s.afterFailureLocked(now)
		case reconnect.Probe:
			if s.conn != nil {
				s.log.V(1).Info("sending inactivity probe", "remote", s.conn.Name())
				_ = s.conn.Send(newEcho())
			}
		}
	}
}

// connectLocked starts an attempt (or listens, in passive mode) to the
// current remote (C: jsonrpc_session_connect).
func (s *Session) connectLocked(now time.Time) {
	s.disconnectLocked(now, fmt.Errorf("%s: %w", s.remotes[s.cur], ErrForcedReconnect))
	r := s.remotes[s.cur]
	s.applyProbeLocked()
	if s.fsm.IsPassive() {
		if s.lis == nil {
			// The loop opens the listener once it has released the lock,
			// then calls handleListenLocked.
			s.listenReq = &listenRequest{fsm: s.fsm, remote: r}
			return
		}
		s.fsm.Listening(now)
		s.observeLocked(now, ObserveListening, r.String(), nil)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &attempt{remote: r, cancel: cancel}
	s.attempt = a
	s.fsm.Connecting(now)
	if l := s.log.V(1); l.Enabled() {
		l.Info("connecting", "remote", r.String())
	}
	s.observeLocked(now, ObserveConnecting, r.String(), nil)
	s.wg.Add(1)
	go s.dial(ctx, a)
}

// dial runs one attempt on its own goroutine, TLS handshake included.
func (s *Session) dial(ctx context.Context, a *attempt) {
	defer s.wg.Done()
	r := a.remote
	nc, err := DialRemote(ctx, r, s.cfg.Dial, s.cfg.TLSConfig)
	if err != nil {
		err = fmt.Errorf("%s: %w", r, err)
	}
	select {
	case s.dialc <- dialResult{a: a, nc: nc, err: err}:
	case <-s.closing:
		if nc != nil {
			_ = nc.Close()
		}
	}
}

// handleDialLocked takes the result of an attempt.
func (s *Session) handleDialLocked(now time.Time, r dialResult) {
	if r.a != s.attempt {
		// Abandoned meanwhile.
		r.a.cancel()
		if r.nc != nil {
			s.toClose = append(s.toClose, r.nc)
		}
		return
	}
	s.attempt = nil
	r.a.cancel()
	name := r.a.remote.String()
	if r.err != nil {
		// A failed attempt: no seqno bump, next remote.
		s.fsm.ConnectFailed(now, r.err)
		s.lastErr = r.err
		s.failureLog().Info("connection attempt failed", "remote", name, "err", r.err)
		s.observeLocked(now, ObserveConnectFailed, name, r.err)
		s.pickRemoteLocked()
		s.afterFailureLocked(now)
		return
	}
	s.fsm.Connected(now)
	s.establishLocked(now, r.nc, name)
}

// establishLocked makes nc the session's connection (seqno++).
func (s *Session) establishLocked(now time.Time, nc net.Conn, name string) {
	c := newConn(nc, s.connConfigLocked(name), &s.wg)
	s.conn = c
	s.seqno++
	s.connRec = &connRecord{conn: c, remote: name, seqno: s.seqno}
	s.pushRecordLocked(s.connRec)
	s.quiet = false
	s.log.Info("connected", "remote", name, "seqno", s.seqno)
	s.observeLocked(now, ObserveConnected, name, nil)
}

// disconnectLocked tears down the connection or the attempt in progress,
// if any (C: jsonrpc_session_disconnect): seqno++ and the next remote. The
// caller has told the FSM.
func (s *Session) disconnectLocked(now time.Time, reason error) {
	switch {
	case s.conn != nil:
		c := s.conn
		s.conn = nil
		c.shutdown(reason)
		s.connRec.dead = true
		s.connRec = nil
		s.seqno++
		err := c.Err()
		if !errors.Is(reason, ErrSessionClosed) {
			s.failureLog().Info("connection dropped", "remote", c.Name(), "err", err)
		}
		s.observeLocked(now, ObserveDisconnected, c.Name(), err)
	case s.attempt != nil:
		a := s.attempt
		s.attempt = nil
		a.cancel()
		s.seqno++
		if !errors.Is(reason, ErrSessionClosed) {
			s.failureLog().Info("connection attempt abandoned", "remote", a.remote.String(), "err", reason)
		}
		s.observeLocked(now, ObserveConnectFailed, a.remote.String(), reason)
	default:
		return
	}
	if !s.closed {
		s.pickRemoteLocked()
	}
}

// afterFailureLocked reports the wait before the next attempt, and gives
// up a one-shot session that has no try left.
func (s *Session) afterFailureLocked(now time.Time) {
	if s.cfg.Manual {
		s.fsm.Disable(now) // wait for the next Adopt
		return
	}
	switch s.fsm.State() {
	case reconnect.Backoff:
		if s.cfg.OneShot && s.fsm.MaxTries() == 0 && !s.fsm.IsPassive() {
			s.fsm.Disable(now)
			s.log.Info("giving up", "remotes", len(s.remotes), "oneShot", true)
			s.observeLocked(now, ObserveGaveUp, "", s.lastErr)
			return
		}
		d, _ := s.fsm.Timeout(now)
		next := s.remotes[s.cur].String()
		atMax := s.fsm.Stats(now).Backoff >= s.fsm.MaxBackoff()
		switch {
		case d > 0 || atMax:
			// The first wait at the maximum backoff is logged at V(0)
			// with atMaxBackoff=true; later ones, and the failures between
			// them, at V(1) (OVS stops logging them too).
			s.failureLog().Info("waiting before reconnect", "next", next, "backoff", d, "atMaxBackoff", atMax)
			s.quiet = atMax
		default:
			s.quiet = false
			s.log.V(1).Info("reconnecting at once", "next", next, "freeTries", s.fsm.BackoffFreeTries())
		}
		if s.cfg.Observer != nil {
			s.obs = append(s.obs, Observation{
				Kind: ObserveBackoff, Time: now, Remote: next, Seqno: s.seqno,
				Backoff: d, FreeTries: s.fsm.BackoffFreeTries(),
			})
		}
	case reconnect.Void:
		s.log.Info("giving up", "remotes", len(s.remotes), "oneShot", false)
		s.observeLocked(now, ObserveGaveUp, "", s.lastErr)
	}
}

// failureLog is the logger for failed and dropped connections and the
// waits after them: V(0), or V(1) while the backoff stays at its maximum
// (OVS stops logging then, in reconnect_disconnected).
func (s *Session) failureLog() logr.Logger {
	if s.quiet {
		return s.log.V(1)
	}
	return s.log
}

// openListener opens the listener of a passive remote. The loop calls it
// without the lock.
func (s *Session) openListener(r Remote) (net.Listener, error) {
	l, err := s.cfg.Listen(context.Background(), r.Network(), r.Address())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r, err)
	}
	if r.IsTLS() {
		l = tls.NewListener(l, s.cfg.TLSConfig)
	}
	return l, nil
}

// handleListenLocked takes the result of openListener for req: unless the
// session moved on meanwhile (closed, new remotes, or a listener already
// open), it starts accepting and reports Listening to the FSM, or reports
// the failure.
func (s *Session) handleListenLocked(now time.Time, req *listenRequest, l net.Listener, err error) {
	if s.closed || s.fsm != req.fsm || s.lis != nil {
		if l != nil {
			s.toClose = append(s.toClose, l)
		}
		return
	}
	r := req.remote
	if err != nil {
		s.fsm.ConnectFailed(now, err)
		s.lastErr = err
		s.log.Error(err, "cannot listen", "remote", r.String())
		s.observeLocked(now, ObserveConnectFailed, r.String(), err)
		s.pickRemoteLocked()
		s.afterFailureLocked(now)
		return
	}
	lis := &listener{remote: r, l: l}
	s.lis = lis
	s.log.Info("listening", "remote", r.String(), "address", l.Addr().String())
	s.wg.Add(1)
	go s.accept(lis)
	s.fsm.Listening(now)
	s.observeLocked(now, ObserveListening, r.String(), nil)
}

// accept runs the accept loop of a listener on its own goroutine.
func (s *Session) accept(lis *listener) {
	defer s.wg.Done()
	for {
		nc, err := lis.l.Accept()
		select {
		case s.acceptc <- acceptResult{lis: lis, nc: nc, err: err}:
		case <-s.closing:
			if nc != nil {
				_ = nc.Close()
			}
			return
		}
		if err != nil {
			return
		}
	}
}

// closeListenerLocked gives up the listener; the loop closes it once it
// has released the lock (before it opens another).
func (s *Session) closeListenerLocked() {
	if s.lis != nil {
		s.toClose = append(s.toClose, s.lis.l)
		s.lis = nil
	}
}

// handleAcceptLocked takes an accepted connection: it replaces the
// current one.
func (s *Session) handleAcceptLocked(now time.Time, a acceptResult) {
	if a.lis != s.lis {
		if a.nc != nil {
			s.toClose = append(s.toClose, a.nc)
		}
		return
	}
	if a.err != nil {
		err := fmt.Errorf("%s: accept: %w", a.lis.remote, a.err)
		s.closeListenerLocked()
		s.fsm.ListenError(now, err)
		s.lastErr = err
		s.log.Error(a.err, "cannot accept connections", "remote", a.lis.remote.String())
		s.afterFailureLocked(now)
		return
	}
	name := a.lis.remote.Method[1:] + ":" + a.nc.RemoteAddr().String()
	if a.lis.remote.Network() == "unix" {
		name = "unix:" + a.lis.remote.Path
	}
	if s.conn != nil || s.attempt != nil {
		s.log.Info("new connection replacing active connection", "remote", name, "old", s.remotes[s.cur].String())
		s.disconnectLocked(now, fmt.Errorf("replaced by a new connection from %s: %w", name, ErrForcedReconnect))
	}
	s.fsm.Connected(now)
	s.establishLocked(now, a.nc, name)
}

// wakeLoop makes the loop recompute what to do after a method changed
// the state.
func (s *Session) wakeLoop() { signal(s.wake) }

// ForceReconnect drops the connection (or abandons the attempt in
// progress) and reconnects to the next remote, after the backoff: the
// forced disconnection counts as a failure (reconnect_force_reconnect). Call ResetBackoff first to
// reconnect at once (OVS's ovsdb_cs_force_reconnect from MONITORING). It
// does nothing while the session waits or listens.
func (s *Session) ForceReconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.V(1).Info("reconnect forced", "remote", s.remotes[s.cur].String(), "state", s.fsm.State().String())
	s.fsm.ForceReconnect(time.Now())
	s.wakeLoop()
}

// ResetBackoff gives the session one backoff-free try per remote, plus one
// while connected, because dropping the current connection spends one
// (jsonrpc_session_reset_backoff). After a ForceReconnect, every remote is
// then tried once with no wait, the current one last; then backoff
// resumes.
func (s *Session) ResetBackoff() {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := uint32(len(s.remotes))
	if s.conn != nil {
		n++
	}
	s.log.V(1).Info("backoff reset", "freeTries", n)
	s.fsm.SetBackoffFreeTries(n)
	s.wakeLoop()
}

// ConnectNow drops the connection (or abandons the attempt, or ends the
// wait) and starts an attempt to the next remote at once. The backoff
// sequence then starts over (the next failure waits the minimum backoff,
// unless free tries are left); backoff-free tries are kept. A one-shot
// session that has given up is not restarted. It is the hook for retry
// policies that decide themselves when to try again.
func (s *Session) ConnectNow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if !s.fsm.IsEnabled() {
		return
	}
	s.log.V(1).Info("immediate reconnect requested", "state", s.fsm.State().String())
	free := s.fsm.BackoffFreeTries()
	s.fsm.Disable(now)
	s.fsm.Enable(now)
	s.fsm.SetBackoffFreeTries(free)
	s.wakeLoop()
}

// SetRemotes replaces the remotes. Nothing happens if the set of remotes is
// unchanged (in any order). Otherwise the list is shuffled (unless
// KeepOrder) and the reconnect FSM starts over as for a new session
// (backoff-free tries for the first sweep), with this session's settings
// (max backoff, probe interval, backlog limits, one-shot): unlike OVS,
// settings are kept. A live connection to a remote still listed is kept
// and the walk continues after it; otherwise it is dropped.
func (s *Session) SetRemotes(remotes []Remote) error {
	if err := s.checkRemotes(remotes); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	if sameRemotes(s.remotes, remotes) {
		return nil
	}
	now := time.Now()
	var keep *Remote
	if s.conn != nil {
		name := s.conn.Name()
		for _, r := range remotes {
			if r.String() == name {
				keep = &r
				break
			}
		}
	}
	s.log.Info("remotes changed", "remotes", len(remotes), "keepConnection", keep != nil)
	if keep == nil {
		s.disconnectLocked(now, fmt.Errorf("remotes changed: %w", ErrForcedReconnect))
	}
	s.closeListenerLocked()
	s.startFSMLocked(now, remotes, keep)
	s.wakeLoop()
	return nil
}

func sameRemotes(a, b []Remote) bool {
	if len(a) != len(b) {
		return false
	}
	names := func(rs []Remote) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.String()
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(names(a), names(b))
}

// checkMaxBackoff returns the maximum backoff a SessionConfig.MaxBackoff
// of d stands for.
func checkMaxBackoff(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return reconnect.DefaultMaxBackoff, nil
	case d < reconnect.DefaultMinBackoff:
		return 0, fmt.Errorf("%w: max backoff %v is below the minimum backoff of %v",
			ErrInvalidConfig, d, reconnect.DefaultMinBackoff)
	}
	return d, nil
}

// checkProbeInterval returns the probe interval a
// SessionConfig.ProbeInterval of d stands for (0: no probes).
func checkProbeInterval(d time.Duration) (time.Duration, error) {
	switch {
	case d <= 0:
		return 0, nil
	case d < minProbeInterval:
		return 0, fmt.Errorf("%w: probe interval %v is below the minimum of %v (0 disables probes)",
			ErrInvalidConfig, d, minProbeInterval)
	}
	return d, nil
}

// minProbeInterval is the shortest probe interval OVS's reconnect FSM
// keeps (reconnect_set_probe_interval in lib/reconnect.c).
const minProbeInterval = time.Second

// SetMaxBackoff sets the longest wait between attempts, as
// SessionConfig.MaxBackoff does: 0 means the default 8 s, and a value
// below 1 s is rejected with ErrInvalidConfig. It survives SetRemotes.
func (s *Session) SetMaxBackoff(d time.Duration) error {
	d, err := checkMaxBackoff(d)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxBackoff = d
	if !s.cfg.OneShot {
		s.fsm.SetBackoff(s.minBackoff, d)
	}
	s.wakeLoop()
	return nil
}

// SetProbeInterval sets the inactivity probe interval, as
// SessionConfig.ProbeInterval does: 0 disables probes, and a value between
// 0 and 1 s is rejected with ErrInvalidConfig. It survives SetRemotes.
// Unix socket connections are never probed.
func (s *Session) SetProbeInterval(d time.Duration) error {
	d, err := checkProbeInterval(d)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.probe = d
	s.applyProbeLocked()
	s.wakeLoop()
	return nil
}

// SetBacklogLimits sets the send backlog limits of the current and later
// connections, as ConnConfig.MaxBacklogMessages and MaxBacklogBytes do: 0
// means the default, a negative value no limit.
func (s *Session) SetBacklogLimits(messages, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backlogMsgs, s.backlogBytes = messages, bytes
	if s.conn != nil {
		s.conn.SetBacklogLimits(messages, bytes)
	}
}

// Conn returns the current connection, or nil.
func (s *Session) Conn() *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// Send sends m on the current connection; ErrNotConnected if there is
// none. To be sure a message goes on the connection whose events you are
// handling, send on Event.Conn instead.
func (s *Session) Send(m *Message) error {
	c := s.Conn()
	if c == nil {
		return ErrNotConnected
	}
	return c.Send(m)
}

// Call calls method on the current connection (see Conn.Call);
// ErrNotConnected if there is none.
func (s *Session) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	c := s.Conn()
	if c == nil {
		return nil, ErrNotConnected
	}
	return c.Call(ctx, method, params...)
}

// IsConnected reports whether the session has a connection (C:
// jsonrpc_session_is_connected).
func (s *Session) IsConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

// IsAlive reports whether the session is connected, connecting, or may
// still try (jsonrpc_session_is_alive). Only a one-shot session that used its tries, or a
// closed session, is not alive.
func (s *Session) IsAlive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	return s.conn != nil || s.attempt != nil || (s.fsm.IsEnabled() && s.fsm.MaxTries() != 0)
}

// LastError returns the error that ended the last connection or attempt,
// or nil if none ever failed.
func (s *Session) LastError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Seqno returns the session's sequence number: it grows when a connection
// completes and when a connection or attempt is torn down (a connect that
// fails at once does not count), so a
// changed value means a different connection.
func (s *Session) Seqno() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seqno
}

// Remote returns the name of the current remote: the one connected, being
// tried, or to be tried next. For a passive session with a connection it
// is the peer.
func (s *Session) Remote() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return s.conn.Name()
	}
	return s.remotes[s.cur].String()
}

// Remotes returns the remotes in the order the session walks them.
func (s *Session) Remotes() []Remote {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.remotes)
}

// ListenAddr returns the address a passive session listens on, or nil.
func (s *Session) ListenAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lis == nil {
		return nil
	}
	return s.lis.l.Addr()
}

// SessionStats is a snapshot of a session's state.
type SessionStats struct {
	reconnect.Stats               // the FSM's statistics
	Remote          string        // see Session.Remote
	Remotes         int           // number of remotes
	Seqno           uint64        // see Session.Seqno
	FreeTries       uint32        // backoff-free tries left
	BacklogMessages int           // send backlog of the connection
	BacklogBytes    int           //
	ReceivedBytes   uint64        // bytes received on the connection
	LastError       error         // see Session.LastError
	ProbeInterval   time.Duration // in effect for the current remote
	MaxBackoff      time.Duration //
}

// Stats returns a snapshot of the session's state.
func (s *Session) Stats() SessionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	st := SessionStats{
		Stats:         s.fsm.Stats(now),
		Remote:        s.remotes[s.cur].String(),
		Remotes:       len(s.remotes),
		Seqno:         s.seqno,
		FreeTries:     s.fsm.BackoffFreeTries(),
		LastError:     s.lastErr,
		ProbeInterval: s.fsm.ProbeInterval(),
		MaxBackoff:    s.fsm.MaxBackoff(),
	}
	if s.conn != nil {
		st.Remote = s.conn.Name()
		st.BacklogMessages, st.BacklogBytes = s.conn.Backlog()
		st.ReceivedBytes = s.conn.ReceivedBytes()
	}
	return st
}

// Close stops the session: the connection and any attempt or listener are
// closed, Recv returns ErrSessionClosed, and Close returns once every
// goroutine of the session (its loop, dials, accept loop, connections) has
// ended. It is idempotent.
func (s *Session) Close() error {
	s.once.Do(func() { close(s.closing) })
	<-s.loopDone
	s.wg.Wait()
	return nil
}
