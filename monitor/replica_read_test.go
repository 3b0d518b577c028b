package monitor

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestViewRecordedRecordsEachRowReadOnce(t *testing.T) {
	r := NewReplica(testSchema(t))
	applyJSON(t, r, `[null, {"Types": {"@1": {"insert": {"i": 1}}, "@2": {"insert": {"i": 2}}}}]`)
	id := func(s string) UUID {
		u, err := ParseUUID(expandUUIDs(s)[1:37])
		require.NoError(t, err)
		return u
	}
	reads := r.ViewRecorded(func(tx ReadTx) {
		tx.Get("Types", id(`"@1"`))
		tx.Get("Types", id(`"@1"`))  // once
		tx.Get("Types", id(`"@9"`))  // absent: recorded
		tx.Get("Nope", id(`"@1"`))   // unknown table: not recorded
		_ = tx.Len("Types")          // not recorded
		for range tx.Rows("Types") { // each row yielded, @1 already seen
		}
	})
	if len(reads) != 3 {
		t.Fatalf("reads %+v", reads)
	}
	if reads[0].UUID != id(`"@1"`) || !reads[0].Found || reads[0].Row.Get("i").Int() != 1 {
		t.Fatalf("first read %+v", reads[0])
	}
	if reads[1].UUID != id(`"@9"`) || reads[1].Found {
		t.Fatalf("absent read %+v", reads[1])
	}
	if reads[2].UUID != id(`"@2"`) || !reads[2].Found {
		t.Fatalf("scan read %+v", reads[2])
	}
	if !slices.Contains(reads[0].Columns, "i") || slices.Contains(reads[0].Columns, "_uuid") {
		t.Fatalf("columns %v", reads[0].Columns)
	}
}
