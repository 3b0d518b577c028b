package reconnect_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/reconnect"
	"github.com/ovsdbcs/ovsdbcs/reconnect/internal/script"
)

// fuzzOps are the operations FuzzScript draws from. Each consumes one
// argument byte. script is the equivalent script line ("" if the script
// language has no such command).
var fuzzOps = []struct {
	name   string
	apply  func(f *reconnect.FSM, now *time.Time, arg byte)
	script func(arg byte) string
}{
	{"enable", func(f *reconnect.FSM, now *time.Time, _ byte) { f.Enable(*now) }, fixed("enable")},
	{"disable", func(f *reconnect.FSM, now *time.Time, _ byte) { f.Disable(*now) }, fixed("disable")},
	{"force-reconnect", func(f *reconnect.FSM, now *time.Time, _ byte) { f.ForceReconnect(*now) }, fixed("force-reconnect")},
	{"disconnected", func(f *reconnect.FSM, now *time.Time, arg byte) { f.Disconnected(*now, fuzzErr(arg)) },
		func(arg byte) string { return strings.TrimSpace("disconnected " + fuzzErrName(arg)) }},
	{"connecting", func(f *reconnect.FSM, now *time.Time, _ byte) { f.Connecting(*now) }, fixed("connecting")},
	{"connect-failed", func(f *reconnect.FSM, now *time.Time, arg byte) { f.ConnectFailed(*now, fuzzErr(arg)) },
		func(arg byte) string { return strings.TrimSpace("connect-failed " + fuzzErrName(arg)) }},
	{"connected", func(f *reconnect.FSM, now *time.Time, _ byte) { f.Connected(*now) }, fixed("connected")},
	{"activity", func(f *reconnect.FSM, now *time.Time, _ byte) { f.Activity(*now) }, fixed("activity")},
	{"run", func(f *reconnect.FSM, now *time.Time, _ byte) { f.Run(*now) }, fixed("run")},
	{"advance", func(_ *reconnect.FSM, now *time.Time, arg byte) { *now = now.Add(fuzzStep(arg)) },
		func(arg byte) string { return fmt.Sprintf("advance %d", fuzzStep(arg).Milliseconds()) }},
	{"run N", func(f *reconnect.FSM, now *time.Time, arg byte) { *now = now.Add(fuzzStep(arg)); f.Run(*now) },
		func(arg byte) string { return fmt.Sprintf("run %d", fuzzStep(arg).Milliseconds()) }},
	{"timeout", func(f *reconnect.FSM, now *time.Time, _ byte) {
		if d, ok := f.Timeout(*now); ok {
			*now = now.Add(d)
		}
	}, fixed("timeout")},
	{"set-max-tries", func(f *reconnect.FSM, _ *time.Time, arg byte) { f.SetMaxTries(fuzzTries(arg)) },
		func(arg byte) string { return fmt.Sprintf("set-max-tries %d", fuzzTries(arg)) }},
	{"set-backoff-free-tries", func(f *reconnect.FSM, _ *time.Time, arg byte) { f.SetBackoffFreeTries(uint32(arg % 6)) },
		func(arg byte) string { return fmt.Sprintf("set-backoff-free-tries %d", arg%6) }},
	{"passive", func(f *reconnect.FSM, now *time.Time, _ byte) { f.SetPassive(true, *now) }, fixed("passive")},
	{"active", func(f *reconnect.FSM, now *time.Time, _ byte) { f.SetPassive(false, *now) }, fixed("")},
	{"listening", func(f *reconnect.FSM, now *time.Time, _ byte) { f.Listening(*now) }, fixed("listening")},
	{"listen-error", func(f *reconnect.FSM, now *time.Time, arg byte) { f.ListenError(*now, fuzzErr(arg)) },
		func(arg byte) string { return fmt.Sprintf("listen-error %d", arg%3) }},
	{"receive-attempted now", func(f *reconnect.FSM, now *time.Time, _ byte) { f.ReceiveAttempted(*now) }, fixed("receive-attempted now")},
	{"receive-attempted never", func(f *reconnect.FSM, _ *time.Time, _ byte) { f.ReceiveAttemptedNever() }, fixed("receive-attempted LLONG_MAX")},
	{"set-probe-interval", func(f *reconnect.FSM, _ *time.Time, arg byte) {
		f.SetProbeInterval(time.Duration(arg%4) * 1500 * time.Millisecond)
	}, fixed("")},
}

func fixed(line string) func(byte) string { return func(byte) string { return line } }

func fuzzStep(arg byte) time.Duration { return time.Duration(arg) * 37 * time.Millisecond }

func fuzzTries(arg byte) uint32 {
	if arg >= 250 {
		return reconnect.Unlimited
	}
	return uint32(arg % 5)
}

func fuzzErr(arg byte) error {
	switch arg % 3 {
	case 1:
		return syscall.ECONNREFUSED
	case 2:
		return io.EOF
	}
	return nil
}

func fuzzErrName(arg byte) string {
	return [...]string{"", "ECONNREFUSED", "EOF"}[arg%3]
}

// FuzzScript drives an FSM with random operation sequences and checks its
// invariants after every step:
//   - no panic;
//   - 0 <= backoff <= max backoff;
//   - after Run returns None, the deadline (if any) is after now; after
//     Run, an Active FSM's deadline is after now (a probe that was due
//     has been sent);
//   - Timeout is never negative;
//   - seqno, attempts and successes never decrease, successes <= attempts;
//   - IsConnected agrees with the state; Active and Idle have a connection
//     time.
//
// The same sequence, rendered in the script language (without the two
// operations it lacks), must run through the script driver without error.
func FuzzScript(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 8, 0, 6, 0, 11, 0, 8, 0, 11, 0, 8, 0, 3, 0})
	f.Add([]byte{130, 120, 13, 3, 0, 0, 8, 0, 6, 0, 2, 0, 8, 0, 3, 1, 8, 0, 5, 1, 11, 0})
	f.Add([]byte{200, 40, 12, 2, 0, 0, 5, 1, 11, 0, 5, 1, 11, 0, 5, 1, 11, 0})
	f.Add([]byte{0, 0, 14, 0, 0, 0, 8, 0, 16, 0, 17, 1, 11, 0, 6, 0, 7, 0, 9, 50, 18, 0, 8, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		// The first two bytes may set the backoff range (while VOID, so
		// the current backoff starts within it); below 128 they keep the
		// defaults.
		now := time.UnixMilli(1000)
		fsm := reconnect.New(now)
		if data[0] >= 128 {
			fsm.SetBackoff(time.Duration(data[0]-128)*100*time.Millisecond, time.Duration(data[1])*100*time.Millisecond)
		}
		data = data[2:]

		var lines []string
		var prev reconnect.Stats
		for i := 0; i+1 < len(data) && i < 2000; i += 2 {
			op := fuzzOps[int(data[i])%len(fuzzOps)]
			arg := data[i+1]
			before := fsm.State()
			op.apply(fsm, &now, arg)
			if line := op.script(arg); line != "" {
				lines = append(lines, line)
			}

			st := fsm.Stats(now)
			where := func() string {
				return fmt.Sprintf("step %d (%s %d) from %v to %v", i/2, op.name, arg, before, st.State)
			}
			if st.Backoff < 0 || st.Backoff > fsm.MaxBackoff() {
				t.Fatalf("%s: backoff %v outside [0, %v]", where(), st.Backoff, fsm.MaxBackoff())
			}
			if st.Seqno < prev.Seqno || st.Attempted < prev.Attempted || st.Successful < prev.Successful {
				t.Fatalf("%s: counters went down: %+v -> %+v", where(), prev, st)
			}
			if st.Successful > st.Attempted {
				t.Fatalf("%s: %d successes out of %d attempts", where(), st.Successful, st.Attempted)
			}
			if st.IsConnected != (st.State == reconnect.Active || st.State == reconnect.Idle) || st.IsConnected != fsm.IsConnected() {
				t.Fatalf("%s: IsConnected %v in %v", where(), st.IsConnected, st.State)
			}
			if st.IsConnected && !st.EverConnected {
				t.Fatalf("%s: connected without a connection time", where())
			}
			if d, ok := fsm.Timeout(now); ok && d < 0 {
				t.Fatalf("%s: negative timeout %v", where(), d)
			}
			if op.name == "run" || op.name == "run N" {
				// Run again to see its answer without changing the
				// sequence's effect: a second Run at the same instant is
				// idempotent except for the Active->Idle move, which the
				// first call already made.
				a := fsm.Run(now)
				deadline, ok := fsm.Deadline(now)
				if a == reconnect.None && ok && !deadline.After(now) {
					t.Fatalf("%s: Run returned none with deadline %v not after now %v", where(), deadline, now)
				}
				if fsm.State() == reconnect.Active && ok && !deadline.After(now) {
					t.Fatalf("%s: Active after Run with deadline %v not after now %v", where(), deadline, now)
				}
				st = fsm.Stats(now)
			}
			prev = st
		}

		// The script language has every operation but "active" and
		// "set-probe-interval"; whatever the sequence, the driver must
		// accept it.
		in := strings.Join(lines, "\n") + "\n"
		var out bytes.Buffer
		if err := script.Run(strings.NewReader(in), &out); err != nil {
			t.Fatalf("script driver failed: %v\ninput:\n%s", err, in)
		}
		if got, want := strings.Count(out.String(), "\n"), len(lines)+1; got < want {
			t.Fatalf("transcript has %d lines for %d input lines", got, len(lines))
		}
	})
}

// FuzzScriptText feeds arbitrary text to the script driver: it may reject
// it, but must not panic, and must echo every line it read.
func FuzzScriptText(f *testing.F) {
	ins, _ := filepath.Glob(filepath.Join("testdata", "*.in"))
	for _, in := range ins {
		if b, err := os.ReadFile(in); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("run 2147483647\nrun 2147483647\ntimeout\n"))
	f.Add([]byte("enable\x00run\n'quoted word' \"x\\\"y\"\\\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		err := script.Run(bytes.NewReader(in), &out)
		if err == nil && !strings.HasPrefix(out.String(), "### t=1000 ###\n") {
			t.Fatalf("transcript does not start with the time header: %q", out.String())
		}
	})
}
