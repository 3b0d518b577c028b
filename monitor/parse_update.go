package monitor

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// ParseMonitorReply parses the result of a "monitor" request: a
// <table-updates> object. The Update has Clear set.
func ParseMonitorReply(s *Schema, result []byte) (*Update, error) {
	u := &Update{Clear: true, Version: 1}
	return parseMessage(s, result, "monitor reply", "", u, func(p *parser) error {
		return p.parseTableUpdates(s, u)
	})
}

// ParseMonitorCondReply parses the result of a "monitor_cond" request: a
// <table-updates2> object. The Update has Clear set.
func ParseMonitorCondReply(s *Schema, result []byte) (*Update, error) {
	u := &Update{Clear: true, Version: 2}
	return parseMessage(s, result, "monitor_cond reply", "", u, func(p *parser) error {
		return p.parseTableUpdates(s, u)
	})
}

// ParseTableUpdates2 parses a <table-updates2> object on its own (for
// example params[1] of an update2 notification, taken apart by the
// caller). Unlike ParseMonitorCondReply, the Update is a change: Clear is
// not set.
func ParseTableUpdates2(s *Schema, data []byte) (*Update, error) {
	u := &Update{Version: 2}
	return parseMessage(s, data, "<table-updates2>", "", u, func(p *parser) error {
		return p.parseTableUpdates(s, u)
	})
}

// ParseMonitorCondSinceReply parses the result of a "monitor_cond_since"
// request: [<found>, <last-txn-id>, <table-updates2>]. Clear is !found:
// without found the updates are the whole database, otherwise they are the
// changes since the last-txn-id the client sent.
func ParseMonitorCondSinceReply(s *Schema, result []byte) (*Update, error) {
	u := &Update{Version: 2, HasLastID: true}
	return parseMessage(s, result, "monitor_cond_since reply", "", u, func(p *parser) error {
		if err := p.Expect('['); err != nil {
			return err
		}
		found, err := p.ReadBool()
		if err != nil {
			return fmt.Errorf("found: %w", err)
		}
		u.Found, u.Clear = found, !found
		if err := p.Expect(','); err != nil {
			return err
		}
		if u.LastID, err = p.parseLastID(); err != nil {
			return err
		}
		if err := p.Expect(','); err != nil {
			return err
		}
		if err := p.parseTableUpdates(s, u); err != nil {
			return err
		}
		return p.closeArray(3)
	})
}

// ParseUpdate parses the params of an "update" notification:
// [<json-value>, <table-updates>].
func ParseUpdate(s *Schema, params []byte) (*Update, error) {
	return parseNotification(s, params, "update", 1)
}

// ParseUpdate2 parses the params of an "update2" notification:
// [<json-value>, <table-updates2>].
func ParseUpdate2(s *Schema, params []byte) (*Update, error) {
	return parseNotification(s, params, "update2", 2)
}

// ParseUpdate3 parses the params of an "update3" notification:
// [<json-value>, <last-txn-id>, <table-updates2>].
func ParseUpdate3(s *Schema, params []byte) (*Update, error) {
	return parseNotification(s, params, "update3", 3)
}

// ParseNotification parses the params of an "update", "update2" or
// "update3" notification, by method name.
func ParseNotification(s *Schema, method string, params []byte) (*Update, error) {
	switch method {
	case "update":
		return ParseUpdate(s, params)
	case "update2":
		return ParseUpdate2(s, params)
	case "update3":
		return ParseUpdate3(s, params)
	}
	return nil, fmt.Errorf("%w: %q is not an update notification", ErrMalformed, ovsjson.Truncate(method, 40))
}

// NotificationMonitorID returns params[0] of an update notification
// (compacted), without parsing the rest, so the caller can tell which
// monitor (and so which schema) the notification belongs to.
func NotificationMonitorID(params []byte) (json.RawMessage, error) {
	p := &parser{Lexer: ovsjson.Lexer{Data: params}}
	if err := p.Expect('['); err != nil {
		return nil, fmt.Errorf("%w: notification params: %w", ErrMalformed, err)
	}
	id, err := p.monitorID()
	if err != nil {
		return nil, fmt.Errorf("%w: notification params: %w", ErrMalformed, err)
	}
	return id, nil
}

func parseNotification(s *Schema, params []byte, method string, version int) (*Update, error) {
	u := &Update{Version: min(version, 2)}
	return parseMessage(s, params, method, " params", u, func(p *parser) error {
		if err := p.Expect('['); err != nil {
			return err
		}
		var err error
		if u.MonitorID, err = p.monitorID(); err != nil {
			return err
		}
		if err := p.Expect(','); err != nil {
			return p.arity(version)
		}
		if version == 3 {
			if u.LastID, err = p.parseLastID(); err != nil {
				return err
			}
			u.HasLastID = true
			if err := p.Expect(','); err != nil {
				return p.arity(version)
			}
		}
		if err := p.parseTableUpdates(s, u); err != nil {
			return err
		}
		return p.closeArray(max(version, 2))
	})
}

// parseMessage parses data with f into u. The message is named what+suffix
// in errors (joined only then: parsing allocates nothing for the name).
func parseMessage(s *Schema, data []byte, what, suffix string, u *Update, f func(*parser) error) (*Update, error) {
	if s == nil {
		return nil, fmt.Errorf("monitor: parsing %s%s: nil schema", what, suffix)
	}
	p := getParser(data)
	p.skipUnknown, p.keepOrder = s.skipUnknown, s.keepOrder
	err := f(p)
	if err == nil {
		err = p.End()
	}
	putParser(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %s%s: %w", ErrMalformed, what, suffix, err)
	}
	return u, nil
}

// arity reports a params array of the wrong length.
func (p *parser) arity(want int) error {
	return fmt.Errorf("expected an array of %d elements", want)
}

// closeArray expects the ']' that ends an array of n elements.
func (p *parser) closeArray(n int) error {
	if p.Peek() != ']' {
		return p.arity(n)
	}
	p.Pos++
	return nil
}

// monitorID reads one JSON value and returns it compacted.
func (p *parser) monitorID() (json.RawMessage, error) {
	if p.Peek() == ']' {
		return nil, errors.New("missing monitor id")
	}
	start := p.Pos
	if err := p.Skip(); err != nil {
		return nil, fmt.Errorf("monitor id: %w", err)
	}
	return compactJSON(nil, p.Data[start:p.Pos]), nil
}

// compactJSON appends src, a valid JSON value, to dst without the white
// space outside strings.
func compactJSON(dst, src []byte) []byte {
	inString, escaped := false, false
	for _, c := range src {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		case c == '"':
			inString = true
		}
		dst = append(dst, c)
	}
	return dst
}

// parseLastID reads a last-txn-id: a JSON string holding a uuid.
func (p *parser) parseLastID() (UUID, error) {
	s, err := p.ReadString()
	if err != nil {
		return UUID{}, fmt.Errorf("last-txn-id: %w", err)
	}
	id, ok := ovsjson.ParseUUID(s)
	if !ok {
		return UUID{}, fmt.Errorf("last-txn-id %q is not a uuid", ovsjson.Truncate(string(s), 64))
	}
	return id, nil
}

// parseTableUpdates reads a <table-updates> (u.Version 1) or
// <table-updates2> object into u.
func (p *parser) parseTableUpdates(s *Schema, u *Update) error {
	if p.Peek() != '{' {
		return fmt.Errorf("expected a <table-updates> object, found %s", p.Describe())
	}
	more, err := p.OpenObject()
	if err != nil {
		return err
	}
	for more {
		k, err := p.Key()
		if err != nil {
			return err
		}
		t := s.byName[string(k)]
		if t == nil && s.skipUnknown {
			name := string(k)
			if p.Peek() != '{' {
				return fmt.Errorf("table %q: expected an object of row updates, found %s", ovsjson.Truncate(name, 80), p.Describe())
			}
			if err := p.Skip(); err != nil {
				return err
			}
			if more, err = p.More('}'); err != nil {
				return err
			}
			continue
		}
		if t == nil {
			return fmt.Errorf("unknown table %q (not in the monitored schema)", ovsjson.Truncate(string(k), 80))
		}
		for _, prev := range u.tables {
			if prev.t == t {
				return fmt.Errorf("table %q appears twice", t.Name)
			}
		}
		tu := tableUpdate{t: t}
		if err := p.parseTableUpdate(&tu, u.Version, u.Clear); err != nil {
			return fmt.Errorf("table %q: %w", t.Name, err)
		}
		if u.tables == nil {
			u.tables = u.table0[:0]
		}
		u.tables = append(u.tables, tu)
		if more, err = p.More('}'); err != nil {
			return err
		}
	}
	return nil
}

// parseTableUpdate reads the object of row updates of one table. With
// clear (a full resync) the inserted rows go straight into the table's new
// contents (tu.full).
func (p *parser) parseTableUpdate(tu *tableUpdate, version int, clear bool) error {
	if p.Peek() != '{' {
		return fmt.Errorf("expected an object of row updates, found %s", p.Describe())
	}
	more, err := p.OpenObject()
	if err != nil {
		return err
	}
	for more {
		if err := p.parseRowMember(tu, version, clear); err != nil {
			return err
		}
		if more, err = p.More('}'); err != nil {
			return err
		}
	}
	return nil
}

// parseRowMember reads one member of a table's row updates, "<uuid>":
// <row-update> (version 1) or <row-update2>, and adds it to tu.
func (p *parser) parseRowMember(tu *tableUpdate, version int, clear bool) error {
	k, err := p.Key()
	if err != nil {
		return err
	}
	u, ok := ovsjson.ParseUUID(k)
	if !ok {
		return fmt.Errorf("row key %q is not a uuid", ovsjson.Truncate(string(k), 64))
	}
	id := UUID(u)
	n := len(tu.t.Columns)
	p.cols = slices.Grow(p.cols[:0], 2*n)[:2*n]
	cols, other := p.cols[:n:n], p.cols[n:]
	var ru rowUpdate
	if version == 1 {
		ru, err = p.parseRowUpdate1(tu.t, cols, other)
	} else {
		ru, err = p.parseRowUpdate2(tu.t, cols)
	}
	if err != nil {
		return fmt.Errorf("row %s: %w", id, err)
	}
	ru.id = id
	return tu.add(ru, clear, p.keepOrder)
}

// parseRowUpdate1 reads a <row-update>: {"old": <row>, "new": <row>}, either
// member optional but not both.
func (p *parser) parseRowUpdate1(t *TableSchema, cols, other []span) (rowUpdate, error) {
	if p.Peek() != '{' {
		return rowUpdate{}, fmt.Errorf("expected a <row-update> object, found %s", p.Describe())
	}
	p.buf = p.buf[:0]
	hasOld, hasNew := false, false
	more, err := p.OpenObject()
	if err != nil {
		return rowUpdate{}, err
	}
	for more {
		k, err := p.Key()
		if err != nil {
			return rowUpdate{}, err
		}
		switch string(k) {
		case "new":
			if hasNew {
				return rowUpdate{}, errors.New(`"new" appears twice`)
			}
			hasNew = true
			if err := p.parseRow(t, false, cols); err != nil {
				return rowUpdate{}, fmt.Errorf("new: %w", err)
			}
		case "old":
			if hasOld {
				return rowUpdate{}, errors.New(`"old" appears twice`)
			}
			hasOld = true
			// The old values are checked, then dropped: the replica
			// knows them.
			mark := len(p.buf)
			if err := p.parseRow(t, false, other); err != nil {
				return rowUpdate{}, fmt.Errorf("old: %w", err)
			}
			p.buf = p.buf[:mark]
		default:
			return rowUpdate{}, fmt.Errorf("unexpected member %q in <row-update>", ovsjson.Truncate(string(k), 40))
		}
		if more, err = p.More('}'); err != nil {
			return rowUpdate{}, err
		}
	}
	switch {
	case hasNew && !hasOld:
		return rowUpdate{op: opInsert, data: p.fullRow(cols)}, nil
	case hasNew:
		return rowUpdate{op: opReplace, data: p.partialRow(cols)}, nil
	case hasOld:
		return rowUpdate{op: opDelete}, nil
	}
	return rowUpdate{}, errors.New(`<row-update> has neither "old" nor "new"`)
}

// parseRowUpdate2 reads a <row-update2>: an object with exactly one of
// "initial", "insert", "modify" (a <row> of diffs) or "delete" (null).
func (p *parser) parseRowUpdate2(t *TableSchema, cols []span) (rowUpdate, error) {
	if p.Peek() != '{' {
		return rowUpdate{}, fmt.Errorf("expected a <row-update2> object, found %s", p.Describe())
	}
	p.buf = p.buf[:0]
	var ru rowUpdate
	var kind string
	more, err := p.OpenObject()
	if err != nil {
		return ru, err
	}
	if !more {
		return ru, errors.New("empty <row-update2>")
	}
	for more {
		k, err := p.Key()
		if err != nil {
			return ru, err
		}
		if kind != "" {
			return ru, fmt.Errorf("<row-update2> has both %q and %q", kind, ovsjson.Truncate(string(k), 40))
		}
		switch string(k) {
		case "initial", "insert":
			kind = "insert"
			if string(k) == "initial" {
				kind = "initial"
			}
			if err := p.parseRow(t, false, cols); err != nil {
				return ru, fmt.Errorf("%s: %w", kind, err)
			}
			ru = rowUpdate{op: opInsert, data: p.fullRow(cols)}
		case "modify":
			kind = "modify"
			if err := p.parseRow(t, true, cols); err != nil {
				return ru, fmt.Errorf("modify: %w", err)
			}
			ru = rowUpdate{op: opModify, data: p.partialRow(cols)}
		case "delete":
			kind = "delete"
			// <row> is always null for a delete; accept a row and check
			// it, too.
			if p.Peek() == 'n' {
				if !p.Literal("null") {
					return ru, p.Errorf("bad literal")
				}
			} else if err := p.parseRow(t, false, cols); err != nil {
				return ru, fmt.Errorf("delete: %w", err)
			}
			ru = rowUpdate{op: opDelete}
		default:
			return ru, fmt.Errorf("unexpected member %q in <row-update2>", ovsjson.Truncate(string(k), 40))
		}
		if more, err = p.More('}'); err != nil {
			return ru, err
		}
	}
	return ru, nil
}

// parseRow reads a <row> object into p.buf, recording in cols where each
// column's datum is (start -1 for a column that is absent).
func (p *parser) parseRow(t *TableSchema, diff bool, cols []span) error {
	for i := range cols {
		cols[i] = span{-1, -1}
	}
	if p.Peek() != '{' {
		return fmt.Errorf("expected a <row> object, found %s", p.Describe())
	}
	more, err := p.OpenObject()
	if err != nil {
		return err
	}
	if p.orderT != t {
		p.orderT, p.order = t, p.order[:0]
	}
	for j := 0; more; j++ {
		k, err := p.Key()
		if err != nil {
			return err
		}
		c := p.column(t, j, k)
		switch {
		case c != nil:
			if cols[c.Index].start >= 0 {
				return fmt.Errorf("column %q appears twice", c.Name)
			}
			s, err := p.parseDatum(&c.Type, diff)
			if err != nil {
				return fmt.Errorf("column %q (%s): %w", c.Name, c.Type.String(), err)
			}
			cols[c.Index] = s
		case string(k) == "_uuid" || string(k) == "_version":
			name := string(k)
			if _, err := p.parseUUIDAtom(); err != nil {
				return fmt.Errorf("column %q: %w", name, err)
			}
		case p.skipUnknown:
			if err := p.Skip(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown column %q (not in the monitored schema)", ovsjson.Truncate(string(k), 80))
		}
		if more, err = p.More('}'); err != nil {
			return err
		}
	}
	return nil
}

// column returns the column of t named k, the j-th member of a row. A
// server sends the columns of every row of a table in the same order, so
// the one at j in the previous row is tried before the name is looked up.
func (p *parser) column(t *TableSchema, j int, k []byte) *ColumnSchema {
	if j < len(p.order) {
		if g := p.order[j]; g >= 0 && t.Columns[g].Name == string(k) {
			return t.Columns[g]
		}
	}
	c := t.byName[string(k)]
	g := int16(-1)
	if c != nil {
		g = int16(c.Index)
	}
	if j < len(p.order) {
		p.order[j] = g
	} else if j == len(p.order) {
		p.order = append(p.order, g)
	}
	return c
}

// fullRow encodes the parsed columns as a row; absent columns get their
// default value.
func (p *parser) fullRow(cols []span) string {
	for i := range cols {
		if cols[i].start < 0 {
			cols[i] = span{}
		}
	}
	p.row = appendRow(p.row[:0], p.buf, cols)
	if len(p.row) == 0 {
		return ""
	}
	return string(p.row)
}

// partialRow encodes the columns present as (index, length, datum)
// triples.
func (p *parser) partialRow(cols []span) string {
	p.row = p.row[:0]
	for i, s := range cols {
		if s.start < 0 {
			continue
		}
		p.row = binary.AppendUvarint(p.row, uint64(i))
		p.row = binary.AppendUvarint(p.row, uint64(s.len()))
		p.row = append(p.row, p.buf[s.start:s.end]...)
	}
	return string(p.row)
}

// partialCols iterates a partial row: column index and datum encoding.
func partialCols(data string) iter.Seq2[int, string] {
	return func(yield func(col int, enc string) bool) {
		for pos := 0; pos < len(data); {
			c, k := uvarint(data, pos)
			pos += k
			l, k := uvarint(data, pos)
			pos += k
			if !yield(int(c), data[pos:pos+int(l)]) {
				return
			}
			pos += int(l)
		}
	}
}
