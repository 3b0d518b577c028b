package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ovsdbcs/ovsdbcs/cs"
)

func TestDidYouMean(t *testing.T) {
	names := []string{"Logical_Switch", "Logical_Switch_Port", "Logical_Router", "ACL"}
	for name, want := range map[string]string{
		"Logical_Swtich":      ` (did you mean "Logical_Switch"?)`,
		"logical_switch_port": ` (did you mean "Logical_Switch_Port"?)`,
		"Logical_Routr":       ` (did you mean "Logical_Router"?)`,
		"acls":                ` (did you mean "ACL"?)`,
		"Chassis":             "",
	} {
		if got := didYouMean(name, names); got != want {
			t.Errorf("didYouMean(%q) = %q, want %q", name, got, want)
		}
	}
	if got := editDistance("ab", "ba"); got != 1 {
		t.Errorf("a swap costs %d edits, want 1", got)
	}
}

func TestLooksLikeServer(t *testing.T) {
	for arg, want := range map[string]bool{
		"tcp:127.0.0.1:6641": true, "unix:/run/db.sock": true, "tcp:a:1,tcp:b:2": true,
		"OVN_Northbound": false, "[[\"a\",\"==\",1]]": false, "": false, "1:2": false,
	} {
		if got := looksLikeServer(arg); got != want {
			t.Errorf("looksLikeServer(%q) = %t", arg, got)
		}
	}
}

func TestParseCondition(t *testing.T) {
	tg := goldenTarget(t)
	for _, tc := range []struct {
		arg  string
		n    int // clauses; -1 for nil (every row)
		fail string
	}{
		{`[true]`, -1, ""},
		{`[false]`, 0, ""},
		{`[false,["name","==","a"]]`, 1, ""},
		{`[["name","==","a"],["vlan","<",5]]`, 2, ""},
		{`[["name","==","a"],true]`, -1, ""},
		{`[["nmae","==","a"]]`, 0, `(did you mean "name"?)`},
		{`[["name","~","a"]]`, 0, "not a valid function"},
		{`[["name","=="]]`, 0, "want [COLUMN, FUNCTION, VALUE]"},
		{`{}`, 0, "not a JSON array"},
	} {
		conds, err := parseCondition(tg, "Switch", tc.arg)
		if tc.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("%s: error %v, want %q", tc.arg, err, tc.fail)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.arg, err)
			continue
		}
		if tc.n < 0 && conds != nil || tc.n >= 0 && (conds == nil || len(conds) != tc.n) {
			t.Errorf("%s: %d clauses (nil %t), want %d", tc.arg, len(conds), conds == nil, tc.n)
		}
	}
}

func TestParseMonitorTables(t *testing.T) {
	tg := goldenTarget(t)
	tables, err := parseMonitorTables(tg, []string{"ALL"}, false, true)
	if err != nil || len(tables) != 2 || tables[0].name != "Port" || tables[1].name != "Switch" {
		t.Fatalf("ALL: %v %v", tables, err)
	}
	// Without columns: every column, sorted by name, then _version (as
	// ovsdb-client shows it; not for --format=events).
	names := func(mt monitoredTable) string {
		var cols []string
		for _, c := range mt.columns {
			cols = append(cols, c.name)
		}
		return strings.Join(cols, ",")
	}
	if got := names(tables[1]); got != "enabled,external_ids,name,ports,ratio,vlan,_version" {
		t.Fatalf("Switch columns %s", got)
	}
	if got := strings.Join(tables[1].columnNames(), ","); got != "enabled,external_ids,name,ports,ratio,vlan,_version" {
		t.Fatalf("Switch replica columns %s", got)
	}
	tables, err = parseMonitorTables(tg, []string{"Switch", "!initial"}, false, false)
	if err != nil || names(tables[0]) != "enabled,external_ids,name,ports,ratio,vlan" {
		t.Fatalf("events columns: %v %v", tables, err)
	}
	// _version may be named.
	tables, err = parseMonitorTables(tg, []string{"Switch", "_version,name"}, false, false)
	if err != nil || names(tables[0]) != "_version,name" || tables[0].columns[0].rowUUID {
		t.Fatalf("named _version: %v %v", tables, err)
	}
	tables, err = parseMonitorTables(tg, []string{"Switch", "name,!modify", "vlan"}, false, true)
	if err != nil {
		t.Fatal(err)
	}
	mt := tables[0]
	if len(mt.columns) != 2 || mt.columns[0].kinds.modify || !mt.columns[1].kinds.modify || !mt.kinds.modify {
		t.Fatalf("selectors: %+v", mt)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"Switch", "_versoin"}, `(did you mean "_version"?)`},
		{[]string{"Switch", "name", "name"}, "mentioned multiple times"},
		{[]string{"Swich"}, `(did you mean "Switch"?)`},
	} {
		if _, err := parseMonitorTables(tg, tc.args, false, true); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestTransactOutcome(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		readOnly bool
		want     string // "ok", "retry", "maybe" or "fail"
	}{
		{"committed", nil, false, "ok"},
		{"not monitoring", cs.ErrNotMonitoring, false, "retry"},
		{"lost in flight", cs.ErrReconnected, false, "maybe"},
		{"lost in flight, wrapped", fmt.Errorf("x: %w", cs.ErrReconnected), false, "maybe"},
		{"lost in flight, read only", cs.ErrReconnected, true, "retry"},
		{"canceled", cs.ErrCanceled, false, "maybe"},
		{"canceled, read only", cs.ErrCanceled, true, "retry"},
		{"closed", cs.ErrClosed, false, "fail"},
	} {
		err := transactOutcome(tc.err, tc.readOnly)
		var mc *maybeCommittedError
		got := "fail"
		switch {
		case err == nil:
			got = "ok"
		case errors.Is(err, errRetry):
			got = "retry"
		case errors.As(err, &mc):
			got = "maybe"
		}
		if got != tc.want {
			t.Errorf("%s: %v -> %s, want %s", tc.name, err, got, tc.want)
		}
	}
}
