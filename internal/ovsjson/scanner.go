package ovsjson

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// MaxMembers is the most top-level members a Scanner records.
const MaxMembers = 8

// Span is the position of a top-level member's value within a message:
// bytes [Start, End). End == 0 means the member is absent.
type Span struct{ Start, End int }

// scanner states.
const (
	stTop      uint8 = iota // before the message: expects '{'
	stObjFirst              // after '{': a key or '}'
	stObjKey                // after ',' in an object: a key
	stColon                 // after a key: ':'
	stObjNext               // after a member value: ',' or '}'
	stValue                 // a value
	stArrFirst              // after '[': a value or ']'
	stArrNext               // after an element: ',' or ']'
	stString                // inside a string
	stNumNeg                // after '-'
	stNumZero               // after a leading '0'
	stNumInt                // in the integer digits
	stNumDot                // after '.'
	stNumFrac               // in the fraction digits
	stNumE                  // after 'e' or 'E'
	stNumESign              // after the exponent sign
	stNumExp                // in the exponent digits
	stDone                  // the message is complete
)

// SyntaxError is a syntax or validation error at byte Off of a message (-1
// when it is about the message as a whole).
type SyntaxError struct {
	Off int
	Msg string
}

func (e *SyntaxError) Error() string { return e.Msg }

// A Scanner validates one message, a JSON object, incrementally, as its
// bytes arrive: it is fed the message's bytes so far (from the message's
// first byte; the caller keeps them, unless it gives up some with
// [Scanner.Drop]) and resumes where it stopped. It
// checks the full JSON grammar (strings are valid UTF-8 with valid escapes,
// numbers follow the grammar, nesting is bounded), that the message is an
// object, and it records where each top-level member's value lies, so
// that the message can be typed without a second pass. Every top-level
// member must be one that Member names, and appear once. Work is linear in
// the message size however the bytes are split: an incomplete escape, UTF-8
// sequence or literal at the end of the input is re-read (at most 6 bytes)
// when more arrives; every other state resumes exactly.
//
// Offsets a Scanner reports (in a [SyntaxError], a [Span], [Scanner.Pos])
// are from the message's first byte, whatever was dropped.
//
// A Scanner with Member set is ready for a message; Reset prepares it for
// the next.
type Scanner struct {
	// Member returns the index (below MaxMembers) under which the value of
	// the top-level member name is recorded, or -1 for a name the message
	// may not have.
	Member func(name []byte) int
	// Names are the member names by index, for error messages.
	Names []string

	state uint8
	isKey bool // the string being scanned is an object key
	esc   bool // the string being scanned had a backslash
	pos   int  // next byte to scan, in the caller's buffer
	base  int  // message bytes dropped before the caller's buffer (Drop)
	stack []byte

	// Top-level member tracking. keyStart and valStart are in the
	// caller's buffer; members are from the message's first byte.
	keyStart int // first byte of the depth-1 key's contents
	valStart int // first byte of the depth-1 value being scanned
	member   int // index of the depth-1 member being scanned
	members  [MaxMembers]Span
}

// Reset prepares s for the next message.
func (s *Scanner) Reset() {
	stack := s.stack[:0]
	*s = Scanner{Member: s.Member, Names: s.Names, stack: stack}
}

// Value returns where the value of the member recorded under index i lies
// in the message; End is 0 when the message lacks it.
func (s *Scanner) Value(i int) Span { return s.members[i] }

// Pos returns the offset, from the message's first byte, up to which the
// message has been scanned: every byte before it is valid so far. Scan
// resumes there; the bytes from Pos on (at most 6, an incomplete escape,
// UTF-8 sequence or literal) are read again.
func (s *Scanner) Pos() int { return s.base + s.pos }

// Open reports the top-level member whose value, an array or an object, is
// being scanned: its index and the offset of the value's first byte (the
// '[' or '{'). ok is false unless the scanner stopped inside such a value.
func (s *Scanner) Open() (member, start int, ok bool) {
	if len(s.stack) < 2 {
		return 0, 0, false
	}
	return s.member, s.base + s.valStart, true
}

// Drop tells the scanner that the caller removes the first n bytes of the
// buffer it passes to Scan: the next call's b starts n bytes later in the
// message. Only bytes before Pos may be dropped, and never those of a
// top-level key still being scanned; offsets stay those from the message's
// first byte. A caller that streams a large member's value on (jsonrpc
// hands a reply's result to a decoder) keeps its buffer bounded this way.
func (s *Scanner) Drop(n int) {
	if n < 0 || n > s.pos {
		panic(fmt.Sprintf("ovsjson: Drop(%d) with %d bytes scanned", n, s.pos))
	}
	s.pos -= n
	s.keyStart -= n
	s.valStart -= n
	s.base += n
}

func (s *Scanner) fail(off int, format string, args ...any) (int, error) {
	return 0, &SyntaxError{Off: s.base + off, Msg: fmt.Sprintf(format, args...)}
}

// Scan validates b[s.pos:], where b holds the message from its first byte
// (or, after Drop, from the first byte not dropped). It returns the end of
// the message in b (the message's length when nothing was dropped) when the
// message is complete, 0 (and a nil error) when more input is needed, or a
// *SyntaxError. b[0] must not be white space unless bytes were dropped.
func (s *Scanner) Scan(b []byte) (int, error) {
	i, n := s.pos, len(b)
	for i < n {
		c := b[i]
		switch s.state {
		case stString:
			for i < n && plainString[b[i]] {
				i++
			}
			if i == n {
				s.pos = i
				return 0, nil
			}
			switch c = b[i]; {
			case c == '"':
				i++
				if s.isKey {
					if err := s.endKey(b, i-1); err != nil {
						return 0, err
					}
					s.state = stColon
				} else if end, err := s.valueDone(i); end > 0 || err != nil {
					return end, err
				}
			case c == '\\':
				if i+1 >= n {
					s.pos = i
					return 0, nil
				}
				s.esc = true
				switch b[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i += 2
				case 'u':
					for k := i + 2; k < i+6; k++ {
						if k >= n {
							s.pos = i
							return 0, nil
						}
						if !IsHex(b[k]) {
							return s.fail(k, "invalid \\u escape in string")
						}
					}
					i += 6
				default:
					return s.fail(i+1, "invalid escape %q in string", b[i+1])
				}
			case c < 0x20:
				return s.fail(i, "control character %#02x in string", c)
			default: // c >= 0x80
				if !utf8.FullRune(b[i:]) {
					s.pos = i
					return 0, nil
				}
				r, size := utf8.DecodeRune(b[i:])
				if r == utf8.RuneError && size == 1 {
					return s.fail(i, "invalid UTF-8 in string")
				}
				i += size
			}

		case stNumInt, stNumFrac, stNumExp:
			for i < n && b[i] >= '0' && b[i] <= '9' {
				i++
			}
			if i == n {
				s.pos = i
				return 0, nil
			}
			c = b[i]
			switch {
			case s.state == stNumInt && c == '.':
				s.state = stNumDot
				i++
			case s.state != stNumExp && (c == 'e' || c == 'E'):
				s.state = stNumE
				i++
			default:
				if end, err := s.valueDone(i); end > 0 || err != nil {
					return end, err
				}
			}

		case stNumZero:
			switch {
			case c == '.':
				s.state = stNumDot
				i++
			case c == 'e' || c == 'E':
				s.state = stNumE
				i++
			case c >= '0' && c <= '9':
				return s.fail(i, "leading zero in number")
			default:
				if end, err := s.valueDone(i); end > 0 || err != nil {
					return end, err
				}
			}

		case stNumNeg:
			switch {
			case c == '0':
				s.state = stNumZero
			case c >= '1' && c <= '9':
				s.state = stNumInt
			default:
				return s.fail(i, "invalid character %q in number", c)
			}
			i++

		case stNumDot:
			if c < '0' || c > '9' {
				return s.fail(i, "invalid character %q after decimal point in number", c)
			}
			s.state = stNumFrac
			i++

		case stNumE:
			switch {
			case c == '+' || c == '-':
				s.state = stNumESign
			case c >= '0' && c <= '9':
				s.state = stNumExp
			default:
				return s.fail(i, "invalid character %q in exponent of number", c)
			}
			i++

		case stNumESign:
			if c < '0' || c > '9' {
				return s.fail(i, "invalid character %q in exponent of number", c)
			}
			s.state = stNumExp
			i++

		case stValue, stArrFirst:
			if IsSpace(c) {
				i++
				continue
			}
			if c == ']' && s.state == stArrFirst {
				s.stack = s.stack[:len(s.stack)-1]
				i++
				if end, err := s.valueDone(i); end > 0 || err != nil {
					return end, err
				}
				continue
			}
			if len(s.stack) == 1 {
				s.valStart = i
			}
			switch c {
			case '{', '[':
				if len(s.stack) >= MaxNesting {
					return s.fail(i, "nesting deeper than %d", MaxNesting)
				}
				s.stack = append(s.stack, c)
				s.state = stObjFirst
				if c == '[' {
					s.state = stArrFirst
				}
				i++
			case '"':
				s.state, s.isKey, s.esc = stString, false, false
				i++
			case '-':
				s.state = stNumNeg
				i++
			case '0':
				s.state = stNumZero
				i++
			case '1', '2', '3', '4', '5', '6', '7', '8', '9':
				s.state = stNumInt
				i++
			case 't', 'f', 'n':
				lit := "true"
				if c == 'f' {
					lit = "false"
				} else if c == 'n' {
					lit = "null"
				}
				k := 1
				for ; k < len(lit) && i+k < n; k++ {
					if b[i+k] != lit[k] {
						return s.fail(i+k, "invalid literal (expecting %q)", lit)
					}
				}
				if k < len(lit) {
					s.pos = i
					return 0, nil
				}
				i += len(lit)
				if end, err := s.valueDone(i); end > 0 || err != nil {
					return end, err
				}
			default:
				return s.fail(i, "unexpected character %q (expecting a value)", c)
			}

		case stObjFirst, stObjKey:
			if IsSpace(c) {
				i++
				continue
			}
			switch {
			case c == '"':
				s.state, s.isKey, s.esc = stString, true, false
				i++
				if len(s.stack) == 1 {
					s.keyStart = i
				}
			case c == '}' && s.state == stObjFirst:
				s.stack = s.stack[:len(s.stack)-1]
				i++
				if end, err := s.valueDone(i); end > 0 || err != nil {
					return end, err
				}
			case s.state == stObjFirst:
				return s.fail(i, "unexpected character %q (expecting a string or '}')", c)
			default:
				return s.fail(i, "unexpected character %q (expecting a string)", c)
			}

		case stColon:
			if IsSpace(c) {
				i++
				continue
			}
			if c != ':' {
				return s.fail(i, "unexpected character %q (expecting ':')", c)
			}
			s.state = stValue
			i++

		case stObjNext, stArrNext:
			if IsSpace(c) {
				i++
				continue
			}
			closer := byte('}')
			if s.state == stArrNext {
				closer = ']'
			}
			switch c {
			case ',':
				if closer == '}' {
					s.state = stObjKey
				} else {
					s.state = stValue
				}
				i++
			case closer:
				s.stack = s.stack[:len(s.stack)-1]
				i++
				if end, err := s.valueDone(i); end > 0 || err != nil {
					return end, err
				}
			default:
				return s.fail(i, "unexpected character %q (expecting ',' or '%c')", c, closer)
			}

		case stTop:
			if c != '{' {
				if c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n' {
					return s.fail(i, "message is not a JSON object")
				}
				return s.fail(i, "unexpected character %q (expecting '{')", c)
			}
			s.stack = append(s.stack, '{')
			s.state = stObjFirst
			i++

		default: // stDone
			return s.fail(i, "internal error: scan after the end of the message")
		}
	}
	s.pos = i
	return 0, nil
}

// valueDone is called when a value ends just before offset i. It returns
// i when the value was the whole message.
func (s *Scanner) valueDone(i int) (int, error) {
	switch len(s.stack) {
	case 0:
		s.state = stDone
		s.pos = i
		return i, nil
	case 1:
		s.members[s.member] = Span{s.base + s.valStart, s.base + i}
	}
	if s.stack[len(s.stack)-1] == '{' {
		s.state = stObjNext
	} else {
		s.state = stArrNext
	}
	return 0, nil
}

// endKey is called at the closing quote (offset q) of an object key. For a
// top-level key it checks that the member is one Member allows and not a
// duplicate.
func (s *Scanner) endKey(b []byte, q int) error {
	if len(s.stack) != 1 {
		return nil
	}
	raw := b[s.keyStart:q]
	if s.esc {
		var name string
		if err := json.Unmarshal(b[s.keyStart-1:q+1], &name); err != nil {
			return &SyntaxError{Off: s.base + s.keyStart - 1, Msg: "invalid object key"}
		}
		raw = []byte(name)
	}
	idx := s.Member(raw)
	if idx < 0 {
		return &SyntaxError{Off: s.base + s.keyStart - 1, Msg: fmt.Sprintf("message has unexpected member %q", Truncate(string(raw), 64))}
	}
	if s.members[idx].End != 0 {
		return &SyntaxError{Off: s.base + s.keyStart - 1, Msg: fmt.Sprintf("message has duplicate member %q", s.Names[idx])}
	}
	s.member = idx
	return nil
}
