package ovsdbserver

import (
	"context"
	"testing"

	"github.com/go-logr/logr/testr"
)

// logTailLines is how much of each member's log a failed test prints.
const logTailLines = 40

// StartCluster is NewCluster for tests: it calls Require first (skip or
// fail when Open vSwitch is missing), logs through t unless WithLogger is
// given, fails the test on error, and registers a cleanup that prints the
// tail of every member's log when the test failed and then closes the
// cluster.
func StartCluster(t testing.TB, n int, schema []byte, opts ...Option) *Cluster {
	t.Helper()
	Require(t)
	opts = append([]Option{WithLogger(testr.NewWithInterface(t, testr.Options{}))}, opts...)
	c, err := NewCluster(context.Background(), n, schema, opts...)
	if err != nil {
		t.Fatalf("start %d-member ovsdb-server cluster: %v", n, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ovsdb-server cluster in %s, member logs:\n%s", c.Dir(), c.LogTail(logTailLines))
		}
		if err := c.Close(); err != nil {
			t.Errorf("close cluster: %v", err)
		}
	})
	return c
}

// StartStandalone is NewStandalone for tests, with the same skipping,
// logging and cleanup as StartCluster.
func StartStandalone(t testing.TB, schema []byte, opts ...Option) *Server {
	t.Helper()
	Require(t)
	opts = append([]Option{WithLogger(testr.NewWithInterface(t, testr.Options{}))}, opts...)
	s, err := NewStandalone(context.Background(), schema, opts...)
	if err != nil {
		t.Fatalf("start standalone ovsdb-server: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ovsdb-server in %s, log:\n%s", s.Dir(), s.LogTail(logTailLines))
		}
		if err := s.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return s
}
