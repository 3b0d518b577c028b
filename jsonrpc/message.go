package jsonrpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// Kind is the type of a JSON-RPC 1.0 message.
type Kind uint8

// The four kinds of JSON-RPC message (jsonrpc_msg_from_json in
// lib/jsonrpc.c). A received message's kind comes
// from its members: a non-null "result" makes a reply, else a non-null
// "error" an error, else a non-null "id" a request, else a notification.
const (
	KindRequest      Kind = iota + 1 // "method", "params" and "id"
	KindNotification                 // "method" and "params", "id" null
	KindReply                        // "result" and "id", "error" null
	KindError                        // "error" and "id", "result" null
)

var kindNames = [...]string{
	KindRequest:      "request",
	KindNotification: "notification",
	KindReply:        "reply",
	KindError:        "error",
}

// String returns "request", "notification", "reply" or "error".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is one JSON-RPC 1.0 message. Only the members its Kind uses are
// set; the others are nil. Member values are kept as the raw JSON bytes
// received (or to be sent), so numbers keep every digit (no float64 round
// trip) and decoding is left to the caller, who knows the types: use
// [Message.UnmarshalParams], [Message.UnmarshalResult] or encoding/json
// directly.
//
// A received Message owns its bytes; it stays valid after the connection
// is gone.
//
// A reply whose result went through a [ResultDecoder] (see
// [Conn.ExpectResult]) has Kind KindReply and its ID, but no Result: it
// carries the decoder's outcome in Decoded or DecodeErr instead. Such a
// message can be inspected, logged and validated, not sent.
type Message struct {
	Kind   Kind
	Method string          // request, notification
	Params json.RawMessage // request, notification: a JSON array
	Result json.RawMessage // reply
	Error  json.RawMessage // error: any JSON value except null
	ID     json.RawMessage // request, reply, error: any JSON value except null

	// Decoded is, for a reply whose result went through a ResultDecoder
	// (Conn.ExpectResult), the value the decoder's Finish returned; Result
	// is then nil.
	Decoded any
	// DecodeErr is the error of the decoder's Write or Finish for such a
	// reply (Decoded and Result are then nil). The message is otherwise
	// valid: the result was well-formed JSON, and the connection goes on.
	DecodeErr error

	// decodedLen is the length in bytes of the result that went through a
	// ResultDecoder; 0 for every other message.
	decodedLen int
}

// IsDecoded reports whether m is a reply whose result went through a
// ResultDecoder: Decoded or DecodeErr holds the outcome, Result is nil.
func (m *Message) IsDecoded() bool { return m.decodedLen > 0 }

// Well-known raw values.
var (
	jsonNull       = []byte("null")
	jsonEmptyArray = json.RawMessage("[]")
	echoID         = json.RawMessage(`"echo"`)
)

// marshalParams encodes params as a JSON array: nothing gives [], one
// json.RawMessage that is already an array is used as is, anything else is
// encoded as the array of the values.
func marshalParams(params []any) (json.RawMessage, error) {
	if len(params) == 0 {
		return jsonEmptyArray, nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("%w: params: %w", ErrInvalidMessage, err)
	}
	return b, nil
}

func marshalValue(what string, v any) (json.RawMessage, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidMessage, what, err)
	}
	return b, nil
}

// NewRequest returns a request with the given id and method; params are
// encoded as a JSON array (no params give []). id may be a
// json.RawMessage or any value encoding/json can encode; it must not be
// nil.
func NewRequest(id any, method string, params ...any) (*Message, error) {
	p, err := marshalParams(params)
	if err != nil {
		return nil, err
	}
	rid, err := marshalValue("id", id)
	if err != nil {
		return nil, err
	}
	m := &Message{Kind: KindRequest, Method: method, Params: p, ID: rid}
	return m, m.Validate()
}

// NewNotification returns a notification (a request without an id).
func NewNotification(method string, params ...any) (*Message, error) {
	p, err := marshalParams(params)
	if err != nil {
		return nil, err
	}
	m := &Message{Kind: KindNotification, Method: method, Params: p}
	return m, m.Validate()
}

// NewReply returns a successful reply to the request with id. result may
// be a json.RawMessage or any value encoding/json can encode.
func NewReply(id json.RawMessage, result any) (*Message, error) {
	r, err := marshalValue("result", result)
	if err != nil {
		return nil, err
	}
	m := &Message{Kind: KindReply, Result: r, ID: id}
	return m, m.Validate()
}

// NewErrorReply returns an error reply to the request with id. errValue
// may be a json.RawMessage or any value encoding/json can encode, except
// null; ovsdb-server sends {"error": code, "details": text}.
func NewErrorReply(id json.RawMessage, errValue any) (*Message, error) {
	e, err := marshalValue("error", errValue)
	if err != nil {
		return nil, err
	}
	m := &Message{Kind: KindError, Error: e, ID: id}
	return m, m.Validate()
}

// newEcho returns the inactivity probe OVS sends (jsonrpc_session_run):
// {"method":"echo","params":[],"id":"echo"}.
func newEcho() *Message {
	return &Message{Kind: KindRequest, Method: "echo", Params: jsonEmptyArray, ID: echoID}
}

// isNull reports whether raw is absent or the JSON null.
func isNull(raw []byte) bool {
	return len(raw) == 0 || bytes.Equal(raw, jsonNull)
}

// Validate checks that m has exactly the members its Kind requires
// (jsonrpc_msg_is_valid),
// that Params is a JSON array and that no present member is the JSON null.
// It does not check that raw members are well-formed JSON.
func (m *Message) Validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrInvalidMessage)
	}
	hasMethod := m.Method != "" || m.Kind == KindRequest || m.Kind == KindNotification
	if msg := m.invalid(hasMethod); msg != "" {
		return fmt.Errorf("%w: %s", ErrInvalidMessage, msg)
	}
	return nil
}

// invalid returns why m is not a valid message of its kind, or "" (OVS:
// jsonrpc_msg_is_valid). hasMethod says whether a "method" member is
// present (an empty method name is still a method).
func (m *Message) invalid(hasMethod bool) string {
	var want [ovsjson.NumMembers]bool // which members the kind requires
	switch m.Kind {
	case KindRequest:
		want = [ovsjson.NumMembers]bool{ovsjson.MemberMethod: true, ovsjson.MemberParams: true, ovsjson.MemberID: true}
	case KindNotification:
		want = [ovsjson.NumMembers]bool{ovsjson.MemberMethod: true, ovsjson.MemberParams: true}
	case KindReply:
		want = [ovsjson.NumMembers]bool{ovsjson.MemberResult: true, ovsjson.MemberID: true}
	case KindError:
		want = [ovsjson.NumMembers]bool{ovsjson.MemberError: true, ovsjson.MemberID: true}
	default:
		return fmt.Sprintf("invalid message kind %d", m.Kind)
	}
	if len(m.Params) > 0 && firstByte(m.Params) != '[' {
		return `"params" must be JSON array`
	}
	have := [ovsjson.NumMembers]bool{
		ovsjson.MemberMethod: hasMethod,
		ovsjson.MemberParams: !isNull(m.Params),
		ovsjson.MemberResult: !isNull(m.Result) || m.decodedLen > 0,
		ovsjson.MemberError:  !isNull(m.Error),
		ovsjson.MemberID:     !isNull(m.ID),
	}
	for i := range ovsjson.NumMembers {
		if have[i] != want[i] {
			not := ""
			if !want[i] {
				not = " not"
			}
			return fmt.Sprintf("%s must%s have %q", m.Kind, not, ovsjson.MemberName(i))
		}
	}
	return ""
}

// firstByte returns the first non-whitespace byte of raw, or 0.
func firstByte(raw []byte) byte {
	for _, c := range raw {
		if !ovsjson.IsSpace(c) {
			return c
		}
	}
	return 0
}

// AppendJSON appends the wire form of m to dst (as jsonrpc_msg_to_json
// writes it): a request is
// {"method","params","id"}, a notification {"method","params","id":null},
// a reply {"result","error":null,"id"}, an error {"error","result":null,"id"}.
// Raw members are written as they are.
//
// A reply whose result went through a ResultDecoder has no result to write:
// AppendJSON fails with ErrInvalidMessage.
func (m *Message) AppendJSON(dst []byte) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return dst, err
	}
	if m.decodedLen > 0 {
		return dst, fmt.Errorf("%w: the reply's result went through a decoder and was not kept", ErrInvalidMessage)
	}
	switch m.Kind {
	case KindRequest, KindNotification:
		dst = append(dst, `{"method":`...)
		dst = appendString(dst, m.Method)
		dst = append(dst, `,"params":`...)
		dst = append(dst, m.Params...)
		dst = append(dst, `,"id":`...)
		if m.Kind == KindRequest {
			dst = append(dst, m.ID...)
		} else {
			dst = append(dst, jsonNull...)
		}
	case KindReply:
		dst = append(dst, `{"result":`...)
		dst = append(dst, m.Result...)
		dst = append(dst, `,"error":null,"id":`...)
		dst = append(dst, m.ID...)
	case KindError:
		dst = append(dst, `{"error":`...)
		dst = append(dst, m.Error...)
		dst = append(dst, `,"result":null,"id":`...)
		dst = append(dst, m.ID...)
	}
	return append(dst, '}'), nil
}

// MarshalJSON returns the wire form of m; see [Message.AppendJSON].
func (m *Message) MarshalJSON() ([]byte, error) {
	return m.AppendJSON(nil)
}

// UnmarshalJSON parses one JSON-RPC message, validated as a received
// message is (jsonrpc_msg_from_json). Errors wrap [ErrProtocol].
func (m *Message) UnmarshalJSON(data []byte) error {
	data = bytes.TrimLeft(data, " \t\r\n")
	s := ovsjson.NewMessageScanner()
	end, err := s.Scan(data)
	if err != nil {
		se := err.(*ovsjson.SyntaxError)
		return protocolError("", int64(se.Off), "%s", se.Msg)
	}
	if end == 0 {
		return protocolError("", int64(len(data)), "unexpected end of JSON input")
	}
	if len(bytes.TrimLeft(data[end:], " \t\r\n")) != 0 {
		return protocolError("", int64(end), "data after the message")
	}
	raw := bytes.Clone(data[:end])
	parsed, err := messageFromSpans(msgBytes{head: raw}, &s)
	if err != nil {
		return protocolError("", -1, "%s", err.(*ovsjson.SyntaxError).Msg)
	}
	*m = *parsed
	return nil
}

// msgBytes holds a received message's bytes, which the Message built from
// them keeps. Whole (head only), or, for a reply whose result went through
// a ResultDecoder, the bytes before the result (head, from the message's
// first byte) and those after it (tail, from the message's byte tailOff);
// decoded is then the result's length.
type msgBytes struct {
	head    []byte
	tail    []byte
	tailOff int
	decoded int
}

// span returns the bytes of a member's value, which lies wholly in head or
// in tail (the result of a decoded reply lies in neither: nil).
func (b msgBytes) span(sp ovsjson.Span) []byte {
	switch {
	case sp.End <= len(b.head):
		return b.head[sp.Start:sp.End:sp.End]
	case sp.Start >= b.tailOff && b.tail != nil:
		return b.tail[sp.Start-b.tailOff : sp.End-b.tailOff : sp.End-b.tailOff]
	}
	return nil
}

// messageFromSpans builds a Message from a complete message's bytes (which
// it keeps) and the scanner that validated them, checking it as OVS's
// jsonrpc_msg_from_json does. The error is a *ovsjson.SyntaxError.
func messageFromSpans(raw msgBytes, s *ovsjson.Scanner) (*Message, error) {
	get := func(i int) json.RawMessage {
		sp := s.Value(i)
		if sp.End == 0 {
			return nil
		}
		v := raw.span(sp)
		if bytes.Equal(v, jsonNull) {
			return nil
		}
		return v
	}
	m := &Message{
		Params:     get(ovsjson.MemberParams),
		Result:     get(ovsjson.MemberResult),
		Error:      get(ovsjson.MemberError),
		ID:         get(ovsjson.MemberID),
		decodedLen: raw.decoded,
	}
	if sp := s.Value(ovsjson.MemberMethod); sp.End != 0 {
		v := raw.span(sp)
		if v[0] != '"' {
			return nil, &ovsjson.SyntaxError{Off: sp.Start, Msg: "method is not a JSON string"}
		}
		m.Method = methodName(v)
		if m.Method == "" && len(v) > 2 {
			if err := json.Unmarshal(v, &m.Method); err != nil {
				return nil, &ovsjson.SyntaxError{Off: sp.Start, Msg: "invalid method string"}
			}
		}
	}
	switch {
	case m.Result != nil || m.decodedLen > 0:
		m.Kind = KindReply
	case m.Error != nil:
		m.Kind = KindError
	case m.ID != nil:
		m.Kind = KindRequest
	default:
		m.Kind = KindNotification
	}
	if msg := m.invalid(s.Value(ovsjson.MemberMethod).End != 0); msg != "" {
		return nil, &ovsjson.SyntaxError{Off: -1, Msg: msg}
	}
	return m, nil
}

// methodName returns the method named by the JSON string v without
// allocating for the methods OVSDB uses; "" when v has escapes (the
// caller decodes it then).
func methodName(v []byte) string {
	body := v[1 : len(v)-1]
	if bytes.IndexByte(body, '\\') >= 0 {
		return ""
	}
	switch string(body) {
	case "echo":
		return "echo"
	case "update":
		return "update"
	case "update2":
		return "update2"
	case "update3":
		return "update3"
	case "locked":
		return "locked"
	case "stolen":
		return "stolen"
	case "monitor_canceled":
		return "monitor_canceled"
	case "transact":
		return "transact"
	}
	return string(body)
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !ovsjson.IsPlain(s[i]) {
			b, _ := json.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// IsEcho reports whether m is an "echo" request (an inactivity probe).
func (m *Message) IsEcho() bool {
	return m.Kind == KindRequest && m.Method == "echo"
}

// UnmarshalParams decodes the params array into v (for example a
// *[]json.RawMessage, or a pointer to a slice or struct array).
func (m *Message) UnmarshalParams(v any) error {
	if m.Params == nil {
		return fmt.Errorf("jsonrpc: %s has no params", m.Kind)
	}
	return json.Unmarshal(m.Params, v)
}

// UnmarshalResult decodes the result of a reply into v.
func (m *Message) UnmarshalResult(v any) error {
	if m.Result == nil {
		return fmt.Errorf("jsonrpc: %s has no result", m.Kind)
	}
	return json.Unmarshal(m.Result, v)
}

// String returns a short description for logs: the kind, method and id,
// and the size of the other members, never their contents.
func (m *Message) String() string {
	var b []byte
	b = append(b, m.Kind.String()...)
	if m.Method != "" {
		b = append(b, " method="...)
		b = strconv.AppendQuote(b, m.Method)
	}
	if m.ID != nil {
		b = append(b, " id="...)
		b = append(b, ovsjson.Truncate(string(m.ID), 40)...)
	}
	for _, f := range []struct {
		name string
		v    []byte
	}{{"params", m.Params}, {"result", m.Result}, {"error", m.Error}} {
		if f.v != nil {
			b = fmt.Appendf(b, " %s=%dB", f.name, len(f.v))
		}
	}
	if m.decodedLen > 0 {
		what := "decoded"
		if m.DecodeErr != nil {
			what = "decode error"
		}
		b = fmt.Appendf(b, " result=<%s, %d bytes>", what, m.decodedLen)
	}
	return string(b)
}

// uintID returns the value of an id that is a non-negative JSON integer
// (the ids this package generates), and whether it is one.
func uintID(raw []byte) (uint64, bool) {
	if len(raw) == 0 || len(raw) > 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(raw), 10, 64)
	return v, err == nil
}
