package idl_test

import (
	"errors"
	"testing"

	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
)

func offlineNB(t *testing.T) *idl.Cache {
	t.Helper()
	c, _, err := idl.BindForTest(nbModel(t), nbODB(t))
	require.NoError(t, err)
	return c
}

func ptr[T any](v T) *T { return &v }

func TestCreateChecksValues(t *testing.T) {
	c := offlineNB(t)
	good := &nbdb.ACL{UUID: "acl1", Action: nbdb.ACLActionAllow, Direction: nbdb.ACLDirectionToLport, Match: "ip4", Priority: 1000,
		Severity: ptr(nbdb.ACLSeverityInfo), Name: ptr("web"), ExternalIDs: map[string]string{"owner": "ctl"}}
	cases := []struct {
		name   string
		m      model.Model
		column string // "" for success
	}{
		{"good", good, ""},
		{"enum", &nbdb.ACL{Action: "permit", Direction: nbdb.ACLDirectionToLport, Match: "ip4", Priority: 1}, "action"},
		{"optional enum", &nbdb.ACL{Action: nbdb.ACLActionDrop, Direction: nbdb.ACLDirectionToLport, Match: "ip4", Priority: 1, Severity: ptr("loud")}, "severity"},
		{"integer range", &nbdb.ACL{Action: nbdb.ACLActionDrop, Direction: nbdb.ACLDirectionToLport, Match: "ip4", Priority: 70000}, "priority"},
		{"string length", &nbdb.ACL{Action: nbdb.ACLActionDrop, Direction: nbdb.ACLDirectionToLport, Match: "ip4", Name: ptr(string(make([]byte, 64)) + "x")}, "name"},
		{"duplicate set members", &nbdb.LogicalSwitchPort{Name: "p", Addresses: []string{"a", "a"}}, "addresses"},
		{"uuid", &nbdb.LogicalSwitch{Name: "s", Ports: []string{"not a uuid!"}}, "ports"},
		{"named uuid ref", &nbdb.LogicalSwitch{Name: "s", Ports: []string{"p1", "0b0b4c5e-6e3b-4a53-9e8e-0c1f0c1f0c1f"}}, ""},
		{"set too big", &nbdb.LogicalRouterPort{Name: "r", MAC: "m", Networks: []string{"n"}, Peer: nil, Ipv6Prefix: nil, Ipv6RaConfigs: nil, GatewayChassis: nil, HaChassisGroup: ptr("x y")}, "ha_chassis_group"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := c.Create(tc.m)
			if tc.column == "" {
				require.NoError(t, err)
				require.Len(t, ops, 1)
				return
			}
			var ve *idl.ValueError
			require.True(t, errors.As(err, &ve), "%v", err)
			require.ErrorIs(t, err, idl.ErrValue)
			require.Equal(t, tc.column, ve.Column, "%v", err)
		})
	}
	ops, err := c.Create(good)
	require.NoError(t, err)
	require.Equal(t, "acl1", ops[0].UUIDName)
	require.IsType(t, ovsdb.OvsMap{}, ops[0].Row["external_ids"])
	require.IsType(t, ovsdb.OvsSet{}, ops[0].Row["severity"])
	require.NotContains(t, ops[0].Row, "label", "default values are left out")
}

func TestUpdateMutateWaitCheckValues(t *testing.T) {
	c := offlineNB(t)
	acl := &nbdb.ACL{UUID: "0b0b4c5e-6e3b-4a53-9e8e-0c1f0c1f0c1f", Priority: 40000}
	_, err := c.Where(acl).Update(acl, &acl.Priority)
	require.ErrorIs(t, err, idl.ErrValue)
	acl.Priority = 10
	ops, err := c.Where(acl).Update(acl, &acl.Priority)
	require.NoError(t, err)
	require.Len(t, ops, 1)
	require.Equal(t, ovsdb.OperationUpdate, ops[0].Op)
	require.Equal(t, []string{"priority"}, keys(ops[0].Row))
	require.Equal(t, "_uuid", ops[0].Where[0].Column)

	// Selection by a schema index (Logical_Switch_Port name) with no row in
	// the view: the operation selects by the index's value.
	lsp := &nbdb.LogicalSwitchPort{Name: "p1", Type: "router"}
	ops, err = c.Where(lsp).Update(lsp, &lsp.Type)
	require.NoError(t, err)
	require.Equal(t, "name", ops[0].Where[0].Column)

	// No uuid and no index value: nothing to select by.
	_, err = c.Where(&nbdb.LogicalSwitchPort{Type: "x"}).Delete()
	require.ErrorIs(t, err, idl.ErrNotFound)

	// Mutations: set elements are checked one by one, maps too.
	ops, err = c.Where(lsp).Mutate(lsp, model.Mutation{Field: &lsp.Addresses, Mutator: ovsdb.MutateOperationInsert, Value: []string{"a", "b"}})
	require.NoError(t, err)
	require.Len(t, ops[0].Mutations, 1)
	_, err = c.Where(acl).Mutate(acl, model.Mutation{Field: &acl.Severity, Mutator: ovsdb.MutateOperationInsert, Value: []string{"loud"}})
	require.Error(t, err)
	ops, err = c.Where(lsp).Mutate(lsp, model.Mutation{Field: &lsp.ExternalIDs, Mutator: ovsdb.MutateOperationDelete, Value: []string{"owner"}})
	require.NoError(t, err)
	require.Len(t, ops, 1)
	_, err = c.Where(acl).Mutate(acl, model.Mutation{Field: &acl.Priority, Mutator: ovsdb.MutateOperationInsert, Value: 3})
	require.Error(t, err, "insert on a scalar")
	ops, err = c.Where(acl).Mutate(acl, model.Mutation{Field: &acl.Priority, Mutator: ovsdb.MutateOperationAdd, Value: 3})
	require.NoError(t, err)
	require.Len(t, ops, 1)

	// Wait: with a row, and with none (rows kept in the JSON).
	ops, err = c.Where(lsp).Wait(ovsdb.WaitConditionNotEqual, ptr(100), lsp, &lsp.Type)
	require.NoError(t, err)
	require.Len(t, ops[0].Rows, 1)
	require.Equal(t, []string{"type"}, ops[0].Columns)
	ops, err = c.Where(lsp).Wait(ovsdb.WaitConditionEqual, nil, nil)
	require.NoError(t, err)
	raw, err := idl.MarshalOperations(ops)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"rows":[]`)

	// An insert of defaults has an empty row, which encoding/json would
	// drop; MarshalOperations (cs.MarshalOperation) keeps it.
	ops, err = c.Create(&nbdb.LogicalSwitch{})
	require.NoError(t, err)
	require.Empty(t, ops[0].Row)
	raw, err = idl.MarshalOperations(ops)
	require.NoError(t, err)
	require.Contains(t, string(raw), `"row":{}`)

	// A model of another table than the selection's.
	_, err = c.Where(lsp).Update(acl, &acl.Priority)
	require.ErrorIs(t, err, idl.ErrWrongType)
	// A field pointer outside the model.
	other := &nbdb.LogicalSwitchPort{}
	_, err = c.Where(lsp).Update(lsp, &other.Type)
	require.ErrorIs(t, err, idl.ErrWrongType)
}

func keys(r ovsdb.Row) []string {
	var out []string
	for k := range r {
		out = append(out, k)
	}
	return out
}
