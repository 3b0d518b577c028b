package idl_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// TestIndexesMatchScan applies random update streams (inserts, modifies of
// indexed columns and map keys, deletes, and full resyncs) and checks after
// each batch that every index equals one rebuilt by scanning the rows, and
// that Lookup agrees with a filtered List.
func TestIndexesMatchScan(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			odb := nbODB(t)
			c, r, err := idl.BindForTest(nbModel(t), odb)
			require.NoError(t, err)
			live := map[string]bool{}
			// Odd seeds use more rows and fewer owners, so that index
			// buckets outgrow their slice and become maps.
			nrows, owners := 30, 4
			if seed%2 == 1 {
				nrows, owners = 80, 2
			}
			uuid := rowID
			row := func() string {
				ext := fmt.Sprintf(`["map",[["owner","o%d"]]]`, rng.IntN(owners))
				if rng.IntN(4) == 0 {
					ext = `["map",[["x","y"]]]` // no owner: not in that index
				}
				return fmt.Sprintf(`{"name":"n%d","external_ids":%s,"addresses":["set",["a%d"]]}`, rng.IntN(30), ext, rng.IntN(3))
			}
			for batch := range 60 {
				var parts []string
				clear := batch%15 == 14
				if clear {
					// A full resync: a new random content.
					clearLive := map[string]bool{}
					for i := range nrows {
						if rng.IntN(2) == 0 {
							clearLive[uuid(i)] = true
							parts = append(parts, fmt.Sprintf(`"%s":{"initial":%s}`, uuid(i), row()))
						}
					}
					live = clearLive
				} else {
					used := map[string]bool{}
					for range 1 + rng.IntN(12) {
						id := uuid(rng.IntN(nrows))
						if used[id] {
							continue
						}
						used[id] = true
						switch {
						case !live[id]:
							parts = append(parts, fmt.Sprintf(`"%s":{"insert":%s}`, id, row()))
							live[id] = true
						case rng.IntN(3) == 0:
							parts = append(parts, fmt.Sprintf(`"%s":{"delete":null}`, id))
							delete(live, id)
						default:
							parts = append(parts, fmt.Sprintf(`"%s":{"modify":{"external_ids":["map",[["owner","o%d"]]],"name":"n%d"}}`, id, rng.IntN(owners+1), rng.IntN(30)))
						}
					}
				}
				body := fmt.Sprintf(`{"Logical_Switch_Port":{%s}}`, strings.Join(parts, ","))
				applyJSON(t, c, r, odb, clear, body)

				got, want := c.IndexesForTest(nbdb.LogicalSwitchPortTable), c.ScanIndexesForTest(nbdb.LogicalSwitchPortTable)
				for _, m := range []map[string]map[string][]monitor.UUID{got, want} {
					for _, ix := range m {
						for _, ids := range ix {
							slices.SortFunc(ids, func(a, b monitor.UUID) int { return cmp.Compare(a.String(), b.String()) })
						}
					}
				}
				require.Equal(t, want, got, "batch %d", batch)
				for o := range 5 {
					owner := fmt.Sprintf("o%d", o)
					looked, err := idl.Lookup(c, &nbdb.LogicalSwitchPort{ExternalIDs: map[string]string{"owner": owner}})
					require.NoError(t, err)
					listed, err := idl.List(c, func(p *nbdb.LogicalSwitchPort) bool { return p.ExternalIDs["owner"] == owner })
					require.NoError(t, err)
					require.ElementsMatch(t, listed, looked)
				}
				n, err := idl.Count[nbdb.LogicalSwitchPort](c)
				require.NoError(t, err)
				require.Equal(t, len(live), n)
			}
		})
	}
}
