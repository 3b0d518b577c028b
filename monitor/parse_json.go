package monitor

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// lexer is a minimal JSON reader over one message, built for the shapes of
// OVSDB updates: it never recurses on the input (skipping nested values is
// iterative) and never decodes numbers through float64 unless they are
// reals.
type lexer struct {
	data []byte
	pos  int
	str  []byte // unescaped string scratch
}

// jsonError describes invalid JSON at an offset.
type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string { return fmt.Sprintf("invalid JSON at offset %d: %s", e.off, e.msg) }

func (l *lexer) errorf(format string, args ...any) error {
	return &jsonError{off: l.pos, msg: fmt.Sprintf(format, args...)}
}

// ws skips white space and returns the next byte (0 at the end).
func (l *lexer) ws() byte {
	for l.pos < len(l.data) {
		switch c := l.data[l.pos]; c {
		case ' ', '\t', '\n', '\r':
			l.pos++
		default:
			return c
		}
	}
	return 0
}

// describe names the JSON value starting at the next byte, for messages.
func (l *lexer) describe() string {
	switch l.ws() {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case 0:
		return "the end of input"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return fmt.Sprintf("%q", l.data[l.pos])
}

// consume skips white space and consumes c if it is next.
func (l *lexer) consume(c byte) bool {
	if l.ws() == c {
		l.pos++
		return true
	}
	return false
}

func (l *lexer) expect(c byte) error {
	if !l.consume(c) {
		return l.errorf("expected %q, found %s", c, l.describe())
	}
	return nil
}

// end checks that only white space remains.
func (l *lexer) end() error {
	if l.ws() != 0 {
		return l.errorf("unexpected data after the value")
	}
	return nil
}

// more reads a separator in an array or object after an element: it returns
// true after a ',' and false at the closing byte, which it consumes.
func (l *lexer) more(closing byte) (bool, error) {
	switch l.ws() {
	case ',':
		l.pos++
		return true, nil
	case closing:
		l.pos++
		return false, nil
	}
	return false, l.errorf("expected ',' or %q, found %s", closing, l.describe())
}

// openArray consumes '[' and reports whether the array has elements (it
// consumes ']' when empty).
func (l *lexer) openArray() (bool, error) {
	if err := l.expect('['); err != nil {
		return false, err
	}
	return !l.consume(']'), nil
}

// openObject consumes '{' and reports whether the object has members.
func (l *lexer) openObject() (bool, error) {
	if err := l.expect('{'); err != nil {
		return false, err
	}
	return !l.consume('}'), nil
}

// key reads an object member name and the ':' after it. The result is only
// valid until the next string is read.
func (l *lexer) key() ([]byte, error) {
	if l.ws() != '"' {
		return nil, l.errorf("expected a member name, found %s", l.describe())
	}
	k, err := l.str1()
	if err != nil {
		return nil, err
	}
	if err := l.expect(':'); err != nil {
		return nil, err
	}
	return k, nil
}

// readString reads a JSON string. The result aliases the input or the
// lexer's scratch; it is valid until the next string is read.
func (l *lexer) readString() ([]byte, error) {
	if l.ws() != '"' {
		return nil, l.errorf("expected a string, found %s", l.describe())
	}
	return l.str1()
}

// plainByte marks the bytes a string can hold as they are: printable ASCII
// other than '"' and '\\'.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str1 reads a string whose opening quote is at l.pos.
func (l *lexer) str1() ([]byte, error) {
	l.pos++
	start := l.pos
	high := false
	d := l.data
	for i := start; i < len(d); i++ {
		c := d[i]
		if plainByte[c] {
			continue
		}
		switch {
		case c == '"':
			l.pos = i + 1
			s := l.data[start:i]
			if high && !utf8.Valid(s) {
				return nil, &jsonError{off: start, msg: "string is not valid UTF-8"}
			}
			return s, nil
		case c == '\\':
			l.pos = i
			return l.strEscaped(start)
		case c < 0x20:
			l.pos = i
			return nil, l.errorf("control character in string")
		case c >= 0x80:
			high = true
		}
	}
	l.pos = len(l.data)
	return nil, l.errorf("unterminated string")
}

// strEscaped finishes a string that has escapes; data[start:l.pos] is the
// plain prefix and l.pos is at a backslash.
func (l *lexer) strEscaped(start int) ([]byte, error) {
	b := append(l.str[:0], l.data[start:l.pos]...)
	high := false
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		switch {
		case c == '"':
			l.pos++
			l.str = b
			if high && !utf8.Valid(b) {
				return nil, &jsonError{off: start, msg: "string is not valid UTF-8"}
			}
			return b, nil
		case c < 0x20:
			return nil, l.errorf("control character in string")
		case c != '\\':
			if c >= 0x80 {
				high = true
			}
			b = append(b, c)
			l.pos++
			continue
		}
		// Escape sequence.
		if l.pos+1 >= len(l.data) {
			break
		}
		e := l.data[l.pos+1]
		l.pos += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := l.hex4()
			if !ok {
				return nil, l.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || l.pos+1 >= len(l.data) || l.data[l.pos] != '\\' || l.data[l.pos+1] != 'u' {
					return nil, l.errorf("unpaired UTF-16 surrogate in \\u escape")
				}
				l.pos += 2
				r2, ok := l.hex4()
				if !ok {
					return nil, l.errorf("bad \\u escape")
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return nil, l.errorf("unpaired UTF-16 surrogate in \\u escape")
				}
			}
			if r == 0 {
				// OVSDB strings are C strings; Open vSwitch rejects NUL.
				return nil, l.errorf("\\u0000 is not allowed in strings")
			}
			b = utf8.AppendRune(b, r)
		default:
			l.pos -= 2
			return nil, l.errorf("bad escape \\%c", e)
		}
	}
	l.str = b
	return nil, l.errorf("unterminated string")
}

func (l *lexer) hex4() (rune, bool) {
	if l.pos+4 > len(l.data) {
		return 0, false
	}
	var r rune
	for _, c := range l.data[l.pos : l.pos+4] {
		v, ok := unhex(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	l.pos += 4
	return r, true
}

// number scans a JSON number and reports its text and whether it is an
// integer (no fraction, no exponent).
func (l *lexer) number() (text []byte, isInt bool, err error) {
	start := l.pos
	i := start
	d := l.data
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return nil, false, l.errorf("bad number")
	}
	isInt = true
	if i < len(d) && d[i] == '.' {
		isInt = false
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			l.pos = i
			return nil, false, l.errorf("bad number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		isInt = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			l.pos = i
			return nil, false, l.errorf("bad number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	l.pos = i
	return d[start:i], isInt, nil
}

var errIntRange = errors.New("integer out of the 64-bit range")

// parseInt64 converts the text of a JSON integer exactly.
func parseInt64(t []byte) (int64, error) {
	neg := t[0] == '-'
	if neg {
		t = t[1:]
	}
	var u uint64
	for _, c := range t {
		if u > (math.MaxUint64-9)/10 {
			return 0, errIntRange
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, errIntRange
		}
		return -int64(u), nil
	}
	if u > math.MaxInt64 {
		return 0, errIntRange
	}
	return int64(u), nil
}

// parseReal converts the text of a JSON number to a finite float64.
func parseReal(t []byte) (float64, error) {
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(t), len(t)), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("real %s is out of range", truncate(string(t), 40))
	}
	return f, nil
}

// literal consumes the keyword w ("true", "false", "null").
func (l *lexer) literal(w string) bool {
	if len(l.data)-l.pos >= len(w) && string(l.data[l.pos:l.pos+len(w)]) == w {
		l.pos += len(w)
		return true
	}
	return false
}

// readBool reads true or false.
func (l *lexer) readBool() (bool, error) {
	switch l.ws() {
	case 't':
		if l.literal("true") {
			return true, nil
		}
		return false, l.errorf("bad literal")
	case 'f':
		if l.literal("false") {
			return false, nil
		}
		return false, l.errorf("bad literal")
	}
	return false, l.errorf("expected a boolean, found %s", l.describe())
}

// skip skips one JSON value of any shape, checking its syntax. It keeps an
// explicit depth count instead of recursing, so deep nesting cannot exhaust
// the stack.
func (l *lexer) skip() error {
	// stack holds the open containers: '[' or '{'. Strings inside are
	// skipped whole, so brackets in them do not count.
	var stackBuf [32]byte
	stack := stackBuf[:0]
	for {
		// A value is expected here.
		switch c := l.ws(); c {
		case '{':
			l.pos++
			if l.consume('}') {
				break
			}
			stack = append(stack, '{')
			if _, err := l.key(); err != nil {
				return err
			}
			continue
		case '[':
			l.pos++
			if l.consume(']') {
				break
			}
			stack = append(stack, '[')
			continue
		case '"':
			if _, err := l.str1(); err != nil {
				return err
			}
		case 't':
			if !l.literal("true") {
				return l.errorf("bad literal")
			}
		case 'f':
			if !l.literal("false") {
				return l.errorf("bad literal")
			}
		case 'n':
			if !l.literal("null") {
				return l.errorf("bad literal")
			}
		default:
			if _, _, err := l.number(); err != nil {
				return l.errorf("expected a value, found %s", l.describe())
			}
		}
		// A value ended: close containers until one continues.
		for {
			if len(stack) == 0 {
				return nil
			}
			top := stack[len(stack)-1]
			closing := byte(']')
			if top == '{' {
				closing = '}'
			}
			more, err := l.more(closing)
			if err != nil {
				return err
			}
			if more {
				if top == '{' {
					if _, err := l.key(); err != nil {
						return err
					}
				}
				break
			}
			stack = stack[:len(stack)-1]
		}
	}
}
