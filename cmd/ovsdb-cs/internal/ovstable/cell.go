package ovstable

import (
	"strconv"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// cellText returns the text of c in cell format f (cell_to_text in
// lib/table.c).
func cellText(c Cell, f CellFormat) string {
	switch {
	case c.hasText:
		return c.text
	case c.json != nil:
		return string(appendJSONValue(nil, c.json, false, 0))
	case c.isEmpty():
		return ""
	}
	switch f {
	case CellJSON:
		return string(appendJSONValue(nil, datumJSON(c.datum), false, 0))
	case CellBare:
		return DatumBare(c.datum)
	}
	return DatumString(c.datum)
}

// DatumString writes d the way ovsdb_datum_to_string in lib/ovsdb-data.c
// does: a set as [a, b], a map as {k=v, k2=v2}, a scalar or a one-element
// optional value bare, strings quoted only when they would read as
// something else.
func DatumString(d monitor.Datum) string {
	t := d.Type()
	if t == nil {
		return ""
	}
	var sb strings.Builder
	open, close := "[", "]"
	if t.IsMap() {
		open, close = "{", "}"
	}
	brackets := t.Max > 1 || d.Len() == 0
	if brackets {
		sb.WriteString(open)
	}
	writeElems(&sb, d, ", ", AtomString)
	if brackets {
		sb.WriteString(close)
	}
	return sb.String()
}

// DatumBare writes d the way ovsdb_datum_to_bare does: elements separated
// by spaces, map pairs as k=v, strings as they are.
func DatumBare(d monitor.Datum) string {
	if d.Type() == nil {
		return ""
	}
	var sb strings.Builder
	writeElems(&sb, d, " ", atomBare)
	return sb.String()
}

func writeElems(sb *strings.Builder, d monitor.Datum, sep string, atom func(monitor.Atom) string) {
	first := true
	if d.Type().IsMap() {
		for k, v := range d.Pairs() {
			if !first {
				sb.WriteString(sep)
			}
			first = false
			sb.WriteString(atom(k))
			sb.WriteByte('=')
			sb.WriteString(atom(v))
		}
		return
	}
	for a := range d.All() {
		if !first {
			sb.WriteString(sep)
		}
		first = false
		sb.WriteString(atom(a))
	}
}

// formatReal formats a real as C's "%.15g" (DBL_DIG digits), as Open
// vSwitch writes reals both in JSON and in strings.
func formatReal(f float64) string { return strconv.FormatFloat(f, 'g', 15, 64) }

// AtomString writes a as ovsdb_atom_to_string does.
func AtomString(a monitor.Atom) string {
	switch a.Type() {
	case monitor.TypeInteger:
		return strconv.FormatInt(a.Int(), 10)
	case monitor.TypeReal:
		return formatReal(a.Float())
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

func atomBare(a monitor.Atom) string {
	if a.Type() == monitor.TypeString {
		return a.Str()
	}
	return AtomString(a)
}

// needsQuotes reports whether a string must be quoted to read back as a
// string (string_needs_quotes in lib/ovsdb-data.c): it does not start with
// a letter or "_", holds a character other than letters, digits, "_", "-"
// and ".", or reads as a boolean or a uuid.
func needsQuotes(s string) bool {
	if s == "" || !isAlpha(s[0]) && s[0] != '_' {
		return true
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '.' {
			return true
		}
	}
	if s == "true" || s == "false" {
		return true
	}
	_, err := monitor.ParseUUID(s)
	return err == nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
