package ovsdbserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// maxStartAttempts bounds the retries of a start whose ports were taken.
const maxStartAttempts = 5

// schemaInfo is what the launcher needs from a schema.
type schemaInfo struct {
	name   string
	tables map[string][]string // table -> column names, sorted
}

func parseSchema(schema []byte) (schemaInfo, error) {
	var s struct {
		Name   string `json:"name"`
		Tables map[string]struct {
			Columns map[string]json.RawMessage `json:"columns"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		return schemaInfo{}, fmt.Errorf("ovsdbserver: bad schema: %w", err)
	}
	if s.Name == "" || len(s.Tables) == 0 {
		return schemaInfo{}, errors.New("ovsdbserver: bad schema: no name or no tables")
	}
	info := schemaInfo{name: s.Name, tables: make(map[string][]string)}
	for t, ts := range s.Tables {
		cols := make([]string, 0, len(ts.Columns))
		for c := range ts.Columns {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		info.tables[t] = cols
	}
	return info, nil
}

// launch is the part common to a cluster and a standalone server.
type launch struct {
	env     *env
	schema  schemaInfo
	ownDir  bool
	members []*Member
}

// prepare resolves the tools, parses the schema, creates or checks the
// directory and writes the schema file into it.
func prepare(schema []byte, opts []Option, clustered bool) (*launch, string, error) {
	cfg := newConfig(opts)
	if cfg.timeout <= 0 {
		cfg.timeout = DefaultTimeout
	}
	bins, err := findBinaries()
	if err != nil {
		return nil, "", err
	}
	info, err := parseSchema(schema)
	if err != nil {
		return nil, "", err
	}
	l := &launch{schema: info}
	dir := cfg.dir
	if dir == "" {
		dir, err = os.MkdirTemp("", "ovsdbs-")
		if err != nil {
			return nil, "", fmt.Errorf("ovsdbserver: %w", err)
		}
		l.ownDir = true
	} else {
		if dir, err = filepath.Abs(dir); err != nil {
			return nil, "", fmt.Errorf("ovsdbserver: %w", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "s0.db")); err == nil {
			return nil, "", fmt.Errorf("ovsdbserver: %s already holds a database (s0.db); use an empty directory", dir)
		}
	}
	l.env = &env{cfg: cfg, bins: bins, dir: dir, db: info.name, clustered: clustered}
	schemaPath := filepath.Join(dir, "schema.ovsschema")
	if err := os.WriteFile(schemaPath, schema, 0o644); err != nil {
		l.removeDir()
		return nil, "", fmt.Errorf("ovsdbserver: %w", err)
	}
	return l, schemaPath, nil
}

func (l *launch) removeDir() {
	if l.ownDir {
		_ = os.RemoveAll(l.env.dir)
	}
}

// runTool runs ovsdb-tool with args.
func (l *launch) runTool(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, l.env.bins.tool, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ovsdbserver: ovsdb-tool %s: %w: %s", strings.Join(args, " "), err,
			strings.TrimSpace(string(out)))
	}
	return nil
}

// stopAll terminates every member process and returns the first error.
func (l *launch) stopAll() error {
	errs := make([]error, len(l.members))
	var wg sync.WaitGroup
	for i, m := range l.members {
		wg.Go(func() { errs[i] = m.stopProcess() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// discardAttempt stops the processes of a failed attempt and removes the
// files it created.
func (l *launch) discardAttempt() {
	_ = l.stopAll()
	for _, m := range l.members {
		for _, ext := range []string{"db", "log", "out", "pid", "ctl", "sock"} {
			_ = os.Remove(m.path(ext))
		}
	}
	l.members = nil
}

// logTails returns the last n lines of every member's log.
func (l *launch) logTails(n int) string {
	var b strings.Builder
	for _, m := range l.members {
		b.WriteString(m.logTail(n))
	}
	return b.String()
}

// startMembers runs create, which creates the database files for fresh
// ports, starts member 0, waits until it is ready, runs afterFirst (if not
// nil), then starts the other members and waits until all are ready. It
// retries with new ports when one was taken. On failure nothing is left
// running.
func (l *launch) startMembers(ctx context.Context, n int, create, afterFirst func(ctx context.Context) error) (err error) {
	ok := false
	defer func() {
		// Also on panic: leave no process behind.
		if !ok {
			_ = l.stopAll()
		}
	}()
	for attempt := 1; ; attempt++ {
		ports, err := pickPorts(2 * n)
		if err != nil {
			return err
		}
		l.members = make([]*Member, n)
		for i := range l.members {
			m := &Member{env: l.env, index: i, port: ports[i]}
			if l.env.clustered {
				m.raftPort = ports[n+i]
			}
			l.members[i] = m
		}
		err = create(ctx)
		// Member 0 first: the others join through its RAFT port, and a
		// joiner that finds it closed backs off for a second.
		if err == nil {
			err = l.members[0].start()
		}
		if err == nil {
			err = l.members[0].waitReady(ctx)
		}
		if err == nil && afterFirst != nil {
			err = afterFirst(ctx)
		}
		if err == nil {
			for _, m := range l.members[1:] {
				if err = m.start(); err != nil {
					break
				}
			}
		}
		if err == nil {
			for _, m := range l.members[1:] {
				if err = m.waitReady(ctx); err != nil {
					break
				}
			}
		}
		if err == nil {
			ok = true
			return nil
		}
		if errors.Is(err, errPortInUse) && attempt < maxStartAttempts && ctx.Err() == nil {
			l.env.cfg.logger.Info("port taken during start, retrying with new ports", "attempt", attempt, "err", err)
			l.discardAttempt()
			continue
		}
		return fmt.Errorf("ovsdbserver: start failed (files in %s): %w\n%s", l.env.dir, err, l.logTails(20))
	}
}
