package monitor

import "errors"

// ErrMalformed is wrapped by every parse error: invalid JSON, a wrong shape
// or type, an unknown table or column, a malformed uuid, a value that breaks
// its column's constraints. A server that sends one is not to be trusted;
// the client-sync layer disconnects.
var ErrMalformed = errors.New("monitor: malformed message")
