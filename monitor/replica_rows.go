package monitor

import (
	"iter"
	"maps"
	"sync"
	"sync/atomic"
	"weak"
)

// sharedRows holds the rows a full resync brings (Update.Clear), built while
// the reply is parsed. The replica that applies the update uses the map as
// the table's contents without copying it, and the Update and the Changes of
// that Apply keep referring to it; the replica knows through a weak pointer
// when neither is left, and only then writes into the map.
//
// A map is taken over by one replica (owner); another replica that applies
// the same Update copies it.
type sharedRows struct {
	m map[UUID]string
	n int // len(m), for readers that must not touch m
	// order holds the uuids in message order, in chunks (no large
	// allocation, nothing copied as it grows), if keepOrder.
	order     [][]UUID
	keepOrder bool
	// mu orders every read of m through Changes before the replica's first
	// write into it (the weak pointer alone is no synchronization).
	mu    *sync.RWMutex
	owner atomic.Pointer[Replica]
}

// orderChunk is the size of the chunks of sharedRows.order.
const orderChunk = 1024

func newSharedRows(sizeHint int, keepOrder bool) *sharedRows {
	return &sharedRows{m: make(map[UUID]string, sizeHint), keepOrder: keepOrder, mu: new(sync.RWMutex)}
}

// add adds a row; false if it is there already.
func (s *sharedRows) add(id UUID, enc string) bool {
	// One map operation: a row that was there is replaced, but the update
	// that has it twice fails as a whole.
	s.m[id] = enc
	if len(s.m) == s.n {
		return false
	}
	s.n++
	if !s.keepOrder {
		return true
	}
	k := len(s.order) - 1
	if k < 0 || len(s.order[k]) == cap(s.order[k]) {
		// Small first chunks: most resyncs of small tables stay small.
		size := orderChunk
		if k < 0 {
			size = 8
		} else if c := cap(s.order[k]); c < orderChunk {
			size = 2 * c
		}
		s.order = append(s.order, make([]UUID, 0, size))
		k++
	}
	s.order[k] = append(s.order[k], id)
	return true
}

// all iterates the rows, in message order if kept.
func (s *sharedRows) all() iter.Seq2[UUID, string] {
	return func(yield func(UUID, string) bool) {
		if !s.keepOrder {
			for id, enc := range s.m {
				if !yield(id, enc) {
					return
				}
			}
			return
		}
		for _, chunk := range s.order {
			for _, id := range chunk {
				if !yield(id, s.m[id]) {
					return
				}
			}
		}
	}
}

// inserts yields every row as an insert into table t; false if yield
// stopped.
func (s *sharedRows) inserts(t *TableSchema, yield func(RowChange) bool) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, enc := range s.all() {
		if !yield(RowChange{Table: t.Name, UUID: id, Op: ChangeInsert, New: Row{t: t, id: id, enc: enc}}) {
			return false
		}
	}
	return true
}

// takeFor returns the rows for replica r: s itself for the first replica
// that applies them, else a copy.
func (s *sharedRows) takeFor(r *Replica) *sharedRows {
	if s.owner.CompareAndSwap(nil, r) || s.owner.Load() == r {
		return s
	}
	c := &sharedRows{m: maps.Clone(s.m), n: s.n, order: s.order, keepOrder: s.keepOrder, mu: new(sync.RWMutex)}
	c.owner.Store(r)
	return c
}

// overlayMin is the fewest entries an overlay may hold before the replica
// copies a map that is still shared (see tableRows.writable).
const overlayMin = 1024

// tableRows is one table's rows in a Replica.
//
// base may be shared with an Update and its Changes (shared set): the
// replica then never writes into it. Writes go to over, and reads look there
// first. When nothing else refers to base any more (the weak pointer is
// cleared by the garbage collector), the overlay is folded into base; if the
// other holder lives long while updates keep coming, base is copied once the
// overlay outgrows a quarter of it, so reads stay one map lookup in the
// steady state.
type tableRows struct {
	base     map[UUID]string
	over     map[UUID]overRow // writes made while base is shared; nil otherwise
	n        int              // rows in the table
	shared   weak.Pointer[sharedRows]
	sharedMu *sync.RWMutex // the shared rows' mu
	isShared bool
}

// overRow is an overlay entry: the row's new encoding, or a deletion.
type overRow struct {
	enc     string
	deleted bool
}

// sharedTable returns a table whose contents are the shared rows s.
func sharedTable(s *sharedRows) tableRows {
	return tableRows{base: s.m, n: s.n, shared: weak.Make(s), sharedMu: s.mu, isShared: true}
}

// get returns the encoding of row id.
func (t *tableRows) get(id UUID) (string, bool) {
	if t.over != nil {
		if o, ok := t.over[id]; ok {
			return o.enc, !o.deleted
		}
	}
	enc, ok := t.base[id]
	return enc, ok
}

// all iterates the rows in no particular order.
func (t *tableRows) all() iter.Seq2[UUID, string] {
	return func(yield func(UUID, string) bool) {
		for id, o := range t.over {
			if !o.deleted && !yield(id, o.enc) {
				return
			}
		}
		for id, enc := range t.base {
			if t.over != nil {
				if _, ok := t.over[id]; ok {
					continue
				}
			}
			if !yield(id, enc) {
				return
			}
		}
	}
}

// writable prepares the table for the writes of one Apply: it folds the
// overlay into base once base is no longer shared, or copies base when the
// overlay has grown large while it still is. The caller holds the write
// lock.
func (t *tableRows) writable() {
	if !t.isShared {
		return
	}
	if t.shared.Value() == nil {
		// Whoever read the map through Changes is done with it; the lock
		// orders those reads before these writes.
		t.sharedMu.Lock()
		for id, o := range t.over {
			if o.deleted {
				delete(t.base, id)
			} else {
				t.base[id] = o.enc
			}
		}
		t.sharedMu.Unlock()
		t.unshare(t.base)
		return
	}
	if len(t.over) > max(overlayMin, len(t.base)/4) {
		m := make(map[UUID]string, t.n)
		for id, enc := range t.all() {
			m[id] = enc
		}
		t.unshare(m)
	}
}

// unshare makes base the table's own map, with no overlay.
func (t *tableRows) unshare(base map[UUID]string) {
	t.base, t.over = base, nil
	t.shared, t.sharedMu, t.isShared = weak.Pointer[sharedRows]{}, nil, false
}

// put sets row id (isNew: it did not exist). writable was called.
func (t *tableRows) put(id UUID, enc string, isNew bool) {
	if isNew {
		t.n++
	}
	if t.isShared {
		if t.over == nil {
			t.over = make(map[UUID]overRow)
		}
		t.over[id] = overRow{enc: enc}
		return
	}
	if t.base == nil {
		t.base = make(map[UUID]string)
	}
	t.base[id] = enc
}

// del removes row id, which exists. writable was called.
func (t *tableRows) del(id UUID) {
	t.n--
	if t.isShared {
		if t.over == nil {
			t.over = make(map[UUID]overRow)
		}
		t.over[id] = overRow{deleted: true}
		return
	}
	delete(t.base, id)
}
