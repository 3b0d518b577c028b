package testserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// wire is a tiny raw JSON-RPC client: it sends JSON text and reads the
// member's messages one by one, so tests can check exact wire shapes.
type wire struct {
	t       testing.TB
	conn    net.Conn
	dec     *json.Decoder
	next    int
	backlog []json.RawMessage
	// timeout bounds each read (fake time under synctest, wall time on
	// real sockets).
	timeout time.Duration
}

func newWire(t testing.TB, conn net.Conn) *wire {
	t.Helper()
	w := &wire{t: t, conn: conn, dec: json.NewDecoder(conn), timeout: 10 * time.Second}
	t.Cleanup(func() { conn.Close() })
	return w
}

// dialWire connects to member i through the cluster's dialer.
func dialWire(t testing.TB, c *Cluster, i int) *wire {
	t.Helper()
	conn, err := c.DialContext(context.Background(), "tcp", c.Member(i).Address())
	require.NoError(t, err)
	return newWire(t, conn)
}

func (w *wire) send(s string) {
	w.t.Helper()
	_, err := w.conn.Write([]byte(s))
	require.NoError(w.t, err)
}

// request sends a request and returns its id.
func (w *wire) request(method string, params ...any) int {
	w.t.Helper()
	w.next++
	if params == nil {
		params = []any{}
	}
	w.send(string(marshal(map[string]any{"id": w.next, "method": method, "params": params})))
	return w.next
}

// readRaw reads the next message, from the backlog first.
func (w *wire) readRaw() (json.RawMessage, error) {
	if len(w.backlog) > 0 {
		m := w.backlog[0]
		w.backlog = w.backlog[1:]
		return m, nil
	}
	if err := w.conn.SetReadDeadline(time.Now().Add(w.timeout)); err != nil {
		return nil, err
	}
	var m json.RawMessage
	err := w.dec.Decode(&m)
	return m, err
}

func (w *wire) read() json.RawMessage {
	w.t.Helper()
	m, err := w.readRaw()
	require.NoError(w.t, err, "reading from member")
	return m
}

// until reads messages until one with id; it returns that message and
// the messages read before it.
func (w *wire) until(id int) (json.RawMessage, []json.RawMessage) {
	w.t.Helper()
	var before []json.RawMessage
	for {
		m := w.read()
		var env struct {
			ID json.RawMessage `json:"id"`
		}
		require.NoError(w.t, json.Unmarshal(m, &env))
		if string(env.ID) == fmt.Sprint(id) {
			return m, before
		}
		before = append(before, m)
	}
}

// call sends a request and returns the reply message; notifications read
// before the reply are kept in the backlog.
func (w *wire) call(method string, params ...any) json.RawMessage {
	w.t.Helper()
	id := w.request(method, params...)
	reply, before := w.until(id)
	w.backlog = append(w.backlog, before...)
	return reply
}

// result calls and returns the "result" member, failing on an error reply.
func (w *wire) result(method string, params ...any) json.RawMessage {
	w.t.Helper()
	reply := w.call(method, params...)
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	require.NoError(w.t, json.Unmarshal(reply, &env))
	require.Equal(w.t, "null", string(env.Error), "error reply: %s", reply)
	return env.Result
}

// expectEOF reads until the connection ends; it fails on any message.
func (w *wire) expectEOF() {
	w.t.Helper()
	m, err := w.readRaw()
	require.Error(w.t, err, "expected EOF, got %s", m)
	var ne net.Error
	require.False(w.t, errors.As(err, &ne) && ne.Timeout(), "expected EOF, got a timeout")
}

// expectNothing checks that no message arrives within d.
func (w *wire) expectNothing(d time.Duration) {
	w.t.Helper()
	require.Empty(w.t, w.backlog)
	require.NoError(w.t, w.conn.SetReadDeadline(time.Now().Add(d)))
	var m json.RawMessage
	err := w.dec.Decode(&m)
	var ne net.Error
	require.True(w.t, errors.As(err, &ne) && ne.Timeout(), "expected nothing, got %s (%v)", m, err)
	// A decoder that hit a deadline cannot be reused.
	w.dec = json.NewDecoder(w.conn)
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// norm replaces every UUID with U, so shapes compare without them.
func norm(s string) string { return uuidRE.ReplaceAllString(s, "U") }

func jsonEq(t testing.TB, want string, got json.RawMessage) {
	t.Helper()
	require.JSONEq(t, want, string(got))
}

// field extracts one member of a JSON object.
func field(t testing.TB, raw json.RawMessage, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
	return m[name]
}

// params returns the params of a notification, checking its method.
func params(t testing.TB, raw json.RawMessage, method string) []json.RawMessage {
	t.Helper()
	var m struct {
		ID     json.RawMessage   `json:"id"`
		Method string            `json:"method"`
		Params []json.RawMessage `json:"params"`
	}
	require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
	require.Equal(t, method, m.Method, "%s", raw)
	require.Equal(t, "null", string(m.ID), "%s", raw)
	return m.Params
}

func labCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	c, err := NewCluster(n, LabSchema(), append([]Option{InMemory()}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func testSchema(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/test.ovsschema")
	require.NoError(t, err)
	return b
}

func insertItem(t testing.TB, c *Cluster, name string, n int) string {
	t.Helper()
	res, err := c.Transact(context.Background(), fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":%q,"n":%d,"data":"d"}}]`, name, n))
	require.NoError(t, err)
	var r struct {
		UUID []string `json:"uuid"`
	}
	require.NoError(t, json.Unmarshal(res[0], &r))
	return r.UUID[1]
}

func serverMonitor(w *wire) json.RawMessage {
	return w.result("monitor_cond", "_Server", []string{"monid", "_Server"},
		map[string]any{"Database": []any{map[string]any{
			"columns": []string{"name", "model", "connected", "leader", "schema", "cid", "sid", "index"},
			"where":   []any{[]any{"name", "==", "Lab"}},
		}}})
}

var rowKeyRE = regexp.MustCompile(`^(U\d*|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)

// normJSON makes JSON comparable without UUIDs: every UUID string becomes
// "U", and every object keyed by UUIDs (or by placeholders U, U1, U2...)
// becomes the sorted list of its normalized values.
func normJSON(t testing.TB, s string) string {
	t.Helper()
	v, err := jsonnum.Decode([]byte(s))
	if err != nil {
		t.Fatalf("bad JSON %s: %v", s, err)
	}
	return string(marshal(normValue(v)))
}

func normValue(v any) any {
	switch x := v.(type) {
	case string:
		return uuidRE.ReplaceAllString(x, "U")
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normValue(e)
		}
		return out
	case map[string]any:
		allRows := len(x) > 0
		for k := range x {
			if !rowKeyRE.MatchString(k) {
				allRows = false
			}
		}
		if allRows {
			var list []string
			for _, e := range x {
				list = append(list, string(marshal(normValue(e))))
			}
			sort.Strings(list)
			out := make([]any, len(list))
			for i, e := range list {
				out[i] = json.RawMessage(e)
			}
			return map[string]any{"rows": out}
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = normValue(e)
		}
		return out
	}
	return v
}
