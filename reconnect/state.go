package reconnect

import "strconv"

// State is the state of an [FSM]. The names follow Open vSwitch
// (lib/reconnect.c), so logs and transcripts read the same as OVS's.
type State int

// The states of an [FSM]. The zero value is [Void].
const (
	// Void: disabled. No deadline; Run never asks for anything. An FSM
	// starts here and returns here when disabled or out of tries.
	Void State = iota
	// Backoff: waiting before the next connection (or listen) attempt. Run
	// returns [Connect] once the backoff has elapsed.
	Backoff
	// Connecting: an attempt is in progress. Run returns [Disconnect] when
	// it has taken longer than max(1 s, backoff).
	Connecting
	// Active: connected, and the peer was heard from recently enough.
	Active
	// Idle: connected, an inactivity probe was sent, no reply yet. Run
	// returns [Disconnect] when a further probe interval passes.
	Idle
	// Reconnect: a reconnect was forced. Run returns [Disconnect] until the
	// caller reports the disconnection.
	Reconnect
	// Listening: passive mode, waiting for a peer to connect. No deadline.
	Listening
)

var stateNames = [...]string{
	Void:       "VOID",
	Backoff:    "BACKOFF",
	Connecting: "CONNECTING",
	Active:     "ACTIVE",
	Idle:       "IDLE",
	Reconnect:  "RECONNECT",
	Listening:  "LISTENING",
}

// String returns the OVS name of the state: "VOID", "BACKOFF", "CONNECTING",
// "ACTIVE", "IDLE", "RECONNECT" or "LISTENING".
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// IsConnected reports whether s is a connected state (Active or Idle).
func (s State) IsConnected() bool {
	return s == Active || s == Idle
}

// Action is what [FSM.Run] asks the caller to do.
type Action int

// The actions returned by [FSM.Run].
const (
	// None: nothing to do now.
	None Action = iota
	// Connect: start a connection attempt (in passive mode: start
	// listening) and report it with Connecting, Listening, Connected or
	// ConnectFailed.
	Connect
	// Disconnect: drop the connection or abandon the attempt, then report
	// it with Disconnected (or ConnectFailed).
	Disconnect
	// Probe: send the peer something that elicits a reply (an echo
	// request), because it has been silent for a probe interval.
	Probe
)

var actionNames = [...]string{
	None:       "none",
	Connect:    "connect",
	Disconnect: "disconnect",
	Probe:      "probe",
}

// String returns "none", "connect", "disconnect" or "probe".
func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}
