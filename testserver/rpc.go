package testserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// This file is the server side of the JSON-RPC 1.0 codec: decoding the
// messages a client sends and encoding what a member sends back, in the
// shapes ovsdb-server 3.1 uses on the wire:
//
//	reply:        {"id":ID,"result":R,"error":null}
//	error reply:  {"id":ID,"error":E}                      (no "result" member)
//	notification: {"id":null,"method":"M","params":P}
//	request:      {"id":"echo","method":"echo","params":[]} (the server's probe)

// rpcMessage is one decoded client message.
type rpcMessage struct {
	Method string
	Params []json.RawMessage
	// ParamsRaw is the params array as received.
	ParamsRaw json.RawMessage
	ID        json.RawMessage // nil or "null" for notifications
	Result    json.RawMessage
	Error     json.RawMessage
}

// kind classifies a message as ovsdb-server does (lib/jsonrpc.c): a non-null
// result makes a reply, a non-null error an error reply, a non-null id a
// request, anything else a notification.
type msgKind int

const (
	kindRequest msgKind = iota
	kindNotification
	kindReply
	kindError
)

func isNull(r json.RawMessage) bool {
	return len(r) == 0 || string(bytes.TrimSpace(r)) == "null"
}

func (m *rpcMessage) kind() msgKind {
	switch {
	case !isNull(m.Result):
		return kindReply
	case !isNull(m.Error):
		return kindError
	case !isNull(m.ID):
		return kindRequest
	default:
		return kindNotification
	}
}

// errProtocol marks input that is not a valid JSON-RPC message; the member
// closes the connection on it, as ovsdb-server does (EPROTO).
var errProtocol = errors.New("testserver: invalid JSON-RPC message")

// parseMessage types one message that sc validated (a JSON object with
// JSON-RPC members only, each once) and checks its members.
func parseMessage(raw []byte, sc *ovsjson.Scanner) (*rpcMessage, error) {
	member := func(i int) json.RawMessage {
		sp := sc.Value(i)
		if sp.End == 0 {
			return nil
		}
		return raw[sp.Start:sp.End:sp.End]
	}
	m := &rpcMessage{
		ID:     member(ovsjson.MemberID),
		Result: member(ovsjson.MemberResult),
		Error:  member(ovsjson.MemberError),
	}
	method := member(ovsjson.MemberMethod)
	if method != nil {
		if err := json.Unmarshal(method, &m.Method); err != nil {
			return nil, fmt.Errorf("%w: method is not a string", errProtocol)
		}
	}
	if v := member(ovsjson.MemberParams); v != nil {
		m.ParamsRaw = v
		if err := json.Unmarshal(v, &m.Params); err != nil || m.Params == nil {
			return nil, fmt.Errorf("%w: params is not an array", errProtocol)
		}
	}
	switch m.kind() {
	case kindRequest, kindNotification:
		if method == nil {
			return nil, fmt.Errorf("%w: request without method", errProtocol)
		}
		if m.ParamsRaw == nil {
			return nil, fmt.Errorf("%w: request without params", errProtocol)
		}
	}
	return m, nil
}

// marshal encodes v without HTML escaping (ovsdb-server writes '<', '>' and
// '&' as they are) and without a trailing newline.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value built by this package is encodable; reaching this is a
		// programming error worth seeing at once in a test.
		panic(fmt.Sprintf("testserver: cannot encode %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// canonical re-encodes raw JSON with sorted object keys and no spaces, the
// way ovsdb-server prints the "syntax" member of its errors.
func canonical(raw json.RawMessage) string {
	v, err := jsonnum.Decode(raw)
	if err != nil {
		return string(raw)
	}
	return string(marshal(ovsNumbers(v)))
}

// ovsNumbers returns a copy of the decoded value v with every number
// spelled the way ovsdb-server prints it after reading it: integral values
// as integers (2.0 and 2e0 print as 2), other values as the shortest real.
func ovsNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, ok := jsonInteger(x); ok {
			return json.Number(strconv.FormatInt(i, 10))
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return realJSON(f)
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ovsNumbers(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = ovsNumbers(e)
		}
		return out
	}
	return v
}

func encodeReply(id, result json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	b.Write(id)
	b.WriteString(`,"result":`)
	b.Write(result)
	b.WriteString(`,"error":null}`)
	return b.Bytes()
}

func encodeError(id, errObj json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	b.Write(id)
	b.WriteString(`,"error":`)
	b.Write(errObj)
	b.WriteString(`}`)
	return b.Bytes()
}

func encodeNotify(method string, params json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":null,"method":`)
	b.Write(marshal(method))
	b.WriteString(`,"params":`)
	b.Write(params)
	b.WriteString(`}`)
	return b.Bytes()
}

// echoProbe is the inactivity probe ovsdb-server sends.
var echoProbe = []byte(`{"id":"echo","method":"echo","params":[]}`)

// ovsError is an OVSDB error object: {"error":tag,"details":...,"syntax":...}.
// It is used both for JSON-RPC error replies and for per-operation results.
type ovsError struct {
	Tag     string
	Details string
	// Syntax, when not empty, is the offending JSON text.
	Syntax string
}

func (e *ovsError) Error() string {
	if e.Details == "" {
		return e.Tag
	}
	return e.Tag + ": " + e.Details
}

// MarshalJSON writes the members in the order ovsdb-server 3.1 happens to use.
func (e *ovsError) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if e.Syntax != "" {
		b.WriteString(`"syntax":`)
		b.Write(marshal(e.Syntax))
		b.WriteByte(',')
	}
	if e.Details != "" {
		b.WriteString(`"details":`)
		b.Write(marshal(e.Details))
		b.WriteByte(',')
	}
	b.WriteString(`"error":`)
	b.Write(marshal(e.Tag))
	b.WriteByte('}')
	return b.Bytes(), nil
}

func newError(tag, format string, args ...any) *ovsError {
	return &ovsError{Tag: tag, Details: fmt.Sprintf(format, args...)}
}

func syntaxError(syntax any, format string, args ...any) *ovsError {
	e := &ovsError{Tag: "syntax error", Details: fmt.Sprintf(format, args...)}
	e.Syntax = syntaxText(syntax)
	return e
}

// syntaxText renders the offending JSON of a syntax error.
func syntaxText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case json.RawMessage:
		return canonical(x)
	case []json.RawMessage:
		return canonical(marshal(x))
	default:
		return string(marshal(ovsNumbers(x)))
	}
}

// withSyntax sets the syntax member of e and returns it.
func (e *ovsError) withSyntax(v any) *ovsError {
	e.Syntax = syntaxText(v)
	return e
}
