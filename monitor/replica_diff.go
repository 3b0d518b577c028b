package monitor

import (
	"encoding/binary"
	"fmt"
)

// diffScratch holds the buffers Apply reuses to build modified rows.
type diffScratch struct {
	buf   []byte // datums of the new row
	elems []byte // elements of one merged datum
	spans []span
	row   []byte
}

// modify returns the encoding of the row old after applying the partial row
// data: update2 diffs (isDiff) or update "new" values that replace the
// columns they name.
func (s *diffScratch) modify(t *TableSchema, old, data string, isDiff bool) (string, error) {
	n := len(t.Columns)
	s.buf = s.buf[:0]
	s.spans = s.spans[:0]
	next := 0
	var err error
	addOld := func(upTo int) {
		for ; next < upTo; next++ {
			start := len(s.buf)
			s.buf = append(s.buf, rowDatum(old, n, next)...)
			s.spans = append(s.spans, span{start, len(s.buf)})
		}
	}
	for col, enc := range partialCols(data) {
		addOld(col)
		start := len(s.buf)
		c := t.Columns[col]
		if isDiff {
			s.buf, err = s.applyDatumDiff(s.buf, &c.Type, rowDatum(old, n, col), enc)
			if err != nil {
				return "", fmt.Errorf("column %q: %w", c.Name, err)
			}
		} else {
			s.buf = append(s.buf, enc...)
		}
		s.spans = append(s.spans, span{start, len(s.buf)})
		next = col + 1
	}
	addOld(n)
	s.row = appendRow(s.row[:0], s.buf, s.spans)
	if string(s.row) == old {
		return old, nil
	}
	return string(s.row), nil
}

// applyDatumDiff appends to dst the datum that results from applying the
// update2 diff to old (both encodings of type t), following ovsdb-server:
//
//   - a scalar column takes the diff as its new value;
//   - a set takes the symmetric difference of old and diff;
//   - a map takes, for each pair in the diff, its key out when old has the
//     same pair, its value when old has the key with another value, and the
//     pair when old lacks the key;
//   - a set or map with at most one element takes the diff as its new value
//     (ovsdb-server's ovsdb_datum_diff sends the new value, possibly empty,
//     for any column that is not "composite", max > 1), except that a
//     one-element diff equal to the old value removes it, and a diff of
//     two elements goes by the rules above: that is the per-element
//     difference that libovsdb's server sends. ovsdb-server never sends a
//     column whose value did not change, so the exception never applies to
//     it.
//
// The result must have between min and max elements.
func (s *diffScratch) applyDatumDiff(dst []byte, t *ColumnType, old, diff string) ([]byte, error) {
	if t.IsScalar() {
		return append(dst, diff...), nil
	}
	var dn uint64
	dpos := 0
	if diff != "" {
		dn, dpos = uvarint(diff, 0)
	}
	if old == "" {
		old = t.defaultEnc()
	}
	var on uint64
	opos := 0
	if old != "" {
		on, opos = uvarint(old, 0)
	}
	kt, vt := t.Key.Type, t.Value.Type
	next := func(enc string, pos int) (key, all string, end int) {
		kl := elemLen(kt, enc, pos)
		l := kl
		if vt != TypeVoid {
			l += elemLen(vt, enc, pos+kl)
		}
		return enc[pos : pos+kl], enc[pos : pos+l], pos + l
	}
	s.elems = s.elems[:0]
	count := 0
	if t.Max == 1 && dn <= 1 {
		// The new value itself, except that a diff equal to the old value
		// removes it.
		if dn == 1 && !(on == 1 && old[opos:] == diff[dpos:]) {
			s.elems = append(s.elems, diff[dpos:]...)
			count = 1
		}
	} else {
		var ok, dk, oa, da string
		oi, di := uint64(0), uint64(0)
		opNext, dpNext := opos, dpos
		if oi < on {
			ok, oa, opNext = next(old, opos)
		}
		if di < dn {
			dk, da, dpNext = next(diff, dpos)
		}
		for oi < on || di < dn {
			var c int
			switch {
			case oi == on:
				c = 1
			case di == dn:
				c = -1
			default:
				c = cmpElem(kt, ok, dk)
			}
			switch {
			case c < 0:
				s.elems = append(s.elems, oa...)
				count++
			case c > 0:
				s.elems = append(s.elems, da...)
				count++
			default:
				if vt != TypeVoid && oa != da {
					s.elems = append(s.elems, da...)
					count++
				}
			}
			if c <= 0 {
				oi++
				opos = opNext
				if oi < on {
					ok, oa, opNext = next(old, opos)
				}
			}
			if c >= 0 {
				di++
				dpos = dpNext
				if di < dn {
					dk, da, dpNext = next(diff, dpos)
				}
			}
		}
	}
	if count < t.Min || count > t.Max {
		return dst, fmt.Errorf("the diff leaves %d elements where %s is expected", count, t.String())
	}
	if count == 0 {
		return dst, nil
	}
	start := len(dst)
	dst = binary.AppendUvarint(dst, uint64(count))
	dst = append(dst, s.elems...)
	if string(dst[start:]) == t.defaultEnc() {
		dst = dst[:start]
	}
	return dst, nil
}
