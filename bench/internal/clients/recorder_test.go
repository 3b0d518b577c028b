package clients

import (
	"testing"
	"time"
)

func TestRecorder(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r := NewRecorder("mark-")
	r.Monitoring(at(-10), true, "a")
	r.Monitoring(at(-5), true, "a") // repeat: ignored
	r.Attempt(at(-1), "a")
	r.Monitoring(at(2), false, "a")
	r.Attempt(at(3), "b")
	r.Attempt(at(4), "c")
	r.Attempt(at(9), "b")
	r.Monitoring(at(10), true, "b")
	r.Row(at(12), "mark-1")
	r.Row(at(13), "mark-1") // first time kept
	r.Row(at(14), "other")  // not watched

	if tm, ok := r.UpAfter(t0, "b"); !ok || !tm.Equal(at(10)) {
		t.Errorf("UpAfter(b) = %v, %v", tm, ok)
	}
	if _, ok := r.UpAfter(t0, "a"); ok {
		t.Error("UpAfter(a) found a transition")
	}
	if tm, ok := r.DownAfter(t0); !ok || !tm.Equal(at(2)) {
		t.Errorf("DownAfter = %v, %v", tm, ok)
	}
	if tm, ok := r.RowTime("mark-1"); !ok || !tm.Equal(at(12)) {
		t.Errorf("RowTime = %v, %v", tm, ok)
	}
	if n, last := r.RowCount(); n != 1 || !last.Equal(at(12)) {
		t.Errorf("RowCount = %d, %v", n, last)
	}
	if got := r.AttemptsIn(t0, at(10)); got != 3 {
		t.Errorf("AttemptsIn = %d, want 3", got)
	}
	if got := r.MaxPerAddrIn(t0, at(10)); got != 2 {
		t.Errorf("MaxPerAddrIn = %d, want 2", got)
	}
	if up, remote := r.Current(); !up || remote != "b" {
		t.Errorf("Current = %v, %q", up, remote)
	}
}
