package failover

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/leader"
)

// OutcomeOf maps the error that ended a connection attempt to an Outcome:
//
//   - leader.ErrNotLeader: NotLeader;
//   - any other leader.ErrUnusable (not joined, cluster disconnected,
//     stale, relay, no schema, database missing): Unusable;
//   - ECONNREFUSED: Refused;
//   - jsonrpc.ErrConnectTimeout, context.DeadlineExceeded, a net timeout:
//     TimedOut;
//   - anything else (EOF, reset, jsonrpc.ErrProtocol, malformed _Server
//     data, an error reply): Protocol.
func OutcomeOf(err error) Outcome {
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, leader.ErrNotLeader):
		return NotLeader
	case errors.Is(err, leader.ErrUnusable):
		return Unusable
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case errors.Is(err, jsonrpc.ErrConnectTimeout),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &timeout) && timeout.Timeout():
		return TimedOut
	}
	return Protocol
}
