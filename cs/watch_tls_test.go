package cs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/ovsdbcs/ovsdbcs/internal/testpki"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// A client on ssl: remotes uses the leader watch: every connection passes
// a TLS server in front of the fake member (testpki.Front) and is verified
// with the client's WithTLS configuration; a crashed leader is replaced at
// the election by a watcher's connection, and the recovery carries the
// watch's figures (a failover policy leaves them zero).
func TestWatchOverTLS(t *testing.T) {
	scenario(t, func(t *testing.T) {
		c, err := testserver.NewCluster(3, testserver.LabSchema(), testserver.InMemory(), testserver.WithSeed(1))
		if err != nil {
			t.Fatal(err)
		}
		pki := testpki.New(t, "ovsdb")
		cl, err := New("Lab", strings.ReplaceAll(c.Remotes(), "tcp:", "ssl:"),
			WithDialer(pki.Front(c.DialContext)), WithTLS(pki.ClientTLS()), WithShuffle(false),
			WithLogger(testr.NewWithOptions(t, testr.Options{Verbosity: 0})))
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, c: c, cl: cl, done: make(chan error, 1)}
		h.ctx, h.cancel = context.WithCancel(context.Background())
		t.Cleanup(h.stop)
		h.run()
		ssl := func(m int) string { return "ssl:" + c.Member(m).Address() }
		monitoringOn := func(m int) {
			t.Helper()
			h.waitFor("MONITORING on "+ssl(m), 30*time.Second, func() bool {
				s := cl.Stats()
				return s.State == Monitoring && s.Remote == ssl(m)
			})
		}
		monitoringOn(0)
		h.insert("before", 1)
		h.replicaMatches()

		done, err := c.Crash(0, testserver.CrashEOF, 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		<-done
		lead := c.Leader()
		monitoringOn(lead)
		r := h.lastRecovery()
		if r.Duration != 200*time.Millisecond || r.BackoffUsed || r.Attempts != 3 || r.Remote != ssl(lead) {
			t.Fatalf("recovery %+v, want 200ms, no backoff, 3 attempts, on %s", r, ssl(lead))
		}
		if r.Watchers == 0 || r.Found == "" {
			t.Fatalf("recovery %+v: no watchers, not found by the watch", r)
		}
		evs := h.eventsOf(func(e Event) bool { _, ok := e.(Recovered); return ok })
		if len(evs) == 0 || evs[len(evs)-1].(Recovered).Found != r.Found {
			t.Fatalf("Recovered events %+v, want the last with Found %q", evs, r.Found)
		}
		h.insert("after", 2)
		h.replicaMatches()
	})
}
