package bench

import (
	"fmt"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/monitor/benchdata"
)

// PortJSON is Logical_Switch_Port row i as an OVSDB <row>, shaped like the
// ports an OVN CMS writes: a name, addresses, external_ids with an owner,
// options, a type, enabled and a tag.
func PortJSON(i int) string {
	return fmt.Sprintf(`{"name":"port-%07d","addresses":"0a:58:0a:%02x:%02x:%02x 10.%d.%d.%d",`+
		`"external_ids":["map",[["neutron:device_owner","compute:nova"],["neutron:network_name","net-%d"],["owner","ctl-%d"]]],`+
		`"options":["map",[["requested-chassis","node-%d"]]],"type":"%s","enabled":true,"tag_request":%d}`,
		i, i>>16&255, i>>8&255, i&255, i>>16&255, i>>8&255, i&255,
		i%50, i%100, i%300, []string{"", "", "", "router", "localnet"}[i%5], i%4000)
}

// PortsInitial is a monitor_cond result with n Logical_Switch_Port rows.
func PortsInitial(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"Logical_Switch_Port":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"initial":%s}`, benchdata.RowUUID(i), PortJSON(i))
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

// PortModifies is a stream of n update2 notification params on a replica of
// PortsInitial(rows), each moving one port to another owner (a client
// index on external_ids:owner) and toggling a tag_request, in pairs so that
// the stream may be applied again.
func PortModifies(n, rows int) [][]byte {
	out := make([][]byte, n)
	for k := range n {
		i := k / 2 * 7 % rows
		owner := fmt.Sprintf("ctl-%d", i%100)
		if k%2 == 0 {
			owner = fmt.Sprintf("moved-%d", i%100)
		}
		tag := i % 4000
		if k%2 == 0 {
			tag = 4000 + i%95
		}
		out[k] = []byte(fmt.Sprintf(`[["monid","OVN_Northbound"],{"Logical_Switch_Port":{"%s":{"modify":{"external_ids":["map",[["owner","%s"]]],"tag_request":%d}}}}]`,
			benchdata.RowUUID(i), owner, tag))
	}
	return out
}
