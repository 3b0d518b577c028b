package main

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
)

// results is everything one run measured.
type results struct {
	Env      environment      `json:"env"`
	Decode   *benchSection    `json:"decode,omitempty"`
	Replica  *benchSection    `json:"replica,omitempty"`
	Sync     []syncRun        `json:"sync,omitempty"`
	Failover []programSection `json:"failover,omitempty"`
	Herd     *programSection  `json:"herd,omitempty"`
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "ovsdbcs-report-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.memprofileDir == "" {
		o.memprofileDir = tmp
	} else if err := os.MkdirAll(o.memprofileDir, 0o755); err != nil {
		return err
	}
	var res results
	res.Env = describeEnvironment()
	if o.sections["decode"] {
		s, err := runDecode(ctx, o)
		if err != nil {
			return err
		}
		res.Decode = &s
	}
	if o.sections["replica"] {
		s, err := runReplica(ctx, o)
		if err != nil {
			return err
		}
		res.Replica = &s
	}
	if o.sections["sync"] {
		res.Sync, err = runSync(ctx, o, tmp)
		if err != nil {
			return err
		}
	}
	if o.sections["failover"] {
		n := strconv.Itoa(o.failoverTransfers)
		// Unplanned losses (issue 12): the polling policies wait up to 16 s
		// per kill, so at most 10 of each.
		k := strconv.Itoa(min(o.failoverTransfers, 10))
		for _, args := range [][]string{
			{"--transfers", n, "--method", "failure-test", "--clients", "ovsdbcs,ovsdbcs-ovs,libovsdb"},
			{"--transfers", n, "--method", "exit", "--clients", "ovsdbcs,libovsdb"},
			{"--transfers", k, "--method", "kill", "--clients", "ovsdbcs,ovsdbcs-ea,ovsdbcs-ovs,libovsdb"},
			{"--transfers", k, "--method", "stop", "--freeze", "3s", "--clients", "ovsdbcs,ovsdbcs-ea,ovsdbcs-ovs,libovsdb"},
		} {
			p, err := runProgram(ctx, "failover", args...)
			if err != nil {
				return err
			}
			res.Failover = append(res.Failover, p)
		}
	}
	if o.sections["herd"] {
		p, err := runProgram(ctx, "herd", "--clients", strconv.Itoa(o.herdClients), "--changes", strconv.Itoa(o.herdChanges))
		if err != nil {
			return err
		}
		res.Herd = &p
	}
	if o.jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonPath, b, 0o644); err != nil {
			return err
		}
	}
	if o.compare != "" {
		if err := compareRuns(os.Stderr, o, res, o.compare); err != nil {
			return err
		}
	}
	return writeReport(o, res)
}
