package cs

import (
	"encoding/json"
	"fmt"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// MarshalOperation writes op as the JSON of one operation of a transact
// request. It keeps what libovsdb's ovsdb.Operation leaves out when empty
// (its fields are "omitempty") but RFC 7047 and ovsdb-server require: the
// "where" of an update, mutate, delete or wait (an empty list matches every
// row), the "rows" of a wait (a wait for no rows at all), the "row" of an
// insert or update (a row of defaults, or no column changed) and the
// "mutations" of a mutate. Transact and TransactFunc send every operation
// through it.
func MarshalOperation(op *ovsdb.Operation) (json.RawMessage, error) {
	b, err := json.Marshal(op)
	if err != nil {
		return nil, err
	}
	add := func(member string) { b = append(append(b[:len(b)-1], `,"`+member+`":`...), emptyJSON(member)...) }
	switch op.Op {
	case ovsdb.OperationInsert:
		if len(op.Row) == 0 {
			add("row")
		}
	case ovsdb.OperationUpdate:
		if len(op.Row) == 0 {
			add("row")
		}
	case ovsdb.OperationMutate:
		if len(op.Mutations) == 0 {
			add("mutations")
		}
	case ovsdb.OperationWait:
		if len(op.Rows) == 0 {
			add("rows")
		}
	}
	switch op.Op {
	case ovsdb.OperationUpdate, ovsdb.OperationMutate, ovsdb.OperationDelete, ovsdb.OperationWait:
		if len(op.Where) == 0 {
			add("where")
		}
	}
	return b, nil
}

// emptyJSON is the empty value of a member of an operation: {} for a row,
// [] for the lists.
func emptyJSON(member string) string {
	if member == "row" {
		return "{}}"
	}
	return "[]}"
}

// marshalOperations appends the JSON of each of ops to raw.
func marshalOperations(raw []json.RawMessage, ops []ovsdb.Operation) ([]json.RawMessage, error) {
	for i := range ops {
		b, err := MarshalOperation(&ops[i])
		if err != nil {
			return nil, fmt.Errorf("cs: operation %d: %w", i, err)
		}
		raw = append(raw, b)
	}
	return raw, nil
}
