package monitor

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// condModelServer models what an ovsdb-server applies: the condition of each
// table, from the monitor request it answered and the changes it acked.
type condModelServer struct {
	conds map[string]string // table -> "where" JSON; absent means [true]
}

func (s *condModelServer) cond(table string) string {
	if w, ok := s.conds[table]; ok {
		return w
	}
	return "[true]"
}

// applyMonitor takes the conditions of a monitor request's params.
func (s *condModelServer) applyMonitor(t *testing.T, m Method, params []byte) {
	var p []json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil {
		t.Fatal(err)
	}
	s.conds = map[string]string{}
	if m == MethodMonitor {
		return // no conditions: every row
	}
	s.applyTables(t, p[2])
}

// applyChange takes the conditions of a monitor_cond_change's params.
func (s *condModelServer) applyChange(t *testing.T, params []byte) {
	var p []json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil {
		t.Fatal(err)
	}
	s.applyTables(t, p[2])
}

func (s *condModelServer) applyTables(t *testing.T, raw json.RawMessage) {
	var tables map[string][]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &tables); err != nil {
		t.Fatal(err)
	}
	for name, reqs := range tables {
		if w, ok := reqs[0]["where"]; ok {
			s.conds[name] = string(w)
		}
	}
}

type condPromise struct {
	where string
	seqno uint64
	step  int
}

// TestConditionsModel drives Conditions through random sequences of user
// calls, server replies, connection drops and fallbacks, against a model of
// the server, and checks the promise of Set: once Seqno reaches the number
// Set returned for the newest condition of a table, the server applies that
// condition; and once everything settles, every promise is kept.
func TestConditionsModel(t *testing.T) {
	tables := []string{"T", "U", "V"}
	conds := [][]ovsdb.Condition{nil, {}, cA, cB, cC}
	sel := []TableRequest{{Table: "T"}, {Table: "U"}}
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 42))
		c := NewConditions("db")
		var srv condModelServer
		srv.conds = map[string]string{}
		promises := map[string]condPromise{}
		var log []string

		const (
			down = iota
			monitorSent
			monitoring
			changeSent
		)
		state := down
		var sentMethod Method
		var sentParams []byte
		lastSeqno := uint64(0)
		inFlight := false // a change was sent and neither acked nor replaced by a new monitor
		nextID := 1

		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d: %s\nsteps:\n  %s\nstate: %s", seed, fmt.Sprintf(format, args...), strings.Join(log, "\n  "), condDescribe(c))
		}
		check := func(step int) {
			if c.Seqno() < lastSeqno {
				fail("seqno went down from %d to %d", lastSeqno, c.Seqno())
			}
			lastSeqno = c.Seqno()
			for table, p := range promises {
				if c.Seqno() >= p.seqno && srv.cond(table) != p.where {
					fail("step %d: seqno %d reached %d (set at step %d) but the server applies %s to %s, not %s",
						step, c.Seqno(), p.seqno, p.step, srv.cond(table), table, p.where)
				}
			}
			if c.InFlight() != inFlight {
				fail("InFlight %v, want %v", c.InFlight(), inFlight)
			}
		}
		reply := func(step int) {
			srv.applyMonitor(t, sentMethod, sentParams)
			id := fmt.Sprintf("%08x-0000-4000-8000-000000000000", nextID)
			nextID++
			if err := c.MonitorReplied(id); err != nil {
				fail("MonitorReplied: %v", err)
			}
			state = monitoring
			log = append(log, fmt.Sprintf("%d: reply", step))
		}
		start := func(step int, m Method) {
			p, err := c.StartMonitor(m, sel)
			if err != nil {
				fail("StartMonitor: %v", err)
			}
			sentMethod, sentParams, state = m, p, monitorSent
			inFlight = false
			log = append(log, fmt.Sprintf("%d: start %v %s", step, m, p))
		}
		compose := func(step int) bool {
			p, ok := c.ComposeChange()
			if ok {
				sentParams, state = p, changeSent
				inFlight = true
				log = append(log, fmt.Sprintf("%d: change %s", step, p))
			}
			return ok
		}
		ack := func(step int) {
			srv.applyChange(t, sentParams)
			if err := c.Ack(); err != nil {
				fail("Ack: %v", err)
			}
			state = monitoring
			inFlight = false
			log = append(log, fmt.Sprintf("%d: ack", step))
		}

		for step := range 40 {
			switch op := rng.IntN(10); {
			case op < 3:
				table := tables[rng.IntN(len(tables))]
				where := conds[rng.IntN(len(conds))]
				n, err := c.Set(table, where)
				if err != nil {
					fail("Set: %v", err)
				}
				enc, _ := condEncodeWhere(where)
				if p, ok := promises[table]; ok && p.where == string(enc) && p.seqno != n && c.Seqno() < p.seqno {
					fail("step %d: same condition gave %d, then %d", step, p.seqno, n)
				}
				if n < c.Seqno() {
					fail("Set returned %d below the seqno %d", n, c.Seqno())
				}
				promises[table] = condPromise{where: string(enc), seqno: n, step: step}
				log = append(log, fmt.Sprintf("%d: set %s %s -> %d", step, table, enc, n))
			case op == 3 && state == down:
				m := MethodMonitorCondSince
				if rng.IntN(5) == 0 {
					m = MethodMonitorCond
				}
				start(step, m)
			case op == 4 && state == monitorSent && sentMethod == MethodMonitorCondSince:
				start(step, MethodMonitorCond) // the server rejected it
			case op == 5 && state == monitorSent:
				reply(step)
			case op == 6 && state == monitoring:
				compose(step)
			case op == 7 && state == changeSent:
				ack(step)
			case op == 8 && state != down:
				state = down
				log = append(log, fmt.Sprintf("%d: drop", step))
			case op == 9:
				if state >= monitoring && rng.IntN(2) == 0 {
					id := fmt.Sprintf("%08x-0000-4000-8000-000000000000", nextID)
					nextID++
					if err := c.SetLastID(id); err != nil {
						fail("SetLastID: %v", err)
					}
					log = append(log, fmt.Sprintf("%d: update3", step))
				} else {
					c.ResetLastID()
					log = append(log, fmt.Sprintf("%d: reset-last-id", step))
				}
			}
			check(step)
		}

		// Settle: connect if needed, get the reply, send every change.
		if state == down {
			start(100, MethodMonitorCondSince)
		}
		if state == monitorSent {
			reply(101)
		}
		for i := 0; ; i++ {
			if state == changeSent {
				ack(102 + i)
			}
			if !compose(102 + i) {
				break
			}
			if i > 5 {
				fail("changes do not settle")
			}
		}
		check(200)
		if c.Pending() || c.InFlight() {
			fail("not settled")
		}
		for table, p := range promises {
			if c.Seqno() < p.seqno {
				fail("settled at seqno %d, but %s was promised %d (step %d)", c.Seqno(), table, p.seqno, p.step)
			}
			if srv.cond(table) != p.where {
				fail("settled, but the server applies %s to %s, not %s", srv.cond(table), table, p.where)
			}
		}
	}
}
