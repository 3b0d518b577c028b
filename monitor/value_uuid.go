package monitor

import (
	"errors"
	"fmt"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
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
	u, ok := ovsjson.ParseUUID(s)
	if !ok {
		return UUID{}, fmt.Errorf("%w: %q", ErrBadUUID, ovsjson.Truncate(s, 64))
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
func (u UUID) appendTo(b []byte) []byte { return ovsjson.AppendUUID(b, u) }

// MarshalText implements encoding.TextMarshaler (the bare 36-character form).
func (u UUID) MarshalText() ([]byte, error) { return u.appendTo(make([]byte, 0, 36)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (u *UUID) UnmarshalText(b []byte) error {
	v, ok := ovsjson.ParseUUID(b)
	if !ok {
		return fmt.Errorf("%w: %q", ErrBadUUID, ovsjson.Truncate(string(b), 64))
	}
	*u = v
	return nil
}
