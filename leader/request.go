package leader

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Names of the _Server database and its table, and the methods used on it.
const (
	// ServerDatabase is the name of the database that describes a server's
	// databases.
	ServerDatabase = "_Server"
	// ServerTable is the table of ServerDatabase this package monitors.
	ServerTable = "Database"
	// SchemaMethod is the method of the first request on a connection;
	// its params are [SchemaParams].
	SchemaMethod = "get_schema"
	// MonitorMethod is the method of the _Server monitor; its params come
	// from [MonitorParams]. Open vSwitch uses monitor_cond for _Server (plain
	// monitor would resend the whole row, schema included, on every commit).
	// If the server rejects it, fall back to get_schema of the data database.
	MonitorMethod = "monitor_cond"
)

// baseColumns are the columns Open vSwitch's C client monitors, in its order.
var baseColumns = [...]string{"name", "model", "connected", "leader", "schema", "cid", "index"}

// SchemaParams returns the params of the get_schema request for _Server:
// ["_Server"].
func SchemaParams() []byte {
	return []byte(`["` + ServerDatabase + `"]`)
}

// MonitorID returns the monitor id of the _Server monitor,
// ["monid","_Server"]: update2 notifications whose params[0] equals it are
// for the _Server replica.
func MonitorID() []byte {
	return []byte(`["monid","` + ServerDatabase + `"]`)
}

// MonitorParams returns the params of the monitor_cond request for
// _Server.Database, given serverSchema, the result of get_schema for _Server:
//
//	["_Server",["monid","_Server"],{"Database":[{"columns":[...]}]}]
//
// The columns are name, model, connected, leader, schema, cid and index, as
// Open vSwitch requests, then sid when the server's schema has it (sid is
// informative: no decision depends on it, so it is requested only when it
// costs no error). A column of the first seven that the schema lacks is left
// out and listed in missing, so that the caller can warn that the server
// needs an upgrade; its value then reads as zero in the rows.
//
// An error wraps [ErrBadServerSchema]: serverSchema is not a schema, it has
// no Database table, or the table has none of the columns.
func MonitorParams(serverSchema json.RawMessage) (params []byte, missing []string, err error) {
	var schema struct {
		Tables map[string]struct {
			Columns map[string]json.RawMessage `json:"columns"`
		} `json:"tables"`
	}
	if !isObject(serverSchema) {
		return nil, nil, fmt.Errorf("%w: not a JSON object", ErrBadServerSchema)
	}
	if err := json.Unmarshal(serverSchema, &schema); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadServerSchema, err)
	}
	table, ok := schema.Tables[ServerTable]
	if !ok {
		return nil, nil, fmt.Errorf("%w: no %s table", ErrBadServerSchema, ServerTable)
	}
	var cols []string
	for _, c := range baseColumns {
		if _, ok := table.Columns[c]; ok {
			cols = append(cols, c)
		} else {
			missing = append(missing, c)
		}
	}
	if _, ok := table.Columns["sid"]; ok {
		cols = append(cols, "sid")
	}
	if len(cols) == 0 {
		return nil, missing, fmt.Errorf("%w: %s table has none of the columns needed", ErrBadServerSchema, ServerTable)
	}
	var b strings.Builder
	b.WriteString(`["` + ServerDatabase + `",`)
	b.Write(MonitorID())
	b.WriteString(`,{"` + ServerTable + `":[{"columns":[`)
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + c + `"`)
	}
	b.WriteString(`]}]}]`)
	return []byte(b.String()), missing, nil
}
