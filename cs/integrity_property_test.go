package cs

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// The property: whatever the interleaving of server writes, updates held
// in the connection's queue, FlagInconsistency, forced reconnects,
// leadership moves (the machine leaving the server) and malformed or
// inconsistent updates, a corrupted server update with a good one queued
// behind it, once the faults stop the replica equals the
// server's data, in all three monitor versions.
func TestPropertyReplicaConvergesUnderFaults(t *testing.T) {
	const seeds, steps = 6, 60
	for version := 1; version <= 3; version++ {
		for seed := range uint64(seeds) {
			t.Run(fmt.Sprintf("v%d/seed%d", version, seed), func(t *testing.T) {
				scenario(t, func(t *testing.T) {
					propertyRun(t, version, seed, steps)
				})
			})
		}
	}
}

func propertyRun(t *testing.T, version int, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, uint64(version)))
	h := newHarness(t, 3, []testserver.Option{testserver.WithSeed(seed)}, WithMaxMonitorVersion(version), WithEventBuffer(1))
	// The event reader can pause: the client then stops taking messages
	// and they queue up behind the one being delivered.
	var paused atomic.Bool
	h.started = true
	go func() { h.done <- h.cl.Run(h.ctx) }()
	go func() {
		for range h.cl.Events() {
			for paused.Load() {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	h.waitMonitoring(0)
	var log []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("steps: %s", strings.Join(log, " "))
		}
	})
	names := []string{"a", "b", "c", "d", "e", "f"}
	badID := 0
	for step := range steps {
		k := rng.IntN(11)
		if step == steps-1 {
			k = 9 // end on the worst case
		}
		switch {
		case k < 4: // a write from elsewhere
			name := names[rng.IntN(len(names))]
			var ops string
			_, exists := h.serverItems()[name]
			switch {
			case !exists:
				ops = fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":%q,"n":%d}}]`, name, rng.IntN(100))
			case rng.IntN(3) == 0:
				ops = fmt.Sprintf(`[{"op":"delete","table":"Item","where":[["name","==",%q]]}]`, name)
			default:
				ops = fmt.Sprintf(`[{"op":"update","table":"Item","where":[["name","==",%q]],"row":{"n":%d}}]`, name, rng.IntN(100))
			}
			// Without a leader the write fails: that is fine.
			if _, err := h.c.Transact(t.Context(), ops); err == nil {
				log = append(log, "write")
			}
		case k == 4: // hold what the leader sends, so updates queue up
			l := h.c.Leader()
			if l >= 0 {
				_ = h.c.Member(l).SetFaults(testserver.Faults{ReplyDelay: time.Duration(rng.IntN(4)) * time.Millisecond})
				log = append(log, "hold")
			}
		case k == 5: // flag the replica with updates queued
			paused.Store(true)
			for i := range rng.IntN(4) {
				if _, err := h.c.Transact(t.Context(), fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":"q%d-%d","n":1}}]`, badID, i)); err == nil {
					log = append(log, "write")
				}
			}
			time.Sleep(time.Duration(rng.IntN(2)) * time.Millisecond)
			h.cl.FlagInconsistency()
			paused.Store(false)
			badID++
			log = append(log, "flag")
		case k == 6:
			h.cl.ForceReconnect()
			log = append(log, "force")
		case k == 7: // the machine leaves the server it monitors
			if l := h.c.Leader(); l >= 0 {
				if err := h.c.TransferLeadership((l + 1 + rng.IntN(2)) % 3); err == nil {
					log = append(log, "transfer")
				}
			}
		case k == 8: // a malformed or inconsistent update
			badID++
			msg := badUpdate(version, rng.IntN(4), badID)
			for i := range 3 {
				h.c.Member(i).Inject([]byte(msg))
			}
			log = append(log, "bad")
		case k == 9: // the server's own update arrives corrupted, a good one right behind it
			l := h.c.Leader()
			if l < 0 {
				break
			}
			// Only meaningful while the client monitors the leader.
			h.waitFor("MONITORING on the leader", time.Minute, h.monitoringOn(l))
			m := h.c.Member(l)
			paused.Store(true)
			_ = m.SetFaults(testserver.Faults{WrongTypes: true, ReplyDelay: time.Millisecond})
			if _, err := h.c.Transact(t.Context(), fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":"x%d","n":1}}]`, badID)); err == nil {
				log = append(log, "corrupt")
			}
			_ = m.SetFaults(testserver.Faults{ReplyDelay: time.Millisecond})
			if _, err := h.c.Transact(t.Context(), fmt.Sprintf(`[{"op":"insert","table":"Item","row":{"name":"y%d","n":1}}]`, badID)); err == nil {
				log = append(log, "write")
			}
			time.Sleep(2 * time.Millisecond)
			paused.Store(false)
			badID++
		default:
			log = append(log, "sleep")
		}
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
	}
	for i := range 3 {
		_ = h.c.Member(i).SetFaults(testserver.Faults{})
	}
	h.waitFor("the replica equal to the server", time.Minute, func() bool {
		return h.cl.State() == Monitoring && mapsEqual(h.replicaItems(), h.serverItems())
	})
}

// badUpdate returns an update notification the client cannot apply: for an
// unknown table, a modify of a row that does not exist, a row key twice,
// or params of the wrong type. None of them could be mistaken for a valid
// change.
func badUpdate(version, kind, n int) string {
	ghost := fmt.Sprintf("dddddddd-0000-0000-0000-%012d", n)
	var tu string
	switch kind {
	case 0:
		tu = fmt.Sprintf(`{"Nope":{%q:{"insert":{}}}}`, ghost)
		if version == 1 {
			tu = fmt.Sprintf(`{"Nope":{%q:{"new":{}}}}`, ghost)
		}
	case 1:
		tu = fmt.Sprintf(`{"Item":{%q:{"modify":{"n":1}}}}`, ghost)
		if version == 1 {
			tu = fmt.Sprintf(`{"Item":{%q:{"old":{"n":0},"new":{"n":1}}}}`, ghost)
		}
	case 2:
		row := `{"name":"dup","n":1}`
		op := "insert"
		if version == 1 {
			op = "new"
		}
		tu = fmt.Sprintf(`{"Item":{%q:{%q:%s},%q:{%q:%s}}}`, ghost, op, row, ghost, op, row)
	default:
		tu = `"oops"`
	}
	switch version {
	case 1:
		return fmt.Sprintf(`{"id":null,"method":"update","params":[["monid","Lab"],%s]}`, tu)
	case 2:
		return fmt.Sprintf(`{"id":null,"method":"update2","params":[["monid","Lab"],%s]}`, tu)
	}
	return fmt.Sprintf(`{"id":null,"method":"update3","params":[["monid","Lab"],"eeeeeeee-0000-0000-0000-%012d",%s]}`, n, tu)
}
