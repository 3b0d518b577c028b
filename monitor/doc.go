// Package monitor holds the data side of OVSDB monitoring for the client-sync
// layer: typed OVSDB values, parsing of monitor replies and update
// notifications, and an in-memory replica that applies them, plus the
// composition of monitor requests, per-table conditions and the last
// transaction id (see "Requests and conditions" below). Everything here is
// pure: no goroutines of its own, no I/O, no clock.
//
// # Values
//
// A [Schema] is compiled from a libovsdb [ovsdb.DatabaseSchema], optionally
// restricted to the monitored tables and columns. A column's value is a
// [Datum]: a read-only view of a compact, canonical encoding, checked
// against the column's [ColumnType] (atomic type, min and max number of
// elements, enum, integer and real ranges, maximum string length). Integers
// are exact int64 (never decoded through float64), uuids are 16-byte
// [UUID]s, and sets and maps are kept sorted in the order ovsdb-server uses.
// [Datum.MarshalJSON], [Row.MarshalJSON] and [Atom.MarshalJSON] write OVSDB
// JSON notation back, deterministically (a one-element set as its atom, as
// Open vSwitch does). [ParseDatum] and [NewDatum] build values.
//
// A [Row] costs one allocation: all its values in one immutable string, read
// in place. With the map that indexes it, a row of the issue 4 benchmark (six
// columns, 394 bytes of JSON) keeps about 225 bytes of heap, against about
// 940 for libovsdb's cache (see ../bench).
//
// # Parsing
//
// The parsers take the raw JSON of a reply's "result" or a notification's
// "params" and check every field. A wrong type, an unknown table or column,
// a malformed uuid, a set with duplicates, a value outside its constraints,
// a bad shape or invalid JSON is an error wrapping [ErrMalformed], never a
// panic; the error names the table, row and column. Nesting is never
// followed by recursion, so no input can exhaust the stack; bounding the
// size of a message is the transport's job.
//
//   - [ParseMonitorReply]: the "monitor" reply, <table-updates>; a full
//     resync ([Update].Clear).
//   - [ParseMonitorCondReply]: the "monitor_cond" reply, <table-updates2>;
//     a full resync.
//   - [ParseMonitorCondSinceReply]: the "monitor_cond_since" reply,
//     [found, last-txn-id, <table-updates2>]; Clear is !found.
//   - [ParseUpdate], [ParseUpdate2] (params of two elements) and
//     [ParseUpdate3] (three: the monitor id, the last-txn-id, the
//     updates), or [ParseNotification] by method name.
//     [NotificationMonitorID] reads params[0] alone, so the caller can tell
//     which monitor, and so which schema, a notification is for;
//     [Update].MonitorID keeps it (compacted) for the same purpose.
//
// // A [ReplyDecoder] parses a monitor reply's result piece by piece while it
// arrives (the jsonrpc package's Conn.ExpectResult hands it the bytes), so
// that a large reply is never held whole; it gives the Update the Parse
// functions give for the same bytes. A full resync's rows are parsed
// straight into the table's new contents, which the replica takes as they
// are.
//
// ovsdb-server sends "_version" with every row when a monitor request names
// no columns; the parsers check it and drop it, unless the selection given to
// [NewSchema] lists [VersionColumn], which makes it a uuid column of the row. A column's default value is
// accepted even where it breaks the column's constraints, since
// ovsdb-server can hold it (a column added by a schema conversion).
//
// # Replica
//
// A [Replica] holds tables of rows by uuid. [Replica.Apply] applies an
// [Update] of any form, atomically: either all of it applies, or nothing
// changes and the error says why. An insert of an existing row, or a modify
// or delete of a missing one (or a diff that leaves a value with too many or
// too few elements) is an [InconsistencyError], which matches
// [ErrInconsistent]: the client-sync layer answers it with a full resync
// with the last-txn-id cleared, as Open vSwitch does. Apply returns the
// [Changes]: one [RowChange] per row that changed, with the row before and
// after, for per-row events; a full resync reports only the rows that
// differ, and the inserts of a resync into an empty table are read from the
// rows the update brought rather than listed (no memory beyond the replica
// for the first sync of a large database).
//
// Update2 "modify" diffs follow ovsdb-server: a scalar takes the new value;
// a set takes the symmetric difference; a map, per key in the diff, loses
// the key when the old value is the same, takes the new value when it is
// different, and gains the pair when the key is new. A set or map of at most
// one element takes the diff as its new value, as ovsdb-server (3.1
// checked) sends it (an empty set or map clears it); a diff of two elements
// there, the per-element difference other servers (libovsdb's) send, is
// applied by the set and map rules, so both kinds of server work.
//
// Concurrency: one goroutine writes with Apply (concurrent calls are
// serialized). Any number of goroutines read at the same time, with
// [Replica.Get] and [Replica.Len] for single reads or [Replica.View] for a
// consistent [ReadTx] over several tables and rows. Apply computes the whole
// update first and installs it under a short write lock, so readers see
// whole updates only. Rows are immutable: a Row read from the replica, or
// carried by a RowChange, stays valid and unchanged after later updates and
// may be kept or handed to another goroutine.
//
// # Requests and conditions
//
// The request side composes monitor, monitor_cond and monitor_cond_since
// requests for a selection of tables and columns, with the method fallback
// monitor_cond_since, then monitor_cond, then monitor. It keeps per-table
// conditions with their new, requested and acknowledged states and the
// expected condition seqno across all tables, and tracks the last
// transaction id for fast resync: set from the monitor_cond_since reply and
// from every update3 ([Update].LastID), reset as Open vSwitch does.
package monitor
