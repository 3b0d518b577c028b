package jsonrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// wireLog records the per-message log lines of a session (V(2)) so that a
// test can see echo requests and replies, which never reach the owner.
type wireLog struct {
	mu    sync.Mutex
	lines []string
}

func (w *wireLog) logger(t *testing.T) logr.Logger {
	return funcr.New(func(prefix, args string) {
		w.mu.Lock()
		w.lines = append(w.lines, args)
		w.mu.Unlock()
		if !strings.Contains(args, `"level"=2`) {
			t.Log(prefix, args)
		}
	}, funcr.Options{Verbosity: 2})
}

// count returns how many received messages were echo requests and echo
// replies.
func (w *wireLog) count() (requests, replies int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if !strings.Contains(l, `"msg"="message"`) || !strings.Contains(l, `"dir"="received"`) {
			continue
		}
		switch {
		case strings.Contains(l, `request method=\"echo\"`):
			requests++
		case strings.Contains(l, `reply id=\"echo\"`):
			replies++
		}
	}
	return requests, replies
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Against a real ovsdb-server (skipped when Open vSwitch is not installed,
// failed then if OVSDBCS_REQUIRE_OVSDB_SERVER=1): list_dbs, get_schema,
// and echo both ways.
func TestOvsdbServer(t *testing.T) {
	schema, err := os.ReadFile("testdata/echo.ovsschema")
	if err != nil {
		t.Fatal(err)
	}
	srv := ovsdbserver.StartStandalone(t, schema)

	t.Run("rpc", func(t *testing.T) {
		t.Parallel()
		for _, remote := range []string{srv.Remote(), srv.UnixRemote()} {
			r, err := ParseRemote(remote)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSession([]Remote{r}, SessionConfig{Logger: (&wireLog{}).logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ev := nextEvent(t, s, EventConnected)
			ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
			defer cancel()

			res, err := ev.Conn.Call(ctx, "list_dbs")
			var dbs []string
			if err != nil || json.Unmarshal(res, &dbs) != nil || !slices.Contains(dbs, "Echo") || !slices.Contains(dbs, "_Server") {
				t.Fatalf("%s list_dbs = %s, %v", remote, res, err)
			}
			res, err = ev.Conn.Call(ctx, "get_schema", "Echo")
			var got struct {
				Name, Version string
				Tables        map[string]json.RawMessage
			}
			if err != nil || json.Unmarshal(res, &got) != nil || got.Name != "Echo" || got.Version != "1.2.3" || got.Tables["Item"] == nil {
				t.Fatalf("%s get_schema = %s, %v", remote, res, err)
			}
			_, err = ev.Conn.Call(ctx, "get_schema", "Nope")
			var se *ServerError
			if !errors.As(err, &se) || se.Code() != "unknown database" {
				t.Fatalf("%s get_schema of a missing database: %v", remote, err)
			}
			res, err = ev.Conn.Call(ctx, "echo", "ping", json.Number("-9223372036854775808"))
			if err != nil || string(res) != `["ping",-9223372036854775808]` {
				t.Fatalf("%s echo = %s, %v", remote, res, err)
			}
		}
	})

	// ovsdb-server writes a reply's "id" before its "result": the initial
	// contents of a monitor go through a ResultDecoder, and decode to what
	// a Call of the same monitor returns.
	t.Run("streamed-result", func(t *testing.T) {
		t.Parallel()
		r, _ := ParseRemote(srv.Remote())
		s, err := NewSession([]Remote{r}, SessionConfig{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		conn := nextEvent(t, s, EventConnected).Conn
		ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
		defer cancel()
		ops := []any{"Echo"}
		for i := range 3000 {
			ops = append(ops, map[string]any{"op": "insert", "table": "Item", "row": map[string]any{
				"name": fmt.Sprintf("streamed-%05d-%s", i, strings.Repeat("x", 100)),
				"tags": []any{"set", []any{"a", "b"}},
			}})
		}
		if _, err := conn.Call(ctx, "transact", ops...); err != nil {
			t.Fatal(err)
		}
		monitor := func(id string) []any {
			return []any{"Echo", id, map[string]any{"Item": []any{map[string]any{"columns": []string{"name", "n", "tags"}}}}}
		}
		rec := newRecorder()
		conn.ExpectResult(1<<40, rec)
		req, err := NewRequest(uint64(1<<40), "monitor_cond", monitor("streamed")...)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Send(req); err != nil {
			t.Fatal(err)
		}
		kept, err := conn.Call(ctx, "monitor_cond", monitor("kept")...)
		if err != nil {
			t.Fatal(err)
		}
		m := nextEvent(t, s, EventMessage).Msg
		if !m.IsDecoded() || m.DecodeErr != nil || string(m.ID) != "1099511627776" || rec.bad != "" || rec.writes < 2 {
			t.Fatalf("%s: err %v, %d writes (%s)", m, m.DecodeErr, rec.writes, rec.bad)
		}
		var got, want map[string]map[string]any
		if err := json.Unmarshal([]byte(m.Decoded.(string)), &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(kept, &want); err != nil {
			t.Fatal(err)
		}
		if len(got["Item"]) < 3000 || !reflect.DeepEqual(got, want) {
			t.Fatalf("streamed %d rows, kept %d, or they differ", len(got["Item"]), len(want["Item"]))
		}
		if conn.expected() != 0 {
			t.Fatal("the registration stayed")
		}
	})

	// Our inactivity probe is answered by the server and the reply
	// swallowed.
	t.Run("our-probe", func(t *testing.T) {
		t.Parallel()
		r, _ := ParseRemote(srv.Remote())
		w := &wireLog{}
		s, err := NewSession([]Remote{r}, SessionConfig{Logger: w.logger(t), ProbeInterval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		nextEvent(t, s, EventConnected)
		waitFor(t, realTimeout, "two answered probes", func() bool { _, n := w.count(); return n >= 2 })
		if !s.IsConnected() || s.Seqno() != 1 {
			t.Errorf("connected %v seqno %d", s.IsConnected(), s.Seqno())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if ev, err := s.Recv(ctx); err == nil {
			t.Errorf("the owner saw %v %v", ev.Kind, ev.Msg)
		}
	})

	// ovsdb-server probes an idle tcp client every 5 s and drops it 5 s
	// later if it does not answer; a second probe means the first was
	// answered. Our own probes are off so that the server sees us idle.
	t.Run("server-probe", func(t *testing.T) {
		t.Parallel()
		r, _ := ParseRemote(srv.Remote())
		w := &wireLog{}
		s, err := NewSession([]Remote{r}, SessionConfig{Logger: w.logger(t), ProbeInterval: 0})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		nextEvent(t, s, EventConnected)
		waitFor(t, 15*time.Second, "two echo requests from ovsdb-server", func() bool { n, _ := w.count(); return n >= 2 })
		if !s.IsConnected() || s.Seqno() != 1 {
			t.Errorf("connected %v seqno %d: the server dropped us", s.IsConnected(), s.Seqno())
		}
	})
}
