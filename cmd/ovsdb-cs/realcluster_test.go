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
	leaderRemote := func() string {
		i, err := c.WaitLeader(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return c.Member(i).Remote()
	}
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
	checkFollowsLeader(t, c.Remotes(), leaderRemote, transact, transfer, 5)
	want, err := c.Dump(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(want["Item"]); n != 5 {
		t.Errorf("the cluster holds %d Item rows, want 5 (one per transfer)", n)
	}
}
