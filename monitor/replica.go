package monitor

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
)

// ErrInconsistent is wrapped by the errors Apply returns when an update
// does not fit the replica: an insert of a row that exists, a modify or
// delete of a row that does not, or a diff that leaves a value with the
// wrong number of elements. The replica is unchanged; the client-sync layer
// answers with a full resync (last-txn-id cleared), as Open vSwitch does.
var ErrInconsistent = errors.New("monitor: replica inconsistent with the server")

// InconsistencyError tells which row update did not fit the replica. It
// matches ErrInconsistent with errors.Is.
type InconsistencyError struct {
	Table  string
	UUID   UUID
	Op     string // "insert", "modify" or "delete"
	Reason string // e.g. "row already exists", "no such row"
}

func (e *InconsistencyError) Error() string {
	return fmt.Sprintf("monitor: replica inconsistent with the server: cannot %s row %s in table %q: %s",
		e.Op, e.UUID, e.Table, e.Reason)
}

// Unwrap returns ErrInconsistent.
func (e *InconsistencyError) Unwrap() error { return ErrInconsistent }

// ChangeOp is what happened to a row.
type ChangeOp uint8

// The row change kinds.
const (
	ChangeInsert ChangeOp = iota + 1
	ChangeModify
	ChangeDelete
)

func (o ChangeOp) String() string {
	switch o {
	case ChangeInsert:
		return "insert"
	case ChangeModify:
		return "modify"
	case ChangeDelete:
		return "delete"
	}
	return fmt.Sprintf("ChangeOp(%d)", uint8(o))
}

// RowChange is one row that an Apply changed.
type RowChange struct {
	Table string
	UUID  UUID
	Op    ChangeOp
	// Old is the row before the change (modify, delete); New is the row
	// after it (insert, modify). The other one is the zero Row.
	Old, New Row
}

// Replica is an in-memory copy of the monitored tables: rows by uuid, with
// typed values.
//
// Concurrency: one goroutine writes with Apply (concurrent Apply calls are
// serialized). Any number of goroutines read at the same time, with Get and
// Len for single reads or View for a consistent view of several. Apply
// computes the whole update first and then installs it under a short write
// lock, so a reader sees either all of an update or none of it. Rows are
// immutable: a Row obtained from the replica may be kept after View returns
// and never changes.
type Replica struct {
	schema *Schema

	writeMu sync.Mutex // serializes Apply; guards the scratch buffers
	mu      sync.RWMutex
	tables  []tableRows // by TableSchema.index

	scratch diffScratch
}

// NewReplica returns an empty replica of the tables and columns of s.
func NewReplica(s *Schema) *Replica {
	return &Replica{schema: s, tables: make([]tableRows, len(s.Tables))}
}

// Schema returns the replica's schema.
func (r *Replica) Schema() *Schema { return r.schema }

// Apply applies u atomically and returns the rows it changed (see
// Changes.All for their order). With u.Clear the replica's contents are
// replaced: rows that are unchanged produce no change, so a resync that
// finds the same data reports nothing. The rows of a full resync are used
// as they are, not copied (an Update applied to a second replica is
// copied for it).
//
// On error nothing changes. An error wrapping ErrInconsistent means the
// update does not fit the replica (resync); one wrapping ErrMalformed means
// the update itself is bad (a row twice in one table update).
func (r *Replica) Apply(u *Update) (Changes, error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	for _, tu := range u.tables {
		if tu.t.index >= len(r.schema.Tables) || r.schema.Tables[tu.t.index] != tu.t {
			return Changes{}, fmt.Errorf("monitor: update for table %q was parsed with another schema", tu.t.Name)
		}
	}
	if u.Clear {
		return r.applyClear(u)
	}
	changes := make([]RowChange, 0, u.NumRows())
	for _, tu := range u.tables {
		if tu.full != nil {
			return Changes{}, fmt.Errorf("monitor: table %q: the rows of a full resync in an update without Clear", tu.t.Name)
		}
		if err := checkDuplicates(&tu); err != nil {
			return Changes{}, err
		}
		t := tu.t
		tr := &r.tables[t.index]
		for i := range tu.rows {
			ru := &tu.rows[i]
			old, exists := tr.get(ru.id)
			switch ru.op {
			case opInsert:
				if exists {
					return Changes{}, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: "insert", Reason: "row already exists"}
				}
				changes = append(changes, RowChange{Table: t.Name, UUID: ru.id, Op: ChangeInsert,
					New: Row{t: t, id: ru.id, enc: ru.data}})
			case opDelete:
				if !exists {
					return Changes{}, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: "delete", Reason: "no such row"}
				}
				changes = append(changes, RowChange{Table: t.Name, UUID: ru.id, Op: ChangeDelete,
					Old: Row{t: t, id: ru.id, enc: old}})
			case opModify, opReplace:
				if !exists {
					return Changes{}, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: "modify", Reason: "no such row"}
				}
				enc, err := r.scratch.modify(t, old, ru.data, ru.op == opModify)
				if err != nil {
					return Changes{}, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: "modify", Reason: err.Error()}
				}
				if enc == old {
					continue
				}
				changes = append(changes, RowChange{Table: t.Name, UUID: ru.id, Op: ChangeModify,
					Old: Row{t: t, id: ru.id, enc: old}, New: Row{t: t, id: ru.id, enc: enc}})
			}
		}
	}
	r.mu.Lock()
	var last *TableSchema
	for i := range changes {
		c := &changes[i]
		t := c.New.t
		if c.Op == ChangeDelete {
			t = c.Old.t
		}
		tr := &r.tables[t.index]
		if t != last {
			tr.writable()
			last = t
		}
		switch c.Op {
		case ChangeDelete:
			tr.del(c.UUID)
		default:
			tr.put(c.UUID, c.New.enc, c.Op == ChangeInsert)
		}
	}
	r.mu.Unlock()
	return ChangesOf(changes), nil
}

// checkDuplicates fails if a row appears twice in one table update (a JSON
// object with a repeated member).
func checkDuplicates(tu *tableUpdate) error {
	n := len(tu.rows)
	if n < 2 {
		return nil
	}
	dup := func(id UUID) error {
		return fmt.Errorf("%w: table %q: row %s appears twice", ErrMalformed, tu.t.Name, id)
	}
	if n <= 16 {
		for i := 1; i < n; i++ {
			for j := range i {
				if tu.rows[i].id == tu.rows[j].id {
					return dup(tu.rows[i].id)
				}
			}
		}
		return nil
	}
	seen := make(map[UUID]struct{}, n)
	for i := range tu.rows {
		id := tu.rows[i].id
		if _, ok := seen[id]; ok {
			return dup(id)
		}
		seen[id] = struct{}{}
	}
	return nil
}

// applyClear replaces the contents with u's rows and reports the
// difference. Every table gets the update's rows as they are (no copy); the
// changes of a table that was empty are read from them (no list), those of
// a table that had rows are the rows that differ.
func (r *Replica) applyClear(u *Update) (Changes, error) {
	next := make([]tableRows, len(r.tables))
	var ch Changes
	for _, tu := range u.tables {
		t := tu.t
		prev := &r.tables[t.index]
		for i := range tu.rows {
			ru := &tu.rows[i]
			if ru.op != opInsert {
				return Changes{}, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: ru.op.verb(), Reason: "no such row in a full resync"}
			}
		}
		var rows *sharedRows
		if tu.full != nil {
			rows = tu.full.takeFor(r)
		} else if len(tu.rows) > 0 {
			// An update parsed as a change and then marked Clear: its
			// inserts are the new contents.
			rows = newSharedRows(len(tu.rows), true)
			rows.owner.Store(r)
			for i := range tu.rows {
				ru := &tu.rows[i]
				if !rows.add(ru.id, ru.data) {
					return Changes{}, fmt.Errorf("%w: table %q: row %s appears twice", ErrMalformed, t.Name, ru.id)
				}
			}
		}
		if rows == nil {
			continue
		}
		next[t.index] = sharedTable(rows)
		if prev.n == 0 {
			ch.addBulk(t, rows)
			continue
		}
		var changed []RowChange
		for id, enc := range rows.all() {
			old, existed := prev.get(id)
			switch {
			case !existed:
				changed = append(changed, RowChange{Table: t.Name, UUID: id, Op: ChangeInsert,
					New: Row{t: t, id: id, enc: enc}})
			case old != enc:
				changed = append(changed, RowChange{Table: t.Name, UUID: id, Op: ChangeModify,
					Old: Row{t: t, id: id, enc: old}, New: Row{t: t, id: id, enc: enc}})
			}
		}
		if !rows.keepOrder {
			sortByUUID(changed)
		}
		for _, rc := range changed {
			ch.add(rc)
		}
	}
	for i := range r.tables {
		prev := &r.tables[i]
		if prev.n == 0 {
			continue
		}
		t := r.schema.Tables[i]
		var gone []RowChange
		for id, old := range prev.all() {
			if _, ok := next[i].get(id); !ok {
				gone = append(gone, RowChange{Table: t.Name, UUID: id, Op: ChangeDelete,
					Old: Row{t: t, id: id, enc: old}})
			}
		}
		sortByUUID(gone)
		for _, rc := range gone {
			ch.add(rc)
		}
	}
	r.mu.Lock()
	r.tables = next
	r.mu.Unlock()
	return ch, nil
}

func sortByUUID(changes []RowChange) {
	slices.SortFunc(changes, func(a, b RowChange) int {
		return cmp.Compare(string(a.UUID[:]), string(b.UUID[:]))
	})
}

func (o rowOp) verb() string {
	switch o {
	case opInsert:
		return "insert"
	case opDelete:
		return "delete"
	}
	return "modify"
}

// Get returns the row of the table with the given uuid.
func (r *Replica) Get(table string, id UUID) (Row, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return ReadTx{r: r}.Get(table, id)
}

// Len returns the number of rows in the table.
func (r *Replica) Len(table string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return ReadTx{r: r}.Len(table)
}

// View calls fn with a consistent read-only view of the replica: no update
// is applied while fn runs, so keep fn short. Inside fn, read through tx
// only: calling the replica's own methods (Get, Len, View, Apply) from fn
// can deadlock. fn must not keep tx after it returns; the Rows it reads may
// be kept.
func (r *Replica) View(fn func(tx ReadTx)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn(ReadTx{r: r})
}

// ReadTx reads a replica inside Replica.View (or Replica.ViewRecorded,
// which also records the rows read).
type ReadTx struct {
	r   *Replica
	rec *readRecorder
}

// Get returns the row of the table with the given uuid. In a recorded view
// the read is recorded, found or not.
func (tx ReadTx) Get(table string, id UUID) (Row, bool) {
	t := tx.r.schema.byName[table]
	if t == nil {
		return Row{}, false
	}
	enc, ok := tx.r.tables[t.index].get(id)
	if !ok {
		tx.rec.add(t, id, Row{}, false)
		return Row{}, false
	}
	row := Row{t: t, id: id, enc: enc}
	tx.rec.add(t, id, row, true)
	return row, true
}

// Len returns the number of rows in the table (0 for an unknown table).
func (tx ReadTx) Len(table string) int {
	t := tx.r.schema.byName[table]
	if t == nil {
		return 0
	}
	return tx.r.tables[t.index].n
}

// Rows iterates the rows of the table in no particular order. In a recorded
// view every row yielded counts as read; rows the scan did not see (rows
// added meanwhile) are not verified.
func (tx ReadTx) Rows(table string) iter.Seq2[UUID, Row] {
	return func(yield func(UUID, Row) bool) {
		t := tx.r.schema.byName[table]
		if t == nil {
			return
		}
		for id, enc := range tx.r.tables[t.index].all() {
			row := Row{t: t, id: id, enc: enc}
			tx.rec.add(t, id, row, true)
			if !yield(id, row) {
				return
			}
		}
	}
}
