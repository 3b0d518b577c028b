package idl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/model"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// TestTxLookupReads: inside a transaction, an index lookup reads (and so
// has verified) only the rows it finds when the view is caught up with the
// replica, and scans the table otherwise; both find the same rows.
func TestTxLookupReads(t *testing.T) {
	odb := nbdb.Schema()
	ms, err := monitor.NewSchema(&odb, map[string][]string{nbdb.LogicalSwitchPortTable: nil})
	require.NoError(t, err)
	m, err := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{nbdb.LogicalSwitchPortTable: &nbdb.LogicalSwitchPort{}})
	require.NoError(t, err)
	m.SetIndexes(map[string][]model.ClientIndex{nbdb.LogicalSwitchPortTable: {{Columns: []model.ColumnKey{{Column: "external_ids", Key: "owner"}}}}})
	c, err := NewCache(m, logr.Discard())
	require.NoError(t, err)
	r := monitor.NewReplica(ms)
	var rows []string
	for i := range 40 {
		rows = append(rows, fmt.Sprintf(`"%08x-0000-4000-8000-000000000000":{"initial":{"name":"p%d","external_ids":["map",[["owner","o%d"]]]}}`, i, i, i%4))
	}
	u, err := monitor.ParseMonitorCondReply(ms, []byte(`{"Logical_Switch_Port":{`+strings.Join(rows, ",")+`}}`))
	require.NoError(t, err)
	ch, err := r.Apply(u)
	require.NoError(t, err)
	require.NoError(t, c.Process(&odb, r, cs.Update{Clear: true, Changes: ch}))

	lookup := func(caughtUp bool, probe *nbdb.LogicalSwitchPort) (found, read int) {
		reads := r.ViewRecorded(func(tx monitor.ReadTx) {
			tt, err := c.ReadTx(tx)
			require.NoError(t, err)
			tt.src.caughtUp = caughtUp
			got, err := Lookup(tt, probe)
			require.NoError(t, err)
			found = len(got)
		})
		return found, len(reads)
	}
	found, read := lookup(true, &nbdb.LogicalSwitchPort{Name: "p7"})
	require.Equal(t, 1, found)
	require.Equal(t, 1, read)
	found, read = lookup(false, &nbdb.LogicalSwitchPort{Name: "p7"})
	require.Equal(t, 1, found)
	require.Equal(t, 40, read)
	found, read = lookup(true, &nbdb.LogicalSwitchPort{ExternalIDs: map[string]string{"owner": "o1"}})
	require.Equal(t, 10, found)
	require.Equal(t, 10, read)
	found, read = lookup(true, &nbdb.LogicalSwitchPort{Name: "absent"})
	require.Equal(t, 0, found)
	require.Equal(t, 0, read)
}
