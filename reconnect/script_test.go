package reconnect_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/ovsdbcs/ovsdbcs/reconnect/internal/script"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out from the driver's transcripts")

// TestScripts runs every testdata/*.in through the script driver and
// compares the transcript with the .out file of the same name, byte for
// byte. The .out files are what OVS 3.1's C driver ("ovstest
// test-reconnect") prints for the same input. With -update the .out files
// are rewritten; review the diff before committing it.
func TestScripts(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join("testdata", "*.in"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) == 0 {
		t.Fatal("no testdata/*.in scenarios found")
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in")
		t.Run(name, func(t *testing.T) {
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := script.Run(bytes.NewReader(input), &got); err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			outPath := strings.TrimSuffix(in, ".in") + ".out"
			if *update {
				if err := os.WriteFile(outPath, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(want) != got.String() {
				diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got.String()),
					FromFile: outPath, ToFile: "transcript of " + in, Context: 3,
				})
				t.Errorf("transcript differs (-want +got; run with -update to accept):\n%s", diff)
			}
		})
	}
}
