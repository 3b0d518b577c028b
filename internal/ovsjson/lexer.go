package ovsjson

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// A Lexer pulls tokens from one complete JSON value, built for the shapes
// of OVSDB messages: it never recurses on the input (skipping nested values
// is iterative) and never decodes numbers through float64 unless they are
// reals. Its methods skip white space before the token they read, except
// Number and Literal, which read at Pos (call Peek first).
type Lexer struct {
	Data []byte // the input
	Pos  int    // the next byte to read
	str  []byte // unescaped string scratch
}

// Reset makes l read data from its start, keeping its scratch buffer.
func (l *Lexer) Reset(data []byte) {
	l.Data, l.Pos, l.str = data, 0, l.str[:0]
}

// ScratchCap returns the capacity of the string scratch buffer, for pools
// that drop lexers grown by a huge input.
func (l *Lexer) ScratchCap() int { return cap(l.str) }

// LexError describes invalid JSON at byte Off of the input.
type LexError struct {
	Off int
	Msg string
}

func (e *LexError) Error() string { return fmt.Sprintf("invalid JSON at offset %d: %s", e.Off, e.Msg) }

// Errorf returns a *LexError at the current position.
func (l *Lexer) Errorf(format string, args ...any) error {
	return &LexError{Off: l.Pos, Msg: fmt.Sprintf(format, args...)}
}

// Peek skips white space and returns the next byte (0 at the end).
func (l *Lexer) Peek() byte {
	for l.Pos < len(l.Data) {
		switch c := l.Data[l.Pos]; c {
		case ' ', '\t', '\n', '\r':
			l.Pos++
		default:
			return c
		}
	}
	return 0
}

// Describe names the JSON value starting at the next byte, for messages.
func (l *Lexer) Describe() string {
	switch l.Peek() {
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
	return fmt.Sprintf("%q", l.Data[l.Pos])
}

// Consume skips white space and consumes c if it is next.
func (l *Lexer) Consume(c byte) bool {
	if l.Peek() == c {
		l.Pos++
		return true
	}
	return false
}

// Expect consumes the byte c, which must come next.
func (l *Lexer) Expect(c byte) error {
	if !l.Consume(c) {
		return l.Errorf("expected %q, found %s", c, l.Describe())
	}
	return nil
}

// End checks that only white space remains.
func (l *Lexer) End() error {
	if l.Peek(); l.Pos < len(l.Data) {
		return l.Errorf("unexpected data after the value")
	}
	return nil
}

// More reads a separator in an array or object after an element: it returns
// true after a ',' and false at the closing byte, which it consumes.
func (l *Lexer) More(closing byte) (bool, error) {
	switch l.Peek() {
	case ',':
		l.Pos++
		return true, nil
	case closing:
		l.Pos++
		return false, nil
	}
	return false, l.Errorf("expected ',' or %q, found %s", closing, l.Describe())
}

// OpenArray consumes '[' and reports whether the array has elements (it
// consumes ']' when empty).
func (l *Lexer) OpenArray() (bool, error) {
	if err := l.Expect('['); err != nil {
		return false, err
	}
	return !l.Consume(']'), nil
}

// OpenObject consumes '{' and reports whether the object has members.
func (l *Lexer) OpenObject() (bool, error) {
	if err := l.Expect('{'); err != nil {
		return false, err
	}
	return !l.Consume('}'), nil
}

// Key reads an object member name and the ':' after it. The result is only
// valid until the next string is read.
func (l *Lexer) Key() ([]byte, error) {
	if l.Peek() != '"' {
		return nil, l.Errorf("expected a member name, found %s", l.Describe())
	}
	k, err := l.str1()
	if err != nil {
		return nil, err
	}
	if err := l.Expect(':'); err != nil {
		return nil, err
	}
	return k, nil
}

// ReadString reads a JSON string. The result aliases the input or the
// lexer's scratch; it is valid until the next string is read.
func (l *Lexer) ReadString() ([]byte, error) {
	if l.Peek() != '"' {
		return nil, l.Errorf("expected a string, found %s", l.Describe())
	}
	return l.str1()
}

// str1 reads a string whose opening quote is at l.Pos.
func (l *Lexer) str1() ([]byte, error) {
	l.Pos++
	start := l.Pos
	high := false
	d := l.Data
	for i := start; i < len(d); i++ {
		c := d[i]
		if plainString[c] {
			continue
		}
		switch {
		case c == '"':
			l.Pos = i + 1
			s := l.Data[start:i]
			if high && !utf8.Valid(s) {
				return nil, &LexError{Off: start, Msg: "string is not valid UTF-8"}
			}
			return s, nil
		case c == '\\':
			l.Pos = i
			return l.strEscaped(start)
		case c < 0x20:
			l.Pos = i
			return nil, l.Errorf("control character in string")
		case c >= 0x80:
			high = true
		}
	}
	l.Pos = len(l.Data)
	return nil, l.Errorf("unterminated string")
}

// strEscaped finishes a string that has escapes; data[start:l.Pos] is the
// plain prefix and l.Pos is at a backslash.
func (l *Lexer) strEscaped(start int) ([]byte, error) {
	b := append(l.str[:0], l.Data[start:l.Pos]...)
	high := false
	for l.Pos < len(l.Data) {
		c := l.Data[l.Pos]
		switch {
		case c == '"':
			l.Pos++
			l.str = b
			if high && !utf8.Valid(b) {
				return nil, &LexError{Off: start, Msg: "string is not valid UTF-8"}
			}
			return b, nil
		case c < 0x20:
			return nil, l.Errorf("control character in string")
		case c != '\\':
			if c >= 0x80 {
				high = true
			}
			b = append(b, c)
			l.Pos++
			continue
		}
		// Escape sequence.
		if l.Pos+1 >= len(l.Data) {
			break
		}
		e := l.Data[l.Pos+1]
		l.Pos += 2
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
				return nil, l.Errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || l.Pos+1 >= len(l.Data) || l.Data[l.Pos] != '\\' || l.Data[l.Pos+1] != 'u' {
					return nil, l.Errorf("unpaired UTF-16 surrogate in \\u escape")
				}
				l.Pos += 2
				r2, ok := l.hex4()
				if !ok {
					return nil, l.Errorf("bad \\u escape")
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return nil, l.Errorf("unpaired UTF-16 surrogate in \\u escape")
				}
			}
			if r == 0 {
				// OVSDB strings are C strings; Open vSwitch rejects NUL.
				return nil, l.Errorf("\\u0000 is not allowed in strings")
			}
			b = utf8.AppendRune(b, r)
		default:
			l.Pos -= 2
			return nil, l.Errorf("bad escape \\%c", e)
		}
	}
	l.str = b
	return nil, l.Errorf("unterminated string")
}

func (l *Lexer) hex4() (rune, bool) {
	if l.Pos+4 > len(l.Data) {
		return 0, false
	}
	var r rune
	for _, c := range l.Data[l.Pos : l.Pos+4] {
		v := hexValue[c]
		if v > 15 {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	l.Pos += 4
	return r, true
}

// Number scans a JSON number and reports its text and whether it is an
// integer (no fraction, no exponent).
func (l *Lexer) Number() (text []byte, isInt bool, err error) {
	start := l.Pos
	i := start
	d := l.Data
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
		return nil, false, l.Errorf("bad number")
	}
	isInt = true
	if i < len(d) && d[i] == '.' {
		isInt = false
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			l.Pos = i
			return nil, false, l.Errorf("bad number")
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
			l.Pos = i
			return nil, false, l.Errorf("bad number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	l.Pos = i
	return d[start:i], isInt, nil
}

// ErrIntRange is returned by ParseInt for an integer outside the 64-bit
// range.
var ErrIntRange = errors.New("integer out of the 64-bit range")

// ParseInt converts the text of a JSON integer exactly.
func ParseInt(t []byte) (int64, error) {
	neg := t[0] == '-'
	if neg {
		t = t[1:]
	}
	var u uint64
	for _, c := range t {
		if u > (math.MaxUint64-9)/10 {
			return 0, ErrIntRange
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, ErrIntRange
		}
		return -int64(u), nil
	}
	if u > math.MaxInt64 {
		return 0, ErrIntRange
	}
	return int64(u), nil
}

// ParseReal converts the text of a JSON number to a finite float64.
func ParseReal(t []byte) (float64, error) {
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(t), len(t)), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("real %s is out of range", Truncate(string(t), 40))
	}
	return f, nil
}

// Literal consumes the keyword w ("true", "false", "null").
func (l *Lexer) Literal(w string) bool {
	if len(l.Data)-l.Pos >= len(w) && string(l.Data[l.Pos:l.Pos+len(w)]) == w {
		l.Pos += len(w)
		return true
	}
	return false
}

// ReadBool reads true or false.
func (l *Lexer) ReadBool() (bool, error) {
	switch l.Peek() {
	case 't':
		if l.Literal("true") {
			return true, nil
		}
		return false, l.Errorf("bad literal")
	case 'f':
		if l.Literal("false") {
			return false, nil
		}
		return false, l.Errorf("bad literal")
	}
	return false, l.Errorf("expected a boolean, found %s", l.Describe())
}

// Skip skips one JSON value of any shape, checking its syntax. It keeps an
// explicit depth count instead of recursing, so deep nesting cannot exhaust
// the stack.
func (l *Lexer) Skip() error {
	// stack holds the open containers: '[' or '{'. Strings inside are
	// skipped whole, so brackets in them do not count.
	var stackBuf [32]byte
	stack := stackBuf[:0]
	for {
		// A value is expected here.
		switch c := l.Peek(); c {
		case '{':
			l.Pos++
			if l.Consume('}') {
				break
			}
			stack = append(stack, '{')
			if _, err := l.Key(); err != nil {
				return err
			}
			continue
		case '[':
			l.Pos++
			if l.Consume(']') {
				break
			}
			stack = append(stack, '[')
			continue
		case '"':
			if _, err := l.str1(); err != nil {
				return err
			}
		case 't':
			if !l.Literal("true") {
				return l.Errorf("bad literal")
			}
		case 'f':
			if !l.Literal("false") {
				return l.Errorf("bad literal")
			}
		case 'n':
			if !l.Literal("null") {
				return l.Errorf("bad literal")
			}
		default:
			if _, _, err := l.Number(); err != nil {
				return l.Errorf("expected a value, found %s", l.Describe())
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
			more, err := l.More(closing)
			if err != nil {
				return err
			}
			if more {
				if top == '{' {
					if _, err := l.Key(); err != nil {
						return err
					}
				}
				break
			}
			stack = stack[:len(stack)-1]
		}
	}
}
