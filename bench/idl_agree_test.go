package bench

import (
	"encoding/json"
	"testing"

	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
)

// TestTypedSameResult: after the same monitor reply and update stream, the
// typed view and libovsdb's cache hold the same models (so the typed
// benchmarks compare equal work).
func TestTypedSameResult(t *testing.T) {
	o := newTypedOurs(t)
	o.sync(t, PortsInitial(500))
	tc := typedTheirs(t)
	theirsSync(t, tc, PortsInitial(500))
	for _, p := range PortModifies(101, 500) {
		o.update(t, p)
		theirsUpdate(t, tc, p)
	}
	ours, err := idl.List[nbdb.LogicalSwitchPort](o.Cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	theirs := tc.Table(nbdb.LogicalSwitchPortTable).Rows()
	if len(ours) != len(theirs) || len(ours) != 500 {
		t.Fatalf("%d rows vs %d", len(ours), len(theirs))
	}
	for _, m := range ours {
		a, _ := json.Marshal(m)
		bj, _ := json.Marshal(theirs[m.UUID])
		if string(a) != string(bj) {
			t.Fatalf("row %s differs:\n ours   %s\n theirs %s", m.UUID, a, bj)
		}
	}
}
