package jsonrpc

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrNotARemote is returned by Adopt for a remote that is not one of the
// session's.
var ErrNotARemote = errors.New("jsonrpc: not one of the session's remotes")

// Adopt makes c, an open connection to remote (one of the session's
// remotes, by its String form), the session's connection, as if the
// session had just connected it: a new seqno, an EventConnected, then its
// messages (those c queued before are delivered first), probes and the
// report of its end. A connection or attempt in progress is dropped
// first. Create c with the session's ConnConfig so that echo replies to
// the session's probes are dropped. It returns the connection's seqno.
//
// It is meant for a Manual session, whose caller finds the server to use
// itself, and carries on on the connection it found it on.
func (s *Session) Adopt(remote string, c *Conn) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrSessionClosed
	}
	i := slices.IndexFunc(s.remotes, func(r Remote) bool { return r.String() == remote })
	if i < 0 {
		return 0, fmt.Errorf("%w: %s", ErrNotARemote, remote)
	}
	now := time.Now()
	if s.conn != nil || s.attempt != nil {
		s.fsm.Disconnected(now, nil)
		s.disconnectLocked(now, fmt.Errorf("%s: %w", s.remotes[s.cur], ErrForcedReconnect))
	}
	s.cur, s.next = i, i+1
	s.fsm.SetName(remote)
	s.applyProbeLocked()
	s.fsm.Connected(now)
	s.conn = c
	s.seqno++
	s.connRec = &connRecord{conn: c, remote: remote, seqno: s.seqno}
	s.pushRecordLocked(s.connRec)
	s.quiet = false
	s.log.Info("connected", "remote", remote, "seqno", s.seqno, "adopted", true)
	s.observeLocked(now, ObserveConnected, remote, nil)
	s.wakeLoop()
	return s.seqno, nil
}

// ConnConfig returns the configuration the session gives its own
// connections, for a connection to be adopted: the session's request ids,
// echo replies dropped, the session's backlog limits and logger, and name.
func (s *Session) ConnConfig(name string) ConnConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connConfigLocked(name)
}

func (s *Session) connConfigLocked(name string) ConnConfig {
	cc := s.cfg.Conn
	cc.NextID = func() uint64 { return s.ids.Add(1) }
	cc.Name = name
	cc.DropEchoReplies = true
	cc.MaxBacklogMessages, cc.MaxBacklogBytes = s.backlogMsgs, s.backlogBytes
	if cc.Logger.GetSink() == nil {
		cc.Logger = s.log
	}
	return cc
}

// TLSConfig returns SessionConfig.TLSConfig, for a caller that connects
// to ssl: remotes on a Manual session's behalf (with DialRemote) as the
// session would.
func (s *Session) TLSConfig() *tls.Config { return s.cfg.TLSConfig }

// ProbeInterval returns the inactivity probe interval set by
// SessionConfig.ProbeInterval or SetProbeInterval (0: no probes), for a
// caller that keeps connections on a Manual session's behalf and probes
// them as the session would (never over unix sockets, Remote.NeedsProbes).
func (s *Session) ProbeInterval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.probe
}
