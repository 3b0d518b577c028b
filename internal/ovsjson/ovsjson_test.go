package ovsjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseUUID(t *testing.T) {
	tests := []struct {
		in, want string // want "" when in is not a uuid
	}{
		{"01234567-89ab-cdef-0123-456789abcdef", "01234567-89ab-cdef-0123-456789abcdef"},
		{"01234567-89AB-CDEF-0123-456789ABCDEF", "01234567-89ab-cdef-0123-456789abcdef"},
		{"00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"},
		{"01234567-89ab-cdef-0123-456789abcde", ""},
		{"01234567-89ab-cdef-0123-456789abcdef0", ""},
		{"0123456789ab-cdef-0123-456789abcdef-", ""},
		{"0123456g-89ab-cdef-0123-456789abcdef", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := CanonicalUUID(tt.in)
		assert.Equal(t, tt.want != "", ok, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		u, ok := ParseUUID([]byte(tt.in))
		assert.Equal(t, tt.want != "", ok, tt.in)
		if ok {
			assert.Equal(t, tt.want, string(AppendUUID(nil, u)))
		}
	}
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "abc", Truncate("abc", 3))
	assert.Equal(t, "ab...", Truncate("abc", 2))
}

// The scanner records the members it is told about and rejects others,
// wherever the input is split.
func TestScannerMembers(t *testing.T) {
	names := []string{"a", "b"}
	newScanner := func() *Scanner {
		return &Scanner{Names: names, Member: func(name []byte) int {
			for i, n := range names {
				if string(name) == n {
					return i
				}
			}
			return -1
		}}
	}
	msg := []byte(`{"b": [1, {"c": "x"}], "a" : "\u0041"}`)
	for split := 1; split <= len(msg); split++ {
		s := newScanner()
		end, err := s.Scan(msg[:split])
		require.NoError(t, err)
		if end == 0 {
			end, err = s.Scan(msg)
			require.NoError(t, err)
		}
		require.Equal(t, len(msg), end, "split %d", split)
		a, b := s.Value(0), s.Value(1)
		assert.Equal(t, `"\u0041"`, string(msg[a.Start:a.End]))
		assert.Equal(t, `[1, {"c": "x"}]`, string(msg[b.Start:b.End]))
	}
	for _, bad := range []string{`{"c":1}`, `{"a":1,"a":2}`, `[1]`, `{"a":01}`} {
		_, err := newScanner().Scan([]byte(bad))
		var se *SyntaxError
		assert.ErrorAs(t, err, &se, bad)
	}
}

func TestLexer(t *testing.T) {
	var l Lexer
	l.Reset([]byte(` {"k": ["a\n", -12, 1.5e3, true, null, {"x": [[]]}]} `))
	more, err := l.OpenObject()
	require.NoError(t, err)
	require.True(t, more)
	k, err := l.Key()
	require.NoError(t, err)
	assert.Equal(t, "k", string(k))
	_, err = l.OpenArray()
	require.NoError(t, err)
	s, err := l.ReadString()
	require.NoError(t, err)
	assert.Equal(t, "a\n", string(s))
	require.NoError(t, l.Expect(','))
	l.Peek()
	n, isInt, err := l.Number()
	require.NoError(t, err)
	assert.True(t, isInt)
	i, err := ParseInt(n)
	require.NoError(t, err)
	assert.EqualValues(t, -12, i)
	require.NoError(t, l.Expect(','))
	l.Peek()
	n, isInt, err = l.Number()
	require.NoError(t, err)
	assert.False(t, isInt)
	f, err := ParseReal(n)
	require.NoError(t, err)
	assert.Equal(t, 1500.0, f)
	require.NoError(t, l.Expect(','))
	b, err := l.ReadBool()
	require.NoError(t, err)
	assert.True(t, b)
	require.NoError(t, l.Expect(','))
	l.Peek()
	require.True(t, l.Literal("null"))
	require.NoError(t, l.Expect(','))
	require.NoError(t, l.Skip())
	require.NoError(t, l.Expect(']'))
	more, err = l.More('}')
	require.NoError(t, err)
	require.False(t, more)
	require.NoError(t, l.End())

	l.Reset([]byte(`"\u0000"`))
	_, err = l.ReadString()
	var le *LexError
	require.ErrorAs(t, err, &le)
}

// scanDropping scans msg fed one byte at a time, dropping every byte
// before Pos after each call while the scanner is inside the value of the
// member drop (as jsonrpc does with a streamed result). It returns the
// spans, the error, and whether it ever dropped.
func scanDropping(msg string, drop int) ([NumMembers]Span, error, bool) {
	s := NewMessageScanner()
	var spans [NumMembers]Span
	buf, dropped, did := []byte{}, 0, false
	for i := range len(msg) {
		buf = append(buf, msg[i])
		end, err := s.Scan(buf)
		if err != nil {
			return spans, err, did
		}
		if end > 0 {
			if end != len(buf) {
				return spans, &SyntaxError{Off: -1, Msg: "end not at the buffer's end"}, did
			}
			break
		}
		if m, _, ok := s.Open(); ok && m == drop {
			n := s.Pos() - dropped
			s.Drop(n)
			buf = buf[n:]
			dropped += n
			did = did || n > 0
		}
	}
	for i := range NumMembers {
		spans[i] = s.Value(i)
	}
	return spans, nil, did
}

// Dropping the bytes of a member's value as it is scanned changes neither
// the members' positions nor the errors (offsets stay from the message's
// first byte).
func TestScannerDrop(t *testing.T) {
	tests := []string{
		`{"id":1,"result":{"a":[1,"\u00e9",true]},"error":null}`,
		`{"id":1,"result":[1,2],"result":[]}`,
		`{"id":1,"result":[1,"\x"]}`,
		`{"id":1,"result":[1,2]]`,
		`{"id":1,"result":[1,2],"oops":1}`,
		`{"id":1,"result":["` + "\xff" + `"]}`,
	}
	for _, msg := range tests {
		s := NewMessageScanner()
		_, wantErr := s.Scan([]byte(msg))
		var want [NumMembers]Span
		for i := range NumMembers {
			want[i] = s.Value(i)
		}
		got, err, did := scanDropping(msg, MemberResult)
		assert.True(t, did, msg)
		if wantErr != nil {
			require.Error(t, err, msg)
			assert.Equal(t, wantErr, err, msg)
			continue
		}
		require.NoError(t, err, msg)
		assert.Equal(t, want, got, msg)
	}
}

func TestScannerOpenAndPos(t *testing.T) {
	s := NewMessageScanner()
	_, _, ok := s.Open()
	assert.False(t, ok)
	msg := []byte(`{"id":1,"result":{"a":"x\u00`)
	end, err := s.Scan(msg)
	require.NoError(t, err)
	assert.Equal(t, 0, end)
	m, start, ok := s.Open()
	assert.True(t, ok)
	assert.Equal(t, MemberResult, m)
	assert.Equal(t, 17, start)
	assert.Equal(t, len(msg)-len(`\u00`), s.Pos(), "an incomplete escape is read again")
	assert.Panics(t, func() { s.Drop(s.Pos() + 1) })
}
