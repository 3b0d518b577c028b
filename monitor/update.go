package monitor

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Update is one parsed batch of row changes: a monitor reply or one update
// notification. Apply it to a Replica with Replica.Apply. An Update is
// immutable once parsed and may be applied to several replicas of the same
// schema.
type Update struct {
	// MonitorID is params[0] of an update, update2 or update3 notification,
	// compacted (no insignificant white space); nil for replies.
	MonitorID json.RawMessage
	// Clear is set for a full resync: a monitor or monitor_cond reply, or a
	// monitor_cond_since reply with found false. Applying it replaces the
	// replica's contents.
	Clear bool
	// Found is the found flag of a monitor_cond_since reply: true when the
	// server resumed from the last-txn-id the client sent.
	Found bool
	// LastID is the last-txn-id of a monitor_cond_since reply or an update3
	// notification; HasLastID tells whether the message carried one.
	LastID    UUID
	HasLastID bool
	// Version is 1 for <table-updates> (monitor, update) and 2 for
	// <table-updates2> (monitor_cond, monitor_cond_since, update2, update3).
	Version int

	tables []tableUpdate
	// table0 backs tables for the usual notification, which touches one
	// table (one allocation less per update).
	table0 [1]tableUpdate
}

// NumRows returns the number of row updates in u.
func (u *Update) NumRows() int {
	n := 0
	for _, t := range u.tables {
		n += len(t.rows)
		if t.full != nil {
			n += t.full.n
		}
	}
	return n
}

// Tables returns the names of the tables u touches, in message order.
func (u *Update) Tables() []string {
	out := make([]string, len(u.tables))
	for i, t := range u.tables {
		out[i] = t.t.Name
	}
	return out
}

// rowOp is what a parsed row update does.
type rowOp uint8

const (
	// opInsert adds a row: update2 "initial" or "insert", update "new"
	// without "old". data is a full row encoding.
	opInsert rowOp = iota
	// opDelete removes a row. data is empty.
	opDelete
	// opModify applies an update2 "modify" diff. data is a partial row of
	// diff datums.
	opModify
	// opReplace sets the columns an update "new" (with "old") carries. data
	// is a partial row of full datums.
	opReplace
)

var rowOpNames = [...]string{"insert", "delete", "modify", "replace"}

func (o rowOp) String() string { return rowOpNames[o] }

type tableUpdate struct {
	t    *TableSchema
	rows []rowUpdate
	// full holds the rows a full resync inserts (Update.Clear), by uuid:
	// the table's new contents, built while parsing so that a large reply
	// needs no list of rows beside them; Replica.Apply uses the map as it
	// is. rows keeps the updates of other kinds, which a resync rejects.
	full *sharedRows
}

// add adds a parsed row update; with clear an insert goes into full (in
// message order with keepOrder).
func (tu *tableUpdate) add(ru rowUpdate, clear, keepOrder bool) error {
	if clear && ru.op == opInsert {
		if tu.full == nil {
			tu.full = newSharedRows(0, keepOrder)
		}
		if !tu.full.add(ru.id, ru.data) {
			return fmt.Errorf("row %s appears twice", ru.id)
		}
		return nil
	}
	if len(tu.rows) == cap(tu.rows) {
		// Double the capacity: append grows a large slice by 1.25x,
		// which copies a large update's rows ~10 times (5x their final
		// size allocated); doubling allocates 2x once. The first row gets
		// room for itself alone: most notifications carry one row.
		grow := max(len(tu.rows), 8)
		if len(tu.rows) == 0 {
			grow = 1
		}
		tu.rows = slices.Grow(tu.rows, grow)
	}
	tu.rows = append(tu.rows, ru)
	return nil
}

type rowUpdate struct {
	id   UUID
	op   rowOp
	data string
}
