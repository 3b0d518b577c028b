package ovsdbserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one ovsdb-server process run in the foreground as a child of this
// process (not --detach): this process reaps it, knows at once when it
// exits, and the kernel kills it (Pdeathsig) if this process dies first, so
// no server outlives a crashed or timed-out test binary.
type proc struct {
	cmd  *exec.Cmd
	out  *os.File // the child's stdout+stderr file
	done chan struct{}
	err  error // exit status; valid once done is closed
}

// startProc starts bin with args, with its stdout and stderr appended to
// outPath.
func startProc(bin string, args []string, outPath string) (*proc, error) {
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = out.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited (and been reaped).
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig unless the process has already exited.
func (p *proc) signal(sig syscall.Signal) error {
	if p.exited() {
		return errExited
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return errExited
		}
		return err
	}
	return nil
}

var errExited = errors.New("process already exited")

// wait waits for the process to exit, at most until ctx is done.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pid %d still running: %w", p.pid(), ctx.Err())
	}
}

// terminate stops the process for good: SIGCONT (a stopped process cannot
// act on SIGTERM), SIGTERM, up to grace for it to exit, then SIGKILL.
func (p *proc) terminate(grace time.Duration) error {
	if p.exited() {
		return nil
	}
	_ = p.signal(syscall.SIGCONT)
	_ = p.signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	}
	_ = p.signal(syscall.SIGKILL)
	t2 := time.NewTimer(10 * time.Second)
	defer t2.Stop()
	select {
	case <-p.done:
		return nil
	case <-t2.C:
		return fmt.Errorf("pid %d survived SIGKILL for 10s", p.pid())
	}
}

// procState returns the one-letter state of pid from /proc (R, S, T, Z...),
// or "" when it cannot be read.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// pid (comm) state ...; comm may contain spaces or parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
