package main

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"time"
)

// raftLine matches an INFO line of ovsdb-server's raft module, as
// ovsdb-server 3.1 writes its log file:
//
//	2026-12-02T02:21:27.123Z|00042|raft|INFO|term 3: elected leader by 2+ of 3 servers
var raftLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z\|\d+\|raft\|INFO\|(.*)$`)

// raftEvent is one line of a member's log that marks an election.
type raftEvent struct {
	T      time.Time
	Member int
	Msg    string
}

// isElection reports whether a raft log message marks a new leader. The
// winner logs "term N: elected leader by M+ of K servers"; that line is
// rate-limited in 3.1 (VLOG_INFO_RL: burst 5, then one a minute), so the
// followers' "server X is leader for term N" (their first append from the
// new leader; not rate-limited) counts too. The earliest of them is the
// election time, to the logs' millisecond.
func isElection(msg string) bool {
	return strings.Contains(msg, "elected leader") || strings.Contains(msg, "is leader for term")
}

// electionsIn reads the election lines of the given log files (member i's
// log is paths[i]) at or after since.
func electionsIn(paths []string, since time.Time) []raftEvent {
	var out []raftEvent
	for i, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			m := raftLine.FindStringSubmatch(sc.Text())
			if m == nil || !isElection(m[2]) {
				continue
			}
			t, err := time.Parse("2006-01-02T15:04:05.000", m[1])
			if err != nil || t.Before(since) {
				continue
			}
			out = append(out, raftEvent{T: t, Member: i, Msg: m[2]})
		}
		f.Close()
	}
	return out
}

// electedFromLogs returns the first election logged at or after t0 (less
// the logs' 1 ms resolution), if any.
func electedFromLogs(paths []string, t0 time.Time) (raftEvent, bool) {
	var best raftEvent
	ok := false
	for _, e := range electionsIn(paths, t0.Add(-time.Millisecond).Truncate(time.Millisecond)) {
		if !ok || e.T.Before(best.T) {
			best, ok = e, true
		}
	}
	return best, ok
}
