package cs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// A hostile or scripted server that writes exactly the bytes a test gives:
// the regression tests for what a real server cannot be made to send (a bad
// update and a good one in the same TCP write, an update for an unknown
// table, a row key twice in one update, the bare string "canceled", a
// server that answers echo and nothing else).

// rawReq is one request the raw server received.
type rawReq struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// param returns params[i] as a string, or "".
func (r rawReq) param(i int) string {
	var ps []json.RawMessage
	if json.Unmarshal(r.Params, &ps) != nil || i >= len(ps) {
		return ""
	}
	var s string
	_ = json.Unmarshal(ps[i], &s)
	return s
}

// rawServer serves the remotes of a test: handle returns the bytes to
// write, in one Write, for request req on the n-th connection (counted
// over all remotes from 0) to remote addr ("" writes nothing).
type rawServer struct {
	handle func(addr string, n int, req rawReq) string

	mu    sync.Mutex
	conns int
	wg    sync.WaitGroup
	live  []net.Conn
}

func (s *rawServer) dial(_ context.Context, _, addr string) (net.Conn, error) {
	client, server := net.Pipe()
	s.mu.Lock()
	n := s.conns
	s.conns++
	s.live = append(s.live, server)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer server.Close()
		dec := json.NewDecoder(bufio.NewReader(server))
		for {
			var req rawReq
			if err := dec.Decode(&req); err != nil {
				return
			}
			if out := s.handle(addr, n, req); out != "" {
				if _, err := server.Write([]byte(out)); err != nil {
					return
				}
			}
		}
	}()
	return client, nil
}

func (s *rawServer) close() {
	s.mu.Lock()
	for _, c := range s.live {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func reply(req rawReq, result string) string {
	return fmt.Sprintf(`{"id":%s,"result":%s,"error":null}`, req.ID, result)
}

// bootstrap answers the requests of a healthy leader; monitor answers the
// data monitor_cond_since (its lastID parameter given) with the bytes to
// write.
func bootstrap(req rawReq, monitor func(lastID string) string) string {
	switch req.Method {
	case "echo":
		return reply(req, string(req.Params))
	case "get_schema":
		if req.param(0) == "_Server" {
			return reply(req, serverSchema)
		}
		return reply(req, string(testserver.LabSchema()))
	case "monitor_cond":
		if req.param(0) == "_Server" {
			return reply(req, serverRow(true, 1))
		}
	case "set_db_change_aware":
		return reply(req, "{}")
	case "monitor_cond_since":
		return monitor(req.param(3))
	}
	return fmt.Sprintf(`{"id":%s,"result":null,"error":{"error":"not supported"}}`, req.ID)
}

const (
	rawR1 = "11111111-0000-0000-0000-000000000001"
	rawR2 = "11111111-0000-0000-0000-000000000002"
	rawR3 = "11111111-0000-0000-0000-000000000003"
	rawL1 = "eeeeeeee-0000-0000-0000-000000000001"
	rawL2 = "eeeeeeee-0000-0000-0000-000000000002"
	rawL3 = "eeeeeeee-0000-0000-0000-000000000003"
)

func itemRow(name string, n int) string { return fmt.Sprintf(`{"name":%q,"n":%d,"data":""}`, name, n) }

func update3(lastID, updates string) string {
	return fmt.Sprintf(`{"id":null,"method":"update3","params":[["monid","Lab"],%q,%s]}`, lastID, updates)
}

// rawClient runs a client against s inside the synctest bubble and
// records its events.
type rawClient struct {
	t      *testing.T
	cl     *Client
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	events []Event
}

func newRawClient(t *testing.T, s *rawServer, remotes string, opts ...Option) *rawClient {
	t.Helper()
	// The scripted server plays one connection of the state machine: the
	// session dials it (a failover policy), no leader watch.
	opts = append([]Option{WithDialer(s.dial), WithShuffle(false), pinFailover,
		WithLogger(testr.NewWithOptions(t, testr.Options{Verbosity: 1}))}, opts...)
	cl, err := New("Lab", remotes, opts...)
	if err != nil {
		t.Fatal(err)
	}
	rc := &rawClient{t: t, cl: cl, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	rc.cancel = cancel
	go func() { rc.done <- cl.Run(ctx) }()
	go func() {
		for ev := range cl.Events() {
			rc.mu.Lock()
			rc.events = append(rc.events, ev)
			rc.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-rc.done
		s.close()
	})
	return rc
}

func (rc *rawClient) waitFor(what string, limit time.Duration, cond func() bool) {
	rc.t.Helper()
	fakeWait(rc.t, rc.cl, what, limit, cond)
}

func (rc *rawClient) monitorReplies() []Update {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []Update
	for _, e := range rc.events {
		if u, ok := e.(Update); ok && u.MonitorReply {
			out = append(out, u)
		}
	}
	return out
}

// items returns name -> n from the client's replica.
func (rc *rawClient) items() map[string]int64 {
	out := map[string]int64{}
	rc.cl.Replica().View(func(tx monitor.ReadTx) {
		for _, row := range tx.Rows("Item") {
			a, _ := row.Get("name").Atom()
			out[a.Str()] = row.Get("n").Int()
		}
	})
	return out
}

// resyncScenario is the shape of items 1 and 2 of the integrity issue: on
// the first connection the server sends the monitor reply and, in the same
// write, bad (an update the client cannot apply) followed by good (a valid
// one carrying rawL3); on the next connection it answers a resume from
// rawL3 with nothing (what a real server would do) and anything else with
// the full truth. The client must not resume: its replica ends equal to
// truth, through a full resync.
func resyncScenario(t *testing.T, bad, good string, truth map[string]int64, truthRows string) {
	synctest.Test(t, func(t *testing.T) {
		var lastIDs []string
		var mu sync.Mutex
		s := &rawServer{}
		s.handle = func(_ string, n int, req rawReq) string {
			return bootstrap(req, func(lastID string) string {
				mu.Lock()
				lastIDs = append(lastIDs, lastID)
				mu.Unlock()
				if n == 0 {
					first := reply(req, fmt.Sprintf(`[false,%q,{"Item":{%q:{"initial":%s}}}]`, rawL1, rawR1, itemRow("a", 1)))
					return first + bad + good
				}
				if lastID == rawL3 {
					return reply(req, fmt.Sprintf(`[true,%q,{}]`, rawL3))
				}
				return reply(req, fmt.Sprintf(`[false,%q,%s]`, rawL3, truthRows))
			})
		}
		rc := newRawClient(t, s, "tcp:127.0.0.1:1")
		rc.waitFor("a second monitor reply", time.Minute, func() bool { return len(rc.monitorReplies()) >= 2 })
		rc.waitFor("MONITORING", time.Minute, func() bool { return rc.cl.State() == Monitoring })
		ups := rc.monitorReplies()
		if u := ups[1]; !u.Clear || u.Found {
			t.Fatalf("second monitor reply %+v: want a full resync (Clear, found=false)", u)
		}
		mu.Lock()
		if len(lastIDs) < 2 || lastIDs[1] != monitor.ZeroLastID {
			t.Fatalf("last ids sent %q: the second monitor_cond_since must ask for everything", lastIDs)
		}
		mu.Unlock()
		if got := rc.items(); !mapsEqual(got, truth) {
			t.Fatalf("replica %v, server %v", got, truth)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for _, e := range rc.events {
			if u, ok := e.(Update); ok && u.LastID == rawL3 && !u.MonitorReply {
				t.Fatalf("an update from the connection being left reached the events: %+v", u)
			}
		}
	})
}

func TestRawInsertOfExistingRowThenGoodUpdateInOneWrite(t *testing.T) {
	bad := update3(rawL2, fmt.Sprintf(`{"Item":{%q:{"insert":%s}}}`, rawR1, itemRow("a", 2)))
	good := update3(rawL3, fmt.Sprintf(`{"Item":{%q:{"insert":%s}}}`, rawR2, itemRow("b", 1)))
	resyncScenario(t, bad, good, map[string]int64{"a": 2, "b": 1},
		fmt.Sprintf(`{"Item":{%q:{"initial":%s},%q:{"initial":%s}}}`, rawR1, itemRow("a", 2), rawR2, itemRow("b", 1)))
}

func TestRawUpdateForUnknownTableThenGoodUpdateInOneWrite(t *testing.T) {
	bad := update3(rawL2, fmt.Sprintf(`{"Nope":{%q:{"insert":{}}},"Item":{%q:{"insert":%s}}}`, rawR3, rawR3, itemRow("c", 3)))
	good := update3(rawL3, fmt.Sprintf(`{"Item":{%q:{"insert":%s}}}`, rawR2, itemRow("b", 1)))
	resyncScenario(t, bad, good, map[string]int64{"a": 1, "b": 1, "c": 3},
		fmt.Sprintf(`{"Item":{%q:{"initial":%s},%q:{"initial":%s},%q:{"initial":%s}}}`,
			rawR1, itemRow("a", 1), rawR2, itemRow("b", 1), rawR3, itemRow("c", 3)))
}

// Item 2: the last id of an update that fails to apply (a row key twice)
// must not be recorded: a resume from it would skip its rows for good.
func TestRawDuplicateRowKeyInOneUpdateForcesFullResync(t *testing.T) {
	bad := update3(rawL3, fmt.Sprintf(`{"Item":{%q:{"insert":%s},%q:{"insert":%s}}}`, rawR3, itemRow("c", 3), rawR3, itemRow("c", 3)))
	resyncScenario(t, bad, "", map[string]int64{"a": 1, "c": 3},
		fmt.Sprintf(`{"Item":{%q:{"initial":%s},%q:{"initial":%s}}}`, rawR1, itemRow("a", 1), rawR3, itemRow("c", 3)))
}

// Item 3: ovsdb-server 3.1 answers a pending transaction with the bare JSON
// string "canceled"; the transaction may have committed.
func TestRawCanceledStringIsMaybeCommitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &rawServer{}
		s.handle = func(_ string, _ int, req rawReq) string {
			if req.Method == "transact" {
				return fmt.Sprintf(`{"id":%s,"result":null,"error":"canceled"}`, req.ID)
			}
			return bootstrap(req, func(string) string { return reply(req, fmt.Sprintf(`[false,%q,{}]`, rawL1)) })
		}
		rc := newRawClient(t, s, "tcp:127.0.0.1:1")
		if err := rc.cl.WaitMonitoring(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, err := rc.cl.TransactRaw(context.Background(), json.RawMessage(`[{"op":"comment","comment":"x"}]`))
		if !errors.Is(err, ErrCanceled) || !errors.Is(err, ErrMaybeCommitted) || errors.Is(err, ErrTryAgain) {
			t.Fatalf("err = %v, want ErrCanceled (maybe committed, not try-again)", err)
		}
		if st := rc.cl.Stats(); st.MaybeCommitted != 1 {
			t.Fatalf("Stats.MaybeCommitted = %d", st.MaybeCommitted)
		}
	})
}

// Item 4: a server that answers echo and nothing else is left after the
// request timeout (the default), and the healthy second member is used.
func TestRawServerAnsweringOnlyEchoIsLeftAfterTheRequestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const mute, healthy = "127.0.0.1:1", "127.0.0.1:2"
		s := &rawServer{}
		s.handle = func(addr string, _ int, req rawReq) string {
			if addr == mute {
				if req.Method == "echo" {
					return reply(req, string(req.Params))
				}
				return ""
			}
			return bootstrap(req, func(string) string { return reply(req, fmt.Sprintf(`[false,%q,{}]`, rawL1)) })
		}
		start := time.Now()
		rc := newRawClient(t, s, "tcp:"+mute+",tcp:"+healthy, WithProbeInterval(time.Second))
		rc.waitFor("MONITORING on the healthy member", 5*time.Minute, func() bool {
			st := rc.cl.Stats()
			return st.State == Monitoring && st.Remote == "tcp:"+healthy
		})
		if d := time.Since(start); d < DefaultRequestTimeout || d > DefaultRequestTimeout+10*time.Second {
			t.Fatalf("left the mute server after %v, want the request timeout (%v)", d, DefaultRequestTimeout)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for _, e := range rc.events {
			if r, ok := e.(Reconnect); ok {
				if !errors.Is(r.Reason, ErrRequestTimeout) || r.Remote != "tcp:"+mute {
					t.Fatalf("reconnect %+v, want the request timeout on the mute server", r)
				}
				return
			}
		}
		t.Fatal("no Reconnect event")
	})
}

const rowUUID = "aaaaaaaa-0000-0000-0000-000000000001"

// serverRow is a _Server monitor reply with the Lab database's row.
func serverRow(leaderFlag bool, index int) string {
	schema, _ := json.Marshal(string(testserver.LabSchema()))
	return fmt.Sprintf(`{"Database":{%q:{"initial":{"name":"Lab","model":"clustered","connected":true,"leader":%t,"schema":%s,"cid":["uuid","cccccccc-0000-0000-0000-000000000001"],"index":%d}}}}`,
		rowUUID, leaderFlag, schema, index)
}

// The monitor reply is parsed while it arrives when "id" comes before
// "result" (as ovsdb-server sends it), and from its bytes otherwise: both
// give the same replica and events, and a bad row in either is a malformed
// reply that leaves the server.
func TestRawMonitorReplyStreamedOrKept(t *testing.T) {
	rows := fmt.Sprintf(`{"Item":{%q:{"initial":%s},%q:{"initial":%s}}}`, rawR1, itemRow("a", 1), rawR2, itemRow("b", 2))
	badRows := fmt.Sprintf(`{"Item":{%q:{"initial":%s},%q:{"initial":{"name":"x","nope":1}}}}`, rawR1, itemRow("a", 1), rawR2)
	for _, tt := range []struct {
		name        string
		idFirst     bool
		firstIsBad  bool
		wantReplies int
	}{
		{"streamed", true, false, 1},
		{"kept", false, false, 1},
		{"streamed bad row", true, true, 1},
		{"kept bad row", false, true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &rawServer{}
				s.handle = func(_ string, n int, req rawReq) string {
					return bootstrap(req, func(string) string {
						body := rows
						if tt.firstIsBad && n == 0 {
							body = badRows
						}
						result := fmt.Sprintf(`[false,%q,%s]`, rawL1, body)
						if tt.idFirst {
							return reply(req, result)
						}
						return fmt.Sprintf(`{"result":%s,"error":null,"id":%s}`, result, req.ID)
					})
				}
				rc := newRawClient(t, s, "tcp:127.0.0.1:1")
				rc.waitFor("MONITORING", time.Minute, func() bool {
					return rc.cl.State() == Monitoring && len(rc.monitorReplies()) == tt.wantReplies
				})
				if got, want := rc.items(), map[string]int64{"a": 1, "b": 2}; !mapsEqual(got, want) {
					t.Fatalf("replica %v, want %v", got, want)
				}
				u := rc.monitorReplies()[0]
				if !u.Clear || u.Changes.Len() != 2 || u.LastID != rawL1 {
					t.Fatalf("monitor reply event %+v: want a full resync of 2 rows up to %s", u, rawL1)
				}
				rc.mu.Lock()
				defer rc.mu.Unlock()
				var malformed int
				for _, e := range rc.events {
					if r, ok := e.(Reconnect); ok && errors.Is(r.Reason, ErrMalformed) {
						malformed++
					}
				}
				if want := map[bool]int{false: 0, true: 1}[tt.firstIsBad]; malformed != want {
					t.Fatalf("%d reconnects for a malformed reply, want %d (events %v)", malformed, want, rc.events)
				}
			})
		})
	}
}
