package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"

	"github.com/ovsdbcs/ovsdbcs/cmd/ovsdb-cs/internal/ovstable"
	"github.com/ovsdbcs/ovsdbcs/cs"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

const dumpHelp = `Usage: ovsdb-cs dump [flags] [SERVER] [DATABASE] [TABLE [COLUMN...]]

Prints the contents of DATABASE (or of TABLE, or of some of its COLUMNs)
as "ovsdb-client dump" does: one table per database table, sorted by name,
columns sorted by name, rows sorted by their values. The snapshot is
consistent: one transaction of "select" operations, sent to the cluster
leader (any member with --no-leader-only); a leader change while it is in
flight makes it go again to the new leader.

SERVER is a comma-separated list of remotes (default ` + defaultServer + `);
DATABASE defaults to Open_vSwitch or the server's only database.

Examples:
  ovsdb-cs dump tcp:10.0.0.1:6641,tcp:10.0.0.2:6641,tcp:10.0.0.3:6641 OVN_Northbound
  ovsdb-cs dump -f csv tcp:10.0.0.1:6641 OVN_Northbound Logical_Switch name ports
`

func runDump(ctx context.Context, e *env, args []string) error {
	r, err := resolveSchemaCommand(ctx, e, "dump", dumpHelp, args, true, -1)
	if err != nil {
		return err
	}
	defer r.cancel()
	c, t, ctx := r.c, r.t, r.ctx
	tables, custom, err := dumpSelection(t, r.rest)
	if err != nil {
		return err
	}
	sch, err := monitor.NewSchema(t.schema, nil)
	if err != nil {
		return err
	}
	ops := make([]map[string]any, len(tables))
	cols := make([][]dumpColumn, len(tables))
	for i, table := range tables {
		ts := sch.Table(table)
		names := custom
		if names == nil {
			names = []string{"_uuid"}
			for _, col := range ts.Columns {
				names = append(names, col.Name)
			}
		}
		slices.Sort(names)
		for _, n := range names {
			dc := dumpColumn{name: n, typ: uuidType}
			if col := ts.Column(n); col != nil {
				dc.typ = &col.Type
			}
			cols[i] = append(cols[i], dc)
		}
		ops[i] = map[string]any{"op": "select", "table": table, "where": []any{}, "columns": names}
	}
	opsJSON, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	var result json.RawMessage
	err = c.withLeader(ctx, t, func(ctx context.Context, client *cs.Client) error {
		res, err := client.TransactRaw(ctx, opsJSON)
		result = res
		// It only reads: sent again also when it was lost in flight.
		return transactOutcome(err, true)
	})
	if err != nil {
		if ctx.Err() != nil && c.timeout > 0 {
			return errTimeout
		}
		return err
	}
	var replies []struct {
		Rows  []map[string]json.RawMessage `json:"rows"`
		Error string                       `json:"error"`
	}
	if err := json.Unmarshal(result, &replies); err != nil || len(replies) != len(tables) {
		return fmt.Errorf("reply is not array of %d elements: %s", len(tables), result)
	}
	p := ovstable.NewPrinter(e.stdout, c.style)
	for i, table := range tables {
		if replies[i].Error != "" {
			return fmt.Errorf("%s table: %s", table, replies[i].Error)
		}
		tbl, err := dumpTable(table, cols[i], replies[i].Rows)
		if err != nil {
			return err
		}
		if err := p.Print(tbl); err != nil {
			return err
		}
	}
	return nil
}

// dumpSelection returns the tables to dump and, when COLUMNs are named, the
// columns (non-nil then, _version left out).
func dumpSelection(t *target, rest []string) (tables, columns []string, err error) {
	if len(rest) == 0 {
		for name := range t.schema.Tables {
			tables = append(tables, name)
		}
		slices.Sort(tables)
		return tables, nil, nil
	}
	if _, err := t.table(rest[0]); err != nil {
		return nil, nil, err
	}
	for _, col := range rest[1:] {
		if err := t.column(rest[0], col); err != nil {
			return nil, nil, err
		}
		if slices.Contains(columns, col) {
			return nil, nil, fmt.Errorf("%s: column %q mentioned multiple times", t.name, col)
		}
		columns = append(columns, col)
	}
	if len(columns) > 0 {
		// ovsdb-client dump accepts _version but does not show it.
		columns = slices.DeleteFunc(columns, func(c string) bool { return c == monitor.VersionColumn })
	}
	return rest[:1], columns, nil
}

// uuidType is the type of the _uuid column.
var uuidType = &monitor.ColumnType{Key: monitor.BaseType{Type: monitor.TypeUUID}, Min: 1, Max: 1}

type dumpColumn struct {
	name string
	typ  *monitor.ColumnType
}

// dumpTable builds the table of one select result, rows sorted as
// ovsdb-client's dump_table sorts them (compare_rows in
// ovsdb/ovsdb-client.c): by the columns whose key is not a uuid first, in
// column order, then by the uuid columns.
func dumpTable(name string, cols []dumpColumn, rows []map[string]json.RawMessage) (*ovstable.Table, error) {
	data := make([][]monitor.Datum, len(rows))
	for y, row := range rows {
		data[y] = make([]monitor.Datum, len(cols))
		for x, col := range cols {
			raw, ok := row[col.name]
			if !ok {
				return nil, fmt.Errorf("row %d in table %s response lacks %s column", y, name, col.name)
			}
			d, err := monitor.ParseDatum(col.typ, raw)
			if err != nil {
				return nil, fmt.Errorf("row %d in table %s column %s: %w", y, name, col.name, err)
			}
			data[y][x] = d
		}
	}
	slices.SortStableFunc(data, func(a, b []monitor.Datum) int {
		for _, uuids := range []bool{false, true} {
			for x, col := range cols {
				if (col.typ.Key.Type == monitor.TypeUUID) != uuids {
					continue
				}
				if c := compareDatum(a[x], b[x]); c != 0 {
					return c
				}
			}
		}
		return 0
	})
	t := &ovstable.Table{Caption: name + " table"}
	for _, col := range cols {
		t.Headings = append(t.Headings, col.name)
	}
	for _, r := range data {
		row := t.AddRow()
		for x, d := range r {
			row[x] = ovstable.Datum(d)
		}
	}
	return t, nil
}

// compareDatum orders datums as ovsdb_datum_compare_3way (lib/ovsdb-data.c)
// does: by size, then key by key, then value by value.
func compareDatum(a, b monitor.Datum) int {
	if c := cmp.Compare(a.Len(), b.Len()); c != 0 {
		return c
	}
	if c := compareAtoms(keys(a), keys(b)); c != 0 {
		return c
	}
	if !a.Type().IsMap() {
		return 0
	}
	return compareAtoms(values(a), values(b))
}

func compareAtoms(a, b iter.Seq[monitor.Atom]) int {
	nb, stop := iter.Pull(b)
	defer stop()
	for x := range a {
		y, ok := nb()
		if !ok {
			return 1
		}
		if c := x.Compare(y); c != 0 {
			return c
		}
	}
	return 0
}

func keys(d monitor.Datum) iter.Seq[monitor.Atom] {
	if !d.Type().IsMap() {
		return d.All()
	}
	return func(yield func(monitor.Atom) bool) {
		for k := range d.Pairs() {
			if !yield(k) {
				return
			}
		}
	}
}

func values(d monitor.Datum) iter.Seq[monitor.Atom] {
	return func(yield func(monitor.Atom) bool) {
		for _, v := range d.Pairs() {
			if !yield(v) {
				return
			}
		}
	}
}
