package monitor

import (
	"errors"
	"strings"
	"testing"
)

func TestLastID(t *testing.T) {
	c := NewConditions("db")
	if c.LastID() != ZeroLastID {
		t.Fatalf("fresh last id %q", c.LastID())
	}
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: idL1, want: idL1},
		{in: strings.ToUpper(idL2), want: idL2},
		{in: ZeroLastID, want: ZeroLastID},
		{in: idL3, want: idL3},
		{in: "", want: ZeroLastID},
		{in: idL1, want: idL1},
		{in: "not a uuid", bad: true},
		{in: idL1[:35], bad: true},
		{in: idL1 + "0", bad: true},
		{in: strings.Replace(idL1, "-", "x", 1), bad: true},
		{in: strings.Replace(idL1, "1", "g", 1), bad: true},
		{in: "{" + idL1[1:], bad: true},
		{in: strings.Repeat("z", 1000), bad: true},
	}
	for _, tt := range tests {
		before := c.LastID()
		err := c.SetLastID(tt.in)
		if tt.bad {
			if !errors.Is(err, ErrBadLastID) {
				t.Errorf("SetLastID(%.40q): %v, want ErrBadLastID", tt.in, err)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error message not truncated: %d bytes", len(err.Error()))
			}
			if c.LastID() != before {
				t.Errorf("a bad id changed the last id")
			}
			continue
		}
		if err != nil || c.LastID() != tt.want {
			t.Errorf("SetLastID(%q): %v, last id %q, want %q", tt.in, err, c.LastID(), tt.want)
		}
	}
	c.ResetLastID()
	if c.LastID() != ZeroLastID {
		t.Errorf("after reset %q", c.LastID())
	}
}

// The last id sent in monitor_cond_since follows every source of truth.
func TestLastIDInRequests(t *testing.T) {
	c := NewConditions("db")
	sel := []TableRequest{{Table: "T"}}
	req := func() string {
		b, err := c.StartMonitor(MethodMonitorCondSince, sel)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := func(id string) string { return `["db",["monid","db"],{"T":[{}]},"` + id + `"]` }
	if got := req(); got != want(ZeroLastID) {
		t.Errorf("first request %s", got)
	}
	// From the reply.
	if err := c.MonitorReplied(idL1); err != nil {
		t.Fatal(err)
	}
	if got := req(); got != want(idL1) {
		t.Errorf("after reply %s", got)
	}
	// found=false carries the server's current id: it is kept too.
	if err := c.MonitorReplied(idL2); err != nil {
		t.Fatal(err)
	}
	// From every update3.
	for _, id := range []string{idL3, idL1} {
		if err := c.SetLastID(id); err != nil {
			t.Fatal(err)
		}
	}
	if got := req(); got != want(idL1) {
		t.Errorf("after update3 %s", got)
	}
	// A monitor_cond fallback reply drops it.
	if _, err := c.StartMonitor(MethodMonitorCond, sel); err != nil {
		t.Fatal(err)
	}
	if err := c.MonitorReplied(idL2); err != nil {
		t.Fatal(err)
	}
	if c.LastID() != ZeroLastID {
		t.Errorf("after monitor_cond reply: %s", c.LastID())
	}
}
