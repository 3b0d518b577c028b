package leader

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/internal/ovsjson"
	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// Replica holds the _Server.Database rows of one connection, in a
// monitor.Replica of the _Server schema: the update parsing and the diff
// rules are monitor's.
//
// The zero value is an empty replica ready to use. A Replica is not safe for
// concurrent use.
type Replica struct {
	r *monitor.Replica
}

// NewReplica returns an empty replica.
func NewReplica() *Replica {
	return &Replica{}
}

func (r *Replica) replica() *monitor.Replica {
	if r.r == nil {
		r.r = monitor.NewReplica(serverSchema)
	}
	return r.r
}

// Reset replaces every row with those of tableUpdates2, the result of the
// monitor_cond reply for _Server.Database (rows as "initial"). On error the
// replica is left as it was.
func (r *Replica) Reset(tableUpdates2 json.RawMessage) error {
	u, err := parse(tableUpdates2)
	if err != nil {
		return err
	}
	u.Clear = true
	return r.apply(u)
}

// Apply applies tableUpdates2, the <table-updates2> of an update2
// notification (params[1]) for _Server.Database:
//
//   - "initial" and "insert" add a row; the row must not exist.
//   - "delete" removes a row; the row must exist.
//   - "modify" changes the columns it names; the row must exist. name, model,
//     connected and leader take the new value. The optional columns schema,
//     cid, sid and index take a diff: an empty set clears the value (an
//     ovsdb-server sends the new value for columns of at most one element),
//     a value equal to the current one clears it (RFC 7047 symmetric
//     difference), any other value replaces it, and a two-element set
//     {current, new} gives new.
//
// Columns the package does not know are ignored, and so are tables other than
// Database. The update is applied whole or not at all: on error the replica
// is unchanged, and the error wraps [ErrMalformed] (the JSON is not a valid
// update) or [ErrInconsistent] (it does not fit the rows held; the caller
// should resynchronise).
func (r *Replica) Apply(tableUpdates2 json.RawMessage) error {
	u, err := parse(tableUpdates2)
	if err != nil {
		return err
	}
	return r.apply(u)
}

// parse parses a <table-updates2> for the _Server schema.
func parse(tableUpdates2 []byte) (*monitor.Update, error) {
	if !isObject(tableUpdates2) {
		return nil, fmt.Errorf("%w: <table-updates2>: not a JSON object", ErrMalformed)
	}
	u, err := monitor.ParseTableUpdates2(serverSchema, tableUpdates2)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return u, nil
}

func (r *Replica) apply(u *monitor.Update) error {
	_, err := r.replica().Apply(u)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, monitor.ErrInconsistent):
		return fmt.Errorf("%w: %w", ErrInconsistent, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// Clear removes every row, for a resynchronisation.
func (r *Replica) Clear() {
	r.r = nil
}

// Len returns the number of rows.
func (r *Replica) Len() int {
	if r.r == nil {
		return 0
	}
	return r.r.Len(ServerTable)
}

// Row returns the row with the given UUID (any case).
func (r *Replica) Row(uuid string) (Database, bool) {
	id, err := monitor.ParseUUID(uuid)
	if err != nil || r.r == nil {
		return Database{}, false
	}
	row, ok := r.r.Get(ServerTable, id)
	if !ok {
		return Database{}, false
	}
	return databaseRow(row), true
}

// Rows returns every row, sorted by UUID.
func (r *Replica) Rows() []Database {
	if r.r == nil {
		return []Database{}
	}
	var rows []Database
	r.r.View(func(tx monitor.ReadTx) {
		rows = make([]Database, 0, tx.Len(ServerTable))
		for _, row := range tx.Rows(ServerTable) {
			rows = append(rows, databaseRow(row))
		}
	})
	slices.SortFunc(rows, func(a, b Database) int { return strings.Compare(a.UUID, b.UUID) })
	return rows
}

// Find returns the row of the data database: the row whose cid is clusterID
// when clusterID is a non-zero UUID (whatever its name), otherwise the row
// named database. If several rows match, the one with the lowest UUID wins,
// so the answer never depends on map order.
func (r *Replica) Find(database, clusterID string) (Database, bool) {
	cid := normalizeClusterID(clusterID)
	for _, row := range r.Rows() { // sorted by UUID: the first match wins
		if cid != "" && row.CID == cid || cid == "" && row.Name == database {
			return row, true
		}
	}
	return Database{}, false
}

// normalizeClusterID returns a cluster id in lower case, or "" for no cluster
// id (empty or the zero UUID). A string that is not a UUID is returned as
// given: it can match no row.
func normalizeClusterID(cid string) string {
	if cid == "" {
		return ""
	}
	id, ok := ovsjson.CanonicalUUID(cid)
	if !ok {
		return cid
	}
	if id == "00000000-0000-0000-0000-000000000000" {
		return ""
	}
	return id
}
