package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// DefaultMaxMessageSize is the default limit on the size of one received
// message: 64 MiB. For a reply whose result goes through a [ResultDecoder]
// ([Conn.ExpectResult]) the limit is on the bytes the reader holds at once,
// not on the whole message: the result is handed on as it arrives and never
// held whole.
const DefaultMaxMessageSize = 64 << 20

const (
	// minReadBuffer is the initial size of a reader's buffer (OVS reads
	// 4096 bytes at a time).
	minReadBuffer = 4096
	// shrinkAbove: a buffer larger than this is given back once the
	// messages it carries have become much smaller than it.
	shrinkAbove = 1 << 20
	// streamBuffer is the size of the buffer while a result is streamed
	// to a ResultDecoder: the most the reader holds of it at once, and the
	// largest piece a Write gets.
	streamBuffer = 64 << 10
)

// The ways a reply's result may be read (reader.mode).
const (
	resultUndecided uint8 = iota // no result value seen yet
	resultBuffered               // kept in the message's bytes
	resultStreamed               // handed to a ResultDecoder as it arrives
)

// reader splits a byte stream into JSON-RPC messages (as jsonrpc_recv
// does): a stream of
// JSON values with no delimiter between them. It keeps only the bytes of
// the message being read (at most max of them, never more) plus what the
// last read returned after it; whitespace between messages is discarded
// as it arrives.
//
// Each complete message is copied into its own exact-size allocation, so
// the read buffer is reused from one message to the next; a buffer that
// grew for a large message is released when later messages are small.
//
// The result of a reply can instead go to a ResultDecoder as it arrives
// (decoderFor says which): the reader then keeps only what it has not
// handed on yet, at most streamBuffer bytes, and the scanner still
// validates every byte.
type reader struct {
	r      io.Reader
	name   string // for errors
	max    int    // maximum message size
	buf    []byte
	start  int   // first byte of the pending message (or of unread data)
	end    int   // end of the data read so far
	inMsg  bool  // buf[start] is the first byte (not dropped) of a message being scanned
	off    int64 // stream offset of buf[0]
	msgOff int64 // stream offset of the first byte of the message being scanned
	sc     ovsjson.Scanner

	// decoderFor, when set, returns the decoder for the result of the
	// reply with the raw id (taking it: it is asked once per reply), or
	// nil to keep the result as bytes.
	decoderFor func(id []byte) ResultDecoder

	// The result of the message being scanned. Offsets are from the
	// message's first byte.
	mode    uint8         // resultUndecided, resultBuffered or resultStreamed
	dec     ResultDecoder // while streamed
	decErr  error         // the error of dec.Write: no more Writes
	head    []byte        // copy of the message's bytes before the result
	fed     int           // the result's bytes before fed were handed on
	dropped int           // the message's bytes before dropped are gone from buf

	// onRead, when set, is called after every read that returned bytes.
	onRead func(n int)
	// peak is the most bytes the buffer has held at once (for tests).
	peak int
}

func newReader(r io.Reader, name string, maxSize int) *reader {
	if maxSize <= 0 {
		maxSize = DefaultMaxMessageSize
	}
	return &reader{r: r, name: name, max: maxSize, sc: ovsjson.NewMessageScanner()}
}

// next returns the next message. Its error is final: the stream is broken
// (io.EOF wrapped when the peer closed it between messages,
// io.ErrUnexpectedEOF in the middle of one, ErrProtocol, ErrMessageTooLarge
// or the read error).
func (rd *reader) next() (*Message, error) {
	for {
		if !rd.inMsg {
			for rd.start < rd.end && ovsjson.IsSpace(rd.buf[rd.start]) {
				rd.start++
			}
			if rd.start < rd.end {
				rd.startMessage()
			}
		}
		if rd.inMsg {
			end, err := rd.sc.Scan(rd.buf[rd.start:rd.end])
			if err != nil {
				se := err.(*ovsjson.SyntaxError)
				return nil, protocolError(rd.name, rd.msgOff+int64(se.Off), "%s", se.Msg)
			}
			if rd.mode == resultUndecided {
				rd.decide()
			}
			if end > 0 {
				return rd.endMessage(rd.start + end)
			}
			if rd.mode == resultStreamed {
				rd.handOn()
			}
			if rd.end-rd.start >= rd.max {
				return nil, fmt.Errorf("%w: %s: message at byte %d is larger than %d bytes",
					ErrMessageTooLarge, rd.name, rd.msgOff, rd.max)
			}
		}
		if err := rd.fill(); err != nil {
			if errors.Is(err, io.EOF) {
				if rd.inMsg {
					return nil, fmt.Errorf("%s: connection closed in the middle of a message: %w", rd.name, io.ErrUnexpectedEOF)
				}
				return nil, fmt.Errorf("%s: connection closed by peer: %w", rd.name, io.EOF)
			}
			return nil, err
		}
	}
}

// startMessage starts scanning the message whose first byte is
// buf[start].
func (rd *reader) startMessage() {
	rd.inMsg = true
	rd.msgOff = rd.off + int64(rd.start)
	rd.sc.Reset()
	rd.mode, rd.dec, rd.decErr, rd.head = resultUndecided, nil, nil, nil
	rd.fed, rd.dropped = 0, 0
}

// decide settles, once the result's first byte has been scanned, whether
// the result is streamed: the reply's "id" came before its "result", the
// result is an array or an object, and decoderFor gives a decoder for the
// id. Until then nothing of the message has been dropped.
func (rd *reader) decide() {
	res := rd.sc.Value(ovsjson.MemberResult)
	resOff := res.Start
	if res.End == 0 {
		member, start, ok := rd.sc.Open()
		if !ok || member != ovsjson.MemberResult {
			return // no result yet
		}
		resOff = start
	}
	rd.mode = resultBuffered
	id := rd.sc.Value(ovsjson.MemberID)
	if id.End == 0 || id.End > resOff || rd.decoderFor == nil {
		return
	}
	if c := rd.buf[rd.start+resOff]; c != '{' && c != '[' {
		return
	}
	d := rd.decoderFor(rd.buf[rd.start+id.Start : rd.start+id.End])
	if d == nil {
		return
	}
	rd.mode, rd.dec = resultStreamed, d
	rd.head = bytes.Clone(rd.buf[rd.start : rd.start+resOff])
	rd.fed = resOff
}

// handOn gives the decoder the result's bytes scanned since the last call
// (unless a Write failed) and drops from the buffer every byte of the
// message up to them.
func (rd *reader) handOn() {
	upto := rd.sc.Pos()
	if res := rd.sc.Value(ovsjson.MemberResult); res.End != 0 {
		upto = res.End
	}
	if upto > rd.fed {
		if rd.decErr == nil {
			from, to := rd.start+rd.fed-rd.dropped, rd.start+upto-rd.dropped
			p := rd.buf[from:to:to]
			rd.decErr = rd.dec.Write(p)
		}
		rd.fed = upto
	}
	n := upto - rd.dropped
	rd.sc.Drop(n)
	rd.start += n
	rd.dropped = upto
}

// endMessage builds the message that ends at buf[end] (exclusive) and
// consumes its bytes.
func (rd *reader) endMessage(end int) (*Message, error) {
	raw := msgBytes{}
	if rd.mode == resultStreamed {
		rd.handOn()
		res := rd.sc.Value(ovsjson.MemberResult)
		raw = msgBytes{
			head:    rd.head,
			tail:    bytes.Clone(rd.buf[rd.start:end]),
			tailOff: rd.dropped,
			decoded: res.End - res.Start,
		}
	} else {
		raw.head = bytes.Clone(rd.buf[rd.start:end])
	}
	held := end - rd.start
	rd.start = end
	rd.inMsg = false
	m, err := messageFromSpans(raw, &rd.sc)
	if err != nil {
		return nil, protocolError(rd.name, -1, "invalid JSON-RPC message at byte %d: %s", rd.msgOff, err.(*ovsjson.SyntaxError).Msg)
	}
	if d := rd.dec; d != nil {
		rd.dec = nil
		if rd.decErr != nil {
			m.DecodeErr, rd.decErr = rd.decErr, nil
		} else if v, err := d.Finish(); err != nil {
			m.DecodeErr = err
		} else {
			m.Decoded = v
		}
	}
	rd.maybeShrink(held)
	return m, nil
}

// fill reads more bytes, keeping the pending bytes (buf[start:end]) at no
// more than max, and, while a result is streamed, at no more than the
// stream buffer.
func (rd *reader) fill() error {
	if rd.start == rd.end {
		rd.off += int64(rd.end)
		rd.start, rd.end = 0, 0
	}
	if rd.mode == resultStreamed && rd.inMsg {
		if size := min(streamBuffer, max(rd.max, minReadBuffer)); len(rd.buf) != size && rd.end-rd.start <= size/2 {
			rd.resize(size)
		}
	}
	if rd.end == len(rd.buf) {
		pending := rd.end - rd.start
		maxBuf := max(rd.max, minReadBuffer)
		if rd.start > 0 && (pending <= len(rd.buf)/4*3 || len(rd.buf) >= maxBuf) {
			// Move the pending bytes to the front.
			copy(rd.buf, rd.buf[rd.start:rd.end])
		} else {
			nb := make([]byte, min(max(2*len(rd.buf), minReadBuffer), maxBuf))
			copy(nb, rd.buf[rd.start:rd.end])
			rd.buf = nb
		}
		rd.off += int64(rd.start)
		rd.start, rd.end = 0, pending
	}
	// Read no more than the limit allows for the pending bytes.
	limit := min(len(rd.buf), rd.start+rd.max)
	n, err := rd.r.Read(rd.buf[rd.end:limit])
	if n > 0 {
		rd.end += n
		rd.peak = max(rd.peak, rd.end-rd.start)
		if rd.onRead != nil {
			rd.onRead(n)
		}
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// maybeShrink releases a large buffer once a message much smaller than it
// has been read and little data is left in it.
func (rd *reader) maybeShrink(msgSize int) {
	if len(rd.buf) <= shrinkAbove || msgSize >= len(rd.buf)/8 {
		return
	}
	pending := rd.end - rd.start
	if pending > len(rd.buf)/8 {
		return
	}
	rd.resize(max(minReadBuffer, 2*pending))
}

// resize moves the pending bytes to the front of a new buffer of size
// bytes (at least as many as are pending).
func (rd *reader) resize(size int) {
	pending := rd.end - rd.start
	nb := make([]byte, size)
	copy(nb, rd.buf[rd.start:rd.end])
	rd.off += int64(rd.start)
	rd.buf, rd.start, rd.end = nb, 0, pending
}
