package idl

import (
	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// BindForTest binds m to odb (all tables monitored) without a server.
func BindForTest(m model.ClientDBModel, odb *ovsdb.DatabaseSchema) (*Cache, *monitor.Replica, error) {
	ms, err := monitor.NewSchema(odb, nil)
	if err != nil {
		return nil, nil, err
	}
	r := monitor.NewReplica(ms)
	c, err := NewCache(m, logr.Discard())
	if err != nil {
		return nil, nil, err
	}
	si, err := c.db.bind(odb, r)
	if err != nil {
		return nil, nil, err
	}
	c.st = newState(si)
	return c, r, nil
}

// IndexesForTest returns the contents of every index of table: index name
// -> key -> uuids.
func (c *Cache) IndexesForTest(table string) map[string]map[string][]monitor.UUID {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := map[string]map[string][]monitor.UUID{}
	ts := c.st.tables[table]
	for _, x := range ts.indexes {
		m := map[string][]monitor.UUID{}
		for k, set := range x.m {
			for id := range set.each {
				m[k] = append(m[k], id)
			}
		}
		out[x.spec.name] = m
	}
	return out
}

// ScanIndexesForTest computes the same by a scan of the rows.
func (c *Cache) ScanIndexesForTest(table string) map[string]map[string][]monitor.UUID {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := map[string]map[string][]monitor.UUID{}
	ts := c.st.tables[table]
	for _, spec := range ts.info.indexes {
		m := map[string][]monitor.UUID{}
		for id, r := range ts.rows {
			if k, ok := spec.appendRowKey(nil, r); ok {
				m[string(k)] = append(m[string(k)], id)
			}
		}
		out[spec.name] = m
	}
	return out
}
