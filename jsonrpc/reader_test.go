package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// chunkReader returns its data at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.data))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	return k, nil
}

// readAll reads messages until the reader fails; it returns them re-encoded
// and the final error.
func readAll(t testing.TB, data []byte, chunk, maxSize int) ([]string, *reader, error) {
	t.Helper()
	rd := newReader(&chunkReader{data: data, n: chunk}, "test", maxSize)
	var out []string
	for {
		m, err := rd.next()
		if err != nil {
			return out, rd, err
		}
		b, err := m.MarshalJSON()
		if err != nil {
			t.Fatalf("re-encoding a received message: %v", err)
		}
		out = append(out, string(b))
	}
}

func TestReaderStream(t *testing.T) {
	msgs := []string{
		`{"method":"echo","params":[],"id":"echo"}`,
		`{"method":"update2","params":["mon",{"T":{"u":{"insert":{"s":"h\u00e9llo \"q\" \\ \/ \b\f\n\r\t \ud83d\ude00 日本","n":-0.5e+10,"z":0,"big":123456789012345678901234567890,"e":1E-7,"t":true,"f":false,"x":null,"a":[[],{},[{}]]}}}}],"id":null}`,
		`{"result":{"dbs":["OVN_Northbound","_Server"]},"error":null,"id":1}`,
		`{"error":{"error":"unknown database","details":"no db"},"result":null,"id":2}`,
		`{"method":"locked","params":["lock"],"id":null}`,
	}
	// Messages back to back, with whitespace and without, as ovsdb-server
	// and OVS clients send them.
	stream := strings.Join(msgs[:2], "") + " \n\t\r" + strings.Join(msgs[2:], "\n") + "\n  "
	var want []string
	for _, m := range msgs {
		var msg Message
		if err := msg.UnmarshalJSON([]byte(m)); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		b, _ := msg.MarshalJSON()
		want = append(want, string(b))
	}
	for _, chunk := range []int{1, 2, 3, 5, 7, 13, 64, 4096, 1 << 20} {
		got, _, err := readAll(t, []byte(stream), chunk, 0)
		if !errors.Is(err, io.EOF) {
			t.Errorf("chunk %d: final error %v, want io.EOF", chunk, err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("chunk %d: got\n%s\nwant\n%s", chunk, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestReaderErrors(t *testing.T) {
	deep := `{"method":"m","params":` + strings.Repeat("[", ovsjson.MaxNesting) + strings.Repeat("]", ovsjson.MaxNesting) + `}`
	tests := []struct {
		in   string
		want string // substring; every error wraps ErrProtocol
		at   int    // byte offset reported, -1 to skip the check
	}{
		{`[1,2]`, "message is not a JSON object at byte 0", 0},
		{`  x`, "unexpected character 'x' (expecting '{') at byte 2", 2},
		{`{"method":"x","params":[01]}`, "leading zero in number", 25},
		{`{"method":"x","params":[1.]}`, "after decimal point", 26},
		{`{"method":"x","params":[1e]}`, "in exponent", 26},
		{`{"method":"x","params":[-]}`, "in number", 25},
		{`{"method":"x","params":[tru]}`, "invalid literal (expecting \"true\")", 27},
		{`{"method":"x","params":[nul,1]}`, "invalid literal", -1},
		{`{"method":"x","params":["a\x"]}`, `invalid escape 'x' in string`, 27},
		{`{"method":"x","params":["\u12G4"]}`, `invalid \u escape`, -1},
		{"{\"method\":\"x\",\"params\":[\"a\x01\"]}", "control character 0x01 in string", 26},
		{"{\"method\":\"x\",\"params\":[\"\xff\"]}", "invalid UTF-8 in string", 25},
		{"{\"method\":\"x\",\"params\":[\"\xed\xa0\x80\"]}", "invalid UTF-8 in string", 25}, // a surrogate
		{"{\"method\":\"x\",\"params\":[\"\xc0\xaf\"]}", "invalid UTF-8 in string", 25},     // overlong
		{`{"method":"x","params":[1,]}`, "expecting a value", 26},
		{`{"method":"x","params":[1 2]}`, "expecting ',' or ']'", 26},
		{`{"method":"x" "params":[]}`, "expecting ',' or '}'", 14},
		{`{"method" "x"}`, "expecting ':'", 10},
		{`{"method":"x",}`, "expecting a string", 14},
		{`{1:2}`, "expecting a string or '}'", 1},
		{`{"method":"x","params":[]}}`, "expecting '{'", 26},
		{`{"method":"x","params":[],"oops":1}`, `message has unexpected member "oops"`, 26},
		{`{"result":1}`, `reply must have "id"`, -1},
		{deep, "nesting deeper than 1000", -1},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 4096} {
			_, _, err := readAll(t, []byte(tt.in), chunk, 0)
			if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%q (chunk %d): error %v, want ErrProtocol containing %q", tt.in, chunk, err, tt.want)
				continue
			}
			if tt.at >= 0 && !strings.Contains(err.Error(), "at byte "+itoa(tt.at)) {
				t.Errorf("%q: error %q does not say \"at byte %d\"", tt.in, err, tt.at)
			}
		}
	}
	// The depth limit itself is fine.
	ok := `{"method":"m","params":` + strings.Repeat("[", ovsjson.MaxNesting-1) + strings.Repeat("]", ovsjson.MaxNesting-1) + `}`
	if got, _, err := readAll(t, []byte(ok), 7, 0); len(got) != 1 || !errors.Is(err, io.EOF) {
		t.Errorf("nesting %d: %d messages, %v", ovsjson.MaxNesting, len(got), err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestReaderOffsetsAcrossMessages(t *testing.T) {
	first := `{"method":"a","params":[]}`
	in := first + "\n" + `{"method":"b","params":[x]}`
	_, _, err := readAll(t, []byte(in), 3, 0)
	want := "at byte " + itoa(len(first)+1+24)
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestReaderEOF(t *testing.T) {
	_, _, err := readAll(t, []byte(`{"method":"a","params":[]}  `), 5, 0)
	if !errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("clean end: %v, want io.EOF", err)
	}
	_, _, err = readAll(t, []byte(`{"method":"a","params":[]}{"method":"b"`), 5, 0)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "middle of a message") {
		t.Errorf("end inside a message: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestReaderMaxSize(t *testing.T) {
	small := `{"method":"a","params":[]}`
	big := `{"method":"b","params":["` + strings.Repeat("x", 200) + `"]}`
	for _, chunk := range []int{1, 10, 4096} {
		// Exactly the limit is fine.
		got, rd, err := readAll(t, []byte(small+big+small), chunk, len(big))
		if len(got) != 3 || !errors.Is(err, io.EOF) {
			t.Errorf("chunk %d, limit = size: %d messages, %v", chunk, len(got), err)
		}
		if rd.peak > len(big) {
			t.Errorf("chunk %d: held %d bytes, more than the limit %d", chunk, rd.peak, len(big))
		}
		// One byte less is too much.
		got, rd, err = readAll(t, []byte(small+big+small), chunk, len(big)-1)
		if len(got) != 1 || !errors.Is(err, ErrMessageTooLarge) || !strings.Contains(err.Error(), "larger than "+itoa(len(big)-1)+" bytes") {
			t.Errorf("chunk %d, limit = size-1: %d messages, %v", chunk, len(got), err)
		}
		if rd.peak > len(big)-1 {
			t.Errorf("chunk %d: held %d bytes, more than the limit %d", chunk, rd.peak, len(big)-1)
		}
	}
	// Whitespace between messages never accumulates.
	ws := small + strings.Repeat(" ", 10000) + small
	got, rd, err := readAll(t, []byte(ws), 4096, 100)
	if len(got) != 2 || !errors.Is(err, io.EOF) || rd.peak > 100 {
		t.Errorf("whitespace: %d messages, %v, peak %d", len(got), err, rd.peak)
	}
}

// A large buffer is released once messages become small again.
func TestReaderShrinks(t *testing.T) {
	big := `{"method":"b","params":["` + strings.Repeat("x", 4<<20) + `"]}`
	small := `{"method":"a","params":[]}`
	var in bytes.Buffer
	in.WriteString(big)
	for range 10 {
		in.WriteString(small)
	}
	rd := newReader(&chunkReader{data: in.Bytes(), n: 1 << 16}, "t", 0)
	for range 2 {
		if _, err := rd.next(); err != nil {
			t.Fatal(err)
		}
	}
	if len(rd.buf) > 64<<10 {
		t.Errorf("buffer still %d bytes after small messages", len(rd.buf))
	}
}

// The scanner accepts exactly the JSON that encoding/json accepts (for
// valid UTF-8 and bounded depth), wherever the input is split.
func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	values := []string{
		`0`, `-0`, `1`, `-1`, `12.5`, `1e5`, `1E+5`, `1e-5`, `-0.0e0`, `01`, `1.`, `.5`, `+1`, `1e`, `1e+`, `--1`, `-`, `0x1`,
		`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\u00e9"`, `"\uD834\uDD1E"`, `"\u12"`, `"\a"`, `"é"`, "\"\t\"", `"`,
		`true`, `false`, `null`, `True`, `nul`, `truex`,
		`[]`, `[1]`, `[1,2]`, `[1,]`, `[,1]`, `[`, `]`, `[[[]]]`, `[1 2]`,
		`{}`, `{"a":1}`, `{"a":1,"b":[]}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1,}`, `{"a" : 1 , "b" : 2}`,
		` [ 1 , { "x" : [ null ] } ] `,
	}
	for _, v := range values {
		msg := `{"method":"m","params":[` + v + `]}`
		wantOK := json.Valid([]byte(msg)) && utf8.ValidString(msg)
		for _, chunk := range []int{1, 3, 4096} {
			got, _, err := readAll(t, []byte(msg), chunk, 0)
			gotOK := len(got) == 1 && errors.Is(err, io.EOF)
			if gotOK != wantOK {
				t.Errorf("params [%s] (chunk %d): accepted=%v (err %v), encoding/json accepted=%v", v, chunk, gotOK, err, wantOK)
			}
		}
	}
}
