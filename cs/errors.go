package cs

import "errors"

var (
	// ErrTryAgain is matched by every error after which the same
	// transaction may be retried: the connection was lost while it was in
	// flight, the server canceled it, or the client is not monitoring yet.
	ErrTryAgain = errors.New("cs: try again")
	// ErrReconnected: the connection ended while the transaction was in
	// flight. It may or may not have committed.
	ErrReconnected = errorsJoin(ErrTryAgain, "connection lost with the transaction in flight")
	// ErrNotMonitoring: transactions are sent only in the MONITORING state.
	ErrNotMonitoring = errorsJoin(ErrTryAgain, "not monitoring")
	// ErrNotLocked: a lock is configured and the client does not hold it.
	ErrNotLocked = errorsJoin(ErrTryAgain, "lock not held")
	// ErrClosed: the client is not running (Run returned or never ran).
	ErrClosed = errors.New("cs: client not running")
	// ErrMalformed: the server sent something the client cannot use; the
	// connection is dropped.
	ErrMalformed = errors.New("cs: malformed server message")
	// ErrInconsistent: the replica did not match the server's updates; the
	// client resyncs from scratch.
	ErrInconsistent = errors.New("cs: replica inconsistent with the server")
	// ErrServerError: the server answered a request of the state machine
	// with an error.
	ErrServerError = errors.New("cs: server error")
	// ErrForced: the user called ForceReconnect.
	ErrForced = errors.New("cs: reconnect forced by the user")
)

type wrapped struct {
	parent error
	msg    string
}

func (w *wrapped) Error() string { return "cs: " + w.msg }
func (w *wrapped) Unwrap() error { return w.parent }

func errorsJoin(parent error, msg string) error { return &wrapped{parent: parent, msg: msg} }
