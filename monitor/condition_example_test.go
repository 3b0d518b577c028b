package monitor_test

import (
	"fmt"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

func ExampleConditions() {
	conds := monitor.NewConditions("OVN_Southbound")
	sel := []monitor.TableRequest{{Table: "Port_Binding", Columns: []string{"logical_port", "chassis"}}}

	// Before the first connection: the condition goes into the monitor
	// request, and the seqno it promises is reached with its reply.
	want, _ := conds.Set("Port_Binding", []ovsdb.Condition{
		{Column: "logical_port", Function: ovsdb.ConditionEqual, Value: "lsp1"},
	})
	params, _ := conds.StartMonitor(monitor.MethodMonitorCondSince, sel)
	fmt.Printf("monitor_cond_since %s\n", params)
	_ = conds.MonitorReplied("a0facec9-a039-4227-b9c9-b97a96410dcd") // result[1] of the reply
	fmt.Println("seqno", conds.Seqno(), "want", want)

	// While monitoring: a change is sent, and acknowledged by its reply.
	want, _ = conds.Set("Port_Binding", []ovsdb.Condition{
		{Column: "logical_port", Function: ovsdb.ConditionIncludes, Value: []string{"lsp2", "lsp1"}},
	})
	if params, ok := conds.ComposeChange(); ok {
		fmt.Printf("monitor_cond_change %s\n", params)
	}
	_ = conds.Ack()
	fmt.Println("seqno", conds.Seqno(), "want", want)

	// Output:
	// monitor_cond_since ["OVN_Southbound",["monid","OVN_Southbound"],{"Port_Binding":[{"columns":["logical_port","chassis"],"where":[["logical_port","==","lsp1"]]}]},"00000000-0000-0000-0000-000000000000"]
	// seqno 1 want 1
	// monitor_cond_change [["monid","OVN_Southbound"],["monid","OVN_Southbound"],{"Port_Binding":[{"where":[["logical_port","includes",["set",["lsp1","lsp2"]]]]}]}]
	// seqno 2 want 2
}
