package idl_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/ovn-org/libovsdb/model"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
)

// mirror rebuilds a table from handler calls alone, checking that each
// call fits what came before (an add of a new row, an update or delete
// whose old model is the row as last reported).
type mirror struct {
	t    *testing.T
	mu   sync.Mutex
	rows map[string]*nbdb.LogicalSwitchPort
	bad  []string
}

func (m *mirror) fail(format string, args ...any) {
	m.bad = append(m.bad, fmt.Sprintf(format, args...))
}

func (m *mirror) OnAdd(_ string, x model.Model) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := x.(*nbdb.LogicalSwitchPort)
	if _, ok := m.rows[p.UUID]; ok {
		m.fail("add of %s, which exists", p.Name)
	}
	m.rows[p.UUID] = p
}

func (m *mirror) OnUpdate(_ string, old, new model.Model) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, n := old.(*nbdb.LogicalSwitchPort), new.(*nbdb.LogicalSwitchPort)
	if cur, ok := m.rows[o.UUID]; !ok || !reflect.DeepEqual(cur, o) {
		m.fail("update of %s: old %+v, last reported %+v", o.Name, o, cur)
	}
	m.rows[n.UUID] = n
}

func (m *mirror) OnDelete(_ string, x model.Model) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := x.(*nbdb.LogicalSwitchPort)
	if cur, ok := m.rows[p.UUID]; !ok || !reflect.DeepEqual(cur, p) {
		m.fail("delete of %s: %+v, last reported %+v", p.Name, p, cur)
	}
	delete(m.rows, p.UUID)
}

// TestHandlersRebuildTheView: another client makes random changes while
// the typed client is forced to reconnect, to resync from scratch, and to
// follow leadership moves; after every step the rows rebuilt from the
// handler calls equal the view, and at the end the server's rows.
func TestHandlersRebuildTheView(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, nbModel(t), nbSchema(t))
				mir := &mirror{t: t, rows: map[string]*nbdb.LogicalSwitchPort{}}
				e.cl.AddEventHandler(mir, nbdb.LogicalSwitchPortTable)
				e.waitSynced()
				rng := rand.New(rand.NewPCG(seed, 7))
				ctx := context.Background()
				_, err := e.c.Transact(ctx, `[{"op":"insert","table":"Logical_Switch","row":{"name":"sw"}}]`)
				require.NoError(t, err)
				names := map[string]bool{}
				for step := range 80 {
					name := fmt.Sprintf("p%d", rng.IntN(12))
					var op string
					switch k := rng.IntN(10); {
					case k < 4 && !names[name]:
						// Ports are not a root table: a switch holds them.
						op = fmt.Sprintf(`{"op":"insert","table":"Logical_Switch_Port","uuid-name":"n","row":{"name":%q,"external_ids":["map",[["owner","o%d"]]]}},`+
							`{"op":"mutate","table":"Logical_Switch","where":[["name","==","sw"]],"mutations":[["ports","insert",["named-uuid","n"]]]}`, name, rng.IntN(3))
						names[name] = true
					case k < 7:
						op = fmt.Sprintf(`{"op":"update","table":"Logical_Switch_Port","where":[["name","==",%q]],"row":{"type":"t%d","addresses":["set",["a%d","b"]]}}`, name, rng.IntN(3), rng.IntN(3))
					case k < 9 && names[name]:
						// Dropped from the switch, the port is collected.
						e.waitFor("the port in the view", func() bool {
							got, _ := idl.Lookup(e.cl, &nbdb.LogicalSwitchPort{Name: name})
							return len(got) == 1
						})
						got, _ := idl.Lookup(e.cl, &nbdb.LogicalSwitchPort{Name: name})
						op = fmt.Sprintf(`{"op":"mutate","table":"Logical_Switch","where":[["name","==","sw"]],"mutations":[["ports","delete",["uuid",%q]]]}`, got[0].UUID)
						delete(names, name)
					case k == 9:
						op = fmt.Sprintf(`{"op":"mutate","table":"Logical_Switch_Port","where":[["name","==",%q]],"mutations":[["external_ids","insert",["map",[["k%d","v"]]]]]}`, name, step)
					}
					if op == "" {
						continue
					}
					_, err := e.c.Transact(ctx, "["+op+"]")
					require.NoError(t, err)
					switch rng.IntN(12) {
					case 0:
						e.cl.Core().FlagInconsistency()
					case 1:
						e.cl.Core().ForceReconnect()
					case 2:
						require.NoError(t, e.c.TransferLeadership((e.c.Leader()+1)%3))
					}
					e.waitFor("monitoring", func() bool { return e.cl.Core().State().String() == "MONITORING" })
					synctest.Wait()
					mir.mu.Lock()
					require.Empty(t, mir.bad, "step %d", step)
					got := map[string]*nbdb.LogicalSwitchPort{}
					for k, v := range mir.rows {
						got[k] = v
					}
					mir.mu.Unlock()
					view, err := idl.List[nbdb.LogicalSwitchPort](e.cl, nil)
					require.NoError(t, err)
					want := map[string]*nbdb.LogicalSwitchPort{}
					for _, p := range view {
						want[p.UUID] = p
					}
					require.Equal(t, want, got, "step %d", step)
				}
				snap := e.c.Snapshot()[nbdb.LogicalSwitchPortTable]
				n, err := idl.Count[nbdb.LogicalSwitchPort](e.cl)
				require.NoError(t, err)
				require.Equal(t, len(snap), n)
				require.Equal(t, len(names), n)
				t.Logf("%d ports at the end", n)
			})
		})
	}
}
