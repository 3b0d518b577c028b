package leader

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Replica holds the _Server.Database rows of one connection.
//
// The zero value is an empty replica ready to use. A Replica is not safe for
// concurrent use.
type Replica struct {
	rows map[string]Database
}

// NewReplica returns an empty replica.
func NewReplica() *Replica {
	return &Replica{}
}

// Reset replaces every row with those of tableUpdates2, the result of the
// monitor_cond reply for _Server.Database (rows as "initial"). On error the
// replica is left as it was.
func (r *Replica) Reset(tableUpdates2 json.RawMessage) error {
	empty := Replica{}
	if err := empty.Apply(tableUpdates2); err != nil {
		return err
	}
	r.rows = empty.rows
	return nil
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
	updates, err := parseTableUpdates2(tableUpdates2)
	if err != nil {
		return err
	}
	if len(updates) == 0 {
		return nil
	}
	// Validate and compute every new row first, then commit.
	results := make([]Database, len(updates))
	for i := range updates {
		u := &updates[i]
		old, exists := r.rows[u.uuid]
		switch u.op {
		case opInsert:
			if exists {
				return fmt.Errorf("%w: insert of row %s, which exists", ErrInconsistent, u.uuid)
			}
			row := Database{UUID: u.uuid}
			for c := range numColumns {
				if u.has[c] {
					replaceColumn(&row, c, u.vals[c])
				}
			}
			results[i] = row
		case opModify:
			if !exists {
				return fmt.Errorf("%w: modify of row %s, which does not exist", ErrInconsistent, u.uuid)
			}
			row := old
			for c := range numColumns {
				if !u.has[c] {
					continue
				}
				if serverColumns[c].optional {
					if err := diffColumn(&row, c, u.vals[c]); err != nil {
						return fmt.Errorf("%w: modify of row %s, column %s: %v", ErrInconsistent, u.uuid, serverColumns[c].name, err)
					}
				} else {
					replaceColumn(&row, c, u.vals[c])
				}
			}
			results[i] = row
		case opDelete:
			if !exists {
				return fmt.Errorf("%w: delete of row %s, which does not exist", ErrInconsistent, u.uuid)
			}
		}
	}
	if r.rows == nil {
		r.rows = make(map[string]Database, len(updates))
	}
	for i := range updates {
		if updates[i].op == opDelete {
			delete(r.rows, updates[i].uuid)
		} else {
			r.rows[updates[i].uuid] = results[i]
		}
	}
	return nil
}

// Clear removes every row, for a resynchronisation.
func (r *Replica) Clear() {
	clear(r.rows)
}

// Len returns the number of rows.
func (r *Replica) Len() int {
	return len(r.rows)
}

// Row returns the row with the given UUID (any case).
func (r *Replica) Row(uuid string) (Database, bool) {
	id, ok := parseUUID(uuid)
	if !ok {
		return Database{}, false
	}
	row, ok := r.rows[id]
	return row, ok
}

// Rows returns every row, sorted by UUID.
func (r *Replica) Rows() []Database {
	rows := make([]Database, 0, len(r.rows))
	for _, row := range r.rows {
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b Database) int { return strings.Compare(a.UUID, b.UUID) })
	return rows
}

// Find returns the row of the data database: the row whose cid is clusterID
// when clusterID is a non-zero UUID (whatever its name), otherwise the row
// named database. If several rows match, the one with the lowest UUID wins,
// so the answer never depends on map order.
func (r *Replica) Find(database, clusterID string) (Database, bool) {
	cid := normalizeClusterID(clusterID)
	var best Database
	found := false
	for _, row := range r.rows {
		var match bool
		if cid != "" {
			match = row.CID == cid
		} else {
			match = row.Name == database
		}
		if match && (!found || row.UUID < best.UUID) {
			best, found = row, true
		}
	}
	return best, found
}

// normalizeClusterID returns a cluster id in lower case, or "" for no cluster
// id (empty or the zero UUID). A string that is not a UUID is returned as
// given: it can match no row.
func normalizeClusterID(cid string) string {
	if cid == "" {
		return ""
	}
	id, ok := parseUUID(cid)
	if !ok {
		return cid
	}
	if id == "00000000-0000-0000-0000-000000000000" {
		return ""
	}
	return id
}

// replaceColumn sets column c of row to d (zero or one atom).
func replaceColumn(row *Database, c int, d datum) {
	present := d.n > 0
	a := d.atoms[0]
	if !present {
		a = atom{}
	}
	switch c {
	case colName:
		row.Name = a.s
	case colModel:
		row.Model = Model(a.s)
	case colConnected:
		row.Connected = a.b
	case colLeader:
		row.Leader = a.b
	case colSchema:
		row.Schema, row.HasSchema = a.s, present
	case colCID:
		row.CID = a.s
	case colSID:
		row.SID = a.s
	case colIndex:
		row.Index, row.HasIndex = a.i, present
	}
}

// current returns the value of optional column c of row, and whether it is
// present.
func current(row *Database, c int) (atom, bool) {
	switch c {
	case colSchema:
		return atom{s: row.Schema}, row.HasSchema
	case colCID:
		return atom{s: row.CID}, row.CID != ""
	case colSID:
		return atom{s: row.SID}, row.SID != ""
	case colIndex:
		return atom{i: row.Index}, row.HasIndex
	}
	return atom{}, false
}

// diffColumn applies the update2 diff d to optional column c of row.
func diffColumn(row *Database, c int, d datum) error {
	cur, present := current(row, c)
	switch d.n {
	case 0:
		replaceColumn(row, c, datum{})
	case 1:
		if present && cur == d.atoms[0] {
			replaceColumn(row, c, datum{})
		} else {
			replaceColumn(row, c, d)
		}
	case 2:
		var next atom
		switch {
		case present && cur == d.atoms[0]:
			next = d.atoms[1]
		case present && cur == d.atoms[1]:
			next = d.atoms[0]
		default:
			return fmt.Errorf("two-value diff does not contain the current value")
		}
		replaceColumn(row, c, datum{n: 1, atoms: [2]atom{next}})
	}
	return nil
}
