package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// TestMonitorRealCluster runs "ovsdb-cs monitor --format=json" against a
// real 3-member ovsdb-server cluster through leadership transfers
// (cluster/failure-test transfer-leadership). It skips without Open
// vSwitch, and fails then when OVSDBCS_REQUIRE_OVSDB_SERVER=1.
func TestMonitorRealCluster(t *testing.T) {
	c := ovsdbserver.StartCluster(t, 3, ovsdbserver.LabSchema())
	t.Run("events", func(t *testing.T) {
		transact, transfer := realClusterSteering(t, c)
		checkRealClusterEvents(t, c, transact, transfer)
	})
	t.Run("table", func(t *testing.T) {
		transact, transfer := realClusterSteering(t, c)
		checkTableFollowsLeader(t, c.Remotes(), transact, transfer, 3)
	})
}

// realClusterSteering returns a transact function taking a JSON array of
// operations, and a function that moves the leadership of c and returns
// the new leader's remote.
func realClusterSteering(t *testing.T, c *ovsdbserver.Cluster) (
	func(ctx context.Context, ops any) ([]json.RawMessage, error), func() string) {
	transact := func(ctx context.Context, ops any) ([]json.RawMessage, error) {
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(ops.(string)), &list); err != nil {
			return nil, fmt.Errorf("test ops %v: %w", ops, err)
		}
		args := make([]any, len(list))
		for i, op := range list {
			args[i] = op
		}
		return c.Transact(ctx, args...)
	}
	transfer := func() string {
		tr, err := c.TransferLeadership(t.Context(), ovsdbserver.TransferFailureTest)
		if err != nil {
			t.Fatal(err)
		}
		return c.Member(tr.To).Remote()
	}
	return transact, transfer
}

func checkRealClusterEvents(t *testing.T, c *ovsdbserver.Cluster,
	transact func(ctx context.Context, ops any) ([]json.RawMessage, error), transfer func() string) {
	leaderRemote := func() string {
		i, err := c.WaitLeader(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return c.Member(i).Remote()
	}
	checkFollowsLeader(t, c.Remotes(), leaderRemote, transact, transfer, 5)
	want, err := c.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(want["Item"]); n != 5 {
		t.Errorf("the cluster holds %d Item rows, want 5 (one per transfer)", n)
	}
}
