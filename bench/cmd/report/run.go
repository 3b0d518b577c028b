package main

import (
	"context"
	"encoding/json"
	"os"
)

// results is everything one run measured.
type results struct {
	Env  environment `json:"env"`
	Sync []syncRun   `json:"sync,omitempty"`
}

func run(ctx context.Context, o options) error {
	tmp, err := os.MkdirTemp("", "ovsdbcs-report-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var res results
	res.Env = describeEnvironment()
	if o.sections["sync"] {
		res.Sync, err = runSync(ctx, o, tmp)
		if err != nil {
			return err
		}
	}
	if o.jsonPath != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonPath, b, 0o644); err != nil {
			return err
		}
	}
	return writeReport(o, res)
}
