package cs

import (
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"
)

func TestMarshalOperationKeepsRequiredEmptyMembers(t *testing.T) {
	timeout := 0
	for _, tc := range []struct {
		name string
		op   ovsdb.Operation
		want string
	}{
		{"wait for no rows", ovsdb.Operation{Op: ovsdb.OperationWait, Table: "T", Where: []ovsdb.Condition{}, Columns: []string{"k"}, Until: "==", Timeout: &timeout},
			`{"op":"wait","table":"T","where":[],"columns":["k"],"until":"==","timeout":0,"rows":[]}`},
		{"insert of defaults", ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "T"},
			`{"op":"insert","table":"T","row":{}}`},
		{"insert with a row", ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "T", Row: ovsdb.Row{"k": 1}},
			`{"op":"insert","table":"T","row":{"k":1}}`},
		{"wait with rows", ovsdb.Operation{Op: ovsdb.OperationWait, Table: "T", Where: []ovsdb.Condition{}, Until: "!=", Rows: []ovsdb.Row{{"k": 1}}},
			`{"op":"wait","table":"T","where":[],"rows":[{"k":1}],"until":"!="}`},
		{"delete every row", ovsdb.Operation{Op: ovsdb.OperationDelete, Table: "T"},
			`{"op":"delete","table":"T","where":[]}`},
		{"update of nothing", ovsdb.Operation{Op: ovsdb.OperationUpdate, Table: "T", Where: []ovsdb.Condition{{Column: "k", Function: "==", Value: 1}}},
			`{"op":"update","table":"T","where":[["k","==",1]],"row":{}}`},
		{"mutate with no mutations", ovsdb.Operation{Op: ovsdb.OperationMutate, Table: "T"},
			`{"op":"mutate","table":"T","where":[],"mutations":[]}`},
		{"select", ovsdb.Operation{Op: ovsdb.OperationSelect, Table: "T"},
			`{"op":"select","table":"T","where":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := MarshalOperation(&tc.op)
			require.NoError(t, err)
			require.JSONEq(t, tc.want, string(b))
		})
	}
}
