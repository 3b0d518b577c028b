// Command ovsdb-cs is ovsdb-client's monitor, dump, transact and list
// commands on top of the ovsdb-cs client-sync library: the same arguments
// and the same output, but SERVER may list every member of a RAFT cluster,
// and ovsdb-cs works with the cluster leader and follows it when
// leadership moves.
//
// Usage:
//
//	ovsdb-cs monitor      [flags] [SERVER] [DATABASE] TABLE [COLUMN,...]...
//	ovsdb-cs monitor-cond [flags] [SERVER] [DATABASE] CONDITION TABLE [COLUMN,...]...
//	ovsdb-cs dump         [flags] [SERVER] [DATABASE] [TABLE [COLUMN...]]
//	ovsdb-cs transact     [flags] [SERVER] TRANSACTION
//	ovsdb-cs list-dbs     [flags] [SERVER]
//	ovsdb-cs list-tables  [flags] [SERVER] [DATABASE]
//	ovsdb-cs list-columns [flags] [SERVER] [DATABASE] [TABLE]
//	ovsdb-cs demo [flags]
//	ovsdb-cs testserver [-n 3] [--schema FILE]
//
// Data goes to standard output in ovsdb-client's formats (-f
// table|list|csv|html|json; monitor also --format=events, one JSON object
// per event); connection state, logs and errors go to standard error.
// "demo" runs a fake 3-member cluster in-process, moves its leadership
// around while writing rows, and shows how the client follows; "testserver"
// runs the fake cluster on loopback TCP ports for other programs to use.
// docs/cli.md documents every command.
//
// The exit status is 0 on success (including an interrupt by SIGINT or
// SIGTERM), 1 when the command failed, 2 for a usage error and 3 when a
// transaction may or may not have committed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand of ovsdb-cs.
type command struct {
	name    string
	summary string
	// run executes the command with its arguments (after the command name).
	run func(ctx context.Context, env *env, args []string) error
}

// env is what a command runs with: its output streams.
type env struct {
	stdout io.Writer
	stderr io.Writer
}

// lockedWriter serializes writes: loggers and printers share the streams.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) progressf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "ovsdb-cs: "+format+"\n", args...)
}

var commands = []command{
	{"monitor", "print a database's changes, following the cluster leader", runMonitor},
	{"monitor-cond", "print the changes of the rows matching a condition, following the leader", runMonitorCond},
	{"dump", "print a consistent snapshot of a database, read from the leader", runDump},
	{"transact", "run a transaction on the leader, retrying what is safe to retry", runTransact},
	{"list-dbs", "list the databases a server serves", runListDBs},
	{"list-tables", "list the tables of a database", runListTables},
	{"list-columns", "list the columns of a table (or of every table)", runListColumns},
	{"demo", "show leader-only failover against an in-process fake cluster", runDemo},
	{"testserver", "run a fake clustered OVSDB server on loopback TCP", runTestServer},
}

// usageError is an error in the command line: the exit status is 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// errHelp reports that help was asked for and printed: the exit status is 0.
var errHelp = errors.New("help requested")

func mainUsage(w io.Writer) {
	fmt.Fprintf(w, `Usage: ovsdb-cs COMMAND [flags] [args]

ovsdb-cs keeps an in-memory replica of an OVSDB database in step with a
clustered ovsdb-server, stays with the cluster leader and follows it.

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Run "ovsdb-cs COMMAND --help" for a command's flags.
Events go to stdout; progress, logs and errors to stderr.
Exit status: 0 success or interrupted, 1 failure, 2 usage error,
3 a transaction may or may not have committed.
`)
}

// run is the whole program: it parses args, runs the command until it ends
// or ctx is done, and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: &lockedWriter{w: stdout}, stderr: &lockedWriter{w: stderr}}
	if len(args) == 0 {
		mainUsage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 1 {
			return run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		mainUsage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args[1:])
		var ue *usageError
		var mc *maybeCommittedError
		switch {
		case err == nil, errors.Is(err, errHelp):
			return exitOK
		case errors.As(err, &mc):
			fmt.Fprintf(stderr, "ovsdb-cs %s: error: %v\n", name, err)
			return exitMaybeCommitted
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "ovsdb-cs %s: %v\nRun \"ovsdb-cs %s --help\" for usage.\n", name, err, name)
			return exitUsage
		default:
			fmt.Fprintf(stderr, "ovsdb-cs %s: error: %v\n", name, err)
			return exitFail
		}
	}
	fmt.Fprintf(stderr, "ovsdb-cs: unknown command %q\n\n", name)
	mainUsage(stderr)
	return exitUsage
}
