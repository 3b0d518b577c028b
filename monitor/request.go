package monitor

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// ErrBadRequest is wrapped by the errors of [MonitorRequest.Params] and
// [Conditions.StartMonitor]: the request cannot be composed (no database, a
// table or column named twice or not at all, an unknown method, ...).
var ErrBadRequest = errors.New("monitor: bad monitor request")

// Method is a monitor method. A client tries the best one first and, when
// the server answers with an error, falls back to the next ([Method.Next]):
// monitor_cond_since, then monitor_cond, then monitor.
type Method uint8

// The monitor methods, numbered as Open vSwitch numbers monitor versions.
const (
	// MethodMonitor is "monitor" (RFC 7047): no conditions; the reply and
	// updates are <table-updates> ("update").
	MethodMonitor Method = 1 + iota
	// MethodMonitorCond is "monitor_cond": per-table conditions; the reply
	// and updates are <table-updates2> ("update2").
	MethodMonitorCond
	// MethodMonitorCondSince is "monitor_cond_since": as monitor_cond, plus a
	// fast resync from the last transaction id; updates are "update3".
	MethodMonitorCondSince
)

var methodNames = [...]string{
	MethodMonitor:          "monitor",
	MethodMonitorCond:      "monitor_cond",
	MethodMonitorCondSince: "monitor_cond_since",
}

// String returns the JSON-RPC method name, such as "monitor_cond_since".
func (m Method) String() string {
	if m.Valid() {
		return methodNames[m]
	}
	return "Method(" + strconv.Itoa(int(m)) + ")"
}

// Valid reports whether m is one of the three methods.
func (m Method) Valid() bool {
	return m >= MethodMonitor && m <= MethodMonitorCondSince
}

// Version returns the monitor version: 1, 2 or 3.
func (m Method) Version() int {
	return int(m)
}

// Next returns the method to fall back to after the server rejected m, and
// false after [MethodMonitor], which has no fallback.
func (m Method) Next() (Method, bool) {
	if m > MethodMonitor && m <= MethodMonitorCondSince {
		return m - 1, true
	}
	return 0, false
}

// FirstMethod returns the method to try first for a client that allows monitor
// versions up to maxVersion (Open vSwitch's max_version; 3 normally). Values
// above 3 mean 3; values below 1 mean 1.
func FirstMethod(maxVersion int) Method {
	switch {
	case maxVersion >= 3:
		return MethodMonitorCondSince
	case maxVersion == 2:
		return MethodMonitorCond
	default:
		return MethodMonitor
	}
}

// TableRequest selects a table to monitor, and its columns.
type TableRequest struct {
	// Table is the table name.
	Table string
	// Columns lists the columns to monitor. nil means every column (the
	// "columns" member is left out); an empty, non-nil slice means none, so
	// that only the rows' existence is monitored.
	Columns []string
}

// MonitorRequest describes a monitor, monitor_cond or monitor_cond_since
// request.
type MonitorRequest struct {
	// Method is the monitor method.
	Method Method
	// Database is the database name; the monitor id is
	// ["monid",Database], as Open vSwitch uses.
	Database string
	// Tables selects the tables and columns.
	Tables []TableRequest
	// Where holds the condition of each conditioned table. Only
	// monitor_cond and monitor_cond_since carry conditions; plain monitor
	// ignores Where. A nil list matches every row ([true]); an empty,
	// non-nil list matches none ([false]); a table in Where but not in
	// Tables is monitored with no columns ("columns":[]) and its condition.
	// The clauses of a list are alternatives: a row matches if any does.
	Where map[string][]ovsdb.Condition
	// LastID is the last transaction id seen, for monitor_cond_since only;
	// "" means none (the zero UUID is sent).
	LastID string
}

// Params returns the request's params as JSON, byte for byte the same for
// the same request:
//
//	["<db>",["monid","<db>"],{"<table>":[{"columns":[...],"where":[...]}],...}]
//
// with the last transaction id appended for monitor_cond_since. Tables are
// sorted by name; columns keep their order; condition sets and maps are
// sorted.
func (r *MonitorRequest) Params() ([]byte, error) {
	var where map[string][]byte
	if r.Method != MethodMonitor && len(r.Where) > 0 {
		where = make(map[string][]byte, len(r.Where))
		for table, conds := range r.Where {
			enc, err := condEncodeWhere(conds)
			if err != nil {
				return nil, fmt.Errorf("%w: table %q: %w", ErrBadRequest, table, err)
			}
			where[table] = enc
		}
	}
	lastID := ""
	if r.Method == MethodMonitorCondSince {
		id, err := lastIDParse(r.LastID)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		lastID = id
	}
	return reqCompose(r.Method, r.Database, r.Tables, where, lastID)
}

// reqCompose writes monitor request params. where maps table names to
// encoded condition lists and is ignored for plain monitor; lastID ("" for
// none) is used for monitor_cond_since only.
func reqCompose(m Method, db string, tables []TableRequest, where map[string][]byte, lastID string) ([]byte, error) {
	if !m.Valid() {
		return nil, fmt.Errorf("%w: unknown method %v", ErrBadRequest, m)
	}
	if db == "" {
		return nil, fmt.Errorf("%w: no database name", ErrBadRequest)
	}
	byName := make(map[string]*TableRequest, len(tables))
	names := make([]string, 0, len(tables)+len(where))
	for i := range tables {
		t := &tables[i]
		if t.Table == "" {
			return nil, fmt.Errorf("%w: table with no name", ErrBadRequest)
		}
		if _, dup := byName[t.Table]; dup {
			return nil, fmt.Errorf("%w: table %q selected twice", ErrBadRequest, t.Table)
		}
		byName[t.Table] = t
		names = append(names, t.Table)
		seen := make(map[string]bool, len(t.Columns))
		for _, c := range t.Columns {
			if c == "" {
				return nil, fmt.Errorf("%w: table %q: column with no name", ErrBadRequest, t.Table)
			}
			if seen[c] {
				return nil, fmt.Errorf("%w: table %q: column %q selected twice", ErrBadRequest, t.Table, c)
			}
			seen[c] = true
		}
	}
	if m == MethodMonitor {
		where = nil
	}
	for table := range where {
		if table == "" {
			return nil, fmt.Errorf("%w: condition for a table with no name", ErrBadRequest)
		}
		if _, ok := byName[table]; !ok {
			names = append(names, table)
		}
	}
	slices.Sort(names)

	b := make([]byte, 0, 256)
	var err error
	b = append(b, '[')
	if b, err = reqAppendString(b, db); err != nil {
		return nil, fmt.Errorf("%w: database name: %w", ErrBadRequest, err)
	}
	b = append(b, ',')
	if b, err = reqAppendMonitorID(b, db); err != nil {
		return nil, err
	}
	b = append(b, ",{"...)
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = reqAppendString(b, name); err != nil {
			return nil, fmt.Errorf("%w: table name: %w", ErrBadRequest, err)
		}
		b = append(b, ":[{"...)
		member := false
		if t, ok := byName[name]; ok {
			if t.Columns != nil {
				b = append(b, `"columns":[`...)
				for j, c := range t.Columns {
					if j > 0 {
						b = append(b, ',')
					}
					if b, err = reqAppendString(b, c); err != nil {
						return nil, fmt.Errorf("%w: table %q: column name: %w", ErrBadRequest, name, err)
					}
				}
				b = append(b, ']')
				member = true
			}
		} else {
			// A conditioned table that is not selected: no columns, so that
			// the condition is still registered (as Open vSwitch does).
			b = append(b, `"columns":[]`...)
			member = true
		}
		if cond, ok := where[name]; ok {
			if member {
				b = append(b, ',')
			}
			b = append(b, `"where":`...)
			b = append(b, cond...)
		}
		b = append(b, "}]"...)
	}
	b = append(b, '}')
	if m == MethodMonitorCondSince {
		if lastID == "" {
			lastID = ZeroLastID
		}
		b = append(b, ",\""...)
		b = append(b, lastID...)
		b = append(b, '"')
	}
	b = append(b, ']')
	return b, nil
}

// reqAppendMonitorID appends the monitor id of db, ["monid","<db>"].
func reqAppendMonitorID(b []byte, db string) ([]byte, error) {
	b = append(b, `["monid",`...)
	b, err := reqAppendString(b, db)
	if err != nil {
		return nil, fmt.Errorf("%w: database name: %w", ErrBadRequest, err)
	}
	return append(b, ']'), nil
}

// reqAppendString appends s as a JSON string. Only '"', '\\' and control
// characters are escaped; s must be valid UTF-8 (OVSDB rejects anything
// else).
func reqAppendString(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return b, fmt.Errorf("string %q is not valid UTF-8", s)
	}
	return appendJSONString(b, s), nil
}
