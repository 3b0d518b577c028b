package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestElectedFromLogs(t *testing.T) {
	dir := t.TempDir()
	logs := []string{
		"2026-12-02T02:21:26.000Z|00040|raft|INFO|term 2: elected leader by 2+ of 3 servers\n" +
			"2026-12-02T02:21:27.500Z|00041|raft|INFO|server 1a2b is leader for term 3\n",
		"2026-12-02T02:21:27.100Z|00010|raft|INFO|term 3: 1361 ms timeout expired, starting election\n" +
			"2026-12-02T02:21:27.123Z|00011|raft|INFO|term 3: elected leader by 2+ of 3 servers\n" +
			"garbage line\n",
	}
	var paths []string
	for i, l := range logs {
		p := filepath.Join(dir, "s"+string(rune('0'+i))+".log")
		if err := os.WriteFile(p, []byte(l), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	paths = append(paths, filepath.Join(dir, "missing.log"))
	t0 := time.Date(2026, 12, 2, 2, 21, 27, 0, time.UTC)
	e, ok := electedFromLogs(paths, t0)
	if !ok || e.Member != 1 || !e.T.Equal(t0.Add(123*time.Millisecond)) {
		t.Fatalf("got %+v %v", e, ok)
	}
	if _, ok := electedFromLogs(paths, t0.Add(time.Second)); ok {
		t.Fatal("found an election after the last one")
	}
}
