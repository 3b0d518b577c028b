package leader

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const (
	cidA = "cc568949-9b70-427e-a9bd-886b210785c8"
	cidB = "0f0f0f0f-0000-4000-8000-000000000001"
)

// replicaOf builds a replica holding rows, through the <table-updates2>
// of a monitor_cond reply that holds them.
func replicaOf(rows ...Database) *Replica {
	set := func(present bool, v any) any {
		if present {
			return v
		}
		return []any{"set", []any{}}
	}
	table := map[string]any{}
	for _, row := range rows {
		table[row.UUID] = map[string]any{"initial": map[string]any{
			"name": row.Name, "model": row.Model, "connected": row.Connected, "leader": row.Leader,
			"schema": set(row.HasSchema, row.Schema),
			"cid":    set(row.CID != "", []any{"uuid", row.CID}),
			"sid":    set(row.SID != "", []any{"uuid", row.SID}),
			"index":  set(row.HasIndex, row.Index),
		}}
	}
	b, err := json.Marshal(map[string]any{ServerTable: table})
	if err != nil {
		panic(err)
	}
	r := NewReplica()
	if err := r.Reset(b); err != nil {
		panic(err)
	}
	return r
}

// clustered returns a healthy clustered row (connected leader with a schema).
func clustered(uuid, name string, index int64) Database {
	return Database{
		UUID: uuid, Name: name, Model: Clustered, Connected: true, Leader: true,
		Schema: `{"name":"` + name + `"}`, HasSchema: true,
		CID: cidA, SID: "00009118-2a34-4fb7-8ad6-59dc3008ca11",
		Index: index, HasIndex: true,
	}
}

func with(d Database, f func(*Database)) Database {
	f(&d)
	return d
}

const (
	u1 = "00000000-0000-4000-8000-000000000001"
	u2 = "00000000-0000-4000-8000-000000000002"
	u3 = "00000000-0000-4000-8000-000000000003"
)

func TestCheck(t *testing.T) {
	nb := clustered(u1, "OVN_Northbound", 10)
	relay := Database{UUID: u1, Name: "OVN_Northbound", Model: Relay, Connected: true, Schema: "{}", HasSchema: true}
	standalone := Database{UUID: u1, Name: "OVN_Northbound", Model: Standalone, Connected: true, Leader: true, Schema: "{}", HasSchema: true}
	server := Database{UUID: u2, Name: "_Server", Model: Standalone, Connected: true, Leader: true, Schema: "{}", HasSchema: true}
	noSchema := func(d *Database) { d.Schema, d.HasSchema = "", false }

	tests := []struct {
		name       string
		rows       []Database
		cid        string
		leaderOnly bool
		minIndex   int64
		want       Reason // 0: accepted
		wantMin    int64  // min index afterwards
	}{
		// 1. Finding the row.
		{name: "no rows", want: DatabaseMissing},
		{name: "only other databases", rows: []Database{server}, want: DatabaseMissing},
		{name: "found by name", rows: []Database{server, nb}, want: 0, wantMin: 10},
		{name: "cid pins the row whatever its name", rows: []Database{with(nb, func(d *Database) { d.Name = "renamed" })},
			cid: cidA, want: 0, wantMin: 10},
		{name: "cid pin in upper case", rows: []Database{nb}, cid: "CC568949-9B70-427E-A9BD-886B210785C8", want: 0, wantMin: 10},
		{name: "other cluster counts as missing", rows: []Database{nb}, cid: cidB, want: DatabaseMissing},
		{name: "cid pin never matches a relay", rows: []Database{relay}, cid: cidA, want: DatabaseMissing},
		{name: "zero cid means by name", rows: []Database{nb}, cid: "00000000-0000-0000-0000-000000000000", want: 0, wantMin: 10},
		{name: "garbage cid matches nothing", rows: []Database{nb}, cid: "not-a-uuid", want: DatabaseMissing},

		// 2. Clustered, in order.
		{name: "clustered leader", rows: []Database{nb}, leaderOnly: true, want: 0, wantMin: 10},
		{name: "clustered not joined", rows: []Database{with(nb, noSchema)}, want: NotJoined},
		{name: "clustered empty schema string is not joined", rows: []Database{with(nb, func(d *Database) { d.Schema = "" })}, want: NotJoined},
		{name: "not joined before disconnected, not leader, stale",
			rows:       []Database{with(nb, func(d *Database) { noSchema(d); d.Connected, d.Leader, d.Index = false, false, 1 })},
			leaderOnly: true, minIndex: 5, want: NotJoined, wantMin: 5},
		{name: "clustered disconnected", rows: []Database{with(nb, func(d *Database) { d.Connected = false })}, want: ClusterDisconnected},
		{name: "disconnected before not leader and stale",
			rows:       []Database{with(nb, func(d *Database) { d.Connected, d.Leader, d.Index = false, false, 1 })},
			leaderOnly: true, minIndex: 5, want: ClusterDisconnected, wantMin: 5},
		{name: "follower, leader only", rows: []Database{with(nb, func(d *Database) { d.Leader = false })}, leaderOnly: true, want: NotLeader},
		{name: "not leader before stale",
			rows:       []Database{with(nb, func(d *Database) { d.Leader, d.Index = false, 1 })},
			leaderOnly: true, minIndex: 5, want: NotLeader, wantMin: 5},
		{name: "follower accepted without leader only", rows: []Database{with(nb, func(d *Database) { d.Leader = false })}, want: 0, wantMin: 10},
		{name: "stale", rows: []Database{nb}, minIndex: 11, want: Stale, wantMin: 11},
		{name: "equal index is not stale", rows: []Database{nb}, minIndex: 10, want: 0, wantMin: 10},
		{name: "min index rises", rows: []Database{with(nb, func(d *Database) { d.Index = 99 })}, minIndex: 10, want: 0, wantMin: 99},
		{name: "missing index reads as 0: accepted at 0", rows: []Database{with(nb, func(d *Database) { d.Index, d.HasIndex = 0, false })}, want: 0, wantMin: 0},
		{name: "missing index reads as 0: stale above 0", rows: []Database{with(nb, func(d *Database) { d.Index, d.HasIndex = 0, false })}, minIndex: 1, want: Stale, wantMin: 1},

		// 3. Relay, in order.
		{name: "relay", rows: []Database{relay}, want: 0},
		{name: "relay not connected yet", rows: []Database{with(relay, noSchema)}, want: RelayNotConnected},
		{name: "relay no schema before leader only",
			rows: []Database{with(relay, func(d *Database) { noSchema(d); d.Connected = false })}, leaderOnly: true, want: RelayNotConnected},
		{name: "relay disconnected", rows: []Database{with(relay, func(d *Database) { d.Connected = false })}, want: RelayDisconnected},
		{name: "relay disconnected before leader only",
			rows: []Database{with(relay, func(d *Database) { d.Connected = false })}, leaderOnly: true, want: RelayDisconnected},
		{name: "relay never for leader only", rows: []Database{relay}, leaderOnly: true, want: RelayLeaderOnly},
		{name: "relay ignores min index", rows: []Database{relay}, minIndex: 50, want: 0, wantMin: 50},

		// 4. Standalone and anything else.
		{name: "standalone", rows: []Database{standalone}, leaderOnly: true, want: 0},
		{name: "standalone no schema", rows: []Database{with(standalone, noSchema)}, want: NoSchema},
		{name: "standalone ignores connected, leader, index",
			rows:       []Database{with(standalone, func(d *Database) { d.Connected, d.Leader, d.Index, d.HasIndex = false, false, 1, true })},
			leaderOnly: true, minIndex: 50, want: 0, wantMin: 50},
		{name: "unknown model needs a schema only", rows: []Database{with(standalone, func(d *Database) { d.Model = "active-backup" })}, want: 0},
		{name: "missing model needs a schema only", rows: []Database{with(standalone, func(d *Database) { d.Model = ""; noSchema(d) })}, want: NoSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Checker{minIndex: tt.minIndex}
			res, err := c.Check(replicaOf(tt.rows...), Target{Remote: "tcp:127.0.0.1:6641", Database: "OVN_Northbound", ClusterID: tt.cid, LeaderOnly: tt.leaderOnly})
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("Check: %v, want success", err)
				}
				if res.Schema == "" || res.Schema != res.Row.Schema || res.Index != res.Row.Index {
					t.Errorf("Check result %+v does not carry the row's schema and index", res)
				}
			} else {
				var ce *CheckError
				if !errors.As(err, &ce) {
					t.Fatalf("Check: %v, want a *CheckError", err)
				}
				if ce.Reason != tt.want {
					t.Errorf("reason %v, want %v", ce.Reason, tt.want)
				}
				if !errors.Is(err, tt.want.Err()) || !errors.Is(err, ErrUnusable) {
					t.Errorf("%v does not match its sentinels", err)
				}
				if res != (Result{}) {
					t.Errorf("result %+v on failure, want zero", res)
				}
			}
			if got := c.MinIndex(); got != tt.wantMin {
				t.Errorf("min index %d, want %d", got, tt.wantMin)
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	tests := []struct {
		err  CheckError
		want string
	}{
		{CheckError{Remote: "tcp:1.2.3.4:6641", Database: "OVN_Northbound", Reason: DatabaseMissing},
			`tcp:1.2.3.4:6641: server does not have database "OVN_Northbound"; trying another server`},
		{CheckError{Remote: "tcp:1.2.3.4:6641", Database: "OVN_Northbound", ClusterID: cidA, Reason: DatabaseMissing},
			`tcp:1.2.3.4:6641: server does not have database "OVN_Northbound" of cluster ` + cidA + `; trying another server`},
		{CheckError{Remote: "tcp:1.2.3.4:6641", Reason: NotJoined},
			"tcp:1.2.3.4:6641: clustered database server has not yet joined cluster; trying another server"},
		{CheckError{Remote: "tcp:1.2.3.4:6641", Reason: ClusterDisconnected},
			"tcp:1.2.3.4:6641: clustered database server is disconnected from cluster; trying another server"},
		{CheckError{Remote: "tcp:1.2.3.4:6641", Reason: NotLeader},
			"tcp:1.2.3.4:6641: clustered database server is not cluster leader; trying another server"},
		{CheckError{Remote: "tcp:1.2.3.4:6641", Reason: Stale, Index: 3, MinIndex: 7},
			"tcp:1.2.3.4:6641: clustered database server has stale data (index 3, but index 7 was already seen); trying another server"},
		{CheckError{Remote: "unix:/run/db.sock", Reason: RelayNotConnected},
			"unix:/run/db.sock: relay database server has not yet connected to the relay source; trying another server"},
		{CheckError{Remote: "tcp:[::1]:6641", Reason: RelayDisconnected},
			"tcp:[::1]:6641: relay database server is disconnected from the relay source; trying another server"},
		{CheckError{Remote: "tcp:[::1]:6641", Reason: RelayLeaderOnly},
			"tcp:[::1]:6641: relay database server cannot be a cluster leader, and the client wants the leader; trying another server"},
		{CheckError{Database: "Lab", Reason: NoSchema},
			`database server reports no schema for database "Lab"; trying another server`},
		{CheckError{Reason: 0}, "server rejected (Reason(0)); trying another server"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("message\n got %s\nwant %s", got, tt.want)
		}
	}
}

func TestReasons(t *testing.T) {
	seen := map[string]bool{}
	seenErr := map[error]bool{}
	for r := DatabaseMissing; r <= NoSchema; r++ {
		name := r.String()
		if strings.HasPrefix(name, "Reason(") || seen[name] {
			t.Errorf("reason %d: name %q missing or duplicate", r, name)
		}
		seen[name] = true
		err := r.Err()
		if err == nil || seenErr[err] || !errors.Is(err, ErrUnusable) {
			t.Errorf("reason %v: sentinel %v missing, duplicate or not an ErrUnusable", r, err)
		}
		seenErr[err] = true
		ce := &CheckError{Reason: r}
		if !errors.Is(ce, err) {
			t.Errorf("CheckError{%v} does not match %v", r, err)
		}
		for other := DatabaseMissing; other <= NoSchema; other++ {
			if other != r && errors.Is(ce, other.Err()) {
				t.Errorf("CheckError{%v} matches %v", r, other.Err())
			}
		}
	}
	if Reason(0).String() != "Reason(0)" || Reason(200).String() != "Reason(200)" || NotLeader.String() != "not-leader" {
		t.Errorf("String: %q %q %q", Reason(0), Reason(200), NotLeader)
	}
	if Reason(200).Err() != nil || !errors.Is(&CheckError{Reason: 200}, ErrUnusable) {
		t.Errorf("unknown reason: Err %v", Reason(200).Err())
	}
}

// The minimum index lives in the Checker and survives replicas (connections).
func TestMinIndexAcrossConnections(t *testing.T) {
	c := &Checker{}
	target := Target{Database: "Lab", LeaderOnly: true}

	// Connection 1: leader at index 40.
	_, err := c.Check(replicaOf(clustered(u1, "Lab", 40)), target)
	wantErr(t, err, nil)
	wantMin(t, c, 40)

	// Connection 2: a server that is behind is stale, and does not lower the
	// minimum.
	_, err = c.Check(replicaOf(clustered(u2, "Lab", 39)), target)
	wantErr(t, err, ErrStale)
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Index != 39 || ce.MinIndex != 40 {
		t.Errorf("stale error %#v, want index 39 and min index 40", ce)
	}
	wantMin(t, c, 40)

	// A rejection for another reason leaves it alone too.
	_, err = c.Check(replicaOf(with(clustered(u2, "Lab", 90), func(d *Database) { d.Leader = false })), target)
	wantErr(t, err, ErrNotLeader)
	wantMin(t, c, 40)

	// Connection 3: rebuilt cluster at index 2 is stale until reset.
	rebuilt := replicaOf(clustered(u3, "Lab", 2))
	_, err = c.Check(rebuilt, target)
	wantErr(t, err, ErrStale)
	c.ResetMinIndex()
	wantMin(t, c, 0)
	res, err := c.Check(rebuilt, target)
	wantErr(t, err, nil)
	if res.Index != 2 {
		t.Errorf("index %d, want 2", res.Index)
	}
	wantMin(t, c, 2)
}

// Several rows matching is a lying server; the answer must still be stable.
func TestCheckDuplicateRowsDeterministic(t *testing.T) {
	good := clustered(u1, "Lab", 5)
	bad := with(clustered(u2, "Lab", 5), func(d *Database) { d.Leader = false })
	for range 20 {
		_, err := (&Checker{}).Check(replicaOf(bad, good), Target{Database: "Lab", LeaderOnly: true})
		wantErr(t, err, nil)
	}
	if _, ok := replicaOf().Find("Lab", ""); ok {
		t.Error("Find in an empty replica found a row")
	}
}

func TestCheckErrorIsNotParseError(t *testing.T) {
	_, err := (&Checker{}).Check(NewReplica(), Target{Database: "x"})
	if errors.Is(err, ErrMalformed) || errors.Is(err, ErrInconsistent) {
		t.Errorf("%v matches a parse sentinel", err)
	}
}

// wantErr fails unless err matches want (nil: no error).
func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

func wantMin(t *testing.T, c *Checker, want int64) {
	t.Helper()
	if got := c.MinIndex(); got != want {
		t.Errorf("min index %d, want %d", got, want)
	}
}
