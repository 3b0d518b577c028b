package eventfmt

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// textTSLayout stamps text lines: RFC 3339 with milliseconds.
const textTSLayout = "2006-01-02T15:04:05.000Z07:00"

func textStart(b []byte, ts time.Time, event string) []byte {
	b = ts.AppendFormat(b, textTSLayout)
	b = append(b, ' ')
	b = append(b, event...)
	return append(b, ' ')
}

// appendTextUpdate writes one table per database table touched by changes,
// in order of first appearance, the way "ovsdb-client monitor" does: columns
// "row" and "action", then the table's columns. A modified row takes two
// lines: "old" with the columns that changed, then "new" with every column.
func appendTextUpdate(b []byte, ts time.Time, changes []monitor.RowChange) []byte {
	b = ts.AppendFormat(b, textTSLayout)
	b = append(b, " update\n"...)
	var order []string
	byTable := make(map[string][]monitor.RowChange)
	for _, c := range changes {
		if _, ok := byTable[c.Table]; !ok {
			order = append(order, c.Table)
		}
		byTable[c.Table] = append(byTable[c.Table], c)
	}
	for _, name := range order {
		b = appendTable(b, name, byTable[name])
	}
	return b
}

func appendTable(b []byte, name string, changes []monitor.RowChange) []byte {
	var ts *monitor.TableSchema
	for _, c := range changes {
		if c.New.Valid() {
			ts = c.New.Table()
		} else if c.Old.Valid() {
			ts = c.Old.Table()
		}
		if ts != nil {
			break
		}
	}
	header := []string{"row", "action"}
	if ts != nil {
		for _, col := range ts.Columns {
			header = append(header, col.Name)
		}
	}
	rows := [][]string{header}
	line := func(id, action string, r monitor.Row, only func(i int) bool) {
		cells := make([]string, len(header))
		cells[0], cells[1] = id, action
		if r.Valid() && ts != nil {
			for i := range ts.Columns {
				if only == nil || only(i) {
					cells[2+i] = datumString(r.At(i))
				}
			}
		}
		rows = append(rows, cells)
	}
	for _, c := range changes {
		id := c.UUID.String()
		switch c.Op {
		case monitor.ChangeInsert:
			line(id, "insert", c.New, nil)
		case monitor.ChangeDelete:
			line(id, "delete", c.Old, nil)
		default:
			if c.Old.Valid() && c.New.Valid() {
				changed := func(i int) bool { return !c.Old.At(i).Equal(c.New.At(i)) }
				line(id, "old", c.Old, changed)
				line("", "new", c.New, nil)
			} else {
				line(id, "modify", c.New, nil)
			}
		}
	}
	widths := make([]int, len(header))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	b = append(b, name...)
	b = append(b, " table\n"...)
	b = appendCells(b, rows[0], widths)
	for i, w := range widths {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, strings.Repeat("-", w)...)
	}
	b = append(b, '\n')
	for _, r := range rows[1:] {
		b = appendCells(b, r, widths)
	}
	return b
}

func appendCells(b []byte, cells []string, widths []int) []byte {
	start := len(b)
	for i, cell := range cells {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, cell...)
		if pad := widths[i] - utf8.RuneCountInString(cell); pad > 0 {
			b = append(b, strings.Repeat(" ", pad)...)
		}
	}
	// No trailing blanks.
	end := len(b)
	for end > start && b[end-1] == ' ' {
		end--
	}
	return append(b[:end], '\n')
}

// datumString writes a datum the way ovsdb-client's table output does:
// bare atoms for scalars and optional values, [a, b] for sets, {k=v} for
// maps, strings quoted only when they would otherwise be ambiguous.
func datumString(d monitor.Datum) string {
	t := d.Type()
	if t == nil {
		return ""
	}
	var sb strings.Builder
	switch {
	case t.IsMap():
		sb.WriteByte('{')
		first := true
		for k, v := range d.Pairs() {
			if !first {
				sb.WriteString(", ")
			}
			first = false
			sb.WriteString(atomString(k))
			sb.WriteByte('=')
			sb.WriteString(atomString(v))
		}
		sb.WriteByte('}')
	case t.Max > 1:
		sb.WriteByte('[')
		first := true
		for a := range d.All() {
			if !first {
				sb.WriteString(", ")
			}
			first = false
			sb.WriteString(atomString(a))
		}
		sb.WriteByte(']')
	default:
		if a, ok := d.Atom(); ok {
			sb.WriteString(atomString(a))
		} else {
			sb.WriteString("[]")
		}
	}
	return sb.String()
}

func atomString(a monitor.Atom) string {
	switch a.Type() {
	case monitor.TypeInteger:
		return strconv.FormatInt(a.Int(), 10)
	case monitor.TypeReal:
		return strconv.FormatFloat(a.Float(), 'g', -1, 64)
	case monitor.TypeBoolean:
		return strconv.FormatBool(a.Bool())
	case monitor.TypeUUID:
		return a.UUID().String()
	case monitor.TypeString:
		s := a.Str()
		if needsQuotes(s) {
			return string(appendJSONString(nil, s))
		}
		return s
	}
	return a.String()
}

// needsQuotes reports whether a string would read as something else (empty,
// a number, a boolean, a uuid) or holds characters beyond an identifier's.
func needsQuotes(s string) bool {
	if s == "" || s == "true" || s == "false" {
		return true
	}
	if _, err := monitor.ParseUUID(s); err == nil {
		return true
	}
	c := s[0]
	if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return true
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return true
		}
	}
	return false
}
