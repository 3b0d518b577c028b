package testserver_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ovsdbcs/ovsdbcs/testserver"
)

func Example() {
	c, err := testserver.NewCluster(3, testserver.LabSchema(), testserver.InMemory())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println(c.Remotes())

	// Talk to a follower the way a client would.
	conn, err := c.DialContext(context.Background(), "tcp", c.Member(1).Address())
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	dec := json.NewDecoder(conn)
	query := func(id int) {
		fmt.Fprintf(conn, `{"method":"transact","params":["Lab",{"op":"select","table":"Item","where":[],"columns":["name"]}],"id":%d}`, id)
		var reply json.RawMessage
		if err := dec.Decode(&reply); err != nil {
			panic(err)
		}
		fmt.Println(string(reply))
	}
	query(1)
	// Write from the test side, through the leader.
	if _, err := c.Transact(context.Background(), `[{"op":"insert","table":"Item","row":{"name":"a"}}]`); err != nil {
		panic(err)
	}
	query(2)

	if err := c.TransferLeadership(testserver.AnyOther); err != nil {
		panic(err)
	}
	fmt.Println("leader:", c.Leader())
	// Output:
	// tcp:127.0.0.1:6641,tcp:127.0.0.1:6642,tcp:127.0.0.1:6643
	// {"id":1,"result":[{"rows":[]}],"error":null}
	// {"id":2,"result":[{"rows":[{"name":"a"}]}],"error":null}
	// leader: 1
}
