package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/monitor"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// labReplica returns a replica of the Lab schema holding the update2
// table-updates given.
func labReplica(t *testing.T, tableUpdates string) *monitor.Replica {
	t.Helper()
	db, err := monitor.ParseDatabaseSchema(testserver.LabSchema())
	if err != nil {
		t.Fatal(err)
	}
	s, err := monitor.NewSchema(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := monitor.NewReplica(s)
	u, err := monitor.ParseUpdate2(s, []byte(`["x",`+tableUpdates+`]`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Apply(u); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompareReplica(t *testing.T) {
	const (
		a = "11111111-1111-1111-1111-111111111111"
		b = "22222222-2222-2222-2222-222222222222"
		c = "33333333-3333-3333-3333-333333333333"
	)
	r := labReplica(t, `{"Item":{"`+a+`":{"insert":{"name":"a","n":1}},"`+b+`":{"insert":{"name":"b","n":2}}}}`)
	snap := func(s string) map[string]map[string]map[string]json.RawMessage {
		var m map[string]map[string]map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if d := compareReplica(r, snap(`{"Item":{"`+a+`":{"name":"a","n":1,"data":""},"`+b+`":{"name":"b","n":2}}}`)); len(d) != 0 {
		t.Fatalf("equal contents reported different: %q", d)
	}
	d := compareReplica(r, snap(`{"Item":{"`+a+`":{"name":"a","n":5,"data":""},"`+c+`":{"name":"c","n":3}}}`))
	want := []string{
		"Item " + a + " n: replica 1, cluster 5",
		"Item " + b + ": in the replica, not in the cluster",
		"Item " + c + ": in the cluster, not in the replica",
	}
	if strings.Join(d, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diffs:\n%s\nwant:\n%s", strings.Join(d, "\n"), strings.Join(want, "\n"))
	}
	if d := compareReplica(nil, nil); len(d) != 1 {
		t.Fatalf("nil replica: %q", d)
	}
}

func TestDemoSummaryVerdict(t *testing.T) {
	good := []transferResult{{from: 0, to: 1, recovered: true, rec: cs.Recovery{Duration: 1500 * time.Microsecond, Attempts: 2, Remote: "tcp:127.0.0.1:2"}}}
	for _, tc := range []struct {
		name    string
		results []transferResult
		missed  int
		dups    int
		diffs   []string
		ok      bool
	}{
		{"all good", good, 0, 0, nil, true},
		{"not recovered", append(good, transferResult{from: 1, to: 2}), 0, 0, nil, false},
		{"missed", good, 1, 0, nil, false},
		{"duplicated", good, 0, 1, nil, false},
		{"diverged", good, 0, 0, []string{"Item x: in the cluster, not in the replica"}, false},
	} {
		var out bytes.Buffer
		if ok := printDemoSummary(&out, tc.results, 10, 10, 10-tc.missed, tc.missed, tc.dups, 0, tc.diffs); ok != tc.ok {
			t.Errorf("%s: ok = %t, want %t\n%s", tc.name, ok, tc.ok, out.String())
		}
		if !strings.Contains(out.String(), "1.500 ms") {
			t.Errorf("%s: summary lacks the recovery time:\n%s", tc.name, out.String())
		}
	}
}
