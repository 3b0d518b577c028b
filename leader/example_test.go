package leader_test

import (
	"errors"
	"fmt"

	"github.com/ovsdbcs/ovsdbcs/leader"
)

func Example() {
	checker := &leader.Checker{} // one per client, kept across connections

	// The monitor_cond reply for _Server.Database, as sent by a follower.
	reply := []byte(`{"Database":{"a0facec9-a039-4227-b9c9-b97a96410dcd":{"initial":{
		"name":"OVN_Northbound","model":"clustered","connected":true,
		"schema":"{\"name\":\"OVN_Northbound\",\"tables\":{}}",
		"cid":["uuid","cc568949-9b70-427e-a9bd-886b210785c8"],"index":42}}}}`)
	rows := leader.NewReplica()
	if err := rows.Reset(reply); err != nil {
		fmt.Println(err)
		return
	}
	target := leader.Target{Remote: "tcp:10.0.0.2:6641", Database: "OVN_Northbound", LeaderOnly: true}
	_, err := checker.Check(rows, target)
	fmt.Println(err)
	fmt.Println(errors.Is(err, leader.ErrNotLeader))

	// It becomes the leader: an update2 arrives and the check passes.
	err = rows.Apply([]byte(`{"Database":{"a0facec9-a039-4227-b9c9-b97a96410dcd":{"modify":{"leader":true,"index":43}}}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := checker.Check(rows, target)
	fmt.Println(err, res.Index, res.Schema)
	// Output:
	// tcp:10.0.0.2:6641: clustered database server is not cluster leader; trying another server
	// true
	// <nil> 43 {"name":"OVN_Northbound","tables":{}}
}
