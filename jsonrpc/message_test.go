package jsonrpc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestMessageWireForm(t *testing.T) {
	req, err := NewRequest(7, "transact", "OVN_Northbound", json.RawMessage(`{"op":"insert"}`))
	if err != nil {
		t.Fatal(err)
	}
	note, err := NewNotification("update", json.RawMessage(`null`), json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := NewReply(json.RawMessage(`7`), []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	errReply, err := NewErrorReply(json.RawMessage(`"x"`), map[string]string{"error": "unknown database"})
	if err != nil {
		t.Fatal(err)
	}
	noParams, err := NewRequest("id", "list_dbs")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		m    *Message
		want string
	}{
		{req, `{"method":"transact","params":["OVN_Northbound",{"op":"insert"}],"id":7}`},
		// As OVS writes them: a notification carries "id":null, a reply "error":null, an
		// error "result":null.
		{note, `{"method":"update","params":[null,{}],"id":null}`},
		{reply, `{"result":["a"],"error":null,"id":7}`},
		{errReply, `{"error":{"error":"unknown database"},"result":null,"id":"x"}`},
		{noParams, `{"method":"list_dbs","params":[],"id":"id"}`},
		{newEcho(), `{"method":"echo","params":[],"id":"echo"}`},
		{&Message{Kind: KindRequest, Method: "we\"ird\n", Params: jsonEmptyArray, ID: json.RawMessage("1")},
			`{"method":"we\"ird\n","params":[],"id":1}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.m)
		if err != nil {
			t.Fatalf("%v: %v", tt.m, err)
		}
		if string(b) != tt.want {
			t.Errorf("wire form\n got %s\nwant %s", b, tt.want)
		}
		var back Message
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("parse %s: %v", b, err)
		}
		b2, _ := json.Marshal(&back)
		if string(b2) != string(b) {
			t.Errorf("round trip\n got %s\nwant %s", b2, b)
		}
	}
}

func TestMessageValidateOnSend(t *testing.T) {
	tests := []struct {
		m    *Message
		want string
	}{
		{&Message{Kind: KindRequest, Method: "x", Params: json.RawMessage(`{}`), ID: json.RawMessage("1")}, `"params" must be JSON array`},
		{&Message{Kind: KindRequest, Method: "x", Params: jsonEmptyArray}, `request must have "id"`},
		{&Message{Kind: KindNotification, Method: "x"}, `notification must have "params"`},
		{&Message{Kind: KindReply, ID: json.RawMessage("1")}, `reply must have "result"`},
		{&Message{Kind: KindReply, Method: "x", Result: jsonEmptyArray, ID: json.RawMessage("1")}, `reply must not have "method"`},
		{&Message{Kind: KindError, Error: json.RawMessage("null"), ID: json.RawMessage("1")}, `error must have "error"`},
		{&Message{Kind: KindError, Error: json.RawMessage(`"e"`), Result: json.RawMessage(`1`), ID: json.RawMessage("1")}, `error must not have "result"`},
		{&Message{}, "invalid message kind 0"},
	}
	for _, tt := range tests {
		_, err := tt.m.MarshalJSON()
		if err == nil || !errors.Is(err, ErrInvalidMessage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want ErrInvalidMessage containing %q", tt.m, err, tt.want)
		}
	}
}

func TestMessageParse(t *testing.T) {
	tests := []struct {
		in      string
		kind    Kind
		method  string
		id      string
		wantErr string
	}{
		{in: `{"method":"echo","params":[],"id":"echo"}`, kind: KindRequest, method: "echo", id: `"echo"`},
		{in: ` {"id":null,"method":"update2","params":["x",{}]} `, kind: KindNotification, method: "update2"},
		{in: `{"method":"update2","params":["x",{}]}`, kind: KindNotification, method: "update2"},
		{in: `{"result":{"a":1},"error":null,"id":18446744073709551615}`, kind: KindReply, id: "18446744073709551615"},
		{in: `{"error":"boom","result":null,"id":3}`, kind: KindError, id: "3"},
		{in: `{"error":{"error":"x","details":"y"},"id":[1,2]}`, kind: KindError, id: "[1,2]"},
		// Escaped key and method.
		{in: `{"m\u0065thod":"a\u00e9","params":[],"id":1}`, kind: KindRequest, method: "aé", id: "1"},
		{in: `{"method":"","params":[],"id":1}`, kind: KindRequest, id: "1"},

		{in: `[1]`, wantErr: "message is not a JSON object"},
		{in: `"x"`, wantErr: "message is not a JSON object"},
		{in: `{"method":1,"params":[],"id":1}`, wantErr: "method is not a JSON string"},
		{in: `{"method":"x","params":{},"id":1}`, wantErr: `"params" must be JSON array`},
		{in: `{"method":"x","params":[],"id":1,"extra":2}`, wantErr: `message has unexpected member "extra"`},
		{in: `{"method":"x","params":[],"id":1,"id":2}`, wantErr: `message has duplicate member "id"`},
		{in: `{"method":"x","id":1}`, wantErr: `request must have "params"`},
		{in: `{"params":[],"id":1}`, wantErr: `request must have "method"`},
		{in: `{"result":1}`, wantErr: `reply must have "id"`},
		{in: `{"result":1,"id":1,"method":"x"}`, wantErr: `reply must not have "method"`},
		{in: `{"result":1,"id":1,"params":[]}`, wantErr: `reply must not have "params"`},
		{in: `{"result":1,"error":2,"id":1}`, wantErr: `reply must not have "error"`},
		{in: `{}`, wantErr: `notification must have "method"`},
		{in: `{"method":"x","params":[]} x`, wantErr: "data after the message"},
		{in: `{"method":"x","params":[`, wantErr: "unexpected end"},
	}
	for _, tt := range tests {
		var m Message
		err := m.UnmarshalJSON([]byte(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.in, err, tt.wantErr)
			} else if !errors.Is(err, ErrProtocol) {
				t.Errorf("%s: error %v does not wrap ErrProtocol", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if m.Kind != tt.kind || m.Method != tt.method || string(m.ID) != tt.id {
			t.Errorf("%s: got kind=%v method=%q id=%s, want %v %q %s", tt.in, m.Kind, m.Method, m.ID, tt.kind, tt.method, tt.id)
		}
	}
}

// Integers keep all 64 bits: ids and results are raw bytes.
func TestMessageKeepsIntegers(t *testing.T) {
	const in = `{"result":[9007199254740993,-9223372036854775808,18446744073709551615,1e400],"error":null,"id":9007199254740993}`
	var m Message
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if string(m.ID) != "9007199254740993" {
		t.Errorf("id = %s", m.ID)
	}
	var ints []json.Number
	if err := m.UnmarshalResult(&ints); err != nil {
		t.Fatal(err)
	}
	if ints[0] != "9007199254740993" || ints[2] != "18446744073709551615" {
		t.Errorf("result = %v", ints)
	}
	out, _ := json.Marshal(&m)
	if string(out) != in {
		t.Errorf("re-encoded\n got %s\nwant %s", out, in)
	}
}

func TestServerError(t *testing.T) {
	e := &ServerError{Method: "transact", Value: json.RawMessage(`{"error":"not owner","details":"locked"}`)}
	if e.Code() != "not owner" || e.Details() != "locked" {
		t.Errorf("code %q details %q", e.Code(), e.Details())
	}
	if got := e.Error(); got != "jsonrpc: transact: server error: not owner: locked" {
		t.Errorf("Error() = %q", got)
	}
	e = &ServerError{Method: "m", Value: json.RawMessage(`"plain"`)}
	if got := e.Error(); got != `jsonrpc: m: server error: "plain"` {
		t.Errorf("Error() = %q", got)
	}
}
