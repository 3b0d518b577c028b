package jsonrpc

import (
	"context"
	"strconv"
	"time"
)

// EventKind is the kind of an [Event].
type EventKind uint8

// The kinds of [Event], in the order they come for one connection: one
// EventConnected, its messages, one EventDisconnected.
const (
	EventConnected    EventKind = iota + 1 // a connection is up
	EventMessage                           // a message arrived on it
	EventDisconnected                      // it is gone; Err says why
)

var eventKindNames = [...]string{
	EventConnected:    "connected",
	EventMessage:      "message",
	EventDisconnected: "disconnected",
}

// String returns "connected", "message" or "disconnected".
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one item of a Session's event stream (see [Session.Recv]).
type Event struct {
	Kind EventKind
	// Conn is the connection the event belongs to. Send and Call on it
	// reach that connection or fail: they never go to a later one. Do not
	// call its Recv or read its Activity channel: the session does.
	Conn *Conn
	// Remote is the connection's name: the remote it was made to
	// ("tcp:127.0.0.1:6641"), or for a passive session the peer
	// ("tcp:127.0.0.1:51234").
	Remote string
	// Seqno is the session's sequence number right after the connection
	// completed. It identifies the connection: it is the same in all its
	// events and differs from every other connection's.
	Seqno uint64
	// Msg is the message (EventMessage).
	Msg *Message
	// Err is why the connection ended (EventDisconnected): it wraps io.EOF
	// when the peer closed it, ErrProbeTimeout, ErrForcedReconnect,
	// ErrProtocol, ErrMessageTooLarge, ErrBacklogExceeded, ErrSessionClosed
	// or a network error.
	Err error
}

// connRecord is a connection as the event stream sees it.
type connRecord struct {
	conn   *Conn
	remote string
	seqno  uint64
	seen   bool // its EventConnected was delivered
	dead   bool // the session tore it down
}

// pushRecordLocked adds the record of a new connection. Connections that
// ended before the owner saw them are dropped with whatever they received
// (the owner never learned of them, so nothing it sent could be waiting
// for an answer there); the one the owner is reading, if any, is kept
// until it has been read to its end. So at most two connections' received
// messages are held: the one being read and the current one.
func (s *Session) pushRecordLocked(r *connRecord) {
	kept := s.records[:0]
	for _, old := range s.records {
		if old.seen || !old.dead {
			kept = append(kept, old)
		}
	}
	clear(s.records[len(kept):])
	s.records = append(kept, r)
	signal(s.evReady)
}

// Recv returns the next event: for each connection, in order, an
// EventConnected, the messages received on it (every message except echo
// requests, which are answered at once, replies to echo probes, and replies
// to Calls, which go to the caller), and an EventDisconnected once the
// connection is gone and all it received has been returned. Events of one
// connection are never mixed with another's. A connection that came and
// went while nobody was reading may be skipped entirely.
//
// Recv blocks until an event is ready, ctx ends (ctx.Err()), or the
// session is closed (ErrSessionClosed). Call it from one goroutine.
//
// While the owner does not call Recv, received messages wait in the
// connection's queue (bounded by ConnConfig.MaxQueuedBytes; see the
// package documentation).
func (s *Session) Recv(ctx context.Context) (Event, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return Event{}, ErrSessionClosed
		}
		var msgReady, connDone <-chan struct{}
		if len(s.records) > 0 {
			r := s.records[0]
			ev := Event{Conn: r.conn, Remote: r.remote, Seqno: r.seqno}
			if !r.seen {
				r.seen = true
				s.mu.Unlock()
				ev.Kind = EventConnected
				return ev, nil
			}
			m, err, ok := r.conn.tryRecv()
			switch {
			case ok && m != nil:
				s.mu.Unlock()
				ev.Kind, ev.Msg = EventMessage, m
				return ev, nil
			case ok:
				s.records[0] = nil
				s.records = s.records[1:]
				s.mu.Unlock()
				ev.Kind, ev.Err = EventDisconnected, err
				return ev, nil
			}
			msgReady, connDone = r.conn.inReady, r.conn.done
		}
		s.mu.Unlock()
		select {
		case <-msgReady:
		case <-connDone:
		case <-s.evReady:
		case <-s.closing:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// ObservationKind is the kind of an [Observation].
type ObservationKind uint8

// The kinds of [Observation].
const (
	// ObserveConnecting: an attempt to connect to Remote started.
	ObserveConnecting ObservationKind = iota + 1
	// ObserveConnectFailed: the attempt to Remote failed or was abandoned
	// (Err: the dial or TLS error, ErrConnectTimeout, ErrForcedReconnect).
	ObserveConnectFailed
	// ObserveConnected: a connection to Remote is up (Seqno).
	ObserveConnected
	// ObserveDisconnected: the connection to Remote ended (Err, Seqno).
	ObserveDisconnected
	// ObserveBackoff: the session waits Backoff before its next attempt,
	// to Remote. It follows every failed attempt and every disconnection
	// while the session may still retry; Backoff may be 0.
	ObserveBackoff
	// ObserveListening: a passive session listens on Remote.
	ObserveListening
	// ObserveGaveUp: a one-shot session has used all its tries (IsAlive
	// is now false).
	ObserveGaveUp
)

var observationKindNames = [...]string{
	ObserveConnecting:    "connecting",
	ObserveConnectFailed: "connect-failed",
	ObserveConnected:     "connected",
	ObserveDisconnected:  "disconnected",
	ObserveBackoff:       "backoff",
	ObserveListening:     "listening",
	ObserveGaveUp:        "gave-up",
}

// String returns the kind's name ("connecting", "connect-failed",
// "connected", "disconnected", "backoff", "listening", "gave-up").
func (k ObservationKind) String() string {
	if k > 0 && int(k) < len(observationKindNames) {
		return observationKindNames[k]
	}
	return "ObservationKind(" + strconv.Itoa(int(k)) + ")"
}

// Observation reports a step of the session's connection management to
// SessionConfig.Observer, in the order the steps happen. A retry policy
// layered above the session uses these to see every attempt and its
// outcome, and steers with ResetBackoff, ForceReconnect and ConnectNow.
type Observation struct {
	Kind      ObservationKind
	Time      time.Time
	Remote    string        // the remote concerned
	Seqno     uint64        // the session's seqno after the step
	Err       error         // why (ObserveConnectFailed, ObserveDisconnected)
	Backoff   time.Duration // ObserveBackoff: the wait before the next attempt
	FreeTries uint32        // backoff-free tries left after the step
}
