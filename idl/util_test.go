package idl_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ovn-org/libovsdb/ovsdb"
	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/idl"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

func sorted(s []string) []string { slices.Sort(s); return s }

// rowID is the uuid of test row i.
func rowID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", i) }

// applyJSON parses body (a <table-updates2>) as a monitor_cond reply (a full
// resync) or an update2 notification, applies it to r and feeds c.
func applyJSON(t *testing.T, c *idl.Cache, r *monitor.Replica, odb *ovsdb.DatabaseSchema, clear bool, body string) {
	t.Helper()
	var u *monitor.Update
	var err error
	if clear {
		u, err = monitor.ParseMonitorCondReply(r.Schema(), []byte(body))
	} else {
		u, err = monitor.ParseUpdate2(r.Schema(), []byte(`[null,`+body+`]`))
	}
	require.NoError(t, err)
	changes, err := r.Apply(u)
	require.NoError(t, err)
	require.NoError(t, c.Process(odb, r, cs.Update{Clear: clear, Changes: changes}))
}
