package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalsExitCleanly builds the command and checks that SIGTERM and
// SIGINT end "testserver" and "monitor" with exit status 0.
func TestSignalsExitCleanly(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go tool is not in PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "ovsdb-cs")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// startCmd starts the binary and returns it with its first stdout line
	// (or "" when lineWanted is false).
	startCmd := func(lineWanted bool, args ...string) (*exec.Cmd, string) {
		cmd := exec.Command(bin, args...)
		cmd.Stderr = newOutBuf() // locked: read on failure while the process runs
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
		lines := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			first := true
			for sc.Scan() {
				if first {
					lines <- sc.Text()
					first = false
				}
			}
		}()
		if !lineWanted {
			return cmd, ""
		}
		select {
		case l := <-lines:
			return cmd, l
		case <-time.After(waitTimeout):
			t.Fatalf("%q printed nothing; stderr:\n%s", args, cmd.Stderr)
			return nil, ""
		}
	}
	stop := func(cmd *exec.Cmd, sig syscall.Signal) {
		t.Helper()
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v after %v: %v; stderr:\n%s", cmd.Args[1:], sig, err, cmd.Stderr)
			}
		case <-time.After(waitTimeout):
			_ = cmd.Process.Kill()
			t.Fatalf("%v did not exit after %v", cmd.Args[1:], sig)
		}
	}

	server, remotes := startCmd(true, "testserver", "-n", "3")
	if strings.Count(remotes, "tcp:127.0.0.1:") != 3 {
		t.Fatalf("testserver printed %q", remotes)
	}
	mon, first := startCmd(true, "monitor", "--format=events", remotes, "Lab", "Item")
	if !strings.Contains(first, `"event":"state"`) {
		t.Fatalf("monitor's first line: %q", first)
	}
	stop(mon, syscall.SIGINT)
	stop(server, syscall.SIGTERM)
	_ = os.Remove(bin)
}
