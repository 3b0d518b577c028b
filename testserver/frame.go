package testserver

import (
	"bytes"
	"errors"
	"io"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// frameReader splits the byte stream a client sends into JSON-RPC
// messages, as ovsdb-server's jsonrpc_recv does: concatenated JSON objects
// with optional white space between them, each validated by the module's
// JSON scanner while it arrives.
type frameReader struct {
	r          io.Reader
	buf        []byte
	start, end int // buf[start:end] is read and not yet returned
	inMsg      bool
	sc         ovsjson.Scanner
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: r, buf: make([]byte, 4096), sc: ovsjson.NewMessageScanner()}
}

// next returns the next message and the scanner that validated it (valid
// until the next call). Errors: io.EOF between messages,
// io.ErrUnexpectedEOF in the middle of one, a *ovsjson.SyntaxError for
// input that is not a JSON-RPC message, or the read error.
func (f *frameReader) next() ([]byte, *ovsjson.Scanner, error) {
	for {
		if !f.inMsg {
			for f.start < f.end && ovsjson.IsSpace(f.buf[f.start]) {
				f.start++
			}
			if f.start < f.end {
				f.inMsg = true
				f.sc.Reset()
			}
		}
		if f.inMsg {
			n, err := f.sc.Scan(f.buf[f.start:f.end])
			if err != nil {
				return nil, nil, err
			}
			if n > 0 {
				raw := bytes.Clone(f.buf[f.start : f.start+n])
				f.start += n
				f.inMsg = false
				return raw, &f.sc, nil
			}
		}
		if err := f.fill(); err != nil {
			if errors.Is(err, io.EOF) && f.inMsg {
				err = io.ErrUnexpectedEOF
			}
			return nil, nil, err
		}
	}
}

// fill reads more bytes after the pending ones, moving them to the front
// of the buffer or growing it when it is full.
func (f *frameReader) fill() error {
	if f.start > 0 {
		f.end = copy(f.buf, f.buf[f.start:f.end])
		f.start = 0
	}
	if f.end == len(f.buf) {
		f.buf = append(f.buf, make([]byte, len(f.buf))...)
	}
	n, err := f.r.Read(f.buf[f.end:])
	f.end += n
	if n > 0 {
		return nil
	}
	return err
}
