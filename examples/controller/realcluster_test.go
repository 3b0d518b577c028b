package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/examples/controller"
	"github.com/ovsdbcs/ovsdbcs/examples/nbdb"
	"github.com/ovsdbcs/ovsdbcs/idl"
	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

const nbSchemaPath = "/usr/share/ovn/ovn-nb.ovsschema"

// requireOVN skips (or fails when OVSDBCS_REQUIRE_OVSDB_SERVER=1) without
// Debian's ovn-central (ovn-nbctl and the OVN_Northbound schema).
func requireOVN(t *testing.T) []byte {
	t.Helper()
	ovsdbserver.Require(t)
	_, errTool := exec.LookPath("ovn-nbctl")
	schema, errSchema := os.ReadFile(nbSchemaPath)
	if errTool == nil && errSchema == nil {
		return schema
	}
	msg := fmt.Sprintf("needs ovn-central (ovn-nbctl: %v; schema: %v)", errTool, errSchema)
	if os.Getenv(ovsdbserver.RequireEnv) == "1" {
		t.Fatalf("%s=1 but %s", ovsdbserver.RequireEnv, msg)
	}
	t.Skip("skipping: " + msg)
	return nil
}

// TestRealCluster: ovn-nbctl makes 200 changes to a 3-member OVN_Northbound
// cluster while leadership moves 10 times; the controller's derived view
// must equal the server's contents, every port must be marked, and
// NB_Global.nb_cfg must count each marking exactly once.
func TestRealCluster(t *testing.T) {
	schema := requireOVN(t)
	c := ovsdbserver.StartCluster(t, 3, schema)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	db := strings.Join(c.RemoteList(), ",")
	nbctl := func(args ...string) error {
		var err error
		for attempt := range 20 {
			out, e := exec.CommandContext(ctx, "ovn-nbctl", append([]string{"--db=" + db, "--timeout=20"}, args...)...).CombinedOutput()
			if e == nil {
				return nil
			}
			err = fmt.Errorf("ovn-nbctl %v (attempt %d): %v: %s", args, attempt, e, out)
			time.Sleep(100 * time.Millisecond)
		}
		return err
	}
	if err := nbctl("init"); err != nil {
		t.Fatal(err)
	}

	m, err := controller.Model()
	if err != nil {
		t.Fatal(err)
	}
	log := testr.NewWithOptions(t, testr.Options{Verbosity: 0})
	cl, err := idl.New(m, db, idl.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	ctl := controller.New(cl, log)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- cl.Run(runCtx) }()
	go func() { done <- ctl.Run(runCtx) }()
	defer func() { stop(); <-done; <-done }()
	if err := cl.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}

	// A stream of ticks written with TransactFunc all along, so that
	// transactions are in flight when leadership moves: tick k sets
	// NB_Global external_ids:ticks to k and adds 1 to nb_cfg, unless the
	// fresh replica shows it done.
	tickCtx, stopTicks := context.WithCancel(ctx)
	ticked := make(chan [2]int, 1)
	go func() {
		ticks, retried := 0, 0
		defer func() { ticked <- [2]int{ticks, retried} }()
		for k := 1; tickCtx.Err() == nil; k++ {
			builds := 0
			_, err := cl.TransactFunc(tickCtx, func(tx *idl.Tx) ([]ovsdb.Operation, error) {
				builds++
				gs, err := idl.List[nbdb.NBGlobal](tx, nil)
				if err != nil || len(gs) != 1 {
					return nil, fmt.Errorf("NB_Global: %v (%d rows)", err, len(gs))
				}
				g := gs[0]
				if g.ExternalIDs["ticks"] == strconv.Itoa(k) {
					return nil, nil
				}
				return tx.Where(g).Mutate(g,
					model.Mutation{Field: &g.ExternalIDs, Mutator: ovsdb.MutateOperationDelete, Value: []string{"ticks"}},
					model.Mutation{Field: &g.ExternalIDs, Mutator: ovsdb.MutateOperationInsert, Value: map[string]string{"ticks": strconv.Itoa(k)}},
					model.Mutation{Field: &g.NbCfg, Mutator: ovsdb.MutateOperationAdd, Value: 1})
			})
			if err != nil {
				if tickCtx.Err() == nil {
					t.Errorf("tick %d: %v", k, err)
				}
				return // stopped: tick k may or may not have landed
			}
			ticks = k
			if builds > 1 {
				retried++
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()

	// 200 changes by ovn-nbctl, 10 leadership moves meanwhile.
	moved := make(chan error, 1)
	go func() {
		for i := range 10 {
			time.Sleep(500 * time.Millisecond)
			method := ovsdbserver.TransferFailureTest
			if i%3 == 2 {
				method = ovsdbserver.TransferExit
			}
			if _, err := c.TransferLeadership(ctx, method); err != nil {
				moved <- fmt.Errorf("transfer %d: %w", i, err)
				return
			}
		}
		moved <- nil
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		sw := fmt.Sprintf("sw%d", rng.IntN(8))
		port := fmt.Sprintf("%s-p%d", sw, rng.IntN(6))
		var args []string
		switch k := rng.IntN(10); {
		case k < 2:
			args = []string{"--may-exist", "ls-add", sw}
		case k < 7:
			args = []string{"--may-exist", "ls-add", sw, "--", "--may-exist", "lsp-add", sw, port}
		case k < 9:
			args = []string{"--if-exists", "lsp-del", port}
		default:
			args = []string{"--if-exists", "ls-del", sw}
		}
		if i == 199 {
			args = []string{"--may-exist", "ls-add", "last"}
		}
		if err := nbctl(args...); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	if err := <-moved; err != nil {
		t.Fatal(err)
	}
	stopTicks()
	tk := <-ticked
	ticks, retried := tk[0], tk[1]

	// The server's view, from ovsdb-client dump of the leader.
	want := func() (map[string][]string, map[string]bool, int, int) {
		dump, err := c.Dump(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ports := map[string]string{}
		marked := map[string]bool{}
		for id, row := range dump[nbdb.LogicalSwitchPortTable] {
			name := row["name"].(string)
			ports[id] = name
			marked[name] = strings.Contains(fmt.Sprint(row["external_ids"]), controller.SeenKey)
		}
		sws := map[string][]string{}
		for _, row := range dump[nbdb.LogicalSwitchTable] {
			names := []string{}
			for _, id := range uuidsOf(row["ports"]) {
				names = append(names, ports[id])
			}
			slices.Sort(names)
			sws[row["name"].(string)] = names
		}
		nbCfg, seen := 0, 0
		for _, row := range dump[nbdb.NBGlobalTable] {
			nbCfg = int(toInt(row["nb_cfg"]))
			seen = strings.Count(fmt.Sprint(row["external_ids"]), "seen-")
			// The tick in flight when the stream stopped may have landed.
			if strings.Contains(fmt.Sprint(row["external_ids"]), fmt.Sprintf("ticks %d]", ticks+1)) {
				ticks++
			} else if !strings.Contains(fmt.Sprint(row["external_ids"]), fmt.Sprintf("ticks %d]", ticks)) {
				t.Fatalf("NB_Global external_ids:ticks is not %d: %v", ticks, row["external_ids"])
			}
		}
		return sws, marked, nbCfg, seen
	}
	deadline := time.Now().Add(time.Minute)
	for {
		sws, marked, nbCfg, seen := want()
		allMarked := true
		for _, ok := range marked {
			allMarked = allMarked && ok
		}
		got := ctl.Switches()
		if allMarked && reflect.DeepEqual(got, sws) {
			t.Logf("%d switches, %d ports, nb_cfg %d = %d port markings + %d ticks (%d ticks built more than once: stale read, lost connection or unknown outcome)",
				len(sws), len(marked), nbCfg, seen, ticks, retried)
			if nbCfg != seen+ticks || seen < len(marked) {
				t.Fatalf("nb_cfg %d but %d ports marked + %d ticks (%d ports now): a write landed twice or not at all", nbCfg, seen, ticks, len(marked))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("controller view never matched the server:\n got %v\nwant %v\nmarked %v", got, sws, marked)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func uuidsOf(v any) []string {
	switch x := v.(type) {
	case []any:
		if len(x) == 2 && x[0] == "uuid" {
			return []string{x[1].(string)}
		}
		if len(x) == 2 && x[0] == "set" {
			var out []string
			for _, e := range x[1].([]any) {
				out = append(out, uuidsOf(e)...)
			}
			return out
		}
	}
	return nil
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return n
	case float64:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	return 0
}
