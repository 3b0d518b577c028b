package eventfmt

import (
	"time"
	"unicode/utf8"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// tsLayout is RFC 3339 with nanoseconds, always nine digits so that lines
// line up and sort as text.
const tsLayout = "2006-01-02T15:04:05.000000000Z07:00"

func jsonStart(b []byte, ts time.Time, event string) []byte {
	b = append(b, `{"ts":"`...)
	b = ts.AppendFormat(b, tsLayout)
	b = append(b, `","event":`...)
	return appendJSONString(b, event)
}

func jsonField(b []byte, name, value string) []byte {
	b = append(b, ',')
	b = appendJSONString(b, name)
	b = append(b, ':')
	return appendJSONString(b, value)
}

func jsonEnd(b []byte) []byte { return append(b, "}\n"...) }

func appendJSONChange(b []byte, ts time.Time, c monitor.RowChange) []byte {
	b = jsonStart(b, ts, "update")
	b = jsonField(b, "table", c.Table)
	b = jsonField(b, "uuid", c.UUID.String())
	b = jsonField(b, "op", opName(c.Op))
	if c.Op != monitor.ChangeDelete && c.New.Valid() {
		b = append(b, `,"row":`...)
		b = c.New.AppendJSON(b)
	}
	switch {
	case c.Op == monitor.ChangeDelete && c.Old.Valid():
		b = append(b, `,"old":`...)
		b = c.Old.AppendJSON(b)
	case c.Op == monitor.ChangeModify && c.Old.Valid() && c.New.Valid():
		b = append(b, `,"old":`...)
		b = appendChangedColumns(b, c.Old, c.New)
	}
	return jsonEnd(b)
}

// appendChangedColumns writes the columns whose value differs between old
// and new, with their old values, as a JSON object.
func appendChangedColumns(b []byte, old, new monitor.Row) []byte {
	b = append(b, '{')
	first := true
	for i, col := range old.Table().Columns {
		if old.At(i).Equal(new.At(i)) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, col.Name)
		b = append(b, ':')
		b = old.At(i).AppendJSON(b)
	}
	return append(b, '}')
}

func opName(op monitor.ChangeOp) string {
	switch op {
	case monitor.ChangeInsert:
		return "insert"
	case monitor.ChangeModify:
		return "modify"
	case monitor.ChangeDelete:
		return "delete"
	}
	return op.String()
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string (RFC 8259), escaping only
// what must be escaped; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
