package monitor

import (
	"errors"
	"fmt"
	"strings"
)

// ZeroLastID is the last transaction id sent in monitor_cond_since when the
// client has none: the server then sends every row (found=false).
const ZeroLastID = "00000000-0000-0000-0000-000000000000"

// ErrBadLastID is wrapped by the errors about a last transaction id that is
// not a UUID.
var ErrBadLastID = errors.New("monitor: bad last transaction id")

// LastID returns the last transaction id of the monitored database, or
// [ZeroLastID] when there is none (Open vSwitch's cs->data.last_id in
// lib/ovsdb-cs.c).
//
// It is set from result[1] of the monitor_cond_since reply
// ([Conditions.MonitorReplied]) and from params[1] of every update3
// ([Conditions.SetLastID]); the caller records it only after the reply's or
// the update's changes applied to its replica (an id recorded for changes
// that were then lost would make the next resume skip them for good). It is
// sent in the next monitor_cond_since so that
// the server sends only what changed since (found=true). It is reset to zero,
// forcing a full reload at the next connection, by:
//   - [Conditions.ResetLastID]: call it when the replica proved inconsistent
//     with the server (Open vSwitch's flag_inconsistency), when an update
//     could not be parsed or applied (its changes are lost), and when a
//     table appears in the server's schema that was absent before;
//   - [Conditions.Clear] of a table that had conditions;
//   - [Conditions.StartMonitor] when a monitor_cond_change was in flight:
//     nobody knows whether the server applied it;
//   - the reply to a plain monitor or monitor_cond request, which carries no
//     id: the replica is reloaded with data newer than the id held, and
//     resuming later from that older id would apply changes twice. (Open
//     vSwitch keeps the old id here; this port does not, on purpose.)
//
// It survives everything else: reconnects, a new remote list, a cluster id
// change, found=false (whose reply carries the server's current id).
func (c *Conditions) LastID() string {
	if c.lastID == "" {
		return ZeroLastID
	}
	return c.lastID
}

// SetLastID records id, params[1] of an update3 notification, as the last
// transaction id. A malformed id is an error wrapping [ErrBadLastID] (the
// caller should treat the notification as malformed) and changes nothing.
// The zero UUID resets the id.
func (c *Conditions) SetLastID(id string) error {
	v, err := lastIDParse(id)
	if err != nil {
		return err
	}
	c.lastID = v
	return nil
}

// ResetLastID forgets the last transaction id, so that the next
// monitor_cond_since asks for everything.
func (c *Conditions) ResetLastID() {
	c.lastID = ""
}

// lastIDParse validates a last transaction id and returns it in lower case,
// or "" for the empty string and the zero UUID.
func lastIDParse(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if !lastIDValid(id) {
		if len(id) > 64 {
			id = id[:64] + "..."
		}
		return "", fmt.Errorf("%w: %q is not a UUID", ErrBadLastID, id)
	}
	id = strings.ToLower(id)
	if id == ZeroLastID {
		return "", nil
	}
	return id, nil
}

// lastIDValid reports whether s is a UUID in the 8-4-4-4-12 hex form.
func lastIDValid(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
