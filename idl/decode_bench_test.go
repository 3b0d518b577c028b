package idl

import (
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/model"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// BenchmarkDecodeRow: decoding one OVN-shaped Logical_Switch_Port row into
// a fresh model (what every read and every handler call costs per row).
func BenchmarkDecodeRow(b *testing.B) {
	ti, row := benchRow(b)
	b.ReportAllocs()
	for b.Loop() {
		ti.decodeRow(row)
	}
}

// benchRow returns an OVN-shaped Logical_Switch_Port row of a view and the
// table's info.
func benchRow(b *testing.B) (*tableInfo, monitor.Row) {
	odb := nbdb.Schema()
	ms, err := monitor.NewSchema(&odb, map[string][]string{"Logical_Switch_Port": nil})
	if err != nil {
		b.Fatal(err)
	}
	m, _ := model.NewClientDBModel("OVN_Northbound", map[string]model.Model{"Logical_Switch_Port": &nbdb.LogicalSwitchPort{}})
	c, _ := NewCache(m, logr.Discard())
	r := monitor.NewReplica(ms)
	u, err := monitor.ParseMonitorCondReply(ms, []byte(fmt.Sprintf(`{"Logical_Switch_Port":{"%s":{"initial":%s}}}`,
		"0b0b4c5e-6e3b-4a53-9e8e-0c1f0c1f0c1f",
		`{"name":"port-0000001","addresses":"0a:58:0a:00:00:01 10.0.0.1","external_ids":["map",[["neutron:device_owner","compute:nova"],["neutron:network_name","net-1"],["owner","ctl-1"]]],"options":["map",[["requested-chassis","node-1"]]],"type":"","enabled":true,"tag_request":1}`)))
	if err != nil {
		b.Fatal(err)
	}
	ch, err := r.Apply(u)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Process(&odb, r, cs.Update{Clear: true, Changes: ch}); err != nil {
		b.Fatal(err)
	}
	return c.st.si.tables["Logical_Switch_Port"], ch.Slice()[0].New
}
