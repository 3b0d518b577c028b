package reconnect_test

import (
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"

	"github.com/ovsdbcs/ovsdbcs/reconnect"
)

const ms = time.Millisecond

// at returns the instant t milliseconds after the test epoch.
func at(t int64) time.Time { return time.UnixMilli(t) }

func TestNewDefaults(t *testing.T) {
	now := at(1000)
	f := reconnect.New(now)
	if f.State() != reconnect.Void || f.IsEnabled() || f.IsConnected() || f.IsPassive() {
		t.Errorf("new FSM: state %v enabled %v connected %v passive %v", f.State(), f.IsEnabled(), f.IsConnected(), f.IsPassive())
	}
	if f.Name() != "void" {
		t.Errorf("Name() = %q, want void", f.Name())
	}
	if f.MinBackoff() != reconnect.DefaultMinBackoff || f.MaxBackoff() != reconnect.DefaultMaxBackoff ||
		f.ProbeInterval() != reconnect.DefaultProbeInterval {
		t.Errorf("backoff %v..%v probe %v", f.MinBackoff(), f.MaxBackoff(), f.ProbeInterval())
	}
	if f.MaxTries() != reconnect.Unlimited || f.BackoffFreeTries() != 0 {
		t.Errorf("max tries %d free tries %d", f.MaxTries(), f.BackoffFreeTries())
	}
	if _, ok := f.LastConnected(); ok {
		t.Error("LastConnected ok on a new FSM")
	}
	if _, ok := f.LastDisconnected(); ok {
		t.Error("LastDisconnected ok on a new FSM")
	}
	if _, ok := f.Timeout(now); ok {
		t.Error("Timeout ok on a new FSM")
	}
	if a := f.Run(now.Add(time.Hour)); a != reconnect.None {
		t.Errorf("Run = %v on a new FSM", a)
	}
	st := f.Stats(now.Add(5 * ms))
	want := reconnect.Stats{
		CreationTime: now, LastActivity: now, State: reconnect.Void, StateElapsed: 5 * ms,
	}
	if st != want {
		t.Errorf("Stats = %+v\nwant %+v", st, want)
	}
}

func TestNames(t *testing.T) {
	states := map[reconnect.State]string{
		reconnect.Void: "VOID", reconnect.Backoff: "BACKOFF", reconnect.Connecting: "CONNECTING",
		reconnect.Active: "ACTIVE", reconnect.Idle: "IDLE", reconnect.Reconnect: "RECONNECT",
		reconnect.Listening: "LISTENING", reconnect.State(42): "State(42)", reconnect.State(-1): "State(-1)",
	}
	for s, want := range states {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
	actions := map[reconnect.Action]string{
		reconnect.None: "none", reconnect.Connect: "connect", reconnect.Disconnect: "disconnect",
		reconnect.Probe: "probe", reconnect.Action(9): "Action(9)",
	}
	for a, want := range actions {
		if got := a.String(); got != want {
			t.Errorf("Action(%d).String() = %q, want %q", int(a), got, want)
		}
	}
	f := reconnect.New(at(0))
	f.SetName("nb")
	if f.Name() != "nb" {
		t.Errorf("Name() = %q", f.Name())
	}
	f.SetName("")
	if f.Name() != "void" {
		t.Errorf("SetName(\"\"): Name() = %q, want void", f.Name())
	}
}

// step is one call on an FSM at a given millisecond.
type step func(f *reconnect.FSM)

func enable(t int64) step     { return func(f *reconnect.FSM) { f.Enable(at(t)) } }
func connecting(t int64) step { return func(f *reconnect.FSM) { f.Connecting(at(t)) } }
func connected(t int64) step  { return func(f *reconnect.FSM) { f.Connected(at(t)) } }
func failed(t int64) step {
	return func(f *reconnect.FSM) { f.ConnectFailed(at(t), syscall.ECONNREFUSED) }
}
func dropped(t int64) step   { return func(f *reconnect.FSM) { f.Disconnected(at(t), io.EOF) } }
func activity(t int64) step  { return func(f *reconnect.FSM) { f.Activity(at(t)) } }
func recvAt(t int64) step    { return func(f *reconnect.FSM) { f.ReceiveAttempted(at(t)) } }
func run(t int64) step       { return func(f *reconnect.FSM) { f.Run(at(t)) } }
func force(t int64) step     { return func(f *reconnect.FSM) { f.ForceReconnect(at(t)) } }
func listening(t int64) step { return func(f *reconnect.FSM) { f.Listening(at(t)) } }
func probe(d time.Duration) step {
	return func(f *reconnect.FSM) { f.SetProbeInterval(d) }
}
func recvNever() step { return func(f *reconnect.FSM) { f.ReceiveAttemptedNever() } }

func TestDeadlines(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		now       int64
		wantState reconnect.State
		want      int64 // absolute deadline in ms; -1: none
	}{
		{"void", nil, 5000, reconnect.Void, -1},
		{"backoff after enable", []step{enable(1000)}, 1000, reconnect.Backoff, 1000},
		{"backoff after a failure", []step{enable(1000), failed(1000)}, 1500, reconnect.Backoff, 2000},
		{"backoff after a long connection", []step{enable(1000), connected(1000), activity(4000), dropped(4000)}, 4000, reconnect.Backoff, 5000},
		{"connecting: at least 1 s", []step{enable(1000), connecting(1000)}, 1000, reconnect.Connecting, 2000},
		{"connecting: the backoff when longer", []step{enable(1000), failed(1000), failed(2000), failed(4000), connecting(8000)}, 8000, reconnect.Connecting, 12000},
		{"active: probe after connect", []step{enable(1000), connected(1000)}, 1000, reconnect.Active, 6000},
		{"active: probe after activity", []step{enable(1000), connected(1000), activity(3000)}, 3000, reconnect.Active, 8000},
		{"active: old activity does not count", []step{activity(500), enable(1000), connected(1000)}, 1000, reconnect.Active, 6000},
		{"active: expired, no receive attempt", []step{enable(1000), connected(1000)}, 7000, reconnect.Active, 7001},
		{"active: expired, receive attempted before expiry", []step{enable(1000), connected(1000), recvAt(5999)}, 7000, reconnect.Active, 7001},
		{"active: expired, receive attempted at expiry", []step{enable(1000), connected(1000), recvAt(6000)}, 7000, reconnect.Active, 6000},
		{"active: expired, guard off", []step{recvNever(), enable(1000), connected(1000)}, 7000, reconnect.Active, 6000},
		{"active: guard back on", []step{recvNever(), recvAt(1000), enable(1000), connected(1000)}, 7000, reconnect.Active, 7001},
		{"active: probes off", []step{probe(0), enable(1000), connected(1000)}, 1000, reconnect.Active, -1},
		{"active: custom probe", []step{probe(30 * time.Second), enable(1000), connected(1000)}, 1000, reconnect.Active, 31000},
		{"idle", []step{recvNever(), enable(1000), connected(1000), run(6000)}, 6000, reconnect.Idle, 11000},
		{"idle: ignores activity before the probe", []step{recvNever(), enable(1000), connected(1000), activity(5500), run(10500)}, 10500, reconnect.Idle, 15500},
		{"idle: expired, no receive attempt", []step{enable(1000), connected(1000), recvAt(6000), run(6000)}, 12000, reconnect.Idle, 12001},
		{"idle: probes turned off", []step{recvNever(), enable(1000), connected(1000), run(6000), probe(0)}, 6000, reconnect.Idle, -1},
		{"reconnect: due at once", []step{enable(1000), connected(1000), force(3000)}, 9000, reconnect.Reconnect, 3000},
		{"listening: none", []step{enable(1000), listening(1000)}, 1000, reconnect.Listening, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := reconnect.New(at(1000))
			for _, s := range tt.steps {
				s(f)
			}
			if f.State() != tt.wantState {
				t.Fatalf("state %v, want %v", f.State(), tt.wantState)
			}
			now := at(tt.now)
			deadline, ok := f.Deadline(now)
			timeout, tok := f.Timeout(now)
			if tt.want < 0 {
				if ok || tok {
					t.Errorf("Deadline = %d, %v; Timeout = %v, %v; want none", deadline.UnixMilli(), ok, timeout, tok)
				}
				return
			}
			if !ok || deadline.UnixMilli() != tt.want {
				t.Errorf("Deadline = %d, %v; want %d", deadline.UnixMilli(), ok, tt.want)
			}
			wantTimeout := max(time.Duration(tt.want-tt.now)*ms, 0)
			if !tok || timeout != wantTimeout {
				t.Errorf("Timeout = %v, %v; want %v", timeout, tok, wantTimeout)
			}
		})
	}
}

func TestRunActions(t *testing.T) {
	f := reconnect.New(at(0))
	f.ReceiveAttemptedNever()
	check := func(now int64, want reconnect.Action, wantState reconnect.State) {
		t.Helper()
		if got := f.Run(at(now)); got != want || f.State() != wantState {
			t.Fatalf("t=%d: Run = %v in %v, want %v in %v", now, got, f.State(), want, wantState)
		}
	}
	check(0, reconnect.None, reconnect.Void)
	f.Enable(at(0))
	check(0, reconnect.Connect, reconnect.Backoff)
	check(0, reconnect.Connect, reconnect.Backoff) // repeated until reported
	f.Connecting(at(0))
	check(999, reconnect.None, reconnect.Connecting)
	check(1000, reconnect.Disconnect, reconnect.Connecting)
	f.Connected(at(1000))
	check(5999, reconnect.None, reconnect.Active)
	check(6000, reconnect.Probe, reconnect.Idle)
	check(10999, reconnect.None, reconnect.Idle)
	check(11000, reconnect.Disconnect, reconnect.Idle)
	check(12000, reconnect.Disconnect, reconnect.Idle)
	f.Activity(at(12000))
	check(12000, reconnect.None, reconnect.Active)
	f.ForceReconnect(at(12000))
	check(12000, reconnect.Disconnect, reconnect.Reconnect)
	f.Activity(at(12001))
	check(12001, reconnect.Disconnect, reconnect.Reconnect)
	f.Disconnected(at(12001), nil)
	check(12001, reconnect.None, reconnect.Backoff)
}

func TestSetBackoff(t *testing.T) {
	// Build a 4000 ms backoff.
	newBackingOff := func() *reconnect.FSM {
		f := reconnect.New(at(0))
		f.Enable(at(0))
		for _, now := range []int64{0, 1000, 3000} {
			f.ConnectFailed(at(now), nil)
		}
		if got := f.Stats(at(3000)).Backoff; got != 4000*ms {
			t.Fatalf("setup: backoff %v", got)
		}
		return f
	}

	f := newBackingOff()
	f.SetBackoff(2*time.Second, 3*time.Second)
	if f.MinBackoff() != 2*time.Second || f.MaxBackoff() != 3*time.Second {
		t.Errorf("SetBackoff(2s, 3s): %v..%v", f.MinBackoff(), f.MaxBackoff())
	}
	if got := f.Stats(at(3000)).Backoff; got != 3000*ms {
		t.Errorf("backoff after lowering max in BACKOFF: %v, want 3s", got)
	}

	// C clamps to the raw argument: a max of 0 ("the default") makes the
	// current backoff 0, so the next attempt is due at once.
	f = newBackingOff()
	f.SetBackoff(0, 0)
	if f.MinBackoff() != reconnect.DefaultMinBackoff || f.MaxBackoff() != reconnect.DefaultMaxBackoff {
		t.Errorf("SetBackoff(0, 0): %v..%v", f.MinBackoff(), f.MaxBackoff())
	}
	if a := f.Run(at(3000)); a != reconnect.Connect {
		t.Errorf("Run after SetBackoff(0, 0) in BACKOFF = %v, want connect", a)
	}

	// Outside BACKOFF the current backoff is left alone.
	f = newBackingOff()
	f.Connecting(at(7000))
	f.SetBackoff(0, 2*time.Second)
	if got := f.Stats(at(7000)).Backoff; got != 4000*ms {
		t.Errorf("backoff in CONNECTING after lowering max: %v, want 4s", got)
	}
	f.Disconnected(at(7000), nil)
	if got := f.Stats(at(7000)).Backoff; got != 2000*ms {
		t.Errorf("next backoff: %v, want the new max 2s", got)
	}

	// A negative max lowers the current backoff to 0, never below.
	f = newBackingOff()
	f.SetBackoff(0, -time.Second)
	if got := f.Stats(at(3000)).Backoff; got != 0 {
		t.Errorf("backoff after SetBackoff(0, -1s): %v, want 0", got)
	}
	if f.MaxBackoff() != time.Second {
		t.Errorf("MaxBackoff after SetBackoff(0, -1s) = %v, want 1s", f.MaxBackoff())
	}
}

func TestSetPassive(t *testing.T) {
	f := reconnect.New(at(0))
	f.Enable(at(0))
	f.ConnectFailed(at(0), nil) // backoff 1000
	f.Connecting(at(1000))
	f.SetPassive(true, at(1100))
	if !f.IsPassive() || f.State() != reconnect.Backoff || f.Stats(at(1100)).Backoff != 0 {
		t.Fatalf("SetPassive(true) in CONNECTING: passive %v state %v", f.IsPassive(), f.State())
	}
	f.SetPassive(true, at(1100)) // no change
	f.Listening(at(1100))
	f.SetMaxTries(0)
	f.SetPassive(false, at(1200))
	if f.IsPassive() || f.State() != reconnect.Listening {
		t.Fatalf("SetPassive(false) in LISTENING with no tries: passive %v state %v", f.IsPassive(), f.State())
	}
	f.SetPassive(true, at(1200))
	f.SetMaxTries(2)
	f.SetPassive(false, at(1300))
	if f.State() != reconnect.Backoff || f.MaxTries() != 1 {
		t.Fatalf("SetPassive(false) in LISTENING: state %v, tries %d", f.State(), f.MaxTries())
	}
}

func TestStatsAndTimes(t *testing.T) {
	f := reconnect.New(at(1000))
	f.Enable(at(1000))
	f.Connected(at(2000))
	f.Activity(at(2500))
	st := f.Stats(at(3000))
	if !st.EverConnected || !st.LastConnected.Equal(at(2000)) || st.SinceConnect != 1000*ms ||
		st.TotalConnected != 1000*ms || !st.IsConnected || st.State != reconnect.Active ||
		st.Attempted != 1 || st.Successful != 1 || st.Seqno != 1 || !st.LastActivity.Equal(at(2500)) {
		t.Errorf("connected stats: %+v", st)
	}
	if st.EverDisconnected || !st.LastDisconnected.IsZero() || st.SinceDisconnect != 0 {
		t.Errorf("never disconnected, but stats say %+v", st)
	}
	f.Disconnected(at(4000), errors.New("boom"))
	st = f.Stats(at(4500))
	if !st.EverDisconnected || !st.LastDisconnected.Equal(at(4000)) || st.SinceDisconnect != 500*ms ||
		st.TotalConnected != 2000*ms || st.IsConnected || st.Seqno != 2 || st.SinceConnect != 2500*ms {
		t.Errorf("disconnected stats: %+v", st)
	}
	if tm, ok := f.LastConnected(); !ok || !tm.Equal(at(2000)) {
		t.Errorf("LastConnected = %v, %v", tm, ok)
	}
	if tm, ok := f.LastDisconnected(); !ok || !tm.Equal(at(4000)) {
		t.Errorf("LastDisconnected = %v, %v", tm, ok)
	}
	if f.Seqno() != 2 {
		t.Errorf("Seqno = %d", f.Seqno())
	}
}

func TestMaxTriesUnlimitedNeverSpent(t *testing.T) {
	f := reconnect.New(at(0))
	f.Enable(at(0))
	for i := range 100 {
		f.ConnectFailed(at(int64(i)*10000), nil)
	}
	if f.MaxTries() != reconnect.Unlimited || f.State() != reconnect.Backoff {
		t.Errorf("after 100 failures: tries %d state %v", f.MaxTries(), f.State())
	}
}

func TestLogging(t *testing.T) {
	var lines []string
	log := funcr.New(func(prefix, args string) {
		lines = append(lines, args)
	}, funcr.Options{Verbosity: 1})

	f := reconnect.New(at(0))
	f.SetLogger(log)
	f.SetName("tcp:127.0.0.1:6641")
	f.ReceiveAttemptedNever()
	f.Enable(at(0))
	f.ConnectFailed(at(0), syscall.ECONNREFUSED)
	f.Connected(at(1000))
	f.Run(at(6000))
	f.Run(at(11000))
	f.Disconnected(at(11000), io.EOF)
	f.Connecting(at(12000))
	f.Disconnected(at(13000), nil)
	for range 3 {
		f.ConnectFailed(at(20000), nil)
	}

	got := strings.Join(lines, "\n")
	for _, want := range []string{
		`"msg"="connection attempt failed" "name"="tcp:127.0.0.1:6641" "err"="connection refused"`,
		`"msg"="connecting..." "name"="tcp:127.0.0.1:6641"`,
		`"msg"="connected" "name"="tcp:127.0.0.1:6641"`,
		`"msg"="no response to inactivity probe, disconnecting" "name"="tcp:127.0.0.1:6641" "idle"="5s"`,
		`"msg"="connection closed by peer"`,
		`"msg"="connection attempt timed out"`,
		`"msg"="waiting before reconnect" "name"="tcp:127.0.0.1:6641" "backoff"="2s"`,
		`"msg"="continuing to reconnect in the background but suppressing further logging"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s\nlog:\n%s", want, got)
		}
	}
	// V(2) details are off at verbosity 1.
	if strings.Contains(got, "entering state") {
		t.Errorf("V(2) message logged at verbosity 1:\n%s", got)
	}
	// At the maximum backoff, failed attempts are no longer logged.
	if n := strings.Count(got, "connecting..."); n != 4 {
		t.Errorf("%d connecting... messages, want 4 (none at max backoff):\n%s", n, got)
	}

	// Quiet moves everything to V(2).
	lines = nil
	f.SetQuiet(true)
	f.Connected(at(30000))
	f.Disconnected(at(30000), nil)
	if len(lines) != 0 {
		t.Errorf("quiet FSM logged at verbosity 1: %q", lines)
	}
}
