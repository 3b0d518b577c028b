// Package jsonrpc is the transport of ovsdb-cs: JSON-RPC 1.0 over a byte
// stream ([Conn]) and a reconnecting session over several OVSDB remotes
// ([Session]) driven by the reconnect package, with the behaviour of Open
// vSwitch's lib/jsonrpc.c and lib/ovsdb-session.c.
//
// # Remotes
//
// [ParseRemotes] reads OVSDB remote lists such as
// "tcp:10.0.0.1:6641,ssl:[fd00::2]:6641,unix:/run/ovn/ovnnb_db.sock",
// splitting them where OVS does and taking out a "cid:UUID" cluster id.
//
// # Conn
//
// A [Conn] reads a stream of concatenated JSON values, one message at a
// time, with the module's incremental JSON scanner (internal/ovsjson, which
// monitor's parser and the fake server use too): the bytes of the message
// being read are validated as they arrive (full JSON grammar, UTF-8,
// nesting up to 1000) and the message's top-level members are located in
// the same pass. Member values stay raw JSON ([Message] fields are
// json.RawMessage), so integers keep all 64 bits and decoding costs nothing
// until the caller decodes what it needs. A message larger than the limit
// (ConnConfig.MaxMessageSize, 64 MiB by default) or malformed input closes
// the connection with an error wrapping [ErrMessageTooLarge] or
// [ErrProtocol] that says what was wrong and at which byte.
//
// A large reply need not be held whole: [Conn.ExpectResult] registers a
// [ResultDecoder] for the reply to a request sent with Send, and the
// reader hands that reply's result to it piece by piece as the bytes
// arrive (after validating them), keeping at most 64 KiB of it; the reply
// reaches Recv with the decoder's value in Message.Decoded. Decoding thus
// overlaps with the network, and a monitor's initial contents (megabytes
// of JSON) never sit in memory twice.
//
// # Goroutines and memory
//
// Each Conn runs two goroutines:
//
//   - the reader owns the read buffer and the scanner. It answers "echo"
//     requests at once (through the send backlog), hands replies to the
//     Call waiting for them, drops replies to the session's own probes,
//     and appends every other message to the receive queue. It never waits
//     for the consumer while the queue holds less than
//     ConnConfig.MaxQueuedBytes (64 MiB by default; one message is always
//     accepted into an empty queue). When the queue is full it stops
//     reading, so TCP flow control pushes back on the peer; while it is
//     stopped, echo requests are not answered either, and the peer's own
//     inactivity probe may end the connection. It resumes as soon as the
//     consumer takes a message. Memory per connection is therefore bounded
//     by the read buffer (at most one maximum-size message; 64 KiB while a
//     result goes to a ResultDecoder) plus the queue. Result decoders run
//     on this goroutine too.
//   - the writer owns the socket's write side and drains the send backlog
//     (messages are encoded by Send, in the caller's goroutine). Limits on
//     the backlog's messages and bytes (by default
//     [DefaultMaxBacklogMessages] and [DefaultMaxBacklogBytes]) close the
//     connection with [ErrBacklogExceeded].
//
// Both report activity (bytes received; queued output drained to the peer)
// on [Conn.Activity], which feeds the session's probe timer.
//
// A Session runs one more goroutine, its loop, which owns nothing but the
// waiting: the reconnect FSM, the remote list and the current connection
// are under the session's mutex, which the loop and the public methods
// hold briefly and never across I/O (the loop opens a passive listener and
// closes what it gives up only after releasing it). Dials (with their TLS handshakes) run
// on goroutines of their own, as does the accept loop of a passive
// session. [Session.Close] stops them all and waits for them, and for the
// connections' goroutines.
//
// # Session
//
// A [Session] walks its remotes round robin (shuffled unless
// SessionConfig.KeepOrder), moving to the next remote on every failed
// attempt and every teardown, with a first sweep free of backoff; it backs
// off 1 s, 2 s, 4 s, 8 s...; it sends {"method":"echo","params":[],
// "id":"echo"} after a probe interval of silence (not on unix sockets; a
// probe interval of 0 disables probes, as everywhere in this module) and
// drops the connection when that goes unanswered; and it counts any
// received byte, and any drained output, as activity. [Session.ResetBackoff]
// and [Session.ForceReconnect] implement OVS's zero-backoff sweep after a
// leader change; [Session.ConnectNow] and SessionConfig.Observer let a
// retry policy above the session see every attempt and decide when to try
// again.
//
// The owner reads an ordered event stream with [Session.Recv]: for each
// connection an [EventConnected], its messages, and an [EventDisconnected]
// with the reason. Events of two connections never interleave, and each
// event carries its [Conn], so that requests go to the connection the
// owner is looking at, or fail.
//
// # Logging
//
// Logs go to the logr.Logger in SessionConfig (or ConnConfig): V(0) for
// connections made, failed or dropped and the wait before the next
// attempt; V(1) for attempts, probes and the reconnect FSM's own messages;
// V(2) one line per message; V(4) message contents.
//
// # Usage
//
//	remotes, _, err := jsonrpc.ParseRemotes("tcp:127.0.0.1:6641,tcp:127.0.0.1:6643")
//	if err != nil {
//		return err
//	}
//	s, err := jsonrpc.NewSession(remotes, jsonrpc.SessionConfig{Logger: log})
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//	for {
//		ev, err := s.Recv(ctx)
//		if err != nil {
//			return err
//		}
//		switch ev.Kind {
//		case jsonrpc.EventConnected:
//			dbs, err := ev.Conn.Call(ctx, "list_dbs")
//			...
//		case jsonrpc.EventMessage:
//			... ev.Msg.Method, ev.Msg.Params ...
//		case jsonrpc.EventDisconnected:
//			... ev.Err ...
//		}
//	}
package jsonrpc
