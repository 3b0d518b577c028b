package bench

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/go-logr/logr"
	"github.com/ovn-org/libovsdb/cache"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/monitor/benchdata"
)

// TestSameResult checks that both implementations end in the same state
// after the initial reply and the modify stream applied twice, so the
// benchmarks compare the same work.
func TestSameResult(t *testing.T) {
	const n = 500
	initial, mods := benchdata.Initial(n), benchdata.Modifies(200, n)
	if perRow := len(initial) / n; perRow < 370 || perRow > 410 {
		t.Errorf("%d bytes of JSON per row, want about 390", perRow)
	}

	var db ovsdb.DatabaseSchema
	if err := json.Unmarshal([]byte(benchdata.SchemaJSON), &db); err != nil {
		t.Fatal(err)
	}
	s, err := monitor.NewSchema(&db, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := monitor.NewReplica(s)
	u, err := monitor.ParseMonitorCondReply(s, initial)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Apply(u); err != nil {
		t.Fatal(err)
	}

	_, dbModel, err := LibovsdbModel()
	if err != nil {
		t.Fatal(err)
	}
	discard := logr.Discard()
	tc, err := cache.NewTableCache(dbModel, nil, &discard)
	if err != nil {
		t.Fatal(err)
	}
	var tu ovsdb.TableUpdates2
	if err := json.Unmarshal(initial, &tu); err != nil {
		t.Fatal(err)
	}
	if err := tc.Populate2(tu); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		for _, params := range mods {
			u, err := monitor.ParseUpdate2(s, params)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Apply(u); err != nil {
				t.Fatal(err)
			}
			var p []json.RawMessage
			if err := json.Unmarshal(params, &p); err != nil {
				t.Fatal(err)
			}
			var tu ovsdb.TableUpdates2
			if err := json.Unmarshal(p[1], &tu); err != nil {
				t.Fatal(err)
			}
			if err := tc.Populate2(tu); err != nil {
				t.Fatal(err)
			}
		}
	}

	theirs := tc.Table("Item").Rows()
	if len(theirs) != n || r.Len("Item") != n {
		t.Fatalf("libovsdb has %d rows, ovsdbcs %d, want %d", len(theirs), r.Len("Item"), n)
	}
	for id, m := range theirs {
		it := m.(*Item)
		row, ok := r.Get("Item", monitor.MustParseUUID(id))
		if !ok {
			t.Fatalf("row %s missing", id)
		}
		var refs []string
		for _, u := range row.Get("refs").UUIDs() {
			refs = append(refs, u.String())
		}
		ours := fmt.Sprint(row.Get("name").Str(), row.Get("n").Ints(), row.Get("tags").Strings(), refs, row.Get("ext").StringMap(), row.Get("enabled").Bool())
		var nv []int64
		if it.N != nil {
			nv = []int64{int64(*it.N)}
		}
		tags := slices.Sorted(slices.Values(it.Tags))
		rs := slices.Sorted(slices.Values(it.Refs))
		if len(tags) == 0 {
			tags = nil
		}
		if len(rs) == 0 {
			rs = nil
		}
		ext := it.Ext
		if ext == nil {
			ext = map[string]string{}
		}
		their := fmt.Sprint(it.Name, nv, tags, rs, maps.Clone(ext), it.Enabled)
		if ours != their {
			t.Fatalf("row %s:\n ovsdbcs  %s\n libovsdb %s", id, ours, their)
		}
	}
}
