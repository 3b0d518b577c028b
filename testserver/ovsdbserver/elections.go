package ovsdbserver

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"time"
)

// raftInfoLine matches an INFO line of ovsdb-server's raft module in its
// log file, for example
//
//	2026-12-02T02:21:27.123Z|00042|raft|INFO|term 3: elected leader by 2+ of 3 servers
var raftInfoLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z\|\d+\|raft\|INFO\|(.*)$`)

// Election is a log line of a member that marks a new leader.
type Election struct {
	T      time.Time // to the log's millisecond (UTC)
	Member int
	Line   string // the message, e.g. "term 3: elected leader by 2+ of 3 servers"
}

// isElectionLine reports whether a raft message marks a new leader. The
// winner logs "term N: elected leader by M+ of K servers"; that line is
// rate-limited in 3.1 (VLOG_INFO_RL in ovsdb/raft.c: a burst of 5, then
// one a minute), so a follower's "server X is leader for term N" (its
// first append from the new leader, not rate-limited) counts too.
func isElectionLine(msg string) bool {
	return strings.Contains(msg, "elected leader") || strings.Contains(msg, "is leader for term")
}

// Elections returns the election lines of every member's log (LogPath)
// logged at or after since, in no particular order.
func (c *Cluster) Elections(since time.Time) []Election {
	var out []Election
	for i, m := range c.l.members {
		out = append(out, electionsInLog(m.LogPath(), i, since)...)
	}
	return out
}

// FirstElection returns the earliest election logged at or after t (less
// the logs' 1 ms resolution): the time the new leader took office.
func (c *Cluster) FirstElection(t time.Time) (Election, bool) {
	var best Election
	ok := false
	for _, e := range c.Elections(t.Add(-time.Millisecond).Truncate(time.Millisecond)) {
		if !ok || e.T.Before(best.T) {
			best, ok = e, true
		}
	}
	return best, ok
}

func electionsInLog(path string, member int, since time.Time) []Election {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []Election
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := raftInfoLine.FindStringSubmatch(sc.Text())
		if m == nil || !isElectionLine(m[2]) {
			continue
		}
		t, err := time.Parse("2006-01-02T15:04:05.000", m[1])
		if err != nil || t.Before(since) {
			continue
		}
		out = append(out, Election{T: t, Member: member, Line: m[2]})
	}
	return out
}
