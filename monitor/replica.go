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
	tables  []map[UUID]string // by TableSchema.index; nil when empty

	scratch diffScratch
}

// NewReplica returns an empty replica of the tables and columns of s.
func NewReplica(s *Schema) *Replica {
	return &Replica{schema: s, tables: make([]map[UUID]string, len(s.Tables))}
}

// Schema returns the replica's schema.
func (r *Replica) Schema() *Schema { return r.schema }

// Apply applies u atomically and returns the rows it changed, in message
// order (for a full resync, deletions of rows that are gone come last,
// ordered by table and uuid). With u.Clear the replica's contents are
// replaced: rows that are unchanged produce no RowChange, so a resync that
// finds the same data reports nothing.
//
// On error nothing changes. An error wrapping ErrInconsistent means the
// update does not fit the replica (resync); one wrapping ErrMalformed means
// the update itself is bad (a row twice in one table update).
func (r *Replica) Apply(u *Update) ([]RowChange, error) {
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	for _, tu := range u.tables {
		if tu.t.index >= len(r.schema.Tables) || r.schema.Tables[tu.t.index] != tu.t {
			return nil, fmt.Errorf("monitor: update for table %q was parsed with another schema", tu.t.Name)
		}
	}
	if u.Clear {
		return r.applyClear(u)
	}
	changes := make([]RowChange, 0, u.NumRows())
	for _, tu := range u.tables {
		if err := checkDuplicates(&tu); err != nil {
			return nil, err
		}
		t := tu.t
		m := r.tables[t.index]
		for i := range tu.rows {
			ru := &tu.rows[i]
			old, exists := m[ru.id]
			switch ru.op {
			case opInsert:
				if exists {
					return nil, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: "insert", Reason: "row already exists"}
				}
				changes = append(changes, RowChange{Table: t.Name, UUID: ru.id, Op: ChangeInsert,
					New: Row{t: t, id: ru.id, enc: ru.data}})
			case opDelete:
				if !exists {
					return nil, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: "delete", Reason: "no such row"}
				}
				changes = append(changes, RowChange{Table: t.Name, UUID: ru.id, Op: ChangeDelete,
					Old: Row{t: t, id: ru.id, enc: old}})
			case opModify, opReplace:
				if !exists {
					return nil, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: "modify", Reason: "no such row"}
				}
				enc, err := r.scratch.modify(t, old, ru.data, ru.op == opModify)
				if err != nil {
					return nil, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: "modify", Reason: err.Error()}
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
	for i := range changes {
		c := &changes[i]
		var t *TableSchema
		if c.Op == ChangeDelete {
			t = c.Old.t
			delete(r.tables[t.index], c.UUID)
			continue
		}
		t = c.New.t
		m := r.tables[t.index]
		if m == nil {
			m = make(map[UUID]string)
			r.tables[t.index] = m
		}
		m[c.UUID] = c.New.enc
	}
	r.mu.Unlock()
	return changes, nil
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

// applyClear replaces the contents with u's rows and reports the difference.
func (r *Replica) applyClear(u *Update) ([]RowChange, error) {
	next := make([]map[UUID]string, len(r.tables))
	changes := make([]RowChange, 0, u.NumRows())
	for _, tu := range u.tables {
		t := tu.t
		m := make(map[UUID]string, len(tu.rows))
		next[t.index] = m
		prev := r.tables[t.index]
		for i := range tu.rows {
			ru := &tu.rows[i]
			if ru.op != opInsert {
				return nil, &InconsistencyError{Table: t.Name, UUID: ru.id, Op: ru.op.verb(), Reason: "no such row in a full resync"}
			}
			if _, dup := m[ru.id]; dup {
				return nil, fmt.Errorf("%w: table %q: row %s appears twice", ErrMalformed, t.Name, ru.id)
			}
			m[ru.id] = ru.data
			old, existed := prev[ru.id]
			switch {
			case !existed:
				changes = append(changes, RowChange{Table: t.Name, UUID: ru.id, Op: ChangeInsert,
					New: Row{t: t, id: ru.id, enc: ru.data}})
			case old != ru.data:
				changes = append(changes, RowChange{Table: t.Name, UUID: ru.id, Op: ChangeModify,
					Old: Row{t: t, id: ru.id, enc: old}, New: Row{t: t, id: ru.id, enc: ru.data}})
			}
		}
	}
	for i, prev := range r.tables {
		t := r.schema.Tables[i]
		start := len(changes)
		for id, old := range prev {
			if _, ok := next[i][id]; !ok {
				changes = append(changes, RowChange{Table: t.Name, UUID: id, Op: ChangeDelete,
					Old: Row{t: t, id: id, enc: old}})
			}
		}
		slices.SortFunc(changes[start:], func(a, b RowChange) int {
			return cmp.Compare(string(a.UUID[:]), string(b.UUID[:]))
		})
	}
	r.mu.Lock()
	r.tables = next
	r.mu.Unlock()
	return changes, nil
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
	enc, ok := tx.r.tables[t.index][id]
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
	return len(tx.r.tables[t.index])
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
		for id, enc := range tx.r.tables[t.index] {
			row := Row{t: t, id: id, enc: enc}
			tx.rec.add(t, id, row, true)
			if !yield(id, row) {
				return
			}
		}
	}
}
