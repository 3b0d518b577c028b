package watcher_test

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ovsdbcs/ovsdbcs/hunt"
	"github.com/ovsdbcs/ovsdbcs/hunt/watcher"
	"github.com/ovsdbcs/ovsdbcs/internal/testpki"
	"github.com/ovsdbcs/ovsdbcs/jsonrpc"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// sslRemotes returns c's members as ssl: remotes.
func sslRemotes(c *testserver.Cluster) string { return strings.ReplaceAll(c.Remotes(), "tcp:", "ssl:") }

// Members reached over TLS (each connection passes a TLS server in front
// of the fake member, and the watcher verifies its certificate): a crashed
// leader is replaced at the election, as over tcp.
func TestCrashOverTLS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := lab(t)
		pki := testpki.New(t, "ovsdb")
		o, stop := startHuntOn(t, sslRemotes(c), watcher.Config{Dial: pki.Front(c.DialContext), TLSConfig: pki.ClientTLS()})
		defer stop()
		first := o.recovery()
		require.Equal(t, hunt.Initial, first.Cause)
		require.Equal(t, 0, first.To)
		start := time.Now()
		done, err := c.Crash(0, testserver.CrashEOF, 200*time.Millisecond)
		require.NoError(t, err)
		rec := o.recovery()
		<-done
		require.Equal(t, hunt.Dropped, rec.Cause)
		require.Equal(t, c.Leader(), rec.To)
		require.Equal(t, start, rec.Start)
		require.Equal(t, 200*time.Millisecond, rec.Duration, "recovery = the election")
		require.False(t, rec.BackoffUsed)
		require.Equal(t, 3, rec.Attempts, "one per member")
		synctest.Wait()
		require.Equal(t, 1, c.Member(rec.To).Connections(), "the watchers are closed")
		require.Equal(t, 0, c.Member(3-rec.To).Connections())
	})
}

// Members whose certificates come from another CA are never watched: the
// handshakes fail and the Hunter reports no usable server, with the
// verification error.
func TestWrongCAOverTLS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := lab(t)
		pki, rogue := testpki.New(t, "ovsdb"), testpki.New(t, "rogue")
		o, stop := startHuntOn(t, sslRemotes(c), watcher.Config{Dial: rogue.Front(c.DialContext), TLSConfig: pki.ClientTLS()})
		defer stop()
		n := <-o.noServer
		var uerr x509.UnknownAuthorityError
		require.True(t, errors.As(n.LastErr, &uerr), "last error %v", n.LastErr)
		select {
		case r := <-o.recs:
			t.Fatalf("recovered through a server of another CA: %+v", r)
		default:
		}
	})
}

// An ssl: remote needs a TLS configuration; passive remotes are refused.
func TestNewRejects(t *testing.T) {
	for _, remotes := range []string{"ssl:127.0.0.1:6641", "tcp:127.0.0.1:6641,ptcp:6641"} {
		rs, _, err := jsonrpc.ParseRemotes(remotes)
		require.NoError(t, err)
		_, err = watcher.New(watcher.Config{Database: "Lab", Remotes: rs})
		require.Error(t, err, remotes)
	}
}
