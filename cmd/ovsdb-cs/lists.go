package main

import (
	"context"
	"fmt"

	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/ovstable"
)

const listDBsHelp = `Usage: ovsdb-cs list-dbs [flags] [SERVER]

Prints the databases SERVER serves, one per line, sorted (like
"ovsdb-client list-dbs"). SERVER is a comma-separated list of remotes
(tcp:IP:PORT, ssl:IP:PORT, unix:FILE); the first that answers is asked.
The default SERVER is ` + defaultServer + `.

Example:
  ovsdb-cs list-dbs tcp:10.0.0.1:6641,tcp:10.0.0.2:6641
`

const listTablesHelp = `Usage: ovsdb-cs list-tables [flags] [SERVER] [DATABASE]

Prints the tables of DATABASE as a one-column table (like "ovsdb-client
list-tables", in the same order). Without DATABASE, Open_vSwitch or the
server's only database.

Example:
  ovsdb-cs list-tables tcp:10.0.0.1:6641 OVN_Northbound
`

const listColumnsHelp = `Usage: ovsdb-cs list-columns [flags] [SERVER] [DATABASE] [TABLE]

Prints the columns of TABLE (or of every table) with their types (like
"ovsdb-client list-columns", in the same order).

Examples:
  ovsdb-cs list-columns tcp:10.0.0.1:6641 OVN_Northbound Logical_Switch
  ovsdb-cs list-columns -f csv tcp:10.0.0.1:6641 OVN_Northbound
`

// schemaCommand parses the flags of a command that only reads the schema.
func schemaCommand(e *env, name, help string, args []string) (*common, []string, error) {
	c := &common{e: e}
	fs := newFlagSet(e, name, help)
	c.addConnFlags(fs)
	c.addOutputFlags(fs, false, false)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkConn(); err != nil {
		return nil, nil, err
	}
	if _, err := c.checkOutput(); err != nil {
		return nil, nil, err
	}
	return c, pos, nil
}

// schemaRun is a command that reads the schema, resolved: its flags, its
// target and the arguments after [SERVER] [DATABASE].
type schemaRun struct {
	c    *common
	t    *target
	rest []string
	// ctx ends with --timeout; call cancel when done.
	ctx    context.Context
	cancel context.CancelFunc
}

// resolveSchemaCommand parses the command line of a command that reads the
// schema, resolves [SERVER] [DATABASE] (DATABASE only with needDB) and
// checks that at most maxRest arguments follow (any number when maxRest is
// negative). On success the caller calls the run's cancel.
func resolveSchemaCommand(ctx context.Context, e *env, name, help string, args []string, needDB bool, maxRest int) (*schemaRun, error) {
	c, pos, err := schemaCommand(e, name, help, args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.withTimeout(ctx)
	t, rest, err := c.serverArgs(ctx, pos, 0, needDB)
	if err == nil && maxRest >= 0 && len(rest) > maxRest {
		err = usageErrorf("unexpected arguments %q", rest[maxRest:])
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return &schemaRun{c: c, t: t, rest: rest, ctx: ctx, cancel: cancel}, nil
}

func runListDBs(ctx context.Context, e *env, args []string) error {
	r, err := resolveSchemaCommand(ctx, e, "list-dbs", listDBsHelp, args, false, 0)
	if err != nil {
		return err
	}
	defer r.cancel()
	var b []byte
	for _, d := range r.t.dbs {
		b = append(b, d...)
		b = append(b, '\n')
	}
	_, err = e.stdout.Write(b)
	return err
}

func runListTables(ctx context.Context, e *env, args []string) error {
	r, err := resolveSchemaCommand(ctx, e, "list-tables", listTablesHelp, args, true, 0)
	if err != nil {
		return err
	}
	defer r.cancel()
	tbl := &ovstable.Table{Headings: []string{"Table"}}
	for _, name := range r.t.tableNames() {
		tbl.AddRow()[0] = ovstable.Text(name)
	}
	return ovstable.NewPrinter(e.stdout, r.c.style).Print(tbl)
}

func runListColumns(ctx context.Context, e *env, args []string) error {
	r, err := resolveSchemaCommand(ctx, e, "list-columns", listColumnsHelp, args, true, 1)
	if err != nil {
		return err
	}
	defer r.cancel()
	t, rest := r.t, r.rest
	tables := t.tableNames()
	tbl := &ovstable.Table{Headings: []string{"Table", "Column", "Type"}}
	if len(rest) == 1 {
		if _, err := t.table(rest[0]); err != nil {
			return err
		}
		tables = rest
		tbl.Headings = tbl.Headings[1:]
	}
	for _, table := range tables {
		types := t.columnTypes(table)
		for _, col := range t.columnNames(table) {
			typ, ok := types[col]
			if !ok {
				return fmt.Errorf("%s: no type for column %s of table %s in the schema", t.name, col, table)
			}
			cells := []ovstable.Cell{ovstable.Text(col), ovstable.JSON(typ)}
			if len(rest) == 0 {
				cells = append([]ovstable.Cell{ovstable.Text(table)}, cells...)
			}
			copy(tbl.AddRow(), cells)
		}
	}
	return ovstable.NewPrinter(e.stdout, r.c.style).Print(tbl)
}
