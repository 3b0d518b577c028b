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

func nbODB(t testing.TB) *ovsdb.DatabaseSchema {
	s := nbdb.Schema()
	return &s
}

type badName struct {
	UUID string `ovsdb:"_uuid"`
	Name int    `ovsdb:"name"`
}

type badColumn struct {
	UUID   string `ovsdb:"_uuid"`
	Colour string `ovsdb:"colour"`
}

type optionalAsPlain struct {
	UUID string `ovsdb:"_uuid"`
	Tag  int    `ovsdb:"tag"`
}

type noUUIDField struct {
	Name string `ovsdb:"name"`
}

func TestModelValidation(t *testing.T) {
	cases := []struct {
		name   string
		table  string
		model  model.Model
		errHas []string
	}{
		{"wrong type", "Logical_Switch", &badName{}, []string{`table "Logical_Switch"`, `field Name (column "name")`, "field type int", "string"}},
		{"missing column", "Logical_Switch", &badColumn{}, []string{`table "Logical_Switch"`, `column "colour"`, "no such column"}},
		{"optional as plain", "Logical_Switch_Port", &optionalAsPlain{}, []string{`column "tag"`, "want *int"}},
		{"missing table", "Logical_Swish", &nbdb.LogicalSwitch{}, []string{`table "Logical_Swish"`, "no such table"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{tc.table: tc.model})
			require.NoError(t, err)
			ms := nbODB(t)
			_, _, err = idl.BindForTest(m, ms)
			require.Error(t, err)
			require.True(t, errors.Is(err, idl.ErrModel), "%v", err)
			for _, s := range tc.errHas {
				require.Contains(t, err.Error(), s)
			}
		})
	}
	t.Run("wrong database", func(t *testing.T) {
		m, err := model.NewClientDBModel("OVN_Southbound", map[string]model.Model{"Logical_Switch": &nbdb.LogicalSwitch{}})
		require.NoError(t, err)
		_, _, err = idl.BindForTest(m, nbODB(t))
		require.ErrorIs(t, err, idl.ErrModel)
		require.Contains(t, err.Error(), "OVN_Southbound")
	})
	t.Run("client index on a non-map key", func(t *testing.T) {
		m, err := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{"Logical_Switch": &nbdb.LogicalSwitch{}})
		require.NoError(t, err)
		m.SetIndexes(map[string][]model.ClientIndex{"Logical_Switch": {{Columns: []model.ColumnKey{{Column: "name", Key: "x"}}}}})
		_, _, err = idl.BindForTest(m, nbODB(t))
		require.ErrorIs(t, err, idl.ErrModel)
		require.Contains(t, err.Error(), "not a map")
	})
	t.Run("no uuid field", func(t *testing.T) {
		_, err := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{"Logical_Switch": &noUUIDField{}})
		require.Error(t, err) // libovsdb refuses it already
	})
	t.Run("full model fits", func(t *testing.T) {
		m, err := nbdb.FullDatabaseModel()
		require.NoError(t, err)
		_, _, err = idl.BindForTest(m, nbODB(t))
		require.NoError(t, err)
	})
}
