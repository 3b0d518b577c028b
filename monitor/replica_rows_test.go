package monitor

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// initialReply is a monitor_cond reply of n Item rows @1..@n named r1..rn.
func initialReply(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"Item":{`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"@%d":{"initial":{"name":"r%d"}}`, i, i)
	}
	b.WriteString(`}}`)
	return []byte(expandUUIDs(b.String()))
}

// renameUpdate is an update2 that renames rows @from..@to to prefix+i.
func renameUpdate(from, to int, prefix string) string {
	var b strings.Builder
	b.WriteString(`[null,{"Item":{`)
	for i := from; i <= to; i++ {
		if i > from {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"@%d":{"modify":{"name":"%s%d"}}`, i, prefix, i)
	}
	b.WriteString(`}}]`)
	return b.String()
}

func names(ch Changes) []string {
	var out []string
	for c := range ch.All() {
		out = append(out, c.New.Get("name").Str())
	}
	return out
}

func itemName(t *testing.T, r *Replica, i int) string {
	t.Helper()
	row, ok := r.Get("Item", testUUID(t, fmt.Sprintf("@%d", i)))
	if !ok {
		return "<none>"
	}
	return row.Get("name").Str()
}

// collectUntil runs the garbage collector until cond holds (a weak
// pointer cleared), failing after many tries.
func collectUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		runtime.GC()
	}
	t.Fatal("the garbage collector did not clear the weak pointer")
}

func TestReplicaKeepsAResyncsChangesWhileUpdatesApply(t *testing.T) {
	s := testSchema(t).KeepingResyncOrder()
	r := NewReplica(s)
	var tr *tableRows // Item's rows, once the resync replaced them
	func() {          // u and ch are not kept after this
		u, err := ParseMonitorCondReply(s, initialReply(3))
		require.NoError(t, err)
		ch, err := r.Apply(u)
		require.NoError(t, err)
		tr = &r.tables[s.byName["Item"].index]
		require.Equal(t, []string{"r1", "r2", "r3"}, names(ch), "message order")
		require.Equal(t, 3, ch.Len())
		require.Len(t, ch.Slice(), 3)

		applyJSON(t, r, renameUpdate(1, 2, "x"))
		applyJSON(t, r, `[null,{"Item":{"@3":{"delete":null},"@4":{"insert":{"name":"r4"}}}}]`)
		require.Equal(t, []string{"x1", "x2", "<none>", "r4"}, []string{itemName(t, r, 1), itemName(t, r, 2), itemName(t, r, 3), itemName(t, r, 4)})
		require.Equal(t, 3, r.Len("Item"))
		require.Len(t, collectRows(r), 3)
		require.Equal(t, []string{"r1", "r2", "r3"}, names(ch), "the resync's changes are as they were")
		require.True(t, tr.isShared)
		require.Len(t, tr.over, 4)
		runtime.KeepAlive(u)
	}()

	// Once neither the update nor its changes are kept, the next update
	// folds the overlay into the map.
	collectUntil(t, func() bool { return tr.shared.Value() == nil })
	applyJSON(t, r, renameUpdate(4, 4, "y"))
	require.False(t, tr.isShared)
	require.Nil(t, tr.over)
	require.Equal(t, []string{"x1", "x2", "<none>", "y4"}, []string{itemName(t, r, 1), itemName(t, r, 2), itemName(t, r, 3), itemName(t, r, 4)})
	require.Equal(t, 3, r.Len("Item"))
	require.Len(t, collectRows(r), 3)
}

func collectRows(r *Replica) map[UUID]Row {
	out := map[UUID]Row{}
	r.View(func(tx ReadTx) {
		for id, row := range tx.Rows("Item") {
			out[id] = row
		}
	})
	return out
}

func TestReplicaCopiesAResyncKeptLong(t *testing.T) {
	s := testSchema(t).KeepingResyncOrder()
	r := NewReplica(s)
	const n = 3 * overlayMin
	u, err := ParseMonitorCondReply(s, initialReply(n))
	require.NoError(t, err)
	ch, err := r.Apply(u)
	require.NoError(t, err)
	tr := &r.tables[s.byName["Item"].index]
	for i := 1; i <= n; i += 100 {
		applyJSON(t, r, renameUpdate(i, min(i+99, n), "z"))
	}
	require.False(t, tr.isShared, "copied once the overlay outgrew a quarter of the map")
	require.Equal(t, n, r.Len("Item"))
	for i := 1; i <= n; i++ {
		require.Equal(t, fmt.Sprint("z", i), itemName(t, r, i))
	}
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprint("r", i+1)
	}
	require.Equal(t, want, names(ch))
	runtime.KeepAlive(u)
}

func TestUpdateAppliedToTwoReplicas(t *testing.T) {
	s := testSchema(t).KeepingResyncOrder()
	a, b := NewReplica(s), NewReplica(s)
	chB := func() Changes {
		u, err := ParseMonitorCondReply(s, initialReply(3))
		require.NoError(t, err)
		_, err = a.Apply(u)
		require.NoError(t, err)
		chB, err := b.Apply(u)
		require.NoError(t, err)
		return chB
	}()
	ta := &a.tables[s.byName["Item"].index]
	collectUntil(t, func() bool { return ta.shared.Value() == nil })
	applyJSON(t, a, renameUpdate(1, 3, "a"))
	require.False(t, ta.isShared, "a writes into the map it took")
	applyJSON(t, b, renameUpdate(1, 1, "b"))
	require.Equal(t, "a1", itemName(t, a, 1))
	require.Equal(t, "b1", itemName(t, b, 1))
	require.Equal(t, "r2", itemName(t, b, 2), "a's writes do not reach b")
	require.Equal(t, []string{"r1", "r2", "r3"}, names(chB))
}

// TestReplicaChangesReadWhileApplying reads a resync's changes on other
// goroutines while updates are applied and collections run (run it with
// -race: the replica's first write into the map must come after every read).
func TestReplicaChangesReadWhileApplying(t *testing.T) {
	s := testSchema(t)
	r := NewReplica(s)
	for round := range 20 {
		var wg sync.WaitGroup
		func() {
			u, err := ParseMonitorCondReply(s, initialReply(50))
			require.NoError(t, err)
			ch, err := r.Apply(u)
			require.NoError(t, err)
			for range 2 {
				wg.Add(1)
				go func(ch Changes) {
					defer wg.Done()
					for c := range ch.All() {
						_ = c.New.Get("name").Str()
					}
				}(ch)
			}
		}()
		for i := 1; i <= 50; i += 10 {
			applyJSON(t, r, renameUpdate(i, i+9, fmt.Sprint("g", round, "-")))
			if i%20 == 1 {
				runtime.GC()
			}
		}
		wg.Wait()
		require.Equal(t, fmt.Sprint("g", round, "-50"), itemName(t, r, 50))
	}
}

func TestResyncOrder(t *testing.T) {
	const n = 500
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprint("r", i+1)
	}
	for _, keep := range []bool{false, true} {
		s := testSchema(t)
		if keep {
			s = s.KeepingResyncOrder()
		}
		u, err := ParseMonitorCondReply(s, initialReply(n))
		require.NoError(t, err)
		ch, err := NewReplica(s).Apply(u)
		require.NoError(t, err)
		got := names(ch)
		if keep {
			require.Equal(t, want, got, "message order")
			continue
		}
		require.ElementsMatch(t, want, got)
		require.Nil(t, u.tables[0].full.order, "no order kept")
	}
}
