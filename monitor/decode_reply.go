package monitor

import (
	"errors"
	"fmt"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// ReplyDecoder parses the result of a monitor, monitor_cond or
// monitor_cond_since reply piece by piece while it arrives, so that a large
// reply is never held whole: each row is parsed as soon as its bytes are
// in, and the decoder keeps only the bytes of the row being received. The
// result is the Update that ParseMonitorReply, ParseMonitorCondReply or
// ParseMonitorCondSinceReply returns for the same bytes, errors included
// (their byte offsets aside: they count from the start of the row).
//
// It implements the jsonrpc package's ResultDecoder: pass it to
// jsonrpc.Conn.ExpectResult before sending the request. Write the result's
// JSON text in pieces split anywhere, then call Finish once. A
// ReplyDecoder is used once, by one goroutine.
type ReplyDecoder struct {
	s       *Schema
	what    string // the message, for errors
	version int    // 1: <table-updates>; 2: <table-updates2>
	since   bool   // monitor_cond_since: [found, last-txn-id, <table-updates2>]
	u       *Update
	p       *parser

	buf   []byte // the bytes being parsed, from buf[pos]: the caller's piece or own
	own   []byte // the decoder's buffer for what a piece leaves incomplete
	pos   int
	state decState
	tu    *tableUpdate // the table whose rows are being read
	skip  bool         // the table is unknown and skipped (Schema.SkippingUnknown)
	tok   tokScan      // the token or row being received, from buf[pos]
	err   error
	// maxRow is MaxReplyRowSize (smaller in tests).
	maxRow int
}

type decState uint8

const (
	dsOpen       decState = iota // the result's '{' (or '[' for since)
	dsFound                      // since: <found>
	dsComma1                     // since: ','
	dsLastID                     // since: <last-txn-id>
	dsComma2                     // since: ','
	dsTables                     // since: <table-updates2>'s '{'
	dsTableKey                   // a table name, or '}' if dsFirstTable
	dsFirstTable                 // after '{': a table name or '}'
	dsTableOpen                  // the table's '{'
	dsFirstRow                   // after the table's '{': a row or '}'
	dsRow                        // a row member "<uuid>": <row-update>
	dsRowNext                    // ',' or '}' after a row
	dsTableNext                  // ',' or '}' after a table
	dsClose                      // since: ']'
	dsDone                       // only white space
)

// MaxReplyRowSize bounds what a ReplyDecoder holds at once: one row update
// (or table name) of the reply, 64 MiB, the jsonrpc package's default
// bound on a whole message. The reply itself has no bound: it is never
// held whole.
const MaxReplyRowSize = 64 << 20

// NewReplyDecoder returns a decoder of the reply to a request of method m
// (MethodMonitor, MethodMonitorCond or MethodMonitorCondSince) for tables
// of s.
func NewReplyDecoder(s *Schema, m Method) *ReplyDecoder {
	d := &ReplyDecoder{s: s, what: m.String() + " reply", maxRow: MaxReplyRowSize}
	switch m {
	case MethodMonitor:
		d.version = 1
		d.u = &Update{Clear: true, Version: 1}
	case MethodMonitorCondSince:
		d.version, d.since = 2, true
		d.u = &Update{Version: 2, HasLastID: true}
	default:
		d.version = 2
		d.u = &Update{Clear: true, Version: 2}
	}
	if s == nil {
		d.err = fmt.Errorf("monitor: parsing %s: nil schema", d.what)
	}
	return d
}

// Write parses the next piece of the result. After an error it does
// nothing more and returns the error again.
func (d *ReplyDecoder) Write(b []byte) error {
	if d.err != nil {
		return d.err
	}
	if d.p == nil {
		d.p = getParser(nil)
		d.p.skipUnknown, d.p.keepOrder = d.s.skipUnknown, d.s.keepOrder
	}
	borrowed := d.pos == len(d.buf)
	if borrowed {
		// Nothing pending: parse the piece where it is.
		d.buf, d.pos = b, 0
	} else {
		if d.pos > 0 {
			n := copy(d.own, d.buf[d.pos:])
			d.own, d.pos = d.own[:n], 0
		}
		d.own = append(d.own, b...)
		d.buf = d.own
	}
	err := d.run()
	if borrowed && err == nil {
		// Keep what the piece leaves incomplete: it is the caller's.
		d.own = append(d.own[:0], d.buf[d.pos:]...)
		d.buf, d.pos = d.own, 0
	}
	if err == nil && len(d.buf)-d.pos > d.maxRow {
		err = fmt.Errorf("a row (or table name) longer than %d bytes", d.maxRow)
	}
	if err != nil {
		d.fail(err)
		return d.err
	}
	return nil
}

// Finish checks that the result ended where it should and returns the
// *Update.
func (d *ReplyDecoder) Finish() (any, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.state != dsDone {
		d.fail(errors.New("unexpected end of the result"))
		return nil, d.err
	}
	for _, c := range d.buf[d.pos:] {
		if !ovsjson.IsSpace(c) {
			d.fail(fmt.Errorf("unexpected data after the value"))
			return nil, d.err
		}
	}
	d.release()
	return d.u, nil
}

func (d *ReplyDecoder) fail(err error) {
	d.err = fmt.Errorf("%w: %s: %w", ErrMalformed, d.what, err)
	d.release()
}

func (d *ReplyDecoder) release() {
	if d.p != nil {
		putParser(d.p)
		d.p = nil
	}
	d.buf, d.own, d.pos, d.tu = nil, nil, 0, nil
}

// run consumes every complete token and row in buf.
func (d *ReplyDecoder) run() error {
	for {
		if d.state == dsDone {
			return nil
		}
		// Single-byte tokens.
		c, ok := d.peek()
		if !ok {
			return nil
		}
		switch d.state {
		case dsOpen:
			want := byte('{')
			if d.since {
				want = '['
			}
			if c != want {
				if d.since {
					return fmt.Errorf("expected an array, found %s", describe(c))
				}
				return fmt.Errorf("expected a <table-updates> object, found %s", describe(c))
			}
			d.pos++
			d.state = dsFirstTable
			if d.since {
				d.state = dsFound
			}
			continue
		case dsComma1, dsComma2:
			if c != ',' {
				return errors.New("expected an array of 3 elements")
			}
			d.pos++
			d.state++
			continue
		case dsTables:
			if c != '{' {
				return fmt.Errorf("expected a <table-updates> object, found %s", describe(c))
			}
			d.pos++
			d.state = dsFirstTable
			continue
		case dsFirstTable, dsFirstRow:
			if c == '}' {
				d.pos++
				if d.state == dsFirstTable {
					d.endTables()
				} else {
					d.endTable()
				}
				continue
			}
		case dsTableOpen:
			if c != '{' {
				return fmt.Errorf("table %q: expected an object of row updates, found %s", d.tableName(), describe(c))
			}
			d.pos++
			d.state = dsFirstRow
			continue
		case dsRowNext, dsTableNext:
			switch c {
			case ',':
				d.pos++
				if d.state == dsRowNext {
					d.state = dsRow
				} else {
					d.state = dsTableKey
				}
			case '}':
				d.pos++
				if d.state == dsRowNext {
					d.endTable()
				} else {
					d.endTables()
				}
			default:
				return fmt.Errorf("expected ',' or '}', found %s", describe(c))
			}
			continue
		case dsClose:
			if c != ']' {
				return errors.New("expected an array of 3 elements")
			}
			d.pos++
			d.state = dsDone
			continue
		}
		// A row: parse it where it is. If that fails, the row may be
		// incomplete (it ends with the '}' of its <row-update>, so a cut
		// one never parses): find its end below and parse it then.
		if (d.state == dsRow || d.state == dsFirstRow) && !d.skip && !d.tok.active {
			p := d.p
			p.Reset(d.buf[d.pos:])
			if p.parseRowMember(d.tu, d.version, d.u.Clear) == nil {
				d.pos += p.Pos
				d.state = dsRowNext
				continue
			}
		}
		// Tokens and rows that may span pieces: wait until complete.
		mode := tokValue
		switch d.state {
		case dsRow, dsFirstRow:
			mode = tokMember
		case dsTableKey, dsFirstTable:
			mode = tokKey
		}
		end, ok := d.tok.scan(d.buf, d.pos, mode)
		if !ok {
			return nil
		}
		v := d.buf[d.pos:end]
		d.tok = tokScan{}
		d.pos = end
		if err := d.token(v); err != nil {
			return err
		}
	}
}

// peek skips white space and returns the next byte; at a token in
// progress it returns it without skipping.
func (d *ReplyDecoder) peek() (byte, bool) {
	if d.tok.active {
		return d.buf[d.pos], true
	}
	for d.pos < len(d.buf) && ovsjson.IsSpace(d.buf[d.pos]) {
		d.pos++
	}
	if d.pos == len(d.buf) {
		return 0, false
	}
	return d.buf[d.pos], true
}

// token handles a complete token or member v.
func (d *ReplyDecoder) token(v []byte) error {
	p := d.p
	p.Reset(v)
	switch d.state {
	case dsFound:
		found, err := p.ReadBool()
		if err != nil {
			return fmt.Errorf("found: %w", err)
		}
		d.u.Found, d.u.Clear = found, !found
		d.state = dsComma1
	case dsLastID:
		id, err := p.parseLastID()
		if err != nil {
			return err
		}
		d.u.LastID = id
		d.state = dsComma2
	case dsFirstTable, dsTableKey:
		k, err := p.Key()
		if err != nil {
			return err
		}
		t := d.s.byName[string(k)]
		switch {
		case t == nil && d.s.skipUnknown:
			d.skip = true
			d.tu = &tableUpdate{t: &TableSchema{Name: string(k)}}
		case t == nil:
			return fmt.Errorf("unknown table %q (not in the monitored schema)", ovsjson.Truncate(string(k), 80))
		default:
			for _, prev := range d.u.tables {
				if prev.t == t {
					return fmt.Errorf("table %q appears twice", t.Name)
				}
			}
			d.skip = false
			d.tu = &tableUpdate{t: t}
		}
		if err := p.End(); err != nil {
			return err
		}
		d.state = dsTableOpen
	case dsFirstRow, dsRow:
		if d.skip {
			d.state = dsRowNext
			return nil
		}
		if err := p.parseRowMember(d.tu, d.version, d.u.Clear); err != nil {
			return fmt.Errorf("table %q: %w", d.tu.t.Name, err)
		}
		if err := p.End(); err != nil {
			return fmt.Errorf("table %q: %w", d.tu.t.Name, err)
		}
		d.state = dsRowNext
	}
	return nil
}

func (d *ReplyDecoder) tableName() string {
	if d.tu == nil {
		return ""
	}
	return d.tu.t.Name
}

func (d *ReplyDecoder) endTable() {
	if !d.skip {
		if d.u.tables == nil {
			d.u.tables = d.u.table0[:0]
		}
		d.u.tables = append(d.u.tables, *d.tu)
	}
	d.tu, d.skip = nil, false
	d.state = dsTableNext
}

func (d *ReplyDecoder) endTables() {
	d.state = dsDone
	if d.since {
		d.state = dsClose
	}
}

func describe(c byte) string {
	l := ovsjson.Lexer{Data: []byte{c}}
	return l.Describe()
}

// The tokens tokScan finds.
const (
	tokValue  = iota // a JSON value
	tokKey           // a member name and its ':'
	tokMember        // a member name, ':' and the value
)

// tokScan finds the end of the token that starts at buf[start], resuming
// where the previous call stopped. It tracks strings and nesting only; the
// parser checks the token's syntax once it is complete.
type tokScan struct {
	active bool
	off    int  // bytes of the token scanned so far
	phase  int8 // member: 0 name, 1 ':', 2 value
	depth  int
	inStr  bool
	esc    bool
	scalar bool // in a number or literal
	begun  bool // the value (of a member: after ':') has started
}

// scan returns the end of the token and true when it is complete.
func (s *tokScan) scan(buf []byte, start int, mode int) (int, bool) {
	if !s.active {
		*s = tokScan{active: true}
		if mode == tokValue {
			s.phase = 2
		}
	}
	i := start + s.off
	n := len(buf)
	for i < n {
		if s.inStr && !s.esc {
			// The bulk of a row: skip plain string bytes at once.
			for i < n && buf[i] != '"' && buf[i] != '\\' {
				i++
			}
			if i == n {
				break
			}
		}
		c := buf[i]
		if s.inStr {
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
				if s.depth == 0 {
					if s.phase == 0 {
						s.phase = 1
					} else {
						i++
						s.off = i - start
						return i, true
					}
				}
			}
			i++
			continue
		}
		if s.scalar {
			switch c {
			case ',', '}', ']', ' ', '\t', '\n', '\r', ':', '"', '{', '[':
				s.off = i - start
				return i, true
			}
			i++
			continue
		}
		switch {
		case s.phase == 1:
			if c == ':' {
				s.phase = 2
				if mode == tokKey {
					i++
					s.off = i - start
					return i, true
				}
			} else if !ovsjson.IsSpace(c) {
				// Not a member: let the parser say so.
				i++
				s.off = i - start
				return i, true
			}
		case ovsjson.IsSpace(c):
		case c == '"':
			s.inStr = true
			s.begun = s.begun || s.phase == 2
		case s.phase == 0:
			// A member name must be a string: let the parser say so.
			i++
			s.off = i - start
			return i, true
		case c == '{' || c == '[':
			s.depth++
			s.begun = true
		case c == '}' || c == ']':
			if s.depth == 0 {
				// The value is missing: the parser reports it.
				s.off = i - start
				return i, true
			}
			s.depth--
			if s.depth == 0 {
				i++
				s.off = i - start
				return i, true
			}
		case s.depth == 0 && !s.begun:
			s.scalar, s.begun = true, true
		}
		i++
	}
	s.off = i - start
	return 0, false
}
