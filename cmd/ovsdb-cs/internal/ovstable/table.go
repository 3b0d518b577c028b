// Package ovstable prints tables of OVSDB data exactly as Open vSwitch's
// ovsdb-client does: the five output formats of lib/table.c (table, list,
// csv, html, json), the three cell formats (string, bare, json), headings on
// or off, pretty JSON, and the optional timestamp line.
//
// A Table is built from headings and rows of cells, each either literal
// text or an OVSDB datum; a Printer writes tables one after another, with
// the blank line between consecutive tables that table_print_table__ and
// its siblings in lib/table.c insert.
package ovstable

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Format is the layout of a printed table (ovsdb-client --format).
type Format uint8

// The table formats of ovsdb-client, as lib/table.c names them.
const (
	FormatTable Format = iota // aligned columns under a dashed rule
	FormatList                // one "heading : value" line per cell
	FormatHTML                // an HTML <table>
	FormatCSV                 // comma-separated values
	FormatJSON                // one JSON object per table
)

var formatNames = [...]string{"table", "list", "html", "csv", "json"}

// String returns the format's name as ParseFormat takes it.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat returns the format called name; the error text is
// ovsdb-client's (table_parse_format in lib/table.c).
func ParseFormat(name string) (Format, error) {
	for i, n := range formatNames {
		if n == name {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("unknown output format %q", name)
}

// CellFormat is how a datum is written in a cell (ovsdb-client --data).
type CellFormat uint8

// The cell formats of ovsdb-client.
const (
	CellString CellFormat = iota // [a, b], {k=v}, strings quoted when needed
	CellBare                     // a b, k=v, strings unquoted
	CellJSON                     // OVSDB JSON notation
)

// ParseCellFormat returns the cell format called name (string, bare or
// json); the error text is ovsdb-client's (table_parse_cell_format).
func ParseCellFormat(name string) (CellFormat, error) {
	switch name {
	case "string":
		return CellString, nil
	case "bare":
		return CellBare, nil
	case "json":
		return CellJSON, nil
	}
	return 0, fmt.Errorf("unknown data format %q", name)
}

// Style is how tables are printed. The zero Style is ovsdb-client's
// default except for Headings: use DefaultStyle.
type Style struct {
	Format   Format
	Cell     CellFormat
	Headings bool
	// Pretty indents JSON output the way Open vSwitch's JSSF_PRETTY does.
	Pretty bool
}

// DefaultStyle is ovsdb-client's default: aligned table, string cells,
// with headings.
func DefaultStyle() Style { return Style{Format: FormatTable, Cell: CellString, Headings: true} }

// Bare is ovsdb-client's --bare: list format, bare cells, no headings.
func (s Style) Bare() Style {
	s.Format, s.Cell, s.Headings = FormatList, CellBare, false
	return s
}

// Cell is one cell of a table: literal text, a datum, or nothing (an empty
// cell, printed as "" or, in JSON, null).
type Cell struct {
	text    string
	hasText bool
	datum   monitor.Datum
	json    jsonValue // a JSON cell without an OVSDB type
}

// Text returns a cell holding literal text, printed as is in every cell
// format (a row's uuid or action in monitor output).
func Text(s string) Cell { return Cell{text: s, hasText: true} }

// Datum returns a cell holding d, printed in the style's cell format.
func Datum(d monitor.Datum) Cell { return Cell{datum: d} }

// JSON returns a cell holding a JSON value with no OVSDB type (a column's
// type in list-columns, a diff that does not fit its column's type): it
// is printed as compact JSON with sorted members in every cell format.
// Invalid JSON gives an empty cell.
func JSON(data []byte) Cell {
	v, err := ParseJSON(data)
	if err != nil {
		return Cell{}
	}
	return Cell{json: v}
}

// isEmpty reports whether the cell holds nothing.
func (c Cell) isEmpty() bool { return !c.hasText && c.datum.Type() == nil && c.json == nil }

// Table is one table to print.
type Table struct {
	// Caption is printed above the table ("" for none).
	Caption string
	// Time, when not zero, is printed above the table (ovsdb-client
	// --timestamp), in UTC with milliseconds.
	Time     time.Time
	Headings []string
	Rows     [][]Cell
}

// AddRow appends a row and returns it for filling; it has one empty cell
// per heading.
func (t *Table) AddRow() []Cell {
	r := make([]Cell, len(t.Headings))
	t.Rows = append(t.Rows, r)
	return r
}

// Printer writes tables to a writer in one style. It is not safe for
// concurrent use.
type Printer struct {
	w     io.Writer
	style Style
	n     int // tables printed, for the separating blank line
}

// NewPrinter returns a Printer writing to w in style s.
func NewPrinter(w io.Writer, s Style) *Printer { return &Printer{w: w, style: s} }

// Style returns the printer's style.
func (p *Printer) Style() Style { return p.style }

// Print writes t with one Write call.
func (p *Printer) Print(t *Table) error {
	_, err := p.w.Write(p.Append(nil, t))
	return err
}

// Append appends t as Print would write it to b.
func (p *Printer) Append(b []byte, t *Table) []byte {
	f := p.style.Format
	// lib/table.c separates consecutive tables with a blank line in every
	// format but html and json.
	if f == FormatTable || f == FormatList || f == FormatCSV {
		if p.n > 0 {
			b = append(b, '\n')
		}
	}
	p.n++
	switch f {
	case FormatList:
		return p.appendList(b, t)
	case FormatHTML:
		return p.appendHTML(b, t)
	case FormatCSV:
		return p.appendCSV(b, t)
	case FormatJSON:
		return p.appendJSON(b, t)
	}
	return p.appendTable(b, t)
}

// timestampLayout is lib/table.c's "%Y-%m-%d %H:%M:%S.###" in UTC.
const timestampLayout = "2006-01-02 15:04:05.000"

func appendTimestamp(b []byte, t *Table) []byte {
	if t.Time.IsZero() {
		return b
	}
	b = t.Time.UTC().AppendFormat(b, timestampLayout)
	return append(b, '\n')
}

func appendCaption(b []byte, t *Table) []byte {
	b = appendTimestamp(b, t)
	if t.Caption != "" {
		b = append(b, t.Caption...)
		b = append(b, '\n')
	}
	return b
}

// texts returns the text of every cell, row by row.
func (p *Printer) texts(t *Table) [][]string {
	out := make([][]string, len(t.Rows))
	for y, r := range t.Rows {
		out[y] = make([]string, len(t.Headings))
		for x := range t.Headings {
			if x < len(r) {
				out[y][x] = cellText(r[x], p.style.Cell)
			}
		}
	}
	return out
}

// finishLine ends a line of the table format: trailing blanks go.
func finishLine(b []byte, start int) []byte {
	end := len(b)
	for end > start && b[end-1] == ' ' {
		end--
	}
	return append(b[:end], '\n')
}

func (p *Printer) appendTable(b []byte, t *Table) []byte {
	b = appendCaption(b, t)
	texts := p.texts(t)
	widths := make([]int, len(t.Headings))
	for x, h := range t.Headings {
		for _, r := range texts {
			widths[x] = max(widths[x], len(r[x]))
		}
		if p.style.Headings {
			widths[x] = max(widths[x], len(h))
		}
	}
	line := func(cells []string) {
		start := len(b)
		for x, c := range cells {
			if x > 0 {
				b = append(b, ' ')
			}
			b = append(b, c...)
			b = append(b, strings.Repeat(" ", max(widths[x]-len(c), 0))...)
		}
		b = finishLine(b, start)
	}
	if p.style.Headings {
		line(t.Headings)
		rule := make([]string, len(widths))
		for x, w := range widths {
			rule[x] = strings.Repeat("-", w)
		}
		line(rule)
	}
	for _, r := range texts {
		line(r)
	}
	return b
}

func (p *Printer) appendList(b []byte, t *Table) []byte {
	b = appendCaption(b, t)
	for y, r := range p.texts(t) {
		if y > 0 {
			b = append(b, '\n')
		}
		for x, c := range r {
			if p.style.Headings {
				b = fmt.Appendf(b, "%-20s: ", t.Headings[x])
			}
			b = append(b, c...)
			b = append(b, '\n')
		}
	}
	return b
}

func appendHTMLEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// uuidLen is the length of a uuid in text form.
const uuidLen = 36

// isUUIDPrefix reports whether s starts with a uuid in text form (as
// uuid_from_string_prefix in lib/uuid.c).
func isUUIDPrefix(s string) bool {
	if len(s) < uuidLen {
		return false
	}
	_, err := monitor.ParseUUID(s[:uuidLen])
	return err == nil
}

// appendHTMLCell writes one cell element, turning every uuid into a link
// to the row it names (table_print_html_cell__ in lib/table.c).
func appendHTMLCell(b []byte, element, content string) []byte {
	b = append(b, "    <"...)
	b = append(b, element...)
	b = append(b, '>')
	for i := 0; i < len(content); {
		if isUUIDPrefix(content[i:]) {
			b = fmt.Appendf(b, `<a href="#%s">%s</a>`, content[i:i+uuidLen], content[i:i+8])
			i += uuidLen
			continue
		}
		b = appendHTMLEscaped(b, content[i:i+1])
		i++
	}
	b = append(b, "</"...)
	b = append(b, element...)
	return append(b, ">\n"...)
}

func (p *Printer) appendHTML(b []byte, t *Table) []byte {
	b = appendTimestamp(b, t)
	b = append(b, "<table border=1>\n"...)
	if t.Caption != "" {
		b = appendHTMLCell(b, "caption", t.Caption)
	}
	if p.style.Headings {
		b = append(b, "  <tr>\n"...)
		for _, h := range t.Headings {
			b = appendHTMLCell(b, "th", h)
		}
		b = append(b, "  </tr>\n"...)
	}
	for _, r := range p.texts(t) {
		b = append(b, "  <tr>\n"...)
		for x, c := range r {
			if t.Headings[x] == "_uuid" {
				b = append(b, `    <td><a name="`...)
				b = appendHTMLEscaped(b, c)
				b = append(b, `">`...)
				b = appendHTMLEscaped(b, c[:min(8, len(c))])
				b = append(b, "</a></td>\n"...)
				continue
			}
			b = appendHTMLCell(b, "td", c)
		}
		b = append(b, "  </tr>\n"...)
	}
	return append(b, "</table>\n"...)
}

func appendCSVCell(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\n\",") {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

func (p *Printer) appendCSV(b []byte, t *Table) []byte {
	b = appendCaption(b, t)
	row := func(cells []string) {
		for x, c := range cells {
			if x > 0 {
				b = append(b, ',')
			}
			b = appendCSVCell(b, c)
		}
		b = append(b, '\n')
	}
	if p.style.Headings {
		row(t.Headings)
	}
	for _, r := range p.texts(t) {
		row(r)
	}
	return b
}

// appendJSON writes {"caption":..,"data":[[cells]],"headings":[..],
// "time":..} with sorted keys (table_print_json__ in lib/table.c): text
// cells as strings, datums in OVSDB JSON notation, empty cells as null.
// The cell format does not apply.
func (p *Printer) appendJSON(b []byte, t *Table) []byte {
	obj := jsonObject{}
	if t.Caption != "" {
		obj["caption"] = jsonString(t.Caption)
	}
	if !t.Time.IsZero() {
		obj["time"] = jsonString(t.Time.UTC().Format(timestampLayout))
	}
	headings := make(jsonArray, len(t.Headings))
	for i, h := range t.Headings {
		headings[i] = jsonString(h)
	}
	obj["headings"] = headings
	data := make(jsonArray, len(t.Rows))
	for y, r := range t.Rows {
		row := make(jsonArray, len(t.Headings))
		for x := range t.Headings {
			var c Cell
			if x < len(r) {
				c = r[x]
			}
			switch {
			case c.hasText:
				row[x] = jsonString(c.text)
			case c.json != nil:
				row[x] = c.json
			case c.isEmpty():
				row[x] = jsonNull{}
			default:
				row[x] = datumJSON(c.datum)
			}
		}
		data[y] = row
	}
	obj["data"] = data
	b = appendJSONValue(b, obj, p.style.Pretty, 0)
	return append(b, '\n')
}
