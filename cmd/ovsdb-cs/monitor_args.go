package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// selectKinds is which kinds of change a monitored table shows (the
// "select" of a monitor request): the !initial, !insert, !delete and
// !modify selectors turn them off.
type selectKinds struct{ initial, insert, delete, modify bool }

// monitoredTable is one table of a monitor command line: its columns, in
// the order printed, and the kinds of change shown.
type monitoredTable struct {
	name    string
	columns []monitoredColumn
	kinds   selectKinds
}

type monitoredColumn struct {
	name string
	// kinds is what the request naming the column selects: the server sends
	// a column's value only for those kinds of change.
	kinds selectKinds
	typ   *monitor.ColumnType
	// rowUUID marks _uuid, the row's own uuid rather than a column value.
	rowUUID bool
}

// parseMonitorTables resolves the TABLE [COLUMN,...]... arguments (TABLE
// may be ALL) against the schema as ovsdb-client's do_monitor__ and
// parse_monitor_columns do (ovsdb/ovsdb-client.c): each argument after
// TABLE is a comma-separated list of columns and selectors; a table with no
// column named gets every column, sorted by name. ovsdb-client also adds
// the _version pseudo-column last then, and so does ovsdb-cs when version
// is set (ovsdb-client's formats; --format=events leaves it out).
func parseMonitorTables(t *target, args []string, hasCondition, version bool) ([]monitoredTable, error) {
	var tables []string
	if args[0] == "ALL" {
		if hasCondition {
			return nil, fmt.Errorf("ALL tables are not allowed with condition")
		}
		for name := range t.schema.Tables {
			tables = append(tables, name)
		}
		slices.Sort(tables)
	} else {
		if _, err := t.table(args[0]); err != nil {
			return nil, err
		}
		tables = args[:1]
	}
	colArgs := args[1:]
	if len(colArgs) == 0 {
		colArgs = []string{""}
	}
	sch, err := monitor.NewSchema(t.schema, nil)
	if err != nil {
		return nil, err
	}
	var out []monitoredTable
	for _, name := range tables {
		mt := monitoredTable{name: name}
		ts := sch.Table(name)
		add := func(col string, kinds selectKinds) error {
			if slices.ContainsFunc(mt.columns, func(c monitoredColumn) bool { return c.name == col }) {
				return fmt.Errorf("%s: column %q mentioned multiple times", t.name, col)
			}
			mc := monitoredColumn{name: col, kinds: kinds, typ: uuidType, rowUUID: col == "_uuid"}
			if cs := ts.Column(col); cs != nil {
				mc.typ = &cs.Type
			}
			mt.columns = append(mt.columns, mc)
			return nil
		}
		for _, arg := range colArgs {
			kinds := selectKinds{true, true, true, true}
			var named []string
			for tok := range strings.SplitSeq(arg, ",") {
				switch tok {
				case "":
				case "!initial":
					kinds.initial = false
				case "!insert":
					kinds.insert = false
				case "!delete":
					kinds.delete = false
				case "!modify":
					kinds.modify = false
				default:
					if err := t.column(name, tok); err != nil {
						return nil, err
					}
					named = append(named, tok)
				}
			}
			if len(named) == 0 {
				for _, c := range ts.Columns {
					named = append(named, c.Name)
				}
				if version {
					named = append(named, monitor.VersionColumn)
				}
			}
			for _, col := range named {
				if err := add(col, kinds); err != nil {
					return nil, err
				}
			}
			// Several requests for one table: a row's change is shown when
			// one of them selects its kind.
			mt.kinds.initial = mt.kinds.initial || kinds.initial
			mt.kinds.insert = mt.kinds.insert || kinds.insert
			mt.kinds.delete = mt.kinds.delete || kinds.delete
			mt.kinds.modify = mt.kinds.modify || kinds.modify
		}
		out = append(out, mt)
	}
	return out, nil
}

// columnNames returns the names of the replica columns to monitor (_uuid
// is the row's own uuid, always known).
func (mt *monitoredTable) columnNames() []string {
	var names []string
	for _, c := range mt.columns {
		if c.name != "_uuid" {
			names = append(names, c.name)
		}
	}
	if len(names) == 0 {
		names = []string{"_uuid"}
	}
	return names
}

// columnNamesWithUUID returns the columns as ovsdb-client requests them,
// _uuid included when named.
func (mt *monitoredTable) columnNamesWithUUID() []string {
	names := make([]string, len(mt.columns))
	for i, c := range mt.columns {
		names[i] = c.name
	}
	return names
}

// parseCondition reads the CONDITION of monitor-cond: a JSON array of
// clauses [COLUMN, FUNCTION, VALUE] and booleans, matched against table.
// A row is monitored when it matches one clause; true matches every row,
// false none. It returns nil for every row and an empty list for none.
func parseCondition(t *target, table, arg string) ([]ovsdb.Condition, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(arg), &raw); err != nil {
		return nil, fmt.Errorf("%q: condition is not a JSON array: %w", arg, err)
	}
	conds := []ovsdb.Condition{}
	for i, r := range raw {
		var b bool
		if json.Unmarshal(r, &b) == nil {
			if b {
				return nil, nil
			}
			continue
		}
		var clause []json.RawMessage
		if err := json.Unmarshal(r, &clause); err != nil || len(clause) != 3 {
			return nil, fmt.Errorf("condition clause %d: want [COLUMN, FUNCTION, VALUE] or a boolean, got %s", i, r)
		}
		var col string
		if err := json.Unmarshal(clause[0], &col); err != nil {
			return nil, fmt.Errorf("condition clause %d: column is not a string: %s", i, clause[0])
		}
		if err := t.column(table, col); err != nil {
			return nil, err
		}
		var c ovsdb.Condition
		if err := json.Unmarshal(r, &c); err != nil {
			return nil, fmt.Errorf("condition clause %d: %w", i, err)
		}
		conds = append(conds, c)
	}
	return conds, nil
}
