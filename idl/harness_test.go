package idl_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/ovn-org/libovsdb/model"

	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
	"github.com/ovsdbcs/ovsdbcs/testserver"
)

// nbSchema is the OVN_Northbound schema the models were generated from.
func nbSchema(t testing.TB) []byte {
	t.Helper()
	b, err := json.Marshal(nbdb.Schema())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nbModel is the generated model with two client indexes.
func nbModel(t testing.TB) model.ClientDBModel {
	t.Helper()
	m, err := nbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	m.SetIndexes(map[string][]model.ClientIndex{
		nbdb.LogicalSwitchPortTable: {{Columns: []model.ColumnKey{{Column: "external_ids", Key: "owner"}}}},
		nbdb.ACLTable:               {{Columns: []model.ColumnKey{{Column: "external_ids", Key: "owner"}}}, {Columns: []model.ColumnKey{{Column: "priority"}}}},
	})
	return m
}

// env is a typed client on an in-memory fake cluster inside a synctest
// bubble.
type env struct {
	t      *testing.T
	c      *testserver.Cluster
	cl     *idl.Client
	cancel context.CancelFunc
	done   chan error
	rec    *recorder
}

func newEnv(t *testing.T, m model.ClientDBModel, schema []byte, opts ...idl.Option) *env {
	t.Helper()
	c, err := testserver.NewCluster(3, schema, testserver.InMemory(), testserver.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]idl.Option{
		idl.WithLogger(testr.NewWithOptions(t, testr.Options{Verbosity: 0})),
		idl.WithCoreOptions(cs.WithDialer(c.DialContext), cs.WithShuffle(false)),
	}, opts...)
	cl, err := idl.New(m, c.Remotes(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, c: c, cl: cl, done: make(chan error, 1), rec: &recorder{}}
	cl.AddEventHandler(e.rec)
	var ctx context.Context
	ctx, e.cancel = context.WithCancel(context.Background())
	go func() { e.done <- cl.Run(ctx) }()
	t.Cleanup(func() {
		e.cancel()
		<-e.done
		c.Close()
	})
	return e
}

func (e *env) waitSynced() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.cl.WaitSynced(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// waitFor waits in fake time until cond holds.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		synctest.Wait()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recorder records handler calls as strings.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func name(m model.Model) string {
	switch x := m.(type) {
	case *nbdb.LogicalSwitch:
		return "ls:" + x.Name
	case *nbdb.LogicalSwitchPort:
		return "lsp:" + x.Name
	case *nbdb.ACL:
		return "acl:" + x.Action
	}
	return "?"
}

func (r *recorder) OnAdd(table string, m model.Model) { r.add("add " + name(m)) }
func (r *recorder) OnUpdate(table string, old, new model.Model) {
	r.add("update " + name(old) + "->" + name(new))
}
func (r *recorder) OnDelete(table string, m model.Model) { r.add("delete " + name(m)) }
