package idl_test

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"

	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
)

// populate creates a switch with two ports through the typed client.
func populate(t *testing.T, e *env) {
	t.Helper()
	ops, err := e.cl.Create(
		&nbdb.LogicalSwitchPort{UUID: "p1", Name: "a"},
		&nbdb.LogicalSwitchPort{UUID: "p2", Name: "b"},
		&nbdb.LogicalSwitch{Name: "sw", Ports: []string{"p1", "p2"}})
	require.NoError(t, err)
	_, err = e.cl.Transact(context.Background(), ops...)
	require.NoError(t, err)
	e.waitFor("rows", func() bool { n, _ := idl.Count[nbdb.LogicalSwitchPort](e.cl); return n == 2 })
	e.rec.take()
}

// TestResyncThroughClient: a full resync of unchanged data (the client
// flags an inconsistency) reports nothing; the view stays whole.
func TestResyncThroughClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nbModel(t), nbSchema(t))
		e.waitSynced()
		populate(t, e)
		e.cl.Core().FlagInconsistency()
		e.waitFor("monitoring again", func() bool { return e.cl.Core().Stats().Recoveries != nil })
		synctest.Wait()
		require.Empty(t, e.rec.take())
		n, err := idl.Count[nbdb.LogicalSwitchPort](e.cl)
		require.NoError(t, err)
		require.Equal(t, 2, n)
	})
}

// TestSchemaChange: a new schema that still fits rebinds the view with no
// spurious events; one that drops a modelled column stops Run with a
// model error naming it.
func TestSchemaChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nbModel(t), nbSchema(t))
		e.waitSynced()
		populate(t, e)

		s := nbdb.Schema()
		ls := s.Tables["Logical_Switch"]
		ls.Columns["colour"] = &ovsdb.ColumnSchema{Type: ovsdb.TypeString, TypeObj: &ovsdb.ColumnType{Key: &ovsdb.BaseType{Type: ovsdb.TypeString}}}
		s.Tables["Logical_Switch"] = ls
		s.Version = "99.0.0"
		b, err := json.Marshal(s)
		require.NoError(t, err)
		require.NoError(t, e.c.ChangeSchema(b))
		e.waitFor("rebound", func() bool {
			odb, _ := e.cl.Core().DatabaseSchema()
			return odb != nil && odb.Version == "99.0.0"
		})
		synctest.Wait()
		require.Empty(t, e.rec.take(), "same values under the new schema")
		n, err := idl.Count[nbdb.LogicalSwitchPort](e.cl)
		require.NoError(t, err)
		require.Equal(t, 2, n)

		s2 := nbdb.Schema()
		lsp := s2.Tables["Logical_Switch_Port"]
		delete(lsp.Columns, "tag_request")
		s2.Tables["Logical_Switch_Port"] = lsp
		s2.Version = "100.0.0"
		b, err = json.Marshal(s2)
		require.NoError(t, err)
		require.NoError(t, e.c.ChangeSchema(b))
		var runErr error
		e.waitFor("Run to stop", func() bool {
			select {
			case runErr = <-e.done:
				e.done <- runErr
				return true
			default:
				return false
			}
		})
		require.ErrorIs(t, runErr, idl.ErrModel)
		require.Contains(t, runErr.Error(), `column "tag_request"`)
	})
}
