package leader

// Model is the storage model of a database, the "model" column of
// _Server.Database.
type Model string

// The models an ovsdb-server reports. An active-backup server reports
// Standalone. Any other value (or none, from a server that lacks the
// column) is handled like Standalone by [Checker.Check].
const (
	Standalone Model = "standalone"
	Clustered  Model = "clustered"
	Relay      Model = "relay"
)

// Database is one row of the _Server.Database table.
//
// A column that the server does not have, or that is empty, reads as the zero
// value. The optional columns also say whether they hold a value, because a
// present zero is not the same as an absent value for the update2 diffs.
type Database struct {
	// UUID is the row's UUID, in lower case.
	UUID string

	// Name is the database name, for example "OVN_Northbound".
	Name string
	// Model is the storage model.
	Model Model
	// Connected reports whether a clustered server is connected to its
	// cluster, or a relay to its source. Always true for standalone.
	Connected bool
	// Leader reports whether a clustered server is the cluster leader.
	// Always true for standalone, false for relay.
	Leader bool

	// Schema is the database schema as JSON text. A clustered server that
	// has not joined its cluster yet has none.
	Schema    string
	HasSchema bool
	// CID is the cluster id and SID the server id, both lower-case UUIDs, or
	// "" for a database that is not clustered.
	CID string
	SID string
	// Index is the Raft index the server has applied; 0 when absent.
	Index    int64
	HasIndex bool
}

// hasUsableSchema reports whether the row carries a schema a client can use.
// An empty string counts as no schema: it can never be parsed.
func (d *Database) hasUsableSchema() bool {
	return d.HasSchema && d.Schema != ""
}
