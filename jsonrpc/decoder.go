package jsonrpc

// A ResultDecoder consumes the result of one reply while it arrives, so that
// a large result (the initial contents of a monitor, megabytes of JSON) is
// never held whole: the connection's reader hands it the result's text piece
// by piece as it reads it, and decoding overlaps with the network. Register
// one for a request with [Conn.ExpectResult].
//
// The reader validates every byte before handing it on, exactly as it
// validates a message it keeps: what a decoder sees is part of a result that
// is well-formed JSON so far (strict grammar, valid UTF-8, nesting up to
// 1000). Should the rest of the message turn out malformed or invalid, the
// connection ends with the same error as for any message, and the decoder
// is dropped without a call to Finish; so it is when the connection ends
// (closed, lost) before the reply is complete. A decoder that holds
// resources must therefore not count on Finish to release them.
//
// A decoder's methods are called on the connection's reader goroutine, one
// at a time, while the consumer may be busy with earlier messages: a
// decoder builds state of its own and shares nothing with the consumer
// until its reply is delivered (to Recv) after Finish returned, which
// gives the receiver everything the decoder did. The reader reads nothing
// more while a call runs (echo requests go unanswered too), so a slow
// decoder pushes back on the peer as a full receive queue does; a decoder
// must never wait for the consumer. A panic in a decoder is not recovered.
type ResultDecoder interface {
	// Write is called with consecutive pieces of the result's JSON text,
	// in order, split anywhere (even inside a string or a number): their
	// concatenation is the result exactly as received, from its first
	// byte ('{' or '[') to its last. p is valid only during the call and
	// must not be modified. After Write returns an error no more Writes
	// come and Finish is not called: the reply is delivered with that
	// error as its DecodeErr.
	Write(p []byte) error
	// Finish is called once, after the result value and the rest of the
	// reply have been read and checked, if no Write failed. Its value is
	// the Message's Decoded, its error the Message's DecodeErr.
	Finish() (any, error)
}

// ExpectResult arranges for the result of the reply to request id (a
// request sent on this Conn with Send, whose "id" is the JSON number id) to
// be streamed through d as it arrives instead of being kept as bytes: the
// reply given to Recv then has Result nil and Decoded or DecodeErr set (see
// [Message]). Call it before sending the request. A nil d removes the
// registration.
//
// The reply's result is streamed only when the reply has its "id" member
// before its "result" member (as ovsdb-server writes replies:
// {"id":N,"result":...,"error":null}) and the result is an array or an
// object. Any other reply to id (an error reply, a null or scalar result,
// members in another order) is delivered as usual, with its raw Result,
// and d is never called.
//
// The registration applies to this connection only. It is dropped when a
// reply (or error reply) with that id arrives, whichever way it is
// delivered, and when the connection ends; registering after that does
// nothing. An id that is also waiting for a Call or Request is answered
// there, as bytes: the registration is ignored (and dropped).
//
// While a result is streamed the reader holds at most a read buffer's worth
// of it (64 KiB), whatever its size: ConnConfig.MaxMessageSize bounds what
// the reader holds at once, not the length of a streamed result. For
// receive-queue accounting (ConnConfig.MaxQueuedBytes) a decoded reply
// counts as its result's length in bytes, as if it were kept.
func (c *Conn) ExpectResult(id uint64, d ResultDecoder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if d == nil {
		delete(c.expect, id)
		return
	}
	if c.expect == nil {
		c.expect = make(map[uint64]ResultDecoder)
	}
	c.expect[id] = d
}

// decoderFor is the reader's question (reader.decoderFor): the decoder
// registered for the reply with the raw id, taken out of the registrations;
// nil when there is none or a Call waits for that id.
func (c *Conn) decoderFor(rawID []byte) ResultDecoder {
	id, ok := uintID(rawID)
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.expect[id]
	if d == nil {
		return nil
	}
	delete(c.expect, id)
	if c.pending[id] != nil {
		return nil
	}
	return d
}

// expected returns the number of registered result decoders (for tests).
func (c *Conn) expected() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.expect)
}
