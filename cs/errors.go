package cs

import "errors"

// Transaction outcomes come in three kinds, each told apart with errors.Is
// (docs/transactions.md has the table and the exactly-once recipe):
//
//   - not committed, safe to retry: the error matches ErrTryAgain
//     (ErrNotMonitoring, ErrNotLocked: refused before it was sent);
//   - maybe committed: the error matches ErrMaybeCommitted (ErrReconnected:
//     in flight when the connection ended; ErrCanceled: the server answered
//     "canceled"; the caller's context ended while it was in flight). Read
//     the replica once MONITORING again (or use Client.TransactFunc) before
//     deciding to send it again;
//   - failed: a *TxnError names the operation that failed; nothing was
//     committed.
var (
	// ErrTryAgain is matched by every error after which the transaction
	// certainly did not commit and may be sent again as is: the client is
	// not monitoring (yet), or does not hold its lock. It never matches an
	// outcome that may have committed.
	ErrTryAgain = errors.New("cs: try again")
	// ErrMaybeCommitted is matched by every error after which nobody knows
	// whether the transaction committed: it was in flight when the
	// connection ended (ErrReconnected), the server answered "canceled"
	// (ErrCanceled: ovsdb-server 3.1 does so when the leader exits
	// gracefully, and such transactions have been seen to commit), or the
	// caller's context ended while it was in flight. It does not match
	// ErrTryAgain.
	ErrMaybeCommitted = errors.New("cs: transaction may have committed")
	// ErrReconnected: the connection ended while the transaction was in
	// flight. It may or may not have committed.
	ErrReconnected = errorsJoin(ErrMaybeCommitted, "connection lost with the transaction in flight")
	// ErrCanceled: the server answered the transaction with "canceled"
	// (a schema conversion, a removed database, a leader that exits). It
	// may or may not have committed.
	ErrCanceled = errorsJoin(ErrMaybeCommitted, "transaction canceled by the server")
	// ErrNotMonitoring: transactions are sent only in the MONITORING state.
	ErrNotMonitoring = errorsJoin(ErrTryAgain, "not monitoring")
	// ErrNotLocked: a lock is configured and the client does not hold it.
	ErrNotLocked = errorsJoin(ErrTryAgain, "lock not held")
	// ErrClosed: the client is not running any more (Run returned).
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
	// ErrForced: the user called ForceReconnect. The Reconnect event and
	// LastError of such a reconnect match it.
	ErrForced = errors.New("cs: reconnect forced by the user")
	// ErrRequestTimeout: the server did not answer a request of the
	// bootstrap (or a lock request) within the request timeout
	// (WithRequestTimeout); the server is left as unusable.
	ErrRequestTimeout = errors.New("cs: no reply within the request timeout")
	// ErrConfig: the configuration names a table or column the server's
	// schema lacks (WithTables, WithColumns, WithCondition, SetCondition).
	// Once the schema is known this is terminal: Run returns it, and
	// LastError and WaitMonitoring report it.
	ErrConfig = errors.New("cs: bad configuration")
	// ErrTooManyAttempts: TransactFunc gave up after its attempts; it wraps
	// the last attempt's error.
	ErrTooManyAttempts = errors.New("cs: transaction rebuilt too many times")
)

type wrapped struct {
	parent error
	msg    string
}

func (w *wrapped) Error() string { return "cs: " + w.msg }
func (w *wrapped) Unwrap() error { return w.parent }

func errorsJoin(parent error, msg string) error { return &wrapped{parent: parent, msg: msg} }
