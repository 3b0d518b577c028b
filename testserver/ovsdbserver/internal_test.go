package ovsdbserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ovsdbcs/ovsdbcs/testserver/internal/jsonnum"
)

// recordingTB records Skipf and Fatalf instead of acting on them.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordingTB) Helper()                           {}
func (r *recordingTB) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recordingTB) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestRequireMissing(t *testing.T) {
	// Nothing can be found: empty PATH and no extra directories.
	t.Setenv("PATH", "")
	_, err := findBinariesIn(nil)
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Available() = %v, want ErrNotInstalled", err)
	}
	var me *MissingError
	if !errors.As(err, &me) || len(me.Missing) != 4 {
		t.Fatalf("Available() = %#v, want all four tools missing", err)
	}

	t.Setenv(RequireEnv, "")
	r := &recordingTB{TB: t}
	requireTools(r, err)
	for _, want := range []string{"ovsdb-server", "ovs-appctl", "apt-get install openvswitch-switch", RequireEnv} {
		if !strings.Contains(r.skipped, want) {
			t.Errorf("skip message %q does not mention %q", r.skipped, want)
		}
	}
	if r.fatal != "" {
		t.Errorf("Require failed without %s=1: %s", RequireEnv, r.fatal)
	}

	t.Setenv(RequireEnv, "1")
	r = &recordingTB{TB: t}
	requireTools(r, err)
	if r.fatal == "" || r.skipped != "" {
		t.Errorf("with %s=1: fatal %q, skipped %q; want a failure", RequireEnv, r.fatal, r.skipped)
	}
	if !strings.Contains(r.fatal, "apt-get install openvswitch-switch") {
		t.Errorf("failure message %q does not say how to install", r.fatal)
	}
}

func TestParseClusterStatus(t *testing.T) {
	const text = `ab12
Name: Lab
Cluster ID: 7af5 (7af5a86a-f054-474b-81c3-4e6c966a826f)
Server ID: 60b8 (60b81e06-a2f4-422f-9cf7-55d07564ddfa)
Address: tcp:127.0.0.1:23456
Status: cluster member
Role: follower
Term: 17
Leader: 1f14
Vote: unknown

Election timer: 1000
Log: [2, 3]
Servers:
    60b8 (60b8 at tcp:127.0.0.1:23456) (self) next_index=2 match_index=2
`
	var s MemberStatus
	parseClusterStatus(&s, text)
	want := MemberStatus{Role: RoleFollower, Term: 17, Leader: "1f14", Status: "cluster member",
		ServerID: "60b8", ClusterID: "7af5", Raw: text}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	if s.IsLeader() {
		t.Error("a follower is not leader")
	}
	if got := electionTimerOf(text); got != 1000 {
		t.Errorf("election timer %d, want 1000", got)
	}
}

func TestCanonicalValue(t *testing.T) {
	dec := func(s string) any {
		v, err := jsonnum.Decode([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct{ a, b string }{
		{`"x"`, `["set",["x"]]`},
		{`1`, `["set",[1]]`},
		{`["uuid","u1"]`, `["set",[["uuid","u1"]]]`},
		{`["set",["b","a"]]`, `["set",["a","b"]]`},
		{`["map",[["k2","v"],["k1","v"]]]`, `["map",[["k1","v"],["k2","v"]]]`},
	}
	for _, tt := range tests {
		a, b := CanonicalValue(dec(tt.a)), CanonicalValue(dec(tt.b))
		if !reflect.DeepEqual(a, b) {
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			t.Errorf("%s -> %s, %s -> %s: want equal", tt.a, ja, tt.b, jb)
		}
	}
	if reflect.DeepEqual(CanonicalValue(dec(`["set",["a"]]`)), CanonicalValue(dec(`["set",["b"]]`))) {
		t.Error("different sets compare equal")
	}
	c := Contents{"T": {"u": {"c": dec(`["set",["b","a"]]`)}}}.Canonical()
	if got, _ := json.Marshal(c); string(got) != `{"T":{"u":{"c":["set",["a","b"]]}}}` {
		t.Errorf("Canonical() = %s", got)
	}
}

func TestSplitRemote(t *testing.T) {
	for _, tt := range []struct{ remote, network, addr string }{
		{"tcp:127.0.0.1:6641", "tcp", "127.0.0.1:6641"},
		{"tcp:[::1]:6641", "tcp", "[::1]:6641"},
		{"unix:/run/db.sock", "unix", "/run/db.sock"},
	} {
		n, a, err := splitRemote(tt.remote)
		if err != nil || n != tt.network || a != tt.addr {
			t.Errorf("splitRemote(%q) = %q, %q, %v", tt.remote, n, a, err)
		}
	}
	if _, _, err := splitRemote("ssl:127.0.0.1:6641"); err == nil {
		t.Error("ssl: accepted")
	}
}

func TestPickPorts(t *testing.T) {
	ports, err := pickPorts(6)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p < portMin || p >= portMax || seen[p] {
			t.Errorf("bad or repeated port %d in %v", p, ports)
		}
		seen[p] = true
	}
}

func TestRawOps(t *testing.T) {
	params, err := rawOps("Lab", []any{`{"op":"comment","comment":"x"}`, map[string]any{"op": "abort"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(params)
	if want := `["Lab",{"op":"comment","comment":"x"},{"op":"abort"}]`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := rawOps("Lab", []any{`{"op":`}); err == nil {
		t.Error("invalid JSON accepted")
	}
}
