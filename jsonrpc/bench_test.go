package jsonrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"testing"
)

// benchRows is the size of the monitor reply the benchmark decodes.
const benchRows = 10000

// monitorReply builds, deterministically, the reply to a monitor_cond
// request for one table of benchRows rows with six columns: a string, an
// optional integer, a set of strings, a set of uuids, a string map and a
// boolean; about 4 MB.
func monitorReply(rows int) []byte {
	var b bytes.Buffer
	uuid := func(i, salt int) string {
		return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761%(1<<32), salt, i%4096, (i*7)%4096, i*1000003+salt)
	}
	b.WriteString(`{"id":42,"result":{"Logical_Switch_Port":{`)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"initial":{`, uuid(i, 0))
		fmt.Fprintf(&b, `"name":"lsp-%06d",`, i)
		if i%3 == 0 {
			b.WriteString(`"tag":["set",[]],`)
		} else {
			fmt.Fprintf(&b, `"tag":%d,`, i*7919%4096)
		}
		b.WriteString(`"addresses":["set",[`)
		for j := range 1 + i%2 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"0a:00:00:%02x:%02x:%02x 10.%d.%d.%d"`, i>>16&255, i>>8&255, i&255, j, i>>8&255, i&255)
		}
		b.WriteString(`]],"port_security":["set",[`)
		for j := range 2 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `["uuid","%s"]`, uuid(i, j+1))
		}
		b.WriteString(`]],"external_ids":["map",[`)
		for j, k := range []string{"neutron:device_owner", "neutron:network_name", "neutron:rev"} {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `["%s","v%d-%d"]`, k, i, j)
		}
		fmt.Fprintf(&b, `]],"enabled":%v}}`, i%2 == 0)
	}
	b.WriteString(`}},"error":null}` + "\n")
	return b.Bytes()
}

// loopReader returns its data over and over: a connection that keeps
// sending the same message.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off += n
	if r.off == len(r.data) {
		r.off = 0
	}
	return n, nil
}

// rawMessage is a JSON-RPC message framed by encoding/json with the same
// output as this package's reader: the members, params and result left as
// raw bytes (json.RawMessage validates and copies them).
type rawMessage struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	ID     json.RawMessage `json:"id"`
}

func checkBenchData(b *testing.B, data []byte) {
	b.Helper()
	rd := newReader(bytes.NewReader(data), "bench", 0)
	m, err := rd.next()
	if err != nil || m.Kind != KindReply {
		b.Fatalf("jsonrpc: %v %v", m, err)
	}
	var r rawMessage
	if err := json.Unmarshal(data, &r); err != nil || !bytes.Equal(r.Result, m.Result) {
		b.Fatalf("encoding/json: %v, or a different result", err)
	}
}

// BenchmarkDecodeMonitorReply frames a 10,000-row monitor reply (about
// 4 MB) from a byte stream: the same input to the same output on both
// sides, a message whose members are validated and whose params/result are
// raw bytes. decoder=jsonrpc is this package's reader; decoder=encoding-json
// is json.Decoder into a struct of json.RawMessage members. Decoding the
// rows into typed values is measured, against libovsdb, in the bench
// module (BenchmarkInitial).
//
// reader=stream reuses one reader per connection (the steady state of a
// connection); reader=fresh starts a new reader for every message (buffers
// grown from scratch, for both decoders).
//
// decoder=jsonrpc-streamed is this package's reader with the result
// streamed through a ResultDecoder that does nothing (Conn.ExpectResult):
// the same validation, without holding the message; its B/op is what the
// reader costs on top of the decoder.
//
//	go test -run '^$' -bench DecodeMonitorReply -benchmem -count 5 ./jsonrpc/
func BenchmarkDecodeMonitorReply(b *testing.B) {
	data := monitorReply(benchRows)
	checkBenchData(b, data)

	b.Run("reader=stream/decoder=jsonrpc", func(b *testing.B) {
		rd := newReader(&loopReader{data: data}, "bench", 0)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			m, err := rd.next()
			if err != nil || len(m.Result) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("reader=stream/decoder=jsonrpc-streamed", func(b *testing.B) {
		rd := newReader(&loopReader{data: data}, "bench", 0)
		rd.decoderFor = func([]byte) ResultDecoder { return discardResult{} }
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			m, err := rd.next()
			if err != nil || !m.IsDecoded() || m.DecodeErr != nil {
				b.Fatal(m, err)
			}
		}
		b.ReportMetric(float64(rd.peak), "peak-bytes")
	})
	b.Run("reader=stream/decoder=encoding-json", func(b *testing.B) {
		dec := json.NewDecoder(&loopReader{data: data})
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m rawMessage
			if err := dec.Decode(&m); err != nil || len(m.Result) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("reader=fresh/decoder=jsonrpc", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			rd := newReader(bytes.NewReader(data), "bench", 0)
			m, err := rd.next()
			if err != nil || len(m.Result) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("reader=fresh/decoder=jsonrpc-streamed", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			rd := newReader(bytes.NewReader(data), "bench", 0)
			rd.decoderFor = func([]byte) ResultDecoder { return discardResult{} }
			m, err := rd.next()
			if err != nil || !m.IsDecoded() || m.DecodeErr != nil {
				b.Fatal(m, err)
			}
		}
	})
	b.Run("reader=fresh/decoder=encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m rawMessage
			if err := json.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil || len(m.Result) == 0 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConnMonitorReply measures a request answered by a 10,000-row
// monitor reply (about 4 MB) over TCP loopback, from Send to Recv:
// result=kept keeps the result as bytes, result=streamed streams it
// through a ResultDecoder that does nothing (Conn.ExpectResult). B/op is
// the client's and the server's allocations together; the server writes
// a prepared reply.
//
//	go test -run '^$' -bench ConnMonitorReply -benchmem -count 5 ./jsonrpc/
func BenchmarkConnMonitorReply(b *testing.B) {
	reply := monitorReply(benchRows)
	reply = reply[len(`{"id":42`):] // the rest after the id
	for _, streamed := range []bool{false, true} {
		name := "result=kept"
		if streamed {
			name = "result=streamed"
		}
		b.Run(name, func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Skip(err)
			}
			defer l.Close()
			go func() {
				nc, err := l.Accept()
				if err != nil {
					return
				}
				defer nc.Close()
				rd := newReader(nc, "server", 0)
				var out []byte
				for {
					m, err := rd.next()
					if err != nil {
						return
					}
					out = append(append(append(out[:0], `{"id":`...), m.ID...), reply...)
					if _, err := nc.Write(out); err != nil {
						return
					}
				}
			}()
			nc, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c := NewConn(nc, ConnConfig{})
			defer c.Close()
			b.SetBytes(int64(len(reply)))
			id := uint64(0)
			for b.Loop() {
				id++
				if streamed {
					c.ExpectResult(id, discardResult{})
				}
				req, _ := NewRequest(id, "monitor_cond", "OVN_Northbound", "m", map[string]any{})
				if err := c.Send(req); err != nil {
					b.Fatal(err)
				}
				m, err := c.Recv(b.Context())
				if err != nil || m.IsDecoded() != streamed {
					b.Fatal(m, err)
				}
			}
			b.ReportMetric(float64(c.rd.peak), "peak-bytes")
		})
	}
}

// discardResult is a ResultDecoder that does nothing.
type discardResult struct{}

func (discardResult) Write([]byte) error   { return nil }
func (discardResult) Finish() (any, error) { return nil, nil }

// BenchmarkConnRoundTrip measures a Call and its reply over a net.Pipe.
func BenchmarkConnRoundTrip(b *testing.B) {
	client, server := pipeConnPair(b)
	defer client.Close()
	defer server.Close()
	go func() {
		for {
			m, err := server.Recv(b.Context())
			if err != nil {
				return
			}
			reply, _ := NewReply(m.ID, m.Params)
			_ = server.Send(reply)
		}
	}()
	for b.Loop() {
		if _, err := client.Call(b.Context(), "transact", "OVN_Northbound", map[string]any{"op": "select", "table": "T", "where": []any{}}); err != nil {
			b.Fatal(err)
		}
	}
}

func pipeConnPair(b *testing.B) (*Conn, *Conn) {
	b.Helper()
	x, y := net.Pipe()
	return NewConn(x, ConnConfig{Name: "client"}), NewConn(y, ConnConfig{Name: "server"})
}

var _ io.Reader = (*loopReader)(nil)
