package monitor

// RowRead is one row a recorded view read (Replica.ViewRecorded): the row
// as it was when read, or Found false for a row that did not exist. The
// client-sync layer turns each into an OVSDB "wait" operation, so that a
// transaction built from stale reads fails instead of committing (Open
// vSwitch's ovsdb_idl_txn_verify).
type RowRead struct {
	Table string
	UUID  UUID
	Found bool
	// Row is the row read (the zero Row when not found).
	Row Row
	// Columns are the table's monitored columns (the replica's schema):
	// what a verification compares.
	Columns []string
}

// readRecorder collects the rows a view reads, once each.
type readRecorder struct {
	reads []RowRead
	seen  map[readKey]struct{}
}

type readKey struct {
	t  *TableSchema
	id UUID
}

// add records a read; a nil recorder (an ordinary view) records nothing.
func (r *readRecorder) add(t *TableSchema, id UUID, row Row, found bool) {
	if r == nil {
		return
	}
	k := readKey{t, id}
	if _, ok := r.seen[k]; ok {
		return
	}
	if r.seen == nil {
		r.seen = map[readKey]struct{}{}
	}
	r.seen[k] = struct{}{}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = c.Name
	}
	r.reads = append(r.reads, RowRead{Table: t.Name, UUID: id, Found: found, Row: row, Columns: cols})
}

// ViewRecorded is View that also returns the rows fn read through tx, in
// the order first read, each once: every Get (found or not) and every row
// Rows yielded. Len and rows a scan did not reach are not recorded. The
// same rules as View apply to fn.
func (r *Replica) ViewRecorded(fn func(tx ReadTx)) []RowRead {
	rec := &readRecorder{}
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn(ReadTx{r: r, rec: rec})
	return rec.reads
}
