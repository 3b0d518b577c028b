package testserver

import "time"

// Faults are failures injected into one member. Set them with
// [Member.SetFaults]; the zero value is a healthy member. A fault applies
// from the moment it is set (to existing connections too, where that makes
// sense) until it is cleared.
type Faults struct {
	// RefuseConnections makes new connection attempts fail with
	// ECONNREFUSED (the member stops listening). Existing connections stay.
	RefuseConnections bool
	// DropConnections closes every existing connection when set, and
	// accepts then immediately closes every new one.
	DropConnections bool
	// CloseMidMessage makes each connection write the first half of its
	// next outgoing message and then close.
	CloseMidMessage bool
	// ReplyDelay holds every outgoing message (replies and notifications)
	// until this long after it was produced; order is kept.
	ReplyDelay time.Duration
	// Hang accepts connections and reads requests but never answers or
	// notifies anything.
	Hang bool
	// IgnoreEcho leaves echo requests unanswered (everything else works).
	IgnoreEcho bool
	// MalformedJSON replaces every outgoing message with text that is not
	// valid JSON.
	MalformedJSON bool
	// WrongTypes sends well-formed JSON with wrong types: the result of
	// every reply and the table updates of every update, update2 and
	// update3 notification are replaced by a string.
	WrongTypes bool
}
