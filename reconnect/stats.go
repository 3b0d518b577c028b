package reconnect

import "time"

// Stats is a snapshot of an FSM's statistics (C: struct reconnect_stats).
// Times the FSM has no value for ("never") are the zero time.Time, with the
// matching Ever flag false.
type Stats struct {
	CreationTime time.Time // when New was called
	LastActivity time.Time // last Activity (initially the creation time)

	LastConnected    time.Time // last Connected; zero if never
	EverConnected    bool      // whether LastConnected is set
	LastDisconnected time.Time // last loss of a connection; zero if never
	EverDisconnected bool      // whether LastDisconnected is set

	Backoff time.Duration // current backoff
	Seqno   uint64        // moves between connected and not connected

	Attempted  uint64 // connection attempts finished (left Connecting)
	Successful uint64 // attempts that ended in Active

	// TotalConnected is the time spent connected, including the current
	// connection.
	TotalConnected time.Duration

	State        State
	StateElapsed time.Duration // time in State
	IsConnected  bool          // State is Active or Idle

	// SinceConnect is now - LastConnected, and SinceDisconnect is
	// now - LastDisconnected; 0 when the matching Ever flag is false.
	SinceConnect    time.Duration
	SinceDisconnect time.Duration
}

// Stats returns the statistics at now.
func (f *FSM) Stats(now time.Time) Stats {
	s := Stats{
		CreationTime:     f.creationTime,
		LastActivity:     f.lastActivity,
		EverConnected:    f.everConnected,
		EverDisconnected: f.everDisconnected,
		Backoff:          f.backoff,
		Seqno:            f.seqno,
		Attempted:        f.nAttempted,
		Successful:       f.nSuccessful,
		TotalConnected:   f.totalConnected,
		State:            f.state,
		StateElapsed:     now.Sub(f.stateEntered),
		IsConnected:      f.state.IsConnected(),
	}
	if f.everConnected {
		s.LastConnected = f.lastConnected
		s.SinceConnect = now.Sub(f.lastConnected)
		if s.IsConnected {
			s.TotalConnected += s.SinceConnect
		}
	}
	if f.everDisconnected {
		s.LastDisconnected = f.lastDisconnected
		s.SinceDisconnect = now.Sub(f.lastDisconnected)
	}
	return s
}
