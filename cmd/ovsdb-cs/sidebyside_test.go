package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// The side-by-side tests run the real ovsdb-client and ovsdb-cs on the same
// real ovsdb-server and compare their standard outputs byte for byte: the
// oracle for ovsdb-cs's layout is ovsdb-client itself. They skip without
// Open vSwitch or the OVN schemas (and fail then when
// OVSDBCS_REQUIRE_OVSDB_SERVER=1).

// ovnNBSchema is the OVN_Northbound schema of the ovn-central package: it
// has columns of every kind (maps, sets, references, optional values).
const ovnNBSchema = "/usr/share/ovn/ovn-nb.ovsschema"

func startNB(t *testing.T) (*ovsdbserver.Cluster, string) {
	t.Helper()
	schema, err := os.ReadFile(ovnNBSchema)
	if err != nil {
		if os.Getenv(ovsdbserver.RequireEnv) == "1" {
			t.Fatalf("%s=1 but the OVN schema is missing: %v", ovsdbserver.RequireEnv, err)
		}
		t.Skipf("OVN schema not installed (%v); install ovn-central", err)
	}
	client, err := exec.LookPath("ovsdb-client")
	if err != nil {
		if os.Getenv(ovsdbserver.RequireEnv) == "1" {
			t.Fatalf("%s=1 but ovsdb-client is missing: %v", ovsdbserver.RequireEnv, err)
		}
		t.Skipf("ovsdb-client not installed: %v", err)
	}
	c := ovsdbserver.StartCluster(t, 1, schema)
	transactJSON(t, c, `{"op":"insert","table":"Logical_Switch","row":{"name":"needs \"quotes\", commas\n<&>","external_ids":["map",[["a","b c"],["k","1"]]],"other_config":["map",[["x","1.5"]]]}}`,
		`{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p1","addresses":["set",["00:00:00:00:00:01 10.0.0.1","router"]],"enabled":true,"tag_request":5}}`)
	return c, client
}

func transactJSON(t *testing.T, c *ovsdbserver.Cluster, ops ...string) {
	t.Helper()
	args := make([]any, len(ops))
	for i, op := range ops {
		args[i] = json.RawMessage(op)
	}
	if _, err := c.Transact(t.Context(), args...); err != nil {
		t.Fatal(err)
	}
}

// oracle runs ovsdb-client in the background; its stdout can be waited on.
func oracle(t *testing.T, bin string, args ...string) (*outBuf, func()) {
	t.Helper()
	out := newOutBuf()
	var errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	t.Cleanup(stop)
	return out, stop
}

// TestSideBySideMonitor compares "monitor" and "monitor-cond" in every
// format on the same changes, one row or several per transaction.
func TestSideBySideMonitor(t *testing.T) {
	c, bin := startNB(t)
	remote := c.Member(0).Remote()
	ls := func(row string) string { return `{"op":"insert","table":"Logical_Switch","row":` + row + `}` }
	changes := [][]string{
		{ls(`{"name":"sw1","ports":["set",[]]}`)},
		{`{"op":"update","table":"Logical_Switch","where":[["name","==","sw1"]],"row":{"other_config":["map",[["k","v"]]],"external_ids":["map",[["e","1"]]]}}`},
		{`{"op":"mutate","table":"Logical_Switch","where":[["name","==","sw1"]],"mutations":[["external_ids","insert",["map",[["z","w"]]]]]}`},
		{`{"op":"update","table":"Logical_Switch","where":[["name","!=","sw1"]],"row":{"name":"sw0-renamed"}}`},
		{`{"op":"delete","table":"Logical_Switch","where":[["name","==","sw1"]]}`},
		// Several rows in one update: ovsdb-client prints them in its hash
		// map's order.
		{ls(`{"name":"m1"}`), ls(`{"name":"m2"}`), ls(`{"name":"m3","external_ids":["map",[["x","y"]]]}`), ls(`{"name":"m4"}`), ls(`{"name":"m5"}`), ls(`{"name":"m6"}`)},
		{`{"op":"update","table":"Logical_Switch","where":[],"row":{"other_config":["map",[["all","1"]]]}}`},
		{`{"op":"delete","table":"Logical_Switch","where":[["name","!=","sw0-renamed"]]}`},
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"table", []string{"monitor", remote, "OVN_Northbound", "Logical_Switch", "name,external_ids,other_config,_uuid"}},
		{"list", []string{"monitor", "-f", "list", remote, "OVN_Northbound", "Logical_Switch", "name,external_ids,other_config"}},
		{"csv", []string{"monitor", "--format=csv", remote, "OVN_Northbound", "Logical_Switch", "name,external_ids,other_config,ports"}},
		{"html", []string{"monitor", "-f", "html", remote, "OVN_Northbound", "Logical_Switch", "name,external_ids,ports"}},
		{"json", []string{"monitor", "-f", "json", remote, "OVN_Northbound", "Logical_Switch", "name,external_ids,other_config,_uuid"}},
		{"json-pretty", []string{"monitor", "-f", "json", "--pretty", remote, "OVN_Northbound", "Logical_Switch", "name,other_config"}},
		{"bare", []string{"monitor", "--bare", remote, "OVN_Northbound", "Logical_Switch", "name,external_ids"}},
		{"data-json", []string{"monitor", "-d", "json", "--no-headings", remote, "OVN_Northbound", "Logical_Switch", "name,external_ids,_uuid"}},
		{"selectors", []string{"monitor", remote, "OVN_Northbound", "Logical_Switch", "name,!initial,!delete", "other_config"}},
		{"cond", []string{"monitor-cond", remote, "OVN_Northbound", `[["name","!=","zzz"]]`, "Logical_Switch", "name,external_ids,other_config,ports"}},
		// Without columns ovsdb-client shows every column and then
		// _version.
		{"all-columns", []string{"monitor", remote, "OVN_Northbound", "Logical_Switch"}},
		{"all-columns-json", []string{"monitor", "-f", "json", remote, "OVN_Northbound", "Logical_Switch", "!initial"}},
		{"cond-all-columns", []string{"monitor-cond", remote, "OVN_Northbound", `[true]`, "Logical_Switch"}},
		{"cond-json", []string{"monitor-cond", "-f", "json", remote, "OVN_Northbound", `[true]`, "Logical_Switch", "name,external_ids,other_config"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, stopOracle := oracle(t, bin, tc.args...)
			r := start(t, tc.args...)
			// settle waits until ovsdb-client printed something more than
			// before (1 s at most: a change hidden by a selector prints
			// nothing), then until ovsdb-cs printed the same.
			settle := func(what string, before int) {
				for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && len(want.String()) == before; {
					time.Sleep(10 * time.Millisecond)
				}
				for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
					if r.stdout.String() == want.String() {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
				t.Logf("outputs still differ after %s", what)
			}
			settle("the initial rows", 0)
			for i, ch := range changes {
				before := len(want.String())
				transactJSON(t, c, ch...)
				settle(fmt.Sprintf("change %d", i), before)
			}
			stopOracle()
			if code := r.stop(t); code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, r.stderr)
			}
			if got, w := r.stdout.String(), want.String(); got != w {
				t.Errorf("ovsdb-cs %q differs from ovsdb-client:\n--- ovsdb-cs:\n%s\n--- ovsdb-client:\n%s", tc.args, got, w)
			}
			if !strings.Contains(r.stderr.String(), "monitoring "+remote+" (leader)") {
				t.Errorf("no state line on stderr:\n%s", r.stderr)
			}
		})
	}
}

// TestSideBySideDump compares dump, list-tables, list-columns, list-dbs and
// transact output.
func TestSideBySideDump(t *testing.T) {
	c, bin := startNB(t)
	remote := c.Member(0).Remote()
	for _, args := range [][]string{
		{"dump", remote, "OVN_Northbound"},
		{"dump", "-f", "list", remote, "OVN_Northbound", "Logical_Switch"},
		{"dump", "-f", "csv", remote, "OVN_Northbound"},
		{"dump", "-f", "html", remote, "OVN_Northbound", "Logical_Switch_Port"},
		{"dump", "-f", "json", remote, "OVN_Northbound"},
		{"dump", "-f", "json", "--pretty", remote, "OVN_Northbound", "Logical_Switch"},
		{"dump", "--bare", remote, "OVN_Northbound", "Logical_Switch"},
		{"dump", "-d", "json", remote, "OVN_Northbound", "Logical_Switch", "name"},
		{"dump", "--no-headings", remote, "OVN_Northbound", "Logical_Switch_Port"},
		{"dump", remote, "OVN_Northbound", "Logical_Switch", "name", "_version"},
		{"dump", "-f", "json", remote, "OVN_Northbound", "Logical_Switch", "_version"},
		{"list-dbs", remote},
		{"list-tables", remote, "OVN_Northbound"},
		{"list-columns", remote, "OVN_Northbound"},
		{"list-columns", "-f", "csv", remote, "OVN_Northbound", "Logical_Switch_Port"},
		{"transact", remote, `["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[],"columns":["name","external_ids"]}]`},
		{"transact", "--pretty", remote, `["OVN_Northbound",{"op":"select","table":"Logical_Switch_Port","where":[],"columns":["addresses","name"]}]`},
	} {
		want, err := exec.CommandContext(t.Context(), bin, args...).Output()
		if err != nil {
			t.Fatalf("ovsdb-client %q: %v", args, err)
		}
		code, got, errOut := runSync(t, args...)
		if code != exitOK || got != string(want) {
			t.Errorf("ovsdb-cs %q: exit %d, stderr %q\n--- ovsdb-cs:\n%s\n--- ovsdb-client:\n%s", args, code, errOut, got, want)
		}
	}
}

// TestTransactLeaderTransfers runs transact on a 3-member cluster while
// leadership moves: every transaction that reports success committed
// once, and none is reported "maybe committed" without cause.
func TestTransactLeaderTransfers(t *testing.T) {
	c := ovsdbserver.StartCluster(t, 3, ovsdbserver.LabSchema())
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			if _, err := c.TransferLeadership(ctx, ovsdbserver.TransferFailureTest); err != nil {
				t.Errorf("transfer: %v", err)
				return
			}
			time.Sleep(150 * time.Millisecond)
		}
	}()
	committed, maybe := 0, 0
	for i := 0; i < 20; i++ {
		code, out, errOut := runSync(t, "transact", "--no-shuffle", "--timeout=30s", c.Remotes(),
			fmt.Sprintf(`["Lab",{"op":"insert","table":"Item","row":{"name":"t%d","n":%d}}]`, i, i))
		switch code {
		case exitOK:
			if !strings.HasPrefix(out, `[{"uuid":["uuid","`) {
				t.Fatalf("transact %d printed %q", i, out)
			}
			committed++
		case exitMaybeCommitted:
			if !strings.Contains(errOut, "may or may not have committed") {
				t.Fatalf("exit 3 without the message: %q", errOut)
			}
			maybe++
		default:
			t.Fatalf("transact %d: exit %d\nstderr:\n%s", i, code, errOut)
		}
	}
	<-done
	got, err := c.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := len(got["Item"])
	if n < committed || n > committed+maybe {
		t.Fatalf("%d rows in the cluster; %d transactions committed, %d maybe", n, committed, maybe)
	}
	t.Logf("%d committed, %d maybe committed, %d rows", committed, maybe, n)
}
