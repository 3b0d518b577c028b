package monitor

import (
	"cmp"
	"encoding/binary"
	"math"
	"unicode/utf8"
)

// Encoding of values (internal, canonical: equal values have equal bytes).
//
// An element (one atom inside a set or map, or the atom of a scalar column):
//
//	integer  zigzag uvarint
//	real     8 bytes, little-endian IEEE 754 bits (-0 stored as 0)
//	boolean  1 byte, 0 or 1
//	string   uvarint length, then the UTF-8 bytes
//	uuid     16 bytes
//
// A datum (one column's value) is empty when it equals the column's default
// value. Otherwise a scalar column (min 1, max 1, not a map) holds one
// element, and any other column holds a uvarint count followed by the
// elements in OVSDB order (for maps: key, value, key, value...).
//
// A row is one string: empty when every column has its default value;
// otherwise a width byte (2 or 4), then for each column the end offset of
// its datum (little-endian, that width), then the datums back to back. Rows
// are immutable, so a Row value can be shared freely.

// zigzag maps signed integers to unsigned so that small magnitudes encode
// short.
func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// uvarint decodes a uvarint at s[off:]; n is 0 when it is malformed.
func uvarint[S ~string | ~[]byte](s S, off int) (v uint64, n int) {
	var shift uint
	for i := off; i < len(s) && i-off < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return v | uint64(c)<<shift, i - off + 1
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// elemLen returns the length of the element of type t at s[off:], or 0 if
// it is truncated.
func elemLen[S ~string | ~[]byte](t AtomicType, s S, off int) int {
	var n int
	switch t {
	case TypeInteger:
		_, n = uvarint(s, off)
	case TypeReal:
		n = 8
	case TypeBoolean:
		n = 1
	case TypeUUID:
		n = 16
	case TypeString:
		l, k := uvarint(s, off)
		if k == 0 || l > uint64(len(s)-off-k) {
			return 0
		}
		n = k + int(l)
	}
	if n == 0 || n > len(s)-off {
		return 0
	}
	return n
}

// appendElem appends the element encoding of a (of type t) to b.
func appendElem(b []byte, a Atom) []byte {
	switch a.typ {
	case TypeInteger:
		return binary.AppendUvarint(b, zigzag(int64(a.n)))
	case TypeReal:
		return binary.LittleEndian.AppendUint64(b, a.n)
	case TypeBoolean:
		return append(b, byte(a.n))
	case TypeString:
		b = binary.AppendUvarint(b, uint64(len(a.s)))
		return append(b, a.s...)
	case TypeUUID:
		return append(b, a.s...)
	}
	return b
}

// decodeElem decodes the element of type t that starts s (from a row, so
// strings and uuids share its memory). s must be well formed.
func decodeElem(t AtomicType, s string) Atom {
	a := Atom{typ: t}
	switch t {
	case TypeInteger:
		u, _ := uvarint(s, 0)
		a.n = uint64(unzigzag(u))
	case TypeReal:
		a.n = math.Float64bits(leFloat(s))
	case TypeBoolean:
		a.n = uint64(s[0])
	case TypeString:
		l, k := uvarint(s, 0)
		a.s = s[k : k+int(l)]
	case TypeUUID:
		a.s = s[:16]
	}
	return a
}

// cmpElem compares two encoded elements of type t (each exactly one
// element) in OVSDB order.
func cmpElem[S ~string | ~[]byte](t AtomicType, a, b S) int {
	switch t {
	case TypeInteger:
		x, _ := uvarint(a, 0)
		y, _ := uvarint(b, 0)
		return cmp.Compare(unzigzag(x), unzigzag(y))
	case TypeReal:
		return cmp.Compare(leFloat(a), leFloat(b))
	case TypeString:
		_, k1 := uvarint(a, 0)
		_, k2 := uvarint(b, 0)
		return compareBytes(a[k1:], b[k2:])
	default: // boolean, uuid: bytes order
		return compareBytes(a, b)
	}
}

// compareBytes compares byte strings without converting them.
func compareBytes[S ~string | ~[]byte](a, b S) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return cmp.Compare(len(a), len(b))
}

func leFloat[S ~string | ~[]byte](s S) float64 {
	var u uint64
	for i := 7; i >= 0; i-- {
		u = u<<8 | uint64(s[i])
	}
	return math.Float64frombits(u)
}

// isDefaultElem reports whether the encoded element e is the default atom of
// its type (0, 0.0, false, "", the zero uuid).
func isDefaultElem[S ~string | ~[]byte](e S) bool {
	for i := 0; i < len(e); i++ {
		if e[i] != 0 {
			return false
		}
	}
	return true
}

// computeDefault returns the encoding of the default datum of t when it is
// not the empty encoding: a set or map with min 1 holds one default atom (and
// value).
func (t *ColumnType) computeDefault() string {
	if t.IsScalar() || t.Min == 0 {
		return ""
	}
	b := []byte{1}
	b = appendElem(b, Atom{typ: t.Key.Type, s: zeroString(t.Key.Type)})
	if t.IsMap() {
		b = appendElem(b, Atom{typ: t.Value.Type, s: zeroString(t.Value.Type)})
	}
	return string(b)
}

func zeroString(t AtomicType) string {
	if t == TypeUUID {
		return string(make([]byte, 16))
	}
	return ""
}

// defaultEnc returns the encoding that an empty datum of t stands for.
func (t *ColumnType) defaultEnc() string {
	if t.def == "" && !t.IsScalar() && t.Min > 0 {
		t.def = t.computeDefault()
	}
	return t.def
}

// Row blobs.

// rowWidth returns the offset width for a row of n columns and dataLen bytes
// of datums.
func rowWidth(n, dataLen int) int {
	if 1+2*n+dataLen <= math.MaxUint16 {
		return 2
	}
	return 4
}

// span is a half-open byte range.
type span struct{ start, end int }

func (s span) len() int { return s.end - s.start }

// appendRow appends the row encoding of the datums src[spans[i]] (column i)
// to dst. An all-default row encodes as nothing.
func appendRow(dst, src []byte, spans []span) []byte {
	data := 0
	for _, s := range spans {
		data += s.len()
	}
	if data == 0 {
		return dst
	}
	n := len(spans)
	w := rowWidth(n, data)
	hdr := 1 + w*n
	dst = append(dst, byte(w))
	off := hdr
	for _, s := range spans {
		off += s.len()
		if w == 2 {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(off))
		} else {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(off))
		}
	}
	for _, s := range spans {
		dst = append(dst, src[s.start:s.end]...)
	}
	return dst
}

// rowDatum returns the encoding of column i of the row blob b (n columns).
func rowDatum(b string, n, i int) string {
	if b == "" {
		return ""
	}
	w := int(b[0])
	start := 1 + w*n
	if i > 0 {
		start = readOffset(b, w, 1+w*(i-1))
	}
	return b[start:readOffset(b, w, 1+w*i)]
}

func readOffset(b string, w, p int) int {
	v := int(b[p]) | int(b[p+1])<<8
	if w == 4 {
		v |= int(b[p+2])<<16 | int(b[p+3])<<24
	}
	return v
}

// runeCount counts the code points of valid UTF-8.
func runeCount(s string) int { return utf8.RuneCountInString(s) }
