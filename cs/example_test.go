package cs_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync/atomic"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// A client follows the leader of a three-member cluster. Here the cluster
// is the in-process fake one (package testserver) listening on loopback
// TCP; point cs.New at your servers instead, for example
// "tcp:10.0.0.1:6641,tcp:10.0.0.2:6641,tcp:10.0.0.3:6641".
func Example() {
	if err := followTheLeader(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// rows: 1
	// recovered on another server: true
	// rows: 1
}

func followTheLeader() error {
	cluster, err := testserver.NewCluster(3, testserver.LabSchema())
	if err != nil {
		return err
	}
	defer cluster.Close()

	client, err := cs.New("Lab", cluster.Remotes())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- client.Run(ctx) }()

	// The events must be read (or turned off with WithEventBuffer(-1)).
	recovered := make(chan cs.Recovery, 1)
	go func() {
		for ev := range client.Events() {
			if r, ok := ev.(cs.Recovered); ok {
				select {
				case recovered <- r.Recovery:
				default:
				}
			}
		}
	}()

	if err := client.WaitMonitoring(ctx); err != nil {
		return err
	}
	// Once Transact returns nil the replica holds the transaction's
	// changes.
	insert := ovsdb.Operation{Op: ovsdb.OperationInsert, Table: "Item", Row: ovsdb.Row{"name": "a"}}
	if _, err := client.Transact(ctx, insert); err != nil {
		return err
	}
	fmt.Println("rows:", client.Replica().Len("Item"))

	// The leadership moves: the client leaves the old leader and follows.
	if err := cluster.TransferLeadership(testserver.AnyOther); err != nil {
		return err
	}
	select {
	case r := <-recovered:
		fmt.Println("recovered on another server:", r.Remote != r.From)
	case <-ctx.Done():
		return ctx.Err()
	}
	fmt.Println("rows:", client.Replica().Len("Item"))

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Observe counts what happens without reading Events, here with events
// turned off. The function runs on the client's own goroutine: it only
// updates counters.
func ExampleClient_Observe() {
	client, err := cs.New("OVN_Northbound", "tcp:127.0.0.1:6641", cs.WithEventBuffer(-1))
	if err != nil {
		log.Fatal(err)
	}
	var reconnects, rows atomic.Int64
	stop := client.Observe(func(ev cs.Event) {
		switch e := ev.(type) {
		case cs.Reconnect:
			reconnects.Add(1)
		case cs.Update:
			rows.Add(int64(e.Changes.Len()))
		}
	})
	defer stop()
	// go client.Run(ctx) ...
	fmt.Println(reconnects.Load(), rows.Load())
	// Output: 0 0
}
