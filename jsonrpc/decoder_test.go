package jsonrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// recorder is a ResultDecoder that keeps what it is given. It fails the
// Write that takes it past failAt bytes (when failAt >= 0), and Finish with
// finishErr. It reports a broken contract (a Write after an error, a Finish
// after one or twice) in bad.
type recorder struct {
	failAt    int
	finishErr error

	got      bytes.Buffer
	writes   int
	failed   bool
	finished bool
	bad      string
}

var errDecoder = errors.New("decoder says no")

func newRecorder() *recorder { return &recorder{failAt: -1} }

func (r *recorder) Write(p []byte) error {
	if r.failed || r.finished {
		r.bad = "Write after an error or Finish"
	}
	if len(p) == 0 {
		r.bad = "empty Write"
	}
	r.writes++
	r.got.Write(p)
	if r.failAt >= 0 && r.got.Len() > r.failAt {
		r.failed = true
		return errDecoder
	}
	return nil
}

// Finish returns the text it was given.
func (r *recorder) Finish() (any, error) {
	if r.failed || r.finished {
		r.bad = "Finish after an error or twice"
	}
	r.finished = true
	if r.finishErr != nil {
		return "ignored", r.finishErr
	}
	return r.got.String(), nil
}

// decoders registers recorders by raw id, as Conn.ExpectResult does, and
// keeps those the reader took.
type decoders struct {
	reg    map[string]*recorder
	failAt int // of the recorders every makes
	taken  []*recorder
	asked  int
}

// every returns decoders that give a fresh recorder for any id.
func every() *decoders { return &decoders{failAt: -1} }

func (ds *decoders) decoderFor(id []byte) ResultDecoder {
	ds.asked++
	var r *recorder
	if ds.reg == nil {
		r = newRecorder()
		r.failAt = ds.failAt
	} else if r = ds.reg[string(id)]; r == nil {
		return nil
	}
	delete(ds.reg, string(id))
	ds.taken = append(ds.taken, r)
	return r
}

// readStream reads messages from in with decoders ds (none when nil) until
// the reader fails.
func readStream(t testing.TB, in io.Reader, maxSize int, ds *decoders) ([]*Message, *reader, error) {
	t.Helper()
	rd := newReader(in, "test", maxSize)
	if ds != nil {
		rd.decoderFor = ds.decoderFor
	}
	var out []*Message
	for {
		m, err := rd.next()
		if err != nil {
			return out, rd, err
		}
		out = append(out, m)
	}
}

// randReader returns its data in pieces of random length, 1 to n bytes.
type randReader struct {
	data []byte
	n    int
	rng  *rand.Rand
}

func (r *randReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), 1+r.rng.IntN(r.n), len(r.data))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	return k, nil
}

// readers returns the ways a test feeds data: fixed pieces of 1, 7 and 4096
// bytes, and random pieces.
func readers(data []byte, seed uint64) map[string]io.Reader {
	return map[string]io.Reader{
		"1":      &chunkReader{data: data, n: 1},
		"7":      &chunkReader{data: data, n: 7},
		"4096":   &chunkReader{data: data, n: 4096},
		"random": &randReader{data: data, n: 300, rng: rand.New(rand.NewPCG(seed, 7))},
	}
}

// checkDecoded checks that m is the reply with id whose result, exactly
// want, went through the recorder r to the end.
func checkDecoded(t *testing.T, m *Message, r *recorder, id, want string) {
	t.Helper()
	if m.Kind != KindReply || string(m.ID) != id || m.Result != nil || m.DecodeErr != nil || !m.IsDecoded() {
		t.Fatalf("message %s: kind %v id %s result %q err %v", m, m.Kind, m.ID, m.Result, m.DecodeErr)
	}
	if r.bad != "" {
		t.Fatal(r.bad)
	}
	if got := r.got.String(); got != want {
		t.Fatalf("the decoder got %d bytes\n%.200q\nwant %d bytes\n%.200q", len(got), got, len(want), want)
	}
	if m.Decoded != want {
		t.Fatalf("Decoded is %.100v, not Finish's value", m.Decoded)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if m.size() != 64+len(id)+len(want) {
		t.Fatalf("size %d, want %d", m.size(), 64+len(id)+len(want))
	}
	if _, err := m.MarshalJSON(); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("MarshalJSON of a decoded reply: %v", err)
	}
}

// The decoder gets the result's text exactly, however the input is split,
// and the messages around it are read as usual.
func TestStreamPieces(t *testing.T) {
	big := monitorReply(2000)
	bigResult := string(big[len(`{"id":42,"result":`) : len(big)-len(`,"error":null}`+"\n")])
	tests := []struct {
		name, msg, id, result string
	}{
		{"monitor reply", string(big), "42", bigResult},
		{"array", `{"id":1,"result":[1,"two",{"3":[]}],"error":null}`, "1", `[1,"two",{"3":[]}]`},
		{"empty object", `{"id":2,"result":{}}`, "2", `{}`},
		{"empty array", `{"id":3,"result":[]}`, "3", `[]`},
		{"white space", " {\n \"id\" : 4 ,\t\"result\" :\r\n [ 1 , { \"a\" : \"\\u00e9 日本 \\\"\" } , true ] \n, \"error\" : null\n} ",
			"4", `[ 1 , { "a" : "\u00e9 日本 \"" } , true ]`},
		{"error before", `{"id":5,"error":null,"result":{"x":-1.5e3}}`, "5", `{"x":-1.5e3}`},
		{"escaped key", `{"i\u0064":6,"result":{"k":"\ud83d\ude00"}}`, "6", `{"k":"\ud83d\ude00"}`},
		{"big id", `{"id":18446744073709551615,"result":[null]}`, "18446744073709551615", `[null]`},
	}
	before := `{"method":"update2","params":["m",{}],"id":null}`
	after := `{"id":99,"result":{"z":1},"error":null}`
	for _, tt := range tests {
		for name, in := range readers([]byte(before+tt.msg+after), 1) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				ds := &decoders{reg: map[string]*recorder{tt.id: newRecorder()}}
				msgs, rd, err := readStream(t, in, 0, ds)
				if !errors.Is(err, io.EOF) || len(msgs) != 3 {
					t.Fatalf("%d messages, %v", len(msgs), err)
				}
				if msgs[0].Method != "update2" || string(msgs[2].ID) != "99" || string(msgs[2].Result) != `{"z":1}` {
					t.Fatalf("messages around: %s, %s", msgs[0], msgs[2])
				}
				if len(ds.taken) != 1 {
					t.Fatalf("%d decoders taken", len(ds.taken))
				}
				checkDecoded(t, msgs[1], ds.taken[0], tt.id, tt.result)
				if len(tt.result) > 2*streamBuffer && rd.peak > streamBuffer+8 {
					t.Errorf("the reader held %d bytes", rd.peak)
				}
			})
		}
	}
}

// randomValue appends a random JSON array or object, with random white
// space inside, to b.
func randomValue(rng *rand.Rand, b []byte, depth int) []byte {
	ws := func(b []byte) []byte {
		for range rng.IntN(4) {
			b = append(b, " \t\r\n"[rng.IntN(4)])
		}
		return b
	}
	scalars := []string{`0`, `-1`, `12.5e-3`, `1E+9`, `true`, `false`, `null`, `""`, `"plain"`,
		`"\u00e9\n\"\\"`, `"日本語"`, `"\ud83d\ude00"`, `"😀"`, `123456789012345678901234567890`}
	value := func(b []byte) []byte {
		if depth < 4 && rng.IntN(3) == 0 {
			return randomValue(rng, b, depth+1)
		}
		return append(b, scalars[rng.IntN(len(scalars))]...)
	}
	obj := rng.IntN(2) == 0
	open, close := byte('['), byte(']')
	if obj {
		open, close = '{', '}'
	}
	b = append(b, open)
	for i := range rng.IntN(6) {
		if i > 0 {
			b = append(ws(b), ',')
		}
		b = ws(b)
		if obj {
			b = strconv.AppendQuote(b, fmt.Sprintf("k%d", i))
			b = append(ws(b), ':')
			b = ws(b)
		}
		b = value(b)
	}
	return append(ws(b), close)
}

// A property: for random results with random white space, fed in random
// pieces, the decoder gets exactly the result's text.
func TestStreamRandomSplits(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var in []byte
		var results []string
		for i := range 1 + rng.IntN(4) {
			in = fmt.Appendf(in, " {\"id\" :%d,\n\"result\": ", i)
			start := len(in)
			in = randomValue(rng, in, 0)
			results = append(results, string(in[start:]))
			in = append(in, "\t, \"error\":null} "...)
		}
		ds := every()
		msgs, _, err := readStream(t, &randReader{data: in, n: 1 + rng.IntN(40), rng: rng}, 0, ds)
		if !errors.Is(err, io.EOF) || len(msgs) != len(results) || len(ds.taken) != len(results) {
			t.Fatalf("seed %d: %d messages, %d decoders, %v\n%s", seed, len(msgs), len(ds.taken), err, in)
		}
		for i, m := range msgs {
			checkDecoded(t, m, ds.taken[i], strconv.Itoa(i), results[i])
		}
	}
}

// bigReply returns a reply with id 7 whose result is an object of about
// size bytes.
func bigReply(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":7,"result":{`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"row%08d":{"name":"%s","n":%d}`, i, strings.Repeat("x", i%50), i)
	}
	b.WriteString(`},"error":null}`)
	return b.Bytes()
}

// The reader holds at most its stream buffer of a streamed result, however
// large, even when reads return a lot at once; a reply it keeps is held
// whole, as before.
func TestStreamPeakBounded(t *testing.T) {
	data := bigReply(10 << 20)
	for _, chunk := range []int{4096, 1 << 20, len(data)} {
		ds := every()
		msgs, rd, err := readStream(t, &chunkReader{data: data, n: chunk}, 0, ds)
		if !errors.Is(err, io.EOF) || len(msgs) != 1 || !msgs[0].IsDecoded() {
			t.Fatalf("chunk %d: %d messages, %v", chunk, len(msgs), err)
		}
		if ds.taken[0].got.Len() != len(data)-len(`{"id":7,"result":`)-len(`,"error":null}`) {
			t.Fatalf("chunk %d: the decoder got %d bytes", chunk, ds.taken[0].got.Len())
		}
		if rd.peak > 300<<10 {
			t.Errorf("chunk %d: the reader held %d bytes of a streamed %d-byte reply", chunk, rd.peak, len(data))
		}
		if chunk != 1<<20 {
			continue
		}
		// Unregistered: the same reader behaviour as without decoders.
		_, rdKept, err := readStream(t, &chunkReader{data: data, n: chunk}, 0, &decoders{reg: map[string]*recorder{}})
		_, rdNone, err2 := readStream(t, &chunkReader{data: data, n: chunk}, 0, nil)
		if !errors.Is(err, io.EOF) || !errors.Is(err2, io.EOF) || rdKept.peak != rdNone.peak || rdKept.peak < len(data) {
			t.Errorf("chunk %d: kept reply: peak %d (%v), without decoders %d (%v)", chunk, rdKept.peak, err, rdNone.peak, err2)
		}
	}
}

// A streamed result may be larger than the maximum message size: the limit
// is on what the reader holds.
func TestStreamMaxSize(t *testing.T) {
	data := bigReply(1 << 20)
	msgs, rd, err := readStream(t, &chunkReader{data: data, n: 4096}, 100<<10, every())
	if !errors.Is(err, io.EOF) || len(msgs) != 1 || !msgs[0].IsDecoded() || rd.peak > 100<<10 {
		t.Errorf("limit 100 KiB: %d messages, %v, peak %d", len(msgs), err, rd.peak)
	}
	_, _, err = readStream(t, &chunkReader{data: data, n: 4096}, 100<<10, nil)
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("kept: %v, want ErrMessageTooLarge", err)
	}
	// What is held before the result (and after it) keeps the limit.
	long := `{"id":7` + strings.Repeat(" ", 200) + `,"result":[1]}`
	if _, _, err := readStream(t, &chunkReader{data: []byte(long), n: 7}, 100, every()); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("before the result: %v, want ErrMessageTooLarge", err)
	}
	long = `{"id":7,"result":[1]` + strings.Repeat(" ", 200) + `}`
	if _, _, err := readStream(t, &chunkReader{data: []byte(long), n: 7}, 100, every()); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("after the result: %v, want ErrMessageTooLarge", err)
	}
}

// Replies that are not streamed are delivered as they always were, and
// their decoder is never called.
func TestStreamFallback(t *testing.T) {
	tests := []struct {
		name, msg string
		asked     bool // the reader asks for the decoder (and takes it)
	}{
		{"result before id", `{"result":{"a":1},"id":1,"error":null}`, false},
		{"unregistered id", `{"id":2,"result":{"a":1},"error":null}`, true},
		{"string id", `{"id":"1","result":{"a":1}}`, true},
		{"error reply", `{"id":1,"result":null,"error":{"error":"e","details":"d"}}`, false},
		{"error reply, error first", `{"error":"e","id":1,"result":null}`, false},
		{"error reply, no result", `{"id":1,"error":"e"}`, false},
		{"null result", `{"id":1,"result":null,"error":"e"}`, false},
		{"scalar result", `{"id":1,"result":5,"error":null}`, false},
		{"string result", `{"id":1,"result":"{[","error":null}`, false},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 4096} {
			rec := newRecorder()
			ds := &decoders{reg: map[string]*recorder{"1": rec}}
			got, _, err := readStream(t, &chunkReader{data: []byte(tt.msg), n: chunk}, 0, ds)
			want, _, wantErr := readStream(t, &chunkReader{data: []byte(tt.msg), n: chunk}, 0, nil)
			if len(got) != 1 || len(want) != 1 || !errors.Is(err, io.EOF) || !errors.Is(wantErr, io.EOF) {
				t.Fatalf("%s: %d messages (%v), without decoders %d (%v)", tt.name, len(got), err, len(want), wantErr)
			}
			b, _ := got[0].MarshalJSON()
			w, _ := want[0].MarshalJSON()
			if string(b) != string(w) || got[0].IsDecoded() {
				t.Errorf("%s (chunk %d): got %s, want %s", tt.name, chunk, b, w)
			}
			if rec.writes != 0 || rec.finished {
				t.Errorf("%s: the decoder was called", tt.name)
			}
			if (ds.asked > 0) != tt.asked {
				t.Errorf("%s: decoder asked for %d times", tt.name, ds.asked)
			}
		}
	}
}

// A decoder's error is the message's DecodeErr; the rest of the result is
// still checked and the next message is read normally.
func TestStreamDecoderErrors(t *testing.T) {
	data := bigReply(200 << 10)
	next := `{"id":8,"result":[8]}`
	for _, tt := range []struct {
		name   string
		failAt int // -1: Finish fails
	}{
		{"first write", 0},
		{"later write", 100 << 10},
		{"finish", -1},
	} {
		for name, in := range readers(append(bytes.Clone(data), next...), 2) {
			rec := newRecorder()
			rec.failAt = tt.failAt
			if tt.failAt < 0 {
				rec.finishErr = errDecoder
			}
			ds := &decoders{reg: map[string]*recorder{"7": rec, "8": newRecorder()}}
			msgs, rd, err := readStream(t, in, 0, ds)
			if !errors.Is(err, io.EOF) || len(msgs) != 2 {
				t.Fatalf("%s/%s: %d messages, %v", tt.name, name, len(msgs), err)
			}
			m := msgs[0]
			if m.Kind != KindReply || string(m.ID) != "7" || m.DecodeErr != errDecoder || m.Decoded != nil || m.Result != nil {
				t.Errorf("%s/%s: %s: decoded %v, err %v", tt.name, name, m, m.Decoded, m.DecodeErr)
			}
			if rec.bad != "" {
				t.Errorf("%s/%s: %s", tt.name, name, rec.bad)
			}
			if tt.failAt >= 0 && (rec.finished || rec.got.Len() > tt.failAt+streamBuffer+8) {
				t.Errorf("%s/%s: finished %v after %d bytes", tt.name, name, rec.finished, rec.got.Len())
			}
			if rd.peak > 300<<10 {
				t.Errorf("%s/%s: the reader held %d bytes", tt.name, name, rd.peak)
			}
			if !strings.Contains(m.String(), "result=<decode error, ") {
				t.Errorf("String() = %s", m)
			}
			checkDecoded(t, msgs[1], ds.taken[1], "8", "[8]")
		}
	}
}

// Malformed or invalid input fails exactly as when the result is kept: the
// same error, at the same byte.
func TestStreamSameErrors(t *testing.T) {
	pad := string(bigReply(10 << 10)[len(`{"id":7,"result":`):])
	pad = pad[:len(pad)-len(`,"error":null}`)] // a valid object
	tests := []string{
		`{"id":1,"result":[1,2,}`,
		`{"id":1,"result":[` + pad + `,"\x"]}`,
		`{"id":1,"result":[` + pad + `,01]}`,
		"{\"id\":1,\"result\":[" + pad + ",\"\xff\"]}",
		`{"id":1,"result":{"a":tru}}`,
		`{"id":1,"result":` + strings.Repeat("[", ovsjson.MaxNesting) + strings.Repeat("]", ovsjson.MaxNesting) + `}`,
		`{"id":1,"result":[` + pad + `],"result":[]}`,
		`{"id":1,"result":[` + pad + `],"error":{"error":"e"}}`,
		`{"id":1,"result":[` + pad + `],"error":"e"}`,
		`{"id":1,"result":[` + pad + `],"method":"m"}`,
		`{"id":1,"result":[` + pad + `],"params":[]}`,
		`{"id":1,"result":[` + pad + `],"oops":1}`,
		`{"id":1,"result":[` + pad + `],"id":2}`,
		`{"id":1,"result":[` + pad + `]]`,
		`{"id":1,"method":"m","result":[` + pad + `]}`,
		`{"id":1,"method":3,"result":[` + pad + `]}`,
		`{"id":1,"params":[],"result":[` + pad + `]}`,
		`{"id":1,"result":[` + pad + `],"method":"\ud800"}`,
		`{"id":1,"result":[` + pad + `]`,
		`{"id":null,"result":[` + pad + `]}`,
		`{"id":1,"result":[` + pad,
	}
	for i, in := range tests {
		prefix := `{"id":0,"result":{"ok":[]}} ` // the offsets are from the stream's start
		for name, r := range readers([]byte(prefix+in), uint64(i)) {
			ds := every()
			msgs, _, err := readStream(t, r, 0, ds)
			_, _, want := readStream(t, &chunkReader{data: []byte(prefix + in), n: 1 << 20}, 0, nil)
			if want == nil || errors.Is(want, io.EOF) {
				t.Fatalf("test %d: kept: %v", i, want)
			}
			if err == nil || err.Error() != want.Error() || len(msgs) != 1 {
				t.Errorf("test %d/%s: %d messages, error\n%v\nwant\n%v", i, name, len(msgs), err, want)
			}
			for _, rec := range ds.taken[1:] {
				if rec.finished || rec.bad != "" {
					t.Errorf("test %d/%s: the decoder of a bad message was finished (%s)", i, name, rec.bad)
				}
			}
		}
	}
}

type callOutcome struct {
	res string
	err error
}

// The registrations of a Conn go when their reply arrives, whichever way
// it is delivered, and when the connection ends.
func TestConnExpectResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{})
		recs := map[uint64]*recorder{}
		for id := range uint64(6) {
			recs[id] = newRecorder()
			c.ExpectResult(id, recs[id])
		}
		c.ExpectResult(5, nil) // unregistered
		c.ExpectResult(4, nil)
		if n := c.expected(); n != 4 {
			t.Fatalf("%d registrations, want 4", n)
		}
		// 0 streamed, 1 with its result first, 2 an error reply, 3 a
		// scalar result; 4 unregistered.
		p.write(`{"id":0,"result":{"rows":[1,2,3]},"error":null}` +
			`{"result":{"a":1},"error":null,"id":1}` +
			`{"id":2,"result":null,"error":{"error":"syntax error"}}` +
			`{"id":3,"result":3,"error":null}` +
			`{"id":4,"result":{"b":2},"error":null}`)
		var got []string
		for range 5 {
			m, err := c.Recv(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.String())
			if m.IsDecoded() && m.Decoded != `{"rows":[1,2,3]}` {
				t.Errorf("Decoded %v", m.Decoded)
			}
		}
		want := []string{
			"reply id=0 result=<decoded, 16 bytes>",
			"reply id=1 result=7B",
			"error id=2 error=24B",
			"reply id=3 result=1B",
			"reply id=4 result=7B",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for id, r := range recs {
			if id > 0 && (r.writes != 0 || r.finished) {
				t.Errorf("the decoder of %d was called", id)
			}
		}
		if n := c.expected(); n != 0 {
			t.Errorf("%d registrations left after the replies", n)
		}

		// The connection's end drops the rest; later ones are ignored.
		c.ExpectResult(1000, newRecorder())
		c.Close()
		if n := c.expected(); n != 0 {
			t.Errorf("%d registrations after Close", n)
		}
		c.ExpectResult(1001, newRecorder())
		if n := c.expected(); n != 0 {
			t.Errorf("%d registrations after Close", n)
		}
	})
}

// An id registered for a Call is answered to the Call; the registration is
// ignored and dropped.
func TestConnExpectResultCallID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{NextID: func() uint64 { return 77 }})
		rec := newRecorder()
		c.ExpectResult(77, rec)
		done := make(chan callOutcome)
		go func() {
			res, err := c.Call(context.Background(), "get_schema")
			done <- callOutcome{string(res), err}
		}()
		p.readMsg()
		p.write(`{"id":77,"result":{"name":"db"},"error":null}`)
		if r := <-done; r.err != nil || r.res != `{"name":"db"}` {
			t.Errorf("Call: %s, %v", r.res, r.err)
		}
		if rec.writes != 0 || c.expected() != 0 {
			t.Errorf("decoder called %d times, %d registrations", rec.writes, c.expected())
		}
	})
}

// Through a Conn, a 10 MB result reaches the decoder while the reader
// holds no more than its stream buffer, and the reply counts in the
// receive queue as its result's length.
func TestConnStreamsLargeReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := pipeConn(t, ConnConfig{MaxMessageSize: 1 << 20})
		rec := newRecorder()
		c.ExpectResult(7, rec)
		data := bigReply(10 << 20)
		p.write(string(data))
		synctest.Wait()
		c.mu.Lock()
		queued := c.inBytes
		c.mu.Unlock()
		resultLen := len(data) - len(`{"id":7,"result":`) - len(`,"error":null}`)
		if want := 64 + 1 + resultLen; queued != want {
			t.Errorf("queued %d bytes, want %d", queued, want)
		}
		m, err := c.Recv(t.Context())
		if err != nil || !m.IsDecoded() || m.DecodeErr != nil || rec.got.Len() != resultLen || rec.bad != "" {
			t.Fatalf("%v: %v (%d bytes decoded, %s)", m, err, rec.got.Len(), rec.bad)
		}
		if c.rd.peak > 300<<10 {
			t.Errorf("the reader held %d bytes", c.rd.peak)
		}
	})
}
