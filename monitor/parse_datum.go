package monitor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"unsafe"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// parser turns OVSDB JSON into the internal encoding. One parser handles one
// message; its buffers are reused from row to row, and from message to
// message through parserPool.
type parser struct {
	ovsjson.Lexer
	buf   []byte     // datum encodings of the row being parsed
	elems []elemSpan // elements of the datum being parsed
	tmp   []byte     // scratch for reordering elements
	row   []byte     // row assembly
	cols  []span     // where each column's datum is in buf

	skipUnknown bool // skip unknown tables and columns (Schema.SkippingUnknown)
	keepOrder   bool // keep a resync's rows in order (Schema.KeepingResyncOrder)
	// order is the column index of each member of the last row of table
	// orderT (-1: not a column), tried first for the next row.
	order  []int16
	orderT *TableSchema
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}

func getParser(data []byte) *parser {
	p := parserPool.Get().(*parser)
	p.Lexer.Reset(data)
	p.skipUnknown, p.keepOrder = false, false
	p.orderT, p.order = nil, p.order[:0]
	return p
}

// putParser returns p to the pool, unless a huge message grew its buffers.
func putParser(p *parser) {
	const maxKeep = 1 << 20
	if cap(p.buf) > maxKeep || cap(p.tmp) > maxKeep || cap(p.row) > maxKeep || p.ScratchCap() > maxKeep || cap(p.elems) > maxKeep/16 {
		return
	}
	p.Lexer.Reset(nil)
	parserPool.Put(p)
}

// elemSpan locates one set member (key == all) or map pair in parser.buf.
type elemSpan struct{ key, all span }

// valueError is a type or constraint error in one value; the callers add
// where it happened.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

func valueErrorf(format string, args ...any) error {
	return &valueError{msg: fmt.Sprintf(format, args...)}
}

// parseDatum reads one datum of type t and appends its encoding to p.buf,
// returning where it is. With diff set it reads an update2 "modify" diff
// instead of a value: any number of elements is allowed, and an empty span
// means no elements (not the default value).
func (p *parser) parseDatum(t *ColumnType, diff bool) (span, error) {
	start := len(p.buf)
	p.elems = p.elems[:0]
	if !t.IsScalar() {
		p.buf = append(p.buf, 0) // room for the count
	}
	if t.IsMap() {
		if err := p.parseTagged("map"); err != nil {
			return span{}, err
		}
		if err := p.parseElems(t, true); err != nil {
			return span{}, err
		}
		if err := p.Expect(']'); err != nil {
			return span{}, err
		}
	} else if p.Peek() == '[' {
		// ["set", [...]] or a uuid atom ["uuid", "..."].
		save := p.Pos
		p.Pos++
		tag, err := p.ReadString()
		if err != nil {
			return span{}, err
		}
		if string(tag) == "set" {
			if err := p.Expect(','); err != nil {
				return span{}, err
			}
			if err := p.parseElems(t, false); err != nil {
				return span{}, err
			}
			if err := p.Expect(']'); err != nil {
				return span{}, err
			}
		} else {
			if t.Key.Type != TypeUUID || (string(tag) != "uuid" && string(tag) != "named-uuid") {
				return span{}, valueErrorf("expected %s or [\"set\", ...], found [%q, ...]", t.Key.Type, ovsjson.Truncate(string(tag), 40))
			}
			p.Pos = save
			if err := p.parseElem(&t.Key, false, t.IsScalar() || t.Min > 0); err != nil {
				return span{}, err
			}
		}
	} else if err := p.parseElem(&t.Key, false, t.IsScalar() || t.Min > 0); err != nil {
		return span{}, err
	}
	return p.finishDatum(t, start, diff)
}

// parseTagged reads `["<tag>",` (the start of a set or map).
func (p *parser) parseTagged(tag string) error {
	if p.Peek() != '[' {
		return valueErrorf("expected [%q, ...], found %s", tag, p.Describe())
	}
	p.Pos++
	got, err := p.ReadString()
	if err != nil {
		return err
	}
	if string(got) != tag {
		return valueErrorf("expected [%q, ...], found [%q, ...]", tag, ovsjson.Truncate(string(got), 40))
	}
	return p.Expect(',')
}

// parseElems reads the JSON array of set members or of [key, value] pairs.
func (p *parser) parseElems(t *ColumnType, isMap bool) error {
	more, err := p.OpenArray()
	if err != nil {
		return err
	}
	for more {
		if isMap {
			if err := p.Expect('['); err != nil {
				return err
			}
			if err := p.parseElem(&t.Key, false, t.IsScalar() || t.Min > 0); err != nil {
				return err
			}
			if err := p.Expect(','); err != nil {
				return err
			}
			if err := p.parseElem(&t.Value, true, t.Min > 0); err != nil {
				return err
			}
			if err := p.Expect(']'); err != nil {
				return err
			}
		} else if err := p.parseElem(&t.Key, false, t.IsScalar() || t.Min > 0); err != nil {
			return err
		}
		if more, err = p.More(']'); err != nil {
			return err
		}
	}
	return nil
}

// parseElem reads one atom of type b and appends its element encoding to
// p.buf. A key (isValue false) starts a new entry in p.elems; a map value
// extends the last one. With zeroOK, the zero atom passes the constraints
// check: it is part of the column's default value, which ovsdb-server
// stores (and sends) for a column a transaction left out, whatever the
// constraints say.
func (p *parser) parseElem(b *BaseType, isValue, zeroOK bool) error {
	start := len(p.buf)
	var a Atom // filled only when constraints must be checked
	check := b.constrained()
	switch b.Type {
	case TypeInteger:
		if c := p.Peek(); c != '-' && (c < '0' || c > '9') {
			return valueErrorf("expected an integer, found %s", p.Describe())
		}
		text, isInt, err := p.Number()
		if err != nil {
			return err
		}
		if !isInt {
			return valueErrorf("expected an integer, found %s", ovsjson.Truncate(string(text), 40))
		}
		v, err := ovsjson.ParseInt(text)
		if err != nil {
			return valueErrorf("integer %s is out of the 64-bit range", ovsjson.Truncate(string(text), 40))
		}
		p.buf = binary.AppendUvarint(p.buf, zigzag(v))
		a = IntegerAtom(v)
	case TypeReal:
		if c := p.Peek(); c != '-' && (c < '0' || c > '9') {
			return valueErrorf("expected a real, found %s", p.Describe())
		}
		text, _, err := p.Number()
		if err != nil {
			return err
		}
		f, err := ovsjson.ParseReal(text)
		if err != nil {
			return valueErrorf("%v", err)
		}
		a = RealAtom(f)
		p.buf = binary.LittleEndian.AppendUint64(p.buf, a.n)
	case TypeBoolean:
		c := p.Peek()
		if c != 't' && c != 'f' {
			return valueErrorf("expected a boolean, found %s", p.Describe())
		}
		v, err := p.ReadBool()
		if err != nil {
			return err
		}
		a = BooleanAtom(v)
		p.buf = append(p.buf, byte(a.n))
	case TypeString:
		if p.Peek() != '"' {
			return valueErrorf("expected a string, found %s", p.Describe())
		}
		s, err := p.ReadString()
		if err != nil {
			return err
		}
		p.buf = binary.AppendUvarint(p.buf, uint64(len(s)))
		p.buf = append(p.buf, s...)
		if check {
			a = Atom{typ: TypeString, s: unsafe.String(unsafe.SliceData(s), len(s))}
		}
	case TypeUUID:
		u, err := p.parseUUIDAtom()
		if err != nil {
			return err
		}
		p.buf = append(p.buf, u[:]...)
		if check {
			a = Atom{typ: TypeUUID, s: unsafe.String(&p.buf[start], 16)}
		}
	default:
		return valueErrorf("no value type")
	}
	if check && !(zeroOK && a.isZero()) {
		if err := b.checkAtom(a); err != nil {
			return &valueError{msg: err.Error()}
		}
	}
	end := len(p.buf)
	if isValue {
		p.elems[len(p.elems)-1].all.end = end
	} else {
		p.elems = append(p.elems, elemSpan{key: span{start, end}, all: span{start, end}})
	}
	return nil
}

// parseUUIDAtom reads ["uuid", "<uuid>"].
func (p *parser) parseUUIDAtom() (UUID, error) {
	if p.Peek() != '[' {
		return UUID{}, valueErrorf(`expected ["uuid", "<uuid>"], found %s`, p.Describe())
	}
	p.Pos++
	tag, err := p.ReadString()
	if err != nil {
		return UUID{}, err
	}
	switch string(tag) {
	case "uuid":
	case "named-uuid":
		return UUID{}, valueErrorf("named-uuid is not allowed in an update")
	default:
		return UUID{}, valueErrorf(`expected ["uuid", "<uuid>"], found [%q, ...]`, ovsjson.Truncate(string(tag), 40))
	}
	if err := p.Expect(','); err != nil {
		return UUID{}, err
	}
	s, err := p.ReadString()
	if err != nil {
		return UUID{}, err
	}
	u, ok := ovsjson.ParseUUID(s)
	if !ok {
		return UUID{}, valueErrorf("malformed uuid %q", ovsjson.Truncate(string(s), 64))
	}
	if err := p.Expect(']'); err != nil {
		return UUID{}, err
	}
	return u, nil
}

var errDuplicate = errors.New("duplicate")

// finishDatum sorts and checks the elements parsed since start (after a
// one-byte room for the count, unless t is scalar) and turns them into the
// datum encoding.
func (p *parser) finishDatum(t *ColumnType, start int, diff bool) (span, error) {
	n := len(p.elems)
	kt := t.Key.Type
	// The server sends members in order; check that cheaply and sort only
	// when needed.
	sorted := true
	for i := 1; i < n; i++ {
		if cmpElem(kt, p.keyBytes(i-1), p.keyBytes(i)) >= 0 {
			sorted = false
			break
		}
	}
	if !sorted {
		if err := p.sortElems(kt, p.elems[0].all.start); err != nil {
			if t.IsMap() {
				return span{}, valueErrorf("map has duplicate keys")
			}
			return span{}, valueErrorf("set has duplicate members")
		}
	}
	if !diff && (n < t.Min || n > t.Max) {
		return span{}, valueErrorf("%d elements where %s is expected", n, t.String())
	}
	if t.IsScalar() {
		if n != 1 {
			return span{}, valueErrorf("%d elements where %s is expected", n, t.String())
		}
		if isDefaultElem(p.buf[start:]) {
			p.buf = p.buf[:start]
		}
		return span{start, len(p.buf)}, nil
	}
	if n == 0 {
		p.buf = p.buf[:start]
		return span{start, start}, nil
	}
	// Write the count in its room, which takes more than one byte from 128
	// elements on.
	var cnt [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(cnt[:], uint64(n))
	if k > 1 {
		end := len(p.buf)
		p.buf = append(p.buf, cnt[1:k]...)
		copy(p.buf[start+k:], p.buf[start+1:end])
	}
	copy(p.buf[start:], cnt[:k])
	if !diff && t.Min > 0 && n == 1 && isDefaultElem(p.buf[start+k:]) {
		// A min-1 set or map holding just the default atom is the default.
		p.buf = p.buf[:start]
	}
	return span{start, len(p.buf)}, nil
}

func (p *parser) keyBytes(i int) []byte {
	s := p.elems[i].key
	return p.buf[s.start:s.end]
}

// sortElems sorts the elements (by key) in place in p.buf[start:] and fails
// on a duplicate key.
func (p *parser) sortElems(kt AtomicType, start int) error {
	slices.SortFunc(p.elems, func(a, b elemSpan) int {
		return cmpElem(kt, p.buf[a.key.start:a.key.end], p.buf[b.key.start:b.key.end])
	})
	for i := 1; i < len(p.elems); i++ {
		if cmpElem(kt, p.keyBytes(i-1), p.keyBytes(i)) == 0 {
			return errDuplicate
		}
	}
	p.tmp = p.tmp[:0]
	for i, e := range p.elems {
		ks := len(p.tmp) + start
		p.tmp = append(p.tmp, p.buf[e.all.start:e.all.end]...)
		p.elems[i] = elemSpan{
			key: span{ks, ks + e.key.len()},
			all: span{ks, ks + e.all.len()},
		}
	}
	copy(p.buf[start:], p.tmp)
	return nil
}

// ParseDatum parses one value of type t in OVSDB JSON notation (a bare atom,
// ["set", [...]], ["map", [[k, v], ...]], ["uuid", "..."]) and checks it
// against the type.
func ParseDatum(t *ColumnType, data []byte) (Datum, error) {
	if t == nil {
		return Datum{}, errors.New("monitor: ParseDatum: nil type")
	}
	p := getParser(data)
	defer putParser(p)
	p.buf = p.buf[:0]
	s, err := p.parseDatum(t, false)
	if err == nil {
		err = p.End()
	}
	if err != nil {
		return Datum{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return Datum{t: t, enc: string(p.buf[s.start:s.end])}, nil
}

// NewDatum builds a datum of type t from atoms: the members of a set, the
// atom of a scalar, or for a map alternating keys and values. The atoms may
// come in any order; they are checked against t.
func NewDatum(t *ColumnType, atoms ...Atom) (Datum, error) {
	if t == nil {
		return Datum{}, errors.New("monitor: NewDatum: nil type")
	}
	p := &parser{}
	if !t.IsScalar() {
		p.buf = append(p.buf, 0) // room for the count
	}
	step := 1
	if t.IsMap() {
		step = 2
		if len(atoms)%2 != 0 {
			return Datum{}, errors.New("monitor: NewDatum: odd number of atoms for a map")
		}
	}
	for i := 0; i < len(atoms); i += step {
		for j := range step {
			a := atoms[i+j]
			b := &t.Key
			if j == 1 {
				b = &t.Value
			}
			if a.typ != b.Type {
				return Datum{}, fmt.Errorf("monitor: NewDatum: %s atom where %s is expected", a.typ, b.Type)
			}
			zeroOK := t.Min > 0 || (j == 0 && t.IsScalar())
			if !(zeroOK && a.isZero()) {
				if err := b.checkAtom(a); err != nil {
					return Datum{}, fmt.Errorf("monitor: NewDatum: %w", err)
				}
			}
			if a.typ == TypeReal && (math.IsInf(a.Float(), 0) || math.IsNaN(a.Float())) {
				return Datum{}, errors.New("monitor: NewDatum: real is not finite")
			}
			s := len(p.buf)
			p.buf = appendElem(p.buf, a)
			if j == 0 {
				p.elems = append(p.elems, elemSpan{key: span{s, len(p.buf)}, all: span{s, len(p.buf)}})
			} else {
				p.elems[len(p.elems)-1].all.end = len(p.buf)
			}
		}
	}
	s, err := p.finishDatum(t, 0, false)
	if err != nil {
		return Datum{}, fmt.Errorf("monitor: NewDatum: %w", err)
	}
	return Datum{t: t, enc: string(p.buf[s.start:s.end])}, nil
}
