package ovsdbserver

import (
	"strconv"
	"strings"
)

// Roles reported by cluster/status.
const (
	RoleLeader    = "leader"
	RoleFollower  = "follower"
	RoleCandidate = "candidate"
)

// Process states reported in MemberStatus.Process.
const (
	ProcRunning = "running" // alive and not stopped
	ProcStopped = "stopped" // SIGSTOPped (state T)
	ProcExited  = "exited"  // not running (killed, exited, never restarted)
)

// MemberStatus is one member's view, from `ovs-appctl cluster/status DB`.
// Fields are empty when the member could not answer (Err says why).
type MemberStatus struct {
	Index   int
	Pid     int    // 0 when not running
	Process string // ProcRunning, ProcStopped or ProcExited
	Remote  string

	Role      string // RoleLeader, RoleFollower, RoleCandidate
	Term      uint64
	Leader    string // the leader's short server id, "self" or "unknown"
	Status    string // e.g. "cluster member", "joining cluster"
	ServerID  string // short server id, e.g. "60b8"
	ClusterID string // short cluster id
	Raw       string // the whole cluster/status text
	Err       error  // why the fields are empty, if they are
}

// IsLeader reports whether the member says it is the leader.
func (s MemberStatus) IsLeader() bool { return s.Err == nil && s.Role == RoleLeader }

// parseClusterStatus fills the fields of s from cluster/status output.
func parseClusterStatus(s *MemberStatus, text string) {
	s.Raw = text
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, " ") {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Role":
			s.Role = v
		case "Term":
			s.Term, _ = strconv.ParseUint(v, 10, 64)
		case "Leader":
			s.Leader = v
		case "Status":
			s.Status = v
		case "Server ID":
			s.ServerID, _, _ = strings.Cut(v, " ")
		case "Cluster ID":
			s.ClusterID, _, _ = strings.Cut(v, " ")
		}
	}
}
