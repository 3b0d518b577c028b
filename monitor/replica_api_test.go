package monitor

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// applyJSON parses an update2 params text (with @N uuids) and applies it.
func applyJSON(t *testing.T, r *Replica, params string) []RowChange {
	t.Helper()
	u, err := ParseUpdate2(r.Schema(), []byte(expandUUIDs(params)))
	require.NoError(t, err)
	changes, err := r.Apply(u)
	require.NoError(t, err)
	return changes.Slice()
}

// Every modify case of update2, column by column, as a table.
func TestModifyCases(t *testing.T) {
	s := testSchema(t)
	cases := []struct {
		name           string
		col            string
		old, diff, new string
	}{
		{"scalar integer", "i", `1`, `2`, `2`},
		{"scalar to default", "i", `1`, `0`, `0`},
		{"scalar real", "r", `1.5`, `-2`, `-2`},
		{"scalar boolean", "b", `false`, `true`, `true`},
		{"scalar string", "s", `"a"`, `"b"`, `"b"`},
		{"scalar uuid", "u", `["uuid","@1"]`, `["uuid","@2"]`, `["uuid","@2"]`},
		{"enum", "e", `"red"`, `"blue"`, `"blue"`},

		{"set add", "is", `["set",[1,3]]`, `2`, `["set",[1,2,3]]`},
		{"set remove", "is", `["set",[1,2,3]]`, `2`, `["set",[1,3]]`},
		{"set add and remove", "is", `["set",[1,2,3]]`, `["set",[0,2,4]]`, `["set",[0,1,3,4]]`},
		{"set to empty", "ss", `["set",["a","b"]]`, `["set",["b","a"]]`, `["set",[]]`},
		{"set from empty", "us", `["set",[]]`, `["set",[["uuid","@2"],["uuid","@1"]]]`, `["set",[["uuid","@1"],["uuid","@2"]]]`},
		{"set of reals", "rs", `["set",[0.5,1.5]]`, `["set",[1.5,2.5]]`, `["set",[0.5,2.5]]`},
		{"set of booleans", "bs", `false`, `["set",[false,true]]`, `true`},
		{"empty diff", "is", `1`, `["set",[]]`, `1`},
		{"bounded set to max", "is3", `["set",[1,2]]`, `3`, `["set",[1,2,3]]`},
		{"min-1 set", "ss1", `"a"`, `["set",["a","b"]]`, `"b"`},
		{"min-1 set to default", "ss1", `"a"`, `["set",["","a"]]`, `""`},

		{"map insert", "msi", `["map",[["a",1]]]`, `["map",[["b",2]]]`, `["map",[["a",1],["b",2]]]`},
		{"map delete (same value)", "msi", `["map",[["a",1],["b",2]]]`, `["map",[["a",1]]]`, `["map",[["b",2]]]`},
		{"map replace (other value)", "msi", `["map",[["a",1],["b",2]]]`, `["map",[["a",5]]]`, `["map",[["a",5],["b",2]]]`},
		{"map all three", "mis", `["map",[[1,"x"],[2,"y"]]]`, `["map",[[1,"x"],[2,"z"],[3,"w"]]]`, `["map",[[2,"z"],[3,"w"]]]`},
		{"map of uuid to real", "mu", `["map",[[["uuid","@1"],1]]]`, `["map",[[["uuid","@1"],2],[["uuid","@2"],3]]]`, `["map",[[["uuid","@1"],2],[["uuid","@2"],3]]]`},

		// At most one element: ovsdb-server (3.1 checked) sends the new
		// value, and an empty set or map to clear.
		{"optional set (new value)", "oi", `1`, `2`, `2`},
		{"optional from empty", "oi", `["set",[]]`, `7`, `7`},
		{"optional clear", "oi", `1`, `["set",[]]`, `["set",[]]`},
		{"optional real", "or", `1.5`, `2.5`, `2.5`},
		{"optional uuid", "ou", `["uuid","@1"]`, `["uuid","@2"]`, `["uuid","@2"]`},
		{"optional map (new value)", "om", `["map",[["a","1"]]]`, `["map",[["b","2"]]]`, `["map",[["b","2"]]]`},
		{"optional map new value same key", "om", `["map",[["a","1"]]]`, `["map",[["a","2"]]]`, `["map",[["a","2"]]]`},
		{"optional map clear", "om", `["map",[["a","1"]]]`, `["map",[]]`, `["map",[]]`},
		// libovsdb's server sends the per-element difference: [old, new],
		// and the old value alone to clear.
		{"optional set (per-element)", "oi", `1`, `["set",[1,2]]`, `2`},
		{"optional clear (per-element)", "oi", `1`, `1`, `["set",[]]`},
		{"optional map (per-element)", "om", `["map",[["a","1"]]]`, `["map",[["a","1"],["b","2"]]]`, `["map",[["b","2"]]]`},
		{"optional map clear (per-element)", "om", `["map",[["a","1"]]]`, `["map",[["a","1"]]]`, `["map",[]]`},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReplica(s)
			id := fmt.Sprintf("@%d", 100+i)
			applyJSON(t, r, fmt.Sprintf(`[null, {"Types": {%q: {"insert": {%q: %s}}}}]`, id, c.col, c.old))
			changes := applyJSON(t, r, fmt.Sprintf(`[null, {"Types": {%q: {"modify": {%q: %s}}}}]`, id, c.col, c.diff))
			row, ok := r.Get("Types", testUUID(t, id))
			require.True(t, ok)
			want, err := ParseDatum(col(t, s, "Types", c.col), []byte(expandUUIDs(c.new)))
			require.NoError(t, err)
			got := row.Get(c.col)
			if !got.Equal(want) {
				t.Fatalf("%s: %s modified by %s = %s, want %s", c.col, c.old, c.diff, shortUUIDs(got.String()), c.new)
			}
			if c.old == c.new {
				if len(changes) != 0 {
					t.Fatalf("changes %v for a diff that changes nothing", changes)
				}
			} else if len(changes) != 1 || changes[0].Op != ChangeModify || !changes[0].New.Equal(row) {
				t.Fatalf("changes %v", changes)
			}
		})
	}
}

// Rows handed out are immutable snapshots.
func TestRowsAreImmutable(t *testing.T) {
	s := testSchema(t)
	r := NewReplica(s)
	applyJSON(t, r, `[null, {"Item": {"@1": {"insert": {"name": "a", "tags": ["set", ["x"]]}}}}]`)
	before, _ := r.Get("Item", testUUID(t, "@1"))
	tags := before.Get("tags")
	changes := applyJSON(t, r, `[null, {"Item": {"@1": {"modify": {"name": "b", "tags": "y"}}}}]`)
	applyJSON(t, r, `[null, {"Item": {"@1": {"delete": null}}}]`)
	assert.Equal(t, `{"enabled":false,"ext":["map",[]],"n":["set",[]],"name":"a","refs":["set",[]],"tags":"x"}`, before.String())
	assert.Equal(t, `"x"`, tags.String())
	assert.Equal(t, `"b"`, changes[0].New.Get("name").String())
	assert.True(t, changes[0].Old.Equal(before))
	_, ok := r.Get("Item", testUUID(t, "@1"))
	assert.False(t, ok)
	assert.Equal(t, 0, r.Len("Item"))
	assert.Equal(t, 0, r.Len("Nope"))
	_, ok = r.Get("Nope", UUID{})
	assert.False(t, ok)

	var zero Row
	assert.False(t, zero.Valid())
	assert.Equal(t, "null", zero.String())
	_, ok = zero.Column("name")
	assert.False(t, ok)
	assert.Equal(t, 0, zero.Get("name").Len())
}

// Readers see whole updates only: every update changes two rows together,
// and a reader in View must always find them equal.
func TestConcurrentReaders(t *testing.T) {
	s := testSchema(t)
	r := NewReplica(s)
	applyJSON(t, r, `[null, {"Item": {"@1": {"insert": {"n": 0}}, "@2": {"insert": {"n": 0}}}}]`)
	const updates = 300
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	done := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var a, b Row
				r.View(func(tx ReadTx) {
					a, _ = tx.Get("Item", testUUID(t, "@1"))
					b, _ = tx.Get("Item", testUUID(t, "@2"))
					n := 0
					for range tx.Rows("Item") {
						n++
					}
					if n != 2 {
						errc <- fmt.Errorf("%d rows", n)
					}
				})
				if a.Get("n").Int() != b.Get("n").Int() {
					errc <- fmt.Errorf("torn update: %s vs %s", a, b)
					return
				}
				_, _ = r.Get("Item", testUUID(t, "@1"))
			}
		}()
	}
	for i := 1; i <= updates; i++ {
		applyJSON(t, r, fmt.Sprintf(`[null, {"Item": {"@1": {"modify": {"n": %d}}, "@2": {"modify": {"n": %d}}}}]`, i, i))
	}
	close(done)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	row, _ := r.Get("Item", testUUID(t, "@2"))
	assert.Equal(t, int64(updates), row.Get("n").Int())
}

// The same parsed Update can be applied to two replicas.
func TestUpdateReuse(t *testing.T) {
	s := testSchema(t)
	u, err := ParseMonitorCondReply(s, []byte(expandUUIDs(`{"Item": {"@1": {"initial": {"name": "a"}}}}`)))
	require.NoError(t, err)
	r1, r2 := NewReplica(s), NewReplica(s)
	_, err = r1.Apply(u)
	require.NoError(t, err)
	_, err = r2.Apply(u)
	require.NoError(t, err)
	assert.Equal(t, dump(r1), dump(r2))
}

// Rows wider than 64 KiB use 4-byte offsets.
func TestWideRow(t *testing.T) {
	s := testSchema(t)
	r := NewReplica(s)
	var tags []byte
	for i := range 5000 {
		if i > 0 {
			tags = append(tags, ',')
		}
		tags = fmt.Appendf(tags, `"tag-%05d-padding-padding"`, i)
	}
	applyJSON(t, r, `[null, {"Item": {"@1": {"insert": {"name": "wide", "tags": ["set", [`+string(tags)+`]], "enabled": true}}}}]`)
	row, _ := r.Get("Item", testUUID(t, "@1"))
	assert.Equal(t, 5000, row.Get("tags").Len())
	assert.Equal(t, "wide", row.Get("name").Str())
	assert.True(t, row.Get("enabled").Bool())
	applyJSON(t, r, `[null, {"Item": {"@1": {"modify": {"tags": ["set", ["tag-00000-padding-padding", "new"]]}}}}]`)
	row, _ = r.Get("Item", testUUID(t, "@1"))
	assert.Equal(t, 5000, row.Get("tags").Len())
	assert.True(t, row.Get("tags").Contains(StringAtom("new")))
	assert.False(t, row.Get("tags").Contains(StringAtom("tag-00000-padding-padding")))
	assert.True(t, row.Get("enabled").Bool())
}

// ParseTableUpdates2 reads a bare <table-updates2> as a change; with a
// schema from SkippingUnknown, tables and columns the schema lacks are
// skipped (their JSON still checked) instead of rejected.
func TestParseTableUpdates2SkippingUnknown(t *testing.T) {
	s := testSchema(t)
	const id = "00000000-0000-0000-0000-000000000001"
	in := []byte(`{"Item":{"` + id + `":{"insert":{"name":"a","future":[1,{"x":null}]}}},"Other":{"x":1}}`)

	_, err := ParseTableUpdates2(s, in)
	require.ErrorIs(t, err, ErrMalformed, "unknown table and column with the plain schema")

	u, err := ParseTableUpdates2(s.SkippingUnknown(), in)
	require.NoError(t, err)
	assert.False(t, u.Clear)
	r := NewReplica(s)
	_, err = r.Apply(u)
	require.NoError(t, err)
	row, ok := r.Get("Item", MustParseUUID(id))
	require.True(t, ok)
	assert.Equal(t, "a", row.Get("name").Str())

	for _, bad := range []string{`{"Other":[]}`, `{"Item":{"` + id + `":{"modify":{"future":[}}}}`} {
		_, err := ParseTableUpdates2(s.SkippingUnknown(), []byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, bad)
	}
}
