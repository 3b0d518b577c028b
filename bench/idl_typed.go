package bench

import (
	"encoding/json"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/cache"
	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// The two typed sides the typed benchmarks compare, on Logical_Switch_Port
// of the OVN_Northbound schema, each with the schema's index (name) and the
// same two client indexes (external_ids:owner and type).

// PortClientIndexes are the client indexes of both sides.
var PortClientIndexes = []model.ClientIndex{
	{Columns: []model.ColumnKey{{Column: "external_ids", Key: "owner"}}},
	{Columns: []model.ColumnKey{{Column: "type"}}},
}

func nbSchema() *ovsdb.DatabaseSchema {
	db := nbdb.Schema()
	return &db
}

// TypedOurs is the ovsdbcs side: a replica of Logical_Switch_Port and an
// idl.Cache over it, fed as idl.Client.Run feeds them.
type TypedOurs struct {
	odb   *ovsdb.DatabaseSchema
	s     *monitor.Schema
	r     *monitor.Replica
	Cache *idl.Cache
}

// NewTypedOurs returns an empty ovsdbcs side.
func NewTypedOurs() (*TypedOurs, error) {
	odb := nbSchema()
	s, err := monitor.NewSchema(odb, map[string][]string{nbdb.LogicalSwitchPortTable: nil})
	if err != nil {
		return nil, err
	}
	m, err := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{nbdb.LogicalSwitchPortTable: &nbdb.LogicalSwitchPort{}})
	if err != nil {
		return nil, err
	}
	m.SetIndexes(map[string][]model.ClientIndex{nbdb.LogicalSwitchPortTable: PortClientIndexes})
	c, err := idl.NewCache(m, logr.Discard())
	if err != nil {
		return nil, err
	}
	return &TypedOurs{odb: odb, s: s, r: monitor.NewReplica(s), Cache: c}, nil
}

// Sync parses a monitor_cond reply and applies it to the replica and the
// typed view.
func (o *TypedOurs) Sync(reply []byte) error {
	u, err := monitor.ParseMonitorCondReply(o.s, reply)
	if err != nil {
		return err
	}
	changes, err := o.r.Apply(u)
	if err != nil {
		return err
	}
	return o.Cache.Process(o.odb, o.r, cs.Update{Clear: true, MonitorReply: true, Changes: changes})
}

// Update parses an update2 notification's params and applies them (the
// handlers run before it returns).
func (o *TypedOurs) Update(params []byte) error {
	u, err := monitor.ParseUpdate2(o.s, params)
	if err != nil {
		return err
	}
	changes, err := o.r.Apply(u)
	if err != nil {
		return err
	}
	return o.Cache.Process(o.odb, o.r, cs.Update{Changes: changes})
}

// NewTypedTheirs returns libovsdb's cache with the LSP model, the schema
// index and the same client indexes.
func NewTypedTheirs() (*cache.TableCache, error) {
	m, err := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{nbdb.LogicalSwitchPortTable: &LSP{}})
	if err != nil {
		return nil, err
	}
	m.SetIndexes(map[string][]model.ClientIndex{nbdb.LogicalSwitchPortTable: PortClientIndexes})
	dbm, errs := model.NewDatabaseModel(*nbSchema(), m)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	discard := logr.Discard()
	return cache.NewTableCache(dbm, nil, &discard)
}

// TheirsSync does what libovsdb's client does with a monitor_cond reply.
func TheirsSync(tc *cache.TableCache, reply []byte) error {
	var tu ovsdb.TableUpdates2
	if err := json.Unmarshal(reply, &tu); err != nil {
		return err
	}
	return tc.Populate2(tu)
}

// TheirsUpdate does what libovsdb's client does with an update2
// notification's params (its handlers run on the cache's own goroutine).
func TheirsUpdate(tc *cache.TableCache, params []byte) error {
	var p []json.RawMessage
	if err := json.Unmarshal(params, &p); err != nil {
		return err
	}
	var tu ovsdb.TableUpdates2
	if err := json.Unmarshal(p[1], &tu); err != nil {
		return err
	}
	return tc.Populate2(tu)
}
