package monitor

import (
	"errors"
	"fmt"
)

// UUID is an OVSDB uuid atom, held as its 16 bytes in the order they are
// written (the first hex pair is byte 0). Comparing two UUIDs byte by byte
// gives the order ovsdb-server uses for sets and maps of uuids.
//
// The zero UUID (00000000-0000-0000-0000-000000000000) is the default value of
// a uuid column, and the "no transaction yet" last-txn-id of
// monitor_cond_since.
type UUID [16]byte

// ErrBadUUID is returned (wrapped) for a string that is not a uuid in the
// 8-4-4-4-12 hexadecimal form.
var ErrBadUUID = errors.New("monitor: malformed uuid")

// ParseUUID parses the canonical 36-character text form of a uuid. Upper and
// lower case hex digits are both accepted, as ovsdb-server accepts them.
func ParseUUID(s string) (UUID, error) {
	u, ok := parseUUIDBytes(s)
	if !ok {
		return UUID{}, fmt.Errorf("%w: %q", ErrBadUUID, truncate(s, 64))
	}
	return u, nil
}

// MustParseUUID is like ParseUUID but panics on a malformed string. It is
// meant for constants in tests and examples.
func MustParseUUID(s string) UUID {
	u, err := ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

// parseUUIDBytes parses the 8-4-4-4-12 form from a string or byte slice
// without allocating.
func parseUUIDBytes[S ~string | ~[]byte](s S) (UUID, bool) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		if hi|lo > 15 {
			return UUID{}, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

// hexValue maps hex digits to their value and other bytes to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		v, ok := unhex(byte(i))
		if !ok {
			v = 0xff
		}
		t[i] = v
	}
	return t
}()

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const hexDigits = "0123456789abcdef"

// String returns the canonical lower-case 8-4-4-4-12 form.
func (u UUID) String() string {
	var b [36]byte
	u.appendTo(b[:0])
	return string(b[:])
}

// IsZero reports whether u is the all-zero uuid.
func (u UUID) IsZero() bool { return u == UUID{} }

// appendTo appends the canonical text form of u to b.
func (u UUID) appendTo(b []byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// MarshalText implements encoding.TextMarshaler (the bare 36-character form).
func (u UUID) MarshalText() ([]byte, error) { return u.appendTo(make([]byte, 0, 36)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (u *UUID) UnmarshalText(b []byte) error {
	v, ok := parseUUIDBytes(b)
	if !ok {
		return fmt.Errorf("%w: %q", ErrBadUUID, truncate(string(b), 64))
	}
	*u = v
	return nil
}

// truncate shortens s for use in an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
