package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// FuzzReader feeds arbitrary bytes, split into arbitrary chunks, to the
// message reader with an arbitrary size limit. It must never panic, never
// hold more than the limit, and end either with valid messages and io.EOF
// or with a clear error (ErrProtocol, ErrMessageTooLarge,
// io.ErrUnexpectedEOF). Every message it returns must re-encode to JSON that
// encoding/json accepts and that parses back to the same message.
//
// Run: go test -run '^$' -fuzz FuzzReader -fuzztime 60s ./jsonrpc/
func FuzzReader(f *testing.F) {
	seeds := []string{
		`{"method":"echo","params":[],"id":"echo"}`,
		`{"method":"update2","params":["m",{"T":{"6a0b":{"insert":{"a":["set",[1,2]],"b":["map",[["k","v"]]]}}}}],"id":null}`,
		`{"result":{"x":[1.5e10,-0,true,false,null,"\u00e9\n"]},"error":null,"id":18446744073709551615}` + "\n" + `{"error":"e","id":1}`,
		`{"method":"m","params":[[[[[[[[[[]]]]]]]]]]}`,
		`{"id":1,"method":"x","params":[],"extra":1}`,
		"{\"method\":\"\xff\",\"params\":[]}",
		`[1,2,3]`,
		`{"method":"x","params":[01]}`,
		`   {"method":"x","params":["` + "\\ud83d\\ude00" + `"]}`,
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), uint16(64*i))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, limit uint16) {
		maxSize := int(limit) + 1
		rd := newReader(&chunkReader{data: data, n: int(chunk)%97 + 1}, "fuzz", maxSize)
		for n := 0; ; n++ {
			if n > len(data) {
				t.Fatalf("more messages (%d) than input bytes", n)
			}
			m, err := rd.next()
			if rd.peak > maxSize {
				t.Fatalf("reader held %d bytes, limit %d", rd.peak, maxSize)
			}
			if err != nil {
				if !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrMessageTooLarge) &&
					!errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected kind of error: %v", err)
				}
				if err.Error() == "" {
					t.Fatal("empty error message")
				}
				break
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("reader returned an invalid message: %v", err)
			}
			b, err := m.MarshalJSON()
			if err != nil {
				t.Fatalf("re-encoding: %v", err)
			}
			if !json.Valid(b) || !utf8.Valid(b) {
				t.Fatalf("re-encoded message is not valid JSON: %q", b)
			}
			var back Message
			if err := back.UnmarshalJSON(b); err != nil {
				t.Fatalf("re-parsing %q: %v", b, err)
			}
			b2, _ := back.MarshalJSON()
			if !bytes.Equal(b, b2) {
				t.Fatalf("round trip changed the message:\n%q\n%q", b, b2)
			}
		}
	})
}

// FuzzReaderStreamed reads the same bytes twice: keeping every result, and
// streaming every result it may through a decoder (which fails at an
// arbitrary byte when fail is not 0), each time split into arbitrary
// pieces. Both readings must give the same messages (a streamed result's
// text being the kept one) and end with the same error; the streamed one
// must hold no more than the limit at once.
//
// Run: go test -run '^$' -fuzz FuzzReaderStreamed -fuzztime 60s ./jsonrpc/
func FuzzReaderStreamed(f *testing.F) {
	seeds := []string{
		`{"id":1,"result":{"a":[1,2,{"b":"\u00e9"}]},"error":null}{"id":2,"result":[]}`,
		`{"result":{"a":1},"id":1}{"id":1,"result":null,"error":{"error":"e"}}`,
		`{"id":3,"result":[1,2,}`,
		`{"id":4,"result":[1],"result":[2]}`,
		`{"id":5,"result":{"x":true},"error":"e"}`,
		`{"id":6,"error":null,"result":[["uuid","x"]]} {"method":"update3","params":[1,2,3],"id":null}`,
		`{"id":7,"method":"m","result":[0]}`,
		` {"id" : 8 , "result" : [ "\ud83d\ude00" , -0.5e+10 ] , "error" : null } `,
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i), uint8(3*i+1), uint8(i%3), uint16(64*i))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk, chunk2, fail uint8, limit uint16) {
		kept, _, keptErr := readStream(t, &chunkReader{data: data, n: int(chunk)%97 + 1}, 0, nil)
		ds := every()
		ds.failAt = -1
		if fail != 0 {
			ds.failAt = 3 * int(fail)
		}
		got, _, err := readStream(t, &chunkReader{data: data, n: int(chunk2)%97 + 1}, 0, ds)
		if (err == nil) != (keptErr == nil) || err != nil && err.Error() != keptErr.Error() {
			t.Fatalf("streamed: %v\nkept: %v", err, keptErr)
		}
		if len(got) != len(kept) {
			t.Fatalf("streamed %d messages, kept %d", len(got), len(kept))
		}
		taken := ds.taken
		for i, m := range got {
			want, _ := kept[i].MarshalJSON()
			if !m.IsDecoded() {
				b, err := m.MarshalJSON()
				if err != nil || !bytes.Equal(b, want) {
					t.Fatalf("message %d: streamed %q (%v), kept %q", i, b, err, want)
				}
				continue
			}
			if len(taken) == 0 {
				t.Fatalf("message %d decoded without a decoder", i)
			}
			rec := taken[0]
			taken = taken[1:]
			if rec.bad != "" {
				t.Fatal(rec.bad)
			}
			if m.DecodeErr != nil {
				if m.DecodeErr != errDecoder || m.Decoded != nil || rec.finished || !bytes.HasPrefix(kept[i].Result, rec.got.Bytes()) {
					t.Fatalf("message %d: %v, the decoder got %q of %q", i, m.DecodeErr, rec.got.Bytes(), kept[i].Result)
				}
				continue
			}
			back := *m
			back.Result, back.Decoded, back.decodedLen = rec.got.Bytes(), nil, 0
			b, err := back.MarshalJSON()
			if err != nil || !bytes.Equal(b, want) || m.Decoded != rec.got.String() {
				t.Fatalf("message %d: streamed %q (%v), kept %q", i, b, err, want)
			}
		}
		// With a size limit, the streamed reading holds no more than it.
		maxSize := int(limit) + 1
		rd := newReader(&chunkReader{data: data, n: int(chunk)%97 + 1}, "fuzz", maxSize)
		rd.decoderFor = every().decoderFor
		for {
			_, err := rd.next()
			if rd.peak > maxSize {
				t.Fatalf("reader held %d bytes, limit %d", rd.peak, maxSize)
			}
			if err != nil {
				break
			}
		}
	})
}

// FuzzParseRemotes: any string parses or fails with ErrInvalidRemote,
// never panics, and what parses prints back to something that parses to
// the same remotes.
func FuzzParseRemotes(f *testing.F) {
	for _, s := range []string{
		"tcp:127.0.0.1:6641,ssl:[::1]:6642,unix:db.sock",
		"cid:0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f, ptcp:6641:127.0.0.1",
		"tcp:::1", "tcp:[::1", "punix:", "pssl:0:[::1]", "tcp:a,b:1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, cid, err := ParseRemotes(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRemote) {
				t.Fatalf("error %v does not wrap ErrInvalidRemote", err)
			}
			return
		}
		for _, r := range rs {
			back, err := ParseRemote(r.String())
			if err != nil || back != r {
				t.Fatalf("%+v prints as %q, which parses to %+v, %v", r, r.String(), back, err)
			}
		}
		if cid != "" && len(cid) != 36 {
			t.Fatalf("cluster id %q", cid)
		}
	})
}
