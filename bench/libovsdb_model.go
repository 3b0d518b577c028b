package bench

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor/benchdata"
)

// Item is a hand-written libovsdb model of the benchmark table, with the
// deep-copy and equality methods libovsdb's modelgen would generate (without
// them libovsdb clones models by a JSON round trip, which would be unfair to
// it).
type Item struct {
	UUID    string            `ovsdb:"_uuid"`
	Name    string            `ovsdb:"name"`
	N       *int              `ovsdb:"n"`
	Tags    []string          `ovsdb:"tags"`
	Refs    []string          `ovsdb:"refs"`
	Ext     map[string]string `ovsdb:"ext"`
	Enabled bool              `ovsdb:"enabled"`
}

// DeepCopyInto copies a into b.
func (a *Item) DeepCopyInto(b *Item) {
	*b = *a
	if a.N != nil {
		n := *a.N
		b.N = &n
	}
	b.Tags = slices.Clone(a.Tags)
	b.Refs = slices.Clone(a.Refs)
	b.Ext = maps.Clone(a.Ext)
}

// DeepCopy returns a deep copy of a.
func (a *Item) DeepCopy() *Item {
	b := new(Item)
	a.DeepCopyInto(b)
	return b
}

// CloneModelInto implements model.CloneableModel.
func (a *Item) CloneModelInto(b model.Model) { a.DeepCopyInto(b.(*Item)) }

// CloneModel implements model.CloneableModel.
func (a *Item) CloneModel() model.Model { return a.DeepCopy() }

// Equals reports whether a and b hold the same values.
func (a *Item) Equals(b *Item) bool {
	return a.UUID == b.UUID && a.Name == b.Name &&
		(a.N == nil) == (b.N == nil) && (a.N == nil || *a.N == *b.N) &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.Refs, b.Refs) &&
		maps.Equal(a.Ext, b.Ext) && a.Enabled == b.Enabled
}

// EqualsModel implements model.ComparableModel.
func (a *Item) EqualsModel(b model.Model) bool { return a.Equals(b.(*Item)) }

// LibovsdbModel returns the database schema and a hand-written database
// model of the benchmark table for libovsdb's cache.
func LibovsdbModel() (ovsdb.DatabaseSchema, model.DatabaseModel, error) {
	var schema ovsdb.DatabaseSchema
	if err := json.Unmarshal([]byte(benchdata.SchemaJSON), &schema); err != nil {
		return schema, model.DatabaseModel{}, err
	}
	client, err := model.NewClientDBModel("Bench", map[string]model.Model{"Item": &Item{}})
	if err != nil {
		return schema, model.DatabaseModel{}, err
	}
	dbModel, errs := model.NewDatabaseModel(schema, client)
	if len(errs) > 0 {
		return schema, model.DatabaseModel{}, errs[0]
	}
	return schema, dbModel, nil
}
