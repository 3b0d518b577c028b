package ovsdbserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireEnv is the environment variable that turns a missing Open vSwitch
// installation from a skipped test into a failed one (CI sets it to 1).
const RequireEnv = "OVSDBCS_REQUIRE_OVSDB_SERVER"

// Tool names the launcher needs.
const (
	toolServer = "ovsdb-server"
	toolTool   = "ovsdb-tool"
	toolClient = "ovsdb-client"
	toolAppctl = "ovs-appctl"
)

// extraBinDirs are searched after PATH: Debian installs ovsdb-server in
// /usr/sbin, which is often missing from an unprivileged user's PATH.
func extraBinDirs() []string {
	return []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"}
}

// ErrNotInstalled is matched (errors.Is) by the error Available returns when
// one of the Open vSwitch tools cannot be found.
var ErrNotInstalled = errors.New("ovsdbserver: Open vSwitch tools not installed")

// MissingError lists the Open vSwitch tools that could not be found.
type MissingError struct {
	Missing  []string // tool names
	Searched []string // directories searched besides PATH
}

func (e *MissingError) Error() string {
	where := "PATH"
	if len(e.Searched) > 0 {
		where += " (nor in " + strings.Join(e.Searched, ", ") + ")"
	}
	return fmt.Sprintf("%s not found in %s; install Open vSwitch, e.g. "+
		"`apt-get install openvswitch-switch` on Debian/Ubuntu",
		strings.Join(e.Missing, ", "), where)
}

// Is makes errors.Is(err, ErrNotInstalled) true.
func (e *MissingError) Is(target error) bool { return target == ErrNotInstalled }

// binaries holds the absolute paths of the tools.
type binaries struct {
	server, tool, client, appctl string
}

// lookTool finds name in PATH, then in dirs.
func lookTool(name string, dirs []string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, true
		}
		return p, true
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

func findBinaries() (binaries, error) { return findBinariesIn(extraBinDirs()) }

func findBinariesIn(dirs []string) (binaries, error) {
	var b binaries
	var missing []string
	for _, t := range []struct {
		name string
		dst  *string
	}{
		{toolServer, &b.server},
		{toolTool, &b.tool},
		{toolClient, &b.client},
		{toolAppctl, &b.appctl},
	} {
		p, ok := lookTool(t.name, dirs)
		if !ok {
			missing = append(missing, t.name)
			continue
		}
		*t.dst = p
	}
	if len(missing) > 0 {
		return binaries{}, &MissingError{Missing: missing, Searched: dirs}
	}
	return b, nil
}

// Available reports whether ovsdb-server, ovsdb-tool, ovsdb-client and
// ovs-appctl can all be found. The error lists what is missing and
// matches ErrNotInstalled.
func Available() error {
	_, err := findBinaries()
	return err
}

// Require skips the test (t.Skipf) when an Open vSwitch tool the launcher
// needs is missing, saying what is missing and how to install it. When the
// environment variable OVSDBCS_REQUIRE_OVSDB_SERVER is 1 it fails the test
// (t.Fatalf) instead, so CI cannot pass by skipping.
func Require(t testing.TB) {
	t.Helper()
	requireTools(t, Available())
}

func requireTools(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("real ovsdb-server required (%s=1) but %v", RequireEnv, err)
		return
	}
	t.Skipf("skipping: needs a real ovsdb-server: %v (set %s=1 to make this a failure)", err, RequireEnv)
}
