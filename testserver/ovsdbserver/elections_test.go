package ovsdbserver

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestElectionsInLog(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s1.log")
	log := "2026-12-02T02:21:26.000Z|00040|raft|INFO|term 2: elected leader by 2+ of 3 servers\n" +
		"2026-12-02T02:21:27.100Z|00041|raft|INFO|term 3: 1361 ms timeout expired, starting election\n" +
		"2026-12-02T02:21:27.123Z|00042|raft|INFO|server 1a2b is leader for term 3\n" +
		"garbage\n"
	if err := os.WriteFile(p, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 12, 2, 2, 21, 27, 0, time.UTC)
	got := electionsInLog(p, 1, since)
	if len(got) != 1 || got[0].Member != 1 || !got[0].T.Equal(since.Add(123*time.Millisecond)) ||
		got[0].Line != "server 1a2b is leader for term 3" {
		t.Fatalf("got %+v", got)
	}
	if got := electionsInLog(filepath.Join(dir, "missing"), 0, since); got != nil {
		t.Fatalf("missing log: %+v", got)
	}
}
