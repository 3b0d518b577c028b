package cs_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

func Example() {
	// Fake time and in-memory sockets (testing/synctest), so that the
	// example needs no server.
	synctest.Test(&testing.T{}, func(*testing.T) {
		c, _ := testserver.NewCluster(3, testserver.LabSchema(), testserver.InMemory())
		defer c.Close()
		client, _ := cs.New("Lab", c.Remotes(), cs.WithDialer(c.DialContext), cs.WithEventBuffer(-1))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- client.Run(ctx) }()
		waitMonitoring := func(recoveries int) {
			for client.State() != cs.Monitoring || len(client.Stats().Recoveries) != recoveries {
				time.Sleep(time.Millisecond) // fake time
			}
		}
		waitMonitoring(0)
		c.Transact(ctx, `[{"op":"insert","table":"Item","row":{"name":"a"}}]`)
		c.TransferLeadership(testserver.AnyOther) // the client follows the leader
		waitMonitoring(1)
		fmt.Println(client.State(), client.Replica().Len("Item"), len(client.Stats().Recoveries))
		cancel()
		<-done
	})
	// Output: MONITORING 1 1
}
