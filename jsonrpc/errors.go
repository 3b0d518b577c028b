package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Errors returned by this package wrap one of these (or
// io.EOF, or a network error) so that callers can test them with errors.Is.
var (
	// ErrProtocol: the peer sent bytes that are not valid JSON, or a JSON
	// value that is not a valid JSON-RPC 1.0 message (jsonrpc_msg_is_valid). The connection
	// is closed.
	ErrProtocol = errors.New("jsonrpc: protocol error")

	// ErrMessageTooLarge: a received message is larger than the
	// connection's maximum message size. The connection is closed.
	ErrMessageTooLarge = errors.New("jsonrpc: message too large")

	// ErrBacklogExceeded: the send backlog went over its message-count or
	// byte limit (OVS: E2BIG). The connection is closed.
	ErrBacklogExceeded = errors.New("jsonrpc: send backlog exceeded")

	// ErrClosed: the connection was closed locally (Conn.Close).
	ErrClosed = errors.New("jsonrpc: connection closed")

	// ErrNotConnected: a Session has no connection to send on.
	ErrNotConnected = errors.New("jsonrpc: not connected")

	// ErrSessionClosed: the Session was closed.
	ErrSessionClosed = errors.New("jsonrpc: session closed")

	// ErrInvalidRemote: a remote string could not be parsed.
	ErrInvalidRemote = errors.New("jsonrpc: invalid remote")

	// ErrInvalidConfig: a setting given to NewSession, DialRemote or a
	// setter is out of range or missing (for example a maximum backoff
	// below 1 s, an ssl: remote without a TLS configuration).
	ErrInvalidConfig = errors.New("jsonrpc: invalid configuration")

	// ErrInvalidMessage: a message given to Send is not a valid JSON-RPC
	// message (for example a request without a method). Nothing is sent and
	// the connection stays up.
	ErrInvalidMessage = errors.New("jsonrpc: invalid message")

	// ErrProbeTimeout: the peer did not answer an inactivity probe (an
	// "echo" request) within the probe interval; the Session dropped the
	// connection.
	ErrProbeTimeout = errors.New("jsonrpc: no response to inactivity probe")

	// ErrConnectTimeout: a connection attempt took longer than the
	// reconnect FSM allows (max(1 s, backoff)); the Session abandoned it.
	ErrConnectTimeout = errors.New("jsonrpc: connection attempt timed out")

	// ErrForcedReconnect: the connection was dropped because the owner
	// asked for it (Session.ForceReconnect, Session.ConnectNow,
	// Session.SetRemotes, or a newly accepted passive connection).
	ErrForcedReconnect = errors.New("jsonrpc: reconnect forced")
)

// ServerError is the error a [Conn.Call] returns when the peer answers with
// a JSON-RPC error reply. Value is the "error" member exactly as received
// (any JSON value but null). ovsdb-server sends objects of the form
// {"error": "<code>", "details": "<text>"}; [ServerError.Code] and
// [ServerError.Details] return those members when present.
type ServerError struct {
	Method string          // the method of the request that failed
	Value  json.RawMessage // the "error" member of the reply
}

// Code returns the "error" member of an object error value, or "" when the
// value is not an object with a string "error" member.
func (e *ServerError) Code() string {
	var v struct {
		Error string `json:"error"`
	}
	if len(e.Value) > 0 && e.Value[0] == '{' && json.Unmarshal(e.Value, &v) == nil {
		return v.Error
	}
	return ""
}

// Details returns the "details" member of an object error value, or "".
func (e *ServerError) Details() string {
	var v struct {
		Details string `json:"details"`
	}
	if len(e.Value) > 0 && e.Value[0] == '{' && json.Unmarshal(e.Value, &v) == nil {
		return v.Details
	}
	return ""
}

// Error formats the error as "jsonrpc: METHOD: server error: CODE: DETAILS",
// or with the raw JSON value when it is not an ovsdb-style object.
func (e *ServerError) Error() string {
	code, details := e.Code(), e.Details()
	var what string
	switch {
	case code != "" && details != "":
		what = code + ": " + details
	case code != "":
		what = code
	default:
		what = string(bytes.TrimSpace(e.Value))
		if len(what) > 200 {
			what = what[:200] + "..."
		}
	}
	return fmt.Sprintf("jsonrpc: %s: server error: %s", e.Method, what)
}

// protocolError builds an ErrProtocol error that says where the problem
// was: off is the offset of the offending byte within the message (or -1).
func protocolError(name string, off int64, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if off >= 0 {
		msg += " at byte " + strconv.FormatInt(off, 10)
	}
	if name != "" {
		return fmt.Errorf("%w: %s: %s", ErrProtocol, name, msg)
	}
	return fmt.Errorf("%w: %s", ErrProtocol, msg)
}
