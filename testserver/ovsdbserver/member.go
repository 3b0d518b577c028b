package ovsdbserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// env is what every member of one launch shares.
type env struct {
	cfg       config
	bins      binaries
	dir       string
	db        string
	clustered bool
}

// Member is one ovsdb-server process of a Cluster (or the single process of
// a standalone Server). Its files are named after its index: s0.db, s0.log,
// s0.ctl (unixctl socket), s0.pid, s0.sock (a punix: client socket), s0.out
// (the process's stdout and stderr).
type Member struct {
	env      *env
	index    int
	port     int // client port on 127.0.0.1
	raftPort int // 0 for a standalone server

	mu sync.Mutex
	p  *proc // nil before the first start
}

func (m *Member) path(ext string) string {
	return filepath.Join(m.env.dir, "s"+strconv.Itoa(m.index)+"."+ext)
}

// Index is the member's index in its cluster, from 0.
func (m *Member) Index() int { return m.index }

// Remote is the member's client remote, "tcp:127.0.0.1:PORT". It does not
// change when the member is restarted.
func (m *Member) Remote() string { return "tcp:127.0.0.1:" + strconv.Itoa(m.port) }

// UnixRemote is the member's client remote on a unix socket, "unix:PATH".
func (m *Member) UnixRemote() string { return "unix:" + m.path("sock") }

// RaftAddress is the member's RAFT address, "tcp:127.0.0.1:PORT", or "" for
// a standalone server.
func (m *Member) RaftAddress() string {
	if m.raftPort == 0 {
		return ""
	}
	return "tcp:127.0.0.1:" + strconv.Itoa(m.raftPort)
}

// LogPath is the member's ovsdb-server log file (kept across restarts).
func (m *Member) LogPath() string { return m.path("log") }

// CtlPath is the member's unixctl socket, for `ovs-appctl -t PATH ...`.
func (m *Member) CtlPath() string { return m.path("ctl") }

// DBPath is the member's database file.
func (m *Member) DBPath() string { return m.path("db") }

func (m *Member) current() *proc {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.p
}

// Pid is the process id of the running server, or 0 when it is not running.
func (m *Member) Pid() int {
	p := m.current()
	if p == nil || p.exited() {
		return 0
	}
	return p.pid()
}

// Running reports whether the server process is alive (stopped or not).
func (m *Member) Running() bool { return m.Pid() != 0 }

// process returns ProcRunning, ProcStopped or ProcExited.
func (m *Member) process() string {
	pid := m.Pid()
	if pid == 0 {
		return ProcExited
	}
	if procState(pid) == "T" {
		return ProcStopped
	}
	return ProcRunning
}

// Appctl runs a unixctl command on the member, like
// `ovs-appctl -t CtlPath() CMD ARGS...`, and returns its output.
func (m *Member) Appctl(ctx context.Context, cmd string, args ...string) (string, error) {
	ctx, cancel := m.env.bound(ctx)
	defer cancel()
	if len(m.CtlPath()) < 100 {
		params := append([]string{}, args...)
		res, err := callOnce(ctx, "unix", m.CtlPath(), cmd, params)
		if err != nil {
			var re *RPCError
			if errors.As(err, &re) {
				var msg string
				if json.Unmarshal(re.Raw, &msg) == nil {
					return "", fmt.Errorf("s%d: %s: %s", m.index, cmd, strings.TrimSpace(msg))
				}
			}
			return "", fmt.Errorf("s%d: %w", m.index, err)
		}
		var out string
		if err := json.Unmarshal(res, &out); err != nil {
			return "", fmt.Errorf("s%d: %s: unexpected reply %s", m.index, cmd, res)
		}
		return out, nil
	}
	// Too long for a Go unix socket address: let ovs-appctl deal with it.
	c := exec.CommandContext(ctx, m.env.bins.appctl, append([]string{"-t", m.CtlPath(), cmd}, args...)...)
	out, err := c.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("s%d: ovs-appctl %s: %w: %s", m.index, cmd, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// statusTimeout bounds one cluster/status call.
const statusTimeout = 2 * time.Second

// ClusterStatus asks the member for `cluster/status DB`. A stopped or exited
// member is reported without asking it (Err set).
func (m *Member) ClusterStatus(ctx context.Context) MemberStatus {
	s := MemberStatus{Index: m.index, Pid: m.Pid(), Process: m.process(), Remote: m.Remote()}
	switch s.Process {
	case ProcExited:
		s.Pid = 0
		s.Err = fmt.Errorf("s%d is not running", m.index)
		return s
	case ProcStopped:
		s.Err = fmt.Errorf("s%d is stopped (SIGSTOP)", m.index)
		return s
	}
	if !m.env.clustered {
		s.Err = fmt.Errorf("s%d is a standalone server", m.index)
		return s
	}
	// A member that is busy or hung must not hold up a poll of the others.
	cctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	text, err := m.Appctl(cctx, "cluster/status", m.env.db)
	if err != nil {
		s.Err = err
		return s
	}
	parseClusterStatus(&s, text)
	return s
}

// WaitStatus polls the member's cluster/status (every few milliseconds)
// until ok returns true for a status without error, and returns that
// status. It gives up when ctx is done or the launcher's timeout passes,
// returning the last status seen with the error.
func (m *Member) WaitStatus(ctx context.Context, ok func(MemberStatus) bool) (MemberStatus, error) {
	ctx, cancel := m.env.bound(ctx)
	defer cancel()
	for {
		st := m.ClusterStatus(ctx)
		if st.Err == nil && ok(st) {
			return st, nil
		}
		if err := sleepCtx(ctx, 3*time.Millisecond); err != nil {
			return st, fmt.Errorf("ovsdbserver: s%d: condition not met (last status: role %q status %q err %v): %w",
				m.index, st.Role, st.Status, st.Err, err)
		}
	}
}

// serverArgs is the ovsdb-server command line of the member.
func (m *Member) serverArgs() []string {
	args := []string{
		"--no-chdir", "-vconsole:off", "-vfile:info",
		"--log-file=" + m.LogPath(),
		"--pidfile=" + m.path("pid"),
		"--unixctl=" + m.CtlPath(),
		"--remote=ptcp:" + strconv.Itoa(m.port) + ":127.0.0.1",
		"--remote=punix:" + m.path("sock"),
	}
	args = append(args, m.env.cfg.serverArgs...)
	return append(args, m.DBPath())
}

// start starts the server process; the member must not be running.
func (m *Member) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p != nil && !m.p.exited() {
		return fmt.Errorf("s%d is still running (pid %d)", m.index, m.p.pid())
	}
	// A stale unixctl or client socket from a killed process is harmless
	// (ovsdb-server replaces it), but remove it so readiness checks cannot
	// talk to a dead socket.
	_ = os.Remove(m.CtlPath())
	p, err := startProc(m.env.bins.server, m.serverArgs(), m.path("out"))
	if err != nil {
		return fmt.Errorf("s%d: %w", m.index, err)
	}
	m.p = p
	m.env.cfg.logger.V(1).Info("started ovsdb-server", "member", m.index, "pid", p.pid(),
		"remote", m.Remote(), "raft", m.RaftAddress())
	return nil
}

// errPortInUse means a port picked for the launch was taken meanwhile: the
// whole start is retried with new ports.
var errPortInUse = errors.New("port already in use")

// checkAlive returns an error when the process has exited or its log says a
// port was taken.
func (m *Member) checkAlive() error {
	p := m.current()
	if p == nil {
		return fmt.Errorf("s%d was never started", m.index)
	}
	if logHasPortClash(m.LogPath()) || logHasPortClash(m.path("out")) {
		return fmt.Errorf("s%d: %w (see %s)", m.index, errPortInUse, m.LogPath())
	}
	if p.exited() {
		return fmt.Errorf("s%d exited (%v); log tail:\n%s", m.index, p.err, m.logTail(15))
	}
	return nil
}

func logHasPortClash(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), "Address already in use")
}

// waitReady waits until the member serves its database on its TCP port and,
// when clustered, is a cluster member that knows the leader.
func (m *Member) waitReady(ctx context.Context) error {
	for {
		if err := m.checkAlive(); err != nil {
			return err
		}
		err := m.readyOnce(ctx)
		if err == nil {
			return nil
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			if e := m.checkAlive(); e != nil {
				return e
			}
			return fmt.Errorf("s%d not ready: %v: %w", m.index, err, ctx.Err())
		}
	}
}

func (m *Member) readyOnce(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if m.env.clustered {
		st := m.ClusterStatus(cctx)
		if st.Err != nil {
			return st.Err
		}
		if st.Status != "cluster member" {
			return fmt.Errorf("status %q", st.Status)
		}
		if st.Leader == "" || st.Leader == "unknown" {
			return errors.New("leader unknown")
		}
	}
	res, err := callOnce(cctx, "tcp", strings.TrimPrefix(m.Remote(), "tcp:"), "list_dbs", []any{})
	if err != nil {
		return err
	}
	var dbs []string
	if err := json.Unmarshal(res, &dbs); err != nil {
		return fmt.Errorf("list_dbs: %w", err)
	}
	for _, d := range dbs {
		if d == m.env.db {
			return nil
		}
	}
	return fmt.Errorf("list_dbs on %s = %v, no %s (another server on the port?)", m.Remote(), dbs, m.env.db)
}

// signal sends sig to the running member.
func (m *Member) signal(sig syscall.Signal) error {
	p := m.current()
	if p == nil || p.exited() {
		return fmt.Errorf("s%d is not running", m.index)
	}
	if err := p.signal(sig); err != nil {
		return fmt.Errorf("s%d: signal %v: %w", m.index, sig, err)
	}
	m.env.cfg.logger.V(1).Info("signalled ovsdb-server", "member", m.index, "pid", p.pid(), "signal", sig.String())
	return nil
}

// Kill sends sig (SIGKILL when none is given) to the member and, unless sig
// is SIGSTOP, SIGCONT or 0, waits (bounded by the launcher's timeout) for it
// to exit. A stopped member is continued after a catchable signal so that it
// can act on it.
func (m *Member) Kill(sig ...syscall.Signal) error {
	s := syscall.SIGKILL
	if len(sig) > 0 {
		s = sig[0]
	}
	p := m.current()
	if err := m.signal(s); err != nil {
		return err
	}
	switch s {
	case 0, syscall.SIGSTOP, syscall.SIGCONT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
		return nil
	case syscall.SIGKILL:
	default:
		_ = p.signal(syscall.SIGCONT)
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.env.cfg.timeout)
	defer cancel()
	if err := p.wait(ctx); err != nil {
		return fmt.Errorf("s%d after %v: %w", m.index, s, err)
	}
	return nil
}

// Stop freezes the member with SIGSTOP: it keeps its sockets open but
// answers nothing, which looks like a network partition to its peers and
// clients. It returns once the kernel reports the process stopped.
func (m *Member) Stop() error {
	if err := m.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	return m.waitProcState(func(st string) bool { return st == "T" }, "stopped")
}

// Cont resumes a member frozen by Stop (SIGCONT). It returns once the
// kernel reports the process no longer stopped.
func (m *Member) Cont() error {
	if err := m.signal(syscall.SIGCONT); err != nil {
		return err
	}
	return m.waitProcState(func(st string) bool { return st != "T" }, "continued")
}

// waitProcState waits (bounded) until the process state satisfies ok.
func (m *Member) waitProcState(ok func(string) bool, what string) error {
	p := m.current()
	deadline := time.Now().Add(5 * time.Second)
	for !ok(procState(p.pid())) {
		if p.exited() {
			return fmt.Errorf("s%d exited", m.index)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("s%d (pid %d) not %s after 5s", m.index, p.pid(), what)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// Restart starts the member again after it exited (Kill, a transfer by
// exit or term) and waits until it serves clients and, in a cluster, has
// rejoined and knows the leader.
func (m *Member) Restart(ctx context.Context) error {
	ctx, cancel := m.env.bound(ctx)
	defer cancel()
	if err := m.start(); err != nil {
		return err
	}
	if err := m.waitReady(ctx); err != nil {
		return err
	}
	m.env.cfg.logger.Info("restarted ovsdb-server", "member", m.index, "pid", m.Pid())
	return nil
}

// stopProcess terminates the member's process if any is alive.
func (m *Member) stopProcess() error {
	p := m.current()
	if p == nil {
		return nil
	}
	if err := p.terminate(5 * time.Second); err != nil {
		return fmt.Errorf("s%d: %w", m.index, err)
	}
	return nil
}

// logTail returns the last n lines of the member's log (and of its
// stdout/stderr file when that is not empty).
func (m *Member) logTail(n int) string {
	var b strings.Builder
	for _, f := range []string{m.LogPath(), m.path("out")} {
		data, err := os.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "==> %s (last %d lines) <==\n%s\n", f, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// bound applies the launcher's timeout to ctx.
func (e *env) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, e.cfg.timeout)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
