package ovstable

import (
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

func TestShashOrder(t *testing.T) {
	// The order ovsdb-client 3.1 printed these rows in, received from
	// ovsdb-server in the order listed (one update of 20 inserted rows).
	wire := strings.Fields(`ab4d6a59-03cc-4666-906b-70e5e5cc87d6 d251b268-07f0-4d6f-b259-51516853dc0b
		01800689-b4e7-4d9e-b954-7caac4aeeddd 6a8f949b-a3ad-41d8-88cd-7b5022bd98e6 5a2aceb5-394a-4f96-81ec-36b803c63de3
		d5e04760-96ac-4bf5-87d2-e669b93dc8c6 7e85c891-1105-49eb-8bcc-460c2e11f26b eeb55e98-8787-4076-8c76-8c8f7de151d3
		53349e63-36f0-43eb-994a-36298b4d3692 3c508009-f33a-4c80-b5ef-cce152e7a4a2 3c767473-e030-4333-a1a1-94eb452560b2
		65a7b21a-69d2-4535-8ae3-c1c1ce4262d2 50a56833-adbd-4d60-8cce-364c4c649976 5bb4b84a-8334-4efd-b98d-3b5544456054
		1d746aff-13bd-41a8-892f-10497221cb10 d5f435f5-6acb-4ea0-abe2-57961e274aaf b148f915-4ff8-4b2c-b517-efd2acfd63aa
		3edd1b47-48b4-4485-aacb-0cf749b76805 893537ef-e518-4583-8c39-e3effda56352 a258c0f6-4527-479c-b941-42ab6937c47e`)
	printed := strings.Fields(`ab4d6a59-03cc-4666-906b-70e5e5cc87d6 01800689-b4e7-4d9e-b954-7caac4aeeddd
		d251b268-07f0-4d6f-b259-51516853dc0b eeb55e98-8787-4076-8c76-8c8f7de151d3 7e85c891-1105-49eb-8bcc-460c2e11f26b
		d5e04760-96ac-4bf5-87d2-e669b93dc8c6 5a2aceb5-394a-4f96-81ec-36b803c63de3 6a8f949b-a3ad-41d8-88cd-7b5022bd98e6
		53349e63-36f0-43eb-994a-36298b4d3692 3c508009-f33a-4c80-b5ef-cce152e7a4a2 3c767473-e030-4333-a1a1-94eb452560b2
		65a7b21a-69d2-4535-8ae3-c1c1ce4262d2 50a56833-adbd-4d60-8cce-364c4c649976 5bb4b84a-8334-4efd-b98d-3b5544456054
		1d746aff-13bd-41a8-892f-10497221cb10 3edd1b47-48b4-4485-aacb-0cf749b76805 b148f915-4ff8-4b2c-b517-efd2acfd63aa
		d5f435f5-6acb-4ea0-abe2-57961e274aaf a258c0f6-4527-479c-b941-42ab6937c47e 893537ef-e518-4583-8c39-e3effda56352`)
	var got []string
	for _, i := range ShashOrder(wire) {
		got = append(got, wire[i])
	}
	if strings.Join(got, " ") != strings.Join(printed, " ") {
		t.Fatalf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(printed, "\n"))
	}
	if n := len(ShashOrder(nil)); n != 0 {
		t.Fatalf("empty: %d", n)
	}
}

func TestCalcMask(t *testing.T) {
	for capacity, want := range map[uint32]uint32{0: 0, 1: 0, 2: 3, 8: 7, 16: 15, 17: 15, 32: 31} {
		if got := calcMask(capacity); got != want {
			t.Errorf("calcMask(%d) = %d, want %d", capacity, got, want)
		}
	}
}

func TestNeedsQuotes(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "sw0": false, "a-b.c_d": false, "_x": false, "0abc": true, "a b": true,
		"true": true, "false": true, "True": false, "00000000-0000-0000-0000-000000000000": true, "é": true,
	} {
		if got := needsQuotes(s); got != want {
			t.Errorf("needsQuotes(%q) = %t, want %t", s, got, want)
		}
	}
}

func TestAppendJSONPretty(t *testing.T) {
	got, err := AppendJSON(nil, []byte(`{"b":[1,2.50,[]],"a":{"y":null,"x":true},"c":[],"d":"\u0001\t"}`), true)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"a\": {\n    \"x\": true,\n    \"y\": null},\n  \"b\": [\n    1,\n    2.5,\n    []],\n  \"c\": [],\n  \"d\": \"\\u0001\\t\"}"
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if got, _ := AppendJSON(nil, []byte(`[1e20, 0.1, 123456789012345678.0]`), false); string(got) != "[1e+20,0.1,1.23456789012346e+17]" {
		t.Fatalf("reals: %s", got)
	}
	if _, err := AppendJSON(nil, []byte(`[1] x`), false); err == nil {
		t.Fatal("trailing data accepted")
	}
}

func TestTimestampAndSeparators(t *testing.T) {
	// A blank line separates consecutive tables in table, list and csv
	// output; html and json have none. The timestamp is UTC, milliseconds.
	ts := time.Date(2026, 12, 2, 3, 4, 5, 678_900_000, time.FixedZone("X", 3600))
	for f, want := range map[Format]string{
		FormatTable: "2026-12-02 02:04:05.678\nT\nh\n-\nv\n\n2026-12-02 02:04:05.678\nT\nh\n-\nv\n",
		FormatCSV:   "2026-12-02 02:04:05.678\nT\nh\nv\n\n2026-12-02 02:04:05.678\nT\nh\nv\n",
		FormatJSON:  `{"caption":"T","data":[["v"]],"headings":["h"],"time":"2026-12-02 02:04:05.678"}` + "\n" + `{"caption":"T","data":[["v"]],"headings":["h"],"time":"2026-12-02 02:04:05.678"}` + "\n",
	} {
		var sb strings.Builder
		s := DefaultStyle()
		s.Format = f
		p := NewPrinter(&sb, s)
		for range 2 {
			tbl := &Table{Caption: "T", Time: ts, Headings: []string{"h"}}
			tbl.AddRow()[0] = Text("v")
			if err := p.Print(tbl); err != nil {
				t.Fatal(err)
			}
		}
		if sb.String() != want {
			t.Errorf("%s:\n%q\nwant\n%q", f, sb.String(), want)
		}
	}
}

func TestDatumCells(t *testing.T) {
	setType := &monitor.ColumnType{Key: monitor.BaseType{Type: monitor.TypeString}, Min: 0, Max: monitor.Unlimited}
	d, err := monitor.NewDatum(setType, monitor.StringAtom("b c"), monitor.StringAtom("a"))
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[CellFormat]string{CellString: `[a, "b c"]`, CellBare: "a b c", CellJSON: `["set",["a","b c"]]`} {
		if got := cellText(Datum(d), f); got != want {
			t.Errorf("cell format %d: %s, want %s", f, got, want)
		}
	}
	if got := cellText(JSON([]byte(`{"b":1,"a":2}`)), CellString); got != `{"a":2,"b":1}` {
		t.Errorf("JSON cell: %s", got)
	}
	if _, err := ParseFormat("yaml"); err == nil || err.Error() != `unknown output format "yaml"` {
		t.Errorf("ParseFormat: %v", err)
	}
	if _, err := ParseCellFormat("yaml"); err == nil || err.Error() != `unknown data format "yaml"` {
		t.Errorf("ParseCellFormat: %v", err)
	}
}
