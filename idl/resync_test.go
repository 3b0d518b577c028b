package idl_test

import (
	"fmt"
	"testing"

	"github.com/ovn-org/libovsdb/model"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
)

// TestHandlersOrderAndResync: handlers see changes in server order, after
// the view holds the whole batch; a full resync reports only the rows that
// changed, as deletes, updates and adds of a "replace all".
func TestHandlersOrderAndResync(t *testing.T) {
	odb := nbODB(t)
	c, r, err := idl.BindForTest(nbModel(t), odb)
	require.NoError(t, err)
	var got []string
	sizes := []int{}
	h := &idl.EventHandlerFuncs{
		AddFunc: func(_ string, m model.Model) {
			got = append(got, "add "+m.(*nbdb.LogicalSwitchPort).Name)
			n, _ := idl.Count[nbdb.LogicalSwitchPort](c)
			sizes = append(sizes, n)
		},
		UpdateFunc: func(_ string, old, new model.Model) {
			got = append(got, "update "+old.(*nbdb.LogicalSwitchPort).Type+"->"+new.(*nbdb.LogicalSwitchPort).Type)
		},
		DeleteFunc: func(_ string, m model.Model) { got = append(got, "delete "+m.(*nbdb.LogicalSwitchPort).Name) },
	}
	c.AddEventHandler(h, nbdb.LogicalSwitchPortTable)
	second := 0
	c.AddEventHandler(&idl.EventHandlerFuncs{AddFunc: func(string, model.Model) { second++ }})
	c.AddEventHandler(&idl.EventHandlerFuncs{AddFunc: func(string, model.Model) { t.Error("not subscribed") }}, nbdb.LogicalSwitchTable)
	id := rowID
	apply := func(clear bool, body string) { t.Helper(); applyJSON(t, c, r, odb, clear, body) }
	apply(false, fmt.Sprintf(`{"Logical_Switch_Port":{"%s":{"insert":{"name":"b"}},"%s":{"insert":{"name":"a"}},"%s":{"insert":{"name":"c"}}}}`, id(2), id(1), id(3)))
	require.Equal(t, []string{"add b", "add a", "add c"}, got, "server (message) order")
	require.Equal(t, []int{3, 3, 3}, sizes, "the view holds the whole batch first")
	require.Equal(t, 3, second)
	got = nil
	apply(false, fmt.Sprintf(`{"Logical_Switch_Port":{"%s":{"modify":{"type":"router"}}}}`, id(1)))
	require.Equal(t, []string{"update ->router"}, got)

	// Resync: b unchanged, a changed, c gone, d new.
	got = nil
	apply(true, fmt.Sprintf(`{"Logical_Switch_Port":{"%s":{"initial":{"name":"b"}},"%s":{"initial":{"name":"a","type":"localnet"}},"%s":{"initial":{"name":"d"}}}}`, id(2), id(1), id(4)))
	require.ElementsMatch(t, []string{"update router->localnet", "add d", "delete c"}, got)
	ports, err := idl.List[nbdb.LogicalSwitchPort](c, nil)
	require.NoError(t, err)
	require.Len(t, ports, 3)
}
