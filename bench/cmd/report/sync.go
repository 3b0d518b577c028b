package main

// The sync comparison: a real 3-member ovsdb-server cluster holding Lab Item
// rows, each client started as a process of its own, wall time from spawning
// it to a complete replica (or complete output), peak RSS from the kernel.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/procmem"
	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// syncRun is one sync of one client.
type syncRun struct {
	Client     string  `json:"client"`
	Rows       int     `json:"rows"`
	Rep        int     `json:"rep"`
	WallMs     float64 `json:"wall_ms"`               // spawn to complete
	PeakRSS    int64   `json:"peak_rss"`              // bytes (VmHWM)
	VsFloor    float64 `json:"vs_floor,omitempty"`    // wall ÷ mean of the floor runs just before and after
	BaseRSS    int64   `json:"base_rss"`              // Go clients: RSS before the client was created
	CPUMs      float64 `json:"cpu_ms"`                // user + system of the process
	Retained   int64   `json:"retained"`              // Go children: heap kept with the client synced
	ReplyBytes int64   `json:"reply_bytes,omitempty"` // the floor: size of the reply
}

// syncKinds are the columns of the sync table, in order.
var syncKinds = []string{"floor", "ovsdbcs", "ovsdbcs-columns", "c-monitor", "libovsdb"}

// labColumns are the Lab Item columns, named in every request that names
// columns (the floor's, ovsdbcs-columns', the C client's).
var labColumns = []string{"name", "n", "data"}

// buildClients builds the Go sync clients (small programs of their own) into
// dir and returns their paths.
func buildClients(ctx context.Context, dir string) (ours, theirs string, err error) {
	ours, theirs = filepath.Join(dir, "client"), filepath.Join(dir, "libovsdbclient")
	for _, b := range [][2]string{{ours, "./cmd/report/client"}, {theirs, "./cmd/report/libovsdbclient"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b[0], b[1])
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", "", fmt.Errorf("go build %s (run the report from bench/): %w", b[1], err)
		}
	}
	return ours, theirs, nil
}

func runSync(ctx context.Context, o options, tmp string) ([]syncRun, error) {
	if err := ovsdbserver.Available(); err != nil {
		return nil, err
	}
	ours, theirs, err := buildClients(ctx, tmp)
	if err != nil {
		return nil, err
	}
	logf("sync: starting a 3-member ovsdb-server cluster")
	cl, err := ovsdbserver.NewCluster(ctx, 3, ovsdbserver.LabSchema(), ovsdbserver.WithElectionTimer(10*time.Second))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var runs []syncRun
	bracket := slices.Contains(o.clients, "floor")
	loaded := 0
	for _, size := range o.sizes {
		t := time.Now()
		if err := load(ctx, cl, loaded, size); err != nil {
			return runs, err
		}
		logf("sync: loaded rows %d..%d in %v", loaded, size-1, time.Since(t).Round(time.Millisecond))
		loaded = size
		// Let the members catch up and compact after the load, and warm
		// up with one floor run that is not counted.
		time.Sleep(2 * time.Second)
		if lead, err := cl.WaitLeader(ctx); err == nil {
			_, _ = syncOnce(ctx, o, ours, theirs, "floor", cl.Remotes(), cl.Member(lead).Remote(), size)
		}
		for rep := 1; rep <= o.reps; rep++ {
			// Rotate the order, so no client always runs first, and
			// bracket every client with floor runs: its ratio to the floor
			// is taken against the floor runs just before and after it,
			// so that a change of the machine's load between clients
			// affects both sides of the ratio alike.
			var kinds []string
			for _, k := range rotate(o.clients, rep-1) {
				if k != "floor" {
					kinds = append(kinds, k)
				}
			}
			var seq []string
			if bracket {
				seq = append(seq, "floor")
			}
			for _, k := range kinds {
				seq = append(seq, k)
				if bracket {
					seq = append(seq, "floor")
				}
			}
			var prevFloor float64
			var pending []int // runs waiting for the floor run after them
			for _, kind := range seq {
				lead, err := cl.WaitLeader(ctx)
				if err != nil {
					return runs, err
				}
				r, err := syncOnce(ctx, o, ours, theirs, kind, cl.Remotes(), cl.Member(lead).Remote(), size)
				if err != nil {
					return runs, fmt.Errorf("%s rows=%d rep=%d: %w", kind, size, rep, err)
				}
				r.Rep = rep
				if kind == "floor" {
					for _, i := range pending {
						runs[i].VsFloor = runs[i].WallMs / ((prevFloor + r.WallMs) / 2)
					}
					pending, prevFloor = nil, r.WallMs
				} else {
					pending = append(pending, len(runs))
				}
				runs = append(runs, r)
				logf("sync: %-16s rows=%-7d rep=%d %8.1f ms  peak RSS %6.1f MiB (start %4.1f)  cpu %6.0f ms  retained %.0f B/row",
					kind, size, rep, r.WallMs, mib(r.PeakRSS), mib(r.BaseRSS), r.CPUMs, float64(r.Retained)/float64(size))
				time.Sleep(200 * time.Millisecond) // let the servers settle
			}
		}
	}
	return runs, nil
}

func rotate(s []string, k int) []string {
	k %= len(s)
	return append(append([]string(nil), s[k:]...), s[:k]...)
}

// load inserts rows [from, to) into Item, 10,000 per transaction (row i:
// name "item-%07d", n i, data "payload-%024d").
func load(ctx context.Context, cl *ovsdbserver.Cluster, from, to int) error {
	for lo := from; lo < to; lo += 10000 {
		hi := min(lo+10000, to)
		ops := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			ops = append(ops, json.RawMessage(fmt.Sprintf(
				`{"op":"insert","table":"Item","row":{"name":"item-%07d","n":%d,"data":"payload-%024d"}}`, i, i, i)))
		}
		if _, err := cl.Transact(ctx, ops...); err != nil {
			return fmt.Errorf("load rows %d..%d: %w", lo, hi-1, err)
		}
	}
	return nil
}

// syncOnce spawns one client and waits for its sync.
func syncOnce(ctx context.Context, o options, ours, theirs, kind, remotes, leader string, rows int) (syncRun, error) {
	r := syncRun{Client: kind, Rows: rows}
	var cmd *exec.Cmd
	marker := []byte("SYNCED")
	need := 1
	switch kind {
	case "c-monitor":
		// The C client prints each row of the initial reply as a CSV line
		// with "initial" in its action column; complete = the last one.
		cmd = exec.CommandContext(ctx, "ovsdb-client", "-f", "csv", "monitor", remotes, "Lab", "Item", strings.Join(labColumns, ","))
		marker, need = []byte(",initial,"), rows
	case "libovsdb":
		cmd = exec.CommandContext(ctx, theirs, "-remotes", remotes, "-rows", strconv.Itoa(rows), "-timeout", o.timeout.String())
	default:
		rem := remotes
		if kind == "floor" {
			rem = leader
		}
		args := []string{"-kind", kind, "-remotes", rem, "-rows", strconv.Itoa(rows), "-timeout", o.timeout.String()}
		if kind != "floor" && rows == o.sizes[len(o.sizes)-1] {
			args = append(args, "-memprofile", filepath.Join(o.memprofileDir, fmt.Sprintf("%s-%d.pprof", kind, rows)))
		}
		cmd = exec.CommandContext(ctx, ours, args...)
		cmd.Env = append(os.Environ(), o.childEnv...)
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return r, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	got := 0
	timer := time.AfterFunc(o.timeout, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	for sc.Scan() {
		line := sc.Bytes()
		if got < need && bytes.Contains(line, marker) {
			got++
			if got == need {
				r.WallMs = float64(time.Since(t0)) / float64(time.Millisecond)
				if kind == "c-monitor" {
					// It monitors forever: read its peak, then stop it.
					r.PeakRSS = procmem.Status(cmd.Process.Pid, "VmHWM")
					_ = cmd.Process.Signal(syscall.SIGTERM)
				}
			}
			continue
		}
		if v, ok := bytes.CutPrefix(line, []byte("RETAINED ")); ok {
			r.Retained, _ = strconv.ParseInt(string(v), 10, 64)
		}
		if v, ok := bytes.CutPrefix(line, []byte("BASERSS ")); ok {
			r.BaseRSS, _ = strconv.ParseInt(string(v), 10, 64)
		}
		if v, ok := bytes.CutPrefix(line, []byte("PEAKRSS ")); ok {
			r.PeakRSS, _ = strconv.ParseInt(string(v), 10, 64)
		}
		if v, ok := bytes.CutPrefix(line, []byte("REPLY ")); ok {
			r.ReplyBytes, _ = strconv.ParseInt(string(v), 10, 64)
		}
	}
	werr := cmd.Wait()
	if got < need {
		return r, fmt.Errorf("incomplete: %d of %d (%v)", got, need, werr)
	}
	if werr != nil && kind != "c-monitor" {
		return r, werr
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPUMs = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
	}
	return r, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
