package leader

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
)

// FuzzApply feeds arbitrary bytes to Replica.Apply on a replica that holds
// one row. It must never panic; an error must wrap ErrMalformed or
// ErrInconsistent and leave the replica unchanged; a success must leave only
// valid rows behind; and Check must never panic on the result.
func FuzzApply(f *testing.F) {
	for _, name := range []string{"leader-reply.json", "follower-reply.json", "relay-reply.json",
		"leader-transfer-updates.json", "follower-transfer-updates.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		update("modify", `{"index":["set",[6,9]],"leader":false}`),
		update("modify", `{"cid":["set",[]],"schema":"x"}`),
		update("delete", `null`),
		update("insert", baseRow),
		`{"Database":{"00000000-0000-4000-8000-000000000001":{"initial":{"index":1e400}}}}`,
		`{"Database":{"x":{}}}`, `null`, `{"Other":1}`, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReplica()
		if err := r.Reset([]byte(update("initial", baseRow))); err != nil {
			t.Fatal(err)
		}
		before := r.Rows()
		err := r.Apply(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInconsistent) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if after := r.Rows(); !reflect.DeepEqual(before, after) {
				t.Fatalf("failed Apply changed the replica")
			}
		}
		for _, row := range r.Rows() {
			if id, ok := ovsjson.CanonicalUUID(row.UUID); !ok || id != row.UUID {
				t.Fatalf("row with bad UUID %q", row.UUID)
			}
			if row.CID != "" {
				if id, ok := ovsjson.CanonicalUUID(row.CID); !ok || id != row.CID {
					t.Fatalf("row with bad cid %q", row.CID)
				}
			}
			if !row.HasIndex && row.Index != 0 || !row.HasSchema && row.Schema != "" {
				t.Fatalf("absent value with a non-zero value: %+v", row)
			}
		}
		_, _ = (&Checker{}).Check(r, Target{Database: "Lab", LeaderOnly: true})
		// Reset with the same input must agree with Apply on an empty replica.
		var z Replica
		errApply := z.Apply(in)
		var y Replica
		errReset := y.Reset(in)
		if (errApply == nil) != (errReset == nil) || !reflect.DeepEqual(z.Rows(), y.Rows()) {
			t.Fatalf("Reset and Apply on an empty replica disagree: %v / %v", errApply, errReset)
		}
	})
}
