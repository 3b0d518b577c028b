package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/ovstable"
	"github.com/ovsdbcs/ovsdbcs/cs"
)

const transactHelp = `Usage: ovsdb-cs transact [flags] [SERVER] TRANSACTION

Runs TRANSACTION, the params of a "transact" request (a JSON array: the
database name, then the operations), on the cluster leader and prints the
results as JSON on stdout, like "ovsdb-client transact" (members sorted;
--pretty indents). An operation that fails is reported in the results, as
ovsdb-client does, with exit status 0.

The transaction goes to the leader (any member with --no-leader-only). If
it fails before it can have committed (no leader yet, not sent), it is sent
again once ovsdb-cs is with a leader. If the connection is lost while it
is in flight, or the server answers "canceled", it may or may not have
committed: ovsdb-cs does not send it again (unless every operation only
reads) and exits with status 3.

Exit status: 0 results printed, 1 failure, 2 usage error, 3 maybe
committed (check the database before retrying; also when --timeout
expires with the transaction in flight).

Examples:
  ovsdb-cs transact tcp:10.0.0.1:6641,tcp:10.0.0.2:6641,tcp:10.0.0.3:6641 \
      '["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"sw0"}}]'
  ovsdb-cs transact --pretty tcp:10.0.0.1:6641 \
      '["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[]}]'
`

// exitMaybeCommitted is the exit status of a transaction that may or may
// not have committed.
const exitMaybeCommitted = 3

// maybeCommittedError reports a transaction whose outcome is unknown.
type maybeCommittedError struct{ err error }

func (e *maybeCommittedError) Error() string {
	return fmt.Sprintf("transaction may or may not have committed: %v", e.err)
}

func (e *maybeCommittedError) Unwrap() error { return e.err }

// readOnlyOps are the operations that change nothing: a transaction made of
// them alone can always be sent again.
var readOnlyOps = map[string]bool{"select": true, "wait": true, "comment": true, "assert": true, "abort": true}

// transactOutcome classifies a transaction's error: nil; an error matching
// errRetry when the transaction can be sent again (it did not commit, or
// it only reads); a *maybeCommittedError when it may have committed; any
// other error is final.
func transactOutcome(err error, readOnly bool) error {
	switch {
	case err == nil:
		return nil
	case isMaybeCommitted(err) && !readOnly:
		return &maybeCommittedError{err}
	case errors.Is(err, cs.ErrTryAgain), isMaybeCommitted(err):
		return fmt.Errorf("%w: transaction not committed (%w)", errRetry, err)
	}
	return err
}

func runTransact(ctx context.Context, e *env, args []string) error {
	c, pos, err := schemaCommand(e, "transact", transactHelp, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageErrorf("want [SERVER] TRANSACTION, got %d arguments", len(pos))
	}
	txn := pos[len(pos)-1]
	var params []json.RawMessage
	var db string
	if err := json.Unmarshal([]byte(txn), &params); err != nil || len(params) == 0 || json.Unmarshal(params[0], &db) != nil {
		return fmt.Errorf("not a valid OVSDB query: %s", txn)
	}
	readOnly := true
	for _, op := range params[1:] {
		var o struct {
			Op string `json:"op"`
		}
		if json.Unmarshal(op, &o) != nil || !readOnlyOps[o.Op] {
			readOnly = false
		}
	}
	ops, err := json.Marshal(params[1:])
	if err != nil {
		return err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	// The database named in TRANSACTION is resolved as a DATABASE argument.
	t, _, err := c.serverArgs(ctx, append(pos[:len(pos)-1:len(pos)-1], db, txn), 1, true)
	if err != nil {
		return err
	}
	if t.database != db {
		return fmt.Errorf("%s: no database named %q%s", t.remotes, db, didYouMean(db, t.dbs))
	}
	var result json.RawMessage
	err = c.withLeader(ctx, t, func(ctx context.Context, client *cs.Client) error {
		res, err := client.TransactRaw(ctx, ops)
		if err == nil {
			result = res
		}
		return transactOutcome(err, readOnly)
	})
	if err != nil {
		var mc *maybeCommittedError
		if errors.As(err, &mc) {
			// Also when --timeout expired with the transaction in flight.
			return err
		}
		if ctx.Err() != nil && c.timeout > 0 {
			return errTimeout
		}
		return err
	}
	out, err := ovstable.AppendJSON(nil, result, c.style.Pretty)
	if err != nil {
		return fmt.Errorf("bad result %s: %w", result, err)
	}
	_, err = e.stdout.Write(append(out, '\n'))
	return err
}
