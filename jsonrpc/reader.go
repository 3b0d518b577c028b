package jsonrpc

import (
	"errors"
	"fmt"
	"io"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// DefaultMaxMessageSize is the default limit on the size of one received
// message: 64 MiB.
const DefaultMaxMessageSize = 64 << 20

const (
	// minReadBuffer is the initial size of a reader's buffer (OVS reads
	// 4096 bytes at a time).
	minReadBuffer = 4096
	// shrinkAbove: a buffer larger than this is given back once the
	// messages it carries have become much smaller than it.
	shrinkAbove = 1 << 20
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
type reader struct {
	r     io.Reader
	name  string // for errors
	max   int    // maximum message size
	buf   []byte
	start int   // first byte of the pending message (or of unread data)
	end   int   // end of the data read so far
	inMsg bool  // buf[start] is the first byte of a message being scanned
	off   int64 // stream offset of buf[0]
	sc    ovsjson.Scanner

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
				rd.inMsg = true
				rd.sc.Reset()
			}
		}
		if rd.inMsg {
			msgStart := rd.off + int64(rd.start)
			end, err := rd.sc.Scan(rd.buf[rd.start:rd.end])
			if err != nil {
				se := err.(*ovsjson.SyntaxError)
				return nil, protocolError(rd.name, msgStart+int64(se.Off), "%s", se.Msg)
			}
			if end > 0 {
				raw := make([]byte, end)
				copy(raw, rd.buf[rd.start:rd.start+end])
				rd.start += end
				rd.inMsg = false
				m, err := messageFromSpans(raw, &rd.sc)
				if err != nil {
					return nil, protocolError(rd.name, -1, "invalid JSON-RPC message at byte %d: %s", msgStart, err.(*ovsjson.SyntaxError).Msg)
				}
				rd.maybeShrink(end)
				return m, nil
			}
			if rd.end-rd.start >= rd.max {
				return nil, fmt.Errorf("%w: %s: message at byte %d is larger than %d bytes",
					ErrMessageTooLarge, rd.name, msgStart, rd.max)
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

// fill reads more bytes, keeping the pending bytes (buf[start:end]) at no
// more than max.
func (rd *reader) fill() error {
	if rd.start == rd.end {
		rd.off += int64(rd.end)
		rd.start, rd.end = 0, 0
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
	nb := make([]byte, max(minReadBuffer, 2*pending))
	copy(nb, rd.buf[rd.start:rd.end])
	rd.off += int64(rd.start)
	rd.buf, rd.start, rd.end = nb, 0, pending
}
