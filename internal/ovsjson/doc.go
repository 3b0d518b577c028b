// Package ovsjson is the one JSON tokenizer of the module, built for OVSDB's
// JSON-RPC traffic: strict RFC 8259 syntax (strings valid UTF-8 with valid
// escapes, numbers per the grammar), nesting bounded as in OVS's
// lib/json.c, and no recursion on the input.
//
// It has two readers over one grammar:
//
//   - [Scanner] validates a JSON object incrementally, as its bytes arrive
//     from a stream, and records where each top-level member's value lies.
//     jsonrpc frames and types messages with it; the fake server in
//     testserver frames the client's messages with it.
//   - [Lexer] pulls tokens from a complete value: the parsers of OVSDB
//     values in monitor (and, through monitor, leader) are written on it.
//
// It also holds the helpers every OVSDB reader needs: [ParseUUID] for the
// 8-4-4-4-12 uuid form and [Truncate] for quoting input in errors.
package ovsjson

// MaxNesting is the deepest nesting of arrays and objects a value may have
// (OVS's JSON parser in lib/json.c has the same limit).
const MaxNesting = 1000

// plainString[c] is true for bytes that may appear unescaped in a JSON
// string and need no further check: printable ASCII except '"' and '\\'.
var plainString = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// IsSpace reports whether c is JSON white space.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// hexValue maps hex digits to their value and other bytes to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// IsHex reports whether c is a hexadecimal digit.
func IsHex(c byte) bool { return hexValue[c] != 0xff }

// Truncate shortens s to n bytes, marked with "...", for quoting input in
// an error message.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// IsPlain reports whether the byte c may stand for itself in a JSON string
// with no further check: printable ASCII other than '"' and '\\'.
func IsPlain(c byte) bool { return plainString[c] }
