package jsonrpc_test

import (
	"context"
	"fmt"
	"net"

	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
)

func ExampleParseRemotes() {
	remotes, cid, err := jsonrpc.ParseRemotes(
		"cid:0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f,tcp:127.0.0.1:6641, ssl:[::1]:6641,unix:db.sock")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("cluster id:", cid)
	for _, r := range remotes {
		fmt.Println(r, r.Network(), r.Address())
	}
	_, _, err = jsonrpc.ParseRemotes("tcp:127.0.0.1:6641,tcp:127.0.0.1:66410")
	fmt.Println(err)
	// Output:
	// cluster id: 0f3c2d9e-8d5a-4a39-9a5d-1c2b3a4d5e6f
	// tcp:127.0.0.1:6641 tcp 127.0.0.1:6641
	// ssl:[::1]:6641 tcp [::1]:6641
	// unix:db.sock unix db.sock
	// jsonrpc: invalid remote "tcp:127.0.0.1:66410": invalid port "66410" (expecting 1-65535)
}

func ExampleConn() {
	client, server := net.Pipe()
	c := jsonrpc.NewConn(client, jsonrpc.ConnConfig{Name: "example"})
	defer c.Close()

	// A tiny server: answers list_dbs, and sends an update notification.
	s := jsonrpc.NewConn(server, jsonrpc.ConnConfig{})
	defer s.Close()
	go func() {
		m, err := s.Recv(context.Background())
		if err != nil {
			return
		}
		reply, _ := jsonrpc.NewReply(m.ID, []string{"OVN_Northbound", "_Server"})
		_ = s.Send(reply)
		_ = s.Notify("update2", "monitor-id", map[string]any{})
	}()

	ctx := context.Background()
	dbs, err := c.Call(ctx, "list_dbs")
	fmt.Println(string(dbs), err)
	m, err := c.Recv(ctx)
	fmt.Println(m.Kind, m.Method, string(m.Params), err)
	// Output:
	// ["OVN_Northbound","_Server"] <nil>
	// notification update2 ["monitor-id",{}] <nil>
}
