package hunt_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/ovsdbcs/ovsdbcs/failover"
	"github.com/ovsdbcs/ovsdbcs/hunt"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestTranscripts runs the scripts in testdata. Commands (times are
// durations since the start, t=1.5s):
//
//	new members=N [idle=D suspicion=D timeout=D]
//	start t=T
//	lost t=T m=M cause=dropped|probe-failed|not-leader|forced
//	report t=T m=M v=leader|waiting|unusable
//	fail t=T m=M [o=refused|timed-out|protocol]
//	monitoring t=T m=M
//	heard t=T
//	echo-sent t=T
//	tick t=T
//	members t=T prev=(P,P,...)  (SetMembers; P is a member's old number or -1)
//	run until=T      (tick at every Next up to T, printing each step)
//
// Each prints the actions, a "no usable server" report, the recovery that
// ended and when the Watch wants its next Tick.
func TestTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var w *hunt.Watch
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			at := func() time.Time { return epoch.Add(durArg(t, d, "t")) }
			m := func() int {
				var m int
				d.ScanArgs(t, "m", &m)
				return m
			}
			switch d.Cmd {
			case "new":
				var n int
				d.ScanArgs(t, "members", &n)
				cfg := hunt.Config{}
				if d.HasArg("idle") {
					cfg.Idle = durArg(t, d, "idle")
				}
				if d.HasArg("suspicion") {
					cfg.Suspicion = durArg(t, d, "suspicion")
				}
				if d.HasArg("timeout") {
					cfg.AttemptTimeout = durArg(t, d, "timeout")
				}
				w = hunt.New(cfg, n)
				return ""
			case "start":
				return show(w, w.Start(at()))
			case "lost":
				var c string
				d.ScanArgs(t, "cause", &c)
				return show(w, w.Lost(at(), m(), causeOf(t, c)))
			case "report":
				var v string
				d.ScanArgs(t, "v", &v)
				return show(w, w.Report(at(), m(), verdictOf(t, v)))
			case "fail":
				o := failover.Refused
				if d.HasArg("o") {
					var s string
					d.ScanArgs(t, "o", &s)
					o = outcomeOf(t, s)
				}
				return show(w, w.Failed(at(), m(), o))
			case "monitoring":
				return show(w, w.Monitoring(at(), m()))
			case "heard":
				return show(w, w.Heard(at()))
			case "echo-sent":
				w.EchoSent(at())
				return show(w, hunt.Step{})
			case "tick":
				return show(w, w.Tick(at()))
			case "members":
				var ps []string
				d.ScanArgs(t, "prev", &ps)
				prev := make([]int, len(ps))
				for i, p := range ps {
					if _, err := fmt.Sscan(p, &prev[i]); err != nil {
						t.Fatalf("prev=%s: %v", p, err)
					}
				}
				return show(w, w.SetMembers(at(), prev))
			case "run":
				until := epoch.Add(durArg(t, d, "until"))
				var b strings.Builder
				for {
					next, ok := w.Next()
					if !ok || next.After(until) {
						break
					}
					fmt.Fprintf(&b, "tick %s:\n", since(next))
					b.WriteString(indent(show(w, w.Tick(next))))
				}
				return b.String()
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}

func durArg(t *testing.T, d *datadriven.TestData, key string) time.Duration {
	var s string
	d.ScanArgs(t, key, &s)
	v, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s=%s: %v", key, s, err)
	}
	return v
}

func since(x time.Time) string { return x.Sub(epoch).String() }

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

func show(w *hunt.Watch, s hunt.Step) string {
	var b strings.Builder
	for _, a := range s.Actions {
		switch a.Kind {
		case hunt.ActionOpen:
			fmt.Fprintf(&b, "open m%d (hung at %s)\n", a.Member, since(a.Deadline))
		case hunt.ActionEcho:
			b.WriteString("echo\n")
		default:
			fmt.Fprintf(&b, "%s m%d\n", a.Kind, a.Member)
		}
	}
	if s.Rejected {
		b.WriteString("rejected (tell the user)\n")
	}
	if s.NoServer {
		switch {
		case !s.Log:
			b.WriteString("no usable server (not logged)\n")
		case s.Suppressed > 0:
			fmt.Fprintf(&b, "no usable server (logged, %d held back)\n", s.Suppressed)
		default:
			b.WriteString("no usable server (logged)\n")
		}
	}
	if r := s.Recovery; r != nil {
		fmt.Fprintf(&b, "recovered: cause=%s from=m%d to=m%d start=%s duration=%s attempts=%d watchers=%d found=%s suspected=%v backed-off=%d backoff-used=%v\n",
			r.Cause, r.From, r.To, since(r.Start), r.Duration, r.Attempts, r.Watchers, r.Found, r.Suspected, r.BackedOff, r.BackoffUsed)
	}
	if next, ok := w.Next(); ok {
		fmt.Fprintf(&b, "next %s\n", since(next))
	}
	return b.String()
}

func causeOf(t *testing.T, s string) hunt.Cause { return byName(t, s, hunt.Initial, hunt.Frozen) }

func verdictOf(t *testing.T, s string) hunt.Verdict { return byName(t, s, hunt.Leader, hunt.Unusable) }

func outcomeOf(t *testing.T, s string) failover.Outcome {
	return byName(t, s, failover.NotLeader, failover.Unusable)
}

// byName returns the value in [first, last] whose String is s.
func byName[T interface {
	~uint8
	String() string
}](t *testing.T, s string, first, last T) T {
	t.Helper()
	for v := first; v <= last; v++ {
		if v.String() == s {
			return v
		}
	}
	t.Fatalf("unknown name %q", s)
	return 0
}
