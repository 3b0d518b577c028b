package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// ErrNoChangeInFlight is returned by [Conditions.Ack] when no
// monitor_cond_change is waiting for its reply.
var ErrNoChangeInFlight = errors.New("monitor: no monitor_cond_change in flight")

// ErrNoMonitorInFlight is returned by [Conditions.MonitorReplied] when no
// monitor request is waiting for its reply.
var ErrNoMonitorInFlight = errors.New("monitor: no monitor request in flight")

// Conditions holds the conditional-monitoring state of one monitored
// database, and its last transaction id, as Open vSwitch's C client keeps
// them (cs->data.last_id and the new/req/ack conditions of
// ovsdb_cs_db_table in lib/ovsdb-cs.c). The two live
// together because each decides about the other when the monitor is
// (re)started.
//
// Each conditioned table has up to three conditions: the newest one set by
// the user and not sent yet (new), the one sent in a monitor_cond_change
// whose reply has not come (requested), and the one the server acknowledged
// (acked). A table gets an entry, with the acked condition [true] (every
// row), the first time [Conditions.Set] names it: the server's default needs
// no acknowledgement.
//
// At most one monitor_cond_change is in flight; it carries the new
// conditions of every table. The condition seqno counts the replies to them,
// and [Conditions.Set] returns the seqno at which the replica will reflect
// the condition it was given: when [Conditions.Seqno] reaches it, the server
// has applied the condition and sent the rows it selects (the server sends
// those updates before the reply).
//
// The caller (the client-sync layer) drives it:
//
//   - for every monitor request on a connection, including a fallback to an
//     older method: [Conditions.StartMonitor], then
//     [Conditions.MonitorReplied] with the reply;
//   - while monitoring, when no other request is outstanding:
//     [Conditions.ComposeChange], and [Conditions.Ack] on its reply (then
//     ComposeChange again, for conditions set meanwhile). An error reply
//     means the connection must be dropped: the next StartMonitor sorts the
//     state out;
//   - on every update3: [Conditions.SetLastID].
//
// Create it with [NewConditions]. Conditions does no I/O and holds no lock:
// use it from one goroutine.
type Conditions struct {
	db     string
	tables map[string]*condTable

	seqno uint64
	// owed counts condition changes folded into the monitor request in
	// flight; its reply settles them (seqno += owed).
	owed uint64
	// inFlight: a monitor_cond_change was sent and not answered.
	inFlight bool
	// method of the last monitor request, 0 before the first.
	method Method
	// awaiting: the monitor request was sent and not answered.
	awaiting bool

	lastID string // "" = none
}

// condTable holds one table's conditions, each a canonical "where" JSON
// array, or nil when the slot is empty.
type condTable struct {
	new, req, ack []byte
	// ackAt is the seqno at which ack takes effect when it was folded into
	// a monitor request still waiting for its reply (the number Set
	// promised for it); 0 or at most the seqno otherwise.
	ackAt uint64
}

// newest returns the most recent of the table's conditions.
func (t *condTable) newest() []byte {
	switch {
	case t.new != nil:
		return t.new
	case t.req != nil:
		return t.req
	}
	return t.ack
}

// NewConditions returns the state for database db (the monitor id is
// ["monid",db]), with no conditions, seqno 0 and no last transaction id.
func NewConditions(db string) *Conditions {
	return &Conditions{db: db, tables: make(map[string]*condTable)}
}

// Database returns the database name given to [NewConditions].
func (c *Conditions) Database() string {
	return c.db
}

// Set sets the condition of table, a list of clauses a row must match one of:
// nil matches every row and an empty, non-nil list matches none. If it
// differs from the newest condition of the table it becomes the table's new
// condition, to be sent in the next monitor_cond_change (or folded into the
// next monitor request).
//
// Set returns the condition seqno at which the replica will reflect it: the
// current seqno, plus the changes the server has still to acknowledge before
// (those in flight, for this table or any other), plus one for a new
// condition. A condition already in effect returns the current seqno. Setting
// the same condition twice returns the same number. Wait for
// Seqno() >= the number, not ==: the reply to a monitor request into which
// several changes were folded settles them at once.
//
// An error wraps [ErrBadCondition] and changes nothing.
func (c *Conditions) Set(table string, where []ovsdb.Condition) (uint64, error) {
	if table == "" {
		return 0, fmt.Errorf("%w: no table name", ErrBadCondition)
	}
	if _, err := reqAppendString(nil, table); err != nil {
		return 0, fmt.Errorf("%w: table name: %w", ErrBadCondition, err)
	}
	enc, err := condEncodeWhere(where)
	if err != nil {
		return 0, fmt.Errorf("table %q: %w", table, err)
	}
	if c.tables == nil {
		c.tables = make(map[string]*condTable)
	}
	t := c.tables[table]
	if t == nil {
		t = &condTable{ack: condTrueJSON}
		c.tables[table] = t
	}
	if !bytes.Equal(enc, t.newest()) {
		t.new = enc
	}
	base := c.seqno + c.owed
	switch {
	case t.new != nil:
		if c.inFlight {
			base++
		}
		return base + 1, nil
	case t.req != nil:
		return base + 1, nil
	}
	return max(c.seqno, t.ackAt), nil
}

// Seqno returns the condition seqno: the number of condition changes the
// server has acknowledged (Open vSwitch's get_condition_seqno), counting
// those folded into a monitor request when its reply comes. It never goes
// down.
func (c *Conditions) Seqno() uint64 {
	return c.seqno
}

// Pending reports whether a table has a new condition not sent yet.
func (c *Conditions) Pending() bool {
	for _, t := range c.tables {
		if t.new != nil {
			return true
		}
	}
	return false
}

// InFlight reports whether a monitor_cond_change waits for its reply.
func (c *Conditions) InFlight() bool {
	return c.inFlight
}

// Clear forgets the conditions of table: the next monitor request has no
// "where" for it, and no monitor_cond_change is sent. Use it for a table the
// server lacks. If the table had conditions the last transaction id is
// reset: the server's view of the conditions can no longer be resumed.
func (c *Conditions) Clear(table string) {
	if _, ok := c.tables[table]; ok {
		delete(c.tables, table)
		c.lastID = ""
	}
}

// ComposeChange returns the params of a monitor_cond_change carrying the new
// condition of every table that has one,
//
//	[["monid","<db>"],["monid","<db>"],{"<table>":[{"where":[...]}],...}]
//
// and marks those conditions requested. It returns false, and changes
// nothing, when there is nothing to send or it may not be sent yet: a change
// is in flight, the monitor request has not been answered, or the monitor
// is a plain monitor (or none was started). The caller must also be
// connected, with no other request of the monitor outstanding.
func (c *Conditions) ComposeChange() ([]byte, bool) {
	if c.inFlight || c.awaiting || c.method < MethodMonitorCond || !c.Pending() {
		return nil, false
	}
	id, err := reqAppendMonitorID(nil, c.db)
	if err != nil {
		return nil, false
	}
	b := make([]byte, 0, 128)
	b = append(b, '[')
	b = append(b, id...)
	b = append(b, ',')
	b = append(b, id...)
	b = append(b, ",{"...)
	first := true
	for _, name := range c.sortedTables() {
		t := c.tables[name]
		if t.new == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		// Table names were checked when StartMonitor composed the monitor
		// request; a bad one cannot get here.
		b, _ = reqAppendString(b, name)
		b = append(b, `:[{"where":`...)
		b = append(b, t.new...)
		b = append(b, "}]"...)
		t.req, t.new = t.new, nil
	}
	b = append(b, "}]"...)
	c.inFlight = true
	return b, true
}

// Ack records the reply to the monitor_cond_change in flight: every
// requested condition becomes acknowledged and the seqno goes up by one.
// Call [Conditions.ComposeChange] next, for conditions set meanwhile.
func (c *Conditions) Ack() error {
	if !c.inFlight {
		return ErrNoChangeInFlight
	}
	for _, t := range c.tables {
		if t.req != nil {
			t.ack, t.req = t.req, nil
		}
	}
	c.inFlight = false
	c.seqno++
	return nil
}

// StartMonitor returns the params of the monitor request to send with method
// m for the selection tables, after bringing the conditions in line with the
// new request (Open vSwitch's sync_condition). Call it for every monitor
// request: on each new connection, and again with [Method.Next] when the
// server rejected the previous method.
//
//  1. A monitor_cond_change still in flight died with its connection, and
//     nobody knows whether the server applied it: the last transaction id is
//     reset, which means a full reload.
//  2. With no last transaction id (a full reload): every new and requested
//     condition becomes acknowledged and the request carries the newest
//     conditions; nothing is left to send. When the reply comes
//     ([Conditions.MonitorReplied]) the seqno goes up by the number of
//     changes so folded (one for the requested batch, one for the new one),
//     so every number [Conditions.Set] returned for them is reached just as
//     the reloaded replica reflects them. Open vSwitch does not count folded
//     changes (ovsdb_cs_db_set_condition returns cond_seqno + 1, and
//     ovsdb_cs_db_sync_condition folds the condition into the monitor
//     request without advancing cond_seqno): a
//     condition set before the first connection then does not reach its
//     seqno until some later change is acknowledged. This port counts them,
//     on purpose: a condition set before connecting is reported in effect
//     when the initial data, filtered by it, has arrived.
//  3. Otherwise (a fast resync from the last id): the request carries the
//     acknowledged conditions, because resuming with newer ones would miss
//     rows that match them but changed before the last id. New conditions
//     stay pending, and [Conditions.ComposeChange] sends them once the reply
//     has come.
//
// Every table with conditions gets a "where" (monitor_cond and
// monitor_cond_since only); one that is not in tables is monitored with no
// columns. The step is idempotent: calling it again for a fallback changes
// nothing more. An error wraps [ErrBadRequest] and changes nothing.
func (c *Conditions) StartMonitor(m Method, tables []TableRequest) ([]byte, error) {
	lastID := c.lastID
	if c.inFlight {
		lastID = ""
	}
	fold := lastID == ""
	where := make(map[string][]byte, len(c.tables))
	for name, t := range c.tables {
		cond := t.ack
		if fold {
			cond = t.newest()
		}
		where[name] = cond
	}
	params, err := reqCompose(m, c.db, tables, where, lastID)
	if err != nil {
		return nil, err
	}

	// The request is good: commit.
	if fold {
		// Each folded condition takes effect at the number Set promised for
		// it: the requested batch one step on, the new one after it. The
		// reply settles them all at once.
		anyNew := c.Pending()
		at := c.seqno + c.owed
		if c.inFlight {
			at++
		}
		reqAt, newAt := at, at+1
		for _, t := range c.tables {
			switch {
			case t.new != nil:
				t.ackAt = newAt
			case t.req != nil:
				t.ackAt = reqAt
			}
			t.ack, t.req, t.new = t.newest(), nil, nil
		}
		if anyNew {
			at++
		}
		c.owed = at - c.seqno
	}
	c.lastID = lastID
	c.inFlight = false
	c.method = m
	c.awaiting = true
	return params, nil
}

// MonitorReplied records the reply to the monitor request sent last. For
// monitor_cond_since, lastID is result[1] of the reply and becomes the last
// transaction id; for the other methods it is ignored and the last
// transaction id is reset (their replies reload everything and carry no id).
// Condition changes folded into the request are now acknowledged.
//
// An error wraps [ErrBadLastID] or is [ErrNoMonitorInFlight], and changes
// nothing.
func (c *Conditions) MonitorReplied(lastID string) error {
	if !c.awaiting {
		return ErrNoMonitorInFlight
	}
	id := ""
	if c.method == MethodMonitorCondSince {
		var err error
		if id, err = lastIDParse(lastID); err != nil {
			return err
		}
	}
	c.lastID = id
	c.awaiting = false
	c.seqno += c.owed
	c.owed = 0
	return nil
}

// TableConditions is a copy of one table's conditions, each the JSON
// "where" array, or nil when the slot is empty.
type TableConditions struct {
	New, Requested, Acked json.RawMessage
}

// Table returns the conditions of table, and false if it has none.
func (c *Conditions) Table(table string) (TableConditions, bool) {
	t, ok := c.tables[table]
	if !ok {
		return TableConditions{}, false
	}
	return TableConditions{New: bytes.Clone(t.new), Requested: bytes.Clone(t.req), Acked: bytes.Clone(t.ack)}, true
}

// Tables returns the names of the tables with conditions, sorted.
func (c *Conditions) Tables() []string {
	return c.sortedTables()
}

func (c *Conditions) sortedTables() []string {
	names := make([]string, 0, len(c.tables))
	for name := range c.tables {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
