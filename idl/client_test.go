package idl_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
)

func TestCreateReadIndexesHandlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nbModel(t), nbSchema(t))
		e.waitSynced()
		ctx := context.Background()
		cl := e.cl

		ls := &nbdb.LogicalSwitch{UUID: "ls", Name: "sw0", Ports: []string{"p1", "p2"}}
		p1 := &nbdb.LogicalSwitchPort{UUID: "p1", Name: "port1", Addresses: []string{"00:00:00:00:00:01"}, ExternalIDs: map[string]string{"owner": "ctl"}}
		p2 := &nbdb.LogicalSwitchPort{UUID: "p2", Name: "port2", ExternalIDs: map[string]string{"owner": "other"}}
		ops, err := cl.Create(p1, p2, ls)
		require.NoError(t, err)
		_, err = cl.Transact(ctx, ops...)
		require.NoError(t, err)
		// The view holds the inserted rows when Transact returns.
		n, err := idl.Count[nbdb.LogicalSwitchPort](cl)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		synctest.Wait()
		require.Equal(t, []string{"add ls:sw0", "add lsp:port1", "add lsp:port2"}, sorted(e.rec.take()))

		// Get by schema index, then by uuid.
		got := &nbdb.LogicalSwitchPort{Name: "port1"}
		require.NoError(t, cl.Get(ctx, got))
		require.Equal(t, []string{"00:00:00:00:00:01"}, got.Addresses)
		byUUID, err := idl.Get[nbdb.LogicalSwitchPort](cl, got.UUID)
		require.NoError(t, err)
		require.Equal(t, got, byUUID)
		// Results are copies.
		got.ExternalIDs["owner"] = "mangled"
		again, err := idl.Get[nbdb.LogicalSwitchPort](cl, got.UUID)
		require.NoError(t, err)
		require.Equal(t, "ctl", again.ExternalIDs["owner"])

		// Client index on a map key.
		owned, err := idl.Lookup(cl, &nbdb.LogicalSwitchPort{ExternalIDs: map[string]string{"owner": "ctl"}})
		require.NoError(t, err)
		require.Len(t, owned, 1)
		require.Equal(t, "port1", owned[0].Name)

		// Update chosen fields of the row an index designates.
		up := &nbdb.LogicalSwitchPort{Name: "port2", ExternalIDs: map[string]string{"owner": "ctl"}}
		ops, err = cl.Where(up).Update(up, &up.ExternalIDs)
		require.NoError(t, err)
		require.Len(t, ops, 1)
		require.IsType(t, ovsdb.OvsMap{}, ops[0].Row["external_ids"])
		_, err = cl.Transact(ctx, ops...)
		require.NoError(t, err)
		e.waitFor("index moved", func() bool {
			owned, _ := idl.Lookup(cl, &nbdb.LogicalSwitchPort{ExternalIDs: map[string]string{"owner": "ctl"}})
			return len(owned) == 2
		})
		require.Equal(t, []string{"update lsp:port2->lsp:port2"}, e.rec.take())

		// Mutate by predicate; delete by uuid.
		_, err = cl.WhereCache(func(p *nbdb.LogicalSwitchPort) bool { return p.Name == "port1" }).
			Mutate(&nbdb.LogicalSwitchPort{}, model.Mutation{Field: new(nbdb.LogicalSwitchPort).ExternalIDs, Mutator: ovsdb.MutateOperationInsert, Value: map[string]string{"k": "v"}})
		require.Error(t, err, "a field value, not a pointer into the model")
		mut := &nbdb.LogicalSwitchPort{}
		ops, err = cl.WhereCache(func(p *nbdb.LogicalSwitchPort) bool { return p.Name == "port1" }).
			Mutate(mut, model.Mutation{Field: &mut.ExternalIDs, Mutator: ovsdb.MutateOperationInsert, Value: map[string]string{"k": "v"}})
		require.NoError(t, err)
		require.Len(t, ops, 1)
		_, err = cl.Transact(ctx, ops...)
		require.NoError(t, err)

		var sws []nbdb.LogicalSwitch
		require.NoError(t, cl.List(ctx, &sws))
		require.Len(t, sws, 1)
		ops, err = cl.Where(&nbdb.LogicalSwitch{UUID: sws[0].UUID}).Delete()
		require.NoError(t, err)
		// The wait keeps its rows: no switch named sw0 may remain.
		_, err = cl.WhereAll(&nbdb.LogicalSwitch{}, model.Condition{Field: &sws[0].Name, Function: ovsdb.ConditionEqual, Value: "sw0"}).Wait(ovsdb.WaitConditionEqual, nil, nil)
		require.Error(t, err) // the model of the condition's field must be the one passed
		cond := &nbdb.LogicalSwitch{}
		wops, err := cl.WhereAll(cond, model.Condition{Field: &cond.Name, Function: ovsdb.ConditionEqual, Value: "sw0"}).Wait(ovsdb.WaitConditionEqual, nil, nil)
		require.NoError(t, err)
		raw, err := idl.MarshalOperations(wops)
		require.NoError(t, err)
		require.Contains(t, string(raw), `"rows":[]`)
		_, err = cl.Transact(ctx, append(ops, wops...)...)
		require.NoError(t, err)
		e.waitFor("switch gone", func() bool { n, _ := idl.Count[nbdb.LogicalSwitch](cl); return n == 0 })
		require.Contains(t, e.rec.take(), "delete ls:sw0")

		// Ports are gone too (no longer referenced, not root).
		e.waitFor("ports gone", func() bool { n, _ := idl.Count[nbdb.LogicalSwitchPort](cl); return n == 0 })
		owned, err = idl.Lookup(cl, &nbdb.LogicalSwitchPort{ExternalIDs: map[string]string{"owner": "ctl"}})
		require.NoError(t, err)
		require.Empty(t, owned)
	})
}

func TestEventFunc(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var states []string
		e := newEnv(t, nbModel(t), nbSchema(t), idl.WithEventFunc(func(ev cs.Event) {
			if sc, ok := ev.(cs.StateChange); ok {
				mu.Lock()
				states = append(states, sc.To.String())
				mu.Unlock()
			}
		}))
		e.waitSynced()
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		require.Contains(t, states, "MONITORING")
	})
}

func TestTransactFuncExactlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nbModel(t), nbSchema(t))
		e.waitSynced()
		ctx := context.Background()
		build := func(tx *idl.Tx) ([]ovsdb.Operation, error) {
			// Logical_Switch has no schema index: look for the name.
			found, err := idl.List(tx, func(ls *nbdb.LogicalSwitch) bool { return ls.Name == "once" })
			if err != nil || len(found) > 0 {
				return nil, err // done already
			}
			// Logical_Switch_Port has one on name: Get uses it.
			err = tx.Get(ctx, &nbdb.LogicalSwitchPort{Name: "once"})
			require.ErrorIs(t, err, idl.ErrNotFound)
			return tx.Create(&nbdb.LogicalSwitch{Name: "once"})
		}
		for range 3 {
			_, err := e.cl.TransactFunc(ctx, build)
			require.NoError(t, err)
		}
		// Read-your-writes: the view holds the transaction's rows when
		// TransactFunc returns.
		n, err := idl.Count[nbdb.LogicalSwitch](e.cl)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nbModel(t), nbSchema(t))
		e.waitSynced()
		require.Error(t, e.cl.Run(context.Background()))
	})
}
